"""Single-cell reads and general line-end conditions: read_single_cell and solve_network."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastxbar.solver import read_single_cell, solve_crossbar, solve_network
from .solver_naive import naive_network



def test_grounded_read_ideal_lines_senses_cell(backend):
    rng = np.random.default_rng(20)
    conductances = rng.uniform(1e-5, 1e-3, (6, 7))

    read = read_single_cell(conductances, 2, 4, 0.3, 0.0, 0.0, scheme="grounded", backend=backend)

    assert read.sensed_current == 0.3 * conductances[2, 4]
    assert read.cell_current == 0.3 * conductances[2, 4]
    assert read.sneak_current == 0.0


def test_half_bias_read_ideal_lines(backend):
    rng = np.random.default_rng(21)
    conductances = rng.uniform(1e-5, 1e-3, (5, 4))

    read = read_single_cell(conductances, 1, 3, 0.4, 0.0, 0.0, scheme="v/2", backend=backend)

    # Half-selected cells of the sensed bit line are biased at 0.2 V, the rest of the array at 0 V.
    expected = 0.4 * conductances[1, 3] + 0.2 * (conductances[:, 3].sum() - conductances[1, 3])
    np.testing.assert_allclose(read.sensed_current, expected, rtol=1e-14)
    np.testing.assert_allclose(read.cell_current, 0.4 * conductances[1, 3], rtol=1e-14)


def test_floating_read_two_by_two_sneak_path(backend):
    conductances = np.array([[1e-6, 1e-3], [2e-3, 5e-4]])

    read = read_single_cell(conductances, 0, 0, 1.0, 1e-4, 1e-4, scheme="floating", backend=backend)

    # With near-ideal lines the sneak path runs through the three other cells in series; the
    # 1e-4 ohm segments change the currents by about 1e-6 relative.
    sneak = 1 / (1 / conductances[0, 1] + 1 / conductances[1, 1] + 1 / conductances[1, 0])
    np.testing.assert_allclose(read.cell_current, conductances[0, 0], rtol=1e-5)
    np.testing.assert_allclose(read.sensed_current, conductances[0, 0] + sneak, rtol=1e-5)


def test_floating_read_sneak_exceeds_cell(backend):
    conductances = np.full((8, 8), 1e-3)
    conductances[3, 5] = 1e-6

    read = read_single_cell(conductances, 3, 5, 0.5, 1.0, 1.0, scheme="floating", backend=backend)

    assert read.cell_current > 0
    assert read.sensed_current > 10 * read.cell_current
    assert read.sneak_current > 0


@pytest.mark.parametrize("scheme", ["floating", "grounded", "v/2", "v/3"])
def test_read_schemes_match_naive_network(backend, scheme):
    rng = np.random.default_rng(22)
    conductances = rng.uniform(1e-4, 1e-2, (5, 6))
    unselected_word, unselected_bit = {"floating": (np.nan, np.nan), "grounded": (0.0, 0.0),
                                       "v/2": (0.5, 0.5), "v/3": (1 / 3, 2 / 3)}[scheme]
    left = np.full(5, unselected_word)
    left[2] = 1.0
    bottom = np.full(6, unselected_bit)
    bottom[1] = 0.0
    word, bit, currents = naive_network(conductances, 2.0, 3.0, left, np.full(5, np.nan),
                                        np.full(6, np.nan), bottom)

    read = read_single_cell(conductances, 2, 1, 1.0, 2.0, 3.0, scheme=scheme, backend=backend)

    np.testing.assert_allclose(read.sensed_current, currents[1], rtol=1e-9)
    np.testing.assert_allclose(read.cell_current, conductances[2, 1] * (word[2, 1] - bit[2, 1]),
                               rtol=1e-9)


def test_network_both_ends_driven(backend):
    rng = np.random.default_rng(23)
    conductances = rng.uniform(1e-3, 1e-1, (4, 6))
    left = rng.uniform(0.0, 1.0, 4)
    right = rng.uniform(0.0, 1.0, 4)
    top = np.array([0.1, np.nan, 0.0, np.nan, 0.2, 0.0])
    bottom = np.array([0.0, 0.0, np.nan, 0.3, 0.0, 0.1])

    solution = solve_network(conductances, 1.0, 0.5, word_line_left=left, word_line_right=right,
                             bit_line_top=top, bit_line_bottom=bottom, backend=backend)

    word, bit, currents = naive_network(conductances, 1.0, 0.5, left, right, top, bottom)
    np.testing.assert_allclose(solution.word_line_voltages, word, atol=1e-11)
    np.testing.assert_allclose(solution.bit_line_voltages, bit, atol=1e-11)
    np.testing.assert_allclose(solution.output_currents, currents, atol=1e-11)


def test_network_isolated_line_is_zero(backend):
    conductances = np.full((4, 5), 1e-3)
    conductances[1, :] = 0.0
    left = np.ones(4)
    left[1] = np.nan

    solution = solve_network(conductances, 1.0, 1.0, word_line_left=left,
                             word_line_right=np.full(4, np.nan), bit_line_top=np.full(5, np.nan),
                             bit_line_bottom=np.zeros(5), backend=backend)

    np.testing.assert_allclose(solution.word_line_voltages[1], np.zeros(5), atol=1e-12)
    assert np.isfinite(solution.bit_line_voltages).all()


def test_network_batch_matches_crossbar(backend):
    rng = np.random.default_rng(24)
    conductances = rng.uniform(1e-5, 1e-3, (7, 9))
    voltages = rng.uniform(0.0, 1.0, (2, 7))

    solution = solve_network(conductances, 1.0, 1.0, word_line_left=voltages,
                             word_line_right=np.full(7, np.nan), bit_line_top=np.full(9, np.nan),
                             bit_line_bottom=np.zeros(9), backend=backend)

    expected = solve_crossbar(conductances, voltages, 1.0, 1.0, backend=backend)
    assert solution.output_currents.shape == (2, 9)
    np.testing.assert_allclose(solution.output_currents, expected.output_currents, rtol=1e-12)


@settings(max_examples=25, deadline=None)
@given(
    n_word_lines=st.integers(1, 9),
    n_bit_lines=st.integers(1, 9),
    r_word_line=st.floats(0.01, 100.0),
    r_bit_line=st.floats(0.01, 100.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_read_obeys_kirchhoff_and_bounds(n_word_lines, n_bit_lines, r_word_line, r_bit_line, seed):
    rng = np.random.default_rng(seed)
    conductances = np.exp(rng.uniform(np.log(1e-6), np.log(1.0), (n_word_lines, n_bit_lines)))
    voltages = rng.uniform(0.0, 1.0, n_word_lines)

    solution = solve_crossbar(conductances, voltages, r_word_line, r_bit_line, backend="numba",
                              return_node_voltages=True)

    # Every node lies between ground and the highest source (maximum principle).
    for nodes in (solution.word_line_voltages, solution.bit_line_voltages):
        assert nodes.min() >= -1e-9 * voltages.max()
        assert nodes.max() <= voltages.max() * (1 + 1e-9)
    # The current drawn from the sources all reaches the virtual grounds.
    drawn = ((voltages - solution.word_line_voltages[:, 0]) / r_word_line).sum()
    np.testing.assert_allclose(solution.output_currents.sum(), drawn, rtol=1e-8, atol=1e-15)
