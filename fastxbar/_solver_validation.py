"""Input checks of the crossbar solver's public functions: each returns the converted value or
raises ``ValueError`` (bad value or shape) or ``TypeError`` (bad type) naming the parameter."""

from __future__ import annotations

import numbers

import numpy as np

BACKENDS = ("numba", "cython", "numpy")
SCHEMES = ("floating", "grounded", "v/2", "v/3")


def _as_float64_array(name, value, unit):
    try:
        array = np.asarray(value)
    except Exception as error:  # noqa: BLE001 - numpy raises many types for odd objects
        raise TypeError(f"`{name}` must be an array of floats in {unit}; got {type(value).__name__}.") from error
    if array.dtype == object or not (np.issubdtype(array.dtype, np.floating)
                                      or np.issubdtype(array.dtype, np.integer)
                                      or array.dtype == bool):
        raise TypeError(f"`{name}` must be an array of floats in {unit}; got dtype {array.dtype}.")
    # float32 and integer inputs are converted: every kernel computes in float64.
    return np.ascontiguousarray(array, dtype=np.float64)


def check_conductances(conductances):
    """Return the conductances as a C-contiguous float64 array of shape (n_word_lines, n_bit_lines)."""
    array = _as_float64_array("conductances", conductances, "siemens")
    if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(
            "`conductances` must be a non-empty 2-D array of shape (n_word_lines, n_bit_lines); "
            f"got shape {array.shape}."
        )
    bad = ~np.isfinite(array) | (array < 0)
    if bad.any():
        index = tuple(int(k) for k in np.argwhere(bad)[0])
        raise ValueError(
            f"`conductances` must be finite and non-negative, in siemens; got {float(array[index])!r} at "
            f"index {index}. An infinite conductance is a short: give the device a positive "
            "resistance, and use 0 for an open device."
        )
    return array


def check_voltages(applied_voltages, n_word_lines):
    """Return the voltages as float64 of shape (n_word_lines,) or (n_samples, n_word_lines)."""
    array = _as_float64_array("applied_voltages", applied_voltages, "volt")
    if array.ndim not in (1, 2) or array.shape[-1] != n_word_lines:
        raise ValueError(
            f"`applied_voltages` must have shape ({n_word_lines},) or (n_samples, {n_word_lines}) "
            f"to match the conductances' {n_word_lines} word lines; got shape {array.shape}."
        )
    if not np.isfinite(array).all():
        value = float(array[~np.isfinite(array)].flat[0])
        raise ValueError(f"`applied_voltages` must be finite, in volt; got {value!r}.")
    return array


def check_boundary_voltages(name, value, n_lines):
    """Return line-end voltages as float64 of shape (n_samples, n_lines); NaN marks an open end."""
    array = _as_float64_array(name, value, "volt")
    if array.ndim == 1:
        array = array[np.newaxis, :]
    if array.ndim != 2 or array.shape[-1] != n_lines:
        raise ValueError(
            f"`{name}` must have shape ({n_lines},) or (n_samples, {n_lines}); got shape {array.shape}."
        )
    if np.isinf(array).any():
        raise ValueError(f"`{name}` must be finite volts or NaN for an open end; got an infinite value.")
    open_ends = np.isnan(array)
    if not (open_ends == open_ends[0]).all():
        raise ValueError(
            f"`{name}` must leave the same line ends open (NaN) in every sample, because the "
            "open ends define the circuit; solve differing circuits in separate calls."
        )
    return np.ascontiguousarray(array)


def check_line_resistance(name, value):
    """Return a line resistance as a non-negative float in ohm."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a non-negative float in ohm; got {value!r}.")
    value = float(value)
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"`{name}` must be a non-negative float in ohm; got {value!r}.")
    return value


def check_backend(backend):
    """Return the backend name if it is one of BACKENDS."""
    if backend not in BACKENDS:
        raise ValueError(f"`backend` must be one of {', '.join(map(repr, BACKENDS))}; got {backend!r}.")
    return backend


def check_scheme(scheme):
    """Return the read scheme name if it is one of SCHEMES."""
    if scheme not in SCHEMES:
        raise ValueError(f"`scheme` must be one of {', '.join(map(repr, SCHEMES))}; got {scheme!r}.")
    return scheme


def check_tolerance(rtol):
    """Return the relative residual tolerance as a float in (0, 1)."""
    if isinstance(rtol, bool) or not isinstance(rtol, numbers.Real) or not 0 < rtol < 1:
        raise ValueError(f"`rtol` must be a float between 0 and 1 (exclusive); got {rtol!r}.")
    return float(rtol)


def check_iterations(max_iterations, default):
    """Return the iteration limit, ``default`` for None, as a positive int."""
    if max_iterations is None:
        return default
    if isinstance(max_iterations, bool) or not isinstance(max_iterations, numbers.Integral) or max_iterations < 1:
        raise ValueError(f"`max_iterations` must be a positive int or None; got {max_iterations!r}.")
    return int(max_iterations)


def check_threads(n_threads, default):
    """Return the thread count, ``default`` for None, as a positive int."""
    if n_threads is None:
        return default
    if isinstance(n_threads, bool) or not isinstance(n_threads, numbers.Integral) or n_threads < 1:
        raise ValueError(f"`n_threads` must be a positive int or None; got {n_threads!r}.")
    return int(n_threads)


def check_index(name, value, size):
    """Return a line index as an int in [0, size)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 0 <= value < size:
        raise ValueError(f"`{name}` must be an int from 0 to {size - 1}; got {value!r}.")
    return int(value)


def check_read_voltage(value):
    """Return the read voltage as a finite float in volt."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"`read_voltage` must be a finite float in volt; got {value!r}.")
    return float(value)
