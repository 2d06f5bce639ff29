"""fastxbar: fast simulation of memristive crossbar arrays.

Device physics, sneak-path-aware reads, parallel write schemes and in-situ training, with every
hot loop available as a NumPy reference and as compiled Numba and Cython kernels.
"""

from . import datasets, devices, schemes, training
from .crossbar import Crossbar
from .solver import (
    CellRead,
    ConvergenceError,
    CrossbarSolution,
    ideal_read,
    nodal_matrix,
    read_single_cell,
    solve_crossbar,
    solve_network,
)
from .sweeps import sweep
from .training import CrossbarNetwork, train
from .variability import Variability

__all__ = [
    "CellRead",
    "ConvergenceError",
    "Crossbar",
    "CrossbarNetwork",
    "CrossbarSolution",
    "Variability",
    "datasets",
    "devices",
    "ideal_read",
    "nodal_matrix",
    "openmp_enabled",
    "read_single_cell",
    "schemes",
    "solve_crossbar",
    "solve_network",
    "sweep",
    "train",
    "training",
]
__version__ = "0.1.0"


def openmp_enabled() -> bool:
    """Return whether the Cython kernels were compiled with OpenMP."""
    from ._kernels import openmp_enabled as compiled_with_openmp

    return compiled_with_openmp()
