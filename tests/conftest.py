"""Fixtures shared by the test modules."""

import pytest

BACKENDS = ["numba", "cython", "numpy"]


@pytest.fixture(params=BACKENDS)
def backend(request):
    """Each backend name in turn, skipping Cython when the extension is not built."""
    if request.param == "cython":
        pytest.importorskip("fastxbar._kernels", reason="the Cython extension is not built")
    return request.param
