# Declarations of the Cython kernels' nogil helpers, for other Cython code to cimport:
#     from fastxbar._kernels cimport splitmix64_uniform
# One section per concept, in the same order as the include files of _kernels.pyx.

from libc.stdint cimport uint64_t

# Devices (_device_kernels.pxi)
cdef double splitmix64_uniform(uint64_t key, uint64_t counter) noexcept nogil
cdef double splitmix64_normal(uint64_t key, uint64_t device_index) noexcept nogil
