# Declarations of the Cython kernels' nogil helpers, for other Cython code to cimport, e.g.
#     from fastxbar._kernels cimport DeviceTables, device_step
# One section per concept, in the same order as the include files of _kernels.pyx.

from libc.stdint cimport uint64_t

# Devices (_device_kernels.pxi). Model and option codes are those of fastxbar.devices; p points
# to one device's parameters in the order of its model's param_names.
ctypedef struct DeviceTables:
    const double* bins      # conductance bins, n_bins values, siemens
    Py_ssize_t n_bins
    const double* cdf       # cumulative probabilities, n_cdf values
    Py_ssize_t n_cdf
    const double* up        # potentiating steps, row-major (n_cdf, n_bins), siemens
    const double* down      # depressing steps, row-major (n_cdf, n_bins), siemens

cdef double splitmix64_uniform(uint64_t key, uint64_t counter) noexcept nogil
cdef double uniform_draw(uint64_t key, uint64_t device_index) noexcept nogil
cdef double noise_factor(uint64_t key, uint64_t device_index, double noise_std) noexcept nogil
cdef double device_step(int model, int option, double x, double v, double duration, const double* p,
                        double eta, double u, int n_substeps, DeviceTables* tables) noexcept nogil
cdef double device_conductance(int model, int option, double x, const double* p) noexcept nogil

# Solver (_solver_kernels.pxi)
cdef double solver_line_solve(const double* pivots, double g_line, const double* rhs, double* out,
                              Py_ssize_t length) noexcept nogil
cdef void solver_restrict_row(const double* common, const Py_ssize_t* column_index,
                              const double* column_weight, double* scratch_row,
                              Py_ssize_t n_bit_lines, Py_ssize_t n_coarse_columns) noexcept nogil
