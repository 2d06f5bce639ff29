"""Time a sweep with the local executor on 1 and more workers and print a markdown table.

Run from the repository root, for example::

    PYTHONPATH=. python benches/sweep_scaling.py --run fastxbar._sweep_demo:busy_run --runs 8

The run function is named as ``module:function`` and must be importable by spawned worker
processes, so the repository root must be on PYTHONPATH unless fastxbar is installed.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import resource
import time

from fastxbar.sweeps import sweep


def load_function(dotted_name: str):
    """Return the function named "package.module:function"."""
    module_name, separator, function_name = dotted_name.partition(":")
    if not separator or not function_name:
        raise SystemExit(f"--run must look like 'package.module:function'; got {dotted_name!r}.")
    return getattr(importlib.import_module(module_name), function_name)


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--run", default="fastxbar._sweep_demo:busy_run",
        help="run function as 'module:function' (default: %(default)s)",
    )
    parser.add_argument(
        "--grid", default='{"r": [3.7, 3.8, 3.9, 4.0]}',
        help="grid as JSON text, parameter name to list of values (default: %(default)s)",
    )
    parser.add_argument("--runs", type=int, default=8, help="runs per grid point (default: %(default)s)")
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[1, 2],
        help="worker counts to time; the first is the baseline (default: %(default)s)",
    )
    parser.add_argument("--repeats", type=int, default=3, help="timings per worker count; the minimum is kept")
    return parser.parse_args()


def cpu_seconds() -> float:
    """Return the CPU time of this process and of its finished child processes, in seconds."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def time_sweep(run, grid: dict, n_runs: int, n_workers: int) -> tuple[float, float]:
    """Return the wall time and the CPU time, in seconds, of one sweep.

    Both include starting the worker processes. The pool's workers have exited when sweep
    returns, so their CPU time is counted among this process's finished children.
    """
    cpu_start = cpu_seconds()
    start = time.perf_counter()
    dataset = sweep(run, grid, n_runs, n_workers=n_workers, progress=False)
    elapsed = time.perf_counter() - start
    cpu = cpu_seconds() - cpu_start
    if dataset.attrs["n_failed"]:
        raise SystemExit(f"{dataset.attrs['n_failed']} runs failed: {dataset.attrs['failed_runs']}")
    return elapsed, cpu


def main() -> None:
    arguments = parse_arguments()
    run = load_function(arguments.run)
    grid = json.loads(arguments.grid)
    n_total = arguments.runs
    for values in grid.values():
        n_total *= len(values)

    # One in-process sweep first, so imports and JIT compilation do not count against the baseline.
    sweep(run, grid, 1, n_workers=1, progress=False)
    load_before = os.getloadavg()[0]
    timings = {n_workers: (float("inf"), 0.0) for n_workers in arguments.workers}
    # Worker counts alternate within each repeat, so a burst of load from other processes
    # slows all of them rather than one.
    for _ in range(arguments.repeats):
        for n_workers in arguments.workers:
            timings[n_workers] = min(timings[n_workers], time_sweep(run, grid, arguments.runs, n_workers))
    load_after = os.getloadavg()[0]

    baseline = timings[arguments.workers[0]][0]
    print(f"Sweep of `{arguments.run}`: {n_total} runs, grid {arguments.grid}, "
          f"best of {arguments.repeats}; {platform.machine()}, "
          f"{len(os.sched_getaffinity(0))} cores available, Python {platform.python_version()}; "
          f"1-minute load average {load_before:.1f} before and {load_after:.1f} after.")
    print()
    print("Cores used is CPU time over wall time; below the worker count, other processes or")
    print("start-up held the cores.")
    print()
    print("| workers | wall time (s) | wall time per run (s) | speed-up | CPU time (s) | cores used |")
    print("|---:|---:|---:|---:|---:|---:|")
    for n_workers, (elapsed, cpu) in timings.items():
        print(
            f"| {n_workers} | {elapsed:.2f} | {elapsed / n_total:.3f} | {baseline / elapsed:.2f} "
            f"| {cpu:.2f} | {cpu / elapsed:.2f} |"
        )


if __name__ == "__main__":
    main()
