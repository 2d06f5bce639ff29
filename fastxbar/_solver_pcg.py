"""Preconditioned conjugate gradients on the crossbar's nodal system, shared by every backend.

The loop runs in Python and calls the kernels of one backend: ``_solver_numba``, the Cython
``solver_*`` functions of ``_kernels``, or ``_solver_reference``. Each call is a full sweep over
the array, so the Python overhead is small next to the arithmetic from about 64 x 64 cells up.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

KERNEL_NAMES = (
    "nodal_matvec",
    "word_line_factorize",
    "bit_line_factorize",
    "word_line_solve",
    "bit_line_solve",
    "coarse_restrict",
    "cg_step",
    "cg_direction",
)


class ConvergenceFailure(Exception):
    """Internal signal of a stalled solve, turned into the public ConvergenceError by solver.py."""

    def __init__(self, iterations, residual):
        super().__init__(iterations, residual)
        self.iterations = iterations
        self.residual = residual


@dataclasses.dataclass
class Kernels:
    """The kernel functions of one backend, with the thread count already bound."""

    nodal_matvec: object
    word_line_factorize: object
    bit_line_factorize: object
    word_line_solve: object
    bit_line_solve: object
    coarse_restrict: object
    cg_step: object
    cg_direction: object
    threads: contextlib.AbstractContextManager


@contextlib.contextmanager
def _numba_threads(n_threads):
    import numba

    previous = numba.get_num_threads()
    numba.set_num_threads(min(n_threads, numba.config.NUMBA_NUM_THREADS))
    try:
        yield
    finally:
        numba.set_num_threads(previous)


def load_kernels(backend, n_threads):
    """Return the Kernels of ``backend`` ("numba", "cython" or "numpy") for ``n_threads`` threads."""
    if backend == "numba":
        from . import _solver_numba as module

        functions = {name: getattr(module, name) for name in KERNEL_NAMES}
        return Kernels(**functions, threads=_numba_threads(n_threads))
    if backend == "cython":
        from . import _kernels

        functions = {name: functools.partial(getattr(_kernels, "solver_" + name), n_threads=n_threads)
                     for name in KERNEL_NAMES}
        return Kernels(**functions, threads=contextlib.nullcontext())
    from . import _solver_reference as module

    functions = {name: getattr(module, name) for name in KERNEL_NAMES}
    return Kernels(**functions, threads=contextlib.nullcontext())


def interpolation_weights(n_fine, spacing):
    """Return (index, weight, n_coarse) of the 1-D linear interpolation from a coarse grid.

    Coarse nodes sit at evenly spaced fine positions. Fine nodes beyond the first or last coarse
    node take its value (constant extrapolation), so the coarse space contains the constant
    vector whatever the line-end conditions are. ``index`` and ``weight`` have shape (n_fine, 2).
    """
    n_coarse = max(1, min(n_fine, int(round(n_fine / spacing))))
    positions = (np.arange(n_coarse) + 0.5) * (n_fine / n_coarse) - 0.5
    fine = np.arange(n_fine, dtype=np.float64)
    upper = np.clip(np.searchsorted(positions, fine, side="left"), 1, max(1, n_coarse - 1))
    lower = upper - 1
    index = np.zeros((n_fine, 2), dtype=np.int64)
    weight = np.zeros((n_fine, 2))
    if n_coarse == 1:
        weight[:, 0] = 1.0
        return index, weight, n_coarse
    fraction = np.clip((fine - positions[lower]) / (positions[upper] - positions[lower]), 0.0, 1.0)
    index[:, 0] = lower
    index[:, 1] = upper
    weight[:, 0] = 1.0 - fraction
    weight[:, 1] = fraction
    return index, weight, n_coarse


def _interpolation_matrix(index, weight, n_coarse):
    rows = np.repeat(np.arange(index.shape[0]), 2)
    matrix = sp.csr_matrix((weight.ravel(), (rows, index.ravel())), shape=(index.shape[0], n_coarse))
    matrix.eliminate_zeros()
    return matrix


def _path_laplacian(n_nodes, g_line):
    diagonal = np.full(n_nodes, 2.0 * g_line)
    diagonal[0] -= g_line
    diagonal[-1] -= g_line
    off_diagonal = np.full(n_nodes - 1, -g_line)
    return sp.diags([off_diagonal, diagonal, off_diagonal], [-1, 0, 1])


def _coarse_operator(rows, columns, g_word, g_bit, word_ends, bit_ends):
    """Build Z^T (T_w + T_b) Z for Z = rows (x) columns without forming the fine matrices.

    L is the Laplacian of an open path. T_w is I (x) g_word L_m plus the end conductances of each
    word line at its first and last column. T_b is g_bit L_n (x) I plus the end conductances of
    each bit line at its first and last row. Row-major cell order makes the row index the outer factor.
    """
    n_bit_lines = columns.shape[0]
    n_word_lines = rows.shape[0]
    first_column = columns[[0]]
    last_column = columns[[n_bit_lines - 1]]
    first_row = rows[[0]]
    last_row = rows[[n_word_lines - 1]]

    word = sp.kron(rows.T @ rows, columns.T @ _path_laplacian(n_bit_lines, g_word) @ columns)
    word = word + sp.kron(rows.T @ sp.diags(word_ends[:, 0]) @ rows, first_column.T @ first_column)
    word = word + sp.kron(rows.T @ sp.diags(word_ends[:, 1]) @ rows, last_column.T @ last_column)

    bit = sp.kron(rows.T @ _path_laplacian(n_word_lines, g_bit) @ rows, columns.T @ columns)
    bit = bit + sp.kron(first_row.T @ first_row, columns.T @ sp.diags(bit_ends[:, 0]) @ columns)
    bit = bit + sp.kron(last_row.T @ last_row, columns.T @ sp.diags(bit_ends[:, 1]) @ columns)
    return (word + bit).tocsc()


class Preconditioner:
    """Line solves along both layers plus a coarse common-mode correction, set up once per matrix.

    The setup (line factorisations and the coarse LU) is reused by every right-hand side of a batch.
    """

    def __init__(self, kernels, conductances, g_word, g_bit, word_ends, bit_ends, spacing):
        n_word_lines, n_bit_lines = conductances.shape
        self.kernels = kernels
        self.g_word = g_word
        self.g_bit = g_bit
        self.word_pivots = np.empty_like(conductances)
        self.bit_pivots = np.empty_like(conductances)
        kernels.word_line_factorize(conductances, g_word, word_ends, self.word_pivots)
        kernels.bit_line_factorize(conductances, g_bit, bit_ends, self.bit_pivots)

        self.row_index, self.row_weight, n_coarse_rows = interpolation_weights(n_word_lines, spacing)
        self.column_index, self.column_weight, n_coarse_columns = interpolation_weights(n_bit_lines, spacing)
        coarse = _coarse_operator(
            _interpolation_matrix(self.row_index, self.row_weight, n_coarse_rows),
            _interpolation_matrix(self.column_index, self.column_weight, n_coarse_columns),
            g_word, g_bit, word_ends, bit_ends,
        )
        # A floating group of lines makes the coarse operator singular; the tiny diagonal shift
        # changes only the preconditioner, never the solution.
        shift = 1e-14 * abs(coarse.diagonal()).max()
        # The coarse operator is symmetric, so a minimum-degree ordering of A^T + A fills least.
        self.coarse_lu = spla.splu(coarse + shift * sp.identity(coarse.shape[0], format="csc"),
                                   permc_spec="MMD_AT_PLUS_A")
        self.coarse_rhs = np.empty((n_coarse_rows, n_coarse_columns))
        self.scratch = np.empty((n_word_lines, n_coarse_columns))

    def restrict(self, residual):
        """Store the coarse-grid common-mode residual of ``residual`` (cg_step does it too)."""
        self.kernels.coarse_restrict(residual, self.row_index, self.row_weight, self.column_index,
                                     self.column_weight, self.scratch, self.coarse_rhs)

    def apply(self, residual, z):
        """Write the line-solve part of M^-1 residual to z and solve the coarse problem.

        Needs the coarse residual stored by ``restrict`` or ``cg_step``. Returns (residual . M^-1
        residual, coarse correction); ``update_direction`` adds the prolonged correction, so the
        full M^-1 residual is never stored. The dot product of the correction follows from
        residual . (Z e) = (Z^T residual) . e.
        """
        rz = self.kernels.word_line_solve(self.word_pivots, self.g_word, residual[0], z[0])
        rz += self.kernels.bit_line_solve(self.bit_pivots, self.g_bit, residual[1], z[1])
        coarse = self.coarse_lu.solve(self.coarse_rhs.ravel())
        rz += float(self.coarse_rhs.ravel() @ coarse)
        return rz, coarse.reshape(self.coarse_rhs.shape)

    def update_direction(self, beta, z, coarse, direction):
        """Set direction = M^-1 residual + beta direction from apply's outputs."""
        self.kernels.cg_direction(beta, z, coarse, self.row_index, self.row_weight,
                                  self.column_index, self.column_weight, direction)

    def step(self, alpha, direction, product, x, residual):
        """Update x and the residual, store the coarse residual; return the squared residual norm."""
        return self.kernels.cg_step(alpha, direction, product, x, residual, self.row_index,
                                    self.row_weight, self.column_index, self.column_weight,
                                    self.scratch, self.coarse_rhs)


def conjugate_gradients(kernels, preconditioner, matrix, rhs, x, rtol, current_scale,
                        max_iterations, work):
    """Solve A x = rhs in place from x = 0 and return (relative residual, iterations).

    ``matrix`` is the tuple (conductances, g_word, g_bit, word_ends, bit_ends) of nodal_matvec.
    The residual is relative to min(||rhs||, current_scale), where current_scale is the norm of
    the device currents at full source voltage. Relative to ||rhs|| = g V alone, the KCL error
    could swamp the device currents when the line conductances are far above them. The loop
    stops at that tolerance or at the float64 floor 16 eps ||A|| ||x|| of the residual,
    whichever is larger. Before it stops, the recursive residual is checked against the true
    residual b - A x, and CG restarts from the true residual if that is still too large.
    ``work`` contains three scratch arrays shaped like ``rhs``. Raises ConvergenceFailure after
    ``max_iterations``.
    """
    residual, z, direction = work
    product = z  # z is dead between the direction update and the next line solves
    rhs_norm = float(np.sqrt(np.vdot(rhs, rhs)))
    x[:] = 0.0
    if rhs_norm == 0.0:
        return 0.0, 0
    scale = min(rhs_norm, current_scale) if current_scale > 0 else rhs_norm
    conductances, g_word, g_bit = matrix[:3]
    matrix_norm = 4.0 * max(g_word, g_bit) + 2.0 * float(conductances.max())
    tolerance = rtol * scale
    matvec = functools.partial(kernels.nodal_matvec, *matrix)

    residual[:] = rhs
    iterations = 0
    norm = rhs_norm
    while iterations < max_iterations:
        preconditioner.restrict(residual)
        rz, coarse = preconditioner.apply(residual, z)
        preconditioner.update_direction(0.0, z, coarse, direction)
        while iterations < max_iterations:
            curvature = matvec(direction, product)
            alpha = rz / curvature
            norm = float(np.sqrt(preconditioner.step(alpha, direction, product, x, residual)))
            iterations += 1
            if norm <= tolerance:
                break
            rz_next, coarse = preconditioner.apply(residual, z)
            preconditioner.update_direction(rz_next / rz, z, coarse, direction)
            rz = rz_next
        matvec(x, product)
        np.subtract(rhs, product, out=residual)
        norm = float(np.sqrt(np.vdot(residual, residual)))
        floor = 16.0 * np.finfo(np.float64).eps * matrix_norm * float(np.sqrt(np.vdot(x, x)))
        tolerance = max(tolerance, floor)
        if norm <= tolerance:
            return norm / scale, iterations
    raise ConvergenceFailure(iterations, norm / scale)
