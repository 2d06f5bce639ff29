"""The ``fastxbar`` command: run experiment files and the named reproductions.

Examples::

    fastxbar reproduce nair-dudek-2015 --out results/nair-dudek-2015
    fastxbar run experiments/iris-enode.toml --out results/iris --runs 5
    fastxbar run experiments/iris-enode.toml --out results/iris --scheduler tcp://10.0.0.5:8786
    fastxbar validate experiments/iris-enode.toml
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from . import __version__
from .experiments import NAMED_EXPERIMENTS, Experiment, ExperimentError, load_experiment, load_named

logger = logging.getLogger("fastxbar.cli")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {text!r}")
    return value


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, type=Path,
                        help="folder that receives results.csv, curves.nc, the figure (PNG) and "
                             "a copy of the experiment file")
    parser.add_argument("--overwrite", action="store_true",
                        help="write into --out even if it already contains files")
    parser.add_argument("--runs", type=_positive_int,
                        help="runs per grid point, replacing the file's `runs`")
    parser.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                        help="address of a Dask scheduler to run on; default: local processes")
    parser.add_argument("--workers", type=_positive_int,
                        help="local worker processes; default: one per available core")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``fastxbar`` command."""
    parser = argparse.ArgumentParser(
        prog="fastxbar",
        description="Simulate in-situ training of memristive crossbars from experiment files.",
    )
    parser.add_argument("--version", action="version", version=f"fastxbar {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run an experiment file (TOML)")
    run.add_argument("experiment", type=Path, help="experiment file, e.g. experiments/iris-enode.toml")
    _add_run_options(run)

    reproduce = commands.add_parser("reproduce", help="run a named reproduction with its defaults")
    reproduce.add_argument("name", choices=sorted(NAMED_EXPERIMENTS), help="reproduction to run")
    _add_run_options(reproduce)

    validate = commands.add_parser("validate", help="check an experiment file without running it")
    validate.add_argument("experiment", type=Path)

    commands.add_parser("list", help="list the named reproductions")
    return parser


def _prepare_output(folder: Path, overwrite: bool) -> None:
    if folder.exists() and not folder.is_dir():
        raise ExperimentError(str(folder), "--out", "is a file, not a folder.",
                              "Choose a folder path.")
    if folder.exists() and any(folder.iterdir()) and not overwrite:
        raise ExperimentError(str(folder), "--out", "already contains files.",
                              "Choose another folder or pass --overwrite to replace its results.")
    folder.mkdir(parents=True, exist_ok=True)


def _run(experiment: Experiment, text: str | None, options: argparse.Namespace) -> int:
    from .experiments import run_experiment, write_outputs

    if options.runs is not None:
        experiment = experiment.with_runs(options.runs)
    created = not options.out.exists()
    _prepare_output(options.out, options.overwrite)
    executor = options.scheduler or "local"
    logger.info("Running %s: %d runs per grid point on %s.", experiment.name, experiment.runs, executor)
    start = time.perf_counter()
    try:
        dataset = run_experiment(experiment, executor=executor, n_workers=options.workers,
                                 progress=not options.no_progress)
    except OSError as error:
        # An unreachable Dask scheduler ends here: one line, and no empty output folder left.
        if created and not any(options.out.iterdir()):
            options.out.rmdir()
        print(f"fastxbar: error: {error}", file=sys.stderr)
        return 2
    paths = write_outputs(dataset, experiment, options.out, text)
    elapsed = time.perf_counter() - start
    print(f"fastxbar: {experiment.name} finished in {elapsed:.1f} s.")
    for kind, path in paths.items():
        print(f"  {kind}: {path}")
    failed = int(dataset.attrs.get("n_failed", 0))
    if failed:
        print(f"fastxbar: {failed} runs failed; their entries are NaN (see the log).", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the ``fastxbar`` command with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    options = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        if options.command == "list":
            for name, text in NAMED_EXPERIMENTS.items():
                print(f"{name}: {load_named(name)[0].description}")
            return 0
        if options.command == "validate":
            experiment = load_experiment(options.experiment)
            print(f"{options.experiment}: valid ({experiment.name}, {experiment.runs} runs per point).")
            return 0
        if options.command == "reproduce":
            experiment, text = load_named(options.name)
            return _run(experiment, text, options)
        return _run(load_experiment(options.experiment), None, options)
    except ExperimentError as error:
        print(f"fastxbar: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
