"""Pictures of a run, drawn as lesson 02 draws them: decision boundaries and training curves.

Boundaries: a 101x101 grid over the data's range (±0.1), the model's labels on the grid as a
filled contour in the RdYlBu colour map, the points on top. The model stays on its device:
only the grid goes to it and only the labels come back (the lesson's helper moved the model to
the CPU for good). Curves: loss and accuracy; training as each epoch's step saw it (every
epoch, smooth), test (and validation) at each log point, validation every epoch where it was
measured every epoch; early stopping's kept epoch as a dashed line. Figures are made
with matplotlib's object API (no pyplot state), so a notebook shows them as they are.
"""

from __future__ import annotations

import io
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
Panel = tuple[str, nn.Module, Task, np.ndarray, np.ndarray]  # title, model, task, X, y


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
    from matplotlib.figure import Figure

    rows = -(-len(panels) // columns)
    figure = Figure(figsize=(6 * columns, 5 * rows))
    axes = figure.subplots(rows, columns, squeeze=False)
    for axis, panel in zip(axes.flat, panels):
        draw_boundary(axis, panel)
    for axis in list(axes.flat)[len(panels) :]:
        axis.set_visible(False)
    figure.tight_layout()
    return figure


def draw_boundary(axis: Axes, panel: Panel) -> None:
    from matplotlib import colormaps

    title, model, task, X, y = panel
    xx, yy, labels = boundary_grid(model, task, X)
    levels = np.arange(task.classes + 1) - 0.5  # one band per class, coloured as its points
    colours: dict[str, Any] = {"cmap": colormaps["RdYlBu"], "vmin": 0, "vmax": task.classes - 1}
    axis.contourf(xx, yy, labels, levels=levels, alpha=0.7, **colours)
    axis.scatter(X[:, 0], X[:, 1], c=y, s=40, edgecolors="k", linewidths=0.3, **colours)
    axis.set_xlim(xx.min(), xx.max())
    axis.set_ylim(yy.min(), yy.max())
    axis.set_title(title)


def curves_figure(
    history: Sequence[LogRow],
    title: str = "",
    steps: Sequence[EpochRow] = (),
    best_epoch: int | None = None,
) -> Figure:
    """Loss and accuracy over the epochs, under ``title`` (see :func:`draw_curves`)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(12, 4.5))
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


def png(figure: Figure) -> bytes:
    """The figure as a PNG file's bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80)
    return buffer.getvalue()


def save_figure(path: Path, figure: Figure) -> None:
    """The figure as a PNG at ``path`` (a run folder's), written atomically."""
    write_atomic(path, png(figure))


def save_boundaries(path: Path, panels: Sequence[Panel], columns: int = 2) -> None:
    """One PNG of boundary panels (see :func:`boundaries_figure`)."""
    save_figure(path, boundaries_figure(panels, columns))
