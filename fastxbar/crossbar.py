"""The Crossbar: device states, their conductances, programming pulses and reads."""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import numpy.typing as npt

from . import _rng
from ._backends import check_backend, device_kernels
from ._config import DEFAULT_SUBSTEPS, PARALLEL_MIN_DEVICES, default_threads
from .devices import CustomDevice, DeviceModel
from .variability import Variability, sample_parameters

_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _check_count(name: str, value: object) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
        raise TypeError(f"`{name}` must be a positive integer; got {value!r}.")
    if value < 1:
        raise ValueError(f"`{name}` must be a positive integer; got {value!r}.")
    return int(value)


def check_resistance(name: str, value: object) -> float:
    """Return ``value`` as a float if it is a non-negative finite resistance in ohm, else raise."""
    if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, bool):
        raise TypeError(f"`{name}` must be a non-negative float in ohm; got {value!r}.")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"`{name}` must be a non-negative float in ohm; got {value!r}.")
    return float(value)


def check_duration(duration: object) -> float:
    """Return ``duration`` as a float if it is a positive finite time in seconds, else raise."""
    if not isinstance(duration, (int, float, np.integer, np.floating)) or isinstance(duration, bool):
        raise TypeError(f"`duration` must be a positive float in seconds; got {duration!r}.")
    if not math.isfinite(duration) or duration <= 0:
        raise ValueError(f"`duration` must be a positive finite float in seconds; got {duration!r}.")
    return float(duration)


def check_voltages(name: str, values: npt.ArrayLike, shape: tuple[int, ...]) -> np.ndarray:
    """Return ``values`` as a C-contiguous float64 array of ``shape``; a scalar is broadcast."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"`{name}` must be an array of voltages in volts; got {values!r}.") from error
    if array.ndim == 0:
        array = np.full(shape, float(array))
    if array.shape != shape:
        raise ValueError(f"`{name}` must have shape {shape}; got an array of shape {array.shape}.")
    if not np.all(np.isfinite(array)):
        index = tuple(int(k) for k in np.argwhere(~np.isfinite(array))[0])
        raise ValueError(
            f"`{name}` must be finite, in volts; found {float(array[index])} at index {index}. "
            "Replace NaN or inf values."
        )
    return np.ascontiguousarray(array)


class Crossbar:
    """A crossbar of memristive devices with per-device parameters.

    Parameters
    ----------
    n_word_lines, n_bit_lines : int
        Number of rows (word lines, inputs) and columns (bit lines, outputs).
    device : DeviceModel
        The nominal device, for example :class:`fastxbar.devices.SoftBounds`.
    variability : Variability, optional
        Device-to-device spreads, cycle-to-cycle noise and stuck devices; None means none.
    seed : int, numpy.random.SeedSequence or None
        Seed of every random draw of this crossbar: the per-device parameters and each pulse's
        noise. The same seed reproduces results bit for bit, for any thread count and backend.
    dtype : numpy.float32 or numpy.float64
        Floating-point type of the state and parameters.
    backend : {"numba", "cython", "numpy"}
        Kernels that apply pulses and solve reads. "numpy" is the slow reference.
    r_word_line, r_bit_line : float
        Resistance of one word-line and one bit-line segment, in ohm, used by :meth:`read`.
    n_substeps : int
        Runge-Kutta sub-steps per pulse for device models without a closed form.
    n_threads : int, optional
        Threads used by the compiled kernels; None uses all cores available to the process.
        Arrays of fewer than 16384 devices are updated on one thread.

    Notes
    -----
    Device (i, j) joins word line i to bit line j. A pulse puts ``word_line_voltages[i] -
    bit_line_voltages[j]`` volts across it. State and conductance stay inside the device's
    physical bounds after every pulse.
    """

    def __init__(
        self,
        n_word_lines: int,
        n_bit_lines: int,
        device: DeviceModel,
        *,
        variability: Variability | None = None,
        seed: int | np.random.SeedSequence | None = None,
        dtype: npt.DTypeLike = np.float64,
        backend: Literal["numba", "cython", "numpy"] = "numba",
        r_word_line: float = 0.0,
        r_bit_line: float = 0.0,
        n_substeps: int = DEFAULT_SUBSTEPS,
        n_threads: int | None = None,
    ) -> None:
        shape = (_check_count("n_word_lines", n_word_lines), _check_count("n_bit_lines", n_bit_lines))
        if not isinstance(device, DeviceModel):
            raise TypeError(
                f"`device` must be a fastxbar.devices model such as SoftBounds(); got {device!r}."
            )
        variability = Variability() if variability is None else variability
        if not isinstance(variability, Variability):
            raise TypeError(f"`variability` must be a fastxbar.Variability; got {variability!r}.")
        try:
            dtype = np.dtype(dtype)
        except TypeError as error:
            raise TypeError(f"`dtype` must be numpy.float32 or numpy.float64; got {dtype!r}.") from error
        if dtype not in _DTYPES:
            raise TypeError(f"`dtype` must be numpy.float32 or numpy.float64; got {dtype}.")

        self.shape = shape
        self.device = device
        self.variability = variability
        self.dtype = dtype
        self.backend = check_backend(backend)
        if isinstance(device, CustomDevice) and self.backend == "cython":
            raise ValueError(
                "Custom device models run on backend='numba' (compiled) or backend='numpy' "
                "(pure-Python reference); got backend='cython'."
            )
        self.r_word_line = check_resistance("r_word_line", r_word_line)
        self.r_bit_line = check_resistance("r_bit_line", r_bit_line)
        self.n_substeps = _check_count("n_substeps", n_substeps)
        self.n_threads = default_threads() if n_threads is None else _check_count("n_threads", n_threads)

        if isinstance(seed, np.random.SeedSequence):
            self.seed_sequence = seed
        elif seed is None or (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0):
            self.seed_sequence = np.random.SeedSequence(seed)
        else:
            raise TypeError(
                f"`seed` must be a non-negative integer, a numpy.random.SeedSequence or None; got {seed!r}."
            )
        parameter_seed, noise_seed = self.seed_sequence.spawn(2)
        self._base_key = int(noise_seed.generate_state(1, dtype=np.uint64)[0])
        self.pulse_count = 0
        self._init_devices(np.random.default_rng(parameter_seed))

    def _init_devices(self, rng: np.random.Generator) -> None:
        device, shape = self.device, self.shape
        if self.variability.device_to_device:
            values, self.stuck_on, self.stuck_off = sample_parameters(device, shape, self.variability, rng)
            # Parameters stay float64 for either state dtype: a float32 pulse width or bound
            # would turn one nominal pulse into 1.0000001 pulses.
            self._params = np.ascontiguousarray(np.stack([values[name] for name in device.param_names]))
        else:
            nominal = device.nominal_params()
            # Zero strides: identical devices share one parameter vector, so the kernels stream
            # only the state through memory.
            self._params = np.broadcast_to(nominal[:, None, None], (nominal.size, *shape))
            self.stuck_on = np.zeros(shape, dtype=bool)
            self.stuck_off = np.zeros(shape, dtype=bool)
        params = {name: np.asarray(values, np.float64) for name, values in self.parameters.items()}
        state = np.array(np.broadcast_to(device.initial_state(params), shape), dtype=np.float64)
        state[self.stuck_on] = np.broadcast_to(device.on_state(params), shape)[self.stuck_on]
        state[self.stuck_off] = np.broadcast_to(device.off_state(params), shape)[self.stuck_off]
        self._state = state.astype(self.dtype)
        self._tables = tuple(np.ascontiguousarray(t, dtype=np.float64) for t in device.tables())
        self._no_extra_voltage = np.broadcast_to(np.zeros((1, 1)), shape)

    @property
    def n_word_lines(self) -> int:
        """Number of word lines (rows)."""
        return self.shape[0]

    @property
    def n_bit_lines(self) -> int:
        """Number of bit lines (columns)."""
        return self.shape[1]

    @property
    def parameters(self) -> dict[str, np.ndarray]:
        """Per-device parameters by name, each a float64 ndarray of shape (n_word_lines, n_bit_lines)."""
        return {name: self._params[k] for k, name in enumerate(self.device.param_names)}

    @property
    def state(self) -> np.ndarray:
        """Internal state of each device, a read-only view of shape (n_word_lines, n_bit_lines).

        Conductance in siemens for the step and lookup-table models, the doped fraction x for
        LinearIonDrift and the state variable w in metres for VTEAM. Use :meth:`set_state` to
        change it.
        """
        view = self._state.view()
        view.flags.writeable = False
        return view

    def set_state(self, state: npt.ArrayLike) -> None:
        """Set every device's state; stuck devices keep theirs, and values out of bounds raise."""
        array = np.array(state, dtype=np.float64)
        if array.ndim == 0:
            array = np.full(self.shape, float(array))
        if array.shape != self.shape:
            raise ValueError(f"`state` must have shape {self.shape}; got {array.shape}.")
        low = np.minimum(self.device.off_state(self.parameters), self.device.on_state(self.parameters))
        high = np.maximum(self.device.off_state(self.parameters), self.device.on_state(self.parameters))
        outside = ~np.isfinite(array) | (array < low) | (array > high)
        if np.any(outside):
            index = tuple(int(k) for k in np.argwhere(outside)[0])
            raise ValueError(
                f"`state` at device {index} is {array[index]!r}, outside its bounds "
                f"[{np.broadcast_to(low, self.shape)[index]}, {np.broadcast_to(high, self.shape)[index]}]."
            )
        stuck = self.stuck_on | self.stuck_off
        array[stuck] = self._state[stuck]
        self._state = array.astype(self.dtype)

    @property
    def conductances(self) -> np.ndarray:
        """Conductance of each device, ndarray of shape (n_word_lines, n_bit_lines), in siemens."""
        out = np.empty(self.shape, dtype=self.dtype)
        if isinstance(self.device, CustomDevice):
            self._custom_conductance(out)
            return out
        kernels = device_kernels(self.backend)
        kernels.state_to_conductance(
            self.device.model_id, self.device.option, self._state, self._params, out,
            self._kernel_threads,
        )
        return out

    def apply_pulse(
        self,
        word_line_voltages: npt.ArrayLike,
        bit_line_voltages: npt.ArrayLike,
        duration: float,
    ) -> None:
        """Apply one programming pulse to the whole array at once.

        Parameters
        ----------
        word_line_voltages : array_like of shape (n_word_lines,) or scalar
            Voltage driven on each word line, in volts.
        bit_line_voltages : array_like of shape (n_bit_lines,) or scalar
            Voltage driven on each bit line, in volts.
        duration : float
            Pulse width, in seconds.
        """
        rows = check_voltages("word_line_voltages", word_line_voltages, (self.shape[0],))
        columns = check_voltages("bit_line_voltages", bit_line_voltages, (self.shape[1],))
        duration = check_duration(duration)
        self._run_pulse(rows, columns, self._no_extra_voltage, duration)

    def apply_device_voltages(self, device_voltages: npt.ArrayLike, duration: float) -> None:
        """Apply a pulse of ``duration`` seconds with each device's own voltage, in volts.

        ``device_voltages`` has shape (n_word_lines, n_bit_lines), for example the device
        voltages of a write solved through the line resistances.
        """
        voltages = check_voltages("device_voltages", device_voltages, self.shape)
        duration = check_duration(duration)
        zeros_rows = np.zeros(self.shape[0])
        zeros_columns = np.zeros(self.shape[1])
        self._run_pulse(zeros_rows, zeros_columns, voltages, duration)

    @property
    def _kernel_threads(self) -> int:
        return 1 if self._state.size < PARALLEL_MIN_DEVICES else self.n_threads

    def _run_pulse(self, rows, columns, extra, duration) -> None:
        key = _rng.pulse_key(self._base_key, self.pulse_count)
        self.pulse_count += 1
        if isinstance(self.device, CustomDevice):
            self._run_custom_pulse(rows, columns, extra, duration, key)
            return
        bins, cdf, table_up, table_down = self._tables
        kernels = device_kernels(self.backend)
        kernels.apply_pulse(
            self.device.model_id, self.device.option, self._state, self._params, rows, columns,
            extra, duration, self.variability.cycle_to_cycle, key, self.n_substeps,
            bins, cdf, table_up, table_down, self._kernel_threads,
        )

    def _run_custom_pulse(self, rows, columns, extra, duration, key) -> None:
        device = self.device
        frozen = self.stuck_on | self.stuck_off
        noise = self.variability.cycle_to_cycle
        if self.backend == "numpy":
            from ._reference import apply_custom_pulse

            apply_custom_pulse(device.update.py_func, self._state, self._params, frozen, rows,
                               columns, extra, duration, noise, key, device.state_min, device.state_max)
            return
        from ._numba_kernels import custom_kernels
        import numba

        pulse, _ = custom_kernels(device.update, device.conductance)
        numba.set_num_threads(min(self._kernel_threads, numba.config.NUMBA_NUM_THREADS))
        pulse(self._state, self._params, frozen, rows, columns, extra, duration, noise, key,
              device.state_min, device.state_max)

    def _custom_conductance(self, out: np.ndarray) -> None:
        device = self.device
        if self.backend == "numpy":
            from ._reference import custom_conductance

            custom_conductance(device.conductance.py_func, self._state, self._params, out)
            return
        from ._numba_kernels import custom_kernels

        _, conduct = custom_kernels(device.update, device.conductance)
        conduct(self._state, self._params, out)

    def read(
        self,
        applied_voltages: npt.ArrayLike,
        *,
        method: Literal["auto", "ideal", "exact"] = "auto",
    ) -> np.ndarray:
        """Read the array: output current of each bit line, in amperes.

        Parameters
        ----------
        applied_voltages : array_like of shape (n_word_lines,) or (n_samples, n_word_lines)
            Read voltages on the word lines, in volts.
        method : {"auto", "ideal", "exact"}
            "ideal" returns ``V @ G``, ignoring the wires. "exact" solves the whole resistive
            network with :func:`fastxbar.solve_crossbar`. "auto" is "ideal" when both line
            resistances are zero and "exact" otherwise.

        Returns
        -------
        ndarray of shape (n_bit_lines,) or (n_samples, n_bit_lines)
        """
        if method not in ("auto", "ideal", "exact"):
            raise ValueError(f"Unknown `method` {method!r}; choose 'auto', 'ideal' or 'exact'.")
        voltages = self._check_read_voltages(applied_voltages)
        ideal = method == "ideal" or (method == "auto" and self.r_word_line == 0 and self.r_bit_line == 0)
        if ideal:
            return voltages @ self.conductances.astype(np.float64)
        return self.solve(voltages).output_currents

    def solve(self, applied_voltages: npt.ArrayLike, **options):
        """Solve the resistive network for ``applied_voltages`` and return the full solution.

        The result is a :class:`fastxbar.CrossbarSolution` with output currents, node voltages,
        device voltages and currents, and the residual reached. Keyword options go to
        :func:`fastxbar.solve_crossbar`.
        """
        from .solver import solve_crossbar

        voltages = self._check_read_voltages(applied_voltages)
        return solve_crossbar(
            self.conductances.astype(np.float64), voltages, self.r_word_line, self.r_bit_line,
            backend=self.backend, n_threads=self.n_threads, **options,
        )

    def _check_read_voltages(self, applied_voltages: npt.ArrayLike) -> np.ndarray:
        array = np.asarray(applied_voltages, dtype=np.float64)
        if array.ndim == 1:
            return check_voltages("applied_voltages", array, (self.shape[0],))
        if array.ndim == 2:
            return check_voltages("applied_voltages", array, (array.shape[0], self.shape[0]))
        raise ValueError(
            "`applied_voltages` must have shape (n_word_lines,) or (n_samples, n_word_lines) = "
            f"({self.shape[0]},) or (n, {self.shape[0]}); got {array.shape}."
        )

    def __repr__(self) -> str:
        return (
            f"Crossbar({self.shape[0]}, {self.shape[1]}, {self.device!r}, backend={self.backend!r}, "
            f"dtype={self.dtype.name})"
        )
