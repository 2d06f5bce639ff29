"""Seeded inputs shared by the asv benchmarks."""

import os

import numpy as np

#: FASTXBAR_BENCH_SMOKE=1 shrinks every size to a quick smoke run (CI uses it).
SMOKE = os.environ.get("FASTXBAR_BENCH_SMOKE", "0") == "1"


def sizes(*values):
    """Return the benchmark sizes, or only the smallest one in a smoke run."""
    return [min(values)] if SMOKE else list(values)


def pulse_voltages(n_word_lines, n_bit_lines, amplitude=1.0):
    """Return alternating word-line voltages (+-amplitude) and grounded bit lines, in volts."""
    rows = np.where(np.arange(n_word_lines) % 2 == 0, amplitude, -amplitude)
    return rows, np.zeros(n_bit_lines)
