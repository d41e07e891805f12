"""A comparison's picture: each model's decision boundary, or a sweep's accuracy curves.

A comparison without a grid draws, per (model, dataset), the boundary of its first seed over
the test points, titled with that seed and its own accuracy. A sweep draws test accuracy
against each swept setting: per model, dataset and combination of the other swept settings,
the mean over the seeds as a line and their min-max as a band. Figures are plain matplotlib
``Figure`` objects (no pyplot state), so a notebook shows them and a file gets them as PNG.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from zoo.comparison.grid import label, shown
from zoo.errors import ConfigError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from zoo.comparison.summary import Comparison, SummaryRow

MOST_LINES_IN_LEGEND = 12


def picture_name(comparison: Comparison) -> str:
    return "sweep.png" if comparison.grid else "boundaries.png"


def figure(comparison: Comparison) -> Figure:
    """The comparison's picture: the sweep's curves, or the models' boundaries."""
    return sweep_figure(comparison) if comparison.grid else boundaries_figure(comparison)


def boundaries_figure(comparison: Comparison) -> Figure:
    """One panel per trained (model, dataset) with two features: its first seed's boundary."""
    panels = []
    for result in comparison.drawable():
        job, record = result.job, result.records[0]  # the states are in the records' order
        experiment = job.experiment_for(record.seed)  # the seed's own split, if it varies
        model = experiment.build(job.config_for(record.seed).seed)
        model.load_state_dict(result.states[0])
        row = comparison.row_of(result)
        assert row.test_acc is not None  # a trained zoo model's row has numbers
        title = (
            f"{job.label} on {job.dataset}\n"
            f"seed {record.seed} shown: {record.test_acc:.1f}% test "
            f"(mean of {row.seeds} seeds: {row.test_acc.mean:.1f}%)"
        )
        split, scaled = experiment.split, experiment.scaling.wrap(model)  # raw points
        panels.append((title, scaled, experiment.task, split.X_test, split.y_test))
    if not panels:
        raise ConfigError("no compared model has two-feature data to draw")
    columns = max(1, min(4, len({result.job.label for result in comparison.drawable()})))
    rows = -(-len(panels) // columns)
    picture, axes = _figure(rows, columns, (6, 5))
    for axis, (title, model, task, X, y) in zip(axes, panels):
        _boundary(axis, model, task, X, y)
        axis.set_title(title)
    return _finish(picture, axes[len(panels) :])


def _boundary(axis: Axes, model: Any, task: Any, X: np.ndarray, y: np.ndarray) -> None:
    """Lesson 02's picture: the labels on a grid as filled contours, the points on top."""
    from matplotlib import colormaps

    from zoo.runs.plotting import boundary_grid

    xx, yy, labels = boundary_grid(model, task, X)
    levels = np.arange(task.classes + 1) - 0.5  # one band per class, coloured as its points
    colours = {"cmap": colormaps["RdYlBu"], "vmin": 0, "vmax": task.classes - 1}
    axis.contourf(xx, yy, labels, levels=levels, alpha=0.7, **colours)
    axis.scatter(X[:, 0], X[:, 1], c=y, s=40, edgecolors="k", linewidths=0.3, **colours)
    axis.set_xlim(xx.min(), xx.max())
    axis.set_ylim(yy.min(), yy.max())


def sweep_figure(comparison: Comparison) -> Figure:
    """Test accuracy against each swept setting: one panel per setting."""
    keys = list(comparison.grid)
    rows = [row for row in comparison.rows if not row.baseline]
    picture, axes = _figure(1, len(keys), (6, 4.5))
    for axis, key in zip(axes, keys):
        values = comparison.grid[key]
        positions, numeric = _positions(values)
        for name, line in _lines(rows, key).items():
            ordered = [line[v].test_acc for v in values if v in line]
            xs = [positions[values.index(v)] for v in values if v in line]
            (drawn,) = axis.plot(xs, [s.mean for s in ordered if s], marker="o", label=name)
            lows, highs = [s.min for s in ordered if s], [s.max for s in ordered if s]
            axis.fill_between(xs, lows, highs, alpha=0.2, color=drawn.get_color())
        if numeric and _logarithmic(values):
            axis.set_xscale("log")
        axis.set_xticks(positions, [shown(v) for v in values])
        axis.set_xlabel(key)
        axis.set_ylabel("test accuracy (%)")
        seeds = len(comparison.seeds)
        axis.set_title(f"test accuracy against {key}\nmean over {seeds} seeds, band: min-max")
        if len(axis.get_lines()) <= MOST_LINES_IN_LEGEND:
            axis.legend(fontsize="small")
    return _finish(picture, [])


def _lines(rows: Sequence[SummaryRow], key: str) -> dict[str, dict[Any, SummaryRow]]:
    """The rows as lines along ``key``: one per model, dataset and the other settings."""
    lines: dict[str, dict[Any, SummaryRow]] = {}
    for row in rows:
        others = {k: v for k, v in row.point.items() if k != key}
        name = f"{row.model} on {row.dataset}" + (f", {label(others)}" if others else "")
        lines.setdefault(name, {})[row.point[key]] = row
    return lines


def _positions(values: Sequence[Any]) -> tuple[list[float], bool]:
    """Where each value sits on the x axis: itself if all are numbers, else its index."""
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return [float(v) for v in values], True
    return [float(i) for i in range(len(values))], False


def _logarithmic(values: Sequence[float]) -> bool:
    """Positive values spanning two decades or more, as learning rates do."""
    return min(values) > 0 and math.log10(max(values) / min(values)) >= 1.3


def _figure(rows: int, columns: int, size: tuple[float, float]) -> tuple[Figure, list[Axes]]:
    from matplotlib.figure import Figure

    picture = Figure(figsize=(size[0] * columns, size[1] * rows))
    axes = picture.subplots(rows, columns, squeeze=False)
    return picture, list(axes.flat)


def _finish(picture: Figure, unused: Sequence[Axes]) -> Figure:
    for axis in unused:
        axis.set_visible(False)
    picture.tight_layout()
    return picture
