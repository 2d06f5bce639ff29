# Placeholder: kernels of this concept are added here.
