"""A slow, obviously right crossbar network solver for the tests: every resistor and source is
listed one by one and the node voltages come from one dense linear solve."""

import numpy as np


def naive_network(conductances, r_word_line, r_bit_line, word_line_left, word_line_right,
                  bit_line_top, bit_line_bottom):
    """Return (word-line voltages, bit-line voltages, current into each bottom bit-line source).

    Both line resistances must be positive; a NaN line-end voltage means an open end.
    """
    n, m = conductances.shape
    word = np.arange(n * m).reshape(n, m)
    bit = n * m + word
    resistors = []  # (node, other node or None for a source, conductance, source voltage)
    for i in range(n):
        for j in range(m):
            resistors.append((word[i, j], bit[i, j], conductances[i, j], None))
            if j + 1 < m:
                resistors.append((word[i, j], word[i, j + 1], 1 / r_word_line, None))
            if i + 1 < n:
                resistors.append((bit[i, j], bit[i + 1, j], 1 / r_bit_line, None))
    for i in range(n):
        if not np.isnan(word_line_left[i]):
            resistors.append((word[i, 0], None, 1 / r_word_line, word_line_left[i]))
        if not np.isnan(word_line_right[i]):
            resistors.append((word[i, m - 1], None, 1 / r_word_line, word_line_right[i]))
    for j in range(m):
        if not np.isnan(bit_line_top[j]):
            resistors.append((bit[0, j], None, 1 / r_bit_line, bit_line_top[j]))
        if not np.isnan(bit_line_bottom[j]):
            resistors.append((bit[n - 1, j], None, 1 / r_bit_line, bit_line_bottom[j]))

    matrix = np.zeros((2 * n * m, 2 * n * m))
    rhs = np.zeros(2 * n * m)
    for node, other, conductance, source in resistors:
        matrix[node, node] += conductance
        if other is None:
            rhs[node] += conductance * source
        else:
            matrix[other, other] += conductance
            matrix[node, other] -= conductance
            matrix[other, node] -= conductance
    voltages = np.linalg.solve(matrix, rhs)
    word_voltages = voltages[: n * m].reshape(n, m)
    bit_voltages = voltages[n * m:].reshape(n, m)
    bottom = np.nan_to_num(bit_line_bottom)
    currents = np.where(np.isnan(bit_line_bottom), 0.0, (bit_voltages[-1] - bottom) / r_bit_line)
    return word_voltages, bit_voltages, currents


def naive_crossbar(conductances, applied_voltages, r_word_line, r_bit_line):
    """Return the output currents of a standard crossbar read, shape like ``V @ G``."""
    n, m = conductances.shape
    voltages = np.atleast_2d(applied_voltages)
    currents = [
        naive_network(conductances, r_word_line, r_bit_line, v, np.full(n, np.nan),
                      np.full(m, np.nan), np.zeros(m))[2]
        for v in voltages
    ]
    return np.array(currents).reshape(np.shape(applied_voltages)[:-1] + (m,))
