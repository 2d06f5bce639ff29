"""Time one online USD epoch on a 1024 x 1024 crossbar for each backend, in one run.

1023 inputs plus the bias, 512 differential outputs, four-phase V/2 writes. The compiled
kernels run 1000 samples and the NumPy reference 100 (its time per sample is constant).
Run from the repository root: ``PYTHONPATH=. python benches/training_epoch.py``.
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "benchmarks"))

from bench_training import epoch_problem, online_epoch  # noqa: E402

for backend, n_samples in [("cython", 1000), ("numba", 1000), ("numpy", 100)]:
    for warm_size in (8, 128):  # compile the serial and the threaded kernels first
        online_epoch(*epoch_problem(warm_size, 2, backend))
    network, dataset = epoch_problem(1024, n_samples, backend)
    start = time.perf_counter()
    online_epoch(network, dataset)
    elapsed = time.perf_counter() - start
    print(f"{backend}: {n_samples} samples in {elapsed:.2f} s, {elapsed / n_samples * 1e3:.2f} ms per sample")
