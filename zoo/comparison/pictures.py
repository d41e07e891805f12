"""What a comparison's pictures show; :mod:`zoo.runs.figures` draws them.

A comparison without a grid draws, per (model, dataset), the boundary of its first seed over
the test points, titled with that seed and its own accuracy. A sweep draws test accuracy
against each swept setting: per model, dataset and combination of the other swept settings,
the mean over the seeds as a line and their min-max as a band. The HTML page shows each
model's first seed alone and its curves over the seeds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from zoo.comparison.execute import JobResult
from zoo.comparison.grid import label, shown
from zoo.errors import ConfigError
from zoo.runs.figures import (
    Panel,
    SweepLine,
    SweepPanel,
    band_figure,
    boundaries_figure,
    boundary_figure,
    sweep_figure,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from zoo.comparison.summary import Comparison, SummaryRow


def picture_name(comparison: Comparison) -> str:
    return "sweep.png" if comparison.grid else "boundaries.png"


def figure(comparison: Comparison) -> Figure:
    """The comparison's picture: the sweep's curves, or the models' boundaries."""
    if comparison.grid:
        return sweep_figure(_sweep_panels(comparison), len(comparison.seeds))
    panels = [_first_seed(result, _title(comparison, result)) for result in comparison.drawable()]
    if not panels:
        raise ConfigError("no compared model has two-feature data to draw")
    columns = max(1, min(4, len({result.job.label for result in comparison.drawable()})))
    return boundaries_figure(panels, columns)


def page_boundary(result: JobResult) -> Figure:
    """The job's first seed: its decision boundary over the test points, as the lesson draws."""
    job = result.job
    return boundary_figure(
        _first_seed(result, f"{job.model} on {job.dataset} (seed {job.seeds[0]})")
    )


def page_curves(result: JobResult) -> Figure:
    """Accuracy and loss per epoch over the job's seeds."""
    job = result.job
    title = f"{job.model} on {job.dataset}: min-max band over the seeds"
    return band_figure(result.histories, title)


def _first_seed(result: JobResult, title: str) -> Panel:
    """The panel of the job's first trained seed: its model behind its scaling, on the raw
    test points of its own split (which is the seed's own if the split varies)."""
    job, seed = result.job, result.records[0].seed  # the states are in the records' order
    experiment = job.experiment_for(seed)
    model = experiment.build(job.config_for(seed).seed)
    model.load_state_dict(result.states[0])
    split = experiment.split
    return (title, experiment.scaling.wrap(model), experiment.task, split.X_test, split.y_test)


def _title(comparison: Comparison, result: JobResult) -> str:
    record, row = result.records[0], comparison.row_of(result)
    assert row.test_acc is not None  # a trained zoo model's row has numbers
    return (
        f"{result.job.label} on {result.job.dataset}\n"
        f"seed {record.seed} shown: {record.test_acc:.1f}% test "
        f"(mean of {row.seeds} seeds: {row.test_acc.mean:.1f}%)"
    )


def _sweep_panels(comparison: Comparison) -> list[SweepPanel]:
    rows = [row for row in comparison.rows if not row.baseline]
    panels: list[SweepPanel] = []
    for key, values in comparison.grid.items():
        panels.append((key, values, [shown(v) for v in values], _lines(rows, key, values)))
    return panels


def _lines(rows: Sequence[SummaryRow], key: str, values: Sequence[Any]) -> list[SweepLine]:
    """The rows as lines along ``key``: one per model, dataset and the other settings."""
    lines: dict[str, dict[Any, SummaryRow]] = {}
    for row in rows:
        others = {k: v for k, v in row.point.items() if k != key}
        name = f"{row.model} on {row.dataset}" + (f", {label(others)}" if others else "")
        lines.setdefault(name, {})[row.point[key]] = row
    found = []
    for name, line in lines.items():
        stats = [(v, line[v].test_acc) for v in values if v in line]
        found.append((name, [(v, s.mean, s.min, s.max) for v, s in stats if s]))
    return found
