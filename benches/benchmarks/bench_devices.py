"""asv benchmarks of one programming pulse on the whole array."""

import numpy as np

from fastxbar import Crossbar
from fastxbar.devices import LinearIonDrift, SoftBounds

from .common import pulse_voltages, sizes

DEVICES = {
    "soft_bounds": (SoftBounds(g_initial=5e-5), 1e-6),
    "linear_ion_drift": (LinearIonDrift(x_initial=0.5), 1e-9),
}


class PulseSuite:
    """One pulse on identical, noise-free devices, per backend, beside the copy floor."""

    params = (sizes(256, 1024), ["float32", "float64"], ["numba", "cython", "numpy"], list(DEVICES))
    param_names = ["size", "dtype", "backend", "device"]

    def setup(self, size, dtype, backend, device):
        model, self.duration = DEVICES[device]
        self.crossbar = Crossbar(size, size, model, dtype=np.dtype(dtype), backend=backend, seed=0)
        self.rows, self.columns = pulse_voltages(size, size)
        self.crossbar.apply_pulse(self.rows, self.columns, self.duration)

    def time_apply_pulse(self, size, dtype, backend, device):
        self.crossbar.apply_pulse(self.rows, self.columns, self.duration)

    def peakmem_apply_pulse(self, size, dtype, backend, device):
        self.crossbar.apply_pulse(self.rows, self.columns, self.duration)


class CopyFloorSuite:
    """numpy.copyto of the state's bytes: the memory-bandwidth floor of a pulse."""

    params = (sizes(256, 1024), ["float32", "float64"])
    param_names = ["size", "dtype"]

    def setup(self, size, dtype):
        self.source = np.ones((size, size), dtype=dtype)
        self.target = np.empty_like(self.source)

    def time_copyto(self, size, dtype):
        np.copyto(self.target, self.source)


class NoisyPulseSuite:
    """One pulse with 30 % device-to-device spread and 10 % cycle-to-cycle noise."""

    params = (sizes(1024), ["numba", "cython"])
    param_names = ["size", "backend"]

    def setup(self, size, backend):
        from fastxbar import Variability

        variability = Variability(resistance_spread=0.3, step_spread=0.3, cycle_to_cycle=0.1)
        self.crossbar = Crossbar(size, size, SoftBounds(g_initial=5e-5), backend=backend, seed=0,
                                 variability=variability)
        self.rows, self.columns = pulse_voltages(size, size)
        self.crossbar.apply_pulse(self.rows, self.columns, 1e-6)

    def time_apply_pulse(self, size, backend):
        self.crossbar.apply_pulse(self.rows, self.columns, 1e-6)
