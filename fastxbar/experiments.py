"""Experiment files: TOML descriptions of training sweeps, their validation and their runs.

An experiment file has these tables (see ``experiments/*.toml`` and ``docs/training.md``):

``name``, ``description``, ``seed``, ``runs``, ``metric``
    Top-level keys: a label, a sentence, the sweep seed, the number of runs per grid point and
    the error that the figure shows ("train_error" or "test_error", the default).
``[data]``
    ``name`` ("linear", "iris", "breast_cancer" or "digits") and that loader's options.
``[device]``
    ``model`` (a class of :mod:`fastxbar.devices`, or "LookupTable.enode") and its fields.
``[variability]``
    Fields of :class:`fastxbar.Variability`.
``[network]``
    Options of :class:`fastxbar.training.CrossbarNetwork`, and ``n_bit_lines`` to size the
    crossbar larger than the outputs need.
``[training]``
    Keyword arguments of :func:`fastxbar.training.train`.
``[sweep]``
    Lists of values for any key of [training], [network] or [device], or ``gratio``: the on/off
    conductance ratio, which sets ``r_off = gratio * r_on`` (LinearIonDrift, VTEAM) or
    ``g_min = g_max / gratio`` (step models).
``[[compare]]``
    Other variants run on the same data sets: a ``label`` and overrides of the keys above, for
    example ``{label = "GD", rule = "gd", learning_rate = 1.0}``. ``device = {model = ...}``
    replaces the whole [device] table.

Every run of a grid point or variant trains on the data set drawn for its run index, so the
grid points and the variants are compared on the same data. Everything is validated by
:func:`load_experiment` before any training starts.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from . import devices as devices_module
from .crossbar import Crossbar
from .datasets import DATASETS, SKLEARN_SETS, load
from .training import (
    LOSSES, MODES, RULES, SCHEDULES, SCHEMES, WEIGHT_LAYOUTS, CrossbarNetwork, train,
)
from .variability import Variability

TOP_LEVEL_KEYS = {"name", "description", "seed", "runs", "metric", "data", "device",
                  "variability", "network", "training", "sweep", "compare"}
METRICS = ("train_error", "test_error")
DATA_KEYS = {
    "linear": {"name", "n_features", "n_samples", "flip_fraction", "n_test"},
    **{name: {"name", "test_fraction"} for name in SKLEARN_SETS},
}
#: Outputs of each data set: one for two classes, else one per class.
DATA_OUTPUTS = {"linear": 1, "iris": 3, "breast_cancer": 1, "digits": 10}
NETWORK_KEYS = {"weights", "v_read", "v_write", "gain", "initial_state", "n_bit_lines"}
TRAINING_KEYS = {"rule", "mode", "n_iterations", "learning_rate", "schedule", "decay", "scheme",
                 "loss", "targets", "shuffle", "backend"}
VARIABILITY_KEYS = {"resistance_spread", "step_spread", "threshold_spread", "cycle_to_cycle",
                    "stuck_on_fraction", "stuck_off_fraction"}
DEVICE_MODELS = {
    "LinearIonDrift": devices_module.LinearIonDrift,
    "VTEAM": devices_module.VTEAM,
    "LinearStep": devices_module.LinearStep,
    "SoftBounds": devices_module.SoftBounds,
    "ExpStep": devices_module.ExpStep,
    "LookupTable.enode": devices_module.LookupTable.enode,
}


class ExperimentError(ValueError):
    """An experiment file that cannot run; the message names the file, the key and the fix."""

    def __init__(self, source: str, key: str, problem: str, fix: str) -> None:
        self.source, self.key, self.problem, self.fix = source, key, problem, fix
        super().__init__(f"{source}: `{key}` {problem} {fix}")


@dataclass(frozen=True)
class Experiment:
    """A validated experiment: the merged settings, the sweep grid and the compared variants.

    ``base`` maps each table name to its settings; ``grid`` maps each swept key to its values;
    ``variants`` maps each compare label to its overrides. ``source`` names the file.
    """

    name: str
    description: str
    seed: int
    runs: int
    base: dict
    grid: dict
    variants: dict
    source: str
    metric: str = "test_error"

    def with_runs(self, runs: int) -> "Experiment":
        """Return a copy with ``runs`` runs per grid point."""
        _check_int(self.source, "runs", runs, 1)
        return dataclasses.replace(self, runs=runs)


def _check_int(source, key, value, minimum):
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ExperimentError(source, key, f"must be an integer of at least {minimum}; got {value!r}.",
                              f"Set it to an integer >= {minimum}.")
    return value


def _check_number(source, key, value, minimum, *, inclusive=False, unit=""):
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        raise ExperimentError(source, key, f"must be a finite number{unit}; got {value!r}.",
                              "Write a number such as 1e-4.")
    if value < minimum or (value == minimum and not inclusive):
        bound = ">=" if inclusive else ">"
        raise ExperimentError(source, key, f"must be {bound} {minimum}{unit}; got {value!r}.",
                              f"Use a value {bound} {minimum}.")
    return value


def _check_keys(source, table, values, allowed):
    if not isinstance(values, dict):
        raise ExperimentError(source, table, f"must be a table; got {values!r}.",
                              f"Write it as [{table}] with key = value lines.")
    for key in values:
        if key not in allowed:
            raise ExperimentError(source, f"{table}.{key}" if table else key,
                                  "is not a known key.",
                                  f"Remove it or use one of: {', '.join(sorted(allowed))}.")


def _check_choice(source, key, value, choices):
    if value not in choices:
        raise ExperimentError(source, key, f"is {value!r}, which is not a valid choice.",
                              f"Use one of: {', '.join(map(str, choices))}.")


def _device_keys(model: str) -> set[str]:
    """Return the keys allowed in [device] for ``model``: its fields, ``model`` and ``gratio``."""
    if model == "LookupTable.enode":
        names = {item.name for item in dataclasses.fields(devices_module.LookupTable)}
        names -= {"g_bins", "cdf", "dg_increasing", "dg_decreasing"}
    else:
        names = {item.name for item in dataclasses.fields(DEVICE_MODELS[model])}
    return names | {"model", "gratio"}


def all_device_keys() -> set[str]:
    """Return every key allowed in [device] for some model, for routing sweep and compare keys."""
    return set().union(*(_device_keys(model) for model in DEVICE_MODELS))


def _route(key: str, device_keys: set[str]) -> str:
    """Return the table that a sweep or compare key belongs to."""
    if key in TRAINING_KEYS:
        return "training"
    if key in NETWORK_KEYS:
        return "network"
    if key == "dataset":
        return "data"
    if key == "device":
        return "whole device"
    if key in device_keys:
        return "device"
    raise KeyError(key)


def apply_overrides(base: dict, overrides: dict, device_keys: set[str]) -> dict:
    """Return a copy of ``base`` with sweep or compare ``overrides`` put into their tables."""
    settings = copy.deepcopy(base)
    for key, value in overrides.items():
        table = _route(key, device_keys)
        if table == "data":
            settings["data"] = {"name": value}
        elif table == "whole device":
            settings["device"] = dict(value)
        else:
            settings[table][key] = value
    return settings


def build_device(settings: dict, source: str = "<settings>"):
    """Return the device of one run's settings, with ``gratio`` applied."""
    options = dict(settings["device"])
    model = options.pop("model")
    gratio = options.pop("gratio", None)
    if gratio is not None:
        if model in ("LinearIonDrift", "VTEAM"):
            defaults = DEVICE_MODELS[model]()
            options["r_off"] = gratio * options.get("r_on", defaults.r_on)
        elif model in ("LinearStep", "SoftBounds", "ExpStep"):
            defaults = DEVICE_MODELS[model]()
            options["g_min"] = options.get("g_max", defaults.g_max) / gratio
        else:
            raise ExperimentError(source, "gratio", f"does not apply to the {model} device, whose "
                                  "conductance range is measured.", "Remove `gratio`.")
    try:
        return DEVICE_MODELS[model](**options)
    except (TypeError, ValueError) as error:
        raise ExperimentError(source, "device", f"is invalid: {error}",
                              "Fix the device fields named in that message.") from error


def _check_training(source, training):
    if "rule" in training:
        _check_choice(source, "training.rule", training["rule"], RULES)
    if "mode" in training:
        _check_choice(source, "training.mode", training["mode"], MODES)
    if "schedule" in training:
        _check_choice(source, "training.schedule", training["schedule"], SCHEDULES)
    if "loss" in training:
        _check_choice(source, "training.loss", training["loss"], tuple(LOSSES))
    if training.get("scheme") is not None:
        _check_choice(source, "training.scheme", training["scheme"], tuple(SCHEMES))
    if "backend" in training:
        _check_choice(source, "training.backend", training["backend"], ("numba", "cython", "numpy"))
    if "learning_rate" not in training:
        raise ExperimentError(source, "training.learning_rate", "is missing.",
                              "Add learning_rate = ... (seconds of pulse width for USD) to [training].")
    unit = " (seconds for USD)" if training.get("rule", "usd") == "usd" else ""
    _check_number(source, "training.learning_rate", training["learning_rate"], 0.0, unit=unit)
    if "n_iterations" not in training:
        raise ExperimentError(source, "training.n_iterations", "is missing.",
                              "Add n_iterations = ... to [training].")
    _check_int(source, "training.n_iterations", training["n_iterations"], 1)
    if "decay" in training:
        _check_number(source, "training.decay", training["decay"], 0.0, inclusive=True)
    targets = training.get("targets", [0.0, 1.0])
    if (not isinstance(targets, list) or len(targets) != 2
            or not all(isinstance(t, (int, float)) and 0 <= t <= 1 for t in targets)
            or targets[0] >= targets[1]):
        raise ExperimentError(source, "training.targets", f"must be two numbers 0 <= low < high <= 1; "
                              f"got {targets!r}.", "Write targets = [0.0, 1.0] or [0.1, 0.9].")


def _check_network(source, network, n_outputs):
    for key in ("v_read", "v_write", "gain"):
        if key in network:
            _check_number(source, f"network.{key}", network[key], 0.0)
    if "weights" in network:
        _check_choice(source, "network.weights", network["weights"], WEIGHT_LAYOUTS)
    if "initial_state" in network:
        _check_choice(source, "network.initial_state", network["initial_state"], ("mid", "device"))
    layout = network.get("weights", "differential")
    needed = 2 * n_outputs if layout == "differential" else n_outputs + 1
    if "n_bit_lines" in network:
        _check_int(source, "network.n_bit_lines", network["n_bit_lines"], 1)
        if network["n_bit_lines"] < needed:
            raise ExperimentError(
                source, "network.n_bit_lines",
                f"is {network['n_bit_lines']}, but {n_outputs} outputs with {layout} weights need "
                f"{needed} bit lines.", f"Set n_bit_lines >= {needed} or remove it.")


def _check_settings(source: str, settings: dict) -> None:
    """Validate one run's merged settings; raise ExperimentError on the first problem."""
    data = settings["data"]
    if "name" not in data:
        raise ExperimentError(source, "data.name", "is missing.",
                              f"Add name = one of {', '.join(DATASETS)} to [data].")
    _check_choice(source, "data.name", data["name"], DATASETS)
    _check_keys(source, "data", data, DATA_KEYS[data["name"]])
    if "flip_fraction" in data:
        _check_number(source, "data.flip_fraction", data["flip_fraction"], 0.0, inclusive=True)
        if data["flip_fraction"] >= 0.5:
            raise ExperimentError(source, "data.flip_fraction", "must be below 0.5.",
                                  "Use a fraction such as 0.05.")
    for key in ("n_features", "n_samples", "n_test"):
        if key in data:
            _check_int(source, f"data.{key}", data[key], 1)
    if "model" not in settings["device"]:
        raise ExperimentError(source, "device.model", "is missing.",
                              f"Add model = one of {', '.join(DEVICE_MODELS)} to [device].")
    _check_choice(source, "device.model", settings["device"]["model"], tuple(DEVICE_MODELS))
    _check_keys(source, "device", settings["device"], _device_keys(settings["device"]["model"]))
    if "gratio" in settings["device"]:
        _check_number(source, "device.gratio", settings["device"]["gratio"], 1.0)
    build_device(settings, source)
    _check_keys(source, "variability", settings["variability"], VARIABILITY_KEYS)
    try:
        Variability(**settings["variability"])
    except (TypeError, ValueError) as error:
        raise ExperimentError(source, "variability", f"is invalid: {error}",
                              "Fix the value named in that message.") from error
    _check_keys(source, "training", settings["training"], TRAINING_KEYS)
    _check_training(source, settings["training"])
    _check_keys(source, "network", settings["network"], NETWORK_KEYS)
    _check_network(source, settings["network"], DATA_OUTPUTS[data["name"]])


def parse_experiment(document: dict, source: str) -> Experiment:
    """Validate a parsed experiment document and return the :class:`Experiment`."""
    _check_keys(source, "", document, TOP_LEVEL_KEYS)
    for key in ("name", "runs", "data", "device", "training"):
        if key not in document:
            raise ExperimentError(source, key, "is missing.",
                                  f"Add `{key}`; see experiments/nair-dudek-2015.toml for an example.")
    if not isinstance(document["name"], str) or not document["name"]:
        raise ExperimentError(source, "name", "must be a non-empty string.", 'Write name = "my-run".')
    runs = _check_int(source, "runs", document["runs"], 1)
    seed = _check_int(source, "seed", document.get("seed", 0), 0)
    base = {table: dict(document.get(table, {})) for table in
            ("data", "device", "variability", "network", "training")}
    for table, values in base.items():
        _check_keys(source, table, values, set(values) if isinstance(values, dict) else set())
    if "model" not in base["device"]:
        raise ExperimentError(source, "device.model", "is missing.",
                              f"Add model = one of {', '.join(DEVICE_MODELS)} to [device].")
    _check_choice(source, "device.model", base["device"]["model"], tuple(DEVICE_MODELS))
    # A compare entry may switch the model, so routing accepts every model's keys; each run's
    # merged [device] table is then checked against its own model.
    device_keys = all_device_keys()
    grid = dict(document.get("sweep", {}))
    _check_keys(source, "sweep", grid, set(grid))
    for key, values in grid.items():
        try:
            _route(key, device_keys)
        except KeyError:
            raise ExperimentError(source, f"sweep.{key}", "is not a key of [training], [network] "
                                  "or [device], nor gratio or dataset.",
                                  "Sweep one of those keys.") from None
        if not isinstance(values, list) or not values:
            raise ExperimentError(source, f"sweep.{key}", f"must be a non-empty list; got {values!r}.",
                                  f"Write {key} = [value1, value2].")
    variants = _parse_variants(source, document.get("compare", []), device_keys)
    metric = document.get("metric", "test_error")
    _check_choice(source, "metric", metric, METRICS)
    experiment = Experiment(document["name"], document.get("description", ""), seed, runs, base,
                            grid, variants, source, metric)
    _check_sweep_values(experiment, device_keys)
    for settings in all_settings(experiment):
        _check_settings(source, settings)
    return experiment


def _check_sweep_values(experiment: Experiment, device_keys: set[str]) -> None:
    """Check each swept value at the first grid point, naming the [sweep] key when one fails."""
    first = {name: values[0] for name, values in experiment.grid.items()}
    for name, values in experiment.grid.items():
        for value in values:
            settings = apply_overrides(experiment.base, {**first, name: value}, device_keys)
            try:
                _check_settings(experiment.source, settings)
            except ExperimentError as error:
                culprit = error.key.rsplit(".", 1)[-1]
                if culprit not in experiment.grid:
                    raise
                bad_value = value if culprit == name else first[culprit]
                raise ExperimentError(experiment.source, f"sweep.{culprit}",
                                      f"contains {bad_value!r}, which is invalid: `{error.key}` "
                                      f"{error.problem}", error.fix) from None


def _parse_variants(source, entries, device_keys) -> dict:
    if not isinstance(entries, list):
        raise ExperimentError(source, "compare", "must be an array of tables.",
                              "Write each variant as [[compare]] with a label and overrides.")
    variants = {}
    for number, entry in enumerate(entries):
        if not isinstance(entry, dict) or "label" not in entry:
            raise ExperimentError(source, f"compare[{number}].label", "is missing.",
                                  'Give every [[compare]] entry a label such as label = "GD".')
        overrides = {key: value for key, value in entry.items() if key != "label"}
        if "device" in overrides and not isinstance(overrides["device"], dict):
            raise ExperimentError(source, f"compare[{number}].device", "must be a table.",
                                  'Write device = {model = "LinearIonDrift", ...}.')
        for key in overrides:
            try:
                _route(key, device_keys)
            except KeyError:
                raise ExperimentError(source, f"compare[{number}].{key}", "is not a known key.",
                                      "Use a key of [training], [network] or [device], gratio "
                                      "or dataset.") from None
        variants[str(entry["label"])] = overrides
    return variants


def all_settings(experiment: Experiment):
    """Yield the merged settings of the file's own tables, every grid point and every variant.

    The first item checks the values written in the tables even where the sweep replaces them;
    swept keys missing from the tables take their first swept value there.
    """
    device_keys = all_device_keys()
    names = list(experiment.grid)
    missing = {}
    for name in names:
        table = _route(name, device_keys)
        key = "name" if table == "data" else name
        if table == "whole device" or key not in experiment.base[table]:
            missing[name] = experiment.grid[name][0]
    yield apply_overrides(experiment.base, missing, device_keys)
    for values in _product([experiment.grid[name] for name in names]):
        yield apply_overrides(experiment.base, dict(zip(names, values)), device_keys)
    for overrides in experiment.variants.values():
        point = {name: experiment.grid[name][0] for name in names if name not in overrides}
        yield apply_overrides(experiment.base, {**point, **overrides}, device_keys)


def _product(lists):
    if not lists:
        yield ()
        return
    for head in lists[0]:
        for tail in _product(lists[1:]):
            yield (head, *tail)


def load_experiment(path: str | Path) -> Experiment:
    """Read and validate an experiment file; raise ExperimentError naming the file and key."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            document = tomllib.load(handle)
    except FileNotFoundError:
        raise ExperimentError(str(path), "(file)", "was not found.", "Check the path.") from None
    except tomllib.TOMLDecodeError as error:
        raise ExperimentError(str(path), "(syntax)", f"is not valid TOML: {error}.",
                              "Fix the line named in that message.") from error
    return parse_experiment(document, str(path))


# --- Runs ------------------------------------------------------------------------------------


def run_settings(settings: dict, seed_sequence: np.random.SeedSequence) -> dict[str, np.ndarray]:
    """Train once with merged ``settings`` and return the error curves.

    The data set depends only on the sweep seed and the run index, so every grid point and
    variant of a run trains and tests on the same samples; the devices and the sample order
    depend on the whole ``seed_sequence``.
    """
    run_index = seed_sequence.spawn_key[-1] if seed_sequence.spawn_key else 0
    data_seed = np.random.SeedSequence(entropy=seed_sequence.entropy, spawn_key=(2**31, run_index))
    data_options = {k: v for k, v in settings["data"].items() if k != "name"}
    dataset = load(settings["data"]["name"], seed=data_seed, **data_options)

    crossbar_seed, shuffle_seed = seed_sequence.spawn(2)
    network_options = dict(settings["network"])
    training = dict(settings["training"])
    layout = network_options.get("weights", "differential")
    needed = 2 * dataset.n_outputs if layout == "differential" else dataset.n_outputs + 1
    n_bit_lines = network_options.pop("n_bit_lines", needed)
    backend = training.pop("backend", "numba")
    crossbar = Crossbar(dataset.n_features + 1, n_bit_lines, build_device(settings),
                        variability=Variability(**settings["variability"]), seed=crossbar_seed,
                        backend=backend, n_threads=1)
    network = CrossbarNetwork(crossbar, dataset.n_outputs, **network_options)
    shuffle = training.pop("shuffle", True)
    training["targets"] = tuple(training.get("targets", (0.0, 1.0)))
    result = train(network, dataset, shuffle_seed=shuffle_seed if shuffle else None,
                   backend=backend, **training)
    return {"train_error": result.train_error, "test_error": result.test_error}


def run_point(params: dict, seed_sequence: np.random.SeedSequence, *, base: dict,
              overrides: dict, device_keys: list) -> dict[str, np.ndarray]:
    """Train one grid point (``params`` from the sweep) of a variant; top-level for pickling."""
    settings = apply_overrides(base, {**params, **overrides}, set(device_keys))
    return run_settings(settings, seed_sequence)


def run_experiment(experiment: Experiment, *, executor="local", n_workers=None,
                   progress: bool = True) -> xr.Dataset:
    """Run every grid point and variant of ``experiment`` and return their curves.

    The result contains ``train_error`` and ``test_error`` over (grid keys..., run, iteration) and,
    per variant ``label``, ``{label}/train_error`` and ``{label}/test_error`` over (run,
    ``{label}/iteration``). ``attrs["n_failed"]`` counts the runs that raised; their entries
    are NaN.
    """
    from .sweeps import sweep

    device_keys = sorted(all_device_keys())
    dims = {"train_error": ["iteration"], "test_error": ["iteration"]}
    grid = experiment.grid or {"point": [0]}
    main_run = functools.partial(run_point, base=experiment.base, overrides={},
                                 device_keys=device_keys)
    if not experiment.grid:
        main_run = functools.partial(_run_without_grid, base=experiment.base,
                                     device_keys=device_keys)
    result = sweep(main_run, grid, experiment.runs, seed=experiment.seed, output_dims=dims,
                   executor=executor, n_workers=n_workers, progress=progress)
    n_failed = int(result.attrs.get("n_failed", 0))
    if not experiment.grid:
        result = result.isel(point=0, drop=True)
    variables = dict(result.data_vars)
    for label, overrides in experiment.variants.items():
        point = {name: values[0] for name, values in experiment.grid.items() if name not in overrides}
        run = functools.partial(_run_without_grid, base=experiment.base,
                                device_keys=device_keys, overrides={**point, **overrides})
        curves = sweep(run, {"variant": [label]}, experiment.runs, seed=experiment.seed,
                       output_dims={key: [f"{label}/iteration"] for key in dims},
                       executor=executor, n_workers=n_workers, progress=progress)
        n_failed += int(curves.attrs.get("n_failed", 0))
        for key in dims:
            variables[f"{label}/{key}"] = curves[key].isel(variant=0, drop=True)
    dataset = xr.Dataset(variables)
    dataset.attrs.update(name=experiment.name, description=experiment.description,
                         seed=experiment.seed, runs=experiment.runs, metric=experiment.metric,
                         n_failed=n_failed)
    return dataset


def _run_without_grid(params: dict, seed_sequence, *, base, device_keys, overrides=None):
    return run_point({}, seed_sequence, base=base, overrides=overrides or {},
                     device_keys=device_keys)


# --- Outputs ---------------------------------------------------------------------------------


def results_table(dataset: xr.Dataset) -> list[dict]:
    """Return one row per grid point and variant: final errors (mean, min, max over runs)."""
    rows = []
    keys = [dim for dim in dataset["train_error"].dims if dim not in ("run", "iteration")]
    final = {name: dataset[name].isel(iteration=-1) for name in ("train_error", "test_error")}
    for point in _product([list(dataset[key].values) for key in keys]):
        selection = dict(zip(keys, point))
        row = {"variant": "grid", **{key: _plain(value) for key, value in selection.items()}}
        for name, values in final.items():
            row.update(_statistics(name, values.sel(selection).values))
        row["iterations"] = dataset.sizes["iteration"] - 1
        rows.append(row)
    for name in dataset.data_vars:
        if "/" not in name or not name.endswith("/train_error"):
            continue
        label = name.rsplit("/", 1)[0]
        row = {"variant": label, **{key: "" for key in keys}}
        for metric in ("train_error", "test_error"):
            curves = dataset[f"{label}/{metric}"]
            row.update(_statistics(metric, curves.isel({f"{label}/iteration": -1}).values))
        row["iterations"] = dataset.sizes[f"{label}/iteration"] - 1
        rows.append(row)
    return rows


def _plain(value):
    return value.item() if hasattr(value, "item") else value


def _statistics(name: str, values: np.ndarray) -> dict:
    return {f"{name}_mean": float(np.mean(values)), f"{name}_min": float(np.min(values)),
            f"{name}_max": float(np.max(values))}


def write_outputs(dataset: xr.Dataset, experiment: Experiment, folder: str | Path,
                  document_text: str | None = None) -> dict[str, Path]:
    """Write results.csv, curves.nc (NetCDF, scipy engine), the figure and the experiment file.

    Returns the written paths by kind. ``folder`` must exist.
    """
    import csv

    from .plotting import plot_experiment

    folder = Path(folder)
    paths = {"table": folder / "results.csv", "curves": folder / "curves.nc",
             "figure": folder / f"{experiment.name}.png", "experiment": folder / "experiment.toml"}
    rows = results_table(dataset)
    with open(paths["table"], "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    dataset = _labelled(dataset)
    # NetCDF 3 (scipy engine) names allow no "/" and no spaces.
    renamed = dataset.rename({name: _netcdf_name(name) for name in
                              list(dataset.data_vars) + list(dataset.dims) if _netcdf_name(name) != name})
    renamed.to_netcdf(paths["curves"], engine="scipy")
    plot_experiment(dataset, paths["figure"], metric=experiment.metric)
    if document_text is None:
        document_text = Path(experiment.source).read_text(encoding="utf-8")
    paths["experiment"].write_text(_with_runs(document_text, experiment.runs), encoding="utf-8")
    return paths


#: Units and descriptions written into curves.nc for the names that experiments produce.
_ATTRIBUTES = {
    "train_error": {"units": "1", "long_name": "fraction of training samples misclassified"},
    "test_error": {"units": "1", "long_name": "fraction of clean test samples misclassified"},
    "learning_rate": {"units": "s", "long_name": "USD pulse width (learning rate alpha)"},
    "gratio": {"units": "1", "long_name": "on/off conductance ratio r_off / r_on"},
    "run": {"long_name": "run index; its seed depends only on the grid point and this index"},
}


def _labelled(dataset: xr.Dataset) -> xr.Dataset:
    """Return ``dataset`` with iteration coordinates and units on the known variables."""
    dataset = dataset.copy()
    for dim in dataset.dims:
        if dim.endswith("iteration") and dim not in dataset.coords:
            dataset = dataset.assign_coords({dim: np.arange(dataset.sizes[dim])})
            dataset[dim].attrs.update(long_name="iteration (batch) or epoch (online); 0 is before training")
    for name in list(dataset.data_vars) + list(dataset.coords):
        base = str(name).rsplit("/", 1)[-1]
        if base in _ATTRIBUTES:
            dataset[name].attrs.update(_ATTRIBUTES[base])
    return dataset


def _with_runs(document_text: str, runs: int) -> str:
    """Return the experiment text with its top-level ``runs`` set to the runs actually made."""
    lines = document_text.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("["):
            break
        if line.split("=")[0].strip() == "runs":
            if line.split("=", 1)[1].split("#")[0].strip() != str(runs):
                lines[index] = f"runs = {runs}  # set by --runs"
            return "\n".join(lines) + "\n"
    return document_text


def _netcdf_name(name: str) -> str:
    return "".join(character if character.isalnum() or character in "_.-" else "_"
                   for character in name.replace("/", "__"))


def load_named(name: str) -> tuple[Experiment, str]:
    """Return a named reproduction shipped with fastxbar and its TOML text."""
    if name not in NAMED_EXPERIMENTS:
        raise ValueError(f"Unknown reproduction {name!r}; choose one of {', '.join(NAMED_EXPERIMENTS)}.")
    text = NAMED_EXPERIMENTS[name]
    return parse_experiment(tomllib.loads(text), f"<built-in {name}>"), text


#: Named reproductions, embedded so that they work after a non-editable install. Each is a
#: copy of the file of the same name in the repository's experiments/ folder (a test checks).
NAMED_EXPERIMENTS = {
    "nair-dudek-2015": """# Figure 1 of Nair and Dudek, "Practical gradient-descent for memristive crossbars",
# MEMRISYS 2015 (doi:10.1109/MEMRISYS.2015.7378392): batch USD on a 20-input linear classifier
# for several learning rates (pulse widths) and on/off conductance ratios, 40 runs each.
#
# The paper leaves the device open. This file uses the linear ion-drift memristor of Strukov
# et al., Nature 453, 80 (2008): r_on = 100 ohm, D = 10 nm, mu_v = 1e-14 m^2/(V s), and
# r_off = gratio * r_on. Its step grows with the conductance, so the same pulse moves a
# conductive device far more than a resistive one. Every device draws its resistances and its
# drift rate with a 30 % lognormal spread. Weights are differential pairs, and a batch
# update gives each device its own pulse (the "ideal" scheme), because the sign matrix of a
# batch gradient is not rank one and cannot go out in four phases.
name = "nair-dudek-2015"
description = "Batch USD on the 20-input linear task: error against iterations, learning rate and Gratio"
seed = 2015
runs = 40
metric = "train_error"

[data]
name = "linear"
n_features = 20
n_samples = 1000
flip_fraction = 0.05
n_test = 1000

[device]
model = "LinearIonDrift"
r_on = 100.0
thickness = 1e-8
mobility = 1e-14
window = "none"
x_initial = 0.5

[variability]
resistance_spread = 0.3
step_spread = 0.3

[network]
weights = "differential"
v_read = 0.1
v_write = 1.0
gain = 16.0
initial_state = "device"

[training]
rule = "usd"
mode = "batch"
scheme = "ideal"
loss = "squared"
n_iterations = 200
learning_rate = 1e-4
backend = "cython"

[sweep]
learning_rate = [1e-5, 3e-5, 1e-4, 3e-4, 1e-3]
gratio = [2.0, 10.0, 100.0]

[[compare]]
label = "GD"
rule = "gd"
learning_rate = 2.0

[[compare]]
label = "Manhattan"
rule = "manhattan"
learning_rate = 0.01

# Online USD pulses after every sample. With 0/1 targets the sign of the error never is zero,
# so every sample pulses every device; the per-device ("ideal") write keeps the V/2
# half-select disturbance, which this threshold-free device cannot ignore, out of the picture.
[[compare]]
label = "online USD"
mode = "online"
scheme = "ideal"
learning_rate = 1e-5
gratio = 10.0
n_iterations = 20

[[compare]]
label = "online USD, 0.1/0.9 targets"
mode = "online"
scheme = "ideal"
learning_rate = 1e-5
gratio = 10.0
n_iterations = 20
targets = [0.1, 0.9]
""",
}
