"""Crossbar reads with line resistance: solve_crossbar against direct solves and closed forms."""

import numpy as np
import pytest
import scipy.sparse.linalg as spla

from fastxbar.solver import ideal_read, nodal_matrix, solve_crossbar
from .solver_naive import naive_crossbar



def random_conductances(rng, shape, low=1e-6, high=1e-3):
    return np.exp(rng.uniform(np.log(low), np.log(high), shape))


def spsolve_read(conductances, voltages, r_word_line, r_bit_line):
    """Return (output currents, word-line voltages, bit-line voltages) from a sparse LU solve."""
    n, m = conductances.shape
    voltages = np.atleast_2d(voltages)
    rhs = np.zeros((2 * n * m, voltages.shape[0]))
    rhs[np.arange(n) * m, :] = voltages.T / r_word_line
    nodes = spla.splu(nodal_matrix(conductances, r_word_line, r_bit_line).tocsc()).solve(rhs).T
    word = nodes[:, : n * m].reshape(-1, n, m)
    bit = nodes[:, n * m:].reshape(-1, n, m)
    return bit[:, -1, :] / r_bit_line, word, bit


@pytest.mark.parametrize("shape", [(6, 6), (3, 17), (17, 3), (40, 25)])
def test_solve_matches_spsolve(backend, shape):
    rng = np.random.default_rng(7)
    conductances = random_conductances(rng, shape)
    voltages = rng.uniform(-0.5, 1.0, (3, shape[0]))
    expected, word, bit = spsolve_read(conductances, voltages, 2.0, 0.7)

    solution = solve_crossbar(conductances, voltages, 2.0, 0.7, backend=backend,
                              return_node_voltages=True)

    scale = np.abs(expected).max()
    np.testing.assert_allclose(solution.output_currents, expected, rtol=0, atol=1e-9 * scale)
    np.testing.assert_allclose(solution.word_line_voltages, word, rtol=0, atol=1e-9)
    np.testing.assert_allclose(solution.bit_line_voltages, bit, rtol=0, atol=1e-9)
    assert solution.residual <= 1e-12


def test_solve_matches_naive_network():
    rng = np.random.default_rng(8)
    conductances = random_conductances(rng, (4, 5), 1e-3, 1e-1)
    voltages = rng.uniform(0.0, 1.0, 4)

    solution = solve_crossbar(conductances, voltages, 1.5, 3.0, backend="numpy")

    expected = naive_crossbar(conductances, voltages, 1.5, 3.0)
    np.testing.assert_allclose(solution.output_currents, expected, rtol=1e-9)


def word_lines_only(conductances, voltages, r_word_line):
    """Return the output currents with ideal bit lines: each word line is a dense solve."""
    n, m = conductances.shape
    g = 1 / r_word_line
    currents = np.zeros(m)
    for i in range(n):
        laplacian = np.diag(np.full(m, 2 * g)) - g * np.eye(m, k=1) - g * np.eye(m, k=-1)
        laplacian[-1, -1] = g
        rhs = np.zeros(m)
        rhs[0] = g * voltages[i]
        currents += conductances[i] * np.linalg.solve(laplacian + np.diag(conductances[i]), rhs)
    return currents


def bit_lines_only(conductances, voltages, r_bit_line):
    """Return the output currents with ideal word lines: each bit line is a dense solve."""
    n, m = conductances.shape
    g = 1 / r_bit_line
    currents = np.zeros(m)
    for j in range(m):
        laplacian = np.diag(np.full(n, 2 * g)) - g * np.eye(n, k=1) - g * np.eye(n, k=-1)
        laplacian[0, 0] = g
        bit = np.linalg.solve(laplacian + np.diag(conductances[:, j]), conductances[:, j] * voltages)
        currents[j] = g * bit[-1]
    return currents


def test_zero_bit_line_resistance(backend):
    rng = np.random.default_rng(9)
    conductances = random_conductances(rng, (9, 14), 1e-4, 1e-1)
    voltages = rng.uniform(0.0, 1.0, 9)

    solution = solve_crossbar(conductances, voltages, 0.8, 0.0, backend=backend)

    expected = word_lines_only(conductances, voltages, 0.8)
    np.testing.assert_allclose(solution.output_currents, expected, rtol=1e-12)
    assert solution.iterations == 0


def test_zero_word_line_resistance(backend):
    rng = np.random.default_rng(10)
    conductances = random_conductances(rng, (14, 9), 1e-4, 1e-1)
    voltages = rng.uniform(0.0, 1.0, 14)

    solution = solve_crossbar(conductances, voltages, 0.0, 0.6, backend=backend)

    expected = bit_lines_only(conductances, voltages, 0.6)
    np.testing.assert_allclose(solution.output_currents, expected, rtol=1e-12)


def test_zero_line_resistance_is_ideal(backend):
    rng = np.random.default_rng(11)
    conductances = random_conductances(rng, (12, 7))
    voltages = rng.uniform(-1.0, 1.0, (4, 12))

    solution = solve_crossbar(conductances, voltages, 0.0, 0.0, backend=backend)

    np.testing.assert_array_equal(solution.output_currents, voltages @ conductances)
    np.testing.assert_array_equal(ideal_read(conductances, voltages), voltages @ conductances)


@pytest.mark.parametrize("r_word_line, resistance, r_bit_line", [(1.0, 1e3, 2.0), (30.0, 10.0, 5.0)])
def test_single_cell_closed_form(backend, r_word_line, resistance, r_bit_line):
    solution = solve_crossbar([[1 / resistance]], [0.7], r_word_line, r_bit_line, backend=backend)

    expected = 0.7 / (r_word_line + resistance + r_bit_line)
    np.testing.assert_allclose(solution.output_currents, [expected], rtol=1e-11)


def cosh_profile(n_cells, conductance, g_line, voltage):
    """Return the node voltages of a ladder of equal devices driven at one end (closed form)."""
    theta = np.arccosh(1 + conductance / (2 * g_line))
    k = np.arange(1, n_cells + 1)
    return voltage * np.cosh(theta * (n_cells + 0.5 - k)) / np.cosh(theta * (n_cells + 0.5))


@pytest.mark.parametrize("r_bit_line", [0.0, 0.5])
def test_word_line_cosh_profile(backend, r_bit_line):
    n_cells, device, r_word_line, voltage = 50, 2e-2, 1.0, 0.8
    # A bit line of one cell puts its segment in series with the device.
    effective = device if r_bit_line == 0 else 1 / (1 / device + r_bit_line)
    profile = cosh_profile(n_cells, effective, 1 / r_word_line, voltage)

    solution = solve_crossbar(np.full((1, n_cells), device), [voltage], r_word_line, r_bit_line,
                              backend=backend, return_node_voltages=True)

    np.testing.assert_allclose(solution.word_line_voltages[0], profile, rtol=1e-10)
    np.testing.assert_allclose(solution.output_currents, effective * profile, rtol=1e-10)
    total = (voltage - profile[0]) / r_word_line
    np.testing.assert_allclose(solution.output_currents.sum(), total, rtol=1e-10)


@pytest.mark.parametrize("r_word_line", [0.0, 0.25])
def test_bit_line_cosh_profile(backend, r_word_line):
    n_cells, device, r_bit_line, voltage = 40, 5e-3, 2.0, 1.2
    effective = device if r_word_line == 0 else 1 / (1 / device + r_word_line)
    # Counted from the open top, the drop across row i's device follows the reversed profile.
    drop = cosh_profile(n_cells, effective, 1 / r_bit_line, voltage)[::-1]

    solution = solve_crossbar(np.full((n_cells, 1), device), np.full(n_cells, voltage), r_word_line,
                              r_bit_line, backend=backend)

    expected = (voltage - drop[-1]) / r_bit_line
    np.testing.assert_allclose(solution.output_currents, [expected], rtol=1e-10)


def test_nodal_matrix_two_by_two():
    expected = np.array([
        [4, -2, 0, 0, 0, 0, 0, 0],
        [-2, 22, 0, 0, 0, -20, 0, 0],
        [0, 0, 34, -2, 0, 0, -30, 0],
        [0, 0, -2, 2, 0, 0, 0, 0],
        [0, 0, 0, 0, 4, 0, -4, 0],
        [0, -20, 0, 0, 0, 24, 0, -4],
        [0, 0, -30, 0, -4, 0, 38, 0],
        [0, 0, 0, 0, 0, -4, 0, 8],
    ], dtype=float)

    matrix = nodal_matrix([[0.0, 20.0], [30.0, 0.0]], 0.5, 0.25)

    np.testing.assert_array_equal(matrix.toarray(), expected)


def test_strong_ir_drop_stays_bounded(backend):
    rng = np.random.default_rng(12)
    conductances = 1 / rng.uniform(10.0, 100.0, (48, 48))
    voltages = rng.uniform(0.0, 0.3, (2, 48))

    solution = solve_crossbar(conductances, voltages, 5.0, 5.0, backend=backend,
                              return_node_voltages=True)

    for nodes in (solution.word_line_voltages, solution.bit_line_voltages):
        assert np.isfinite(nodes).all()
        assert nodes.min() >= -1e-12
        assert nodes.max() <= voltages.max() + 1e-12
    expected, _, _ = spsolve_read(conductances, voltages, 5.0, 5.0)
    np.testing.assert_allclose(solution.output_currents, expected, rtol=1e-8)


def test_superposition(backend):
    rng = np.random.default_rng(13)
    conductances = random_conductances(rng, (30, 20))
    first, second = rng.uniform(-1.0, 1.0, (2, 30))

    currents = solve_crossbar(conductances, np.stack([first, second, first + second]), 1.0, 1.0,
                              backend=backend).output_currents

    scale = np.abs(currents).max()
    np.testing.assert_allclose(currents[2], currents[0] + currents[1], rtol=0, atol=1e-9 * scale)


def test_backends_agree_with_reference(backend):
    rng = np.random.default_rng(14)
    conductances = random_conductances(rng, (37, 53))
    voltages = rng.uniform(0.0, 1.0, (2, 37))

    solution = solve_crossbar(conductances, voltages, 0.5, 1.5, backend=backend,
                              return_node_voltages=True)
    reference = solve_crossbar(conductances, voltages, 0.5, 1.5, backend="numpy",
                               return_node_voltages=True)

    np.testing.assert_allclose(solution.output_currents, reference.output_currents, rtol=1e-9)
    np.testing.assert_allclose(solution.word_line_voltages, reference.word_line_voltages, atol=1e-10)


def test_batch_matches_single_vectors(backend):
    rng = np.random.default_rng(15)
    conductances = random_conductances(rng, (20, 20))
    voltages = rng.uniform(0.0, 1.0, (3, 20))

    batch = solve_crossbar(conductances, voltages, 1.0, 1.0, backend=backend)

    assert batch.output_currents.shape == (3, 20)
    for sample, vector in enumerate(voltages):
        single = solve_crossbar(conductances, vector, 1.0, 1.0, backend=backend)
        assert single.output_currents.shape == (20,)
        np.testing.assert_allclose(batch.output_currents[sample], single.output_currents, rtol=1e-12)


def test_float32_input_is_converted(backend):
    rng = np.random.default_rng(16)
    conductances = random_conductances(rng, (10, 12)).astype(np.float32)
    voltages = rng.uniform(0.0, 1.0, 10).astype(np.float32)

    solution = solve_crossbar(conductances, voltages, 1.0, 1.0, backend=backend)

    expected, _, _ = spsolve_read(conductances.astype(np.float64), voltages.astype(np.float64), 1.0, 1.0)
    assert solution.output_currents.dtype == np.float64
    np.testing.assert_allclose(solution.output_currents, expected[0], rtol=1e-9)


def test_open_devices_carry_no_current(backend):
    conductances = np.full((5, 4), 1e-3)
    conductances[:, 2] = 0.0

    solution = solve_crossbar(conductances, np.ones(5), 1.0, 1.0, backend=backend,
                              return_node_voltages=True)

    # Zero up to the solver's tolerance, which is relative to the largest current.
    assert abs(solution.output_currents[2]) <= 1e-10 * solution.output_currents.max()
    assert np.isfinite(solution.bit_line_voltages).all()
    np.testing.assert_allclose(solution.bit_line_voltages[:, 2], 0.0, atol=1e-12)


def test_device_currents_sum_to_outputs(backend):
    rng = np.random.default_rng(17)
    conductances = random_conductances(rng, (15, 11))
    voltages = rng.uniform(0.0, 1.0, 15)

    solution = solve_crossbar(conductances, voltages, 2.0, 2.0, backend=backend,
                              return_node_voltages=True)

    # The bit lines' tops are open, so every device current of a column leaves through its bottom.
    np.testing.assert_allclose(solution.device_currents.sum(axis=0), solution.output_currents,
                               rtol=1e-9)
    np.testing.assert_allclose(solution.device_voltages,
                               solution.word_line_voltages - solution.bit_line_voltages)


def test_node_voltages_omitted_by_default():
    solution = solve_crossbar(np.full((4, 4), 1e-4), np.ones(4), 1.0, 1.0, backend="numpy")

    assert solution.word_line_voltages is None
    assert solution.bit_line_voltages is None
    with pytest.raises(ValueError, match="return_node_voltages=True"):
        solution.device_voltages


def test_zero_voltages_give_zero_currents(backend):
    solution = solve_crossbar(np.full((6, 5), 1e-4), np.zeros(6), 1.0, 1.0, backend=backend)

    np.testing.assert_array_equal(solution.output_currents, np.zeros(5))
    assert solution.iterations == 0


def test_docstring_examples_run():
    import doctest

    import fastxbar.solver

    results = doctest.testmod(fastxbar.solver)

    assert results.attempted > 0
    assert results.failed == 0


@pytest.mark.parametrize("backend", ["numba", "cython"])
def test_threaded_batch_equals_sequential(backend):
    # Two threads split a batch into lanes of single-threaded solves, so every sample must come
    # out bit for bit as in a one-thread solve of the whole batch.
    rng = np.random.default_rng(7)
    conductances = 1.0 / rng.uniform(1e3, 1e5, (24, 17))
    voltages = rng.uniform(0.0, 0.3, (5, 24))
    sequential = solve_crossbar(conductances, voltages, 2.0, 3.0, backend=backend, n_threads=1,
                                return_node_voltages=True)
    lanes = solve_crossbar(conductances, voltages, 2.0, 3.0, backend=backend, n_threads=2,
                           return_node_voltages=True)
    np.testing.assert_array_equal(lanes.output_currents, sequential.output_currents)
    np.testing.assert_array_equal(lanes.word_line_voltages, sequential.word_line_voltages)
    np.testing.assert_array_equal(lanes.bit_line_voltages, sequential.bit_line_voltages)
    assert lanes.iterations == sequential.iterations
    assert lanes.residual == sequential.residual
