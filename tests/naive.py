"""Slow, obviously right versions of device physics, for comparison in tests."""

import numpy as np
from scipy.integrate import solve_ivp


def linear_ion_drift_charge(r_on, r_off, drift_rate, x0, voltage, duration):
    """Integrate dx/dt = k V / R(x) without a window; return (x_final, charge in coulombs)."""

    def rhs(_, y):
        resistance = r_on * y[0] + r_off * (1.0 - y[0])
        current = voltage / resistance
        return [drift_rate * current, current]

    solution = solve_ivp(rhs, (0.0, duration), [x0, 0.0], rtol=1e-12, atol=1e-15, method="DOP853")
    return solution.y[0, -1], solution.y[1, -1]


def soft_bounds_after(g0, g_min, g_max, fraction, n_pulses, potentiate=True):
    """Closed form of a noise-free soft-bounds device after n nominal pulses."""
    if potentiate:
        return g_max - (g_max - g0) * (1.0 - fraction) ** n_pulses
    return g_min + (g0 - g_min) * (1.0 - fraction) ** n_pulses


def median_step_per_bin(cdf, table):
    """Median of each bin's empirical step distribution, by linear interpolation at p = 0.5."""
    return np.array([np.interp(0.5, cdf, table[:, k]) for k in range(table.shape[1])])
