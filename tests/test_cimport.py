"""The Cython kernels are cimportable from another extension through fastxbar/_kernels.pxd."""

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

import fastxbar

PROBE = textwrap.dedent("""
    from fastxbar._kernels cimport DeviceTables, device_step, noise_factor

    def soft_bounds_step(double g, double v):
        # SoftBounds parameters: g_min, g_max, dg_up, dg_down, v_set, v_reset, pulse_width.
        cdef double p[7]
        p[0] = 1e-6; p[1] = 1e-4; p[2] = 1e-6; p[3] = 1e-6; p[4] = 0.8; p[5] = -0.8; p[6] = 1e-6
        cdef DeviceTables tables
        return device_step(1, 0, g, v, 1e-6, p, noise_factor(1, 0, 0.0), 0.0, 1, &tables)
""")

SETUP = textwrap.dedent("""
    from Cython.Build import cythonize
    from setuptools import Extension, setup
    setup(ext_modules=cythonize([Extension("probe", ["probe.pyx"])], include_path=[{root!r}],
                                language_level=3))
""")


@pytest.mark.skipif(shutil.which(os.environ.get("CC", "cc")) is None, reason="no C compiler")
def test_device_step_cimportable(tmp_path):
    pytest.importorskip("Cython")
    root = os.path.dirname(os.path.dirname(os.path.abspath(fastxbar.__file__)))
    (tmp_path / "probe.pyx").write_text(PROBE)
    (tmp_path / "setup.py").write_text(SETUP.format(root=root))
    build = subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace"], cwd=tmp_path,
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stderr[-2000:]
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), root])}
    check = subprocess.run(
        [sys.executable, "-c", "import probe; print(repr(probe.soft_bounds_step(1e-6, 1.0)))"],
        cwd=tmp_path, capture_output=True, text=True, env=environment,
    )
    assert check.returncode == 0, check.stderr[-2000:]
    # One nominal soft-bounds pulse from g_min moves the device by exactly dg_up.
    assert float(check.stdout) == pytest.approx(2e-6, rel=1e-12)
