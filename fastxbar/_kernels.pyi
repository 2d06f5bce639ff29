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
