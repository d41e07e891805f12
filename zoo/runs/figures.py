"""Every picture zoo draws, as lesson 02 draws them: decision boundaries, training curves, a
sweep's accuracy, and a comparison's intervals and spread.

Boundaries: a 101x101 grid over the data's range (±0.1), the model's labels on the grid as a
filled contour in the RdYlBu colour map, the points on top. The model stays on its device:
only the grid goes to it and only the labels come back (the lesson's helper moved the model to
the CPU for good). Curves: loss and accuracy; training as each epoch's step saw it (every
epoch, smooth), test (and validation) at each log point, validation every epoch where it was
measured every epoch; early stopping's kept epoch as a dashed line. Over a comparison's seeds:
the mean as a line, min to max as a band. Figures are made with matplotlib's object API
(``Figure``, no pyplot state): no window, the Agg renderer whatever backend the user
configured, and a notebook shows them as they are. What to draw is chosen by the callers
(a run folder, :mod:`zoo.comparison.pictures`); how it is drawn lives here.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from zoo.runs.files import write_atomic
from zoo.training.records import EpochRow, LogRow
from zoo.training.tasks import Task

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

GRID = 101
DPI = 80
MOST_LINES_IN_LEGEND = 12
Panel = tuple[str, nn.Module, Task, np.ndarray, np.ndarray]  # title, model, task, X, y
# A sweep's line along one setting: its name, then (value, mean, min, max) per value it has
SweepLine = tuple[str, list[tuple[Any, float, float, float]]]
# A sweep's panel: the setting, its values, their tick labels, its lines
SweepPanel = tuple[str, Sequence[Any], list[str], list[SweepLine]]
METRICS = (("acc", "accuracy (%)"), ("loss", "loss"))


def new_figure(width: float, height: float, *, constrained: bool = False) -> Figure:
    from matplotlib.figure import Figure

    if constrained:
        return Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    return Figure(figsize=(width, height))


def png(figure: Figure) -> bytes:
    """The figure as a PNG file's bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def png_uri(figure: Figure) -> str:
    """The figure as a PNG ``data:`` URI (a page that needs nothing but itself)."""
    return "data:image/png;base64," + base64.b64encode(png(figure)).decode("ascii")


def save_figure(path: Path, figure: Figure) -> None:
    """The figure as a PNG at ``path`` (a run folder's), written atomically."""
    write_atomic(path, png(figure))


def boundary_grid(
    model: nn.Module, task: Task, X: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(xx, yy, labels) over the range of ``X`` (two features), as numpy arrays."""
    x_min, x_max = X[:, 0].min() - 0.1, X[:, 0].max() + 0.1
    y_min, y_max = X[:, 1].min() - 0.1, X[:, 1].max() + 0.1
    xx, yy = np.meshgrid(np.linspace(x_min, x_max, GRID), np.linspace(y_min, y_max, GRID))
    points = np.column_stack((xx.ravel(), yy.ravel())).astype(np.float32)
    device = next(model.parameters(), torch.empty(0)).device
    was_training = model.training
    model.eval()
    with torch.inference_mode():
        logits = task.logits(model(torch.from_numpy(points).to(device)))
        labels = task.labels(logits).cpu().numpy()
    model.train(was_training)
    return xx, yy, labels.reshape(xx.shape)


def boundaries_figure(panels: Sequence[Panel], columns: int = 2) -> Figure:
    """One panel per (title, model, task, X, y), laid out ``columns`` wide."""
    rows = -(-len(panels) // columns)
    figure = new_figure(6 * columns, 5 * rows)
    axes = figure.subplots(rows, columns, squeeze=False)
    for axis, panel in zip(axes.flat, panels):
        draw_boundary(axis, panel)
    return _finish(figure, list(axes.flat)[len(panels) :])


def boundary_figure(panel: Panel) -> Figure:
    """One small panel (a page's): smaller points, a smaller title."""
    figure = new_figure(4.2, 3.6, constrained=True)
    draw_boundary(figure.subplots(), panel, point_size=18, title_size=10)
    return figure


def draw_boundary(
    axis: Axes, panel: Panel, *, point_size: float = 40, title_size: float | None = None
) -> None:
    """Lesson 02's picture: the labels on a grid as filled contours, the points on top."""
    from matplotlib import colormaps

    title, model, task, X, y = panel
    xx, yy, labels = boundary_grid(model, task, X)
    levels = np.arange(task.classes + 1) - 0.5  # one band per class, coloured as its points
    colours: dict[str, Any] = {"cmap": colormaps["RdYlBu"], "vmin": 0, "vmax": task.classes - 1}
    axis.contourf(xx, yy, labels, levels=levels, alpha=0.7, **colours)
    axis.scatter(X[:, 0], X[:, 1], c=y, s=point_size, edgecolors="k", linewidths=0.3, **colours)
    axis.set_xlim(xx.min(), xx.max())
    axis.set_ylim(yy.min(), yy.max())
    axis.set_title(title, fontsize=title_size)


def curves_figure(
    history: Sequence[LogRow],
    title: str = "",
    steps: Sequence[EpochRow] = (),
    best_epoch: int | None = None,
) -> Figure:
    """Loss and accuracy over the epochs, under ``title`` (see :func:`draw_curves`)."""
    figure = new_figure(12, 4.5)
    draw_curves(figure.subplots(1, 2), history, steps, best_epoch)
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def draw_curves(
    axes: Sequence[Axes],
    history: Sequence[LogRow],
    steps: Sequence[EpochRow] = (),
    best_epoch: int | None = None,
) -> None:
    """Training loss and accuracy from ``steps`` (every epoch; else the log points), test and
    validation from ``history`` (validation from ``steps`` where measured every epoch)."""
    logged = [row.epoch for row in history]
    every = [row.epoch for row in steps]
    points: dict[str, Any] = {"marker": "o", "markersize": 3} if steps else {}  # log points
    per_epoch_val = bool(steps) and steps[0].val_loss is not None
    panels = ((axes[0], "Loss", "loss", "loss"), (axes[1], "Accuracy (%)", "acc", "accuracy"))
    for axis, what, key, word in panels:
        if steps:
            axis.plot(every, [getattr(r, f"step_{key}") for r in steps], label=f"Train {word}")
        else:
            train = [getattr(r, f"train_{key}") for r in history]
            axis.plot(logged, train, label=f"Train {word}")
        if per_epoch_val:
            val = [getattr(r, f"val_{key}") for r in steps]
            axis.plot(every, val, label=f"Validation {word}")
        elif history and history[0].val_loss is not None:
            val = [getattr(r, f"val_{key}") for r in history]
            axis.plot(logged, val, label=f"Validation {word}", **points)
        test = [getattr(r, f"test_{key}") for r in history]
        axis.plot(logged, test, label=f"Test {word}", **points)
        if best_epoch is not None:
            kept = f"Kept (epoch {best_epoch})"
            axis.axvline(best_epoch, color="grey", linestyle="--", label=kept)
        axis.set_xlabel("Epochs")
        axis.set_ylabel(what)
        axis.set_title(what.partition(" (")[0])
        axis.legend()


def band(histories: Sequence[Sequence[LogRow]], field: str) -> tuple[np.ndarray, ...]:
    """(epochs, mean, min, max) of ``field`` over the seeds at each logged epoch.

    A seed that diverged has fewer log points: each epoch counts the seeds that reached it.
    """
    values: dict[int, list[float]] = {}
    for history in histories:
        for row in history:
            values.setdefault(row.epoch, []).append(getattr(row, field))
    epochs = np.array(sorted(values))
    stacked = [np.array(values[epoch]) for epoch in epochs]
    return (
        epochs,
        np.array([v.mean() for v in stacked]),
        np.array([v.min() for v in stacked]),
        np.array([v.max() for v in stacked]),
    )


def band_figure(histories: Sequence[Sequence[LogRow]], title: str) -> Figure:
    """Accuracy and loss per epoch, train and test: the mean over seeds, min to max as a band."""
    figure = new_figure(8.4, 3.2, constrained=True)
    seeds = len(histories)
    for axis, (metric, label) in zip(figure.subplots(1, 2), METRICS):
        for part, colour in (("train", "tab:blue"), ("test", "tab:orange")):
            epochs, mean, low, high = band(histories, f"{part}_{metric}")
            axis.fill_between(epochs, low, high, color=colour, alpha=0.25, linewidth=0)
            axis.plot(epochs, mean, color=colour, label=f"{part} (mean of {seeds})")
        if metric == "loss" and _spans_decades(histories):
            axis.set_yscale("log")
        axis.set_xlabel("epoch")
        axis.set_ylabel(label)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    figure.suptitle(title, fontsize=10)
    return figure


def _spans_decades(histories: Sequence[Sequence[LogRow]]) -> bool:
    """Whether the losses fall by more than ten times: then a log scale shows them best."""
    losses = [v for h in histories for r in h for v in (r.train_loss, r.test_loss)]
    return bool(losses) and min(losses) > 0 and max(losses) > 10 * min(losses)


def intervals_figure(rows: Sequence[dict[str, Any]], grid: Sequence[str] = ()) -> Figure:
    """rliable's interval plot, one bar per model: its interquartile mean of test accuracy
    with the 95% interval (left), and its mean paired difference from the best with the 95%
    interval (right; a dashed line at 0: bars that cross it show no clear difference)."""
    rows = [row for row in rows if row["iqm"] is not None]  # a failed baseline has no numbers
    figure = new_figure(8.4, 1.1 + 0.45 * len(rows), constrained=True)
    positions = np.arange(len(rows))[::-1]  # the best (first) row at the top
    panels = (("iqm", "IQM of test accuracy (%)"), ("difference", "difference from the best (pp)"))
    for axis, (key, title) in zip(figure.subplots(1, 2, sharey=True), panels):
        for position, row in zip(positions, rows):
            interval = row[key]
            if interval is None:  # the best row: the others are measured from it
                axis.annotate("best", (0, position), ha="center", va="center", fontsize=8)
                continue
            low, high = interval["low"], interval["high"]
            if low is not None:
                axis.barh(position, high - low, left=low, height=0.6, color="tab:blue", alpha=0.35)
            axis.plot([interval["estimate"]] * 2, [position - 0.3, position + 0.3], color="k")
        if key == "difference":
            axis.axvline(0, color="0.4", linestyle="--", linewidth=1)
        axis.set_xlabel(title, fontsize=9)
        axis.grid(axis="x", alpha=0.3)
    figure.axes[0].set_yticks(positions, [_row_name(row, grid) for row in rows], fontsize=9)
    figure.axes[0].set_ylim(-0.6, len(rows) - 0.4)
    return figure


def _row_name(row: dict[str, Any], grid: Sequence[str]) -> str:
    """The model, and its swept settings in a sweep: ``circle-v2 lr=0.1``."""
    point = " ".join(f"{key}={row[key]}" for key in grid if key in row and not row["baseline"])
    return f"{row['model']} {point}".strip()


def spread_figure(rows: Sequence[dict[str, Any]], results: Sequence[dict[str, Any]]) -> Figure:
    """Test accuracy per model: every seed as a point, the min-max range and the mean."""
    rows = [row for row in rows if row["test_acc"] is not None]  # not a failed baseline
    models = [row["model"] for row in rows]
    figure = new_figure(8.4, 0.9 + 0.45 * len(models), constrained=True)
    axis = figure.subplots()
    jitter = np.random.default_rng(0)  # fixed: the same page for the same results
    positions = np.arange(len(models))[::-1]  # the best (first) row at the top
    for position, model in zip(positions, models):
        values = np.array([r["test_acc"] for r in results if r["model"] == model])
        axis.hlines(position, values.min(), values.max(), color="0.6", linewidth=6, alpha=0.5)
        offsets = jitter.uniform(-0.15, 0.15, len(values))
        axis.scatter(values, position + offsets, s=16, color="tab:orange", zorder=3)
        axis.scatter([values.mean()], [position], marker="|", s=400, color="k", zorder=4)
    axis.set_yticks(positions, models, fontsize=9)
    axis.set_ylim(-0.6, len(models) - 0.4)
    axis.set_xlabel("test accuracy (%): each seed (dot), min-max (bar), mean (|)")
    axis.grid(axis="x", alpha=0.3)
    return figure


def sweep_figure(panels: Sequence[SweepPanel], seeds: int) -> Figure:
    """Test accuracy against each swept setting: one panel per setting, each line the mean
    over the seeds, its band min to max."""
    figure = new_figure(6 * len(panels), 4.5)
    axes = list(figure.subplots(1, len(panels), squeeze=False).flat)
    for axis, (key, values, ticks, lines) in zip(axes, panels):
        positions, numeric = value_positions(values)
        for name, points in lines:
            xs = [positions[values.index(point[0])] for point in points]
            (drawn,) = axis.plot(xs, [point[1] for point in points], marker="o", label=name)
            lows, highs = [point[2] for point in points], [point[3] for point in points]
            axis.fill_between(xs, lows, highs, alpha=0.2, color=drawn.get_color())
        if numeric and _logarithmic(values):
            axis.set_xscale("log")
        axis.set_xticks(positions, ticks)
        axis.set_xlabel(key)
        axis.set_ylabel("test accuracy (%)")
        axis.set_title(f"test accuracy against {key}\nmean over {seeds} seeds, band: min-max")
        if len(axis.get_lines()) <= MOST_LINES_IN_LEGEND:
            axis.legend(fontsize="small")
    return _finish(figure, [])


def value_positions(values: Sequence[Any]) -> tuple[list[float], bool]:
    """Where each value sits on the x axis: itself if all are numbers, else its index."""
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return [float(v) for v in values], True
    return [float(i) for i in range(len(values))], False


def _logarithmic(values: Sequence[float]) -> bool:
    """Positive values spanning two decades or more, as learning rates do."""
    return min(values) > 0 and math.log10(max(values) / min(values)) >= 1.3


def _finish(figure: Figure, unused: Sequence[Axes]) -> Figure:
    for axis in unused:
        axis.set_visible(False)
    figure.tight_layout()
    return figure
