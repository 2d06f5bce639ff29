"""The on-disk store of a sweep: a ``sweep.json`` manifest and one ``.npz`` file per finished run.

Layout of a store folder::

    sweep.json                 manifest: format version, grid, n_runs, seed, output_dims, run
    runs/p{i}-{j}-..._r{k}.npz one finished run: grid point index (i, j, ...), run index k

Every file is written to a temporary name in the same folder and moved into place with
``os.replace``, so a reader never sees a partial file and a killed sweep leaves either the
whole run or nothing. Failed runs are not stored, so a resumed sweep runs them again.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

MANIFEST_NAME = "sweep.json"
RUNS_FOLDER = "runs"
STORE_FORMAT = "fastxbar-sweep"
STORE_VERSION = 1

_RUN_FILE = re.compile(r"^p(\d+(?:-\d+)*)_r(\d+)\.npz$")
_TEMPORARY_PREFIX = ".tmp-"


class StoreMismatchError(ValueError):
    """Error raised when a store folder contains a different sweep.

    The grid, seed, output_dims or run function differ, or the store has more runs per point.
    """


def to_json_value(value: object, parameter: str) -> object:
    """Return ``value`` as plain JSON data (NumPy scalars and tuples converted), else raise."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (list, tuple, np.ndarray)):
        return [to_json_value(item, parameter) for item in value]
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value
    raise TypeError(
        f"Grid value {value!r} of parameter {parameter!r} cannot be written to {MANIFEST_NAME}; "
        "a sweep with a store takes numbers, strings, booleans, None or lists of them. "
        "Use such values, or pass store=None."
    )


def make_manifest(
    grid: Mapping[str, Sequence],
    n_runs: int,
    seed: int,
    output_dims: Mapping[str, Sequence[str]] | None,
    run_name: str,
) -> dict:
    """Return the manifest of a sweep as JSON-ready data."""
    return {
        "format": STORE_FORMAT,
        "version": STORE_VERSION,
        "grid": {name: [to_json_value(v, name) for v in values] for name, values in grid.items()},
        "n_runs": n_runs,
        "seed": seed,
        "output_dims": None if output_dims is None else {k: list(v) for k, v in output_dims.items()},
        "run": run_name,
    }


def run_file_name(point_index: tuple[int, ...], run_index: int) -> str:
    """Return the file name of one run inside ``runs/``."""
    return f"p{'-'.join(map(str, point_index))}_r{run_index}.npz"


def _canonical(value: object) -> str:
    # JSON text compares NaN equal to NaN and keeps the order of grid parameters.
    return json.dumps(value, allow_nan=True)


def _write_atomically(path: Path, write) -> None:
    descriptor, temporary = tempfile.mkstemp(prefix=_TEMPORARY_PREFIX, dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class SweepStore:
    """A store folder opened for one sweep; see the module docstring for its layout."""

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)
        self.runs_folder = self.folder / RUNS_FOLDER
        self.manifest_path = self.folder / MANIFEST_NAME

    def open(self, manifest: dict) -> None:
        """Create the store, or check that an existing one contains the same sweep.

        ``n_runs`` may grow between calls: run seeds do not depend on it, so the stored runs stay
        valid and the manifest is updated. Any other difference raises StoreMismatchError.
        """
        self.runs_folder.mkdir(parents=True, exist_ok=True)
        if self.manifest_path.exists():
            stored = json.loads(self.manifest_path.read_text(encoding="utf-8"))
            self._check_same_sweep(stored, manifest)
            if manifest["n_runs"] == stored["n_runs"]:
                self._remove_temporary_files()
                return
        elif any(self.runs_folder.iterdir()):
            raise StoreMismatchError(
                f"Store {str(self.folder)!r} contains run files but no {MANIFEST_NAME}, so its "
                "grid is unknown. Pass an empty or new folder as `store`."
            )
        text = json.dumps(manifest, indent=2, allow_nan=True) + "\n"
        _write_atomically(self.manifest_path, lambda file: file.write(text.encode("utf-8")))
        self._remove_temporary_files()

    def _check_same_sweep(self, stored: dict, manifest: dict) -> None:
        if stored.get("format") != STORE_FORMAT or stored.get("version") != STORE_VERSION:
            raise StoreMismatchError(
                f"{self.manifest_path} is not a fastxbar sweep manifest of version "
                f"{STORE_VERSION}. Pass a new folder as `store`."
            )
        for field in ("grid", "seed", "output_dims", "run"):
            if _canonical(stored.get(field)) != _canonical(manifest[field]):
                raise StoreMismatchError(
                    f"Store {str(self.folder)!r} was made for a different sweep: its {field} is "
                    f"{_canonical(stored.get(field))}, but this sweep has "
                    f"{_canonical(manifest[field])}. Pass a new folder as `store` to start this "
                    "sweep, or repeat the stored sweep's arguments to resume it."
                )
        if manifest["n_runs"] < stored["n_runs"]:
            raise StoreMismatchError(
                f"Store {str(self.folder)!r} was made for n_runs={stored['n_runs']}, but this "
                f"sweep has n_runs={manifest['n_runs']}. Pass n_runs >= {stored['n_runs']} to "
                "resume or extend it, or pass a new folder as `store`."
            )

    def _remove_temporary_files(self) -> None:
        # NOTE: assumes one sweep process per store. A second process writing to the same store
        # at the same time could lose a temporary file that is about to be moved into place.
        for path in self.runs_folder.glob(_TEMPORARY_PREFIX + "*"):
            path.unlink(missing_ok=True)

    def finished_runs(self, grid_shape: tuple[int, ...], n_runs: int) -> list[tuple]:
        """Return ``(point_index, run_index)`` of every stored run inside this sweep's bounds."""
        finished = []
        for path in self.runs_folder.iterdir():
            match = _RUN_FILE.match(path.name)
            if match is None:
                continue
            point_index = tuple(int(i) for i in match.group(1).split("-"))
            run_index = int(match.group(2))
            in_grid = len(point_index) == len(grid_shape) and all(
                0 <= i < n for i, n in zip(point_index, grid_shape)
            )
            if in_grid and run_index < n_runs:
                finished.append((point_index, run_index))
        return sorted(finished)

    def write_run(self, point_index: tuple[int, ...], run_index: int, outputs: dict) -> None:
        """Write one finished run's outputs atomically."""
        names = np.array(list(outputs), dtype=np.str_)
        arrays = list(outputs.values())
        path = self.runs_folder / run_file_name(point_index, run_index)
        # Arrays go in positionally (arr_0, arr_1, ...) so an output name never collides with
        # a keyword of numpy.savez; `output_names` maps them back.
        _write_atomically(path, lambda file: np.savez(file, *arrays, output_names=names))

    def read_run(self, point_index: tuple[int, ...], run_index: int) -> dict[str, np.ndarray]:
        """Return one stored run's outputs by name."""
        path = self.runs_folder / run_file_name(point_index, run_index)
        with np.load(path, allow_pickle=False) as archive:
            names = [str(name) for name in archive["output_names"]]
            return {name: archive[f"arr_{k}"] for k, name in enumerate(names)}

