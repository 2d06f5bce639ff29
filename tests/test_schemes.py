"""Parallel write schemes on tiny arrays, against cases worked out by hand."""

import numpy as np
import pytest

from fastxbar import Crossbar, Variability
from fastxbar import _training_reference as reference
from fastxbar.devices import VTEAM, LinearIonDrift, LinearStep
from fastxbar.schemes import four_phase_voltages, half_select_voltage, write_outer, write_signs


def device_voltages(phase):
    rows, columns = phase
    return rows[:, None] - columns[None, :]


def test_four_phase_voltages_by_hand():
    # Inputs (+, -) and columns (+, -): device (i, j) needs sign(row_i * column_j) volts.
    phases = four_phase_voltages([1, -1], [1, -1], 1.0)
    expected = [
        [[1.0, 0.5], [0.5, 0.0]],     # +V: rows with x > 0, columns with sign > 0
        [[0.0, 0.5], [0.5, 1.0]],     # +V: rows with x < 0, columns with sign < 0
        [[-0.5, -1.0], [0.0, -0.5]],  # -V: rows with x > 0, columns with sign < 0
        [[-0.5, 0.0], [-1.0, -0.5]],  # -V: rows with x < 0, columns with sign > 0
    ]
    for phase, matrix in zip(phases, expected):
        np.testing.assert_array_equal(device_voltages(phase), matrix)


def test_each_device_selected_once():
    rng = np.random.default_rng(0)
    rows = rng.choice([-1.0, 0.0, 1.0], 7)
    columns = rng.choice([-1.0, 0.0, 1.0], 5)
    full = [np.abs(device_voltages(phase)) == 2.0 for phase in four_phase_voltages(rows, columns, 2.0)]
    selections = np.sum(full, axis=0)
    np.testing.assert_array_equal(selections, np.outer(rows != 0, columns != 0).astype(int))
    signed = sum(np.where(np.abs(device_voltages(p)) == 2.0, device_voltages(p), 0.0)
                 for p in four_phase_voltages(rows, columns, 2.0))
    np.testing.assert_array_equal(signed, 2.0 * np.outer(rows, columns))


def test_v3_unselected_voltages():
    phase = four_phase_voltages([1, 0], [1, 0], 3.0, scheme="v/3")[0]
    np.testing.assert_allclose(device_voltages(phase), [[3.0, 1.0], [1.0, -1.0]])
    assert half_select_voltage(3.0, "v/3") == 1.0
    assert half_select_voltage(3.0, "v/2") == 1.5


def test_step_device_after_four_phase_write():
    device = LinearStep(g_min=1e-6, g_max=1e-4, dg_min=1e-6, g_initial=5e-5)
    crossbar = Crossbar(2, 2, device, backend="numpy", seed=0)
    write_outer(crossbar, [1, -1], [1, -1], v_write=1.0, duration=1e-6)
    # Half-selected devices see 0.5 V, below the 0.8 V thresholds, so only selected ones move.
    np.testing.assert_allclose(crossbar.conductances, [[5.1e-5, 4.9e-5], [4.9e-5, 5.1e-5]], rtol=1e-12)
    assert crossbar.pulse_count == 4


def test_half_selected_vteam_unmoved():
    crossbar = Crossbar(2, 2, VTEAM(w_initial=1.5e-9), backend="numpy", seed=0)
    before = crossbar.state.copy()
    # 1.2 V writes; half-selected devices see 0.6 V, inside the thresholds of +-0.7 V.
    write_outer(crossbar, [1, 0], [-1, 0], v_write=1.2, duration=1e-6)
    after = crossbar.state
    assert after[0, 0] < before[0, 0]  # -1.2 V moves the state towards ON
    assert after[0, 1] == before[0, 1]
    assert after[1, 0] == before[1, 0]
    assert after[1, 1] == before[1, 1]


def drifted_state(x0, voltage, duration, device):
    """Closed form of the window-free linear ion drift: r_off x - dr x^2 / 2 grows by k V t."""
    dr = device.r_off - device.r_on
    c = device.r_off * x0 - 0.5 * dr * x0**2 + device.drift_rate * voltage * duration
    return (device.r_off - np.sqrt(device.r_off**2 - 2.0 * dr * c)) / dr


def test_half_selected_ion_drift_moves_predicted_amount():
    device = LinearIonDrift(r_on=100.0, r_off=1000.0, x_initial=0.5)
    crossbar = Crossbar(2, 2, device, backend="numpy", seed=0)
    write_outer(crossbar, [1, 0], [1, 0], v_write=1.0, duration=1e-4)
    state = crossbar.state
    assert state[0, 0] == pytest.approx(drifted_state(0.5, 1.0, 1e-4, device), rel=1e-12)
    # Phase 1 half-selects (0, 1) and (1, 0) at +0.5 V; the other phases select nothing.
    assert state[0, 1] == pytest.approx(drifted_state(0.5, 0.5, 1e-4, device), rel=1e-12)
    assert state[1, 0] == pytest.approx(drifted_state(0.5, 0.5, 1e-4, device), rel=1e-12)
    assert state[1, 1] == 0.5
    assert state[0, 1] > 0.5


def test_row_by_row_equals_ideal_without_disturbance():
    device = LinearStep(g_min=1e-6, g_max=1e-4, dg_min=1e-6, g_initial=5e-5)
    signs = np.array([[1, -1, 0], [0, 1, 1], [-1, -1, 1]])
    ideal = Crossbar(3, 3, device, backend="numpy", seed=0)
    rows = Crossbar(3, 3, device, backend="numpy", seed=0)
    write_signs(ideal, signs, 1.0, 1e-6, scheme="ideal")
    write_signs(rows, signs, 1.0, 1e-6, scheme="v/2")
    np.testing.assert_allclose(rows.conductances, ideal.conductances, rtol=1e-12)
    assert rows.pulse_count == 6
    assert ideal.pulse_count == 1


def test_training_reference_write_matches_scheme():
    device = LinearIonDrift(r_off=2000.0, x_initial=0.3)
    variability = Variability(resistance_spread=0.2, cycle_to_cycle=0.1)
    public = Crossbar(3, 2, device, variability=variability, backend="numpy", seed=5)
    kernel = Crossbar(3, 2, device, variability=variability, backend="numpy", seed=5)
    write_outer(public, [1, -1, 0], [-1, 1], 1.0, 1e-5, scheme="v/3")
    device_params = np.ascontiguousarray(np.moveaxis(kernel._params, 0, -1), dtype=np.float64)
    state = kernel._state
    count = reference.write_outer(device.model_id, device.option, state, device_params,
                                  kernel._tables, np.array([1.0, -1.0, 0.0]), np.array([-1.0, 1.0]),
                                  reference.SCHEME_V3, 1.0, 1e-5, 0.1, kernel._base_key, 0, 32)
    assert count == 4
    np.testing.assert_array_equal(state, public.state)


def test_invalid_signs_rejected():
    crossbar = Crossbar(2, 2, LinearStep(), backend="numpy")
    with pytest.raises(ValueError, match="only -1, 0 and 1"):
        write_outer(crossbar, [2, 0], [1, 0], 1.0, 1e-6)
    with pytest.raises(ValueError, match="shape"):
        write_outer(crossbar, [1, 0, 1], [1, 0], 1.0, 1e-6)
    with pytest.raises(ValueError, match="Unknown `scheme`"):
        write_outer(crossbar, [1, 0], [1, 0], 1.0, 1e-6, scheme="v/4")


def test_write_through_ideal_lines_matches_ideal():
    device = LinearIonDrift(r_on=100.0, r_off=1000.0, x_initial=0.5)
    ideal = Crossbar(3, 2, device, backend="numpy", seed=0)
    wired = Crossbar(3, 2, device, backend="numpy", seed=0)
    write_outer(ideal, [1, -1, 1], [1, -1], 1.0, 1e-5)
    write_outer(wired, [1, -1, 1], [1, -1], 1.0, 1e-5, through_lines=True)
    np.testing.assert_allclose(wired.state, ideal.state, rtol=1e-9)


def test_write_through_resistive_lines_weakens_far_devices():
    device = LinearIonDrift(r_on=100.0, r_off=1000.0, x_initial=0.5)
    crossbar = Crossbar(4, 4, device, backend="numpy", seed=0, r_word_line=5.0, r_bit_line=5.0)
    write_outer(crossbar, [1, 1, 1, 1], [1, 1, 1, 1], 1.0, 1e-5, through_lines=True)
    moved = crossbar.state - 0.5
    assert np.all(moved > 0)
    # Word lines are driven from the left and bit lines from the bottom (the last word line),
    # so the device farthest from both drivers, (0, 3), moves least.
    assert moved[0, 3] == moved.min()
