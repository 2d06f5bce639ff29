"""Time one pulse at 1024 x 1024 per backend, beside NumPy and the copy floor, in one run.

Usage: python benches/pulse_comparison.py [--size N] [--repeat R] [--noisy]
Prints a markdown table of best-of-R wall times and the ratios the benchmark page quotes.
``--noisy`` gives every device its own parameters (30 % spreads) and 10 % cycle-to-cycle noise.
"""

import argparse
import time

import numpy as np

from fastxbar import Crossbar, Variability
from fastxbar.devices import LinearIonDrift, SoftBounds


def best_time(function, repeat):
    function()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1024, help="word and bit lines (default 1024)")
    parser.add_argument("--repeat", type=int, default=30, help="timed repetitions (default 30)")
    parser.add_argument("--noisy", action="store_true",
                        help="30 %% device-to-device spreads and 10 %% cycle-to-cycle noise")
    args = parser.parse_args()
    variability = Variability()
    if args.noisy:
        variability = Variability(resistance_spread=0.3, step_spread=0.3, cycle_to_cycle=0.1)
    size = args.size
    devices = {"SoftBounds": (SoftBounds(g_initial=5e-5), 1e-6),
               "LinearIonDrift": (LinearIonDrift(x_initial=0.5), 1e-9)}
    rows = np.where(np.arange(size) % 2 == 0, 1.0, -1.0)
    columns = np.zeros(size)
    print(f"| device | dtype | numba (ms) | cython (ms) | numpy (ms) | copy (ms) | "
          "numba / copy | cython / copy | numpy / numba | numpy / cython |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, (device, duration) in devices.items():
        for dtype in (np.float32, np.float64):
            times = {}
            for backend in ("numba", "cython", "numpy"):
                crossbar = Crossbar(size, size, device, backend=backend, dtype=dtype, seed=0,
                                    variability=variability)
                repeat = max(3, args.repeat // 5) if backend == "numpy" else args.repeat
                times[backend] = best_time(lambda: crossbar.apply_pulse(rows, columns, duration), repeat)
            source = np.ones((size, size), dtype=dtype)
            target = np.empty_like(source)
            times["copy"] = best_time(lambda: np.copyto(target, source), args.repeat)
            ms = {key: value * 1e3 for key, value in times.items()}
            print(f"| {name} | {np.dtype(dtype).name} | {ms['numba']:.2f} | {ms['cython']:.2f} | "
                  f"{ms['numpy']:.1f} | {ms['copy']:.2f} | {times['numba'] / times['copy']:.1f} | "
                  f"{times['cython'] / times['copy']:.1f} | {times['numpy'] / times['numba']:.0f} | "
                  f"{times['numpy'] / times['cython']:.0f} |")


if __name__ == "__main__":
    main()
