"""Input checks and convergence failures of the crossbar solver's public functions."""

import numpy as np
import pytest

import fastxbar
from fastxbar.solver import ConvergenceError, ideal_read, read_single_cell, solve_crossbar, solve_network

GOOD = np.full((3, 4), 1e-4)
VOLTAGES = np.ones(3)


@pytest.mark.parametrize("conductances, voltages, r_word_line, r_bit_line, options, error, message", [
    (GOOD, VOLTAGES, -1.0, 1.0, {}, ValueError, r"`r_word_line` must be a non-negative float in ohm; got -1\.0\."),
    (GOOD, VOLTAGES, 1.0, float("nan"), {}, ValueError, r"`r_bit_line` .* got nan"),
    (GOOD, VOLTAGES, 1.0, float("inf"), {}, ValueError, r"`r_bit_line` .* got inf"),
    (GOOD, VOLTAGES, "1", 1.0, {}, TypeError, r"`r_word_line` .* got '1'"),
    (GOOD, [1.0, np.nan, 0.0], 1.0, 1.0, {}, ValueError, r"`applied_voltages` must be finite.*nan"),
    (GOOD, [1.0, np.inf, 0.0], 1.0, 1.0, {}, ValueError, r"`applied_voltages` must be finite.*inf"),
    (GOOD, np.ones(4), 1.0, 1.0, {}, ValueError, r"`applied_voltages` must have shape \(3,\).*got shape \(4,\)"),
    (GOOD, np.ones((2, 2, 3)), 1.0, 1.0, {}, ValueError, r"got shape \(2, 2, 3\)"),
    (np.ones(3), VOLTAGES, 1.0, 1.0, {}, ValueError, r"`conductances` must be a non-empty 2-D array.*\(3,\)"),
    ([[1e-4, np.inf]], [1.0], 1.0, 1.0, {}, ValueError, r"`conductances` .* got inf at index \(0, 1\).*short"),
    ([[1e-4, -1e-4]], [1.0], 1.0, 1.0, {}, ValueError, r"`conductances` .* got -0\.0001 at index \(0, 1\)"),
    ([[1e-4, np.nan]], [1.0], 1.0, 1.0, {}, ValueError, r"`conductances` .* got nan"),
    ([["a"]], [1.0], 1.0, 1.0, {}, TypeError, r"`conductances` must be an array of floats.*<U1"),
    (GOOD, VOLTAGES, 1.0, 1.0, {"backend": "cuda"}, ValueError, r"`backend` must be one of 'numba', 'cython', 'numpy'; got 'cuda'"),
    (GOOD, VOLTAGES, 1.0, 1.0, {"rtol": 0.0}, ValueError, r"`rtol` .* got 0\.0"),
    (GOOD, VOLTAGES, 1.0, 1.0, {"max_iterations": 0}, ValueError, r"`max_iterations` .* got 0"),
    (GOOD, VOLTAGES, 1.0, 1.0, {"n_threads": -2}, ValueError, r"`n_threads` .* got -2"),
])
def test_solve_rejects_bad_input(conductances, voltages, r_word_line, r_bit_line, options, error, message):
    with pytest.raises(error, match=message):
        solve_crossbar(conductances, voltages, r_word_line, r_bit_line, **options)


def test_ideal_read_rejects_bad_voltages():
    with pytest.raises(ValueError, match=r"`applied_voltages` must be finite"):
        ideal_read(GOOD, [np.nan, 0.0, 0.0])


@pytest.mark.parametrize("row, column, scheme, message", [
    (3, 0, "floating", r"`row` must be an int from 0 to 2; got 3"),
    (0, -1, "floating", r"`column` must be an int from 0 to 3; got -1"),
    (0, 0, "v/4", r"`scheme` must be one of 'floating', 'grounded', 'v/2', 'v/3'; got 'v/4'"),
])
def test_read_single_cell_rejects_bad_input(row, column, scheme, message):
    with pytest.raises(ValueError, match=message):
        read_single_cell(GOOD, row, column, 0.2, 1.0, 1.0, scheme=scheme)


def test_floating_read_needs_line_resistance():
    with pytest.raises(ValueError, match=r"word line 1 is driven at neither end"):
        read_single_cell(GOOD, 0, 0, 0.2, 0.0, 1.0, scheme="floating", backend="numpy")


def test_network_rejects_mixed_open_ends():
    left = np.array([[1.0, np.nan, 1.0], [1.0, 1.0, 1.0]])
    with pytest.raises(ValueError, match=r"`word_line_left` must leave the same line ends open"):
        solve_network(GOOD, 1.0, 1.0, word_line_left=left, word_line_right=np.full(3, np.nan),
                      bit_line_top=np.full(4, np.nan), bit_line_bottom=np.zeros(4))


def test_too_few_iterations_raise():
    rng = np.random.default_rng(30)
    conductances = rng.uniform(1e-5, 1e-2, (32, 32))

    with pytest.raises(ConvergenceError) as caught:
        solve_crossbar(conductances, np.ones(32), 1.0, 1.0, max_iterations=1, backend="numpy")

    message = str(caught.value)
    assert "rtol=1.0e-12" in message
    assert "after 1 iterations" in message
    assert "relative residual" in message
    assert "max_iterations" in message
    assert caught.value.iterations == 1
    assert caught.value.residual > 1e-12
    assert isinstance(caught.value, RuntimeError)


def test_package_exports_solver():
    assert fastxbar.solve_crossbar is solve_crossbar
    assert fastxbar.ConvergenceError is ConvergenceError
