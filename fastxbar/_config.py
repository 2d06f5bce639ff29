"""Tunables shared by the kernels: Numba flags, thread counts and integration defaults."""

import os

#: Fast-math flags for Numba kernels. ``nnan`` and ``ninf`` are left out on purpose: they let
#: LLVM assume no NaN or infinity exists and delete the checks that depend on it.
NUMBA_FASTMATH = {"nsz", "arcp", "contract", "reassoc"}

#: Arrays with fewer devices than this are updated on one thread: below it, waking a second
#: thread costs more than it saves (measured on 2 cores, an estimate elsewhere).
PARALLEL_MIN_DEVICES = 16384

#: Runge-Kutta sub-steps per pulse for device models without a closed-form solution.
DEFAULT_SUBSTEPS = 32


def default_threads() -> int:
    """Return the thread count used when a caller passes ``n_threads=None``.

    ``FASTXBAR_NUM_THREADS`` overrides the number of cores visible to this process.
    """
    configured = os.environ.get("FASTXBAR_NUM_THREADS")
    if configured:
        return max(1, int(configured))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)
