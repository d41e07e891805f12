"""Decision-boundary pictures, drawn as lesson 02 draws them.

A 101x101 grid over the data's range (±0.1), the model's labels on the grid as a filled contour
in the RdYlBu colour map, the points on top. The model stays on its device: only the grid goes
to it and only the labels come back (the lesson's helper moved the model to the CPU for good).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from zoo.runs.files import write_atomic
from zoo.training.tasks import Task

GRID = 101


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


def save_boundaries(
    path: Path,
    panels: Sequence[tuple[str, nn.Module, Task, np.ndarray, np.ndarray]],
    columns: int = 2,
) -> None:
    """One PNG, one panel per (title, model, task, X, y), laid out ``columns`` wide."""
    import matplotlib

    matplotlib.use("Agg")  # files only, never a window
    from matplotlib import pyplot as plt

    rows = -(-len(panels) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(6 * columns, 5 * rows), squeeze=False)
    for axis, (title, model, task, X, y) in zip(axes.flat, panels):
        xx, yy, labels = boundary_grid(model, task, X)
        levels = np.arange(task.classes + 1) - 0.5  # one band per class, coloured as its points
        colours = {"cmap": plt.cm.RdYlBu, "vmin": 0, "vmax": task.classes - 1}
        axis.contourf(xx, yy, labels, levels=levels, alpha=0.7, **colours)
        axis.scatter(X[:, 0], X[:, 1], c=y, s=40, edgecolors="k", linewidths=0.3, **colours)
        axis.set_xlim(xx.min(), xx.max())
        axis.set_ylim(yy.min(), yy.max())
        axis.set_title(title)
    for axis in list(axes.flat)[len(panels) :]:
        axis.set_visible(False)
    figure.tight_layout()
    try:
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=80)
        write_atomic(path, buffer.getvalue())
    finally:
        plt.close(figure)
