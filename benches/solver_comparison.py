"""Compare fastxbar's crossbar read with a SuperLU direct solve and the ideal ``V @ G``.

Each case (array size, one vector or a batch, method) runs in a fresh subprocess, so that its
peak resident memory (``ru_maxrss``, which includes the interpreter and imported libraries) and
its wall time are its own. The first timed call of a process pays for mapping fresh memory, so
fastxbar's read is timed ``--repeat`` times and the table shows the first and the fastest call;
SuperLU runs once. The parent compares all output currents with SuperLU's (or, where SuperLU
is skipped, with the first fastxbar backend's) and prints a markdown table.

Inputs: segments of 1 ohm on both lines, device resistances log-uniform between 1 kOhm and
1 MOhm, input voltages uniform in [0, 1) V, all from ``--seed``.

Run from the repository root, after building the Cython extension in place:

    PYTHONPATH=. python benches/solver_comparison.py                        # with SuperLU
    PYTHONPATH=. python benches/solver_comparison.py --spsolve-max-size 512  # no SuperLU at 1024
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

R_SEGMENT = 1.0
R_DEVICE_MIN = 1e3
R_DEVICE_MAX = 1e6


def make_inputs(size, n_vectors, seed):
    """Return (conductances, voltages) of the benchmark case, voltages of shape (n_vectors, size)."""
    rng = np.random.default_rng(seed)
    resistances = np.exp(rng.uniform(np.log(R_DEVICE_MIN), np.log(R_DEVICE_MAX), (size, size)))
    voltages = rng.uniform(0.0, 1.0, (n_vectors, size))
    return 1.0 / resistances, voltages


def run_superlu(conductances, voltages):
    """Return output currents from SuperLU: spsolve for one vector, one splu and 16 solves for a batch."""
    import scipy.sparse.linalg as spla

    from fastxbar.solver import nodal_matrix

    n, m = conductances.shape
    matrix = nodal_matrix(conductances, R_SEGMENT, R_SEGMENT).tocsc()
    rhs = np.zeros((2 * n * m, voltages.shape[0]))
    rhs[np.arange(n) * m, :] = voltages.T / R_SEGMENT
    start = time.perf_counter()
    if voltages.shape[0] == 1:
        nodes = spla.spsolve(matrix, rhs[:, 0])[:, np.newaxis]
    else:
        nodes = spla.splu(matrix).solve(rhs)
    elapsed = time.perf_counter() - start
    bottom = nodes[n * m + (n - 1) * m: n * m + n * m, :].T / R_SEGMENT
    return bottom, elapsed


def run_case(method, size, n_vectors, seed, n_threads, repeat, output_path):
    """Run one case in this process and write its currents and measurements to output_path."""
    from fastxbar.solver import ideal_read, solve_crossbar

    conductances, voltages = make_inputs(size, n_vectors, seed)
    if method in ("numba", "cython", "numpy"):
        # Warm up: loads the Numba cache or compiles, outside the timed call.
        solve_crossbar(conductances[:16, :16], voltages[:, :16], R_SEGMENT, R_SEGMENT, backend=method)
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    iterations = 0
    timings = []
    if method == "spsolve":
        currents, elapsed = run_superlu(conductances, voltages)
        timings.append(elapsed)
    for _ in range(0 if method == "spsolve" else repeat):
        start = time.perf_counter()
        if method == "ideal":
            currents = ideal_read(conductances, voltages)
        else:
            solution = solve_crossbar(conductances, voltages, R_SEGMENT, R_SEGMENT, backend=method,
                                      n_threads=n_threads)
            currents = solution.output_currents
            iterations = solution.iterations
        timings.append(time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    np.save(output_path + ".npy", currents)
    with open(output_path + ".json", "w") as handle:
        json.dump({"first_seconds": timings[0], "seconds": min(timings), "peak_kib": peak,
                   "baseline_kib": baseline, "iterations": iterations}, handle)


def measure(method, size, n_vectors, options, folder):
    """Run one case in a subprocess and return (measurements, currents)."""
    output_path = os.path.join(folder, f"{method}-{size}-{n_vectors}")
    command = [sys.executable, os.path.abspath(__file__), "--case", method, str(size), str(n_vectors),
               str(options.seed), str(options.threads), str(options.repeat), output_path]
    subprocess.run(command, check=True)
    with open(output_path + ".json") as handle:
        measurements = json.load(handle)
    return measurements, np.load(output_path + ".npy")


def format_row(size, n_vectors, method, measurements, reference_seconds, error):
    """Return one markdown row; speed-ups divide SuperLU's time by the first and fastest call."""
    speedups = ["", ""]
    if reference_seconds is not None:
        speedups = [f"{reference_seconds / measurements[key]:.0f}x" for key in ("first_seconds", "seconds")]
    iterations = measurements["iterations"] or ""
    return (f"| {size}x{size} | {n_vectors} | {method} | {measurements['first_seconds']:.3f} | "
            f"{measurements['seconds']:.3f} | {measurements['peak_kib'] / 1024:.0f} | {iterations} | "
            f"{speedups[0]} | {speedups[1]} | {error:.1e} |")


def main(arguments):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024],
                        help="array sizes n (n x n cells)")
    parser.add_argument("--batch", type=int, default=16, help="vectors in the batch case")
    parser.add_argument("--backends", nargs="+", default=["numba", "cython", "numpy"],
                        help="fastxbar backends to time")
    parser.add_argument("--spsolve-max-size", type=int, default=None,
                        help="skip SuperLU above this size; at 1024 it took about a minute "
                             "and 5 GiB on a 2-core machine")
    parser.add_argument("--seed", type=int, default=2024, help="seed of the random inputs")
    parser.add_argument("--threads", type=int, default=0,
                        help="threads of the fastxbar kernels; 0 uses the library default")
    parser.add_argument("--repeat", type=int, default=3, help="timed calls of each fastxbar read")
    parser.add_argument("--case", nargs=7, help=argparse.SUPPRESS)
    options = parser.parse_args(arguments)
    if options.case:
        method, size, n_vectors, seed, n_threads, repeat, output_path = options.case
        run_case(method, int(size), int(n_vectors), int(seed), int(n_threads) or None, int(repeat),
                 output_path)
        return

    print(f"load average at start: {os.getloadavg()}, CPUs: {os.cpu_count()}, "
          f"threads: {options.threads or 'default'}")
    print("| size | vectors | method | first call (s) | fastest call (s) | peak RSS (MiB) "
          "| CG iterations | speed-up, first | speed-up, fastest | max rel. error |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for size in options.sizes:
            for n_vectors in (1, options.batch):
                use_superlu = options.spsolve_max_size is None or size <= options.spsolve_max_size
                methods = (["spsolve"] if use_superlu else []) + list(options.backends) + ["ideal"]
                reference = None
                reference_seconds = None
                for method in methods:
                    measurements, currents = measure(method, size, n_vectors, options, folder)
                    if reference is None and method != "ideal":
                        reference = currents
                        reference_seconds = measurements["seconds"] if method == "spsolve" else None
                    error = float(np.abs(currents - reference).max() / np.abs(reference).max())
                    print(format_row(size, n_vectors, method, measurements, reference_seconds, error),
                          flush=True)
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main(sys.argv[1:])
