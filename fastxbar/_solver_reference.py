"""NumPy reference kernels of the nodal crossbar solver: slow, vectorised and easy to check.

Every function has the signature and output contract of its compiled twins in ``_solver_numba``
and ``_solver_kernels.pxi``: C-contiguous float64 arrays in, outputs written in place, nothing
validated. See ``_solver_numba`` for the array layout.
"""

import numpy as np


def nodal_matvec(conductances, g_word, g_bit, word_ends, bit_ends, p, q):
    """Compute q = A p for the nodal matrix A and return the dot product p . q."""
    u, w = p[0], p[1]
    device_current = conductances * (u - w)

    word = device_current.copy()
    word[:, 1:] += g_word * (u[:, 1:] - u[:, :-1])
    word[:, :-1] += g_word * (u[:, :-1] - u[:, 1:])
    word[:, 0] += word_ends[:, 0] * u[:, 0]
    word[:, -1] += word_ends[:, 1] * u[:, -1]

    bit = -device_current
    bit[1:, :] += g_bit * (w[1:, :] - w[:-1, :])
    bit[:-1, :] += g_bit * (w[:-1, :] - w[1:, :])
    bit[0, :] += bit_ends[:, 0] * w[0, :]
    bit[-1, :] += bit_ends[:, 1] * w[-1, :]

    q[0] = word
    q[1] = bit
    return float(np.vdot(p, q))


def _factorize_lines(diagonal, g_line, pivots):
    # Lines run along axis 1; the recursion visits one position of every line at a time.
    previous = np.zeros(diagonal.shape[0])
    for k in range(diagonal.shape[1]):
        pivot = diagonal[:, k] - g_line * g_line * previous if k > 0 else diagonal[:, k]
        previous = 1.0 / pivot
        pivots[:, k] = previous


def _solve_lines(pivots, g_line, rhs):
    out = np.empty_like(rhs)
    carry = np.zeros(rhs.shape[0])
    for k in range(rhs.shape[1]):
        carry = rhs[:, k] + g_line * carry
        out[:, k] = carry
        carry = carry * pivots[:, k]
    following = np.zeros(rhs.shape[0])
    for k in range(rhs.shape[1] - 1, -1, -1):
        following = pivots[:, k] * (out[:, k] + g_line * following)
        out[:, k] = following
    return out


def _line_diagonal(conductances, g_line, ends):
    diagonal = conductances + 2.0 * g_line
    diagonal[:, 0] += ends[:, 0] - g_line
    diagonal[:, -1] += ends[:, 1] - g_line
    return diagonal


def word_line_factorize(conductances, g_word, word_ends, word_pivots):
    """Store the inverse LDL^T pivots of each word line's tridiagonal block (T_w + D)."""
    _factorize_lines(_line_diagonal(conductances, g_word, word_ends), g_word, word_pivots)


def bit_line_factorize(conductances, g_bit, bit_ends, bit_pivots):
    """Store the inverse LDL^T pivots of each bit line's tridiagonal block (T_b + D)."""
    pivots = np.empty(conductances.shape[::-1])
    _factorize_lines(_line_diagonal(conductances.T, g_bit, bit_ends), g_bit, pivots)
    bit_pivots[:] = pivots.T


def word_line_solve(word_pivots, g_word, rhs, out):
    """Solve (T_w + D) out = rhs along every word line; return the dot product rhs . out."""
    out[:] = _solve_lines(word_pivots, g_word, rhs)
    return float(np.vdot(rhs, out))


def bit_line_solve(bit_pivots, g_bit, rhs, out):
    """Solve (T_b + D) out = rhs along every bit line; return the dot product rhs . out."""
    out[:] = _solve_lines(np.ascontiguousarray(bit_pivots.T), g_bit, np.ascontiguousarray(rhs.T)).T
    return float(np.vdot(rhs, out))


def _interpolation_matrix(index, weight, n_coarse):
    matrix = np.zeros((index.shape[0], n_coarse))
    rows = np.arange(index.shape[0])
    np.add.at(matrix, (rows, index[:, 0]), weight[:, 0])
    np.add.at(matrix, (rows, index[:, 1]), weight[:, 1])
    return matrix


def coarse_restrict(residual, row_index, row_weight, column_index, column_weight, scratch, out):
    """Compute out = P_i^T (r_word + r_bit) P_j, the common-mode residual on the coarse grid."""
    rows = _interpolation_matrix(row_index, row_weight, out.shape[0])
    columns = _interpolation_matrix(column_index, column_weight, out.shape[1])
    scratch[:] = (residual[0] + residual[1]) @ columns
    out[:] = rows.T @ scratch


def cg_step(alpha, p, q, x, residual, row_index, row_weight, column_index, column_weight, scratch,
            coarse_rhs):
    """Update x += alpha p and residual -= alpha q, restrict the new residual to the coarse grid
    as coarse_restrict does, and return the squared norm of the residual."""
    x += alpha * p
    residual -= alpha * q
    coarse_restrict(residual, row_index, row_weight, column_index, column_weight, scratch, coarse_rhs)
    return float(np.vdot(residual, residual))


def cg_direction(beta, z, coarse, row_index, row_weight, column_index, column_weight, p):
    """Update the search direction p = z + P_i coarse P_j^T + beta p on both layers.

    With beta = 0 the old p is not read, so it may hold anything.
    """
    rows = _interpolation_matrix(row_index, row_weight, coarse.shape[0])
    columns = _interpolation_matrix(column_index, column_weight, coarse.shape[1])
    correction = rows @ coarse @ columns.T
    if beta == 0.0:
        p[:] = z
    else:
        p *= beta
        p += z
    p += correction
