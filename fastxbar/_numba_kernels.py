"""Numba kernels for the device updates.

The scalar functions (``device_step``, ``device_conductance``, the random draws) are the
building blocks that other compiled kernels, such as the training epochs, call per device. The
array kernels parallelise over word lines with ``prange``. Both follow the contract of
``fastxbar._reference``: arithmetic in float64, one rounding to the state's dtype.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numba import njit, prange

from ._config import NUMBA_FASTMATH

_JIT = dict(cache=True, nogil=True, error_model="numpy", fastmath=NUMBA_FASTMATH)

_GOLDEN_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)
_SHIFT_11 = np.uint64(11)
_SHIFT_27 = np.uint64(27)
_SHIFT_30 = np.uint64(30)
_SHIFT_31 = np.uint64(31)
_TO_UNIT = 1.0 / 9007199254740992.0


@njit(**_JIT)
def splitmix64_uniform(key, counter):
    """Return a double in [0, 1) hashed from a uint64 ``key`` and ``counter`` (SplitMix64)."""
    z = np.uint64(key) + np.uint64(counter) * _GOLDEN_GAMMA
    z = (z ^ (z >> _SHIFT_30)) * _MIX_1
    z = (z ^ (z >> _SHIFT_27)) * _MIX_2
    z = z ^ (z >> _SHIFT_31)
    return float(z >> _SHIFT_11) * _TO_UNIT


@njit(**_JIT)
def uniform_draw(key, device_index):
    """Return the lookup-table device's uniform draw for one device and pulse."""
    return splitmix64_uniform(key, np.uint64(3) * np.uint64(device_index))


@njit(**_JIT)
def noise_factor(key, device_index, noise_std):
    """Return 1 + noise_std * xi, with xi a Box-Muller standard normal draw (1.0 if no noise)."""
    if noise_std <= 0.0:
        return 1.0
    index = np.uint64(3) * np.uint64(device_index)
    u1 = 1.0 - splitmix64_uniform(key, index + np.uint64(1))
    u2 = splitmix64_uniform(key, index + np.uint64(2))
    return 1.0 + noise_std * (math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2))


@njit(**_JIT)
def _clip(value, low, high):
    return min(max(value, low), high)


@njit(**_JIT)
def _window(x, direction, window, p, j):
    if window == 1:
        return 1.0 - ((2.0 * x - 1.0) ** 2) ** p
    if window == 2:
        bound = 1.0 if direction < 0 else 0.0
        return 1.0 - ((x - bound) ** 2) ** p
    if window == 3:
        return j * (1.0 - ((x - 0.5) ** 2 + 0.75) ** p)
    return 1.0


@njit(**_JIT)
def _step_model(model, g, v, duration, p, eta):
    g_min, g_max, dg_up, dg_down = p[0], p[1], p[2], p[3]
    n = duration / p[6]
    span = g_max - g_min
    if v >= p[4]:
        if model == 0:
            dg = dg_up * n
        elif model == 1:
            fraction = dg_up / span if n == 1.0 else 1.0 - (1.0 - dg_up / span) ** n
            dg = (g_max - g) * fraction
        else:
            dg = dg_up * n * math.exp(-p[7] * (g - g_min) / span)
    elif v <= p[5]:
        if model == 0:
            dg = -dg_down * n
        elif model == 1:
            fraction = dg_down / span if n == 1.0 else 1.0 - (1.0 - dg_down / span) ** n
            dg = -(g - g_min) * fraction
        else:
            dg = -dg_down * n * math.exp(-p[8] * (1.0 - (g - g_min) / span))
    else:
        return g
    return _clip(g + dg * eta, g_min, g_max)


@njit(**_JIT)
def _nearest_bin(bins, g):
    # Binary search for the count of bins below g, as numpy.searchsorted(side="left").
    low, high = 0, bins.size
    while low < high:
        middle = (low + high) // 2
        if bins[middle] < g:
            low = middle + 1
        else:
            high = middle
    if low == 0:
        return 0
    if low == bins.size:
        return bins.size - 1
    return low - 1 if g - bins[low - 1] <= bins[low] - g else low


@njit(**_JIT)
def _quantile(cdf, table, column, u):
    # Largest row with cdf[row] <= u, as numpy.searchsorted(side="right") - 1.
    low, high = 0, cdf.size
    while low < high:
        middle = (low + high) // 2
        if cdf[middle] <= u:
            low = middle + 1
        else:
            high = middle
    row = min(max(low - 1, 0), cdf.size - 2)
    width = cdf[row + 1] - cdf[row]
    t = (u - cdf[row]) / width if width > 0.0 else 0.0
    return table[row, column] + t * (table[row + 1, column] - table[row, column])


@njit(**_JIT)
def _lookup_table(g, v, duration, p, eta, u, bins, cdf, up, down):
    if v >= p[3]:
        table = up
    elif v <= p[4]:
        table = down
    else:
        return g
    dg = _quantile(cdf, table, _nearest_bin(bins, g), u)
    return _clip(g + dg * (duration / p[5]) * p[2] * eta, p[0], p[1])


@njit(**_JIT)
def _drift_rate(model, x, rate, v, direction, window, p):
    # dx/dt of the ion-drift models at normalised state x.
    if model == 4:
        resistance = p[0] * x + p[1] * (1.0 - x)
        return rate * v / resistance * _window(x, direction, window, p[3], p[4])
    return rate * _window(x, direction, window, p[10], 1.0)


@njit(**_JIT)
def _rk4(model, x, rate, v, direction, window, p, duration, n_substeps):
    h = duration / n_substeps
    for _ in range(n_substeps):
        k1 = _drift_rate(model, x, rate, v, direction, window, p)
        k2 = _drift_rate(model, _clip(x + 0.5 * h * k1, 0.0, 1.0), rate, v, direction, window, p)
        k3 = _drift_rate(model, _clip(x + 0.5 * h * k2, 0.0, 1.0), rate, v, direction, window, p)
        k4 = _drift_rate(model, _clip(x + h * k3, 0.0, 1.0), rate, v, direction, window, p)
        x = _clip(x + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4), 0.0, 1.0)
    return x


@njit(**_JIT)
def _linear_ion_drift(option, x, v, duration, p, eta, n_substeps):
    r_on, r_off = p[0], p[1]
    rate = p[2] * eta
    if option == 0:
        charge_term = rate * v * duration
        resistance = r_on * x + r_off * (1.0 - x)
        discriminant = resistance * resistance - 2.0 * (r_off - r_on) * charge_term
        if discriminant < 0.0:
            return 1.0
        return _clip(x + 2.0 * charge_term / (resistance + math.sqrt(discriminant)), 0.0, 1.0)
    direction = np.sign(v)
    return _rk4(4, x, rate, v, direction, option, p, duration, n_substeps)


@njit(**_JIT)
def _vteam(option, w, v, duration, p, eta, n_substeps):
    v_on, v_off, w_on, w_off = p[0], p[1], p[8], p[9]
    if v > v_off:
        rate = p[3] * (v / v_off - 1.0) ** p[5]
    elif v < v_on:
        rate = p[2] * (v / v_on - 1.0) ** p[4]
    else:
        return w
    rate *= eta
    window = option % 4
    if window == 0:
        return _clip(w + rate * duration, w_on, w_off)
    span = w_off - w_on
    direction = np.sign(rate)
    x = _rk4(5, (w - w_on) / span, rate / span, v, direction, window, p, duration, n_substeps)
    return _clip(w_on + x * span, w_on, w_off)


@njit(inline="always", **_JIT)
def device_step(model, option, x, v, duration, p, eta, u, n_substeps, bins, cdf, up, down):
    """Return one device's state after a pulse of ``v`` volts for ``duration`` seconds.

    ``p`` contains the device's parameters in the order of the model's ``param_names``, ``eta``
    is the noise factor from :func:`noise_factor` and ``u`` the uniform draw from
    :func:`uniform_draw` (used only by the lookup-table model).
    """
    if model <= 2:
        return _step_model(model, x, v, duration, p, eta)
    if model == 3:
        return _lookup_table(x, v, duration, p, eta, u, bins, cdf, up, down)
    if model == 4:
        return _linear_ion_drift(option, x, v, duration, p, eta, n_substeps)
    return _vteam(option, x, v, duration, p, eta, n_substeps)


@njit(**_JIT)
def device_conductance(model, option, x, p):
    """Return one device's conductance in siemens from its state and parameters."""
    if model == 4:
        return 1.0 / (p[0] * x + p[1] * (1.0 - x))
    if model == 5:
        xn = (x - p[8]) / (p[9] - p[8])
        if option // 4 == 0:
            return 1.0 / (p[6] + (p[7] - p[6]) * xn)
        return 1.0 / (p[6] * math.exp(math.log(p[7] / p[6]) * xn))
    return x


@njit(**_JIT)
def _uniform_step_row(model, g, row_voltage, columns, p, duration):
    # Identical noise-free step devices: parameters hoisted, one branch-free loop per model,
    # so LLVM can vectorise it.
    g_min, g_max, v_set, v_reset = p[0], p[1], p[4], p[5]
    n = duration / p[6]
    span = g_max - g_min
    if model == 0:
        a_up = p[2] * n
        a_down = -p[3] * n
        for j in range(g.size):
            v = row_voltage - columns[j]
            step = 0.0
            if v >= v_set:
                step = a_up
            elif v <= v_reset:
                step = a_down
            y = g[j] + step
            y = g_min if y < g_min else y
            g[j] = g_max if y > g_max else y
        return
    a_up = p[2] / span if n == 1.0 else 1.0 - (1.0 - p[2] / span) ** n
    a_down = p[3] / span if n == 1.0 else 1.0 - (1.0 - p[3] / span) ** n
    for j in range(g.size):
        v = row_voltage - columns[j]
        x = float(g[j])
        step = 0.0
        if v >= v_set:
            step = a_up * (g_max - x)
        elif v <= v_reset:
            step = -a_down * (x - g_min)
        y = x + step
        y = g_min if y < g_min else y
        g[j] = g_max if y > g_max else y


@njit(**_JIT)
def _uniform_drift_row(state, row_voltage, columns, p, duration):
    # Identical noise-free ion-drift devices without a window: the exact step, branch-free.
    r_on, r_off = p[0], p[1]
    scale = p[2] * duration
    dr2 = 2.0 * (r_off - r_on)
    for j in range(state.size):
        x = float(state[j])
        q = scale * (row_voltage - columns[j])
        resistance = r_on * x + r_off * (1.0 - x)
        discriminant = resistance * resistance - dr2 * q
        y = x + 2.0 * q / (resistance + math.sqrt(discriminant if discriminant > 0.0 else 0.0))
        y = 1.0 if discriminant < 0.0 else y
        y = 0.0 if y < 0.0 else y
        state[j] = 1.0 if y > 1.0 else y


@njit(parallel=True, **_JIT)
def _apply_pulse_uniform(model, state, p, rows, columns, duration):
    for i in prange(state.shape[0]):
        if model == 4:
            _uniform_drift_row(state[i], rows[i], columns, p, duration)
        else:
            _uniform_step_row(model, state[i], rows[i], columns, p, duration)


@njit(inline="always", **_JIT)
def _gather_params(params, i, j, p):
    # Copy device (i, j)'s parameters into a row-local buffer that device_step reads.
    for k in range(p.size):
        p[k] = params[k, i, j]


@njit(parallel=True, **_JIT)
def _apply_pulse(model, option, state, params, rows, columns, extra, duration, noise_std, key,
                 n_substeps, bins, cdf, up, down):
    n_rows, n_columns = state.shape
    for i in prange(n_rows):
        p = np.empty(params.shape[0])
        for j in range(n_columns):
            _gather_params(params, i, j, p)
            index = i * n_columns + j
            eta = noise_factor(key, index, noise_std)
            u = uniform_draw(key, index) if model == 3 else 0.0
            v = rows[i] - columns[j] + extra[i, j]
            state[i, j] = device_step(model, option, float(state[i, j]), v, duration, p, eta, u,
                                      n_substeps, bins, cdf, up, down)


def _has_fast_path(model, option, params, extra, noise_std):
    # Identical devices (zero-stride parameters), no matrix of extra voltages, no noise.
    if noise_std > 0 or params.strides[1] != 0 or params.strides[2] != 0:
        return False
    if extra.strides != (0, 0) or extra[0, 0] != 0.0:
        return False
    return model in (0, 1) or (model == 4 and option == 0)


@njit(parallel=True, **_JIT)
def _state_to_conductance(model, option, state, params, out):
    n_rows, n_columns = state.shape
    for i in prange(n_rows):
        p = np.empty(params.shape[0])
        for j in range(n_columns):
            _gather_params(params, i, j, p)
            out[i, j] = device_conductance(model, option, float(state[i, j]), p)


def apply_pulse(model, option, state, params, row_voltages, col_voltages, extra_voltages,
                duration, noise_std, key, n_substeps, table_bins, table_cdf, table_up,
                table_down, n_threads):
    """Apply one pulse to every device in place; see ``fastxbar._reference.apply_pulse``."""
    numba.set_num_threads(min(n_threads, numba.config.NUMBA_NUM_THREADS))
    if _has_fast_path(model, option, params, extra_voltages, noise_std):
        p = np.ascontiguousarray(params[:, 0, 0], dtype=np.float64)
        _apply_pulse_uniform(model, state, p, row_voltages, col_voltages, duration)
        return
    _apply_pulse(model, option, state, params, row_voltages, col_voltages, extra_voltages,
                 duration, noise_std, np.uint64(key), n_substeps, table_bins, table_cdf,
                 table_up, table_down)


def state_to_conductance(model, option, state, params, out, n_threads):
    """Write each device's conductance in siemens into ``out``."""
    numba.set_num_threads(min(n_threads, numba.config.NUMBA_NUM_THREADS))
    _state_to_conductance(model, option, state, params, out)


_CUSTOM_KERNELS: dict = {}


def custom_kernels(update, conductance):
    """Return (pulse, conductance) parallel kernels compiled around a user's device functions.

    The kernels are built once per pair of functions and kept for the process. They are not
    cached on disk, because Numba cannot cache closures over user functions.
    """
    cache_key = (update, conductance)
    if cache_key in _CUSTOM_KERNELS:
        return _CUSTOM_KERNELS[cache_key]

    @njit(parallel=True, nogil=True, error_model="numpy")
    def pulse(state, params, frozen, rows, columns, extra, duration, noise_std, key, low, high):
        n_rows, n_columns = state.shape
        for i in prange(n_rows):
            for j in range(n_columns):
                if frozen[i, j]:
                    continue
                x = float(state[i, j])
                v = rows[i] - columns[j] + extra[i, j]
                step = update(x, v, duration, params[:, i, j]) - x
                eta = noise_factor(key, i * n_columns + j, noise_std)
                state[i, j] = _clip(x + step * eta, low, high)

    @njit(parallel=True, nogil=True, error_model="numpy")
    def conduct(state, params, out):
        n_rows, n_columns = state.shape
        for i in prange(n_rows):
            for j in range(n_columns):
                out[i, j] = conductance(float(state[i, j]), params[:, i, j])

    _CUSTOM_KERNELS[cache_key] = (pulse, conduct)
    return pulse, conduct
