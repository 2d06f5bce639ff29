"""asv benchmarks of in-situ training: one online USD epoch, the 20-input task of Nair and Dudek
(MEMRISYS 2015) and its figure.

``FASTXBAR_BENCH_SMOKE=1`` shrinks every case to a quick smoke run.
"""

import os

import numpy as np

from fastxbar import Crossbar, Variability
from fastxbar.datasets import Dataset, linear_task
from fastxbar.devices import LinearIonDrift, LinearStep
from fastxbar.training import CrossbarNetwork, train

SMOKE = os.environ.get("FASTXBAR_BENCH_SMOKE", "0") == "1"


def epoch_problem(n_word_lines, n_samples, backend, seed=0):
    """Return (network, dataset) for one epoch on an n x n crossbar of differential outputs.

    ``n_word_lines - 1`` inputs plus the bias, ``n_word_lines // 2`` outputs on differential
    pairs, linear-step devices with a 30 % device-to-device spread, random inputs in [-1, 1].
    """
    rng = np.random.default_rng(seed)
    n_outputs = n_word_lines // 2
    x = rng.uniform(-1.0, 1.0, (n_samples, n_word_lines - 1))
    labels = rng.integers(0, n_outputs, n_samples)
    dataset = Dataset(x, labels, x[:2], labels[:2], n_outputs, "random")
    crossbar = Crossbar(n_word_lines, 2 * n_outputs, LinearStep(g_initial=5e-5),
                        variability=Variability(resistance_spread=0.3, step_spread=0.3),
                        backend=backend, seed=seed)
    return CrossbarNetwork(crossbar, n_outputs, v_write=1.0), dataset


def online_epoch(network, dataset):
    """Run one online USD epoch with the four-phase V/2 scheme."""
    return train(network, dataset, mode="online", scheme="v/2", learning_rate=1e-6, n_iterations=1)


class OnlineEpochSuite:
    """One online USD epoch (read, error, sign, four-phase write per sample)."""

    params = (["numba", "cython", "numpy"], [64] if SMOKE else [256, 1024])
    param_names = ["backend", "n_word_lines"]
    timeout = 1200
    number = 1
    repeat = 1

    def setup(self, backend, n_word_lines):
        # The NumPy reference runs 10 samples, the compiled kernels the full 1000 (the time
        # per sample is what compares).
        n_samples = 1000
        if SMOKE or backend == "numpy":
            n_samples = 10
        self.network, self.dataset = epoch_problem(n_word_lines, n_samples, backend)
        for warm_size in (8, 128):  # compile the serial and the threaded kernels first
            online_epoch(*epoch_problem(warm_size, 2, backend))

    def time_epoch(self, backend, n_word_lines):
        online_epoch(self.network, self.dataset)


class PaperTaskSuite:
    """50 online USD epochs and 200 batch iterations on the 20-input task of Nair and Dudek."""

    params = ["numba", "cython"]
    param_names = ["backend"]

    def setup(self, backend):
        self.dataset = linear_task(n_samples=100 if SMOKE else 1000, seed=1)
        self.backend = backend
        train(self._network(), self.dataset, mode="online", scheme="ideal", n_iterations=1)

    def _network(self):
        device = LinearIonDrift(r_on=100.0, r_off=1000.0, x_initial=0.5)
        crossbar = Crossbar(21, 2, device, backend=self.backend, seed=0, n_threads=1,
                            variability=Variability(resistance_spread=0.3, step_spread=0.3))
        return CrossbarNetwork(crossbar, 1, gain=16.0, initial_state="device")

    def time_online_50_epochs(self, backend):
        train(self._network(), self.dataset, mode="online", scheme="ideal", learning_rate=1e-5,
              n_iterations=5 if SMOKE else 50, shuffle_seed=0)

    def time_batch_200_iterations(self, backend):
        train(self._network(), self.dataset, learning_rate=3e-4, n_iterations=20 if SMOKE else 200)

    def track_batch_test_error(self, backend):
        result = train(self._network(), self.dataset, learning_rate=3e-4, n_iterations=200)
        return float(result.test_error[-1])


def timeraw_reproduce_paper_figure():
    """Run ``fastxbar reproduce nair-dudek-2015`` in a fresh interpreter (cold imports)."""
    runs = "2" if SMOKE else "40"
    # asv reads the timing from the snippet's standard output, so the command's summary is
    # redirected away from it.
    return f"""
import contextlib
import io
import tempfile
from fastxbar.cli import main
with tempfile.TemporaryDirectory() as folder, contextlib.redirect_stdout(io.StringIO()):
    main(["reproduce", "nair-dudek-2015", "--out", folder + "/out", "--runs", "{runs}", "--no-progress"])
"""


timeraw_reproduce_paper_figure.timeout = 600
