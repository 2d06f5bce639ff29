"""Small run functions for :func:`fastxbar.sweeps.sweep`, used by its tests and benchmark.

Spawned worker processes import a run function by its module and name. These functions live in
an importable module for that reason, because a function defined in a test file or an
interactive session is not found there.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np


def demo_run(params: dict, seed_sequence: np.random.SeedSequence) -> dict[str, np.ndarray]:
    """Return a noisy decaying curve and its final value for ``params["alpha"]``.

    ``params`` may also set ``offset`` (default 0.0), added to the curve, and ``n_steps``
    (default 8), the length of the ``curve`` output.
    """
    rng = np.random.default_rng(seed_sequence)
    n_steps = int(params.get("n_steps", 8))
    steps = np.arange(n_steps)
    noise = 0.01 * rng.standard_normal(n_steps)
    curve = np.exp(-params["alpha"] * steps) + params.get("offset", 0.0) + noise
    return {"final": np.float64(curve[-1]), "curve": curve}


def failing_run(params: dict, seed_sequence: np.random.SeedSequence) -> dict[str, np.ndarray]:
    """Return :func:`demo_run`, except raise ValueError when ``params["alpha"]`` is negative."""
    if params["alpha"] < 0:
        raise ValueError(f"alpha must be non-negative; got {params['alpha']}")
    return demo_run(params, seed_sequence)


def counting_run(
    params: dict,
    seed_sequence: np.random.SeedSequence,
    *,
    call_folder: str,
    interrupt_after: int | None = None,
    fail_below: float | None = None,
    sleep_seconds: float = 0.0,
) -> dict[str, np.ndarray]:
    """Return :func:`demo_run` and record each call as a file in ``call_folder``.

    The file name is the run's spawn key, so a test can tell which runs were called. With
    ``interrupt_after=k``, the call that finds k files already recorded raises
    KeyboardInterrupt, as a user pressing Ctrl-C would, before running. With ``fail_below``,
    a call whose ``params["alpha"]`` is lower records itself and raises ValueError.
    ``sleep_seconds`` delays each call, so a test can kill the sweep while it runs.
    """
    folder = Path(call_folder)
    if interrupt_after is not None and len(os.listdir(folder)) >= interrupt_after:
        raise KeyboardInterrupt
    key = "-".join(map(str, seed_sequence.spawn_key))
    with open(folder / f"{key}-{os.urandom(4).hex()}", "w"):
        pass
    time.sleep(sleep_seconds)
    if fail_below is not None and params["alpha"] < fail_below:
        raise ValueError(f"alpha must be at least {fail_below}; got {params['alpha']}")
    return demo_run(params, seed_sequence)


def thread_limits_run(params: dict, seed_sequence: np.random.SeedSequence) -> dict[str, np.ndarray]:
    """Return the thread limits of this process: fastxbar's default, Numba's and OpenMP's."""
    import numba

    from ._config import default_threads

    return {
        "fastxbar_threads": np.int64(default_threads()),
        "numba_threads": np.int64(numba.get_num_threads()),
        "omp_threads": np.int64(os.environ.get("OMP_NUM_THREADS", "0")),
    }


def busy_run(params: dict, seed_sequence: np.random.SeedSequence) -> dict[str, np.ndarray]:
    """Return the mean of a logistic-map orbit after a CPU-bound pure-Python loop.

    ``params["n_iterations"]`` (default 5 000 000) sets the work; the default took 0.19 s on
    one core of the Xeon machine named in benches/README.md. Pure Python uses one core and
    starts no threads, so the speed-up over worker processes measures the executor alone.
    """
    rng = np.random.default_rng(seed_sequence)
    n_iterations = int(params.get("n_iterations", 5_000_000))
    r = float(params.get("r", 3.9))
    x = float(rng.uniform(0.1, 0.9))
    total = 0.0
    for _ in range(n_iterations):
        x = r * x * (1.0 - x)
        total += x
    return {"mean": np.float64(total / n_iterations)}
