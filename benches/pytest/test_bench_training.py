"""pytest-benchmark: USD epochs per backend beside the NumPy reference, and the 20-input task
of Nair and Dudek (MEMRISYS 2015).

Run with ``pytest benches/pytest/test_bench_training.py --benchmark-only``;
``FASTXBAR_BENCH_SMOKE=1`` keeps it small. The 1024 x 1024 epoch runs 20 samples per backend so
that the NumPy reference finishes; the time per sample is what compares.
"""

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from bench_training import PaperTaskSuite, epoch_problem, online_epoch  # noqa: E402

SMOKE = os.environ.get("FASTXBAR_BENCH_SMOKE", "0") == "1"
SIZE = 64 if SMOKE else 1024
N_SAMPLES = 5 if SMOKE else 20


@pytest.mark.parametrize("backend", ["numba", "cython", "numpy"])
def test_online_epoch(benchmark, backend):
    for warm_size in (8, 128):  # compile the serial and the threaded kernels first
        online_epoch(*epoch_problem(warm_size, 2, backend))
    network, dataset = epoch_problem(SIZE, N_SAMPLES, backend)
    benchmark.pedantic(online_epoch, args=(network, dataset), rounds=1 if backend == "numpy" else 3)


@pytest.mark.parametrize("backend", ["numba", "cython"])
def test_online_50_epochs_paper_task(benchmark, backend):
    suite = PaperTaskSuite()
    suite.setup(backend)
    benchmark.pedantic(suite.time_online_50_epochs, args=(backend,), rounds=3)


@pytest.mark.parametrize("backend", ["numba", "cython"])
def test_batch_200_iterations_paper_task(benchmark, backend):
    suite = PaperTaskSuite()
    suite.setup(backend)
    benchmark.pedantic(suite.time_batch_200_iterations, args=(backend,), rounds=3)
