"""The fastxbar command and experiment files: end to end on tiny sizes, and bad input."""

import csv
import tomllib
from pathlib import Path

import pytest
import xarray as xr

from fastxbar.cli import main
from fastxbar.experiments import (
    NAMED_EXPERIMENTS, ExperimentError, load_experiment, load_named, parse_experiment,
)

REPOSITORY = Path(__file__).resolve().parents[1]

TINY = """
name = "tiny"
description = "A tiny sweep for the tests"
seed = 1
runs = 2

[data]
name = "linear"
n_features = 5
n_samples = 40
n_test = 20

[device]
model = "LinearIonDrift"
x_initial = 0.5

[variability]
resistance_spread = 0.3

[network]
gain = 16.0
initial_state = "device"

[training]
n_iterations = 4
learning_rate = 1e-4
backend = "cython"

[sweep]
learning_rate = [1e-4, 3e-4]
gratio = [2.0, 10.0]

[[compare]]
label = "GD"
rule = "gd"
learning_rate = 1.0

[[compare]]
label = "online USD"
mode = "online"
learning_rate = 1e-5
n_iterations = 2
"""


@pytest.fixture
def tiny_file(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    return path


def test_run_writes_results(tiny_file, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(tiny_file), "--out", str(out), "--workers", "1", "--no-progress"]) == 0
    assert "tiny finished" in capsys.readouterr().out
    with open(out / "results.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["variant"] for row in rows] == ["grid"] * 4 + ["GD", "online USD"]
    assert all(0.0 <= float(row["test_error_mean"]) <= 1.0 for row in rows)
    curves = xr.open_dataset(out / "curves.nc", engine="scipy")
    assert curves["train_error"].shape == (2, 2, 2, 5)
    assert curves["GD__train_error"].shape == (2, 5)
    assert (out / "tiny.png").stat().st_size > 10_000
    assert tomllib.loads((out / "experiment.toml").read_text())["name"] == "tiny"


def test_runs_option_overrides_file(tiny_file, tmp_path):
    out = tmp_path / "out"
    assert main(["run", str(tiny_file), "--out", str(out), "--runs", "1", "--workers", "1",
                 "--no-progress"]) == 0
    curves = xr.open_dataset(out / "curves.nc", engine="scipy")
    assert curves.sizes["run"] == 1
    assert curves["train_error"].attrs["units"] == "1"
    assert list(curves["iteration"].values) == list(range(curves.sizes["iteration"]))
    assert tomllib.loads((out / "experiment.toml").read_text())["runs"] == 1


def test_existing_output_not_overwritten(tiny_file, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("data")
    assert main(["run", str(tiny_file), "--out", str(out), "--no-progress"]) == 2
    message = capsys.readouterr().err
    assert "already contains files" in message
    assert "--overwrite" in message
    assert main(["run", str(tiny_file), "--out", str(out), "--overwrite", "--runs", "1",
                 "--workers", "1", "--no-progress"]) == 0
    assert (out / "results.csv").exists()


def set_key(table, key, value):
    def change(document):
        document.setdefault(table, {})[key] = value
    return change


def remove_key(table, key):
    def change(document):
        del document[table][key]
    return change


def use_iris_with_four_bit_lines(document):
    document["data"] = {"name": "iris"}
    document["network"]["n_bit_lines"] = 4


BAD_DOCUMENTS = [
    (set_key("training", "momentum", 0.9), "training.momentum", "Remove it"),
    (remove_key("training", "n_iterations"), "training.n_iterations", "Add n_iterations"),
    (set_key("sweep", "learning_rate", [1e-4, -1e-4]), "sweep.learning_rate", "Use a value > 0"),
    (set_key("sweep", "gratio", [1.0, 10.0]), "sweep.gratio", "Use a value > 1"),
    (use_iris_with_four_bit_lines, "network.n_bit_lines", "n_bit_lines >= 6"),
    (set_key("sweep", "window_size", [1, 2]), "sweep.window_size", "Sweep one of"),
    (set_key("device", "thickness", -1e-8), "device", "thickness"),
    (set_key("training", "learning_rate", -1e-4), "training.learning_rate", "Use a value > 0"),
    (lambda document: document.update(runs=0), "runs", "integer >= 1"),
    (remove_key("device", "model"), "device.model", "Add model"),
    (set_key("training", "scheme", "v/4"), "training.scheme", "Use one of"),
]


@pytest.mark.parametrize("change,key,fix", BAD_DOCUMENTS, ids=[case[1] for case in BAD_DOCUMENTS])
def test_bad_experiment_names_file_key_and_fix(change, key, fix):
    document = tomllib.loads(TINY)
    change(document)
    with pytest.raises(ExperimentError) as raised:
        parse_experiment(document, "experiments/bad.toml")
    message = str(raised.value)
    assert message.startswith("experiments/bad.toml: ")
    assert f"`{key}`" in message
    assert fix in message


def test_bad_file_rejected_before_work(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(TINY.replace("learning_rate = 1e-4\nbackend", "learning_rate = -1.0\nbackend"))
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out)]) == 2
    assert "training.learning_rate" in capsys.readouterr().err
    assert not out.exists()


def test_invalid_toml_names_file(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("name = \n")
    with pytest.raises(ExperimentError, match="broken.toml.*not valid TOML"):
        load_experiment(path)


@pytest.mark.parametrize("path", sorted((REPOSITORY / "experiments").glob("*.toml")),
                         ids=lambda path: path.name)
def test_shipped_experiments_are_valid(path):
    experiment = load_experiment(path)
    assert experiment.name == path.stem


def test_named_reproduction_matches_shipped_file():
    for name, text in NAMED_EXPERIMENTS.items():
        assert (REPOSITORY / "experiments" / f"{name}.toml").read_text() == text
        experiment, _ = load_named(name)
        assert experiment.runs == 40


def test_parse_rejects_unknown_top_level_key():
    document = tomllib.loads(TINY)
    document["colour"] = "blue"
    with pytest.raises(ExperimentError, match="`colour` is not a known key"):
        parse_experiment(document, "inline")
