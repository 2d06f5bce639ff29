"""Executors of a sweep: the calling process, a local process pool, or a Dask cluster.

Each yields ``(task, outcome)`` pairs as runs finish. The run's own exceptions are caught in the
worker (see :func:`execute_run`), so an outcome is ("ok", outputs) or ("failed", error line,
traceback text).
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import pickle
import sys
import traceback
from collections.abc import Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

#: Environment variables that bound the threads of Numba, OpenMP, the BLAS libraries and
#: fastxbar's own kernels inside each worker process.
THREAD_VARIABLES = (
    "NUMBA_NUM_THREADS",
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "FASTXBAR_NUM_THREADS",
)

#: Tasks submitted ahead per worker thread: enough that a worker usually finds its next task
#: queued, few enough that memory stays bounded for sweeps of millions of runs.
_TASKS_IN_FLIGHT_PER_WORKER = 2


@dataclass(frozen=True)
class Task:
    """One run to execute: its grid point index, run index and parameter values."""

    point_index: tuple[int, ...]
    run_index: int
    params: dict


def run_seed(seed: int, point_index: tuple[int, ...], run_index: int) -> np.random.SeedSequence:
    """Return the SeedSequence of one run, keyed by its grid point and run index only."""
    return np.random.SeedSequence(entropy=seed, spawn_key=(*point_index, run_index))


def check_count(name: str, value: object) -> int:
    """Return ``value`` as an int if it is a positive integer, else raise naming ``name``."""
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
        raise TypeError(f"`{name}` must be a positive integer; got {value!r}.")
    if value < 1:
        raise ValueError(f"`{name}` must be a positive integer; got {value!r}.")
    return int(value)


def _available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


_applied_thread_limit: int | None = None


def limit_threads(threads: int) -> None:
    """Bound the threads of Numba, OpenMP, BLAS and fastxbar kernels in this process.

    Sets :data:`THREAD_VARIABLES`, which take effect for libraries loaded afterwards, and
    lowers the pools of libraries already loaded through threadpoolctl (if installed) and
    ``numba.set_num_threads``.
    """
    global _applied_thread_limit
    if _applied_thread_limit != threads:
        for variable in THREAD_VARIABLES:
            os.environ[variable] = str(threads)
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            pass
        else:
            threadpool_limits(limits=threads)
        _applied_thread_limit = threads
    if "numba" in sys.modules:
        numba = sys.modules["numba"]
        # set_num_threads applies to the calling thread, so it runs for every task.
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))


def execute_run(run, params, seed, point_index, run_index, threads):
    """Return ("ok", outputs) or ("failed", error line, traceback text) for one run.

    Exceptions of the run are caught here, in the worker, so their traceback travels back as
    text even when the exception itself cannot be pickled.
    """
    if threads is not None:
        limit_threads(threads)
    try:
        outputs = run(params, run_seed(seed, point_index, run_index))
        return "ok", _check_outputs(outputs)
    except Exception as error:
        return "failed", f"{type(error).__name__}: {error}", traceback.format_exc()


def _check_outputs(outputs: object) -> dict[str, np.ndarray]:
    if not isinstance(outputs, Mapping) or not outputs:
        raise TypeError(f"The run function must return a non-empty mapping of name to array; got {outputs!r}.")
    checked = {}
    for name, value in outputs.items():
        array = np.asarray(value)
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"Output name {name!r} is invalid; use a Python identifier.")
        if array.dtype.kind not in "biufc":
            raise TypeError(f"Output {name!r} must be numeric or boolean; got dtype {array.dtype}.")
        checked[name] = array
    return checked


@dataclass
class Backend:
    """Executor selected for a sweep, of kind "in-process", "local" (process pool) or "dask"."""

    kind: str
    description: str
    n_workers: int = 1
    threads_per_worker: int = 1
    client: object = None
    #: Scheduler address to which a Client is connected for the sweep, when no Client was given.
    address: str | None = None


def choose_backend(run, executor, n_workers, threads_per_worker) -> Backend:
    """Check the executor arguments and ``run``, and return the Backend they select.

    Nothing is started or connected here, so invalid arguments raise before any work.
    """
    if not callable(run):
        raise TypeError(f"`run` must be callable as run(params, seed_sequence); got {run!r}.")
    if isinstance(executor, str) and executor == "local":
        backend = _local_backend(n_workers, threads_per_worker)
    elif isinstance(executor, str) and "://" in executor:
        backend = _dask_backend(executor, n_workers, threads_per_worker)
    elif _is_dask_client(executor):
        backend = _dask_backend(executor, n_workers, threads_per_worker)
    else:
        raise ValueError(
            f"`executor` must be 'local', a dask.distributed.Client or a scheduler address such "
            f"as 'tcp://127.0.0.1:8786'; got {executor!r}."
        )
    if backend.kind != "in-process":
        try:
            pickle.dumps(run)
        except Exception as error:
            raise TypeError(
                f"`run` must be picklable to run in worker processes ({error}). Define it at the "
                "top level of an importable module, or pass n_workers=1 to run in this process."
            ) from error
    return backend


def _is_dask_client(executor: object) -> bool:
    from distributed import Client

    return isinstance(executor, Client)


def _local_backend(n_workers, threads_per_worker) -> Backend:
    cores = _available_cores()
    if n_workers is None:
        n_workers = max(1, cores // threads_per_worker)
    n_workers = check_count("n_workers", n_workers)
    if n_workers * threads_per_worker > cores:
        raise ValueError(
            f"n_workers * threads_per_worker = {n_workers} * {threads_per_worker} exceeds the "
            f"{cores} available cores; lower n_workers or threads_per_worker."
        )
    if n_workers == 1:
        return Backend("in-process", "this process")
    return Backend("local", f"{n_workers} local processes", n_workers, threads_per_worker)


def _dask_backend(executor, n_workers, threads_per_worker) -> Backend:
    if n_workers is not None:
        raise ValueError(
            "`n_workers` applies only to executor='local'; size the Dask cluster instead and "
            "leave n_workers=None."
        )
    # NOTE: threads_per_worker is not checked against the cores of Dask workers, because the
    # scheduler does not report them. The user sizes the cluster's threads per worker to match.
    if not isinstance(executor, str):
        return Backend("dask", f"Dask scheduler {executor.scheduler.address}", 1, threads_per_worker, executor)
    return Backend("dask", f"Dask scheduler {executor}", 1, threads_per_worker, address=executor)


def _connect(address: str):
    from distributed import Client

    try:
        return Client(address, set_as_default=False)
    except OSError as error:
        raise OSError(
            f"Could not connect to the Dask scheduler at {address!r} ({error}). Check the "
            "address and that `dask scheduler` is running there."
        ) from error


def outcomes(run, seed, tasks, backend) -> Iterator[tuple[Task, tuple]]:
    """Yield ``(task, outcome)`` for every task as its run finishes, in any order."""
    if not tasks:
        return
    if backend.kind == "in-process":
        for task in tasks:
            yield task, execute_run(run, task.params, seed, task.point_index, task.run_index, None)
        return
    if backend.kind == "local":
        yield from _outcomes_on_pool(run, seed, tasks, backend)
        return
    yield from _outcomes_on_dask(run, seed, tasks, backend)


def _outcomes_on_pool(run, seed, tasks, backend) -> Iterator[tuple[Task, tuple]]:
    # "spawn" starts each worker from a fresh interpreter with the environment of the moment,
    # so the thread variables set around each submission are read before NumPy or Numba load.
    # "forkserver" would reuse the environment of its first start for every later sweep.
    pool = ProcessPoolExecutor(
        max_workers=backend.n_workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=limit_threads,
        initargs=(backend.threads_per_worker,),
    )

    def submit(task):
        with _thread_variables(backend.threads_per_worker):
            return pool.submit(
                execute_run, run, task.params, seed, task.point_index, task.run_index,
                backend.threads_per_worker,
            )

    def wait_for_any(futures):
        return wait(futures, return_when=FIRST_COMPLETED).done

    try:
        yield from _windowed(tasks, submit, wait_for_any, backend.n_workers * _TASKS_IN_FLIGHT_PER_WORKER)
    except BrokenProcessPool as error:
        # NOTE: a worker that dies (segmentation fault, out of memory) breaks the whole pool, so
        # the sweep stops here. Runs already finished stay in the store.
        raise RuntimeError(
            f"A local worker process exited unexpectedly ({error}). Runs finished so far are "
            "kept in the store, if one was given, and calling sweep again with the same "
            "arguments resumes. Pass n_workers=1 to see the error in this process. A script "
            "that calls sweep must do so under `if __name__ == '__main__':`, because each "
            "spawned worker imports the script."
        ) from error
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _outcomes_on_dask(run, seed, tasks, backend) -> Iterator[tuple[Task, tuple]]:
    if backend.client is None:
        client = _connect(backend.address)
        try:
            yield from _outcomes_on_client(run, seed, tasks, backend, client)
        finally:
            client.close()
    else:
        yield from _outcomes_on_client(run, seed, tasks, backend, backend.client)


def _outcomes_on_client(run, seed, tasks, backend, client) -> Iterator[tuple[Task, tuple]]:
    from distributed import as_completed

    window = max(1, sum(client.nthreads().values())) * _TASKS_IN_FLIGHT_PER_WORKER
    remaining = iter(tasks)
    pending = {}

    def submit(task):
        future = client.submit(
            execute_run, run, task.params, seed, task.point_index, task.run_index,
            backend.threads_per_worker, pure=False,
        )
        pending[future] = task
        return future

    # Passing the loop keeps as_completed from looking up a default client, which a Client
    # made with set_as_default=False is not.
    initial = [submit(task) for task in itertools.islice(remaining, window)]
    finished = as_completed(initial, loop=client.loop)
    try:
        for future in finished:
            task = pending.pop(future)
            yield task, _result_of(future)
            next_task = next(remaining, None)
            if next_task is not None:
                finished.add(submit(next_task))
    finally:
        if pending:
            client.cancel(list(pending))


def _windowed(tasks, submit, wait_for_any, window) -> Iterator[tuple[Task, tuple]]:
    """Yield (task, outcome) as runs finish, with at most ``window`` tasks submitted at once."""
    remaining = iter(tasks)
    pending = {}
    try:
        for task in itertools.islice(remaining, window):
            pending[submit(task)] = task
        while pending:
            for future in wait_for_any(pending):
                task = pending.pop(future)
                yield task, _result_of(future)
                next_task = next(remaining, None)
                if next_task is not None:
                    pending[submit(next_task)] = next_task
    finally:
        for future in pending:
            future.cancel()


def _result_of(future) -> tuple:
    try:
        return future.result()
    except BrokenProcessPool:
        raise
    except Exception as error:
        # execute_run catches every Exception of the run in the worker, so an Exception here
        # comes from the executor, for example a lost Dask worker or a result that cannot be
        # unpickled. KeyboardInterrupt and SystemExit of the run still propagate.
        return "failed", f"{type(error).__name__}: {error}", traceback.format_exc()


@contextmanager
def _thread_variables(threads: int):
    previous = {variable: os.environ.get(variable) for variable in THREAD_VARIABLES}
    os.environ.update({variable: str(threads) for variable in THREAD_VARIABLES})
    try:
        yield
    finally:
        for variable, value in previous.items():
            if value is None:
                os.environ.pop(variable, None)
            else:
                os.environ[variable] = value
