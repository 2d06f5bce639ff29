"""fastxbar: a fast simulator of memristive crossbar arrays."""

from .solver import CrossbarSolution, ConvergenceError, ideal_read, read_single_cell, solve_crossbar

__all__ = ["ConvergenceError", "CrossbarSolution", "ideal_read", "read_single_cell", "solve_crossbar"]
