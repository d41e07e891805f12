"""The pictures of a comparison's HTML page, each a PNG as a ``data:`` URI.

Drawn with matplotlib's object API (``Figure``, no pyplot): no window, no global state, and
the Agg renderer whatever backend the user configured.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import Any

import numpy as np

from zoo.comparison.execute import JobResult
from zoo.runs.plotting import boundary_grid
from zoo.training.records import LogRow

DPI = 80
METRICS = (("acc", "accuracy (%)"), ("loss", "loss"))


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def png_uri(figure: Any) -> str:
    """The figure as a PNG ``data:`` URI."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def boundary(result: JobResult) -> str:
    """The job's first seed: its decision boundary over the test points, as the lesson draws."""
    from matplotlib import colormaps

    job, seed = result.job, result.job.seeds[0]
    experiment = job.experiment_for(seed)  # the seed's own split, if it varies
    model = experiment.build(job.config_for(seed).seed)
    model.load_state_dict(result.states[0])
    split, task = experiment.split, experiment.task
    xx, yy, labels = boundary_grid(experiment.scaling.wrap(model), task, split.X_test)
    colours = {"cmap": colormaps["RdYlBu"], "vmin": 0, "vmax": task.classes - 1}
    figure = _figure(4.2, 3.6)
    axis = figure.subplots()
    axis.contourf(xx, yy, labels, levels=np.arange(task.classes + 1) - 0.5, alpha=0.7, **colours)
    X, y = split.X_test, split.y_test
    axis.scatter(X[:, 0], X[:, 1], c=y, s=18, edgecolors="k", linewidths=0.3, **colours)
    axis.set_xlim(xx.min(), xx.max())
    axis.set_ylim(yy.min(), yy.max())
    axis.set_title(f"{job.model} on {job.dataset} (seed {job.seeds[0]})", fontsize=10)
    return png_uri(figure)


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


def curves(result: JobResult) -> str:
    """Accuracy and loss per epoch, train and test: the mean over seeds, min to max as a band."""
    figure = _figure(8.4, 3.2)
    seeds = len(result.histories)
    for axis, (metric, label) in zip(figure.subplots(1, 2), METRICS):
        for part, colour in (("train", "tab:blue"), ("test", "tab:orange")):
            epochs, mean, low, high = band(result.histories, f"{part}_{metric}")
            axis.fill_between(epochs, low, high, color=colour, alpha=0.25, linewidth=0)
            axis.plot(epochs, mean, color=colour, label=f"{part} (mean of {seeds})")
        if metric == "loss" and _spans_decades(result.histories):
            axis.set_yscale("log")
        axis.set_xlabel("epoch")
        axis.set_ylabel(label)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    job = result.job
    figure.suptitle(f"{job.model} on {job.dataset}: min-max band over the seeds", fontsize=10)
    return png_uri(figure)


def _spans_decades(histories: Sequence[Sequence[LogRow]]) -> bool:
    """Whether the losses fall by more than ten times: then a log scale shows them best."""
    losses = [v for h in histories for r in h for v in (r.train_loss, r.test_loss)]
    return bool(losses) and min(losses) > 0 and max(losses) > 10 * min(losses)


def intervals(rows: Sequence[dict[str, Any]], grid: Sequence[str] = ()) -> str:
    """rliable's interval plot, one bar per model: its interquartile mean of test accuracy
    with the 95% interval (left), and its mean paired difference from the best with the 95%
    interval (right; a dashed line at 0: bars that cross it show no clear difference)."""
    rows = [row for row in rows if row["iqm"] is not None]  # a failed baseline has no numbers
    figure = _figure(8.4, 1.1 + 0.45 * len(rows))
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
    return png_uri(figure)


def _row_name(row: dict[str, Any], grid: Sequence[str]) -> str:
    """The model, and its swept settings in a sweep: ``circle-v2 lr=0.1``."""
    point = " ".join(f"{key}={row[key]}" for key in grid if key in row and not row["baseline"])
    return f"{row['model']} {point}".strip()


def spread(rows: Sequence[dict[str, Any]], results: Sequence[dict[str, Any]]) -> str:
    """Test accuracy per model: every seed as a point, the min-max range and the mean."""
    rows = [row for row in rows if row["test_acc"] is not None]  # not a failed baseline
    models = [row["model"] for row in rows]
    figure = _figure(8.4, 0.9 + 0.45 * len(models))
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
    return png_uri(figure)
