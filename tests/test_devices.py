"""Device models: validation, closed forms and bounds."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastxbar
from fastxbar import Crossbar, Variability
from fastxbar.devices import (
    VTEAM,
    ExpStep,
    LinearIonDrift,
    LinearStep,
    LookupTable,
    SoftBounds,
)

from .naive import linear_ion_drift_charge, median_step_per_bin, soft_bounds_after

BACKENDS = ["numba", "cython", "numpy"]

ALL_DEVICES = [
    LinearStep(),
    SoftBounds(),
    ExpStep(),
    LookupTable.enode(),
    LinearIonDrift(),
    LinearIonDrift(window="joglekar", x_initial=0.5),
    LinearIonDrift(window="biolek", p=2.0, x_initial=0.5),
    LinearIonDrift(window="prodromakis", x_initial=0.5),
    VTEAM(),
    VTEAM(window="biolek", iv="exponential"),
]


def device_id(device):
    return f"{type(device).__name__}-{getattr(device, 'window', '')}"


def pulse_duration(device):
    return 2e-4 if isinstance(device, LinearIonDrift) else 1e-6


@pytest.mark.parametrize("backend", BACKENDS)
def test_linear_step_pulse_count(backend):
    device = LinearStep(g_min=1e-6, g_max=1e-4, dg_min=3e-6)
    crossbar = Crossbar(1, 1, device, backend=backend)
    expected = math.ceil((device.g_max - device.g_min) / device.dg_min)

    up_count = 0
    while crossbar.conductances[0, 0] < device.g_max:
        crossbar.apply_pulse([1.0], [0.0], device.pulse_width)
        up_count += 1
        assert up_count <= expected
    assert up_count == expected

    down_count = 0
    while crossbar.conductances[0, 0] > device.g_min:
        crossbar.apply_pulse([-1.0], [0.0], device.pulse_width)
        down_count += 1
        assert down_count <= expected
    assert down_count == expected


@pytest.mark.parametrize("backend", BACKENDS)
def test_soft_bounds_geometric_approach(backend):
    device = SoftBounds(g_min=1e-6, g_max=1e-4, dg_min=2e-6)
    crossbar = Crossbar(1, 1, device, backend=backend)
    fraction = device.dg_up / (device.g_max - device.g_min)
    for _ in range(25):
        crossbar.apply_pulse([1.0], [0.0], device.pulse_width)
    expected = soft_bounds_after(device.g_min, device.g_min, device.g_max, fraction, 25)
    assert crossbar.conductances[0, 0] == pytest.approx(expected, rel=1e-12)

    g_top = crossbar.conductances[0, 0]
    for _ in range(10):
        crossbar.apply_pulse([-1.0], [0.0], device.pulse_width)
    expected_down = soft_bounds_after(g_top, device.g_min, device.g_max, fraction, 10, potentiate=False)
    assert crossbar.conductances[0, 0] == pytest.approx(expected_down, rel=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("voltage", [-0.69, -0.3, 0.0, 0.35, 0.69])
def test_vteam_subthreshold_unmoved(backend, voltage):
    device = VTEAM(w_initial=1.5e-9)
    crossbar = Crossbar(2, 3, device, backend=backend)
    before = crossbar.state.copy()
    crossbar.apply_pulse(np.full(2, voltage), np.zeros(3), 10.0)
    np.testing.assert_array_equal(crossbar.state, before)


@pytest.mark.parametrize("backend", BACKENDS)
def test_vteam_exact_constant_rate(backend):
    device = VTEAM(w_initial=1.5e-9)
    crossbar = Crossbar(1, 1, device, backend=backend)
    crossbar.apply_pulse([1.4], [0.0], 1e-6)
    rate = device.k_off * (1.4 / device.v_off - 1.0) ** device.alpha_off
    assert crossbar.state[0, 0] == pytest.approx(1.5e-9 + rate * 1e-6, rel=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("voltage", [1.0, -1.0])
def test_ion_drift_moves_by_charge(backend, voltage):
    device = LinearIonDrift(x_initial=0.4)
    crossbar = Crossbar(1, 1, device, backend=backend)
    duration = 1e-4
    crossbar.apply_pulse([voltage], [0.0], duration)
    x_final, charge = linear_ion_drift_charge(
        device.r_on, device.r_off, device.drift_rate, 0.4, voltage, duration
    )
    assert crossbar.state[0, 0] == pytest.approx(x_final, rel=1e-9)
    assert crossbar.state[0, 0] - 0.4 == pytest.approx(device.drift_rate * charge, rel=1e-7)


def test_ion_drift_first_order_step():
    device = LinearIonDrift(x_initial=0.3)
    crossbar = Crossbar(1, 1, device, backend="numpy")
    voltage, duration = 0.5, 1e-8
    crossbar.apply_pulse([voltage], [0.0], duration)
    resistance = device.r_on * 0.3 + device.r_off * 0.7
    predicted = device.drift_rate * voltage * duration / resistance
    assert crossbar.state[0, 0] - 0.3 == pytest.approx(predicted, rel=1e-5)


@pytest.mark.parametrize("window", ["joglekar", "biolek", "prodromakis"])
def test_runge_kutta_substep_error(window):
    # Documented accuracy: 32 sub-steps agree with 4096 to better than 1e-8 in the state.
    device = LinearIonDrift(window=window, x_initial=0.2)
    coarse = Crossbar(1, 1, device, backend="numba", n_substeps=32)
    fine = Crossbar(1, 1, device, backend="numba", n_substeps=4096)
    for crossbar in (coarse, fine):
        crossbar.apply_pulse([1.0], [0.0], 5e-3)
    assert fine.state[0, 0] > 0.2
    assert abs(coarse.state[0, 0] - fine.state[0, 0]) < 1e-8


def test_joglekar_holds_device_at_bound():
    crossbar = Crossbar(1, 1, LinearIonDrift(window="joglekar", x_initial=1.0), backend="numba")
    crossbar.apply_pulse([-2.0], [0.0], 1.0)
    assert crossbar.state[0, 0] == 1.0


def test_biolek_leaves_bound():
    crossbar = Crossbar(1, 1, LinearIonDrift(window="biolek", x_initial=1.0), backend="numba")
    crossbar.apply_pulse([-1.0], [0.0], 1e-3)
    assert crossbar.state[0, 0] < 1.0


def test_lookup_table_median_step():
    device = LookupTable.enode()
    bins = device.g_bins
    n_samples = 2000
    # One column per bin, each device starting at its bin's centre; one pulse, many devices.
    for table, voltage in ((device.dg_increasing, 1.0), (device.dg_decreasing, -1.0)):
        crossbar = Crossbar(n_samples, bins.size, device, backend="numba", seed=5)
        crossbar.set_state(np.broadcast_to(bins, (n_samples, bins.size)))
        crossbar.apply_pulse(np.full(n_samples, voltage), np.zeros(bins.size), device.pulse_width)
        steps = crossbar.conductances - bins
        inside = (crossbar.conductances > device.g_min) & (crossbar.conductances < device.g_max)
        expected = median_step_per_bin(device.cdf, table)
        for k in range(1, bins.size - 1):
            median = np.median(steps[inside[:, k], k])
            assert median == pytest.approx(expected[k], rel=0.15, abs=3e-7)


def test_lookup_table_from_files(tmp_path):
    header = "header line\n"
    (tmp_path / "up.txt").write_text(header + "1e-4, 2e-4\n0.0, 1.0\n1e-6, 2e-6\n3e-6, 4e-6\n")
    (tmp_path / "down.txt").write_text(header + "1e-4, 2e-4\n0.0, 1.0\n-1e-6, -2e-6\n\n-3e-6, -4e-6\n")
    device = LookupTable.from_files(tmp_path / "up.txt", tmp_path / "down.txt")
    assert device.g_min == 1e-4
    assert device.g_max == 2e-4
    np.testing.assert_array_equal(device.dg_decreasing, [[-1e-6, -2e-6], [-3e-6, -4e-6]])


def test_enode_tables_shape():
    device = LookupTable.enode()
    assert device.g_bins.shape == (48,)
    assert device.cdf.shape == (122,)
    assert device.dg_increasing.shape == (122, 48)
    assert device.g_bins[0] == pytest.approx(0.29772e-3)


@pytest.mark.parametrize("device", ALL_DEVICES, ids=device_id)
def test_bounds_after_million_pulses(device):
    variability = Variability(resistance_spread=0.3, step_spread=0.3, threshold_spread=0.05,
                              cycle_to_cycle=0.5, stuck_on_fraction=0.05, stuck_off_fraction=0.05)
    crossbar = Crossbar(32, 32, device, backend="numba", seed=11, variability=variability)
    params = crossbar.parameters
    low = np.minimum(device.off_state(params), device.on_state(params))
    high = np.maximum(device.off_state(params), device.on_state(params))
    rng = np.random.default_rng(0)
    duration = pulse_duration(device)
    # 1000 pulses on 1024 devices: about a million device updates.
    for _ in range(1000):
        crossbar.apply_pulse(rng.uniform(-3, 3, 32), rng.uniform(-1, 1, 32), duration * rng.uniform(0.1, 10))
    state = crossbar.state
    assert np.all(np.isfinite(state))
    assert np.all(state >= low)
    assert np.all(state <= high)
    g = crossbar.conductances
    assert np.all(g > 0)


@settings(max_examples=40, deadline=None)
@given(
    voltage=st.floats(-3.0, 3.0),
    g0_fraction=st.floats(0.0, 1.0),
    width=st.floats(1e-8, 1e-5),
)
def test_step_sign_follows_pulse(voltage, g0_fraction, width):
    device = SoftBounds(g_min=1e-6, g_max=1e-4, dg_min=1e-6)
    g0 = device.g_min + g0_fraction * (device.g_max - device.g_min)
    crossbar = Crossbar(1, 1, SoftBounds(g_min=1e-6, g_max=1e-4, dg_min=1e-6, g_initial=g0), backend="numpy")
    crossbar.apply_pulse([voltage], [0.0], width)
    g = crossbar.conductances[0, 0]
    assert device.g_min <= g <= device.g_max
    if voltage >= device.v_threshold_set:
        assert g >= g0
    elif voltage <= device.v_threshold_reset:
        assert g <= g0
    else:
        assert g == g0


@pytest.mark.parametrize(
    "factory, message",
    [
        (lambda: LinearIonDrift(r_on=2e3, r_off=1e3), "r_on"),
        (lambda: LinearIonDrift(r_on=-1.0), "r_on"),
        (lambda: LinearIonDrift(window="hann"), "window"),
        (lambda: SoftBounds(g_min=2e-4, g_max=1e-4), "g_min"),
        (lambda: LinearStep(dg_min=0.0), "dg_min"),
        (lambda: VTEAM(v_on=0.2), "v_on"),
        (lambda: VTEAM(k_on=1.0), "k_on"),
        (lambda: VTEAM(iv="cubic"), "iv"),
        (lambda: LinearStep(pulse_width=float("nan")), "pulse_width"),
    ],
)
def test_invalid_device_rejected(factory, message):
    with pytest.raises(ValueError, match=message):
        factory()


def test_device_type_error_names_field():
    with pytest.raises(TypeError, match="r_on"):
        LinearIonDrift(r_on="100")


def test_openmp_status_reported():
    assert isinstance(fastxbar.openmp_enabled(), bool)
