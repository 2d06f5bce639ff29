"""The backend table: each backend name maps to a module of kernels with one shared contract."""

from __future__ import annotations

import importlib
from types import ModuleType

#: Backend names accepted wherever a ``backend`` argument is taken.
BACKENDS = ("numba", "cython", "numpy")

_DEVICE_MODULES = {
    "numba": "fastxbar._numba_kernels",
    "cython": "fastxbar._kernels",
    "numpy": "fastxbar._reference",
}

_TRAINING_MODULES = {
    "numba": "fastxbar._training_numba",
    "cython": "fastxbar._kernels",
    "numpy": "fastxbar._training_reference",
}


def check_backend(backend: object) -> str:
    """Return ``backend`` if it names a backend, else raise a ValueError that lists them."""
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise ValueError(
            f"Unknown backend {backend!r}; choose one of {', '.join(map(repr, BACKENDS))}."
        )
    return backend


def _import_kernels(modules: dict[str, str], backend: str) -> ModuleType:
    try:
        return importlib.import_module(modules[check_backend(backend)])
    except ImportError as error:
        raise ImportError(
            f"The {backend!r} backend is unavailable ({error}). Reinstall fastxbar with "
            "`pip install .` so the Cython extension is compiled, or use backend='numba'."
        ) from error


def device_kernels(backend: str) -> ModuleType:
    """Return the module whose ``apply_pulse`` and ``state_to_conductance`` serve ``backend``."""
    return _import_kernels(_DEVICE_MODULES, backend)


def training_kernels(backend: str) -> ModuleType:
    """Return the module whose ``usd_online_epoch`` and ``usd_batch_run`` serve ``backend``."""
    return _import_kernels(_TRAINING_MODULES, backend)
