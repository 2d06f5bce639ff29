"""Parameter sweeps: a grid of parameters times a number of runs, each seeded by its position.

NOTE: placeholder with the final signature and a sequential loop; the executors (local
processes, Dask), the incremental store and resumption replace it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import xarray as xr


def run_seed(seed: int, point_index: tuple[int, ...], run_index: int) -> np.random.SeedSequence:
    """Return the SeedSequence of one run, keyed by its grid point and run index only."""
    return np.random.SeedSequence(entropy=seed, spawn_key=(*point_index, run_index))


def sweep(
    run: Callable[[dict, np.random.SeedSequence], Mapping[str, np.ndarray]],
    grid: Mapping[str, Sequence],
    n_runs: int,
    *,
    seed: int = 0,
    output_dims: Mapping[str, Sequence[str]] | None = None,
    store=None,
    executor="local",
    n_workers: int | None = None,
    progress: bool = True,
) -> xr.Dataset:
    """Run ``run(params, seed_sequence)`` for every grid point and run index.

    ``run`` returns a mapping of name to array with the same shapes for every call;
    ``output_dims`` names their dimensions (default ``dim_0``, ...). The result is a Dataset
    over the grid parameters, ``run`` and those dimensions.
    """
    names = list(grid)
    values = [list(grid[name]) for name in names]
    output_dims = dict(output_dims or {})
    results: dict[str, np.ndarray] = {}
    shape = tuple(len(v) for v in values) + (n_runs,)
    for point_index in itertools.product(*(range(len(v)) for v in values)):
        params = {name: values[k][point_index[k]] for k, name in enumerate(names)}
        for run_index in range(n_runs):
            outputs = run(params, run_seed(seed, point_index, run_index))
            for key, array in outputs.items():
                array = np.asarray(array)
                if key not in results:
                    results[key] = np.full(shape + array.shape, np.nan)
                results[key][point_index + (run_index,)] = array
    data_vars = {}
    for key, array in results.items():
        dims = list(output_dims.get(key, [f"{key}_dim_{k}" for k in range(array.ndim - len(shape))]))
        data_vars[key] = (names + ["run"] + dims, array)
    coords = {name: values[k] for k, name in enumerate(names)}
    coords["run"] = np.arange(n_runs)
    return xr.Dataset(data_vars, coords=coords)
