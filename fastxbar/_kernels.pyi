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
