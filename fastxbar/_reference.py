"""NumPy reference kernels for the device updates: slow to write out, easy to check.

Every function here has the signature and output contract of its compiled twins in
``_numba_kernels`` and ``_kernels``: arrays in, the state array updated in place, nothing
validated. All arithmetic runs in float64 and is rounded to the state's dtype once at the end,
as the compiled kernels do.
"""

from __future__ import annotations

import numpy as np

from . import _rng
from .devices import EXP_STEP, LINEAR_ION_DRIFT, LINEAR_STEP, LOOKUP_TABLE, SOFT_BOUNDS, VTEAM_MODEL


def window_function(x, direction, window, p, j):
    """Evaluate the window f(x) of the ion-drift models; ``direction`` is the sign of dx/dt."""
    if window == 0:
        return np.ones_like(x)
    if window == 1:
        return 1.0 - ((2.0 * x - 1.0) ** 2) ** p
    if window == 2:
        bound = np.where(direction < 0, 1.0, 0.0)
        return 1.0 - ((x - bound) ** 2) ** p
    return j * (1.0 - ((x - 0.5) ** 2 + 0.75) ** p)


def _noise_factor(shape, noise_std, key):
    if noise_std <= 0:
        return np.ones(shape)
    index = np.arange(shape[0] * shape[1], dtype=np.uint64).reshape(shape)
    return 1.0 + noise_std * _rng.standard_normal(key, index)


def _step_models(model, x, v, dt, p, eta):
    g_min, g_max, dg_up, dg_down, v_set, v_reset, pulse_width = p[:7]
    n = dt / pulse_width
    up = v >= v_set
    down = v <= v_reset
    span = g_max - g_min
    if model == LINEAR_STEP:
        dg = np.where(up, dg_up * n, np.where(down, -dg_down * n, 0.0))
    elif model == SOFT_BOUNDS:
        # With one nominal pulse the fraction is exact; (1 - a)^n only for other widths.
        fraction_up = np.where(n == 1.0, dg_up / span, 1.0 - (1.0 - dg_up / span) ** n)
        fraction_down = np.where(n == 1.0, dg_down / span, 1.0 - (1.0 - dg_down / span) ** n)
        dg = np.where(up, (g_max - x) * fraction_up, np.where(down, -(x - g_min) * fraction_down, 0.0))
    else:
        gamma_up, gamma_down = p[7], p[8]
        z = (x - g_min) / span
        step_up = dg_up * n * np.exp(-gamma_up * z)
        step_down = -dg_down * n * np.exp(-gamma_down * (1.0 - z))
        dg = np.where(up, step_up, np.where(down, step_down, 0.0))
    return np.minimum(np.maximum(x + dg * eta, g_min), g_max)


def _nearest_bin(bins, x):
    above = np.searchsorted(bins, x, side="left")
    lower = np.clip(above - 1, 0, bins.size - 1)
    upper = np.clip(above, 0, bins.size - 1)
    take_lower = (x - bins[lower]) <= (bins[upper] - x)
    return np.where(above == 0, 0, np.where(above == bins.size, bins.size - 1,
                                            np.where(take_lower, lower, upper)))


def _quantile(cdf, table, bin_index, u):
    row = np.clip(np.searchsorted(cdf, u, side="right") - 1, 0, cdf.size - 2)
    width = cdf[row + 1] - cdf[row]
    t = np.where(width > 0, (u - cdf[row]) / np.where(width > 0, width, 1.0), 0.0)
    low = table[row, bin_index]
    return low + t * (table[row + 1, bin_index] - low)


def _lookup_table(x, v, dt, p, eta, key, tables):
    g_min, g_max, scale, v_set, v_reset, pulse_width = p
    bins, cdf, table_up, table_down = tables
    n = dt / pulse_width
    up = v >= v_set
    down = v <= v_reset
    index = np.arange(x.size, dtype=np.uint64).reshape(x.shape)
    u = _rng.uniform(key, np.uint64(3) * index)
    bin_index = _nearest_bin(bins, x)
    dg = np.where(up, _quantile(cdf, table_up, bin_index, u),
                  np.where(down, _quantile(cdf, table_down, bin_index, u), 0.0))
    return np.minimum(np.maximum(x + dg * n * scale * eta, g_min), g_max)


def _rk4(x, rate, h, n_substeps):
    for _ in range(n_substeps):
        k1 = rate(x)
        k2 = rate(np.clip(x + 0.5 * h * k1, 0.0, 1.0))
        k3 = rate(np.clip(x + 0.5 * h * k2, 0.0, 1.0))
        k4 = rate(np.clip(x + h * k3, 0.0, 1.0))
        x = np.clip(x + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4), 0.0, 1.0)
    return x


def _linear_ion_drift(option, x, v, dt, p, eta, n_substeps):
    r_on, r_off, drift_rate, exponent, scale_j = p
    dr = r_off - r_on
    k = drift_rate * eta
    if option == 0:
        # Exact: R(x)^2 falls by 2 (r_off - r_on) k V t, so with R0 = R(x0) the state moves by
        # dx = 2 k V t / (R0 + sqrt(R0^2 - 2 dr k V t)), a form free of cancellation.
        charge_term = k * v * dt
        resistance = r_on * x + r_off * (1.0 - x)
        discriminant = resistance * resistance - 2.0 * dr * charge_term
        root = np.sqrt(np.maximum(discriminant, 0.0))
        x_new = np.where(discriminant >= 0, x + 2.0 * charge_term / (resistance + root), 1.0)
        return np.clip(x_new, 0.0, 1.0)
    direction = np.sign(v)

    def rate(state):
        resistance = r_on * state + r_off * (1.0 - state)
        return k * v / resistance * window_function(state, direction, option, exponent, scale_j)

    return _rk4(x, rate, dt / n_substeps, n_substeps)


def _vteam(option, w, v, dt, p, eta, n_substeps):
    v_on, v_off, k_on, k_off, alpha_on, alpha_off, _, _, w_on, w_off, exponent = p
    with np.errstate(invalid="ignore", divide="ignore"):
        rate_off = k_off * np.abs(v / v_off - 1.0) ** alpha_off
        rate_on = k_on * np.abs(v / v_on - 1.0) ** alpha_on
    rate_w = np.where(v > v_off, rate_off, np.where(v < v_on, rate_on, 0.0)) * eta
    window = option % 4
    span = w_off - w_on
    if window == 0:
        return np.minimum(np.maximum(w + rate_w * dt, w_on), w_off)
    x = (w - w_on) / span
    rate_x = rate_w / span
    direction = np.sign(rate_x)

    def rate(state):
        return rate_x * window_function(state, direction, window, exponent, 1.0)

    x = _rk4(x, rate, dt / n_substeps, n_substeps)
    return np.minimum(np.maximum(w_on + x * span, w_on), w_off)


def apply_pulse(model, option, state, params, row_voltages, col_voltages, extra_voltages,
                duration, noise_std, key, n_substeps, table_bins, table_cdf, table_up,
                table_down, n_threads):
    """Apply one pulse of ``duration`` seconds to every device, updating ``state`` in place.

    Device (i, j) gets ``row_voltages[i] - col_voltages[j] + extra_voltages[i, j]`` volts.
    ``params`` has shape (n_params, n_word_lines, n_bit_lines) and may have zero strides.
    ``n_threads`` is accepted for a uniform signature and ignored.
    """
    x = state.astype(np.float64)
    v = (np.asarray(row_voltages, np.float64)[:, None] - np.asarray(col_voltages, np.float64)[None, :]
         + np.asarray(extra_voltages, np.float64))
    p = [np.asarray(params[k], np.float64) for k in range(params.shape[0])]
    eta = _noise_factor(state.shape, noise_std, key)
    if model in (LINEAR_STEP, SOFT_BOUNDS, EXP_STEP):
        x = _step_models(model, x, v, duration, p, eta)
    elif model == LOOKUP_TABLE:
        x = _lookup_table(x, v, duration, p, eta, key, (table_bins, table_cdf, table_up, table_down))
    elif model == LINEAR_ION_DRIFT:
        x = _linear_ion_drift(option, x, v, duration, p, eta, n_substeps)
    elif model == VTEAM_MODEL:
        x = _vteam(option, x, v, duration, p, eta, n_substeps)
    state[...] = x


def state_to_conductance(model, option, state, params, out, n_threads):
    """Write each device's conductance in siemens into ``out`` (same shape as ``state``)."""
    x = state.astype(np.float64)
    if model == LINEAR_ION_DRIFT:
        r_on, r_off = np.asarray(params[0], np.float64), np.asarray(params[1], np.float64)
        out[...] = 1.0 / (r_on * x + r_off * (1.0 - x))
    elif model == VTEAM_MODEL:
        r_on, r_off = np.asarray(params[6], np.float64), np.asarray(params[7], np.float64)
        w_on, w_off = np.asarray(params[8], np.float64), np.asarray(params[9], np.float64)
        xn = (x - w_on) / (w_off - w_on)
        if option // 4 == 0:
            out[...] = 1.0 / (r_on + (r_off - r_on) * xn)
        else:
            out[...] = 1.0 / (r_on * np.exp(np.log(r_off / r_on) * xn))
    else:
        out[...] = x


def apply_custom_pulse(update, state, params, frozen, row_voltages, col_voltages, extra_voltages,
                       duration, noise_std, key, low, high):
    """Apply one pulse with a user's device function, one device at a time in pure Python."""
    eta = _noise_factor(state.shape, noise_std, key)
    for i in range(state.shape[0]):
        for j in range(state.shape[1]):
            if frozen[i, j]:
                continue
            x = float(state[i, j])
            v = float(row_voltages[i]) - float(col_voltages[j]) + float(extra_voltages[i, j])
            step = update(x, v, duration, np.asarray(params[:, i, j], np.float64)) - x
            state[i, j] = min(max(x + step * eta[i, j], low), high)


def custom_conductance(conductance, state, params, out):
    """Evaluate a user's conductance function on every device in pure Python."""
    for i in range(state.shape[0]):
        for j in range(state.shape[1]):
            out[i, j] = conductance(float(state[i, j]), np.asarray(params[:, i, j], np.float64))
