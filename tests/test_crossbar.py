"""Crossbar: backend parity, seeds, threads and input validation."""

import numpy as np
import pytest
from numba import njit

from fastxbar import Crossbar, Variability
from fastxbar.devices import (
    VTEAM,
    CustomDevice,
    ExpStep,
    LinearIonDrift,
    LinearStep,
    LookupTable,
    SoftBounds,
)

from .test_devices import ALL_DEVICES, device_id, pulse_duration

#: float32 results agree with the float64-computed reference to within two float32 ulps.
TOLERANCE = {np.float64: 1e-12, np.float32: 2.5e-7}

NOISY = Variability(resistance_spread=0.3, step_spread=0.2, threshold_spread=0.05,
                    cycle_to_cycle=0.2, stuck_on_fraction=0.05, stuck_off_fraction=0.05)


def run_pulses(device, backend, dtype, variability=NOISY, n_threads=None, n_pulses=20, shape=(19, 23)):
    crossbar = Crossbar(*shape, device, backend=backend, dtype=dtype, seed=42,
                        variability=variability, n_threads=n_threads)
    rng = np.random.default_rng(1)
    duration = pulse_duration(device)
    for _ in range(n_pulses):
        crossbar.apply_pulse(rng.uniform(-1.6, 1.6, shape[0]), rng.uniform(-0.4, 0.4, shape[1]), duration)
    return crossbar


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("backend", ["numba", "cython"])
@pytest.mark.parametrize("device", ALL_DEVICES, ids=device_id)
def test_backend_matches_reference(device, backend, dtype):
    reference = run_pulses(device, "numpy", dtype)
    compiled = run_pulses(device, backend, dtype)
    assert compiled.state.dtype == np.dtype(dtype)
    moved = reference.state != Crossbar(19, 23, device, seed=42, variability=NOISY, dtype=dtype).state
    assert moved.mean() > 0.3
    np.testing.assert_allclose(compiled.state, reference.state, rtol=TOLERANCE[dtype], atol=0)
    np.testing.assert_allclose(compiled.conductances, reference.conductances, rtol=TOLERANCE[dtype], atol=0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("backend", ["numba", "cython"])
@pytest.mark.parametrize("device", [LinearStep(), SoftBounds(), LinearIonDrift(x_initial=0.5), VTEAM()],
                         ids=device_id)
def test_identical_devices_match_reference(device, backend, dtype):
    # Identical noise-free devices take the compiled kernels' vectorised path.
    reference = run_pulses(device, "numpy", dtype, variability=Variability())
    compiled = run_pulses(device, backend, dtype, variability=Variability())
    moved = reference.state != Crossbar(19, 23, device, dtype=dtype).state
    assert moved.mean() > 0.3
    np.testing.assert_allclose(compiled.state, reference.state, rtol=TOLERANCE[dtype], atol=0)


@pytest.mark.parametrize("backend", ["numba", "cython"])
@pytest.mark.parametrize("device", [SoftBounds(), LookupTable.enode(), LinearIonDrift(window="biolek")],
                         ids=device_id)
def test_threads_bit_identical(device, backend):
    # Large enough that the kernels really use two threads (PARALLEL_MIN_DEVICES).
    single_thread = run_pulses(device, backend, np.float64, n_threads=1, shape=(256, 80))
    two_threads = run_pulses(device, backend, np.float64, n_threads=2, shape=(256, 80))
    np.testing.assert_array_equal(single_thread.state, two_threads.state)


def test_seed_reproduces_bit_for_bit():
    first = run_pulses(ExpStep(), "numba", np.float64)
    second = run_pulses(ExpStep(), "numba", np.float64)
    other = Crossbar(19, 23, ExpStep(), seed=43, variability=NOISY)
    np.testing.assert_array_equal(first.state, second.state)
    assert not np.array_equal(first.parameters["dg_up"], other.parameters["dg_up"])


def test_identical_devices_without_variability():
    crossbar = run_pulses(LinearStep(), "numba", np.float64, variability=Variability(), n_pulses=0)
    for values in crossbar.parameters.values():
        assert np.all(values == values[0, 0])
    crossbar.apply_pulse(np.ones(19), np.zeros(23), 1e-6)
    assert np.all(crossbar.state == crossbar.state[0, 0])


def test_stuck_devices_never_move():
    variability = Variability(stuck_on_fraction=0.2, stuck_off_fraction=0.2, cycle_to_cycle=0.3)
    crossbar = Crossbar(30, 30, SoftBounds(g_initial=5e-5), seed=3, variability=variability)
    assert 0.1 < crossbar.stuck_on.mean() < 0.3
    assert 0.1 < crossbar.stuck_off.mean() < 0.3
    before = crossbar.conductances
    np.testing.assert_array_equal(before[crossbar.stuck_on], 1e-4)
    np.testing.assert_array_equal(before[crossbar.stuck_off], 1e-6)
    rng = np.random.default_rng(0)
    for _ in range(50):
        crossbar.apply_pulse(rng.uniform(-2, 2, 30), rng.uniform(-1, 1, 30), 1e-6)
    stuck = crossbar.stuck_on | crossbar.stuck_off
    after = crossbar.conductances
    np.testing.assert_array_equal(after[stuck], before[stuck])
    assert np.mean(after[~stuck] != before[~stuck]) > 0.9


def test_per_device_bounds_ordered():
    variability = Variability(resistance_spread=1.5)
    crossbar = Crossbar(100, 100, LinearIonDrift(r_on=1e3, r_off=2e3), seed=0, variability=variability)
    params = crossbar.parameters
    assert np.all(params["r_on"] < params["r_off"])
    assert np.std(np.log(params["r_off"])) > 1.0


def test_device_voltage_matrix_pulse():
    crossbar = Crossbar(2, 2, LinearStep(), backend="numba")
    crossbar.apply_device_voltages([[1.0, 0.0], [-1.0, 0.5]], 1e-6)
    g_min, step = 1e-6, 1e-6
    np.testing.assert_allclose(crossbar.conductances, [[g_min + step, g_min], [g_min, g_min]])


@njit
def relax_towards_target(state, voltage, duration, params):
    if voltage > params[0]:
        return state + params[1] * duration * (params[2] - state)
    if voltage < -params[0]:
        return state - params[1] * duration * state
    return state


@njit
def state_is_conductance(state, params):
    return state


def make_custom_device():
    return CustomDevice(
        relax_towards_target, state_is_conductance,
        {"v_threshold": 0.5, "rate": 1e5, "g_target": 1e-4},
        state_min=0.0, state_max=1e-4, state_initial=5e-5, kinds={"rate": "step"},
    )


def test_custom_device_matches_python():
    variability = Variability(step_spread=0.3, cycle_to_cycle=0.1, stuck_off_fraction=0.2)
    results = {}
    for backend in ("numba", "numpy"):
        crossbar = Crossbar(6, 7, make_custom_device(), backend=backend, seed=2, variability=variability)
        for k in range(5):
            crossbar.apply_pulse(np.linspace(-1, 1, 6), 0.0, 1e-6)
        results[backend] = crossbar.conductances
    np.testing.assert_allclose(results["numba"], results["numpy"], rtol=1e-12)
    # Row 0 is driven at -1 V: each pulse scales the state by 1 - rate * t (times noise).
    assert np.all(results["numba"][0][results["numba"][0] > 0] < 5e-5)


def test_custom_device_single_pulse_exact():
    crossbar = Crossbar(1, 1, make_custom_device(), backend="numba")
    crossbar.apply_pulse([1.0], [0.0], 1e-6)
    expected = relax_towards_target.py_func(5e-5, 1.0, 1e-6, np.array([0.5, 1e5, 1e-4]))
    assert crossbar.conductances[0, 0] == expected


def test_custom_device_rejects_cython():
    with pytest.raises(ValueError, match="cython"):
        Crossbar(2, 2, make_custom_device(), backend="cython")


def test_custom_device_needs_njit():
    with pytest.raises(TypeError, match="njit"):
        CustomDevice(lambda s, v, t, p: s, state_is_conductance, {"a": 1.0})


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda c: c.apply_pulse(np.ones(3), np.zeros(4), 1e-6), "word_line_voltages"),
        (lambda c: c.apply_pulse(np.ones(2), np.zeros(5), 1e-6), "bit_line_voltages"),
        (lambda c: c.apply_pulse([np.nan, 1.0], np.zeros(4), 1e-6), "finite"),
        (lambda c: c.apply_pulse(np.ones(2), [0, 0, np.inf, 0], 1e-6), "finite"),
        (lambda c: c.apply_pulse(np.ones(2), np.zeros(4), 0.0), "duration"),
        (lambda c: c.apply_pulse(np.ones(2), np.zeros(4), -1e-6), "duration"),
        (lambda c: c.apply_pulse(np.ones(2), np.zeros(4), float("nan")), "duration"),
        (lambda c: c.apply_device_voltages(np.ones((4, 2)), 1e-6), "device_voltages"),
        (lambda c: c.set_state(np.full((2, 4), 1.0)), "outside"),
        (lambda c: c.read(np.ones(3)), "applied_voltages"),
        (lambda c: c.read(np.ones(2), method="spice"), "method"),
    ],
)
def test_rejected_call_leaves_state(call, message):
    crossbar = Crossbar(2, 4, SoftBounds(g_initial=5e-5), seed=0, variability=NOISY)
    before = crossbar.state.copy()
    count = crossbar.pulse_count
    with pytest.raises(ValueError, match=message):
        call(crossbar)
    np.testing.assert_array_equal(crossbar.state, before)
    assert crossbar.pulse_count == count


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"backend": "cuda"}, ValueError, "backend"),
        ({"dtype": np.int32}, TypeError, "dtype"),
        ({"r_word_line": -1.0}, ValueError, "r_word_line"),
        ({"r_bit_line": float("nan")}, ValueError, "r_bit_line"),
        ({"variability": {"cycle_to_cycle": 0.1}}, TypeError, "variability"),
        ({"seed": "abc"}, TypeError, "seed"),
        ({"seed": -1}, TypeError, "seed"),
    ],
)
def test_invalid_crossbar_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        Crossbar(2, 2, SoftBounds(), **kwargs)


def test_invalid_shape_and_device():
    with pytest.raises(ValueError, match="n_word_lines"):
        Crossbar(0, 2, SoftBounds())
    with pytest.raises(TypeError, match="device"):
        Crossbar(2, 2, "SoftBounds")


def test_invalid_variability():
    with pytest.raises(ValueError, match="cycle_to_cycle"):
        Variability(cycle_to_cycle=-0.1)
    with pytest.raises(ValueError, match="stuck_on_fraction"):
        Variability(stuck_on_fraction=1.5)


def test_ideal_read_is_product():
    crossbar = Crossbar(3, 2, VTEAM(), seed=0, variability=Variability(resistance_spread=0.2))
    voltages = np.array([[0.1, -0.2, 0.3], [0.0, 0.05, 0.0]])
    np.testing.assert_allclose(crossbar.read(voltages), voltages @ crossbar.conductances, rtol=1e-15)
    assert crossbar.read(voltages[0]).shape == (2,)


def test_exact_read_uses_solver():
    from fastxbar import solve_crossbar

    crossbar = Crossbar(6, 5, SoftBounds(g_initial=5e-5), seed=0, r_word_line=2.0, r_bit_line=3.0,
                        variability=Variability(resistance_spread=0.5))
    voltages = np.linspace(0.05, 0.3, 6)
    exact = crossbar.read(voltages)
    expected = solve_crossbar(crossbar.conductances, voltages, 2.0, 3.0, backend="numpy").output_currents
    np.testing.assert_allclose(exact, expected, rtol=1e-9)
    ideal = crossbar.read(voltages, method="ideal")
    assert np.all(exact < ideal)


def test_exact_read_without_wires_is_ideal():
    crossbar = Crossbar(4, 3, SoftBounds(g_initial=5e-5), seed=0)
    voltages = np.array([0.1, 0.2, 0.0, -0.1])
    np.testing.assert_allclose(crossbar.read(voltages, method="exact"), voltages @ crossbar.conductances,
                               rtol=1e-15)
