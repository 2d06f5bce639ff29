"""asv benchmarks of the crossbar read with line resistance (the nodal solver)."""

import os

import numpy as np

from fastxbar.solver import ideal_read, solve_crossbar

#: FASTXBAR_BENCH_SMOKE=1 keeps only the smallest size (CI uses it).
SMOKE = os.environ.get("FASTXBAR_BENCH_SMOKE", "0") == "1"
SIZES = [64] if SMOKE else [256, 512, 1024]
BACKENDS = ["numba", "cython", "numpy"]


def read_inputs(size, n_vectors, seed=0):
    """Return (conductances, voltages): devices log-uniform in 1 kOhm..1 MOhm, inputs in [0, 1) V."""
    rng = np.random.default_rng(seed)
    conductances = 1.0 / np.exp(rng.uniform(np.log(1e3), np.log(1e6), (size, size)))
    return conductances, rng.uniform(0.0, 1.0, (n_vectors, size))


class SolverSuite:
    """One exact read (1 ohm segments) of one vector, per backend."""

    params = (SIZES, BACKENDS)
    param_names = ["size", "backend"]
    timeout = 300

    def setup(self, size, backend):
        self.conductances, self.voltages = read_inputs(size, 1)
        solve_crossbar(self.conductances[:16, :16], self.voltages[0, :16], 1.0, 1.0, backend=backend)

    def time_solve(self, size, backend):
        solve_crossbar(self.conductances, self.voltages[0], 1.0, 1.0, backend=backend)

    def peakmem_solve(self, size, backend):
        solve_crossbar(self.conductances, self.voltages[0], 1.0, 1.0, backend=backend)

    def track_iterations(self, size, backend):
        return solve_crossbar(self.conductances, self.voltages[0], 1.0, 1.0, backend=backend).iterations


class SolverBatchSuite:
    """One exact read of a batch of 16 vectors, sharing the preconditioner set-up."""

    params = (SIZES, ["numba", "cython"])
    param_names = ["size", "backend"]
    timeout = 600

    def setup(self, size, backend):
        self.conductances, self.voltages = read_inputs(size, 16)
        solve_crossbar(self.conductances[:16, :16], self.voltages[:, :16], 1.0, 1.0, backend=backend)

    def time_solve_batch(self, size, backend):
        solve_crossbar(self.conductances, self.voltages, 1.0, 1.0, backend=backend)

    def peakmem_solve_batch(self, size, backend):
        solve_crossbar(self.conductances, self.voltages, 1.0, 1.0, backend=backend)


class IdealReadSuite:
    """The ideal read V @ G of 16 vectors: the floor an exact read is measured against."""

    params = (SIZES,)
    param_names = ["size"]

    def setup(self, size):
        self.conductances, self.voltages = read_inputs(size, 16)

    def time_ideal_read(self, size):
        ideal_read(self.conductances, self.voltages)
