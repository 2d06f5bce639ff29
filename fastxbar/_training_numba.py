"""Numba kernels of in-situ training: one online USD epoch and a whole batch-USD run.

Signatures and output contracts are those of ``fastxbar._training_reference``, whose module
docstring describes the arguments. Each kernel keeps a conductance array beside the state and
updates a device's conductance only when a pulse reached it, so a read costs one
matrix-vector product. Devices that see 0 V in a phase are skipped: no model moves at 0 V.

The word-line loop of a write runs in parallel only for arrays of at least
``PARALLEL_MIN_DEVICES`` devices. Below that, starting threads for every phase costs more than
the phase itself, as on a 21 x 2 array.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numba import njit, prange

from ._config import NUMBA_FASTMATH, PARALLEL_MIN_DEVICES
from ._numba_kernels import (
    _GOLDEN_GAMMA,
    _MIX_1,
    _MIX_2,
    _SHIFT_27,
    _SHIFT_30,
    _SHIFT_31,
    device_conductance,
    device_step,
    noise_factor,
    uniform_draw,
)

_JIT = dict(cache=True, nogil=True, error_model="numpy", fastmath=NUMBA_FASTMATH)

#: (device voltage sign, selected input sign, selected column sign) of the four phases, in order.
_PHASES = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], dtype=np.int64)


@njit(**_JIT)
def _pulse_key(base_key, pulse_count):
    """Return ``fastxbar._rng.pulse_key(base_key, pulse_count)``."""
    z = np.uint64(base_key) + np.uint64(pulse_count) * _GOLDEN_GAMMA
    z = (z ^ (z >> _SHIFT_30)) * _MIX_1
    z = (z ^ (z >> _SHIFT_27)) * _MIX_2
    return z ^ (z >> _SHIFT_31)


@njit(inline="always", **_JIT)
def _update_device(model, option, state, conductances, device_params, i, j, v, duration,
                   noise_std, key, n_substeps, bins, cdf, up, down):
    index = i * state.shape[1] + j
    eta = noise_factor(key, index, noise_std)
    u = uniform_draw(key, index) if model == 3 else 0.0
    p = device_params[i, j]
    state[i, j] = device_step(model, option, float(state[i, j]), v, duration, p, eta, u,
                              n_substeps, bins, cdf, up, down)
    conductances[i, j] = device_conductance(model, option, float(state[i, j]), p)


@njit(inline="always", **_JIT)
def _write_row(model, option, state, conductances, device_params, i, row_voltage,
               column_voltages, row_sign, column_signs, product, duration, noise_std, key,
               n_substeps, bins, cdf, up, down):
    # With product = 1, device (i, j) gets row_voltage * column_signs[j] (ideal per-device
    # write). With product = 0, it gets row_voltage - column_voltages[j] (a driven phase).
    for j in range(state.shape[1]):
        if product == 1:
            v = row_voltage * column_signs[j]
        else:
            v = row_voltage - column_voltages[j]
        if v != 0.0:
            _update_device(model, option, state, conductances, device_params, i, j, v, duration,
                           noise_std, key, n_substeps, bins, cdf, up, down)


@njit(inline="always", **_JIT)
def _write_serial(model, option, state, conductances, device_params, row_voltages,
                  column_voltages, column_signs, product, duration, noise_std, key, n_substeps,
                  bins, cdf, up, down):
    for i in range(state.shape[0]):
        _write_row(model, option, state, conductances, device_params, i, row_voltages[i],
                   column_voltages, 0.0, column_signs, product, duration, noise_std, key,
                   n_substeps, bins, cdf, up, down)


@njit(parallel=True, **_JIT)
def _write_parallel(model, option, state, conductances, device_params, row_voltages,
                    column_voltages, column_signs, product, duration, noise_std, key, n_substeps,
                    bins, cdf, up, down):
    for i in prange(state.shape[0]):
        _write_row(model, option, state, conductances, device_params, i, row_voltages[i],
                   column_voltages, 0.0, column_signs, product, duration, noise_std, key,
                   n_substeps, bins, cdf, up, down)


# TODO: specialise these loops per device model. With the model known only at run time, each
# device update costs far more than a direct call of one model's update. The 21 x 2 paper task
# runs about 6 times slower than with Cython, a 1024 x 1024 epoch 1.2 times (benches/README.md). Passing the model's update function as a kernel argument removes most of
# it, but Numba then neither loads nor reuses the on-disk cache for those kernels.
@njit(inline="always", **_JIT)
def _fused_row(model, option, state, conductances, device_params, i, phase_rows, phase_columns,
               keys, active, duration, noise_std, n_substeps, bins, cdf, up, down):
    # The four phases of one word line, device by device: a device's update depends only on
    # its own state, so this equals applying each phase to the whole array in turn, with a
    # quarter of the memory traffic.
    n_columns = state.shape[1]
    for j in range(n_columns):
        index = i * n_columns + j
        p = device_params[i, j]
        x = float(state[i, j])
        moved = False
        for k in range(4):
            if not active[k]:
                continue
            v = phase_rows[k, i] - phase_columns[k, j]
            if v != 0.0:
                eta = noise_factor(keys[k], index, noise_std)
                u = uniform_draw(keys[k], index) if model == 3 else 0.0
                state[i, j] = device_step(model, option, x, v, duration, p, eta, u, n_substeps,
                                          bins, cdf, up, down)
                x = float(state[i, j])
                moved = True
        if moved:
            conductances[i, j] = device_conductance(model, option, x, p)


@njit(**_JIT)
def _fused_serial(model, option, state, conductances, device_params, phase_rows, phase_columns,
                  keys, active, duration, noise_std, n_substeps, bins, cdf, up, down):
    for i in range(state.shape[0]):
        _fused_row(model, option, state, conductances, device_params, i, phase_rows,
                   phase_columns, keys, active, duration, noise_std, n_substeps, bins, cdf, up,
                   down)


@njit(parallel=True, **_JIT)
def _fused_parallel(model, option, state, conductances, device_params, phase_rows,
                    phase_columns, keys, active, duration, noise_std, n_substeps, bins, cdf, up,
                    down):
    for i in prange(state.shape[0]):
        _fused_row(model, option, state, conductances, device_params, i, phase_rows,
                   phase_columns, keys, active, duration, noise_std, n_substeps, bins, cdf, up,
                   down)


@njit(inline="always", **_JIT)
def _write(parallel, model, option, state, conductances, device_params, row_voltages,
           column_voltages, column_signs, product, duration, noise_std, key, n_substeps, bins,
           cdf, up, down):
    if parallel:
        _write_parallel(model, option, state, conductances, device_params, row_voltages,
                        column_voltages, column_signs, product, duration, noise_std, key,
                        n_substeps, bins, cdf, up, down)
    else:
        _write_serial(model, option, state, conductances, device_params, row_voltages,
                      column_voltages, column_signs, product, duration, noise_std, key,
                      n_substeps, bins, cdf, up, down)


@njit(**_JIT)
def _all_conductances(model, option, state, device_params, conductances):
    for i in range(state.shape[0]):
        for j in range(state.shape[1]):
            conductances[i, j] = device_conductance(model, option, float(state[i, j]),
                                                    device_params[i, j])


@njit(inline="always", **_JIT)
def _decision_values(conductances, voltages, plus_columns, minus_columns, output_scale,
                     currents, outputs):
    """Write z_k = output_scale (I_plus - I_minus) of one sample into ``outputs``."""
    currents[:] = 0.0
    for i in range(conductances.shape[0]):
        if voltages[i] != 0.0:
            for j in range(conductances.shape[1]):
                currents[j] += voltages[i] * conductances[i, j]
    for k in range(plus_columns.size):
        outputs[k] = output_scale * (currents[plus_columns[k]] - currents[minus_columns[k]])


@njit(inline="always", **_JIT)
def _is_error(outputs, label):
    if outputs.size == 1:
        predicted = 1 if outputs[0] > 0.0 else 0
    else:
        predicted = 0
        for k in range(1, outputs.size):
            if outputs[k] > outputs[predicted]:
                predicted = k
    return predicted != label


@njit(**_JIT)
def _sign(value):
    if value > 0.0:
        return 1.0
    if value < 0.0:
        return -1.0
    return 0.0


@njit(inline="always", **_JIT)
def _column_signs(error_signs, plus_columns, minus_columns, train_minus, polarity, signs):
    signs[:] = 0.0
    for k in range(plus_columns.size):
        signs[plus_columns[k]] = -error_signs[k] * polarity
        if train_minus:
            signs[minus_columns[k]] = error_signs[k] * polarity


@njit(inline="always", **_JIT)
def _write_outer(parallel, model, option, state, conductances, device_params, row_signs,
                 column_signs, scheme, v_write, duration, noise_std, base_key, pulse_count,
                 n_substeps, bins, cdf, up, down, row_voltages, column_voltages):
    """Write the rank-one pattern row_signs x column_signs; return the next pulse counter."""
    if scheme == 0:
        for i in range(row_signs.size):
            row_voltages[i] = v_write * row_signs[i]
        _write(parallel, model, option, state, conductances, device_params, row_voltages,
               column_voltages, column_signs, 1, duration, noise_std,
               _pulse_key(base_key, pulse_count), n_substeps, bins, cdf, up, down)
        return pulse_count + 1
    unselected_row = 0.0 if scheme == 1 else -1.0 / 6.0
    unselected_column = 0.0 if scheme == 1 else 1.0 / 6.0
    phase_rows = np.empty((4, row_signs.size))
    phase_columns = np.empty((4, column_signs.size))
    keys = np.empty(4, dtype=np.uint64)
    active = np.zeros(4, dtype=np.bool_)
    for phase in range(4):
        polarity, row_sign, column_sign = _PHASES[phase, 0], _PHASES[phase, 1], _PHASES[phase, 2]
        any_row, any_column = False, False
        for i in range(row_signs.size):
            selected = row_signs[i] == row_sign
            any_row = any_row or selected
            phase_rows[phase, i] = (0.5 if selected else unselected_row) * polarity * v_write
        for j in range(column_signs.size):
            selected = column_signs[j] == column_sign
            any_column = any_column or selected
            phase_columns[phase, j] = (-0.5 if selected else unselected_column) * polarity * v_write
        # A phase with nothing to write is skipped, because it would only disturb, but it
        # still uses up its pulse key.
        active[phase] = any_row and any_column
        keys[phase] = _pulse_key(base_key, pulse_count + phase)
    if parallel:
        _fused_parallel(model, option, state, conductances, device_params, phase_rows,
                        phase_columns, keys, active, duration, noise_std, n_substeps, bins, cdf,
                        up, down)
    else:
        _fused_serial(model, option, state, conductances, device_params, phase_rows,
                      phase_columns, keys, active, duration, noise_std, n_substeps, bins, cdf,
                      up, down)
    return pulse_count + 4


@njit(**_JIT)
def _usd_online_epoch(model, option, state, device_params, bins, cdf, up, down, inputs, targets,
                      plus_columns, minus_columns, train_minus, output_scale, loss, scheme,
                      v_write, polarity, duration, noise_std, base_key, pulse_count, n_substeps,
                      parallel):
    n_rows, n_columns = state.shape
    n_outputs = plus_columns.size
    conductances = np.empty((n_rows, n_columns))
    _all_conductances(model, option, state, device_params, conductances)
    currents = np.empty(n_columns)
    outputs = np.empty(n_outputs)
    error_signs = np.empty(n_outputs)
    column_signs = np.empty(n_columns)
    row_signs = np.empty(n_rows)
    row_voltages = np.empty(n_rows)
    column_voltages = np.zeros(n_columns)
    for n in range(inputs.shape[0]):
        _decision_values(conductances, inputs[n], plus_columns, minus_columns, output_scale,
                         currents, outputs)
        for k in range(n_outputs):
            y = 1.0 / (1.0 + math.exp(-outputs[k]))
            error_signs[k] = _sign(y - targets[n, k])
        _column_signs(error_signs, plus_columns, minus_columns, train_minus, polarity,
                      column_signs)
        for i in range(n_rows):
            row_signs[i] = _sign(inputs[n, i])
        pulse_count = _write_outer(parallel, model, option, state, conductances, device_params,
                                   row_signs, column_signs, scheme, v_write, duration, noise_std,
                                   base_key, pulse_count, n_substeps, bins, cdf, up, down,
                                   row_voltages, column_voltages)
    return pulse_count


@njit(inline="always", **_JIT)
def _count_errors(conductances, inputs, labels, plus_columns, minus_columns, output_scale,
                  currents, outputs):
    errors = 0
    for n in range(inputs.shape[0]):
        _decision_values(conductances, inputs[n], plus_columns, minus_columns, output_scale,
                         currents, outputs)
        if _is_error(outputs, labels[n]):
            errors += 1
    return errors


@njit(inline="always", **_JIT)
def _batch_signs(conductances, inputs, targets, plus_columns, minus_columns, train_minus,
                 output_scale, loss, polarity, currents, outputs, gradient, signs):
    """Sum the gradient over the training set and write the requested voltage signs."""
    gradient[:, :] = 0.0
    for n in range(inputs.shape[0]):
        _decision_values(conductances, inputs[n], plus_columns, minus_columns, output_scale,
                         currents, outputs)
        for k in range(plus_columns.size):
            y = 1.0 / (1.0 + math.exp(-outputs[k]))
            delta = y - targets[n, k]
            if loss == 0:
                delta *= y * (1.0 - y)
            for i in range(inputs.shape[1]):
                gradient[i, k] += inputs[n, i] * delta
    signs[:, :] = 0.0
    for i in range(inputs.shape[1]):
        for k in range(plus_columns.size):
            direction = _sign(gradient[i, k]) * polarity
            signs[i, plus_columns[k]] = -direction
            if train_minus:
                signs[i, minus_columns[k]] = direction


@njit(inline="always", **_JIT)
def _write_matrix(parallel, model, option, state, conductances, device_params, signs, scheme,
                  v_write, duration, noise_std, base_key, pulse_count, n_substeps, bins, cdf,
                  up, down):
    n_rows, n_columns = state.shape
    if scheme == 0:
        key = _pulse_key(base_key, pulse_count)
        for i in range(n_rows):
            for j in range(n_columns):
                if signs[i, j] != 0.0:
                    _update_device(model, option, state, conductances, device_params, i, j,
                                   v_write * signs[i, j], duration, noise_std, key, n_substeps,
                                   bins, cdf, up, down)
        return pulse_count + 1
    unselected_row = 0.0 if scheme == 1 else -1.0 / 6.0
    unselected_column = 0.0 if scheme == 1 else 1.0 / 6.0
    row_voltages = np.empty(n_rows)
    column_voltages = np.empty(n_columns)
    for selected in range(n_rows):
        for polarity in (1.0, -1.0):
            any_column = False
            for j in range(n_columns):
                any_column = any_column or signs[selected, j] == polarity
            if not any_column:
                pulse_count += 1
                continue
            for i in range(n_rows):
                row_voltages[i] = (0.5 if i == selected else unselected_row) * polarity * v_write
            for j in range(n_columns):
                fraction = -0.5 if signs[selected, j] == polarity else unselected_column
                column_voltages[j] = fraction * polarity * v_write
            _write(parallel, model, option, state, conductances, device_params, row_voltages,
                   column_voltages, column_voltages, 0, duration, noise_std,
                   _pulse_key(base_key, pulse_count), n_substeps, bins, cdf, up, down)
            pulse_count += 1
    return pulse_count


@njit(**_JIT)
def _usd_batch_run(model, option, state, device_params, bins, cdf, up, down, inputs, targets,
                   labels, test_inputs, test_labels, plus_columns, minus_columns, train_minus,
                   output_scale, loss, scheme, v_write, polarity, durations, noise_std, base_key,
                   pulse_count, n_substeps, train_errors, test_errors, parallel):
    n_rows, n_columns = state.shape
    conductances = np.empty((n_rows, n_columns))
    _all_conductances(model, option, state, device_params, conductances)
    currents = np.empty(n_columns)
    outputs = np.empty(plus_columns.size)
    gradient = np.empty((n_rows, plus_columns.size))
    signs = np.empty((n_rows, n_columns))
    n_iterations = durations.size
    for t in range(n_iterations + 1):
        test_errors[t] = _count_errors(conductances, test_inputs, test_labels, plus_columns,
                                       minus_columns, output_scale, currents, outputs)
        train_errors[t] = _count_errors(conductances, inputs, labels, plus_columns,
                                        minus_columns, output_scale, currents, outputs)
        if t == n_iterations:
            break
        _batch_signs(conductances, inputs, targets, plus_columns, minus_columns, train_minus,
                     output_scale, loss, polarity, currents, outputs, gradient, signs)
        pulse_count = _write_matrix(parallel, model, option, state, conductances,
                                    device_params, signs, scheme, v_write, durations[t],
                                    noise_std, base_key, pulse_count, n_substeps, bins, cdf, up,
                                    down)
    return pulse_count


def _use_threads(state, n_threads) -> bool:
    parallel = n_threads > 1 and state.size >= PARALLEL_MIN_DEVICES
    if parallel:
        numba.set_num_threads(min(n_threads, numba.config.NUMBA_NUM_THREADS))
    return parallel


def usd_online_epoch(model, option, state, device_params, bins, cdf, table_up, table_down,
                     inputs, targets, plus_columns, minus_columns, train_minus, output_scale,
                     loss, scheme, v_write, polarity, duration, noise_std, base_key, pulse_count,
                     n_substeps, n_threads):
    """Run one online USD epoch in place; see ``_training_reference.usd_online_epoch``."""
    return _usd_online_epoch(
        model, option, state, device_params, bins, cdf, table_up, table_down, inputs, targets,
        plus_columns, minus_columns, train_minus, output_scale, loss, scheme, v_write,
        float(polarity), duration, noise_std, np.uint64(base_key), int(pulse_count),
        n_substeps, _use_threads(state, n_threads),
    )


def usd_batch_run(model, option, state, device_params, bins, cdf, table_up, table_down, inputs,
                  targets, labels, test_inputs, test_labels, plus_columns, minus_columns,
                  train_minus, output_scale, loss, scheme, v_write, polarity, durations,
                  noise_std, base_key, pulse_count, n_substeps, train_errors, test_errors,
                  n_threads):
    """Run a whole batch-USD training in place; see ``_training_reference.usd_batch_run``."""
    return _usd_batch_run(
        model, option, state, device_params, bins, cdf, table_up, table_down, inputs, targets,
        labels, test_inputs, test_labels, plus_columns, minus_columns, train_minus, output_scale,
        loss, scheme, v_write, float(polarity), durations, noise_std, np.uint64(base_key),
        int(pulse_count), n_substeps, train_errors, test_errors,
        _use_threads(state, n_threads),
    )
