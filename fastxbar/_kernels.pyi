# Type stub of the compiled Cython module fastxbar._kernels.

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32] | npt.NDArray[np.float64]

def openmp_enabled() -> bool: ...

# Devices
def apply_pulse(
    model: int,
    option: int,
    state: FloatArray,
    params: npt.NDArray[np.float64],
    row_voltages: npt.NDArray[np.float64],
    col_voltages: npt.NDArray[np.float64],
    extra_voltages: npt.NDArray[np.float64],
    duration: float,
    noise_std: float,
    key: int,
    n_substeps: int,
    table_bins: npt.NDArray[np.float64],
    table_cdf: npt.NDArray[np.float64],
    table_up: npt.NDArray[np.float64],
    table_down: npt.NDArray[np.float64],
    n_threads: int,
) -> None: ...
def state_to_conductance(
    model: int, option: int, state: FloatArray, params: npt.NDArray[np.float64], out: FloatArray, n_threads: int
) -> None: ...

# Training
def usd_online_epoch(
    model: int,
    option: int,
    state: FloatArray,
    device_params: npt.NDArray[np.float64],
    table_bins: npt.NDArray[np.float64],
    table_cdf: npt.NDArray[np.float64],
    table_up: npt.NDArray[np.float64],
    table_down: npt.NDArray[np.float64],
    inputs: npt.NDArray[np.float64],
    targets: npt.NDArray[np.float64],
    plus_columns: npt.NDArray[np.int64],
    minus_columns: npt.NDArray[np.int64],
    train_minus: bool,
    output_scale: float,
    loss: int,
    scheme: int,
    v_write: float,
    polarity: int,
    duration: float,
    noise_std: float,
    base_key: int,
    pulse_count: int,
    n_substeps: int,
    n_threads: int,
) -> int: ...
def usd_batch_run(
    model: int,
    option: int,
    state: FloatArray,
    device_params: npt.NDArray[np.float64],
    table_bins: npt.NDArray[np.float64],
    table_cdf: npt.NDArray[np.float64],
    table_up: npt.NDArray[np.float64],
    table_down: npt.NDArray[np.float64],
    inputs: npt.NDArray[np.float64],
    targets: npt.NDArray[np.float64],
    labels: npt.NDArray[np.int64],
    test_inputs: npt.NDArray[np.float64],
    test_labels: npt.NDArray[np.int64],
    plus_columns: npt.NDArray[np.int64],
    minus_columns: npt.NDArray[np.int64],
    train_minus: bool,
    output_scale: float,
    loss: int,
    scheme: int,
    v_write: float,
    polarity: int,
    durations: npt.NDArray[np.float64],
    noise_std: float,
    base_key: int,
    pulse_count: int,
    n_substeps: int,
    train_errors: npt.NDArray[np.int64],
    test_errors: npt.NDArray[np.int64],
    n_threads: int,
) -> int: ...

# Solver (arrays float64; index arrays are numpy.intp)
F64 = npt.NDArray[np.float64]
Index = npt.NDArray[np.intp]

def solver_nodal_matvec(
    conductances: F64, g_word: float, g_bit: float, word_ends: F64, bit_ends: F64, p: F64, q: F64,
    n_threads: int = 1,
) -> float: ...
def solver_word_line_factorize(
    conductances: F64, g_word: float, word_ends: F64, word_pivots: F64, n_threads: int = 1
) -> None: ...
def solver_bit_line_factorize(
    conductances: F64, g_bit: float, bit_ends: F64, bit_pivots: F64, n_threads: int = 1
) -> None: ...
def solver_word_line_solve(word_pivots: F64, g_word: float, rhs: F64, out: F64, n_threads: int = 1) -> float: ...
def solver_bit_line_solve(bit_pivots: F64, g_bit: float, rhs: F64, out: F64, n_threads: int = 1) -> float: ...
def solver_coarse_restrict(
    residual: F64, row_index: Index, row_weight: F64, column_index: Index, column_weight: F64,
    scratch: F64, out: F64, n_threads: int = 1,
) -> None: ...
def solver_cg_step(
    alpha: float, p: F64, q: F64, x: F64, residual: F64, row_index: Index, row_weight: F64,
    column_index: Index, column_weight: F64, scratch: F64, coarse_rhs: F64, n_threads: int = 1,
) -> float: ...
def solver_cg_direction(
    beta: float, z: F64, coarse: F64, row_index: Index, row_weight: F64, column_index: Index,
    column_weight: F64, p: F64, n_threads: int = 1,
) -> None: ...
