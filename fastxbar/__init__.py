"""fastxbar: fast simulation of memristive crossbar arrays.

Device physics, sneak-path-aware reads, parallel write schemes and in-situ training, with every
hot loop available as a NumPy reference and as compiled Numba and Cython kernels.
"""

from . import devices
from .crossbar import Crossbar
from .sweeps import sweep
from .variability import Variability

__all__ = ["Crossbar", "Variability", "devices", "openmp_enabled", "sweep"]
__version__ = "0.1.0"


def openmp_enabled() -> bool:
    """Return whether the Cython kernels were compiled with OpenMP."""
    from ._kernels import openmp_enabled as compiled_with_openmp

    return compiled_with_openmp()
