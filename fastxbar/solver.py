"""Crossbar read with line resistance: the nodal (sneak-path-aware) solver.

Circuit convention (that of badcrossbar 1.1.0), drawn for 2 word lines and 3 bit lines::

    V_0 --[r_w]--o--[r_w]--o--[r_w]--o   (open)       word line 0
                 |         |         |
                G00       G01       G02               devices
                 |         |         |
                 x         x         x               bit-line nodes, row 0 (tops open)
                 |         |         |
               [r_b]     [r_b]     [r_b]
                 |         |         |
    V_1 --[r_w]--o--[r_w]--o--[r_w]--o   (open)       word line 1
                 |         |         |
                G10       G11       G12
                 |         |         |
                 x         x         x               bit-line nodes, row 1
                 |         |         |
               [r_b]     [r_b]     [r_b]
                 |         |         |
                0 V       0 V       0 V              virtual ground: output currents I_0 .. I_2

Word line i is driven at its left end by an ideal source ``V_i`` through one segment of
``r_word_line`` ohm and has one segment between neighbouring cells. Its right end is open. Bit
line j has one segment of ``r_bit_line`` ohm between neighbouring cells and one from its bottom
cell to a virtual ground; its top end is open. Device (i, j) joins word-line node (i, j) to
bit-line node (i, j). The output current of bit line j is the current into its virtual ground.

Method. The node voltages solve A x = b with
A = [[T_w + D, -D], [-D, T_b + D]], where T_w and T_b are the tridiagonal line Laplacians and
D = diag(G). A is symmetric positive definite, and the solver runs preconditioned conjugate
gradients with a two-level preconditioner: exact tridiagonal solves of (T_w + D) along every word
line and of (T_b + D) along every bit line, plus an additive coarse correction of the common mode
(word and bit node moving together). The common mode sees only T_w + T_b, because the device
terms cancel, so its coarse operator Z^T A Z uses bilinear interpolation from a grid of one node
per ``COARSE_SPACING`` cells and is factorised once with SuperLU. A zero line resistance pins that
line's nodes, and the remaining layer is solved directly along its lines.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import logging

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from . import _config, _solver_pcg
from ._solver_validation import (
    check_backend,
    check_boundary_voltages,
    check_conductances,
    check_index,
    check_iterations,
    check_line_resistance,
    check_read_voltage,
    check_scheme,
    check_threads,
    check_tolerance,
    check_voltages,
)

logger = logging.getLogger(__name__)

#: Default relative KCL residual at which the iteration stops (see solve_crossbar's Notes for the
#: scale). With it the output currents of 256 x 256 to 1024 x 1024 arrays with 1 ohm segments
#: and 1 kOhm..1 MOhm devices agreed with SuperLU to 3e-13..3e-12 of the largest current.
DEFAULT_RTOL = 1e-12

#: Fine cells per coarse-grid node, in each direction, of the common-mode correction.
#: NOTE: chosen from runs with 1 ohm segments and 1 kOhm..1 MOhm devices (about 20 iterations
#: from 64 x 64 to 1024 x 1024). With devices as conductive as the segments (10 ohm against
#: 10 ohm) the count grows with size, to about 60 to 100 iterations at 512 x 512.
COARSE_SPACING = 16

__all__ = [
    "CellRead",
    "ConvergenceError",
    "CrossbarSolution",
    "ideal_read",
    "nodal_matrix",
    "read_single_cell",
    "solve_crossbar",
    "solve_network",
]


class ConvergenceError(RuntimeError):
    """Raised when the iterative nodal solve stops above its residual tolerance.

    Attributes ``rtol``, ``iterations`` and ``residual`` store the tolerance, the iterations run
    and the relative KCL residual reached.
    """

    def __init__(self, rtol: float, iterations: int, residual: float):
        self.rtol = rtol
        self.iterations = iterations
        self.residual = residual
        super().__init__(
            f"The nodal solve did not converge: relative residual {residual:.3e} after "
            f"{iterations} iterations, above the tolerance rtol={rtol:.1e}. Raise "
            f"max_iterations, loosen rtol, or check for devices whose conductance is far above "
            f"the line-segment conductance, which slows convergence most."
        )


@dataclasses.dataclass(frozen=True)
class CrossbarSolution:
    """Result of a crossbar read with line resistance.

    Attributes
    ----------
    output_currents : ndarray of shape (n_bit_lines,) or (n_samples, n_bit_lines)
        Current into the bottom terminal of each bit line (the virtual ground), in ampere.
    word_line_voltages, bit_line_voltages : ndarray of shape (..., n_word_lines, n_bit_lines) or None
        Node voltages in volt, or None when the solve ran with ``return_node_voltages=False``.
    residual : float
        Largest relative KCL residual (defined in ``solve_crossbar``) over the samples, or 0.0
        where a zero line resistance made the solve direct.
    iterations : int
        Largest number of conjugate-gradient iterations over the samples; 0 for a direct solve.
    conductances : ndarray of shape (n_word_lines, n_bit_lines)
        Device conductances in siemens, as used by the solve (float64).
    """

    output_currents: np.ndarray
    word_line_voltages: np.ndarray | None
    bit_line_voltages: np.ndarray | None
    residual: float
    iterations: int
    conductances: np.ndarray

    @property
    def device_voltages(self) -> np.ndarray:
        """Voltage across each device, word-line node minus bit-line node, in volt."""
        if self.word_line_voltages is None or self.bit_line_voltages is None:
            raise ValueError(
                "Device voltages need the node voltages; solve again with return_node_voltages=True."
            )
        return self.word_line_voltages - self.bit_line_voltages

    @property
    def device_currents(self) -> np.ndarray:
        """Current through each device, from word line to bit line, in ampere."""
        return self.conductances * self.device_voltages


@dataclasses.dataclass(frozen=True)
class CellRead:
    """Result of a single-cell read.

    Attributes
    ----------
    sensed_current : float
        Current into the sensing terminal (bottom end) of the selected bit line, in ampere.
    cell_current : float
        Current through the selected device itself, in ampere.
    """

    sensed_current: float
    cell_current: float

    @property
    def sneak_current(self) -> float:
        """Part of the sensed current that does not flow through the selected device, in ampere."""
        return self.sensed_current - self.cell_current


def ideal_read(conductances: npt.ArrayLike, applied_voltages: npt.ArrayLike) -> np.ndarray:
    """Return the output currents of a crossbar with ideal wires, ``applied_voltages @ conductances``.

    Parameters
    ----------
    conductances : array_like of shape (n_word_lines, n_bit_lines)
        Device conductances in siemens.
    applied_voltages : array_like of shape (n_word_lines,) or (n_samples, n_word_lines)
        Word-line voltages in volt.

    Returns
    -------
    ndarray of shape (n_bit_lines,) or (n_samples, n_bit_lines)
        Output currents in ampere.
    """
    conductances = check_conductances(conductances)
    voltages = check_voltages(applied_voltages, conductances.shape[0])
    return voltages @ conductances


def nodal_matrix(conductances: npt.ArrayLike, r_word_line: float, r_bit_line: float) -> sp.csr_matrix:
    """Build the sparse nodal conductance matrix A of a crossbar read, in siemens.

    Unknowns are ordered as word-line nodes (0, 0), (0, 1), ... in row-major order, then bit-line
    nodes in the same order. The right-hand side of a read is ``V_i / r_word_line`` at the first
    word node of row i and zero elsewhere. Both line resistances must be positive.
    """
    conductances = check_conductances(conductances)
    r_word_line = check_line_resistance("r_word_line", r_word_line)
    r_bit_line = check_line_resistance("r_bit_line", r_bit_line)
    if r_word_line == 0.0 or r_bit_line == 0.0:
        raise ValueError(
            "nodal_matrix needs positive line resistances, because a zero resistance removes the "
            f"line's nodes; got r_word_line={r_word_line!r}, r_bit_line={r_bit_line!r}."
        )
    n_word_lines, n_bit_lines = conductances.shape
    word_ends, bit_ends = _crossbar_end_conductances(n_word_lines, n_bit_lines, 1 / r_word_line,
                                                      1 / r_bit_line)
    return _assemble_nodal_matrix(conductances, 1 / r_word_line, 1 / r_bit_line, word_ends, bit_ends)


def _crossbar_end_conductances(n_word_lines, n_bit_lines, g_word, g_bit):
    word_ends = np.zeros((n_word_lines, 2))
    word_ends[:, 0] = g_word
    bit_ends = np.zeros((n_bit_lines, 2))
    bit_ends[:, 1] = g_bit
    return word_ends, bit_ends


def _line_laplacian(n_nodes, g_line, ends):
    diagonal = np.full(n_nodes, 2.0 * g_line)
    diagonal[0] += ends[0] - g_line
    diagonal[-1] += ends[1] - g_line
    off_diagonal = np.full(n_nodes - 1, -g_line)
    return sp.diags([off_diagonal, diagonal, off_diagonal], [-1, 0, 1])


def _assemble_nodal_matrix(conductances, g_word, g_bit, word_ends, bit_ends):
    n_word_lines, n_bit_lines = conductances.shape
    word_blocks = [_line_laplacian(n_bit_lines, g_word, word_ends[i]) for i in range(n_word_lines)]
    bit_blocks = [_line_laplacian(n_word_lines, g_bit, bit_ends[j]) for j in range(n_bit_lines)]
    word_laplacian = sp.block_diag(word_blocks)
    # Bit lines run down the columns: build them column-major, then permute to row-major order.
    order = np.arange(conductances.size).reshape(n_bit_lines, n_word_lines).T.ravel()
    bit_laplacian = sp.block_diag(bit_blocks).tocsr()[order][:, order]
    devices = sp.diags(conductances.ravel())
    return sp.bmat([[word_laplacian + devices, -devices],
                    [-devices, bit_laplacian + devices]], format="csr")


def solve_crossbar(
    conductances: npt.ArrayLike,
    applied_voltages: npt.ArrayLike,
    r_word_line: float,
    r_bit_line: float,
    *,
    backend: str = "numba",
    rtol: float = DEFAULT_RTOL,
    max_iterations: int | None = None,
    n_threads: int | None = None,
    return_node_voltages: bool = False,
) -> CrossbarSolution:
    """Solve a crossbar read with line resistance (see the module docstring for the circuit).

    Parameters
    ----------
    conductances : array_like of shape (n_word_lines, n_bit_lines)
        Device conductances in siemens, finite and non-negative (0 is an open device). float32
        and integer input is converted to float64, in which every kernel computes.
    applied_voltages : array_like of shape (n_word_lines,) or (n_samples, n_word_lines)
        Source voltage of each word line, in volt. A batch reuses the preconditioner set-up.
    r_word_line, r_bit_line : float
        Resistance of one word-line or bit-line segment, in ohm. Zero pins the line's nodes to
        its source (word lines) or to ground (bit lines); both zero give ``applied_voltages @
        conductances`` exactly.
    backend : {"numba", "cython", "numpy"}
        Kernels to run: Numba, the Cython extension, or the NumPy reference.
    rtol : float
        Relative KCL residual at which the iteration stops, ||b - A x|| over the smaller of ||b||
        and the device-current scale (see Notes).
    max_iterations : int or None
        Conjugate-gradient iterations allowed per sample; None allows ``max(1000, 2 * (n_word_lines
        + n_bit_lines))``.
    n_threads : int or None
        Threads of the compiled kernels; None uses ``fastxbar._config.default_threads()``, or one
        thread for arrays of fewer than 128 x 128 cells.
    return_node_voltages : bool
        Keep the word- and bit-line node voltages (two float64 arrays of the array's shape per
        sample). False keeps only the output currents, which saves that memory for batches.

    Returns
    -------
    CrossbarSolution

    Raises
    ------
    ConvergenceError
        If a sample's residual stays above ``rtol`` after ``max_iterations`` iterations.

    Notes
    -----
    The residual is measured against the smaller of ||b|| and the norm of the device currents at
    full source voltage, sqrt(2) max|V| ||G||_F, and the iteration stops no lower than the
    float64 floor 16 eps ||A|| ||x||. That floor is about 1e-14 g / G relative to the currents,
    so with line conductances g more than about 1e5 times the device conductances G the currents
    are no longer accurate to 1e-9 (an estimate from the floor's formula).

    Each iteration runs five parallel regions. When other processes occupy the cores, a
    region waits for its descheduled threads: on a 2-core machine with one core busy, two threads
    were about 10 times slower than ``n_threads=1`` at 512 x 512.

    Examples
    --------
    >>> import numpy as np
    >>> solution = solve_crossbar(np.full((2, 2), 1e-3), [1.0, 0.5], 1.0, 1.0, backend="numpy")
    >>> solution.output_currents.round(7)
    array([0.001493 , 0.0014915])
    """
    conductances = check_conductances(conductances)
    voltages = check_voltages(applied_voltages, conductances.shape[0])
    n_samples = 1 if voltages.ndim == 1 else voltages.shape[0]
    n_bit_lines = conductances.shape[1]
    right = np.full((n_samples, conductances.shape[0]), np.nan)
    top = np.full((n_samples, n_bit_lines), np.nan)
    bottom = np.zeros((n_samples, n_bit_lines))
    solution = _solve_checked(conductances, r_word_line, r_bit_line, voltages.reshape(n_samples, -1),
                              right, top, bottom, backend, rtol, max_iterations, n_threads,
                              return_node_voltages)
    if voltages.ndim == 2:
        return solution
    return _squeeze_sample(solution)


def solve_network(
    conductances: npt.ArrayLike,
    r_word_line: float,
    r_bit_line: float,
    *,
    word_line_left: npt.ArrayLike,
    word_line_right: npt.ArrayLike,
    bit_line_top: npt.ArrayLike,
    bit_line_bottom: npt.ArrayLike,
    backend: str = "numba",
    rtol: float = DEFAULT_RTOL,
    max_iterations: int | None = None,
    n_threads: int | None = None,
    return_node_voltages: bool = True,
) -> CrossbarSolution:
    """Solve the crossbar network with a source, or nothing, at each end of every line.

    Each line end is driven by an ideal source through one end segment of the line's resistance,
    or is open where its voltage is NaN. ``solve_crossbar`` is the case word_line_left = V,
    bit_line_bottom = 0 and every other end open.

    Parameters
    ----------
    conductances, r_word_line, r_bit_line, backend, rtol, max_iterations, n_threads
        As in ``solve_crossbar``.
    word_line_left, word_line_right : array_like of shape (n_word_lines,) or (n_samples, n_word_lines)
        Source voltages at the left and right ends of the word lines, in volt; NaN for open.
    bit_line_top, bit_line_bottom : array_like of shape (n_bit_lines,) or (n_samples, n_bit_lines)
        Source voltages at the top (row 0) and bottom ends of the bit lines, in volt; NaN for open.
        Every sample must leave the same ends open.
    return_node_voltages : bool
        Keep the node voltages (default True here).

    Returns
    -------
    CrossbarSolution
        ``output_currents`` contains the current into each bit line's bottom source (0 where open).
        With 1-D boundary arrays the sample axis is dropped.

    Notes
    -----
    A line with both ends open and no device of positive conductance carries no current. Its
    node voltages are undefined and are reported as 0 V, up to the solver's tolerance. With a
    zero line resistance, every line of that layer must be driven at exactly one end.
    """
    conductances = check_conductances(conductances)
    n_word_lines, n_bit_lines = conductances.shape
    ends = [check_boundary_voltages("word_line_left", word_line_left, n_word_lines),
            check_boundary_voltages("word_line_right", word_line_right, n_word_lines),
            check_boundary_voltages("bit_line_top", bit_line_top, n_bit_lines),
            check_boundary_voltages("bit_line_bottom", bit_line_bottom, n_bit_lines)]
    n_samples = max(end.shape[0] for end in ends)
    if any(end.shape[0] not in (1, n_samples) for end in ends):
        raise ValueError(
            "The boundary voltages must all have the same number of samples (or one); got "
            f"{[end.shape[0] for end in ends]}."
        )
    ends = [np.ascontiguousarray(np.broadcast_to(end, (n_samples, end.shape[1]))) for end in ends]
    solution = _solve_checked(conductances, r_word_line, r_bit_line, *ends, backend, rtol,
                              max_iterations, n_threads, return_node_voltages)
    batched = any(np.ndim(value) == 2 for value in (word_line_left, word_line_right, bit_line_top,
                                                    bit_line_bottom))
    return solution if batched else _squeeze_sample(solution)


def _squeeze_sample(solution):
    def first(array):
        return None if array is None else array[0]

    return dataclasses.replace(solution, output_currents=solution.output_currents[0],
                               word_line_voltages=first(solution.word_line_voltages),
                               bit_line_voltages=first(solution.bit_line_voltages))


def _solve_checked(conductances, r_word_line, r_bit_line, left, right, top, bottom, backend, rtol,
                   max_iterations, n_threads, return_node_voltages):
    r_word_line = check_line_resistance("r_word_line", r_word_line)
    r_bit_line = check_line_resistance("r_bit_line", r_bit_line)
    backend = check_backend(backend)
    rtol = check_tolerance(rtol)
    n_word_lines, n_bit_lines = conductances.shape
    max_iterations = check_iterations(max_iterations, max(1000, 2 * (n_word_lines + n_bit_lines)))
    # Below about 128 x 128 cells a parallel region costs more than the work it splits.
    small = conductances.size < 128 * 128
    n_threads = check_threads(n_threads, 1 if small else _config.default_threads())
    iterative = r_word_line > 0.0 and r_bit_line > 0.0
    if iterative and backend != "numpy" and n_threads > 1 and left.shape[0] > 1:
        return _solve_lanes(conductances, 1 / r_word_line, 1 / r_bit_line, left, right, top, bottom,
                            backend, rtol, max_iterations, n_threads, return_node_voltages)
    kernels = _solver_pcg.load_kernels(backend, n_threads)
    with kernels.threads:
        if not iterative:
            return _solve_direct(kernels, conductances, r_word_line, r_bit_line, left, right, top,
                                 bottom, return_node_voltages)
        return _solve_iterative(kernels, conductances, 1 / r_word_line, 1 / r_bit_line, left, right,
                                top, bottom, rtol, max_iterations, return_node_voltages)


def _solve_lanes(conductances, g_word, g_bit, left, right, top, bottom, backend, rtol,
                 max_iterations, n_threads, return_node_voltages):
    """Solve a batch on ``n_threads`` lanes, each a Python thread with single-threaded kernels.

    The compiled kernels release the GIL, so the lanes run in parallel without the fork and join
    of a parallel region in every kernel call. Each lane takes every n-th sample and sets up its
    own preconditioner, so each sample gets the same result as in a sequential solve.
    """
    n_samples = left.shape[0]
    n_lanes = min(n_threads, n_samples)

    def solve_lane(lane):
        samples = np.arange(lane, n_samples, n_lanes)
        kernels = _solver_pcg.load_kernels(backend, 1)
        with kernels.threads:
            solution = _solve_iterative(kernels, conductances, g_word, g_bit, left[samples],
                                        right[samples], top[samples], bottom[samples], rtol,
                                        max_iterations, return_node_voltages)
        return samples, solution

    with concurrent.futures.ThreadPoolExecutor(max_workers=n_lanes) as pool:
        parts = list(pool.map(solve_lane, range(n_lanes)))
    output_currents = np.empty((n_samples, conductances.shape[1]))
    shape = (n_samples,) + conductances.shape
    word_voltages = np.empty(shape) if return_node_voltages else None
    bit_voltages = np.empty(shape) if return_node_voltages else None
    for samples, solution in parts:
        output_currents[samples] = solution.output_currents
        if return_node_voltages:
            word_voltages[samples] = solution.word_line_voltages
            bit_voltages[samples] = solution.bit_line_voltages
    return CrossbarSolution(
        output_currents=output_currents, word_line_voltages=word_voltages,
        bit_line_voltages=bit_voltages, residual=max(part.residual for _, part in parts),
        iterations=max(part.iterations for _, part in parts), conductances=conductances)


def _end_conductances(conductances, g_word, g_bit, left, right, top, bottom):
    """Return (word_ends, bit_ends, left, bottom): end-segment conductances, 0 where open.

    A line with both ends open and no conducting device is isolated, so its voltage is
    undefined. Such a line gets a source of 0 V at one end, in a copy of ``left`` or ``bottom``.
    That fixes its nodes at 0 V and changes no current.
    """
    word_ends = np.stack([np.where(np.isnan(left[0]), 0.0, g_word),
                          np.where(np.isnan(right[0]), 0.0, g_word)], axis=1)
    bit_ends = np.stack([np.where(np.isnan(top[0]), 0.0, g_bit),
                         np.where(np.isnan(bottom[0]), 0.0, g_bit)], axis=1)
    isolated_words = (word_ends.sum(axis=1) == 0) & (conductances.max(axis=1) == 0)
    isolated_bits = (bit_ends.sum(axis=1) == 0) & (conductances.max(axis=0) == 0)
    if isolated_words.any():
        word_ends[isolated_words, 0] = g_word
        left = left.copy()
        left[:, isolated_words] = 0.0
    if isolated_bits.any():
        bit_ends[isolated_bits, 1] = g_bit
        bottom = bottom.copy()
        bottom[:, isolated_bits] = 0.0
    return np.ascontiguousarray(word_ends), np.ascontiguousarray(bit_ends), left, bottom


def _fill_rhs(rhs, word_ends, bit_ends, left, right, top, bottom):
    rhs[:] = 0.0
    rhs[0, :, 0] += word_ends[:, 0] * np.nan_to_num(left)
    rhs[0, :, -1] += word_ends[:, 1] * np.nan_to_num(right)
    rhs[1, 0, :] += bit_ends[:, 0] * np.nan_to_num(top)
    rhs[1, -1, :] += bit_ends[:, 1] * np.nan_to_num(bottom)


def _solve_iterative(kernels, conductances, g_word, g_bit, left, right, top, bottom, rtol,
                     max_iterations, return_node_voltages):
    n_samples = left.shape[0]
    n_word_lines, n_bit_lines = conductances.shape
    word_ends, bit_ends, left, bottom = _end_conductances(conductances, g_word, g_bit, left, right,
                                                          top, bottom)
    preconditioner = _solver_pcg.Preconditioner(kernels, conductances, g_word, g_bit, word_ends,
                                                bit_ends, COARSE_SPACING)
    shape = (2, n_word_lines, n_bit_lines)
    rhs, x = np.empty(shape), np.empty(shape)
    work = [np.empty(shape) for _ in range(3)]
    output_currents = np.empty((n_samples, n_bit_lines))
    matrix = (conductances, g_word, g_bit, word_ends, bit_ends)
    conductance_norm = float(np.sqrt(np.vdot(conductances, conductances)))
    node_voltages = np.empty((n_samples,) + shape) if return_node_voltages else None
    worst_residual, largest_iteration_count = 0.0, 0

    # TODO: iterate on the samples as one block to share the reads of G and of the pivots, which
    # are about a tenth of the memory traffic of an iteration at 1024 x 1024.
    for sample in range(n_samples):
        _fill_rhs(rhs, word_ends, bit_ends, left[sample], right[sample], top[sample], bottom[sample])
        sources = np.concatenate([left[sample], right[sample], top[sample], bottom[sample]])
        current_scale = np.sqrt(2.0) * np.nanmax(np.abs(sources), initial=0.0) * conductance_norm
        try:
            residual, iterations = _solver_pcg.conjugate_gradients(
                kernels, preconditioner, matrix, rhs, x, rtol, current_scale, max_iterations, work)
        except _solver_pcg.ConvergenceFailure as failure:
            raise ConvergenceError(rtol, failure.iterations, failure.residual) from None
        worst_residual = max(worst_residual, residual)
        largest_iteration_count = max(largest_iteration_count, iterations)
        output_currents[sample] = _bottom_currents(conductances, x, bit_ends, top[sample], bottom[sample])
        if node_voltages is not None:
            node_voltages[sample] = x

    logger.debug("Nodal solve of %d sample(s): %d iterations at most, residual %.2e.",
                 n_samples, largest_iteration_count, worst_residual)
    return CrossbarSolution(
        output_currents=output_currents,
        word_line_voltages=None if node_voltages is None else node_voltages[:, 0],
        bit_line_voltages=None if node_voltages is None else node_voltages[:, 1],
        residual=worst_residual, iterations=largest_iteration_count, conductances=conductances)


def _bottom_currents(conductances, x, bit_ends, top, bottom):
    """Return the current into each bit line's bottom source (0 where that end is open).

    KCL on the whole bit line gives it as the sum of its device currents plus the current entering
    through a driven top end. That sum stays accurate when the line conductance is far above the
    device conductances, where g_bit (w_bottom - V_bottom) would amplify the node-voltage error.
    """
    collected = np.einsum("ij,ij->j", conductances, x[0]) - np.einsum("ij,ij->j", conductances, x[1])
    collected += bit_ends[:, 0] * (np.nan_to_num(top) - x[1, 0, :])
    currents = np.where(bit_ends[:, 1] > 0, collected, 0.0)
    # A bit line driven at both ends splits its current, so only the end segment gives the share.
    both = (bit_ends[:, 0] > 0) & (bit_ends[:, 1] > 0)
    currents[both] = (bit_ends[both, 1] * (x[1, -1, both] - np.nan_to_num(bottom)[both]))
    return currents


def _pinned_voltages(layer, first_end, second_end):
    """Return the source voltage of each line of a zero-resistance layer, shape (n_samples, n_lines)."""
    first_open, second_open = np.isnan(first_end[0]), np.isnan(second_end[0])
    # NOTE: a floating line without resistance is one equipotential node; that reduction is not
    # implemented, so such circuits are rejected rather than solved.
    if (first_open == second_open).any():
        line = int(np.flatnonzero(first_open == second_open)[0])
        raise ValueError(
            f"With a zero {layer} resistance every {layer} must be driven at exactly one end, "
            f"because its nodes take that source's voltage; {layer} {line} is driven at "
            f"{'neither' if first_open[line] else 'both'} end(s). Give the lines a small positive "
            "resistance to solve this circuit."
        )
    return np.where(first_open, second_end, first_end)


def _solve_direct(kernels, conductances, r_word_line, r_bit_line, left, right, top, bottom,
                  return_node_voltages):
    """Solve a network with a zero line resistance: one layer is pinned, the other is tridiagonal."""
    n_samples = left.shape[0]
    n_word_lines, n_bit_lines = conductances.shape
    word = np.empty((n_samples, n_word_lines, n_bit_lines))
    bit = np.empty_like(word)
    if r_word_line == 0.0:
        pinned_word = _pinned_voltages("word line", left, right)
        word[:] = pinned_word[:, :, np.newaxis]
    if r_bit_line == 0.0:
        pinned_bit = _pinned_voltages("bit line", top, bottom)
        bit[:] = pinned_bit[:, np.newaxis, :]

    if r_bit_line > 0.0:
        g_bit = 1 / r_bit_line
        _, bit_ends, _, bottom = _end_conductances(conductances, 0.0, g_bit, left, right, top, bottom)
        pivots = np.empty_like(conductances)
        kernels.bit_line_factorize(conductances, g_bit, bit_ends, pivots)
        rhs = conductances * word
        rhs[:, 0, :] += bit_ends[:, 0] * np.nan_to_num(top)
        rhs[:, -1, :] += bit_ends[:, 1] * np.nan_to_num(bottom)
        for sample in range(n_samples):
            kernels.bit_line_solve(pivots, g_bit, rhs[sample], bit[sample])
        output_currents = bit_ends[:, 1] * (bit[:, -1, :] - np.nan_to_num(bottom))
    else:
        if r_word_line > 0.0:
            g_word = 1 / r_word_line
            word_ends, _, left, _ = _end_conductances(conductances, g_word, 0.0, left, right, top, bottom)
            pivots = np.empty_like(conductances)
            kernels.word_line_factorize(conductances, g_word, word_ends, pivots)
            rhs = conductances * bit
            rhs[:, :, 0] += word_ends[:, 0] * np.nan_to_num(left)
            rhs[:, :, -1] += word_ends[:, 1] * np.nan_to_num(right)
            for sample in range(n_samples):
                kernels.word_line_solve(pivots, g_word, rhs[sample], word[sample])
        # The bit lines are ideal, so each bottom source collects every device current of its line.
        sensed = (~np.isnan(bottom[0])).astype(np.float64)
        if r_word_line == 0.0:
            # Written as V @ G so that a standard read with ideal wires reproduces it bit for bit.
            collected = pinned_word @ conductances - pinned_bit * conductances.sum(axis=0)
        else:
            collected = np.einsum("ij,sij->sj", conductances, word - bit)
        output_currents = sensed * collected

    return CrossbarSolution(
        output_currents=output_currents,
        word_line_voltages=word if return_node_voltages else None,
        bit_line_voltages=bit if return_node_voltages else None,
        residual=0.0, iterations=0, conductances=conductances)


def read_single_cell(
    conductances: npt.ArrayLike,
    row: int,
    column: int,
    read_voltage: float,
    r_word_line: float,
    r_bit_line: float,
    *,
    scheme: str = "floating",
    backend: str = "numba",
    rtol: float = DEFAULT_RTOL,
    max_iterations: int | None = None,
    n_threads: int | None = None,
) -> CellRead:
    """Read one cell of a passive crossbar and return the sensed and the cell's own current.

    The selected word line is driven at ``read_voltage`` from its left end and the selected bit
    line is sensed at 0 V at its bottom end. The other lines, driven at the same ends, follow
    ``scheme``:

    - "floating": left open, so sneak paths through unselected cells add to the sensed current;
    - "grounded": held at 0 V;
    - "v/2": held at read_voltage / 2;
    - "v/3": word lines at read_voltage / 3, bit lines at 2 read_voltage / 3.

    Parameters
    ----------
    conductances, r_word_line, r_bit_line, backend, rtol, max_iterations, n_threads
        As in ``solve_crossbar``. The "floating" scheme needs positive line resistances.
    row, column : int
        Selected word line and bit line.
    read_voltage : float
        Voltage of the selected word line's source, in volt.
    scheme : {"floating", "grounded", "v/2", "v/3"}
        Bias of the unselected lines.

    Returns
    -------
    CellRead
        ``sensed_current - cell_current`` is the error that sneak paths and line resistance add.
    """
    conductances = check_conductances(conductances)
    n_word_lines, n_bit_lines = conductances.shape
    row = check_index("row", row, n_word_lines)
    column = check_index("column", column, n_bit_lines)
    read_voltage = check_read_voltage(read_voltage)
    scheme = check_scheme(scheme)
    unselected_word, unselected_bit = {
        "floating": (np.nan, np.nan),
        "grounded": (0.0, 0.0),
        "v/2": (read_voltage / 2, read_voltage / 2),
        "v/3": (read_voltage / 3, 2 * read_voltage / 3),
    }[scheme]

    word_line_left = np.full(n_word_lines, unselected_word)
    word_line_left[row] = read_voltage
    bit_line_bottom = np.full(n_bit_lines, unselected_bit)
    bit_line_bottom[column] = 0.0
    solution = solve_network(
        conductances, r_word_line, r_bit_line, word_line_left=word_line_left,
        word_line_right=np.full(n_word_lines, np.nan), bit_line_top=np.full(n_bit_lines, np.nan),
        bit_line_bottom=bit_line_bottom, backend=backend, rtol=rtol,
        max_iterations=max_iterations, n_threads=n_threads)
    cell_voltage = solution.word_line_voltages[row, column] - solution.bit_line_voltages[row, column]
    return CellRead(sensed_current=float(solution.output_currents[column]),
                    cell_current=float(conductances[row, column] * cell_voltage))
