"""In-situ training of single-layer networks on crossbars with Unregulated Step Descent (USD).

A :class:`CrossbarNetwork` is a linear classifier with one or several sigmoid outputs. Word line
i carries input x_i as the read voltage ``v_read * x_i``; the last word line is the bias input,
held at ``v_read``. Each weight is a differential pair ``G+ - G-`` on two bit lines (the default)
or one device against a shared reference column held at mid conductance. Output k is

    z_k = gain * sum_i x_i w_ik,     y_k = sigmoid(z_k),

with the normalised weight ``w_ik = (G+_ik - G-_ik) / (g_max - g_min)`` in [-1, 1] for the
device's nominal conductance range.

Update rules (Nair and Dudek, "Practical gradient-descent for memristive crossbars", MEMRISYS
2015, doi:10.1109/MEMRISYS.2015.7378392):

* ``"usd"``: every selected device gets the same programming pulse, of amplitude ``v_write`` and
  width equal to the learning rate in seconds, with the polarity of the negative gradient's sign.
  The conductance change is whatever the device model does with that pulse.
* ``"manhattan"``: the ideal fixed step, ``w -= alpha * sign(gradient)``, on float weights clipped
  to [-1, 1]: USD with perfect devices.
* ``"gd"``: exact floating-point gradient descent on unclipped float weights, the software
  baseline.

``mode="batch"`` sums the gradient over the training set and updates once per iteration;
``mode="online"`` updates after each sample.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from . import _training_reference as reference
from ._backends import check_backend, training_kernels
from ._reference import state_to_conductance
from .crossbar import Crossbar
from .datasets import Dataset

RULES = ("usd", "manhattan", "gd")
MODES = ("batch", "online")
SCHEDULES = ("constant", "inverse", "exponential")
LOSSES = {"squared": reference.LOSS_SQUARED, "cross_entropy": reference.LOSS_CROSS_ENTROPY}
SCHEMES = {"ideal": reference.SCHEME_IDEAL, "v/2": reference.SCHEME_V2, "v/3": reference.SCHEME_V3}
WEIGHT_LAYOUTS = ("differential", "reference")

def _check_choice(name: str, value: object, choices) -> str:
    if value not in choices:
        raise ValueError(f"Unknown `{name}` {value!r}; choose one of {', '.join(map(repr, choices))}.")
    return value


def _check_positive(name: str, value: object, unit: str) -> float:
    if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, bool):
        raise TypeError(f"`{name}` must be a positive number in {unit}; got {value!r}.")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"`{name}` must be a positive finite number in {unit}; got {value!r}.")
    return float(value)


def _conductance_of(crossbar: Crossbar, state: np.ndarray) -> np.ndarray:
    out = np.empty(crossbar.shape, dtype=np.float64)
    state_to_conductance(crossbar.device.model_id, crossbar.device.option,
                         np.broadcast_to(state, crossbar.shape).astype(np.float64),
                         crossbar._params, out, 1)
    return out


def mid_conductance_state(crossbar: Crossbar, n_bisections: int = 60) -> np.ndarray:
    """Return each device's state at the middle of its own conductance range, by bisection."""
    low = np.broadcast_to(crossbar.device.off_state(crossbar.parameters), crossbar.shape).astype(float)
    high = np.broadcast_to(crossbar.device.on_state(crossbar.parameters), crossbar.shape).astype(float)
    g_low, g_high = _conductance_of(crossbar, low), _conductance_of(crossbar, high)
    target = 0.5 * (g_low + g_high)
    for _ in range(n_bisections):
        middle = 0.5 * (low + high)
        below = _conductance_of(crossbar, middle) < target
        low = np.where(below, middle, low)
        high = np.where(below, high, middle)
    return 0.5 * (low + high)


def nominal_conductance_range(crossbar: Crossbar) -> tuple[float, float]:
    """Return (g_min, g_max) of the nominal device, in siemens."""
    device = crossbar.device
    nominal = {name: np.asarray(value) for name, value in zip(device.param_names, device.nominal_params())}
    params = device.nominal_params()[:, None, None]
    values = []
    for state in (device.off_state(nominal), device.on_state(nominal)):
        out = np.empty((1, 1))
        state_to_conductance(device.model_id, device.option, np.full((1, 1), float(state)), params, out, 1)
        values.append(float(out[0, 0]))
    return values[0], values[1]


class CrossbarNetwork:
    """A single-layer sigmoid network whose weights are the conductances of a crossbar.

    Parameters
    ----------
    crossbar : Crossbar
        The array. It needs ``n_inputs + 1`` word lines (the last is the bias) and
        ``2 * n_outputs`` bit lines for differential pairs or ``n_outputs + 1`` with a reference
        column (the last bit line).
    n_outputs : int
        Number of outputs.
    weights : {"differential", "reference"}
        Weight layout: ``G+ - G-`` on two bit lines, or one device against the reference column.
    v_read : float
        Read voltage of an input of 1, in volts; keep it below the write thresholds.
    v_write : float
        Amplitude of a programming pulse across a selected device, in volts.
    gain : float
        Sigmoid gain: z = gain * sum_i x_i w_ik for normalised weights w in [-1, 1].
    initial_state : {"mid", "device"}
        "mid" sets every device to the middle of its conductance range, so all weights start
        near zero; "device" keeps the device model's own initial state.
    """

    def __init__(
        self,
        crossbar: Crossbar,
        n_outputs: int,
        *,
        weights: Literal["differential", "reference"] = "differential",
        v_read: float = 0.1,
        v_write: float = 1.0,
        gain: float = 4.0,
        initial_state: Literal["mid", "device"] = "mid",
    ) -> None:
        if not isinstance(crossbar, Crossbar):
            raise TypeError(f"`crossbar` must be a fastxbar.Crossbar; got {crossbar!r}.")
        if crossbar.device.model_id < 0:
            # TODO: compile CustomDevice updates into the training kernels, as the pulse kernels do.
            raise TypeError(
                "CrossbarNetwork supports the built-in device models of fastxbar.devices; "
                f"got {type(crossbar.device).__name__}. Use a built-in model for training."
            )
        if not isinstance(n_outputs, (int, np.integer)) or n_outputs < 1:
            raise ValueError(f"`n_outputs` must be a positive integer; got {n_outputs!r}.")

        self.weights_layout = _check_choice("weights", weights, WEIGHT_LAYOUTS)
        needed = 2 * n_outputs if weights == "differential" else n_outputs + 1
        if crossbar.n_bit_lines < needed:
            raise ValueError(
                f"{n_outputs} outputs with {weights} weights need {needed} bit lines; the crossbar "
                f"has {crossbar.n_bit_lines}. Use a crossbar with at least {needed} bit lines."
            )
        if crossbar.n_word_lines < 2:
            raise ValueError("The crossbar needs at least 2 word lines: one input and the bias.")

        self.crossbar = crossbar
        self.n_outputs = int(n_outputs)
        self.v_read = _check_positive("v_read", v_read, "volts")
        self.v_write = _check_positive("v_write", v_write, "volts")
        self.gain = _check_positive("gain", gain, "dimensionless units")

        outputs = np.arange(self.n_outputs, dtype=np.int64)
        if weights == "differential":
            self.plus_columns, self.minus_columns = 2 * outputs, 2 * outputs + 1
        else:
            self.plus_columns = outputs
            self.minus_columns = np.full(self.n_outputs, crossbar.n_bit_lines - 1, dtype=np.int64)
        self.g_min, self.g_max = nominal_conductance_range(crossbar)
        if _check_choice("initial_state", initial_state, ("mid", "device")) == "mid":
            crossbar.set_state(mid_conductance_state(crossbar))

    @property
    def n_inputs(self) -> int:
        """Number of inputs, not counting the bias line."""
        return self.crossbar.n_word_lines - 1

    @property
    def output_scale(self) -> float:
        """Factor from the column-current difference (A) to the sigmoid argument z, in 1/A."""
        return self.gain / (self.v_read * (self.g_max - self.g_min))

    def read_voltages(self, x: npt.ArrayLike) -> np.ndarray:
        """Return the word-line voltages of inputs ``x`` (n_samples, n_inputs) with the bias line."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.n_inputs:
            raise ValueError(
                f"Inputs must have shape (n_samples, {self.n_inputs}); got {x.shape}. The crossbar "
                f"has {self.crossbar.n_word_lines} word lines, one of them the bias."
            )
        bias = np.ones((x.shape[0], 1))
        return np.ascontiguousarray(self.v_read * np.hstack([x, bias]))

    @property
    def weights(self) -> np.ndarray:
        """Normalised weights, ndarray of shape (n_inputs + 1, n_outputs); the last row is the bias."""
        conductances = self.crossbar.conductances.astype(np.float64)
        difference = conductances[:, self.plus_columns] - conductances[:, self.minus_columns]
        return difference / (self.g_max - self.g_min)

    def decision_values(self, x: npt.ArrayLike) -> np.ndarray:
        """Return the sigmoid arguments z of shape (n_samples, n_outputs) read from the crossbar."""
        currents = self.crossbar.read(self.read_voltages(x))
        return self.output_scale * (currents[:, self.plus_columns] - currents[:, self.minus_columns])

    def predict(self, x: npt.ArrayLike) -> np.ndarray:
        """Return the class index of each sample."""
        return _predict(self.decision_values(x))

    def error_rate(self, x: npt.ArrayLike, labels: npt.ArrayLike) -> float:
        """Return the fraction of samples misclassified."""
        return float(np.mean(self.predict(x) != np.asarray(labels)))


def _predict(values: np.ndarray) -> np.ndarray:
    if values.shape[1] == 1:
        return (values[:, 0] > 0).astype(np.int64)
    return np.argmax(values, axis=1)


def target_matrix(labels: np.ndarray, n_outputs: int, low: float = 0.0, high: float = 1.0) -> np.ndarray:
    """Return sigmoid targets of shape (n_samples, n_outputs): ``high`` for the true class."""
    if n_outputs == 1:
        return np.where(labels[:, None] == 1, high, low).astype(np.float64)
    targets = np.full((labels.size, n_outputs), low)
    targets[np.arange(labels.size), labels] = high
    return targets


def learning_rates(learning_rate: float, n_steps: int, schedule: str = "constant",
                   decay: float = 0.0) -> np.ndarray:
    """Return the learning rate of each step t = 0 .. n_steps - 1.

    "constant": alpha. "inverse": alpha / (1 + decay t). "exponential": alpha exp(-decay t).
    """
    _check_choice("schedule", schedule, SCHEDULES)
    steps = np.arange(n_steps, dtype=np.float64)
    if schedule == "constant":
        return np.full(n_steps, float(learning_rate))
    if schedule == "inverse":
        return learning_rate / (1.0 + decay * steps)
    return learning_rate * np.exp(-decay * steps)


@dataclass
class TrainingResult:
    """Error curves of one training run.

    ``train_error[t]`` and ``test_error[t]`` are the fractions misclassified after t batch
    iterations or online epochs (index 0 is before training). ``weights`` are the final
    normalised weights, shape (n_inputs + 1, n_outputs).
    """

    train_error: np.ndarray
    test_error: np.ndarray
    weights: np.ndarray
    info: dict = field(default_factory=dict)


def train(
    network: CrossbarNetwork,
    dataset: Dataset,
    *,
    rule: Literal["usd", "manhattan", "gd"] = "usd",
    mode: Literal["batch", "online"] = "batch",
    n_iterations: int = 100,
    learning_rate: float = 1e-3,
    schedule: Literal["constant", "inverse", "exponential"] = "constant",
    decay: float = 0.0,
    scheme: Literal["ideal", "v/2", "v/3"] | None = None,
    loss: Literal["squared", "cross_entropy"] = "squared",
    targets: tuple[float, float] = (0.0, 1.0),
    shuffle_seed: int | np.random.SeedSequence | None = None,
    backend: Literal["numba", "cython", "numpy"] | None = None,
) -> TrainingResult:
    """Train ``network`` on ``dataset`` and return its error curves.

    Parameters
    ----------
    rule : {"usd", "manhattan", "gd"}
        "usd" programs the crossbar in place. "manhattan" and "gd" train float weights that
        start from the network's current weights and leave the crossbar unchanged.
    mode : {"batch", "online"}
        One update per pass over the training set, or one per sample.
    n_iterations : int
        Batch iterations, or online epochs.
    learning_rate : float
        USD: pulse width in seconds. Manhattan: step of the normalised weight. GD: step size on
        the mean gradient of the normalised weights.
    schedule, decay : str, float
        Annealing of the learning rate per iteration (batch) or per epoch (online); see
        :func:`learning_rates`. ``decay`` is per iteration, dimensionless.
    scheme : {"ideal", "v/2", "v/3"}, optional
        Write scheme of USD. Default: "ideal" for batch updates, whose sign matrix is not rank
        one, and "v/2" (the four-phase scheme) for online updates. Batch updates with "v/2" or
        "v/3" are written row by row (see :func:`fastxbar.schemes.write_signs`).
    loss : {"squared", "cross_entropy"}
        Cost whose gradient sign drives the updates.
    targets : (float, float)
        Sigmoid targets of the wrong and the right class.
    shuffle_seed : int or SeedSequence, optional
        Online mode visits samples in a fresh random order each epoch drawn from this seed;
        None keeps the data set's order.
    backend : {"numba", "cython", "numpy"}, optional
        Kernels for USD; default the crossbar's backend.
    """
    _check_choice("rule", rule, RULES)
    _check_choice("mode", mode, MODES)
    _check_choice("loss", loss, LOSSES)
    if not isinstance(n_iterations, (int, np.integer)) or n_iterations < 0:
        raise ValueError(f"`n_iterations` must be a non-negative integer; got {n_iterations!r}.")
    _check_positive("learning_rate", learning_rate, "seconds (USD) or weight units")
    if dataset.n_outputs != network.n_outputs or dataset.n_features != network.n_inputs:
        raise ValueError(
            f"The data set has {dataset.n_features} features and needs {dataset.n_outputs} "
            f"outputs; the network has {network.n_inputs} inputs and {network.n_outputs} outputs."
        )
    rates = learning_rates(learning_rate, int(n_iterations), schedule, decay)
    problem = _Problem(network, dataset, targets, LOSSES[loss])
    if rule == "usd":
        scheme = scheme or ("ideal" if mode == "batch" else "v/2")
        _check_choice("scheme", scheme, SCHEMES)
        backend = check_backend(backend or network.crossbar.backend)
        if mode == "batch":
            return _usd_batch(problem, rates, SCHEMES[scheme], backend)
        return _usd_online(problem, rates, SCHEMES[scheme], backend, shuffle_seed)
    return _float_rule(problem, rule, mode, rates, shuffle_seed)


class _Problem:
    """The arrays every training loop needs, converted once."""

    def __init__(self, network: CrossbarNetwork, dataset: Dataset, targets, loss: int) -> None:
        self.network = network
        self.dataset = dataset
        self.loss = loss
        self.inputs = network.read_voltages(dataset.x_train)
        self.test_inputs = network.read_voltages(dataset.x_test)
        self.labels = np.ascontiguousarray(dataset.y_train, dtype=np.int64)
        self.test_labels = np.ascontiguousarray(dataset.y_test, dtype=np.int64)
        self.targets = target_matrix(self.labels, network.n_outputs, *targets)
        self._device_params = None

    def kernel_arguments(self):
        """Return the device arguments shared by both USD kernels."""
        crossbar = self.network.crossbar
        if self._device_params is None:
            # One copy per training run: the kernels read each device's parameters contiguously.
            self._device_params = np.ascontiguousarray(np.moveaxis(crossbar._params, 0, -1),
                                                       dtype=np.float64)
        return (crossbar.device.model_id, crossbar.device.option, crossbar._state,
                self._device_params, *crossbar._tables)

    def errors(self):
        network = self.network
        return (network.error_rate(self.dataset.x_train, self.labels),
                network.error_rate(self.dataset.x_test, self.test_labels))


def _usd_batch(problem: _Problem, rates, scheme: int, backend: str) -> TrainingResult:
    network, crossbar = problem.network, problem.network.crossbar
    kernels = training_kernels(backend)
    n_steps = rates.size
    train_counts = np.zeros(n_steps + 1, dtype=np.int64)
    test_counts = np.zeros(n_steps + 1, dtype=np.int64)
    crossbar.pulse_count = int(kernels.usd_batch_run(
        *problem.kernel_arguments(), problem.inputs, problem.targets, problem.labels,
        problem.test_inputs, problem.test_labels, network.plus_columns, network.minus_columns,
        int(network.weights_layout == "differential"), network.output_scale, problem.loss, scheme,
        network.v_write, crossbar.device.potentiation_polarity, np.ascontiguousarray(rates),
        crossbar.variability.cycle_to_cycle, np.uint64(crossbar._base_key), crossbar.pulse_count,
        crossbar.n_substeps, train_counts, test_counts, crossbar.n_threads,
    ))
    return TrainingResult(train_counts / problem.labels.size, test_counts / problem.test_labels.size,
                          network.weights, {"rule": "usd", "mode": "batch"})


def _usd_online(problem: _Problem, rates, scheme: int, backend: str, shuffle_seed) -> TrainingResult:
    network, crossbar = problem.network, problem.network.crossbar
    kernels = training_kernels(backend)
    rng = None if shuffle_seed is None else np.random.default_rng(shuffle_seed)
    train_error, test_error = [0.0] * (rates.size + 1), [0.0] * (rates.size + 1)
    train_error[0], test_error[0] = problem.errors()
    for epoch, rate in enumerate(rates):
        order = np.arange(problem.labels.size) if rng is None else rng.permutation(problem.labels.size)
        crossbar.pulse_count = int(kernels.usd_online_epoch(
            *problem.kernel_arguments(), np.ascontiguousarray(problem.inputs[order]),
            np.ascontiguousarray(problem.targets[order]), network.plus_columns,
            network.minus_columns, int(network.weights_layout == "differential"),
            network.output_scale, problem.loss, scheme, network.v_write,
            crossbar.device.potentiation_polarity, float(rate), crossbar.variability.cycle_to_cycle,
            np.uint64(crossbar._base_key), crossbar.pulse_count, crossbar.n_substeps,
            crossbar.n_threads,
        ))
        train_error[epoch + 1], test_error[epoch + 1] = problem.errors()
    return TrainingResult(np.array(train_error), np.array(test_error), network.weights,
                          {"rule": "usd", "mode": "online"})


def _float_rule(problem: _Problem, rule: str, mode: str, rates, shuffle_seed) -> TrainingResult:
    """Train float weights with the Manhattan rule or gradient descent."""
    network = problem.network
    weights = network.weights.copy()
    x_train = problem.inputs / network.v_read
    x_test = problem.test_inputs / network.v_read
    rng = None if shuffle_seed is None else np.random.default_rng(shuffle_seed)

    def record():
        return (np.mean(_predict(x_train @ weights) != problem.labels),
                np.mean(_predict(x_test @ weights) != problem.test_labels))

    def update(x, targets, rate):
        z = network.gain * (x @ weights)
        deltas = reference._deltas(z, targets, problem.loss)
        gradient = network.gain * x.T @ deltas / x.shape[0]
        if rule == "gd":
            weights[...] -= rate * gradient
        else:
            weights[...] = np.clip(weights - rate * np.sign(gradient), -1.0, 1.0)

    curves = [record()]
    for rate in rates:
        if mode == "batch":
            update(x_train, problem.targets, rate)
        else:
            order = np.arange(x_train.shape[0]) if rng is None else rng.permutation(x_train.shape[0])
            for n in order:
                update(x_train[n:n + 1], problem.targets[n:n + 1], rate)
        curves.append(record())
    train_error, test_error = (np.array(values) for values in zip(*curves))
    return TrainingResult(train_error, test_error, weights, {"rule": rule, "mode": mode})
