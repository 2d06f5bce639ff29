"""Cython kernels of fastxbar, one include file per concept.

Every kernel takes C-contiguous float32 or float64 arrays (fused type ``floating``), releases the
GIL, parallelises with OpenMP ``prange`` when the extension was built with OpenMP, validates
nothing and allocates nothing but scratch: the public modules check shapes, dtypes and values.
Compiler directives (bounds checks and so on) are set in setup.py.
"""

cimport cython
from cython cimport floating
from cython.parallel cimport prange
from libc.math cimport cos, exp, fabs, log, pow, sqrt
from libc.stdint cimport uint64_t

cdef extern from *:
    """
    #ifdef _OPENMP
    #define FASTXBAR_OPENMP 1
    #else
    #define FASTXBAR_OPENMP 0
    #endif
    """
    int FASTXBAR_OPENMP


def openmp_enabled():
    """Return whether this extension was compiled with OpenMP (parallel ``prange`` loops)."""
    return bool(FASTXBAR_OPENMP)


include "_device_kernels.pxi"
include "_solver_kernels.pxi"
include "_training_kernels.pxi"
