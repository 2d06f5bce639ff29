"""Device-to-device variability, cycle-to-cycle noise and stuck devices."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .devices import DeviceModel

#: Redraws allowed for devices whose sampled parameters break an ordering (r_on < r_off, ...).
MAX_REDRAWS = 100


@dataclass(frozen=True)
class Variability:
    """Spreads of device parameters across an array and noise on each pulse.

    All spreads default to zero, and with every field at zero all devices are identical and
    deterministic. Device-to-device parameters are drawn once per crossbar from its seed.
    """

    resistance_spread: float = 0.0
    """Standard deviation of ln(R) across devices, applied to resistances and conductance
    bounds (dimensionless; 0.3 is about a 30 % spread)."""
    step_spread: float = 0.0
    """Standard deviation of ln(step size or rate) across devices, dimensionless."""
    threshold_spread: float = 0.0
    """Standard deviation of the switching thresholds across devices, in volts."""
    cycle_to_cycle: float = 0.0
    """Relative standard deviation of each pulse's step: the step is multiplied by 1 + s xi
    with xi a fresh standard normal draw per device and pulse."""
    stuck_on_fraction: float = 0.0
    """Fraction of devices stuck at their highest conductance, in [0, 1]."""
    stuck_off_fraction: float = 0.0
    """Fraction of devices stuck at their lowest conductance, in [0, 1]."""

    def __post_init__(self) -> None:
        for name in ("resistance_spread", "step_spread", "threshold_spread", "cycle_to_cycle"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise TypeError(f"`{name}` must be a real number; got {value!r}.")
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"`{name}` must be a non-negative finite number; got {value!r}.")
        for name in ("stuck_on_fraction", "stuck_off_fraction"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
                raise ValueError(f"`{name}` must be a fraction in [0, 1]; got {value!r}.")
        if self.stuck_on_fraction + self.stuck_off_fraction > 1.0:
            raise ValueError(
                "`stuck_on_fraction` + `stuck_off_fraction` must not exceed 1; got "
                f"{self.stuck_on_fraction} + {self.stuck_off_fraction}."
            )

    @property
    def device_to_device(self) -> bool:
        """Whether devices get individual parameters."""
        return (
            self.resistance_spread > 0
            or self.step_spread > 0
            or self.threshold_spread > 0
            or self.stuck_on_fraction > 0
            or self.stuck_off_fraction > 0
        )


def _draw(kind: str, nominal: float, variability: Variability, rng, shape) -> np.ndarray:
    if kind in ("resistance", "conductance") and variability.resistance_spread > 0:
        return nominal * np.exp(variability.resistance_spread * rng.standard_normal(shape))
    if kind == "step" and variability.step_spread > 0:
        return nominal * np.exp(variability.step_spread * rng.standard_normal(shape))
    if kind == "threshold" and variability.threshold_spread > 0:
        return nominal + variability.threshold_spread * rng.standard_normal(shape)
    return np.full(shape, nominal)


def _invalid_devices(device: DeviceModel, values: dict[str, np.ndarray]) -> np.ndarray:
    """Return a mask of devices whose parameters break an ordering or a threshold's sign."""
    invalid = np.zeros(next(iter(values.values())).shape, dtype=bool)
    for low, high in device.ordered_pairs:
        invalid |= values[low] >= values[high]
    for name, kind in zip(device.param_names, device.param_kinds):
        if kind != "threshold":
            continue
        # A threshold keeps the sign of its nominal value, or the device would switch at 0 V.
        nominal = getattr(device, name)
        invalid |= values[name] * np.sign(nominal) <= 0
    return invalid


def sample_parameters(
    device: DeviceModel,
    shape: tuple[int, int],
    variability: Variability,
    rng: np.random.Generator,
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Draw per-device parameters, the stuck masks, for an array of the given shape.

    Devices whose draw breaks an ordering (r_on >= r_off, g_min >= g_max, a threshold of the
    wrong sign) are redrawn, so no device is clipped to make it valid.

    Returns
    -------
    values : dict of str to ndarray of shape (n_word_lines, n_bit_lines), float64
        One array per entry of ``device.param_names``.
    stuck_on, stuck_off : ndarray of bool, shape (n_word_lines, n_bit_lines)
    """
    nominal = dict(zip(device.param_names, device.nominal_params()))
    values = {
        name: _draw(kind, nominal[name], variability, rng, shape)
        for name, kind in zip(device.param_names, device.param_kinds)
    }
    for _ in range(MAX_REDRAWS):
        invalid = _invalid_devices(device, values)
        count = int(invalid.sum())
        if count == 0:
            break
        for name, kind in zip(device.param_names, device.param_kinds):
            values[name][invalid] = _draw(kind, nominal[name], variability, rng, count)
    else:
        raise ValueError(
            f"Could not draw valid parameters for {count} devices in {MAX_REDRAWS} attempts: "
            f"the spreads in {variability!r} are too wide for {type(device).__name__}. "
            "Reduce resistance_spread or threshold_spread."
        )

    uniform = rng.random(shape)
    stuck_on = uniform < variability.stuck_on_fraction
    stuck_off = (~stuck_on) & (uniform < variability.stuck_on_fraction + variability.stuck_off_fraction)
    stuck = stuck_on | stuck_off
    for name, kind in zip(device.param_names, device.param_kinds):
        if kind == "step":
            values[name][stuck] = 0.0
    return values, stuck_on, stuck_off
