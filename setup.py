"""Build the Cython extension ``fastxbar._kernels``; all metadata is in pyproject.toml.

Environment variables:

FASTXBAR_DEBUG_BUILD=1
    Turn bounds, wraparound and initialisation checks back on in the Cython kernels.
FASTXBAR_NO_OPENMP=1
    Build the kernels serially even when the compiler supports OpenMP.
FASTXBAR_NATIVE=1
    Compile for the build machine's own processor (-march=native): wider vectors, but the
    extension may then fail on other processors.
"""

import os
import shutil
import subprocess
import sys
import tempfile

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

DEBUG_BUILD = os.environ.get("FASTXBAR_DEBUG_BUILD", "0") == "1"

COMPILER_DIRECTIVES = {
    "language_level": 3,
    "boundscheck": DEBUG_BUILD,
    "wraparound": DEBUG_BUILD,
    "initializedcheck": DEBUG_BUILD,
    "cdivision": True,
    "nonecheck": False,
    "embedsignature": True,
}

OPENMP_TEST_SOURCE = """
#include <omp.h>
int main(void) { return omp_get_max_threads() > 0 ? 0 : 1; }
"""


def openmp_flags():
    """Return (compile_args, link_args) for OpenMP, or two empty lists if it is unavailable."""
    if os.environ.get("FASTXBAR_NO_OPENMP", "0") == "1" or sys.platform == "win32":
        return [], []
    compiler = os.environ.get("CC", "cc")
    if shutil.which(compiler.split()[0]) is None:
        return [], []
    with tempfile.TemporaryDirectory() as folder:
        source = os.path.join(folder, "check_openmp.c")
        with open(source, "w") as handle:
            handle.write(OPENMP_TEST_SOURCE)
        command = compiler.split() + ["-fopenmp", source, "-o", os.path.join(folder, "check_openmp")]
        result = subprocess.run(command, capture_output=True)
    if result.returncode != 0:
        print("fastxbar: the C compiler does not support OpenMP; building serial kernels.")
        return [], []
    return ["-fopenmp"], ["-fopenmp"]


compile_args, link_args = openmp_flags()
# -fno-math-errno and -fno-trapping-math let the compiler vectorise sqrt and if-convert the
# clipping: the kernels never read errno or trap on floating-point exceptions.
optimisation = ["-O0", "-g"] if DEBUG_BUILD else ["-O3", "-fno-math-errno", "-fno-trapping-math"]
if os.environ.get("FASTXBAR_NATIVE", "0") == "1":
    optimisation.append("-march=native")

extension = Extension(
    "fastxbar._kernels",
    sources=["fastxbar/_kernels.pyx"],
    include_dirs=[numpy.get_include()],
    define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
    extra_compile_args=optimisation + compile_args,
    extra_link_args=link_args,
)

setup(ext_modules=cythonize([extension], compiler_directives=COMPILER_DIRECTIVES))
