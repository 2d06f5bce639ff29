"""NumPy reference kernels of in-situ training: one online epoch and a whole batch-USD run.

The compiled twins live in ``_training_numba`` and ``_training_kernels.pxi`` and share these
signatures and output contracts: arrays in, ``state`` updated in place, nothing validated, the
next pulse counter returned. Every write phase is one pulse, so it takes the key
``pulse_key(base_key, pulse_count)`` and advances the counter by one, and every device draws its
noise from that key and its index ``i * n_bit_lines + j`` exactly as ``Crossbar.apply_pulse`` does.

Arguments shared by the kernels:

model, option : int
    ``device.model_id`` and ``device.option``.
state : ndarray of shape (n_word_lines, n_bit_lines), float32 or float64
    Device states, updated in place.
device_params : ndarray of shape (n_word_lines, n_bit_lines, n_params), float64, C-contiguous
    Per-device parameters, the last axis in ``device.param_names`` order.
bins, cdf, table_up, table_down : ndarray, float64
    The lookup tables of ``device.tables()``.
inputs : ndarray of shape (n_samples, n_word_lines), float64
    Read voltage of each word line per sample, in volts (the bias line included).
targets : ndarray of shape (n_samples, n_outputs), float64
    Target outputs in [0, 1].
labels : ndarray of shape (n_samples,), int64
    Class index per sample, used to count classification errors.
plus_columns, minus_columns : ndarray of shape (n_outputs,), int64
    Bit line of the positive and of the negative (or reference) device of each output.
train_minus : int
    1 when the negative columns are trained (differential pairs), 0 for a fixed reference column.
output_scale : float
    z = output_scale * (I_plus - I_minus) is the sigmoid's argument, in 1/A.
loss : int
    0 for the squared error, 1 for cross-entropy.
scheme : int
    0: each device gets its own full write voltage (ideal), 1: four-phase V/2, 2: four-phase V/3.
v_write : float
    Write voltage across a selected device, in volts (positive; the device's potentiation
    polarity is applied by the kernel through ``polarity``).
polarity : int
    ``device.potentiation_polarity``.
noise_std : float
    Cycle-to-cycle relative step noise.
"""

from __future__ import annotations

import numpy as np

from . import _rng
from ._reference import apply_pulse, state_to_conductance

LOSS_SQUARED = 0
LOSS_CROSS_ENTROPY = 1

SCHEME_IDEAL = 0
SCHEME_V2 = 1
SCHEME_V3 = 2

#: Voltage on unselected word lines and bit lines, as fractions of p * v_write for a phase of
#: polarity p (selected word lines sit at +p v/2, selected bit lines at -p v/2).
UNSELECTED_FRACTIONS = {SCHEME_V2: (0.0, 0.0), SCHEME_V3: (-1.0 / 6.0, 1.0 / 6.0)}

#: Order of the four phases of one parallel write: (device voltage sign, selected input sign,
#: selected column sign). Phase k selects word lines whose input has the given sign and bit
#: lines whose requested voltage sign per unit input sign is the given column sign.
PHASES = ((1, 1, 1), (1, -1, -1), (-1, 1, -1), (-1, -1, 1))


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _conductances(model, option, state, device_params):
    out = np.empty(state.shape, dtype=np.float64)
    params = np.moveaxis(device_params, -1, 0)
    state_to_conductance(model, option, state, params, out, 1)
    return out


def _outputs(conductances, voltages, plus_columns, minus_columns, output_scale):
    currents = voltages @ conductances
    return output_scale * (currents[..., plus_columns] - currents[..., minus_columns])


def _pulse(model, option, state, device_params, tables, device_voltages, duration, noise_std,
           base_key, pulse_count, n_substeps):
    """Apply one pulse with per-device voltages; return the next pulse counter."""
    key = _rng.pulse_key(base_key, pulse_count)
    params = np.moveaxis(device_params, -1, 0)
    rows = np.zeros(state.shape[0])
    columns = np.zeros(state.shape[1])
    apply_pulse(model, option, state, params, rows, columns, device_voltages, duration, noise_std,
                key, n_substeps, *tables, 1)
    return pulse_count + 1


def phase_voltages(scheme, polarity, row_selected, column_selected, v_write):
    """Return the (word line, bit line) voltages of one phase of a four-phase write."""
    unselected_row, unselected_column = UNSELECTED_FRACTIONS[scheme]
    rows = np.where(row_selected, 0.5, unselected_row) * polarity * v_write
    columns = np.where(column_selected, -0.5, unselected_column) * polarity * v_write
    return rows, columns


def write_outer(model, option, state, device_params, tables, row_signs, column_signs, scheme,
                v_write, duration, noise_std, base_key, pulse_count, n_substeps):
    """Write the rank-one sign pattern ``row_signs[i] * column_signs[j]`` into the array.

    The ideal scheme is one pulse of ``v_write * row_signs[i] * column_signs[j]`` per device.
    The four-phase schemes run the phases of ``PHASES`` in order, each on the state left by the
    one before. A phase that selects no word line or no bit line is skipped, because it would
    only disturb half-selected devices, but it still uses up its pulse key. Returns the next
    pulse counter.
    """
    if scheme == SCHEME_IDEAL:
        voltages = v_write * np.outer(row_signs, column_signs)
        return _pulse(model, option, state, device_params, tables, voltages, duration, noise_std,
                      base_key, pulse_count, n_substeps)
    for polarity, row_sign, column_sign in PHASES:
        selected_rows, selected_columns = row_signs == row_sign, column_signs == column_sign
        if not (selected_rows.any() and selected_columns.any()):
            pulse_count += 1
            continue
        rows, columns = phase_voltages(scheme, polarity, selected_rows, selected_columns, v_write)
        voltages = rows[:, None] - columns[None, :]
        pulse_count = _pulse(model, option, state, device_params, tables, voltages, duration,
                             noise_std, base_key, pulse_count, n_substeps)
    return pulse_count


def write_matrix(model, option, state, device_params, tables, signs, scheme, v_write, duration,
                 noise_std, base_key, pulse_count, n_substeps):
    """Write an arbitrary sign matrix; a batch update's signs are not rank one.

    The ideal scheme gives every device its own voltage in one pulse. The V/2 and V/3 schemes
    go row by row: for word line i, one phase of positive polarity selects the bit lines with
    ``signs[i, j] > 0`` and one of negative polarity those with ``signs[i, j] < 0``, so each
    iteration takes ``2 * n_word_lines`` pulse keys and half-selects the other devices each time.
    A phase without selected bit lines is skipped. Returns the next pulse counter.
    """
    if scheme == SCHEME_IDEAL:
        return _pulse(model, option, state, device_params, tables, v_write * signs, duration,
                      noise_std, base_key, pulse_count, n_substeps)
    n_rows = state.shape[0]
    for i in range(n_rows):
        row_selected = np.arange(n_rows) == i
        for polarity in (1, -1):
            if not np.any(signs[i] == polarity):
                pulse_count += 1
                continue
            rows, columns = phase_voltages(scheme, polarity, row_selected, signs[i] == polarity,
                                           v_write)
            voltages = rows[:, None] - columns[None, :]
            pulse_count = _pulse(model, option, state, device_params, tables, voltages, duration,
                                 noise_std, base_key, pulse_count, n_substeps)
    return pulse_count


def _column_signs(error_signs, plus_columns, minus_columns, train_minus, n_columns, polarity):
    """Return the requested device-voltage sign per bit line for a weight change of -error."""
    signs = np.zeros(n_columns)
    signs[plus_columns] = -error_signs * polarity
    if train_minus:
        signs[minus_columns] = error_signs * polarity
    return signs


def _deltas(outputs, targets, loss):
    y = _sigmoid(outputs)
    if loss == LOSS_SQUARED:
        return (y - targets) * y * (1.0 - y)
    return y - targets


def count_errors(outputs, labels):
    """Return how many samples the outputs misclassify (sign for one output, argmax otherwise)."""
    if outputs.shape[-1] == 1:
        predicted = (outputs[:, 0] > 0.0).astype(np.int64)
    else:
        predicted = np.argmax(outputs, axis=1)
    return int(np.count_nonzero(predicted != labels))


def usd_online_epoch(model, option, state, device_params, bins, cdf, table_up, table_down, inputs,
                 targets, plus_columns, minus_columns, train_minus, output_scale, loss, scheme,
                 v_write, polarity, duration, noise_std, base_key, pulse_count, n_substeps,
                 n_threads):
    """Run one online USD epoch: for each sample in order, read, compare, then write.

    The write of each sample changes weight (i, k) in the direction
    ``-sign(y_k - t_k) * sign(x_i)``, the sign of the negative gradient for either loss.
    Returns the next pulse counter. ``n_threads`` is ignored.
    """
    tables = (bins, cdf, table_up, table_down)
    row_signs_all = np.sign(inputs)
    for n in range(inputs.shape[0]):
        conductances = _conductances(model, option, state, device_params)
        outputs = _outputs(conductances, inputs[n], plus_columns, minus_columns, output_scale)
        error_signs = np.sign(_sigmoid(outputs) - targets[n])
        column_signs = _column_signs(error_signs, plus_columns, minus_columns, train_minus,
                                     state.shape[1], polarity)
        pulse_count = write_outer(model, option, state, device_params, tables, row_signs_all[n],
                                  column_signs, scheme, v_write, duration, noise_std, base_key,
                                  pulse_count, n_substeps)
    return pulse_count


def usd_batch_run(model, option, state, device_params, bins, cdf, table_up, table_down, inputs,
              targets, labels, test_inputs, test_labels, plus_columns, minus_columns, train_minus,
              output_scale, loss, scheme, v_write, polarity, durations, noise_std, base_key,
              pulse_count, n_substeps, train_errors, test_errors, n_threads):
    """Run ``len(durations)`` batch-USD iterations with pulse width ``durations[t]`` at step t.

    Each iteration reads every training sample, sums the gradient over the set and writes the
    sign of its negative with :func:`write_matrix`. ``train_errors[t]`` and ``test_errors[t]``
    receive the misclassified counts before iteration t, and index ``len(durations)`` those
    after the last one. Returns the next pulse counter. ``n_threads`` is ignored.
    """
    tables = (bins, cdf, table_up, table_down)
    n_iterations = durations.shape[0]
    for t in range(n_iterations + 1):
        conductances = _conductances(model, option, state, device_params)
        outputs = _outputs(conductances, inputs, plus_columns, minus_columns, output_scale)
        train_errors[t] = count_errors(outputs, labels)
        test_outputs = _outputs(conductances, test_inputs, plus_columns, minus_columns, output_scale)
        test_errors[t] = count_errors(test_outputs, test_labels)
        if t == n_iterations:
            break
        gradient = inputs.T @ _deltas(outputs, targets, loss)
        signs = np.zeros(state.shape)
        signs[:, plus_columns] = -np.sign(gradient) * polarity
        if train_minus:
            signs[:, minus_columns] = np.sign(gradient) * polarity
        pulse_count = write_matrix(model, option, state, device_params, tables, signs, scheme,
                                   v_write, durations[t], noise_std, base_key, pulse_count,
                                   n_substeps)
    return pulse_count
