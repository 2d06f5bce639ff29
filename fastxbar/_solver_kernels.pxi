# Cython kernels of the nodal crossbar solver, included by _kernels.pyx.
#
# Each ``solver_*`` function has the signature and output contract of the function of the same
# name without the prefix in _solver_numba.py, plus ``n_threads``. Arrays are C-contiguous
# float64; node arrays have shape (2, n_word_lines, n_bit_lines), word-line nodes first;
# ``word_ends`` (n_word_lines, 2) and ``bit_ends`` (n_bit_lines, 2) hold the end-segment
# conductances (0 for an open end); index arrays are intp. The caller guarantees the shapes.

from cython.parallel cimport parallel
from libc.stdlib cimport free, malloc


cdef double solver_line_solve(const double* pivots, double g_line, const double* rhs, double* out,
                              Py_ssize_t length) noexcept nogil:
    """Solve one tridiagonal line (constant off-diagonal -g_line) from its inverse LDL^T pivots
    and return the dot product rhs . out; the arrays are contiguous."""
    cdef Py_ssize_t k
    cdef double carry = 0.0
    cdef double total = 0.0
    for k in range(length):
        carry = rhs[k] + g_line * carry
        out[k] = carry
        carry = carry * pivots[k]
    carry = 0.0
    for k in range(length - 1, -1, -1):
        carry = pivots[k] * (out[k] + g_line * carry)
        out[k] = carry
        total = total + rhs[k] * carry
    return total


cdef double _solve_four_lines(const double* pivots, double g_line, const double* rhs, double* out,
                              Py_ssize_t length) noexcept nogil:
    # Four consecutive rows of a C-contiguous (n, length) array, solved as solver_line_solve does.
    cdef Py_ssize_t k
    cdef double c0 = 0.0, c1 = 0.0, c2 = 0.0, c3 = 0.0
    cdef double total = 0.0
    for k in range(length):
        c0 = rhs[k] + g_line * c0
        c1 = rhs[length + k] + g_line * c1
        c2 = rhs[2 * length + k] + g_line * c2
        c3 = rhs[3 * length + k] + g_line * c3
        out[k] = c0
        out[length + k] = c1
        out[2 * length + k] = c2
        out[3 * length + k] = c3
        c0 = c0 * pivots[k]
        c1 = c1 * pivots[length + k]
        c2 = c2 * pivots[2 * length + k]
        c3 = c3 * pivots[3 * length + k]
    c0 = 0.0
    c1 = 0.0
    c2 = 0.0
    c3 = 0.0
    for k in range(length - 1, -1, -1):
        c0 = pivots[k] * (out[k] + g_line * c0)
        c1 = pivots[length + k] * (out[length + k] + g_line * c1)
        c2 = pivots[2 * length + k] * (out[2 * length + k] + g_line * c2)
        c3 = pivots[3 * length + k] * (out[3 * length + k] + g_line * c3)
        out[k] = c0
        out[length + k] = c1
        out[2 * length + k] = c2
        out[3 * length + k] = c3
        total = total + rhs[k] * c0 + rhs[length + k] * c1 + rhs[2 * length + k] * c2 + rhs[3 * length + k] * c3
    return total


cdef void solver_restrict_row(const double* common, const Py_ssize_t* column_index,
                              const double* column_weight, double* scratch_row,
                              Py_ssize_t n_bit_lines, Py_ssize_t n_coarse_columns) noexcept nogil:
    """Restrict one row of the common-mode residual (r_word + r_bit) onto the coarse columns."""
    cdef Py_ssize_t j, c
    for c in range(n_coarse_columns):
        scratch_row[c] = 0.0
    for j in range(n_bit_lines):
        scratch_row[column_index[2 * j]] += column_weight[2 * j] * common[j]
        scratch_row[column_index[2 * j + 1]] += column_weight[2 * j + 1] * common[j]


cdef void _restrict_columns(const Py_ssize_t[:, ::1] row_index, const double[:, ::1] row_weight,
                            const double[:, ::1] scratch, double[:, ::1] out) noexcept nogil:
    cdef Py_ssize_t i, c
    for i in range(out.shape[0]):
        for c in range(out.shape[1]):
            out[i, c] = 0.0
    for i in range(scratch.shape[0]):
        for c in range(scratch.shape[1]):
            out[row_index[i, 0], c] += row_weight[i, 0] * scratch[i, c]
            out[row_index[i, 1], c] += row_weight[i, 1] * scratch[i, c]


def solver_nodal_matvec(const double[:, ::1] conductances not None, double g_word, double g_bit,
                        const double[:, ::1] word_ends not None, const double[:, ::1] bit_ends not None,
                        const double[:, :, ::1] p not None, double[:, :, ::1] q not None,
                        int n_threads=1):
    """Compute q = A p for the nodal matrix A and return the dot product p . q."""
    cdef Py_ssize_t n = conductances.shape[0]
    cdef Py_ssize_t m = conductances.shape[1]
    cdef Py_ssize_t i, j
    cdef double u, w, device_current, word, bit, row_total
    cdef double total = 0.0
    for i in prange(n, nogil=True, num_threads=n_threads, schedule="static"):
        row_total = 0.0
        for j in range(m):
            u = p[0, i, j]
            w = p[1, i, j]
            device_current = conductances[i, j] * (u - w)
            word = device_current
            bit = -device_current
            if j > 0:
                word = word + g_word * (u - p[0, i, j - 1])
            else:
                word = word + word_ends[i, 0] * u
            if j < m - 1:
                word = word + g_word * (u - p[0, i, j + 1])
            else:
                word = word + word_ends[i, 1] * u
            if i > 0:
                bit = bit + g_bit * (w - p[1, i - 1, j])
            else:
                bit = bit + bit_ends[j, 0] * w
            if i < n - 1:
                bit = bit + g_bit * (w - p[1, i + 1, j])
            else:
                bit = bit + bit_ends[j, 1] * w
            q[0, i, j] = word
            q[1, i, j] = bit
            row_total = row_total + u * word + w * bit
        total += row_total
    return total


def solver_word_line_factorize(const double[:, ::1] conductances not None, double g_word,
                               const double[:, ::1] word_ends not None,
                               double[:, ::1] word_pivots not None, int n_threads=1):
    """Store the inverse LDL^T pivots of each word line's tridiagonal block (T_w + D)."""
    cdef Py_ssize_t n = conductances.shape[0]
    cdef Py_ssize_t m = conductances.shape[1]
    cdef Py_ssize_t i, j
    cdef double diagonal, previous
    for i in prange(n, nogil=True, num_threads=n_threads, schedule="static"):
        previous = 0.0
        for j in range(m):
            diagonal = conductances[i, j]
            diagonal = diagonal + (g_word if j > 0 else word_ends[i, 0])
            diagonal = diagonal + (g_word if j < m - 1 else word_ends[i, 1])
            if j > 0:
                diagonal = diagonal - g_word * g_word * previous
            previous = 1.0 / diagonal
            word_pivots[i, j] = previous


def solver_bit_line_factorize(const double[:, ::1] conductances not None, double g_bit,
                              const double[:, ::1] bit_ends not None,
                              double[:, ::1] bit_pivots not None, int n_threads=1):
    """Store the inverse LDL^T pivots of each bit line's tridiagonal block (T_b + D)."""
    cdef Py_ssize_t n = conductances.shape[0]
    cdef Py_ssize_t m = conductances.shape[1]
    cdef Py_ssize_t i, j
    cdef double diagonal, previous
    for j in prange(m, nogil=True, num_threads=n_threads, schedule="static"):
        previous = 0.0
        for i in range(n):
            diagonal = conductances[i, j]
            diagonal = diagonal + (g_bit if i > 0 else bit_ends[j, 0])
            diagonal = diagonal + (g_bit if i < n - 1 else bit_ends[j, 1])
            if i > 0:
                diagonal = diagonal - g_bit * g_bit * previous
            previous = 1.0 / diagonal
            bit_pivots[i, j] = previous


def solver_word_line_solve(const double[:, ::1] word_pivots not None, double g_word,
                           const double[:, ::1] rhs not None, double[:, ::1] out not None,
                           int n_threads=1):
    """Solve (T_w + D) out = rhs along every word line; return the dot product rhs . out.

    Four lines are solved together, so that their independent recursions overlap in the
    pipeline; one line alone waits on each multiply-add of its recursion.
    """
    cdef Py_ssize_t n = word_pivots.shape[0]
    cdef Py_ssize_t m = word_pivots.shape[1]
    cdef Py_ssize_t n_groups = n // 4
    cdef Py_ssize_t group, i
    cdef double total = 0.0
    for group in prange(n_groups, nogil=True, num_threads=n_threads, schedule="static"):
        total += _solve_four_lines(&word_pivots[4 * group, 0], g_word, &rhs[4 * group, 0],
                                   &out[4 * group, 0], m)
    for i in range(4 * n_groups, n):
        total += solver_line_solve(&word_pivots[i, 0], g_word, &rhs[i, 0], &out[i, 0], m)
    return total


def solver_bit_line_solve(const double[:, ::1] bit_pivots not None, double g_bit,
                          const double[:, ::1] rhs not None, double[:, ::1] out not None,
                          int n_threads=1):
    """Solve (T_b + D) out = rhs along every bit line; return the dot product rhs . out.

    The recursion runs down the rows with the columns innermost, so memory is read contiguously.
    Each parallel task takes a block of columns. Wide blocks stream better, but every thread
    needs one.
    """
    cdef Py_ssize_t n = bit_pivots.shape[0]
    cdef Py_ssize_t m = bit_pivots.shape[1]
    cdef Py_ssize_t block = max(32, min(256, m // 4))
    cdef Py_ssize_t n_blocks = (m + block - 1) // block
    cdef Py_ssize_t b, i, j, start, stop
    cdef double value, block_total
    cdef double total = 0.0
    for b in prange(n_blocks, nogil=True, num_threads=n_threads, schedule="static"):
        start = b * block
        stop = min(m, start + block)
        for j in range(start, stop):
            out[0, j] = rhs[0, j]
        for i in range(1, n):
            for j in range(start, stop):
                out[i, j] = rhs[i, j] + g_bit * bit_pivots[i - 1, j] * out[i - 1, j]
        block_total = 0.0
        for j in range(start, stop):
            value = out[n - 1, j] * bit_pivots[n - 1, j]
            out[n - 1, j] = value
            block_total = block_total + rhs[n - 1, j] * value
        for i in range(n - 2, -1, -1):
            for j in range(start, stop):
                value = bit_pivots[i, j] * (out[i, j] + g_bit * out[i + 1, j])
                out[i, j] = value
                block_total = block_total + rhs[i, j] * value
        total += block_total
    return total


def solver_coarse_restrict(const double[:, :, ::1] residual not None,
                           const Py_ssize_t[:, ::1] row_index not None,
                           const double[:, ::1] row_weight not None,
                           const Py_ssize_t[:, ::1] column_index not None,
                           const double[:, ::1] column_weight not None,
                           double[:, ::1] scratch not None, double[:, ::1] out not None,
                           int n_threads=1):
    """Compute out = P_i^T (r_word + r_bit) P_j, the common-mode residual on the coarse grid."""
    cdef Py_ssize_t n = residual.shape[1]
    cdef Py_ssize_t m = residual.shape[2]
    cdef Py_ssize_t n_coarse_columns = scratch.shape[1]
    cdef Py_ssize_t i, j
    cdef double* common
    with nogil, parallel(num_threads=n_threads):
        common = <double*> malloc(m * sizeof(double))
        if common == NULL:
            with gil:
                raise MemoryError("failed to allocate a row buffer of the solver")
        for i in prange(n, schedule="static"):
            for j in range(m):
                common[j] = residual[0, i, j] + residual[1, i, j]
            solver_restrict_row(common, &column_index[0, 0], &column_weight[0, 0], &scratch[i, 0],
                                m, n_coarse_columns)
        free(common)
    _restrict_columns(row_index, row_weight, scratch, out)


def solver_cg_step(double alpha, const double[:, :, ::1] p not None,
                   const double[:, :, ::1] q not None, double[:, :, ::1] x not None,
                   double[:, :, ::1] residual not None, const Py_ssize_t[:, ::1] row_index not None,
                   const double[:, ::1] row_weight not None,
                   const Py_ssize_t[:, ::1] column_index not None,
                   const double[:, ::1] column_weight not None, double[:, ::1] scratch not None,
                   double[:, ::1] coarse_rhs not None, int n_threads=1):
    """Update x += alpha p and residual -= alpha q, restrict the new residual to the coarse grid
    as solver_coarse_restrict does, and return the squared norm of the residual."""
    cdef Py_ssize_t n = p.shape[1]
    cdef Py_ssize_t m = p.shape[2]
    cdef Py_ssize_t n_coarse_columns = scratch.shape[1]
    cdef Py_ssize_t i, j
    cdef double word, bit, row_total
    cdef double total = 0.0
    cdef double* common
    cdef double* x_word
    cdef double* x_bit
    cdef double* r_word
    cdef double* r_bit
    cdef const double* p_word
    cdef const double* p_bit
    cdef const double* q_word
    cdef const double* q_bit
    with nogil, parallel(num_threads=n_threads):
        # A row buffer of the common-mode residual keeps the scatter out of the streaming loop.
        common = <double*> malloc(m * sizeof(double))
        if common == NULL:
            with gil:
                raise MemoryError("failed to allocate a row buffer of the solver")
        for i in prange(n, schedule="static"):
            x_word = &x[0, i, 0]
            x_bit = &x[1, i, 0]
            r_word = &residual[0, i, 0]
            r_bit = &residual[1, i, 0]
            p_word = &p[0, i, 0]
            p_bit = &p[1, i, 0]
            q_word = &q[0, i, 0]
            q_bit = &q[1, i, 0]
            row_total = 0.0
            for j in range(m):
                x_word[j] = x_word[j] + alpha * p_word[j]
                x_bit[j] = x_bit[j] + alpha * p_bit[j]
                word = r_word[j] - alpha * q_word[j]
                bit = r_bit[j] - alpha * q_bit[j]
                r_word[j] = word
                r_bit[j] = bit
                common[j] = word + bit
                row_total = row_total + word * word + bit * bit
            solver_restrict_row(common, &column_index[0, 0], &column_weight[0, 0], &scratch[i, 0],
                                m, n_coarse_columns)
            total += row_total
        free(common)
    _restrict_columns(row_index, row_weight, scratch, coarse_rhs)
    return total


def solver_cg_direction(double beta, const double[:, :, ::1] z not None,
                        const double[:, ::1] coarse not None,
                        const Py_ssize_t[:, ::1] row_index not None,
                        const double[:, ::1] row_weight not None,
                        const Py_ssize_t[:, ::1] column_index not None,
                        const double[:, ::1] column_weight not None,
                        double[:, :, ::1] p not None, int n_threads=1):
    """Update the search direction p = z + P_i coarse P_j^T + beta p on both layers.

    With beta = 0 the old p is not read, so it may hold anything.
    """
    cdef Py_ssize_t n = p.shape[1]
    cdef Py_ssize_t m = p.shape[2]
    cdef Py_ssize_t n_coarse_columns = coarse.shape[1]
    cdef Py_ssize_t i, j, c, r0, r1
    cdef double a0, a1
    cdef double* buffer
    cdef double* correction
    cdef double* coarse_row
    cdef double* p_word
    cdef double* p_bit
    cdef const double* z_word
    cdef const double* z_bit
    with nogil, parallel(num_threads=n_threads):
        # The correction row is interpolated into a buffer first, so the update loop only streams.
        buffer = <double*> malloc((m + n_coarse_columns) * sizeof(double))
        if buffer == NULL:
            with gil:
                raise MemoryError("failed to allocate a row buffer of the solver")
        correction = buffer
        coarse_row = buffer + m
        for i in prange(n, schedule="static"):
            r0 = row_index[i, 0]
            r1 = row_index[i, 1]
            a0 = row_weight[i, 0]
            a1 = row_weight[i, 1]
            for c in range(n_coarse_columns):
                coarse_row[c] = a0 * coarse[r0, c] + a1 * coarse[r1, c]
            for j in range(m):
                correction[j] = (column_weight[j, 0] * coarse_row[column_index[j, 0]]
                                 + column_weight[j, 1] * coarse_row[column_index[j, 1]])
            p_word = &p[0, i, 0]
            p_bit = &p[1, i, 0]
            z_word = &z[0, i, 0]
            z_bit = &z[1, i, 0]
            if beta == 0.0:
                for j in range(m):
                    p_word[j] = z_word[j] + correction[j]
                    p_bit[j] = z_bit[j] + correction[j]
            else:
                for j in range(m):
                    p_word[j] = z_word[j] + correction[j] + beta * p_word[j]
                    p_bit[j] = z_bit[j] + correction[j] + beta * p_bit[j]
        free(buffer)
