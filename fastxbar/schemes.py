"""Parallel write schemes: program a sign pattern into a whole crossbar with a few pulses.

The four-phase V/2 scheme (Alibart, Zamanidoost and Strukov, Nature Communications 4, 2072,
2013, doi:10.1038/ncomms3072) writes the rank-one pattern ``row_signs[i] * column_signs[j]``,
which is what one sample's sign update of a single-layer network needs: the row sign is the
input's sign and the column sign the requested change of that bit line's devices. In a phase of
device-voltage sign p, the selected word lines are driven at +p V/2 and the selected bit lines
at -p V/2, so only selected devices see the full write voltage p V. Phases run one after
another on the evolving state, in the order of :data:`PHASES`:

====== ================= ===================== ======================
phase  device voltage    selected word lines   selected bit lines
====== ================= ===================== ======================
1      +V                input > 0             column sign > 0
2      +V                input < 0             column sign < 0
3      -V                input > 0             column sign < 0
4      -V                input < 0             column sign > 0
====== ================= ===================== ======================

Half-selected devices (a selected line and an unselected one, held at 0 V) see p V/2, which
moves them unless the device has a threshold above V/2. A device without a threshold is
half-selected in up to two phases of the polarity opposite to its own write, so its net change
can nearly cancel. A phase that selects no word line or no bit line is skipped. The V/3 scheme holds unselected word
lines at -p V/6 and unselected bit lines at +p V/6: half-selected devices see p V/3 and
unselected ones -p V/3.

A batch update's signs ``sign(sum_n e_nj x_ni)`` form no rank-one pattern, so
:func:`write_signs` either gives each device its own voltage (``"ideal"``, the reference
case) or writes word line by word line: a phase of +V for the bit lines with positive signs,
then one of -V for the negative ones, ``2 * n_word_lines`` pulses in all.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

from ._training_reference import PHASES, SCHEME_V2, SCHEME_V3, phase_voltages
from .crossbar import Crossbar, check_duration

__all__ = ["PHASES", "half_select_voltage", "four_phase_voltages", "write_outer", "write_signs"]

_SCHEME_CODES = {"v/2": SCHEME_V2, "v/3": SCHEME_V3}


def _check_scheme(scheme: object, allowed) -> str:
    if scheme not in allowed:
        raise ValueError(f"Unknown `scheme` {scheme!r}; choose one of {', '.join(map(repr, allowed))}.")
    return scheme


def _check_signs(name: str, values: npt.ArrayLike, shape: tuple[int, ...]) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.shape != shape:
        raise ValueError(f"`{name}` must have shape {shape}; got {array.shape}.")
    if not np.all(np.isin(array, (-1.0, 0.0, 1.0))):
        raise ValueError(f"`{name}` must contain only -1, 0 and 1; got {array!r}.")
    return array


def half_select_voltage(v_write: float, scheme: Literal["v/2", "v/3"] = "v/2") -> float:
    """Return the magnitude of the voltage across a half-selected device, in volts."""
    _check_scheme(scheme, _SCHEME_CODES)
    return v_write / 2.0 if scheme == "v/2" else v_write / 3.0


def _phase_is_empty(phase: tuple[np.ndarray, np.ndarray], v_write: float) -> bool:
    rows, columns = phase
    return not (np.any(np.abs(rows) == 0.5 * v_write) and np.any(np.abs(columns) == 0.5 * v_write))


def four_phase_voltages(
    row_signs: npt.ArrayLike,
    column_signs: npt.ArrayLike,
    v_write: float,
    scheme: Literal["v/2", "v/3"] = "v/2",
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Return the (word-line, bit-line) voltages of the four phases, in the order of PHASES.

    ``row_signs`` (n_word_lines,) and ``column_signs`` (n_bit_lines,) hold -1, 0 or 1; a zero
    leaves the line unselected in every phase. Device (i, j) then gets ``v_write * row_signs[i]
    * column_signs[j]`` volts in exactly one phase when both signs are non-zero. A phase that selects
    no word line or no bit line is returned all the same, and :func:`write_outer` skips it.
    """
    _check_scheme(scheme, _SCHEME_CODES)
    rows = np.asarray(row_signs, dtype=np.float64)
    columns = np.asarray(column_signs, dtype=np.float64)
    phases = []
    for polarity, row_sign, column_sign in PHASES:
        phases.append(phase_voltages(_SCHEME_CODES[scheme], polarity, rows == row_sign,
                                     columns == column_sign, v_write))
    return phases


def _apply_phase(crossbar: Crossbar, rows: np.ndarray, columns: np.ndarray, duration: float,
                 through_lines: bool) -> None:
    if not through_lines:
        crossbar.apply_pulse(rows, columns, duration)
        return
    crossbar.apply_device_voltages(device_voltages_through_lines(crossbar, rows, columns), duration)


def device_voltages_through_lines(crossbar: Crossbar, word_line_voltages: np.ndarray,
                                  bit_line_voltages: np.ndarray) -> np.ndarray:
    """Return the voltage across each device when the lines are driven through their resistance.

    Word lines are driven at their left ends and bit lines at their bottom ends, with the other
    ends open, as in :func:`fastxbar.solver.solve_network`. Devices far from the drivers get less
    than the applied difference.
    """
    # NOTE: only write_outer and write_signs go through the lines. The compiled epoch kernels
    # always write with the ideal device voltages.
    from .solver import solve_network

    nan_rows = np.full(crossbar.n_word_lines, np.nan)
    nan_columns = np.full(crossbar.n_bit_lines, np.nan)
    solution = solve_network(
        crossbar.conductances.astype(np.float64), crossbar.r_word_line, crossbar.r_bit_line,
        word_line_left=word_line_voltages, word_line_right=nan_rows,
        bit_line_top=nan_columns, bit_line_bottom=bit_line_voltages,
        backend=crossbar.backend, n_threads=crossbar.n_threads, return_node_voltages=True,
    )
    return solution.device_voltages


def write_outer(
    crossbar: Crossbar,
    row_signs: npt.ArrayLike,
    column_signs: npt.ArrayLike,
    v_write: float,
    duration: float,
    *,
    scheme: Literal["v/2", "v/3"] = "v/2",
    through_lines: bool = False,
) -> None:
    """Write ``row_signs[i] * column_signs[j]`` into ``crossbar`` with the four-phase scheme.

    Parameters
    ----------
    crossbar : Crossbar
        The array; each phase is one :meth:`Crossbar.apply_pulse`.
    row_signs : array_like of shape (n_word_lines,)
        -1, 0 or 1 per word line (the sign of each input).
    column_signs : array_like of shape (n_bit_lines,)
        -1, 0 or 1 per bit line: the sign of the device voltage requested for a positive input.
        For VTEAM, whose negative voltages potentiate, multiply by the device's
        ``potentiation_polarity`` to request a conductance increase.
    v_write : float
        Voltage across a selected device, in volts.
    duration : float
        Width of each phase's pulse, in seconds.
    scheme : {"v/2", "v/3"}
        Voltage on unselected lines.
    through_lines : bool
        Apply each phase through the crossbar's line resistances (``r_word_line`` and
        ``r_bit_line``) instead of ideal wires.
    """
    rows = _check_signs("row_signs", row_signs, (crossbar.n_word_lines,))
    columns = _check_signs("column_signs", column_signs, (crossbar.n_bit_lines,))
    duration = check_duration(duration)
    for phase in four_phase_voltages(rows, columns, v_write, scheme):
        # A phase with nothing to write would only disturb. It still uses up a pulse key, so the
        # crossbar's random draws stay those of the training kernels.
        if _phase_is_empty(phase, v_write):
            crossbar.pulse_count += 1
            continue
        _apply_phase(crossbar, *phase, duration, through_lines)


def write_signs(
    crossbar: Crossbar,
    signs: npt.ArrayLike,
    v_write: float,
    duration: float,
    *,
    scheme: Literal["ideal", "v/2", "v/3"] = "ideal",
    through_lines: bool = False,
) -> None:
    """Write an arbitrary sign matrix of shape (n_word_lines, n_bit_lines) into ``crossbar``.

    "ideal" applies ``v_write * signs`` to every device in one pulse. "v/2" and "v/3" go word
    line by word line with two phases each (positive signs, then negative), in the order of the
    word lines. ``through_lines`` is as in :func:`write_outer` and applies to the row-by-row
    schemes only.
    """
    _check_scheme(scheme, ("ideal", "v/2", "v/3"))
    signs = _check_signs("signs", signs, crossbar.shape)
    duration = check_duration(duration)
    if scheme == "ideal":
        crossbar.apply_device_voltages(v_write * signs, duration)
        return
    n_rows = crossbar.n_word_lines
    for i in range(n_rows):
        selected_row = np.arange(n_rows) == i
        for polarity in (1, -1):
            if not np.any(signs[i] == polarity):
                crossbar.pulse_count += 1
                continue
            rows, columns = phase_voltages(_SCHEME_CODES[scheme], polarity, selected_row,
                                           signs[i] == polarity, v_write)
            _apply_phase(crossbar, rows, columns, duration, through_lines)
