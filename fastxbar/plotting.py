"""Figures of training experiments (matplotlib, Agg backend, no display needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

METRIC_LABELS = {"train_error": "training error", "test_error": "test error"}
KEY_LABELS = {"learning_rate": "alpha", "gratio": "Gratio"}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def variant_labels(dataset: xr.Dataset) -> list[str]:
    """Return the labels of the compared variants stored in an experiment's result."""
    return sorted({name.rsplit("/", 1)[0] for name in dataset.data_vars if "/" in name})


def grid_keys(dataset: xr.Dataset) -> list[str]:
    """Return the swept keys of an experiment's result, in sweep order."""
    return [dim for dim in dataset["train_error"].dims if dim not in ("run", "iteration")]


def _band(axis, curves: np.ndarray, label: str, **style):
    """Plot the mean over runs (axis 0) with a min-max band."""
    steps = np.arange(curves.shape[-1])
    line, = axis.plot(steps, curves.mean(axis=0), label=label, **style)
    axis.fill_between(steps, curves.min(axis=0), curves.max(axis=0), color=line.get_color(),
                      alpha=0.2, linewidth=0)


#: Line styles of the compared variants, so that baselines stay apart in grey scale.
_VARIANT_STYLES = [("--", "0.2"), (":", "0.35"), ("-.", "0.5"), ((0, (5, 1, 1, 1)), "0.65")]


def _variant_style(index: int) -> dict:
    linestyle, color = _VARIANT_STYLES[index % len(_VARIANT_STYLES)]
    return {"linestyle": linestyle, "color": color}


def _format_value(key: str, value) -> str:
    name = KEY_LABELS.get(key, key)
    if isinstance(value, (float, np.floating)):
        return f"{name} = {value:g}"
    return f"{name} = {value}"


def _curve_panels(figure, grid_spec, dataset, metric, keys):
    """Draw the error curves: one panel per value of the second key, one line per first key."""
    data = dataset[metric]
    panel_key = keys[1] if len(keys) > 1 else None
    panel_values = list(data[panel_key].values) if panel_key else [None]
    axes = []
    for column, panel_value in enumerate(panel_values):
        axis = figure.add_subplot(grid_spec[0, column], sharey=axes[0] if axes else None)
        panel = data if panel_key is None else data.sel({panel_key: panel_value})
        if keys:
            for value in panel[keys[0]].values:
                _band(axis, panel.sel({keys[0]: value}).values, _format_value(keys[0], value))
        else:
            _band(axis, panel.values, "USD")
        for index, label in enumerate(variant_labels(dataset)):
            curves = dataset[f"{label}/{metric}"].values
            if curves.shape[-1] == data.sizes["iteration"]:
                axis.plot(curves.mean(axis=0), label=label, **_variant_style(index))
        axis.set_title(_format_value(panel_key, panel_value) if panel_key else dataset.attrs.get("name", ""))
        axis.set_xlabel("iteration")
        axis.set_yscale("log")
        axes.append(axis)
    axes[0].set_ylabel(METRIC_LABELS[metric])
    axes[-1].legend(fontsize="x-small")
    return axes


def _final_panel(axis, dataset, metric, keys):
    """Draw the error at the last iteration against the first key, one line per second key."""
    final = dataset[metric].isel(iteration=-1)
    if not keys:
        axis.bar(["USD"], [float(final.mean())])
    else:
        x_values = final[keys[0]].values
        numeric = np.issubdtype(np.asarray(x_values).dtype, np.number)
        positions = x_values if numeric else np.arange(len(x_values))
        groups = [None] if len(keys) < 2 else list(final[keys[1]].values)
        for group in groups:
            selected = final if group is None else final.sel({keys[1]: group})
            runs = selected.transpose(keys[0], "run", ...).values.reshape(len(x_values), -1)
            line, = axis.plot(positions, runs.mean(axis=1), marker="o",
                              label="USD" if group is None else _format_value(keys[1], group))
            axis.fill_between(positions, runs.min(axis=1), runs.max(axis=1), color=line.get_color(),
                              alpha=0.2, linewidth=0)
        if numeric and np.all(np.asarray(x_values, float) > 0):
            axis.set_xscale("log")
        if not numeric:
            axis.set_xticks(positions, [str(v) for v in x_values])
        axis.set_xlabel(KEY_LABELS.get(keys[0], keys[0]))
    for index, label in enumerate(variant_labels(dataset)):
        value = float(dataset[f"{label}/{metric}"].isel({f"{label}/iteration": -1}).mean())
        axis.axhline(value, linewidth=1, **_variant_style(index))
        # Alternate the label side so that nearby baselines (GD and Manhattan) stay readable.
        axis.annotate(label, (1.0 if index % 2 == 0 else 0.0, value),
                      xycoords=("axes fraction", "data"), fontsize="x-small",
                      ha="right" if index % 2 == 0 else "left", va="bottom" if index % 2 == 0 else "top")
    axis.set_ylabel(f"{METRIC_LABELS[metric]} at the end")
    axis.set_yscale("log")
    axis.legend(fontsize="x-small")


def _variant_panel(axis, dataset, metric):
    """Draw every variant's curve against its own steps (online epochs, for example)."""
    for label in variant_labels(dataset):
        _band(axis, dataset[f"{label}/{metric}"].values, label)
    axis.set_xlabel("iteration or epoch")
    axis.set_ylabel(METRIC_LABELS[metric])
    axis.set_yscale("log")
    axis.set_title("compared variants")
    axis.legend(fontsize="x-small")


def plot_experiment(dataset: xr.Dataset, path: str | Path, *, metric: str = "train_error") -> Path:
    """Write the experiment's figure to ``path`` (PNG) and return the path.

    Top row: ``metric`` against iterations, one panel per value of the second swept key and one
    line per value of the first, with min-max bands over runs. Variants with as many iterations
    are drawn dashed. Bottom row: the value at the last iteration against the first swept key, and the
    variants' own curves.
    """
    plt = _pyplot()
    keys = grid_keys(dataset)
    n_panels = len(dataset[keys[1]]) if len(keys) > 1 else 1
    n_columns = max(n_panels, 2)
    figure = plt.figure(figsize=(4.0 * n_columns, 7.5), layout="constrained")
    grid_spec = figure.add_gridspec(2, n_columns)
    _curve_panels(figure, grid_spec, dataset, metric, keys)
    bottom_split = max(1, n_columns - 1) if variant_labels(dataset) else n_columns
    _final_panel(figure.add_subplot(grid_spec[1, :bottom_split]), dataset, metric, keys)
    if variant_labels(dataset):
        _variant_panel(figure.add_subplot(grid_spec[1, bottom_split:]), dataset, metric)
    figure.suptitle(dataset.attrs.get("description", ""), fontsize="medium")
    path = Path(path)
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path
