"""pytest-benchmark: the crossbar read with line resistance per backend, beside the ideal read.

Run with ``pytest benches/pytest --benchmark-only``; ``FASTXBAR_BENCH_SMOKE=1`` keeps it small.
"""

import os

import numpy as np
import pytest

from fastxbar.solver import ideal_read, solve_crossbar

SMOKE = os.environ.get("FASTXBAR_BENCH_SMOKE", "0") == "1"
SIZES = [32] if SMOKE else [256, 512, 1024]


def read_inputs(size, n_vectors, seed=0):
    """Return (conductances, voltages): devices log-uniform in 1 kOhm..1 MOhm, inputs in [0, 1) V."""
    rng = np.random.default_rng(seed)
    conductances = 1.0 / np.exp(rng.uniform(np.log(1e3), np.log(1e6), (size, size)))
    return conductances, rng.uniform(0.0, 1.0, (n_vectors, size))


@pytest.mark.parametrize("n_vectors", [1, 16])
@pytest.mark.parametrize("backend", ["numba", "cython", "numpy"])
@pytest.mark.parametrize("size", SIZES)
def test_solve_crossbar(benchmark, size, backend, n_vectors):
    if backend == "numpy" and n_vectors > 1 and size > 256:
        pytest.skip("the NumPy reference takes minutes on large batches")
    conductances, voltages = read_inputs(size, n_vectors)
    solve_crossbar(conductances[:16, :16], voltages[:, :16], 1.0, 1.0, backend=backend)  # JIT warm-up
    solution = benchmark.pedantic(solve_crossbar, args=(conductances, voltages, 1.0, 1.0),
                                  kwargs={"backend": backend}, rounds=3, iterations=1)
    assert np.isfinite(solution.output_currents).all()


@pytest.mark.parametrize("size", SIZES)
def test_ideal_read(benchmark, size):
    conductances, voltages = read_inputs(size, 16)
    benchmark(ideal_read, conductances, voltages)
