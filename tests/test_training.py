"""Training: compiled epochs against the NumPy reference, seeds, rules and the 20-input task of Nair and Dudek (2015)."""

import numpy as np
import pytest

from fastxbar import Crossbar, Variability
from fastxbar.datasets import linear_task, sklearn_task
from fastxbar.devices import VTEAM, LinearIonDrift, LookupTable, SoftBounds
from fastxbar.training import CrossbarNetwork, learning_rates, target_matrix, train

#: Relative state tolerance: float32 states are rounded once per pulse, as in the reference.
TOLERANCE = {np.float64: 1e-9, np.float32: 1e-5}

NOISY = Variability(resistance_spread=0.3, step_spread=0.3, cycle_to_cycle=0.1)

DEVICES = {
    "ion-drift": (LinearIonDrift(r_off=2000.0, x_initial=0.5), 1e-5),
    "vteam": (VTEAM(w_initial=1.5e-9), 1e-6),
    "soft-bounds": (SoftBounds(g_initial=5e-5), 1e-6),
    "enode": (LookupTable.enode(), 1e-6),
}

CASES = [("batch", "ideal"), ("batch", "v/2"), ("online", "v/2"), ("online", "v/3"),
         ("online", "ideal")]


@pytest.fixture(scope="module")
def tiny_task():
    return linear_task(n_features=4, n_samples=30, n_test=10, seed=3)


def trained(device, learning_rate, backend, dtype, task, mode, scheme, seed=7, n_iterations=3):
    crossbar = Crossbar(task.n_features + 1, 2, device, variability=NOISY, backend=backend,
                        dtype=dtype, seed=seed, n_threads=1)
    network = CrossbarNetwork(crossbar, 1, gain=8.0, v_write=1.2)
    result = train(network, task, mode=mode, scheme=scheme, learning_rate=learning_rate,
                   n_iterations=n_iterations, shuffle_seed=1)
    return crossbar, result


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("backend", ["numba", "cython"])
@pytest.mark.parametrize("mode,scheme", CASES)
@pytest.mark.parametrize("device_name", sorted(DEVICES))
def test_compiled_matches_reference(device_name, mode, scheme, backend, dtype, tiny_task):
    device, learning_rate = DEVICES[device_name]
    expected, expected_result = trained(device, learning_rate, "numpy", dtype, tiny_task, mode, scheme)
    actual, actual_result = trained(device, learning_rate, backend, dtype, tiny_task, mode, scheme)
    assert actual.state.dtype == dtype
    np.testing.assert_allclose(actual.state, expected.state, rtol=TOLERANCE[dtype], atol=0)
    np.testing.assert_array_equal(actual_result.train_error, expected_result.train_error)
    np.testing.assert_array_equal(actual_result.test_error, expected_result.test_error)
    assert actual.pulse_count == expected.pulse_count


@pytest.mark.parametrize("backend", ["numpy", "numba", "cython"])
def test_seed_reproduces_bit_for_bit(backend, tiny_task):
    device, learning_rate = DEVICES["ion-drift"]
    first, first_result = trained(device, learning_rate, backend, np.float64, tiny_task, "online", "v/2")
    second, second_result = trained(device, learning_rate, backend, np.float64, tiny_task, "online", "v/2")
    other, _ = trained(device, learning_rate, backend, np.float64, tiny_task, "online", "v/2", seed=8)
    np.testing.assert_array_equal(first.state, second.state)
    np.testing.assert_array_equal(first_result.train_error, second_result.train_error)
    assert not np.array_equal(first.state, other.state)


def test_pulse_counts_per_update(tiny_task):
    device, learning_rate = DEVICES["soft-bounds"]
    batch, _ = trained(device, learning_rate, "cython", np.float64, tiny_task, "batch", "ideal")
    online, _ = trained(device, learning_rate, "cython", np.float64, tiny_task, "online", "v/2")
    assert batch.pulse_count == 3  # one per-device pulse per iteration
    assert online.pulse_count == 3 * 30 * 4  # four phase keys per sample


@pytest.fixture(scope="module")
def paper_task():
    return linear_task(seed=11)


def paper_network(gratio=10.0, seed=0):
    device = LinearIonDrift(r_on=100.0, r_off=100.0 * gratio, x_initial=0.5)
    crossbar = Crossbar(21, 2, device, variability=Variability(resistance_spread=0.3, step_spread=0.3),
                        backend="cython", seed=seed, n_threads=1)
    return CrossbarNetwork(crossbar, 1, gain=16.0, initial_state="device")


def test_batch_usd_near_gd_on_paper_task(paper_task):
    gd = train(paper_network(), paper_task, rule="gd", learning_rate=2.0, n_iterations=200)
    usd = train(paper_network(), paper_task, rule="usd", learning_rate=3e-4, n_iterations=200)
    manhattan = train(paper_network(), paper_task, rule="manhattan", learning_rate=0.01,
                      n_iterations=200)
    assert gd.train_error[-1] < 0.07
    assert usd.train_error[-1] < gd.train_error[-1] + 0.03
    assert usd.test_error[-1] < gd.test_error[-1] + 0.04
    assert manhattan.test_error[-1] < gd.test_error[-1] + 0.04


def test_online_usd_with_binary_targets_plateaus(paper_task):
    online = train(paper_network(), paper_task, mode="online", scheme="ideal", learning_rate=1e-5,
                   n_iterations=10, shuffle_seed=0)
    batch = train(paper_network(), paper_task, learning_rate=3e-4, n_iterations=200)
    # Every sample pulses every device, so the rule behaves like a Hebbian one.
    assert online.train_error[-1] > batch.train_error[-1] + 0.05


def test_rules_leave_crossbar_unchanged_except_usd(tiny_task):
    network = CrossbarNetwork(Crossbar(5, 2, SoftBounds(), backend="numpy", seed=0), 1)
    before = network.crossbar.state.copy()
    train(network, tiny_task, rule="gd", learning_rate=1.0, n_iterations=3)
    train(network, tiny_task, rule="manhattan", mode="online", learning_rate=0.1, n_iterations=2)
    np.testing.assert_array_equal(network.crossbar.state, before)
    train(network, tiny_task, rule="usd", learning_rate=1e-6, n_iterations=1)
    assert not np.array_equal(network.crossbar.state, before)


def test_reference_column_multiclass_learns():
    task = sklearn_task("iris", seed=0)
    crossbar = Crossbar(5, 4, SoftBounds(dg_min=2e-6), backend="cython", seed=0, n_threads=1)
    network = CrossbarNetwork(crossbar, 3, weights="reference", gain=8.0)
    np.testing.assert_allclose(network.weights, 0.0, atol=1e-12)
    result = train(network, task, learning_rate=1e-6, n_iterations=60)
    assert result.test_error[-1] < 0.2
    assert result.test_error[-1] < result.test_error[0]


def test_network_rejects_too_few_bit_lines():
    crossbar = Crossbar(5, 3, SoftBounds(), backend="numpy")
    with pytest.raises(ValueError, match="need 4 bit lines; the crossbar has 3"):
        CrossbarNetwork(crossbar, 2)
    CrossbarNetwork(crossbar, 2, weights="reference")


def test_network_rejects_wrong_input_width():
    network = CrossbarNetwork(Crossbar(5, 2, SoftBounds(), backend="numpy"), 1)
    with pytest.raises(ValueError, match=r"shape \(n_samples, 4\)"):
        network.decision_values(np.zeros((3, 5)))


def test_train_rejects_bad_arguments(tiny_task):
    network = CrossbarNetwork(Crossbar(5, 2, SoftBounds(), backend="numpy"), 1)
    with pytest.raises(ValueError, match="learning_rate"):
        train(network, tiny_task, learning_rate=-1.0)
    with pytest.raises(ValueError, match="Unknown `rule`"):
        train(network, tiny_task, rule="adam")
    with pytest.raises(ValueError, match="Unknown `scheme`"):
        train(network, tiny_task, scheme="v/4")


def test_learning_rate_schedules():
    np.testing.assert_allclose(learning_rates(1.0, 3), [1.0, 1.0, 1.0])
    np.testing.assert_allclose(learning_rates(1.0, 3, "inverse", 1.0), [1.0, 0.5, 1.0 / 3.0])
    np.testing.assert_allclose(learning_rates(1.0, 2, "exponential", 1.0), [1.0, np.exp(-1.0)])


def test_target_matrix():
    labels = np.array([0, 2, 1])
    np.testing.assert_array_equal(target_matrix(labels, 3, 0.1, 0.9),
                                  [[0.9, 0.1, 0.1], [0.1, 0.1, 0.9], [0.1, 0.9, 0.1]])
    np.testing.assert_array_equal(target_matrix(np.array([0, 1]), 1), [[0.0], [1.0]])
