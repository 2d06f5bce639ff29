"""Memristor device models as dataclasses in SI units.

Every model turns into a flat parameter vector that the pulse kernels read. The kernels
identify the model by :attr:`DeviceModel.model_id` and read the per-device parameters from an
array of shape (n_params, n_word_lines, n_bit_lines) whose row order is
:attr:`DeviceModel.param_names`.

Sign convention: a positive device voltage is the word line above the bit line. For every model
except :class:`VTEAM`, a positive pulse above threshold raises the conductance (potentiates).
VTEAM follows its published convention, where a positive voltage moves the state towards OFF;
:attr:`DeviceModel.potentiation_polarity` gives the sign that potentiates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from importlib import resources
from os import PathLike
from typing import ClassVar

import numpy as np

# Model identifiers shared with the compiled kernels; keep in sync with _numba_kernels.py and
# _device_kernels.pxi.
LINEAR_STEP = 0
SOFT_BOUNDS = 1
EXP_STEP = 2
LOOKUP_TABLE = 3
LINEAR_ION_DRIFT = 4
VTEAM_MODEL = 5

WINDOWS = {"none": 0, "joglekar": 1, "biolek": 2, "prodromakis": 3}
IV_CURVES = {"linear": 0, "exponential": 1}


def _check_positive(name: str, value: float, unit: str) -> None:
    if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, bool):
        raise TypeError(f"`{name}` must be a real number in {unit}; got {value!r}.")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"`{name}` must be a positive finite number in {unit}; got {value!r}.")


def _check_finite(name: str, value: float, unit: str) -> None:
    if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, bool):
        raise TypeError(f"`{name}` must be a real number in {unit}; got {value!r}.")
    if not math.isfinite(value):
        raise ValueError(f"`{name}` must be finite, in {unit}; got {value!r}.")


def _check_ordered(low_name: str, low: float, high_name: str, high: float, unit: str) -> None:
    _check_positive(low_name, low, unit)
    _check_positive(high_name, high, unit)
    if low >= high:
        raise ValueError(
            f"`{low_name}` must be below `{high_name}`; got {low_name}={low!r} and "
            f"{high_name}={high!r} {unit}. Swap them or widen the range."
        )


def _check_choice(name: str, value: str, choices: dict) -> None:
    if value not in choices:
        raise ValueError(
            f"Unknown `{name}` {value!r}; choose one of {', '.join(repr(c) for c in choices)}."
        )


@dataclass(frozen=True)
class DeviceModel:
    """Base class of device models: parameter layout and the hooks used by the kernels."""

    model_id: ClassVar[int]
    #: Row order of the per-device parameter array.
    param_names: ClassVar[tuple[str, ...]]
    #: Variability class of each parameter: "resistance" and "conductance" get the lognormal
    #: resistance spread, "step" the lognormal step spread (and is zeroed on stuck devices),
    #: "threshold" the normal threshold spread in volts, "fixed" nothing.
    param_kinds: ClassVar[tuple[str, ...]]
    #: Pairs (low, high) of parameters that must stay ordered on every device.
    ordered_pairs: ClassVar[tuple[tuple[str, str], ...]] = ()
    #: Sign of the device voltage that raises the conductance.
    potentiation_polarity: ClassVar[int] = 1

    @property
    def option(self) -> int:
        """Integer option passed to the kernels (window and I-V curve), 0 when unused."""
        return 0

    def nominal_params(self) -> np.ndarray:
        """Return the parameter vector of a nominal device, shape (n_params,), float64."""
        return np.array([float(getattr(self, name)) for name in self.param_names])

    def initial_state(self, params: dict[str, np.ndarray]) -> np.ndarray:
        """Return the state each device starts from, given its parameters, inside its bounds."""
        raise NotImplementedError

    def on_state(self, params: dict[str, np.ndarray]) -> np.ndarray:
        """Return the state of highest conductance, per device."""
        raise NotImplementedError

    def off_state(self, params: dict[str, np.ndarray]) -> np.ndarray:
        """Return the state of lowest conductance, per device."""
        raise NotImplementedError

    def tables(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Return the lookup tables (bins, cdf, up, down) the kernels read; empty by default."""
        empty1 = np.zeros(1)
        empty2 = np.zeros((1, 1))
        return empty1, empty1, empty2, empty2


@dataclass(frozen=True)
class _StepBase(DeviceModel):
    """Fields shared by the pulsed step models."""

    g_min: float = 1e-6
    """Lowest conductance, in siemens."""
    g_max: float = 1e-4
    """Highest conductance, in siemens."""
    dg_min: float = 1e-6
    """Step size of one nominal pulse at the reference state, in siemens."""
    up_down: float = 0.0
    """Up/down asymmetry in (-1, 1): the up step is dg_min (1 + up_down), the down step
    dg_min (1 - up_down)."""
    v_threshold_set: float = 0.8
    """Lowest positive device voltage that potentiates, in volts."""
    v_threshold_reset: float = -0.8
    """Highest negative device voltage that depresses, in volts."""
    pulse_width: float = 1e-6
    """Nominal pulse width, in seconds: a pulse of duration t counts as t / pulse_width pulses."""
    g_initial: float | None = None
    """Conductance every device starts from, in siemens (within its own bounds); None starts at g_min."""

    param_kinds: ClassVar[tuple[str, ...]]
    ordered_pairs: ClassVar[tuple[tuple[str, str], ...]] = (("g_min", "g_max"),)

    def __post_init__(self) -> None:
        _check_ordered("g_min", self.g_min, "g_max", self.g_max, "siemens")
        _check_positive("dg_min", self.dg_min, "siemens")
        _check_finite("up_down", self.up_down, "dimensionless units")
        if not -1.0 < self.up_down < 1.0:
            raise ValueError(f"`up_down` must lie in (-1, 1); got {self.up_down!r}.")
        _check_positive("v_threshold_set", self.v_threshold_set, "volts")
        _check_finite("v_threshold_reset", self.v_threshold_reset, "volts")
        if self.v_threshold_reset >= 0:
            raise ValueError(
                f"`v_threshold_reset` must be negative, in volts; got {self.v_threshold_reset!r}."
            )
        _check_positive("pulse_width", self.pulse_width, "seconds")
        if self.g_initial is not None:
            _check_finite("g_initial", self.g_initial, "siemens")
            if not self.g_min <= self.g_initial <= self.g_max:
                raise ValueError(
                    f"`g_initial` must lie in [g_min, g_max] = [{self.g_min}, {self.g_max}] S; "
                    f"got {self.g_initial!r}."
                )

    @property
    def dg_up(self) -> float:
        """Nominal potentiating step, in siemens."""
        return self.dg_min * (1.0 + self.up_down)

    @property
    def dg_down(self) -> float:
        """Nominal depressing step (a magnitude), in siemens."""
        return self.dg_min * (1.0 - self.up_down)

    def initial_state(self, params):
        # A device whose own bounds exclude g_initial starts at its nearest bound.
        if self.g_initial is None:
            return params["g_min"]
        return np.clip(self.g_initial, params["g_min"], params["g_max"])

    def on_state(self, params):
        return params["g_max"]

    def off_state(self, params):
        return params["g_min"]


@dataclass(frozen=True)
class LinearStep(_StepBase):
    """Constant-step pulsed device: every pulse moves the conductance by a fixed amount.

    A pulse of device voltage V and duration t, with n = t / pulse_width, changes the
    conductance g (siemens) by

        dg = +dg_up   * n * (1 + sigma * xi)   if V >= v_threshold_set,
        dg = -dg_down * n * (1 + sigma * xi)   if V <= v_threshold_reset,

    and by nothing in between, where sigma is the cycle-to-cycle noise and xi a standard normal
    draw per pulse. The result is clipped to [g_min, g_max], the device's physical range. This
    is the "constant step" device of analog-training simulators such as IBM's aihwkit.
    """

    model_id: ClassVar[int] = LINEAR_STEP
    param_names: ClassVar[tuple[str, ...]] = (
        "g_min", "g_max", "dg_up", "dg_down", "v_threshold_set", "v_threshold_reset", "pulse_width",
    )
    param_kinds: ClassVar[tuple[str, ...]] = (
        "conductance", "conductance", "step", "step", "threshold", "threshold", "fixed",
    )


@dataclass(frozen=True)
class SoftBounds(_StepBase):
    """Soft-bounds pulsed device: the step shrinks linearly towards each bound.

    With n = t / pulse_width and a = dg_up / (g_max - g_min) (and likewise b for depression),
    one pulse above threshold changes the conductance by

        dg = +(g_max - g) (1 - (1 - a)^n) (1 + sigma * xi)    when potentiating,
        dg = -(g - g_min) (1 - (1 - b)^n) (1 + sigma * xi)    when depressing,

    so the step from g_min is exactly dg_up and a noise-free device approaches g_max
    geometrically: g_k = g_max - (g_max - g_0)(1 - a)^k. The result is clipped to
    [g_min, g_max]. This is the soft-bounds device of analog-training simulators such as aihwkit.
    """

    model_id: ClassVar[int] = SOFT_BOUNDS
    param_names: ClassVar[tuple[str, ...]] = LinearStep.param_names
    param_kinds: ClassVar[tuple[str, ...]] = LinearStep.param_kinds

    def __post_init__(self) -> None:
        super().__post_init__()
        span = self.g_max - self.g_min
        if max(self.dg_up, self.dg_down) >= span:
            raise ValueError(
                f"`dg_min` (1 + |up_down|) must be below g_max - g_min = {span} S for soft bounds; "
                f"got dg_min={self.dg_min!r} S. Use a smaller step."
            )


@dataclass(frozen=True)
class ExpStep(_StepBase):
    """Exponential-step pulsed device: the step decays exponentially towards each bound.

    With z = (g - g_min) / (g_max - g_min) and n = t / pulse_width, one pulse changes the
    conductance by

        dg = +dg_up   n exp(-gamma_up z)       (1 + sigma * xi)   when potentiating,
        dg = -dg_down n exp(-gamma_down (1 - z)) (1 + sigma * xi) when depressing,

    clipped to [g_min, g_max]. gamma = 0 gives the linear step. This phenomenological form
    describes devices whose step collapses near the bound it approaches.
    """

    gamma_up: float = 3.0
    """Decay rate of the potentiating step over the normalised range, dimensionless."""
    gamma_down: float = 3.0
    """Decay rate of the depressing step over the normalised range, dimensionless."""

    model_id: ClassVar[int] = EXP_STEP
    param_names: ClassVar[tuple[str, ...]] = LinearStep.param_names + ("gamma_up", "gamma_down")
    param_kinds: ClassVar[tuple[str, ...]] = LinearStep.param_kinds + ("fixed", "fixed")

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_finite("gamma_up", self.gamma_up, "dimensionless units")
        _check_finite("gamma_down", self.gamma_down, "dimensionless units")


def _read_pulse_table(path: str | PathLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read one measured pulse-response table: (bins in S, cdf points, dG matrix in S)."""
    with open(path, encoding="utf-8") as handle:
        lines = [line.strip() for line in handle]
    numeric = [line for line in lines[1:] if line]
    rows = [np.array([float(value) for value in line.split(",")]) for line in numeric]
    bins, cdf = rows[0], rows[1]
    table = np.vstack(rows[2:])
    if table.shape != (cdf.size, bins.size):
        raise ValueError(
            f"Invalid pulse table {str(path)!r}: expected {cdf.size} rows of {bins.size} values "
            f"after the bin and CDF lines; got a table of shape {table.shape}."
        )
    return bins, cdf, table


@dataclass(frozen=True, eq=False)
class LookupTable(DeviceModel):
    """Device driven by measured pulse-response statistics.

    For each conductance bin G_k the table gives the empirical quantile function of the
    conductance change per pulse. One pulse above threshold on a device at conductance g takes
    the bin nearest g, draws u ~ U(0, 1) and changes g by the potentiating (or depressing)
    quantile interpolated linearly at u, times n = t / pulse_width. The result is clipped to
    [g_min, g_max].

    :meth:`enode` loads tables measured on an electrochemical neuromorphic organic device
    (ENODe). Sandia National Laboratories published them in its cross-sim-data repository
    under the BSD 3-Clause licence, which ships beside them in ``fastxbar/data/enode``.
    """

    g_bins: np.ndarray = field(default_factory=lambda: np.array([1e-6, 1e-4]))
    """Conductance bin centres, shape (n_bins,), increasing, in siemens."""
    cdf: np.ndarray = field(default_factory=lambda: np.array([0.0, 1.0]))
    """Cumulative probabilities of the quantile rows, shape (n_quantiles,), from 0 to 1."""
    dg_increasing: np.ndarray = field(default_factory=lambda: np.full((2, 2), 1e-6))
    """Potentiating step per quantile and bin, shape (n_quantiles, n_bins), in siemens."""
    dg_decreasing: np.ndarray = field(default_factory=lambda: np.full((2, 2), -1e-6))
    """Depressing step per quantile and bin, shape (n_quantiles, n_bins), in siemens."""
    g_min: float | None = None
    """Lowest conductance, in siemens; None uses the first bin."""
    g_max: float | None = None
    """Highest conductance, in siemens; None uses the last bin."""
    v_threshold_set: float = 0.8
    """Lowest positive device voltage that potentiates, in volts."""
    v_threshold_reset: float = -0.8
    """Highest negative device voltage that depresses, in volts."""
    pulse_width: float = 1e-6
    """Nominal pulse width of the measurement, in seconds."""
    g_initial: float | None = None
    """Conductance every device starts from, in siemens (within its own bounds); None starts at g_min."""

    model_id: ClassVar[int] = LOOKUP_TABLE
    param_names: ClassVar[tuple[str, ...]] = (
        "g_min", "g_max", "step_scale", "v_threshold_set", "v_threshold_reset", "pulse_width",
    )
    param_kinds: ClassVar[tuple[str, ...]] = (
        "conductance", "conductance", "step", "threshold", "threshold", "fixed",
    )
    ordered_pairs: ClassVar[tuple[tuple[str, str], ...]] = (("g_min", "g_max"),)

    def __post_init__(self) -> None:
        for name in ("g_bins", "cdf", "dg_increasing", "dg_decreasing"):
            array = np.ascontiguousarray(getattr(self, name), dtype=np.float64)
            if not np.all(np.isfinite(array)):
                raise ValueError(f"`{name}` contains NaN or infinite values; clean the table.")
            object.__setattr__(self, name, array)
        bins, cdf = self.g_bins, self.cdf
        if bins.ndim != 1 or bins.size < 1 or np.any(np.diff(bins) <= 0) or bins[0] <= 0:
            raise ValueError("`g_bins` must be a 1-D array of positive, increasing conductances in S.")
        if cdf.ndim != 1 or cdf.size < 2 or np.any(np.diff(cdf) < 0) or cdf[0] != 0 or cdf[-1] != 1:
            raise ValueError("`cdf` must be a 1-D non-decreasing array that runs from 0 to 1.")
        for name in ("dg_increasing", "dg_decreasing"):
            shape = getattr(self, name).shape
            if shape != (cdf.size, bins.size):
                raise ValueError(
                    f"`{name}` must have shape (len(cdf), len(g_bins)) = {(cdf.size, bins.size)}; "
                    f"got {shape}."
                )
        object.__setattr__(self, "g_min", float(bins[0]) if self.g_min is None else self.g_min)
        object.__setattr__(self, "g_max", float(bins[-1]) if self.g_max is None else self.g_max)
        _check_ordered("g_min", self.g_min, "g_max", self.g_max, "siemens")
        _check_positive("v_threshold_set", self.v_threshold_set, "volts")
        if self.v_threshold_reset >= 0:
            raise ValueError(
                f"`v_threshold_reset` must be negative, in volts; got {self.v_threshold_reset!r}."
            )
        _check_positive("pulse_width", self.pulse_width, "seconds")

    @property
    def step_scale(self) -> float:
        """Multiplier on the sampled step: 1 for a nominal device, 0 for a stuck one."""
        return 1.0

    @classmethod
    def from_files(
        cls, increasing: str | PathLike, decreasing: str | PathLike, **kwargs
    ) -> "LookupTable":
        """Build a lookup-table device from a potentiating and a depressing table file.

        Each file has a header line, a line of conductance bins (S), a line of cumulative
        probabilities, then one line of conductance changes (S) per probability and bin.
        Keyword arguments set the other fields.
        """
        bins_up, cdf_up, table_up = _read_pulse_table(increasing)
        bins_down, cdf_down, table_down = _read_pulse_table(decreasing)
        if not (np.allclose(bins_up, bins_down) and np.allclose(cdf_up, cdf_down)):
            raise ValueError(
                "The potentiating and depressing tables must share conductance bins and CDF points."
            )
        return cls(
            g_bins=bins_up, cdf=cdf_up, dg_increasing=table_up, dg_decreasing=table_down, **kwargs
        )

    @classmethod
    def enode(cls, **kwargs) -> "LookupTable":
        """Load the measured ENODe tables shipped with fastxbar (licence in ``data/enode``)."""
        folder = resources.files("fastxbar") / "data" / "enode"
        with resources.as_file(folder / "dG_increasing.txt") as up, resources.as_file(
            folder / "dG_decreasing.txt"
        ) as down:
            return cls.from_files(up, down, **kwargs)

    def initial_state(self, params):
        # A device whose own bounds exclude g_initial starts at its nearest bound.
        if self.g_initial is None:
            return params["g_min"]
        return np.clip(self.g_initial, params["g_min"], params["g_max"])

    def on_state(self, params):
        return params["g_max"]

    def off_state(self, params):
        return params["g_min"]

    def tables(self):
        return self.g_bins, self.cdf, self.dg_increasing, self.dg_decreasing


@dataclass(frozen=True)
class LinearIonDrift(DeviceModel):
    """Linear ion-drift memristor (Strukov et al., Nature 453, 80, 2008, doi:10.1038/nature06932).

    The state x in [0, 1] is the doped fraction of the film. The resistance is
    R(x) = r_on x + r_off (1 - x) and the state follows the current i = V / R(x):

        dx/dt = (mobility r_on / thickness^2) i(t) f(x, i),

    so under a fixed voltage the step depends on the state. Windows f:

    * ``"none"``: f = 1, integrated exactly. With k = mobility r_on / thickness^2, the state
      after a pulse solves r_off x - (r_off - r_on) x^2 / 2 = (same at x0) + k V t, so x moves by
      k times the charge that passed. The state is then clipped to [0, 1], a hard wall.
    * ``"joglekar"``: f = 1 - (2x - 1)^(2p) (Joglekar and Wolf, Eur. J. Phys. 30, 661, 2009).
      f vanishes at both bounds, so a device that reaches x = 0 or x = 1 stays stuck there.
    * ``"biolek"``: f = 1 - (x - stp(-i))^(2p) (Biolek et al., Radioengineering 18(2), 210, 2009),
      which depends on the current's direction, so a device can leave the bound it reached.
    * ``"prodromakis"``: f = j (1 - ((x - 1/2)^2 + 3/4)^p) (Prodromakis et al., IEEE TED 58(9),
      3099, 2011).

    Windowed models are integrated with classic Runge-Kutta over ``n_substeps`` equal sub-steps
    per pulse, clipping x to [0, 1] after each. The defaults are the values of Strukov et al.
    """

    r_on: float = 100.0
    """Resistance of the fully doped device, in ohm."""
    r_off: float = 16e3
    """Resistance of the undoped device, in ohm."""
    thickness: float = 10e-9
    """Film thickness D, in metres."""
    mobility: float = 1e-14
    """Dopant mobility mu_v, in square metres per volt-second."""
    window: str = "none"
    """Window function: "none", "joglekar", "biolek" or "prodromakis"."""
    p: float = 1.0
    """Window exponent, dimensionless (positive)."""
    j: float = 1.0
    """Scale of the Prodromakis window, dimensionless."""
    x_initial: float = 0.0
    """State every device starts from, in [0, 1]."""

    model_id: ClassVar[int] = LINEAR_ION_DRIFT
    param_names: ClassVar[tuple[str, ...]] = ("r_on", "r_off", "drift_rate", "p", "j")
    param_kinds: ClassVar[tuple[str, ...]] = ("resistance", "resistance", "step", "fixed", "fixed")
    ordered_pairs: ClassVar[tuple[tuple[str, str], ...]] = (("r_on", "r_off"),)

    def __post_init__(self) -> None:
        _check_ordered("r_on", self.r_on, "r_off", self.r_off, "ohm")
        _check_positive("thickness", self.thickness, "metres")
        _check_positive("mobility", self.mobility, "m^2/(V s)")
        _check_choice("window", self.window, WINDOWS)
        _check_positive("p", self.p, "dimensionless units")
        _check_positive("j", self.j, "dimensionless units")
        _check_finite("x_initial", self.x_initial, "dimensionless units")
        if not 0.0 <= self.x_initial <= 1.0:
            raise ValueError(f"`x_initial` must lie in [0, 1]; got {self.x_initial!r}.")

    @property
    def drift_rate(self) -> float:
        """k = mobility r_on / thickness^2: state change per coulomb, in 1/C."""
        return self.mobility * self.r_on / self.thickness**2

    @property
    def option(self) -> int:
        return WINDOWS[self.window]

    def initial_state(self, params):
        return np.full_like(params["r_on"], self.x_initial)

    def on_state(self, params):
        return np.ones_like(params["r_on"])

    def off_state(self, params):
        return np.zeros_like(params["r_on"])


@dataclass(frozen=True)
class VTEAM(DeviceModel):
    """Voltage threshold adaptive memristor (Kvatinsky et al., IEEE TCAS-II 62(8), 786, 2015,
    doi:10.1109/TCSII.2015.2433536).

    The state w (metres) moves only beyond the voltage thresholds v_on < 0 < v_off:

        dw/dt = k_off (V / v_off - 1)^alpha_off f(x)    if V > v_off   (towards OFF),
        dw/dt = k_on  (V / v_on  - 1)^alpha_on  f(x)    if V < v_on    (towards ON),
        dw/dt = 0                                        otherwise,

    with k_on < 0 < k_off and x = (w - w_on) / (w_off - w_on) in [0, 1]. A voltage between the
    thresholds changes nothing for any duration, which is what makes half-select write schemes
    work. The I-V curve is linear, R = r_on + (r_off - r_on) x, or exponential,
    R = r_on exp(ln(r_off / r_on) x). A negative voltage potentiates.

    Without a window the state moves at a constant rate, so it is integrated exactly. The windows
    of :class:`LinearIonDrift` act on x and on the direction of motion, and windowed devices are
    integrated with Runge-Kutta sub-steps.

    The defaults are illustrative (thresholds of +-0.7 V, a 3 nm range crossed in about 100
    nominal 1 us pulses at 1.2 V), not a fit to one device.
    """

    v_on: float = -0.7
    """Threshold towards ON, in volts (negative)."""
    v_off: float = 0.7
    """Threshold towards OFF, in volts (positive)."""
    k_on: float = -1e-4
    """Rate constant towards ON, in metres per second (negative)."""
    k_off: float = 1e-4
    """Rate constant towards OFF, in metres per second (positive)."""
    alpha_on: float = 3.0
    """Exponent beyond v_on, dimensionless."""
    alpha_off: float = 3.0
    """Exponent beyond v_off, dimensionless."""
    r_on: float = 1e3
    """Resistance at w = w_on, in ohm."""
    r_off: float = 1e5
    """Resistance at w = w_off, in ohm."""
    w_on: float = 0.0
    """State bound of the ON side, in metres."""
    w_off: float = 3e-9
    """State bound of the OFF side, in metres."""
    window: str = "none"
    """Window function on x: "none", "joglekar", "biolek" or "prodromakis"."""
    p: float = 1.0
    """Window exponent, dimensionless."""
    iv: str = "linear"
    """I-V curve: "linear" or "exponential"."""
    w_initial: float | None = None
    """State every device starts from, in metres; None starts at w_off (lowest conductance)."""

    model_id: ClassVar[int] = VTEAM_MODEL
    param_names: ClassVar[tuple[str, ...]] = (
        "v_on", "v_off", "k_on", "k_off", "alpha_on", "alpha_off", "r_on", "r_off", "w_on", "w_off", "p",
    )
    param_kinds: ClassVar[tuple[str, ...]] = (
        "threshold", "threshold", "step", "step", "fixed", "fixed",
        "resistance", "resistance", "fixed", "fixed", "fixed",
    )
    ordered_pairs: ClassVar[tuple[tuple[str, str], ...]] = (("r_on", "r_off"),)
    potentiation_polarity: ClassVar[int] = -1

    def __post_init__(self) -> None:
        _check_finite("v_on", self.v_on, "volts")
        _check_finite("v_off", self.v_off, "volts")
        if not self.v_on < 0 < self.v_off:
            raise ValueError(
                f"VTEAM thresholds must satisfy v_on < 0 < v_off; got v_on={self.v_on!r} V, "
                f"v_off={self.v_off!r} V."
            )
        _check_finite("k_on", self.k_on, "m/s")
        _check_finite("k_off", self.k_off, "m/s")
        if not self.k_on < 0 < self.k_off:
            raise ValueError(
                f"VTEAM rates must satisfy k_on < 0 < k_off; got k_on={self.k_on!r} m/s, "
                f"k_off={self.k_off!r} m/s."
            )
        _check_positive("alpha_on", self.alpha_on, "dimensionless units")
        _check_positive("alpha_off", self.alpha_off, "dimensionless units")
        _check_ordered("r_on", self.r_on, "r_off", self.r_off, "ohm")
        _check_finite("w_on", self.w_on, "metres")
        _check_finite("w_off", self.w_off, "metres")
        if self.w_on >= self.w_off:
            raise ValueError(
                f"`w_on` must be below `w_off`; got w_on={self.w_on!r} m, w_off={self.w_off!r} m."
            )
        _check_choice("window", self.window, WINDOWS)
        _check_choice("iv", self.iv, IV_CURVES)
        _check_positive("p", self.p, "dimensionless units")
        if self.w_initial is not None:
            _check_finite("w_initial", self.w_initial, "metres")
            if not self.w_on <= self.w_initial <= self.w_off:
                raise ValueError(
                    f"`w_initial` must lie in [w_on, w_off] = [{self.w_on}, {self.w_off}] m; "
                    f"got {self.w_initial!r}."
                )

    @property
    def option(self) -> int:
        return WINDOWS[self.window] + 4 * IV_CURVES[self.iv]

    def initial_state(self, params):
        return params["w_off"] if self.w_initial is None else np.full_like(params["w_off"], self.w_initial)

    def on_state(self, params):
        return params["w_on"]

    def off_state(self, params):
        return params["w_off"]


def field_names(device: DeviceModel) -> list[str]:
    """Return the dataclass field names of a device model, for experiment files."""
    return [f.name for f in fields(device)]


CUSTOM = -1


@dataclass(frozen=True, eq=False)
class CustomDevice(DeviceModel):
    """A device model written by the user as Numba ``@njit`` functions.

    ``update(state, voltage, duration, params) -> new_state`` returns one device's state after
    a pulse of ``voltage`` volts for ``duration`` seconds, with ``params`` a 1-D float64 array
    of that device's parameters in the order of ``parameters``. ``conductance(state, params)``
    returns the device's conductance in siemens. Both run inside fastxbar's compiled Numba
    pulse kernel, in parallel over word lines, so they must be pure functions.

    Cycle-to-cycle noise scales each pulse's step, ``state + (update(...) - state) * eta``, and
    the state is then clipped to [state_min, state_max]. Only the "numba" backend compiles
    custom models; the "numpy" backend evaluates the same functions in pure Python, as a slow
    reference.

    Examples
    --------
    >>> from numba import njit
    >>> @njit
    ... def halve_distance(state, voltage, duration, params):
    ...     return state + 0.5 * (params[1] - state) if voltage > params[0] else state
    >>> @njit
    ... def identity(state, params):
    ...     return state
    >>> device = CustomDevice(halve_distance, identity, {"v_threshold": 0.5, "g_max": 1e-4},
    ...                       state_min=0.0, state_max=1e-4, state_initial=0.0)
    """

    update: object = None
    """Numba-compiled state update ``(state, voltage, duration, params) -> new_state``."""
    conductance: object = None
    """Numba-compiled ``(state, params) -> conductance in siemens``."""
    parameters: dict = field(default_factory=dict)
    """Nominal parameter values by name, in SI units."""
    state_min: float = 0.0
    """Lowest allowed state."""
    state_max: float = 1.0
    """Highest allowed state."""
    state_initial: float = 0.0
    """State every device starts from."""
    kinds: dict = field(default_factory=dict)
    """Variability class of each parameter ("resistance", "conductance", "step", "threshold"
    or "fixed", the default), as for the built-in models."""
    on_is_max: bool = True
    """Whether the highest state is the highest conductance (used for stuck devices)."""

    model_id: ClassVar[int] = CUSTOM

    def __post_init__(self) -> None:
        for name in ("update", "conductance"):
            function = getattr(self, name)
            if not hasattr(function, "py_func"):
                raise TypeError(
                    f"`{name}` must be a Numba @njit function; got {function!r}. "
                    "Decorate it with numba.njit."
                )
        if not self.parameters:
            raise ValueError("`parameters` must name at least one parameter, e.g. {'g_max': 1e-4}.")
        for name, value in self.parameters.items():
            _check_finite(name, value, "SI units")
        for name, kind in self.kinds.items():
            if name not in self.parameters:
                raise ValueError(f"`kinds` names {name!r}, which is not in `parameters`.")
            if kind not in ("resistance", "conductance", "step", "threshold", "fixed"):
                raise ValueError(f"Unknown kind {kind!r} for parameter {name!r}.")
        _check_finite("state_min", self.state_min, "state units")
        _check_finite("state_max", self.state_max, "state units")
        if self.state_min >= self.state_max:
            raise ValueError(
                f"`state_min` must be below `state_max`; got {self.state_min!r} and {self.state_max!r}."
            )
        if not self.state_min <= self.state_initial <= self.state_max:
            raise ValueError(
                f"`state_initial` must lie in [state_min, state_max]; got {self.state_initial!r}."
            )

    @property
    def param_names(self) -> tuple[str, ...]:  # type: ignore[override]
        return tuple(self.parameters)

    @property
    def param_kinds(self) -> tuple[str, ...]:  # type: ignore[override]
        return tuple(self.kinds.get(name, "fixed") for name in self.parameters)

    def nominal_params(self) -> np.ndarray:
        return np.array([float(value) for value in self.parameters.values()])

    def initial_state(self, params):
        return np.full_like(next(iter(params.values())), self.state_initial)

    def on_state(self, params):
        value = self.state_max if self.on_is_max else self.state_min
        return np.full_like(next(iter(params.values())), value)

    def off_state(self, params):
        value = self.state_min if self.on_is_max else self.state_max
        return np.full_like(next(iter(params.values())), value)
