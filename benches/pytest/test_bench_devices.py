"""pytest-benchmark: one pulse per backend beside the vectorised NumPy update and the copy floor.

Run with ``pytest benches/pytest --benchmark-only``; ``FASTXBAR_BENCH_SMOKE=1`` keeps it small.
"""

import os

import numpy as np
import pytest

from fastxbar import Crossbar
from fastxbar.devices import LinearIonDrift, SoftBounds

SMOKE = os.environ.get("FASTXBAR_BENCH_SMOKE", "0") == "1"
SIZES = [64] if SMOKE else [256, 1024]
DEVICES = {"soft_bounds": (SoftBounds(g_initial=5e-5), 1e-6), "linear_ion_drift": (LinearIonDrift(x_initial=0.5), 1e-9)}


@pytest.mark.parametrize("device", list(DEVICES))
@pytest.mark.parametrize("backend", ["numba", "cython", "numpy"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("size", SIZES)
def test_apply_pulse(benchmark, size, dtype, backend, device):
    model, duration = DEVICES[device]
    crossbar = Crossbar(size, size, model, dtype=np.dtype(dtype), backend=backend, seed=0)
    rows = np.where(np.arange(size) % 2 == 0, 1.0, -1.0)
    columns = np.zeros(size)
    crossbar.apply_pulse(rows, columns, duration)  # JIT warm-up
    benchmark(crossbar.apply_pulse, rows, columns, duration)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("size", SIZES)
def test_copy_floor(benchmark, size, dtype):
    source = np.ones((size, size), dtype=dtype)
    target = np.empty_like(source)
    benchmark(np.copyto, target, source)
