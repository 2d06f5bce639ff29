"""Numba kernels of the nodal crossbar solver.

Each kernel has the signature and output contract of its twins in ``_solver_reference`` (NumPy)
and ``_solver_kernels.pxi`` (Cython). Arrays are C-contiguous float64; node voltages and residuals
are stored as arrays of shape (2, n_word_lines, n_bit_lines), word-line nodes first. Line ends are
described by ``word_ends`` of shape (n_word_lines, 2), the conductance of the left and right end
segments (0 for an open end), and ``bit_ends`` of shape (n_bit_lines, 2), the conductance of the
top and bottom end segments. The kernels validate nothing and allocate nothing but scratch; the
caller sets the Numba thread count.
"""

import numba
import numpy as np

from ._config import NUMBA_FASTMATH

_jit = numba.njit(cache=True, nogil=True, parallel=True, error_model="numpy", fastmath=NUMBA_FASTMATH)
_jit_serial = numba.njit(cache=True, nogil=True, error_model="numpy", fastmath=NUMBA_FASTMATH)


@_jit
def nodal_matvec(conductances, g_word, g_bit, word_ends, bit_ends, p, q):
    """Compute q = A p for the nodal matrix A and return the dot product p . q."""
    n, m = conductances.shape
    partial = np.zeros(n)
    for i in numba.prange(n):
        total = 0.0
        for j in range(m):
            u = p[0, i, j]
            w = p[1, i, j]
            device_current = conductances[i, j] * (u - w)

            word = device_current
            if j > 0:
                word += g_word * (u - p[0, i, j - 1])
            else:
                word += word_ends[i, 0] * u
            if j < m - 1:
                word += g_word * (u - p[0, i, j + 1])
            else:
                word += word_ends[i, 1] * u

            bit = -device_current
            if i > 0:
                bit += g_bit * (w - p[1, i - 1, j])
            else:
                bit += bit_ends[j, 0] * w
            if i < n - 1:
                bit += g_bit * (w - p[1, i + 1, j])
            else:
                bit += bit_ends[j, 1] * w

            q[0, i, j] = word
            q[1, i, j] = bit
            total += u * word + w * bit
        partial[i] = total
    return partial.sum()


@_jit
def word_line_factorize(conductances, g_word, word_ends, word_pivots):
    """Store the inverse LDL^T pivots of each word line's tridiagonal block (T_w + D)."""
    n, m = conductances.shape
    for i in numba.prange(n):
        previous = 0.0
        for j in range(m):
            diagonal = conductances[i, j]
            diagonal += g_word if j > 0 else word_ends[i, 0]
            diagonal += g_word if j < m - 1 else word_ends[i, 1]
            if j > 0:
                diagonal -= g_word * g_word * previous
            previous = 1.0 / diagonal
            word_pivots[i, j] = previous


@_jit
def bit_line_factorize(conductances, g_bit, bit_ends, bit_pivots):
    """Store the inverse LDL^T pivots of each bit line's tridiagonal block (T_b + D)."""
    n, m = conductances.shape
    for j in numba.prange(m):
        previous = 0.0
        for i in range(n):
            diagonal = conductances[i, j]
            diagonal += g_bit if i > 0 else bit_ends[j, 0]
            diagonal += g_bit if i < n - 1 else bit_ends[j, 1]
            if i > 0:
                diagonal -= g_bit * g_bit * previous
            previous = 1.0 / diagonal
            bit_pivots[i, j] = previous


@_jit_serial
def _solve_one_line(pivots, g_line, rhs, out):
    carry = 0.0
    for k in range(pivots.size):
        carry = rhs[k] + g_line * carry
        out[k] = carry
        carry *= pivots[k]
    carry = 0.0
    total = 0.0
    for k in range(pivots.size - 1, -1, -1):
        carry = pivots[k] * (out[k] + g_line * carry)
        out[k] = carry
        total += rhs[k] * carry
    return total


@_jit_serial
def _solve_four_lines(pivots, g_line, rhs, out, first):
    # Solves rows first..first+3 together, so that their independent recursions overlap in the
    # pipeline; one line alone waits on each multiply-add of its recursion.
    c0 = c1 = c2 = c3 = 0.0
    for k in range(pivots.shape[1]):
        c0 = rhs[first, k] + g_line * c0
        c1 = rhs[first + 1, k] + g_line * c1
        c2 = rhs[first + 2, k] + g_line * c2
        c3 = rhs[first + 3, k] + g_line * c3
        out[first, k] = c0
        out[first + 1, k] = c1
        out[first + 2, k] = c2
        out[first + 3, k] = c3
        c0 *= pivots[first, k]
        c1 *= pivots[first + 1, k]
        c2 *= pivots[first + 2, k]
        c3 *= pivots[first + 3, k]
    c0 = c1 = c2 = c3 = 0.0
    total = 0.0
    for k in range(pivots.shape[1] - 1, -1, -1):
        c0 = pivots[first, k] * (out[first, k] + g_line * c0)
        c1 = pivots[first + 1, k] * (out[first + 1, k] + g_line * c1)
        c2 = pivots[first + 2, k] * (out[first + 2, k] + g_line * c2)
        c3 = pivots[first + 3, k] * (out[first + 3, k] + g_line * c3)
        out[first, k] = c0
        out[first + 1, k] = c1
        out[first + 2, k] = c2
        out[first + 3, k] = c3
        total += rhs[first, k] * c0 + rhs[first + 1, k] * c1 + rhs[first + 2, k] * c2 + rhs[first + 3, k] * c3
    return total


@_jit
def word_line_solve(word_pivots, g_word, rhs, out):
    """Solve (T_w + D) out = rhs along every word line; return the dot product rhs . out.

    Arrays have shape (n_word_lines, n_bit_lines); ``word_pivots`` comes from word_line_factorize.
    """
    n = word_pivots.shape[0]
    n_groups = n // 4
    partial = np.zeros(n_groups + 1)
    for group in numba.prange(n_groups):
        partial[group] = _solve_four_lines(word_pivots, g_word, rhs, out, 4 * group)
    for i in range(4 * n_groups, n):
        partial[n_groups] += _solve_one_line(word_pivots[i], g_word, rhs[i], out[i])
    return partial.sum()


@_jit
def bit_line_solve(bit_pivots, g_bit, rhs, out):
    """Solve (T_b + D) out = rhs along every bit line; return the dot product rhs . out.

    Arrays have shape (n_word_lines, n_bit_lines). The recursion runs down the rows with the
    columns innermost, so memory is read contiguously and the columns vectorise. Each parallel
    task takes a block of columns. Wide blocks stream better, but every thread needs one.
    """
    n, m = bit_pivots.shape
    block = max(32, min(256, m // 4))
    n_blocks = (m + block - 1) // block
    partial = np.zeros(n_blocks)
    for b in numba.prange(n_blocks):
        start = b * block
        stop = min(m, start + block)
        for j in range(start, stop):
            out[0, j] = rhs[0, j]
        for i in range(1, n):
            for j in range(start, stop):
                out[i, j] = rhs[i, j] + g_bit * bit_pivots[i - 1, j] * out[i - 1, j]
        total = 0.0
        for j in range(start, stop):
            out[n - 1, j] *= bit_pivots[n - 1, j]
            total += rhs[n - 1, j] * out[n - 1, j]
        for i in range(n - 2, -1, -1):
            for j in range(start, stop):
                value = bit_pivots[i, j] * (out[i, j] + g_bit * out[i + 1, j])
                out[i, j] = value
                total += rhs[i, j] * value
        partial[b] = total
    return partial.sum()


@_jit_serial
def _restrict_row(common, column_index, column_weight, scratch_row):
    # Adds row i's common-mode residual (``common``, length n_bit_lines) into its coarse columns.
    scratch_row[:] = 0.0
    for j in range(common.size):
        scratch_row[column_index[j, 0]] += column_weight[j, 0] * common[j]
        scratch_row[column_index[j, 1]] += column_weight[j, 1] * common[j]


@_jit_serial
def _restrict_columns(row_index, row_weight, scratch, out):
    out[:, :] = 0.0
    for i in range(scratch.shape[0]):
        for c in range(scratch.shape[1]):
            out[row_index[i, 0], c] += row_weight[i, 0] * scratch[i, c]
            out[row_index[i, 1], c] += row_weight[i, 1] * scratch[i, c]


@_jit
def coarse_restrict(residual, row_index, row_weight, column_index, column_weight, scratch, out):
    """Compute out = P_i^T (r_word + r_bit) P_j, the common-mode residual on the coarse grid.

    Each fine index k has two coarse neighbours ``index[k, 0:2]`` with weights ``weight[k, 0:2]``.
    ``scratch`` has shape (n_word_lines, n_coarse_columns).
    """
    for i in numba.prange(residual.shape[1]):
        common = residual[0, i] + residual[1, i]
        _restrict_row(common, column_index, column_weight, scratch[i])
    _restrict_columns(row_index, row_weight, scratch, out)


@_jit
def cg_step(alpha, p, q, x, residual, row_index, row_weight, column_index, column_weight, scratch,
            coarse_rhs):
    """Update x += alpha p and residual -= alpha q, restrict the new residual to the coarse grid
    as coarse_restrict does, and return the squared norm of the residual."""
    n, m = p.shape[1], p.shape[2]
    partial = np.zeros(n)
    for i in numba.prange(n):
        # Row views and a row buffer keep the streaming loop free of possible aliasing.
        common = np.empty(m)
        total = 0.0
        x_word, x_bit, p_word, p_bit = x[0, i], x[1, i], p[0, i], p[1, i]
        r_word, r_bit, q_word, q_bit = residual[0, i], residual[1, i], q[0, i], q[1, i]
        for j in range(m):
            x_word[j] += alpha * p_word[j]
            x_bit[j] += alpha * p_bit[j]
            word = r_word[j] - alpha * q_word[j]
            bit = r_bit[j] - alpha * q_bit[j]
            r_word[j] = word
            r_bit[j] = bit
            common[j] = word + bit
            total += word * word + bit * bit
        partial[i] = total
        _restrict_row(common, column_index, column_weight, scratch[i])
    _restrict_columns(row_index, row_weight, scratch, coarse_rhs)
    return partial.sum()


@_jit
def cg_direction(beta, z, coarse, row_index, row_weight, column_index, column_weight, p):
    """Update the search direction p = z + P_i coarse P_j^T + beta p on both layers.

    With beta = 0 the old p is not read, so it may hold anything.
    """
    n, m = p.shape[1], p.shape[2]
    for i in numba.prange(n):
        # Interpolate the correction row into a buffer first, so the update loop only streams.
        r0, r1 = row_index[i, 0], row_index[i, 1]
        coarse_row = row_weight[i, 0] * coarse[r0] + row_weight[i, 1] * coarse[r1]
        correction = np.empty(m)
        for j in range(m):
            correction[j] = (column_weight[j, 0] * coarse_row[column_index[j, 0]]
                             + column_weight[j, 1] * coarse_row[column_index[j, 1]])
        p_word, p_bit, z_word, z_bit = p[0, i], p[1, i], z[0, i], z[1, i]
        if beta == 0.0:
            for j in range(m):
                p_word[j] = z_word[j] + correction[j]
                p_bit[j] = z_bit[j] + correction[j]
        else:
            for j in range(m):
                p_word[j] = z_word[j] + correction[j] + beta * p_word[j]
                p_bit[j] = z_bit[j] + correction[j] + beta * p_bit[j]
