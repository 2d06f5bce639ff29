"""Tests of fastxbar.sweeps: executors agree bit for bit, stores resume, failures are reported."""

import csv
import functools
import json
import logging
import os
import subprocess
import sys
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
import xarray as xr

from fastxbar._sweep_demo import counting_run, demo_run, failing_run, thread_limits_run
from fastxbar.sweeps import (
    THREAD_VARIABLES,
    StoreMismatchError,
    SweepFailedError,
    failed_runs,
    run_seed,
    summarize,
    sweep,
)

GRID = {"alpha": [0.1, 0.5, 1.0], "offset": [0.0, 1.0]}
N_RUNS = 3
OUTPUT_DIMS = {"curve": ["step"]}


def naive_sweep(run, grid, n_runs, seed):
    """Return {output name: array} from a plain loop over the grid, the obvious reference."""
    names = list(grid)
    results = {}
    shape = tuple(len(grid[name]) for name in names) + (n_runs,)
    for point_index in np.ndindex(*shape[:-1]):
        params = {name: grid[name][i] for name, i in zip(names, point_index)}
        for run_index in range(n_runs):
            outputs = run(params, np.random.SeedSequence(entropy=seed, spawn_key=(*point_index, run_index)))
            for key, value in outputs.items():
                results.setdefault(key, {})[point_index + (run_index,)] = np.asarray(value)
    return results


def call_keys(folder):
    """Return the spawn keys of the runs recorded by counting_run, one entry per call."""
    return sorted(name.rsplit("-", 1)[0] for name in os.listdir(folder))


def store_name(key):
    """Return the run file name, without suffix, of a spawn key "i-j-...-run" from call_keys."""
    point, run_index = key.rsplit("-", 1)
    return f"p{point}_r{run_index}"


def small_grid_sweep(run, **kwargs):
    grid = {"alpha": [0.2, 0.7], "n_steps": [5]}
    return sweep(run, grid, 4, output_dims=OUTPUT_DIMS, progress=False, **kwargs)


def test_run_seed_depends_on_position_only():
    first = run_seed(7, (1, 2), 3).generate_state(4)
    again = run_seed(7, (1, 2), 3).generate_state(4)
    other_run = run_seed(7, (1, 2), 4).generate_state(4)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other_run)


def test_in_process_matches_naive_loop():
    grid = {"alpha": [0.1, 0.5, 1.0], "n_steps": [6]}
    dataset = sweep(demo_run, grid, N_RUNS, seed=5, output_dims=OUTPUT_DIMS, n_workers=1, progress=False)
    reference = naive_sweep(demo_run, grid, N_RUNS, seed=5)

    assert dataset["curve"].dims == ("alpha", "n_steps", "run", "step")
    assert dataset["final"].dims == ("alpha", "n_steps", "run")
    for key, runs in reference.items():
        for index, value in runs.items():
            np.testing.assert_array_equal(dataset[key].values[index], value)
    assert dataset.attrs["n_failed"] == 0
    assert failed_runs(dataset) == []


def test_executors_give_identical_arrays():
    distributed = pytest.importorskip("distributed")
    grid = {"alpha": [0.1, 0.5, 1.0], "n_steps": [6]}
    in_process = sweep(demo_run, grid, N_RUNS, seed=3, output_dims=OUTPUT_DIMS, n_workers=1, progress=False)
    local = sweep(demo_run, grid, N_RUNS, seed=3, output_dims=OUTPUT_DIMS, n_workers=2, progress=False)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0"
    ) as cluster:
        with distributed.Client(cluster, set_as_default=False) as client:
            on_client = sweep(demo_run, grid, N_RUNS, seed=3, output_dims=OUTPUT_DIMS, executor=client, progress=False)
            with_failures = sweep(
                failing_run, {"alpha": [0.5, -1.0]}, 2, output_dims=OUTPUT_DIMS, executor=client, progress=False
            )
            thread_limits = sweep(thread_limits_run, {"alpha": [0.5]}, 2, executor=client, progress=False)
        on_address = sweep(
            demo_run, grid, N_RUNS, seed=3, output_dims=OUTPUT_DIMS, executor=cluster.scheduler_address, progress=False
        )

    xr.testing.assert_identical(local, in_process)
    xr.testing.assert_identical(on_client, in_process)
    xr.testing.assert_identical(on_address, in_process)
    assert with_failures.attrs["n_failed"] == 2
    assert [f["point_index"] for f in failed_runs(with_failures)] == [[1], [1]]
    assert np.isfinite(with_failures["final"].sel(alpha=0.5).values).all()
    for name in ("fastxbar_threads", "numba_threads", "omp_threads"):
        assert (thread_limits[name].values == 1).all(), name


@settings(max_examples=25, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 3), min_size=1, max_size=3),
    n_runs=st.integers(1, 3),
    seed=st.integers(0, 2**64),
)
def test_any_grid_matches_naive_loop(sizes, n_runs, seed):
    grid = {f"p{k}": [0.1 * (k + 1) * (i + 1) for i in range(size)] for k, size in enumerate(sizes)}
    grid["alpha"] = [0.5]
    dataset = sweep(demo_run, grid, n_runs, seed=seed, n_workers=1, progress=False)
    reference = naive_sweep(demo_run, grid, n_runs, seed)

    assert dataset["final"].shape == tuple(sizes) + (1, n_runs)
    for index, value in reference["final"].items():
        assert dataset["final"].values[index] == value


def test_mixed_grid_values_keep_types():
    dataset = sweep(demo_run, {"alpha": [0.5], "label": [1, "a"]}, 1, n_workers=1, progress=False)
    assert list(dataset["label"].values) == [1, "a"]


def test_different_seed_changes_results():
    first = small_grid_sweep(demo_run, n_workers=1, seed=0)
    second = small_grid_sweep(demo_run, n_workers=1, seed=1)
    assert not np.array_equal(first["curve"].values, second["curve"].values)


def test_store_resume_after_interrupt(tmp_path):
    calls = tmp_path / "calls"
    calls.mkdir()
    store = tmp_path / "store"
    interrupted = functools.partial(counting_run, call_folder=str(calls), interrupt_after=5)
    with pytest.raises(KeyboardInterrupt):
        sweep(interrupted, GRID, N_RUNS, seed=2, output_dims=OUTPUT_DIMS, store=store, n_workers=1, progress=False)
    stored_before = sorted(os.listdir(store / "runs"))
    keys_before = call_keys(calls)
    assert len(stored_before) == 5
    assert len(keys_before) == 5

    resumed_run = functools.partial(counting_run, call_folder=str(calls))
    resumed = sweep(resumed_run, GRID, N_RUNS, seed=2, output_dims=OUTPUT_DIMS, store=store, n_workers=1, progress=False)
    keys_after = call_keys(calls)
    uninterrupted = sweep(demo_run, GRID, N_RUNS, seed=2, output_dims=OUTPUT_DIMS, n_workers=1, progress=False)

    n_total = len(GRID["alpha"]) * len(GRID["offset"]) * N_RUNS
    assert len(keys_after) == n_total
    assert len(set(keys_after)) == n_total, "a finished run was computed again"
    assert set(keys_before) <= set(keys_after)
    assert len(os.listdir(store / "runs")) == n_total
    xr.testing.assert_identical(resumed, uninterrupted)


KILLED_SWEEP = """
import functools, sys
from fastxbar._sweep_demo import counting_run
from fastxbar.sweeps import sweep
run = functools.partial(counting_run, call_folder=sys.argv[1], sleep_seconds=0.1)
sweep(run, {"alpha": [0.1, 0.5, 1.0], "offset": [0.0, 1.0]}, 3, seed=2,
      output_dims={"curve": ["step"]}, store=sys.argv[2], n_workers=1, progress=False)
"""


def test_store_resume_after_kill(tmp_path):
    first_calls = tmp_path / "first_calls"
    resumed_calls = tmp_path / "resumed_calls"
    first_calls.mkdir()
    resumed_calls.mkdir()
    store = tmp_path / "store"
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    process = subprocess.Popen(
        [sys.executable, "-c", KILLED_SWEEP, str(first_calls), str(store)],
        cwd=root, env={**os.environ, "PYTHONPATH": root},
    )
    try:
        deadline = time.monotonic() + 30
        while len(list((store / "runs").glob("*.npz"))) < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        process.kill()
        process.wait()
    stored_before = {name.removesuffix(".npz") for name in os.listdir(store / "runs")}
    assert 4 <= len(stored_before) < 18, "the sweep was not killed part-way"

    resumed_run = functools.partial(counting_run, call_folder=str(resumed_calls))
    resumed = sweep(resumed_run, GRID, N_RUNS, seed=2, output_dims=OUTPUT_DIMS, store=store, n_workers=1, progress=False)
    uninterrupted = sweep(demo_run, GRID, N_RUNS, seed=2, output_dims=OUTPUT_DIMS, n_workers=1, progress=False)

    recomputed = {store_name(key) for key in call_keys(resumed_calls)}
    assert len(call_keys(resumed_calls)) == 18 - len(stored_before)
    assert recomputed.isdisjoint(stored_before), "a stored run was computed again"
    xr.testing.assert_identical(resumed, uninterrupted)


def test_store_resume_on_pool_runs_nothing_twice(tmp_path):
    calls = tmp_path / "calls"
    calls.mkdir()
    store = tmp_path / "store"
    first_calls = functools.partial(counting_run, call_folder=str(calls))
    grid = {"alpha": [0.2, 0.7]}
    sweep(first_calls, grid, 2, seed=4, output_dims=OUTPUT_DIMS, store=store, n_workers=2, progress=False)
    assert len(call_keys(calls)) == 4

    extended = sweep(first_calls, grid, 3, seed=4, output_dims=OUTPUT_DIMS, store=store, n_workers=2, progress=False)
    keys = call_keys(calls)
    assert len(keys) == 6
    assert len(set(keys)) == 6, "a finished run was computed again"
    assert json.loads((store / "sweep.json").read_text())["n_runs"] == 3

    reference = sweep(demo_run, grid, 3, seed=4, output_dims=OUTPUT_DIMS, n_workers=1, progress=False)
    xr.testing.assert_identical(extended, reference)


def test_store_layout(tmp_path):
    store = tmp_path / "store"
    grid = {"alpha": np.array([0.5]), "offset": (0, 1)}
    sweep(demo_run, grid, 2, seed=9, output_dims=OUTPUT_DIMS, store=store, n_workers=1, progress=False)
    manifest = json.loads((store / "sweep.json").read_text())

    assert manifest["grid"] == {"alpha": [0.5], "offset": [0, 1]}
    assert manifest["n_runs"] == 2
    assert manifest["seed"] == 9
    assert manifest["output_dims"] == {"curve": ["step"]}
    assert manifest["run"] == "fastxbar._sweep_demo:demo_run"
    assert sorted(os.listdir(store / "runs")) == ["p0-0_r0.npz", "p0-0_r1.npz", "p0-1_r0.npz", "p0-1_r1.npz"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"grid": {"alpha": [0.2, 0.8], "n_steps": [5]}}, "grid"),
        ({"grid": {"n_steps": [5], "alpha": [0.2, 0.7]}}, "grid"),
        ({"seed": 1}, "seed"),
        ({"output_dims": {"curve": ["time"]}}, "output_dims"),
        ({"run": failing_run}, "run"),
    ],
)
def test_store_rejects_other_sweep(tmp_path, change, field):
    arguments = {
        "run": demo_run,
        "grid": {"alpha": [0.2, 0.7], "n_steps": [5]},
        "seed": 0,
        "output_dims": OUTPUT_DIMS,
    }
    sweep(n_runs=2, store=tmp_path, n_workers=1, progress=False, **arguments)
    arguments.update(change)
    with pytest.raises(StoreMismatchError, match=f"different sweep: its {field}") as raised:
        sweep(n_runs=2, store=tmp_path, n_workers=1, progress=False, **arguments)
    assert "new folder" in str(raised.value)


def test_store_rejects_fewer_runs(tmp_path):
    small_grid_sweep(demo_run, store=tmp_path, n_workers=1)
    with pytest.raises(StoreMismatchError, match="n_runs=4"):
        sweep(demo_run, {"alpha": [0.2, 0.7], "n_steps": [5]}, 2, output_dims=OUTPUT_DIMS, store=tmp_path, n_workers=1)


def test_store_rejects_runs_without_manifest(tmp_path):
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "p0-0_r0.npz").write_bytes(b"")
    with pytest.raises(StoreMismatchError, match="no sweep.json"):
        small_grid_sweep(demo_run, store=tmp_path, n_workers=1)


def test_store_ignores_leftover_temporary_file(tmp_path):
    small_grid_sweep(demo_run, store=tmp_path, n_workers=1)
    (tmp_path / "runs" / ".tmp-abc").write_bytes(b"partial")
    resumed = small_grid_sweep(demo_run, store=tmp_path, n_workers=1)
    assert not (tmp_path / "runs" / ".tmp-abc").exists()
    assert resumed.attrs["n_failed"] == 0


@pytest.mark.parametrize("n_workers", [1, 2])
def test_failed_run_reported_others_finish(caplog, n_workers):
    grid = {"alpha": [0.5, -1.0, 1.0], "n_steps": [4]}
    with caplog.at_level(logging.ERROR, logger="fastxbar.sweeps"):
        dataset = sweep(failing_run, grid, 2, output_dims=OUTPUT_DIMS, n_workers=n_workers, progress=False)

    assert dataset.attrs["n_failed"] == 2
    failures = failed_runs(dataset)
    assert [(f["point_index"], f["run_index"]) for f in failures] == [([1, 0], 0), ([1, 0], 1)]
    assert failures[0]["params"] == {"alpha": -1.0, "n_steps": 4}
    assert failures[0]["error"] == "ValueError: alpha must be non-negative; got -1.0"
    assert np.isnan(dataset["final"].sel(alpha=-1.0).values).all()
    assert np.isfinite(dataset["final"].sel(alpha=[0.5, 1.0]).values).all()
    error_logs = [record.getMessage() for record in caplog.records if record.levelno == logging.ERROR]
    assert len(error_logs) == 2
    assert "'alpha': -1.0" in error_logs[0]
    assert "Traceback (most recent call last)" in error_logs[0]
    assert "in failing_run" in error_logs[0]


def test_output_shape_change_is_failure():
    grid = {"alpha": [0.5], "n_steps": [3, 4]}
    dataset = sweep(demo_run, grid, 2, output_dims=OUTPUT_DIMS, n_workers=1, progress=False)
    failures = failed_runs(dataset)
    assert dataset.attrs["n_failed"] == 2
    assert [f["point_index"] for f in failures] == [[0, 1], [0, 1]]
    assert "output 'curve' has shape (4,), but earlier runs returned shape (3,)" in failures[0]["error"]
    assert np.isfinite(dataset["final"].sel(n_steps=3).values).all()


def test_failed_runs_retried_on_resume(tmp_path):
    calls = tmp_path / "calls"
    calls.mkdir()
    store = tmp_path / "store"
    grid = {"alpha": [0.5, -1.0]}
    failing = functools.partial(counting_run, call_folder=str(calls), fail_below=0.0)
    first = sweep(failing, grid, 2, output_dims=OUTPUT_DIMS, store=store, n_workers=1, progress=False)
    assert first.attrs["n_failed"] == 2
    assert sorted(os.listdir(store / "runs")) == ["p0_r0.npz", "p0_r1.npz"]

    fixed = functools.partial(counting_run, call_folder=str(calls))
    resumed = sweep(fixed, grid, 2, output_dims=OUTPUT_DIMS, store=store, n_workers=1, progress=False)
    assert resumed.attrs["n_failed"] == 0
    assert call_keys(calls) == ["0-0", "0-1", "1-0", "1-0", "1-1", "1-1"]
    reference = sweep(demo_run, grid, 2, output_dims=OUTPUT_DIMS, n_workers=1, progress=False)
    xr.testing.assert_identical(resumed, reference)


def test_raise_on_failure_carries_dataset():
    grid = {"alpha": [0.5, -1.0]}
    with pytest.raises(SweepFailedError, match="2 of 4 runs failed") as raised:
        sweep(failing_run, grid, 2, n_workers=1, progress=False, raise_on_failure=True)
    assert raised.value.dataset.attrs["n_failed"] == 2
    assert [failure.run_index for failure in raised.value.failures] == [0, 1]
    assert "ValueError" in raised.value.failures[0].traceback


def test_summarize_writes_row_per_point(tmp_path):
    grid = {"alpha": [0.5, -1.0], "n_steps": [3]}
    dataset = sweep(failing_run, grid, 3, output_dims=OUTPUT_DIMS, n_workers=1, progress=False)
    path = summarize(dataset, tmp_path / "summary.csv")
    with path.open(newline="") as file:
        rows = list(csv.DictReader(file))

    assert len(rows) == 2
    assert list(rows[0])[:3] == ["alpha", "n_steps", "n_failed"]
    assert float(rows[0]["alpha"]) == 0.5
    assert rows[0]["n_failed"] == "0"
    finals = dataset["final"].sel(alpha=0.5, n_steps=3).values
    assert float(rows[0]["final_mean"]) == pytest.approx(finals.mean(), rel=1e-15)
    assert float(rows[0]["final_min"]) == finals.min()
    assert float(rows[0]["curve_max"]) == dataset["curve"].sel(alpha=0.5, n_steps=3).values[:, -1].max()
    assert rows[1]["n_failed"] == "3"
    assert rows[1]["final_mean"] == ""


@pytest.mark.parametrize(
    ("grid", "kwargs", "error", "message"),
    [
        ({}, {}, ValueError, "`grid` is empty"),
        ({"alpha": []}, {}, ValueError, r"grid\['alpha'\] is empty"),
        ({"alpha": 0.5}, {}, TypeError, "Wrap a single value in a list"),
        ({"alpha": "abc"}, {}, TypeError, "Wrap a single value in a list"),
        ({"run": [1]}, {}, ValueError, "other than 'run'"),
        ({"alpha": [0.5], "beta": [1]}, {"allowed_parameters": ["alpha"]}, ValueError, "Unknown grid parameter 'beta'"),
        ({"alpha": [0.5, "x"]}, {"parameter_types": {"alpha": float}}, TypeError, "contains 'x' of type str"),
        ({"n": [1, True]}, {"parameter_types": {"n": int}}, TypeError, "contains True of type bool"),
        ({"alpha": [0.5]}, {"n_runs": 0}, ValueError, "`n_runs` must be a positive integer; got 0"),
        ({"alpha": [0.5]}, {"n_runs": 2.5}, TypeError, "`n_runs` must be a positive integer"),
        ({"alpha": [0.5]}, {"seed": -1}, ValueError, "`seed` must be a non-negative integer"),
        ({"alpha": [0.5]}, {"executor": "threads"}, ValueError, "`executor` must be 'local'"),
        ({"alpha": [0.5]}, {"n_workers": 0}, ValueError, "`n_workers` must be a positive integer"),
        ({"alpha": [0.5]}, {"executor": "tcp://127.0.0.1:1"}, ValueError, "applies only to executor='local'"),
        ({"alpha": [0.5]}, {"output_dims": {"curve": "step"}}, TypeError, r"For one dimension write \['step'\]"),
        ({"alpha": [0.5]}, {"output_dims": {"curve": ["alpha"]}}, ValueError, "rename that output dimension"),
        ({"alpha": [0.5, {1, 2}]}, {}, TypeError, "cannot be written to sweep.json"),
    ],
)
def test_bad_arguments_raise_before_any_run(tmp_path, grid, kwargs, error, message):
    calls = tmp_path / "calls"
    calls.mkdir()
    arguments = {"n_runs": 2, "n_workers": 1, "progress": False, **kwargs}
    run = functools.partial(counting_run, call_folder=str(calls))
    with pytest.raises(error, match=message):
        sweep(run, grid, store=tmp_path / "store", **arguments)
    assert os.listdir(calls) == []
    assert not (tmp_path / "store").exists()


def test_int_accepted_for_float_type():
    dataset = sweep(demo_run, {"alpha": [1, 0.5]}, 1, parameter_types={"alpha": float}, n_workers=1, progress=False)
    assert dataset.sizes["alpha"] == 2


def test_too_many_threads_rejected():
    cores = len(os.sched_getaffinity(0))
    with pytest.raises(ValueError, match="exceeds the .* available cores"):
        sweep(demo_run, {"alpha": [0.5]}, 1, n_workers=cores, threads_per_worker=2, progress=False)


def test_unpicklable_run_rejected_for_pool():
    with pytest.raises(TypeError, match="must be picklable"):
        sweep(lambda params, seed_sequence: {"x": 1.0}, {"alpha": [0.5]}, 1, n_workers=2, progress=False)


def test_pool_workers_get_thread_limit():
    variables_before = {name: os.environ.get(name) for name in THREAD_VARIABLES}
    dataset = sweep(thread_limits_run, {"alpha": [0.5]}, 2, n_workers=2, threads_per_worker=1, progress=False)
    assert dataset.attrs["n_failed"] == 0
    assert (dataset["fastxbar_threads"].values == 1).all()
    assert (dataset["numba_threads"].values == 1).all()
    assert (dataset["omp_threads"].values == 1).all()
    assert {name: os.environ.get(name) for name in THREAD_VARIABLES} == variables_before


def test_wrong_output_dims_raise():
    with pytest.raises(ValueError, match=r"names 2 dimensions .* has 1"):
        sweep(demo_run, {"alpha": [0.5]}, 1, output_dims={"curve": ["a", "b"]}, n_workers=1, progress=False)


def test_output_named_like_parameter_raises():
    with pytest.raises(ValueError, match="output named 'final'.* rename that output"):
        sweep(demo_run, {"final": [0.5], "alpha": [0.5]}, 1, n_workers=1, progress=False)


def test_progress_bar_counts_runs(capsys):
    sweep(demo_run, {"alpha": [0.5, 1.0]}, 3, n_workers=1, progress=True)
    assert "6/6" in capsys.readouterr().err
