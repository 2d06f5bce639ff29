"""Parameter sweeps: a grid of parameters times a number of runs, each seeded by its position.

:func:`sweep` runs a function once per grid point and run index on local processes, in the
calling process, or on a Dask cluster, and returns an :class:`xarray.Dataset`. Each run's seed
depends only on the sweep seed, its grid point index and its run index, so every executor gives
bit-identical results. With ``store=FOLDER``, each finished run is written to disk as it arrives
and a repeated call resumes where the last one stopped (see :mod:`fastxbar._sweep_store`).
"""

from __future__ import annotations

import csv
import functools
import itertools
import json
import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import xarray as xr
from tqdm.auto import tqdm

from ._sweep_executors import (
    THREAD_VARIABLES,
    Task,
    check_count,
    choose_backend,
    outcomes,
    run_seed,
)
from ._sweep_store import SweepStore, StoreMismatchError, make_manifest, to_json_value

__all__ = [
    "THREAD_VARIABLES",
    "RunFailure",
    "StoreMismatchError",
    "SweepFailedError",
    "failed_runs",
    "run_seed",
    "summarize",
    "sweep",
    "validate_grid",
]

logger = logging.getLogger(__name__)


class SweepFailedError(RuntimeError):
    """Raised by ``sweep(..., raise_on_failure=True)`` after all runs ended and some failed.

    ``dataset`` contains every result (failed runs are NaN) and ``failures`` the failed runs.
    """

    def __init__(self, dataset: xr.Dataset, failures: list[RunFailure]) -> None:
        self.dataset = dataset
        self.failures = failures
        super().__init__(
            f"{len(failures)} of {dataset.attrs['n_runs_total']} runs failed; "
            "see `failures` or the log for their parameters and tracebacks."
        )


@dataclass(frozen=True)
class RunFailure:
    """One run that raised: where it sits in the sweep, its parameters and the error."""

    point_index: tuple[int, ...]
    run_index: int
    params: dict
    error: str
    traceback: str = field(repr=False)

    def to_json(self) -> dict:
        """Return this failure without the traceback, as JSON-ready data."""
        return {
            "point_index": list(self.point_index),
            "run_index": self.run_index,
            "params": {name: _json_or_repr(value, name) for name, value in self.params.items()},
            "error": self.error,
        }


def sweep(
    run: Callable[[dict, np.random.SeedSequence], Mapping[str, np.ndarray]],
    grid: Mapping[str, Sequence],
    n_runs: int,
    *,
    seed: int = 0,
    output_dims: Mapping[str, Sequence[str]] | None = None,
    store: str | os.PathLike | None = None,
    executor="local",
    n_workers: int | None = None,
    threads_per_worker: int = 1,
    progress: bool = True,
    allowed_parameters: Iterable[str] | None = None,
    parameter_types: Mapping[str, type | tuple[type, ...]] | None = None,
    raise_on_failure: bool = False,
) -> xr.Dataset:
    """Run ``run(params, seed_sequence)`` for every grid point and run index.

    Parameters
    ----------
    run : callable
        ``run(params, seed_sequence) -> Mapping[str, ndarray]``. ``params`` maps each grid
        parameter to one value; ``seed_sequence`` is :func:`run_seed` of the run. Every call must
        return the same names with the same shapes, with numeric or boolean dtypes. Except with
        ``executor="local", n_workers=1``, it is pickled, so it must be a top-level function or
        a :func:`functools.partial` of one.
    grid : mapping of str to sequence
        Parameter name to the non-empty list of its values; the sweep takes their product.
    n_runs : int
        Runs per grid point, each with its own seed.
    seed : int
        Non-negative entropy of every run seed.
    output_dims : mapping of str to sequence of str, optional
        Dimension names of each output, for example ``{"loss": ["epoch"]}``. Outputs left out
        get ``{name}_dim_0``, ``{name}_dim_1``, ...
    store : path, optional
        Folder that receives each finished run as it arrives. Calling again with the same
        arguments resumes the sweep and runs only what is missing (failed runs included);
        ``n_runs`` may grow. A store made for another grid, seed, output_dims or run function
        raises :class:`StoreMismatchError`.
    executor : "local", dask.distributed.Client or str
        "local" runs on a pool of spawned processes. A Client, or a scheduler address such as
        "tcp://10.0.0.5:8786" to which a Client is connected for this call, runs on Dask.
    n_workers : int, optional
        Local processes; default all available cores divided by ``threads_per_worker``. 1 runs
        every run in the calling process, with no pool. Only for ``executor="local"``.
    threads_per_worker : int
        Threads each run may use. Worker processes get it in :data:`THREAD_VARIABLES`, and
        ``n_workers * threads_per_worker`` must not exceed the available cores.
    progress : bool
        Show a tqdm progress bar with the estimated time left.
    allowed_parameters, parameter_types : optional
        Passed to :func:`validate_grid` to reject unknown parameters and wrongly typed values.
    raise_on_failure : bool
        Raise :class:`SweepFailedError` (which carries the Dataset) after all runs ended if any
        failed. By default failures are only logged and listed on the Dataset.

    Returns
    -------
    xarray.Dataset
        One variable per output over (grid parameters..., "run", output dimensions...). Integer
        and boolean outputs become float64 so that failed runs can be NaN. ``attrs`` contains
        ``seed``, ``n_runs``, ``n_runs_total``, ``n_failed`` and ``failed_runs`` (JSON text of
        a list of :meth:`RunFailure.to_json`, sorted by grid point and run); read it with
        :func:`failed_runs`.

    Notes
    -----
    A run that raises is logged at ERROR level with its parameters and traceback, its entries
    stay NaN and the other runs go on. A command-line tool should exit with a non-zero status
    when ``dataset.attrs["n_failed"] > 0``.
    """
    values = validate_grid(grid, allowed_parameters, parameter_types)
    n_runs = check_count("n_runs", n_runs)
    seed = _check_seed(seed)
    output_dims = _check_output_dims(output_dims, [*values, "run"])
    threads_per_worker = check_count("threads_per_worker", threads_per_worker)
    backend = choose_backend(run, executor, n_workers, threads_per_worker)

    names = list(values)
    grid_shape = tuple(len(values[name]) for name in names)
    collector = _ResultCollector(grid_shape, n_runs, output_dims, [*names, "run"])
    sweep_store = None
    if store is not None:
        sweep_store = SweepStore(store)
        sweep_store.open(make_manifest(values, n_runs, seed, output_dims, _describe_run(run)))
        for point_index, run_index in sweep_store.finished_runs(grid_shape, n_runs):
            collector.add(point_index, run_index, sweep_store.read_run(point_index, run_index))
    tasks = [
        Task(point_index, run_index, {name: values[name][i] for name, i in zip(names, point_index)})
        for point_index in itertools.product(*map(range, grid_shape))
        for run_index in range(n_runs)
        if not collector.has(point_index, run_index)
    ]
    logger.info(
        "Sweep of %d runs started on %s: %d already in the store, %d to run.",
        collector.n_total, backend.description, collector.n_added, len(tasks),
    )

    failures = _execute(run, seed, tasks, backend, collector, sweep_store, progress)
    # Sorted by position, so the list does not depend on the order in which workers finished.
    failures.sort(key=lambda failure: (failure.point_index, failure.run_index))

    dataset = _to_dataset(collector, values, seed, n_runs, failures)
    logger.info("Sweep finished: %d runs succeeded, %d failed.", collector.n_added, len(failures))
    if failures:
        listed = "; ".join(
            f"{failure.params} run {failure.run_index}: {failure.error}" for failure in failures[:20]
        )
        more = f"; and {len(failures) - 20} more" if len(failures) > 20 else ""
        logger.warning("%d runs failed: %s%s", len(failures), listed, more)
        if raise_on_failure:
            raise SweepFailedError(dataset, failures)
    return dataset


def failed_runs(dataset: xr.Dataset) -> list[dict]:
    """Return the failed runs listed on a Dataset returned by :func:`sweep`."""
    return json.loads(dataset.attrs.get("failed_runs", "[]"))


def validate_grid(
    grid: Mapping[str, Sequence],
    allowed_parameters: Iterable[str] | None = None,
    parameter_types: Mapping[str, type | tuple[type, ...]] | None = None,
) -> dict[str, list]:
    """Return ``grid`` as a dict of lists after checking it; raise before any run starts.

    ``allowed_parameters`` rejects other names. ``parameter_types`` maps a name to the type (or
    tuple of types) that each of its values must have. An int is accepted where float is
    expected, but a bool never counts as a number.
    """
    if not isinstance(grid, Mapping):
        raise TypeError(f"`grid` must be a mapping of parameter name to a list of values; got {grid!r}.")
    if not grid:
        raise ValueError("`grid` is empty; give at least one parameter, for example {'alpha': [1.0]}.")
    allowed = None if allowed_parameters is None else list(allowed_parameters)
    parameter_types = dict(parameter_types or {})
    checked = {}
    for name, raw_values in grid.items():
        if not isinstance(name, str) or not name.isidentifier() or name == "run":
            raise ValueError(
                f"Grid parameter name {name!r} is invalid; use a Python identifier other than 'run'."
            )
        if allowed is not None and name not in allowed:
            raise ValueError(
                f"Unknown grid parameter {name!r}; allowed parameters are {', '.join(map(repr, allowed))}."
            )
        checked[name] = _check_values(name, raw_values, parameter_types.get(name))
    return checked


def summarize(dataset: xr.Dataset, path: str | os.PathLike) -> Path:
    """Write a CSV with one row per grid point: mean, min and max of each output over runs.

    Scalar outputs are summarised as they are and 1-d outputs (curves) by their last value.
    Complex outputs and outputs with more dimensions are left out. NaN entries (failed runs) are ignored, and the
    ``n_failed`` column counts the failed runs of each grid point. Returns ``path``.
    """
    names = [name for name in dataset.coords if name != "run" and name in dataset.dims]
    run_dims = set(names) | {"run"}
    summarised = {}
    for name, variable in dataset.data_vars.items():
        extra_dims = [dim for dim in variable.dims if dim not in run_dims]
        if len(extra_dims) > 1:
            logger.info("Summary leaves out %r: it has %d output dimensions.", name, len(extra_dims))
            continue
        if variable.dtype.kind == "c":
            logger.info("Summary leaves out %r: its values are complex.", name)
            continue
        summarised[name] = variable.isel({extra_dims[0]: -1}) if extra_dims else variable
    failures_per_point: dict[tuple, int] = {}
    for failure in failed_runs(dataset):
        key = tuple(failure["point_index"])
        failures_per_point[key] = failures_per_point.get(key, 0) + 1

    header = names + ["n_failed"] + [f"{name}_{stat}" for name in summarised for stat in ("mean", "min", "max")]
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        for point_index in itertools.product(*(range(dataset.sizes[name]) for name in names)):
            selection = dict(zip(names, point_index))
            row = [_plain(dataset[name].values[i]) for name, i in selection.items()]
            row.append(failures_per_point.get(point_index, 0))
            for variable in summarised.values():
                row.extend(_statistics(variable.isel(selection).values))
            writer.writerow(row)
    return path


def _plain(value: object) -> object:
    return value.item() if isinstance(value, np.generic) else value


def _statistics(samples: np.ndarray) -> list:
    finite = samples[~np.isnan(samples)]
    if finite.size == 0:
        return ["", "", ""]
    return [repr(float(finite.mean())), repr(float(finite.min())), repr(float(finite.max()))]


def _check_values(name: str, raw_values: object, expected_type) -> list:
    if isinstance(raw_values, (str, bytes)) or not isinstance(raw_values, (Sequence, np.ndarray)):
        raise TypeError(
            f"grid[{name!r}] must be a list of values; got {raw_values!r}. "
            f"Wrap a single value in a list: {{{name!r}: [{raw_values!r}]}}."
        )
    values = list(raw_values)
    if not values:
        raise ValueError(f"grid[{name!r}] is empty; give at least one value.")
    if expected_type is None:
        return values
    expected = expected_type if isinstance(expected_type, tuple) else (expected_type,)
    for value in values:
        if not _has_type(value, expected):
            raise TypeError(
                f"grid[{name!r}] contains {value!r} of type {type(value).__name__}; every value of "
                f"{name!r} must be of type {' or '.join(t.__name__ for t in expected)}."
            )
    return values


def _has_type(value: object, expected: tuple[type, ...]) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bool in expected or np.bool_ in expected
    if float in expected and isinstance(value, (int, np.integer, np.floating)):
        return True
    if int in expected and isinstance(value, np.integer):
        return True
    return isinstance(value, expected)


def _check_seed(seed: object) -> int:
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"`seed` must be a non-negative integer; got {seed!r}.")
    return int(seed)


def _check_output_dims(output_dims: object, reserved: list[str]) -> dict[str, list[str]] | None:
    if output_dims is None:
        return None
    if not isinstance(output_dims, Mapping):
        raise TypeError(f"`output_dims` must map output names to lists of dimension names; got {output_dims!r}.")
    checked = {}
    for name, dims in output_dims.items():
        if isinstance(dims, str) or not all(isinstance(dim, str) for dim in dims):
            raise TypeError(
                f"output_dims[{name!r}] must be a list of dimension names; got {dims!r}. "
                f"For one dimension write [{dims!r}]."
            )
        for dim in dims:
            if dim in reserved:
                raise ValueError(
                    f"output_dims[{name!r}] contains {dim!r}, which is already a dimension of the "
                    f"result (the grid parameters and 'run'); rename that output dimension."
                )
        checked[str(name)] = list(dims)
    return checked


def _describe_run(run: Callable) -> str:
    # NOTE: for a functools.partial only the wrapped function is named, so a store does not
    # detect a change of the partial's bound arguments between two calls.
    function = run.func if isinstance(run, functools.partial) else run
    module = getattr(function, "__module__", None) or type(function).__module__
    name = getattr(function, "__qualname__", None) or type(function).__qualname__
    return f"{module}:{name}"


def _json_or_repr(value: object, name: str) -> object:
    try:
        return to_json_value(value, name)
    except TypeError:
        return repr(value)


def _execute(run, seed, tasks, backend, collector, sweep_store, progress) -> list[RunFailure]:
    failures: list[RunFailure] = []
    bar = tqdm(
        total=collector.n_total, initial=collector.n_added, unit="run", desc="sweep",
        disable=not progress, smoothing=0.1,
    )
    try:
        for task, outcome in outcomes(run, seed, tasks, backend):
            if outcome[0] == "ok":
                problem = collector.check(outcome[1])
                if problem is None:
                    collector.add(task.point_index, task.run_index, outcome[1])
                    if sweep_store is not None:
                        sweep_store.write_run(task.point_index, task.run_index, outcome[1])
                else:
                    outcome = ("failed", f"ValueError: {problem}", "")
            if outcome[0] == "failed":
                failure = RunFailure(task.point_index, task.run_index, task.params, outcome[1], outcome[2])
                failures.append(failure)
                logger.error(
                    "Run %d at %s (grid point %s) failed: %s\n%s",
                    task.run_index, task.params, task.point_index, failure.error, failure.traceback,
                )
                bar.set_postfix(failed=len(failures))
            bar.update(1)
    finally:
        bar.close()
    return failures


class _ResultCollector:
    """Arrays of every output over (grid point, run), allocated on the first result.

    NOTE: every result is held in memory to build the Dataset, so a sweep whose results do
    not fit in memory needs a lazily loaded store (for example zarr), which is not written yet.
    """

    def __init__(
        self, grid_shape: tuple[int, ...], n_runs: int, output_dims: dict | None, reserved: list[str]
    ) -> None:
        self.output_dims = output_dims or {}
        self.reserved = reserved
        self.prefix_shape = grid_shape + (n_runs,)
        self.finished = np.zeros(self.prefix_shape, dtype=bool)
        self.arrays: dict[str, np.ndarray] = {}
        self.dims: dict[str, list[str]] = {}
        self.n_total = int(np.prod(self.prefix_shape))
        self.n_added = 0

    def has(self, point_index: tuple[int, ...], run_index: int) -> bool:
        return bool(self.finished[point_index + (run_index,)])

    def check(self, outputs: dict[str, np.ndarray]) -> str | None:
        """Return why ``outputs`` do not match earlier runs, or None when they match."""
        if not self.arrays:
            return None
        if set(outputs) != set(self.arrays):
            return f"the run returned outputs {sorted(outputs)}, but earlier runs returned {sorted(self.arrays)}."
        for name, array in outputs.items():
            expected = self.arrays[name].shape[len(self.prefix_shape):]
            if array.shape != expected:
                return f"output {name!r} has shape {array.shape}, but earlier runs returned shape {expected}."
        return None

    def add(self, point_index: tuple[int, ...], run_index: int, outputs: dict[str, np.ndarray]) -> None:
        problem = self.check(outputs)
        if problem is not None:
            raise ValueError(
                f"Stored run {run_index} of grid point {point_index} does not match the others: "
                f"{problem} Pass a new folder as `store`."
            )
        for name, array in outputs.items():
            if name not in self.arrays:
                self.dims[name] = self._dims_of(name, array.ndim)
                dtype = array.dtype if array.dtype.kind in "fc" else np.dtype(np.float64)
                self.arrays[name] = np.full(self.prefix_shape + array.shape, np.nan, dtype=dtype)
            self.arrays[name][point_index + (run_index,)] = array
        self.finished[point_index + (run_index,)] = True
        self.n_added += 1

    def _dims_of(self, name: str, ndim: int) -> list[str]:
        if name in self.reserved:
            raise ValueError(
                f"The run function returns an output named {name!r}, which is already a "
                "dimension of the result (the grid parameters and 'run'); rename that output."
            )
        dims = self.output_dims.get(name, [f"{name}_dim_{k}" for k in range(ndim)])
        if len(dims) != ndim:
            raise ValueError(
                f"output_dims[{name!r}] names {len(dims)} dimensions {dims}, but output {name!r} "
                f"of the first finished run has {ndim}; give one name per dimension."
            )
        return dims


def _to_dataset(collector, values, seed, n_runs, failures) -> xr.Dataset:
    names = list(values)
    data_vars = {
        name: (names + ["run"] + collector.dims[name], array) for name, array in collector.arrays.items()
    }
    coords = {name: _coordinate(values[name]) for name in names}
    coords["run"] = np.arange(n_runs)
    attrs = {
        "seed": seed,
        "n_runs": n_runs,
        "n_runs_total": collector.n_total,
        "n_failed": len(failures),
        "failed_runs": json.dumps([failure.to_json() for failure in failures]),
    }
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)


def _coordinate(values: list) -> np.ndarray:
    sequences = any(isinstance(value, (list, tuple, np.ndarray)) for value in values)
    coordinate = None if sequences else np.asarray(values)
    # NumPy turns [1, "a"] into the strings ["1", "a"], so mixed values keep their own types.
    mixed_strings = coordinate is not None and coordinate.dtype.kind == "U" and not all(
        isinstance(value, str) for value in values
    )
    if coordinate is None or mixed_strings:
        coordinate = np.empty(len(values), dtype=object)
        coordinate[:] = [tuple(value) if isinstance(value, list) else value for value in values]
    return coordinate
