# Declarations of the Cython kernels' nogil helpers, for other Cython code to cimport:
#     from fastxbar._kernels cimport splitmix64_uniform
# One section per concept, in the same order as the include files of _kernels.pyx.

from libc.stdint cimport uint64_t

# Devices (_device_kernels.pxi)
cdef double splitmix64_uniform(uint64_t key, uint64_t counter) noexcept nogil
cdef double splitmix64_normal(uint64_t key, uint64_t device_index) noexcept nogil

# Solver (_solver_kernels.pxi)
cdef double solver_line_solve(const double* pivots, double g_line, const double* rhs, double* out,
                              Py_ssize_t length) noexcept nogil
cdef void solver_restrict_row(const double* common, const Py_ssize_t* column_index,
                              const double* column_weight, double* scratch_row,
                              Py_ssize_t n_bit_lines, Py_ssize_t n_coarse_columns) noexcept nogil
