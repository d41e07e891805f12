"""A comparison's results: per-seed records, per-(model, dataset) statistics and verdicts."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

from zoo.comparison.execute import JobResult
from zoo.comparison.grid import label
from zoo.training.records import RunSummary

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@dataclass(frozen=True)
class Stats:
    mean: float
    std: float
    min: float
    max: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Stats:
        std = statistics.stdev(values) if len(values) > 1 else 0.0
        return cls(statistics.fmean(values), std, min(values), max(values))

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(frozen=True)
class SeedResult:
    """One (model, dataset, swept settings, seed): its run summary, and the first log point
    at the target."""

    summary: RunSummary
    epochs_to_target: int | None
    baseline: bool = False
    point: dict[str, Any] = field(default_factory=dict)  # the swept settings' values

    @property
    def label(self) -> str:
        return _labelled(self.summary.model, self.point)

    def to_dict(self) -> dict[str, Any]:
        # A swept setting is a column; where a record has a field of that name (epochs,
        # device), the record's value is kept: what the seed actually had.
        return {
            **self.point,
            **self.summary.to_dict(),
            "epochs_to_target": self.epochs_to_target,
            "baseline": self.baseline,
        }


@dataclass(frozen=True)
class SummaryRow:
    """One (model, dataset, swept settings) over its seeds."""

    model: str
    dataset: str
    params: int | None
    seeds: int
    train_acc: Stats
    test_acc: Stats
    train_loss: float | None  # mean over the seeds with a finite loss
    test_loss: float | None
    epochs_to_target: float | None  # mean over the seeds that reached it
    reached_target: int
    seconds: float
    batched: bool
    diverged: int  # seeds whose loss diverged
    baseline: bool
    verdict: str = ""
    point: dict[str, Any] = field(default_factory=dict)  # the swept settings' values

    @property
    def label(self) -> str:
        """The model and its swept settings: how the table and the verdicts name the row."""
        return _labelled(self.model, self.point)

    @classmethod
    def of(cls, seeds: Sequence[SeedResult], seconds: float, batched: bool) -> SummaryRow:
        first = seeds[0].summary
        reached = [s.epochs_to_target for s in seeds if s.epochs_to_target is not None]
        return cls(
            model=first.model,
            dataset=first.dataset,
            params=first.params,
            seeds=len(seeds),
            train_acc=Stats.of([s.summary.train_acc for s in seeds]),
            test_acc=Stats.of([s.summary.test_acc for s in seeds]),
            train_loss=_mean([s.summary.train_loss for s in seeds]),
            test_loss=_mean([s.summary.test_loss for s in seeds]),
            epochs_to_target=statistics.fmean(reached) if reached else None,
            reached_target=len(reached),
            seconds=seconds,
            batched=batched,
            diverged=sum(s.summary.status == "diverged" for s in seeds),
            baseline=seeds[0].baseline,
            point=seeds[0].point,
        )

    def to_dict(self) -> dict[str, Any]:
        row = {f: getattr(self, f) for f in self.__dataclass_fields__ if f != "point"}
        return {
            "model": self.model,
            "dataset": self.dataset,
            **self.point,  # one column per swept setting
            **row,
            "train_acc": self.train_acc.to_dict(),
            "test_acc": self.test_acc.to_dict(),
        }


@dataclass(frozen=True)
class Comparison:
    """Every compared seed and the statistics over them; ``results`` and ``summary`` are
    their JSON-ready forms (the records of ``zoo compare --format json``).

    Shown as a table: ``repr`` in a terminal, ``_repr_html_`` in a notebook.
    """

    records: list[SeedResult]  # one per (model, dataset, swept settings, seed)
    rows: list[SummaryRow]  # one per (model, dataset, swept settings), best first per dataset
    seeds: list[int]
    target: float
    job_results: list[JobResult] = field(default_factory=list, repr=False)
    grid: dict[str, list[Any]] = field(default_factory=dict)  # a sweep's settings and values
    # The files it was made from (its data, catalogues, --out folder): never an output's place.
    inputs: tuple[str, ...] = field(default=(), repr=False)

    @property
    def results(self) -> list[dict[str, Any]]:
        return [record.to_dict() for record in self.records]

    @property
    def summary(self) -> list[dict[str, Any]]:
        return [row.to_dict() for row in self.rows]

    def to_json(self) -> dict[str, Any]:
        return {
            "seeds": self.seeds,
            "target": self.target,
            "grid": self.grid,
            "results": self.results,
            "summary": self.summary,
        }

    def render(self, fmt: str = "table") -> str:
        """The comparison as text: ``table``, ``markdown``, ``csv`` or ``json``."""
        from zoo.comparison.report import render

        return render(self, fmt)

    def __repr__(self) -> str:
        return self.render("table").rstrip("\n")

    def _repr_html_(self) -> str:
        from zoo.comparison.report import html

        return html(self)

    def plot(self) -> Figure:
        """A matplotlib figure: each model's decision boundary (its first seed, titled with
        that seed's accuracy), or for a sweep, test accuracy against each swept setting."""
        from zoo.comparison.pictures import figure

        return figure(self)

    @property
    def picture_name(self) -> str:
        """The file name :meth:`plot`'s picture gets in an ``--out`` folder."""
        from zoo.comparison.pictures import picture_name

        return picture_name(self)

    def datasets(self) -> list[str]:
        return list(dict.fromkeys(row.dataset for row in self.rows))

    def drawable(self) -> list[JobResult]:
        """The trained zoo models whose data has two features: what a boundary plot shows."""
        return [r for r in self.job_results if r.states and r.features == 2]

    def row_of(self, result: JobResult) -> SummaryRow:
        """The summary row of one job's result."""
        name, dataset = result.job.label, result.job.dataset
        return next(row for row in self.rows if row.label == name and row.dataset == dataset)


def summarise(
    results: Sequence[JobResult], target: float, grid: dict[str, list[Any]] | None = None
) -> Comparison:
    """Per-seed records and per-(model, dataset, settings) statistics, best first, with
    verdicts."""
    records: list[SeedResult] = []
    rows: list[SummaryRow] = []
    for result in results:
        point = {} if result.baseline else result.job.point
        per_seed = [
            SeedResult(record, _first_at(history, target), result.baseline, point)
            for record, history in zip(result.records, result.histories)
        ]
        records += per_seed
        rows.append(SummaryRow.of(per_seed, result.seconds, result.batched))
    ordered: list[SummaryRow] = []
    for dataset in dict.fromkeys(row.dataset for row in rows):
        block = sorted((r for r in rows if r.dataset == dataset), key=lambda r: -r.test_acc.mean)
        ordered += _judge(block, records)
    seeds = list(dict.fromkeys(r.summary.seed for r in records))
    return Comparison(records, ordered, seeds, target, list(results), dict(grid or {}))


def _first_at(history: Sequence[Any], target: float) -> int | None:
    reached = [row.epoch for row in history if row.test_acc >= target]
    return reached[0] if reached else None


def _judge(block: list[SummaryRow], records: Sequence[SeedResult]) -> list[SummaryRow]:
    """The rows with verdicts: the best, and where it does not beat a row on every seed.

    A paired comparison over the same seeds: the best wins against a row only if its test
    accuracy is higher on every seed they share. Otherwise the two overlap, and no winner
    is crowned by noise.
    """
    by_seed: dict[str, dict[int, float]] = {}
    for record in records:
        if record.summary.dataset == block[0].dataset:
            by_seed.setdefault(record.label, {})[record.summary.seed] = record.summary.test_acc
    best, judged, overlapping = block[0], [], []
    for row in block[1:]:
        shared = sorted(set(by_seed[best.label]) & set(by_seed[row.label]))
        wins = sum(by_seed[best.label][s] > by_seed[row.label][s] for s in shared)
        if shared and wins == len(shared):
            verdict = f"worse than {best.label} on {wins}/{len(shared)} seeds"
        else:
            verdict = f"overlaps {best.label} (beaten on {wins}/{len(shared)} seeds)"
            overlapping.append(row.label)
        judged.append(replace(row, verdict=verdict))
    if len(block) == 1:
        verdict = "only entry"
    elif overlapping:
        verdict = "best mean, not clearly better than " + ", ".join(overlapping)
    else:
        verdict = "best"
    return [replace(best, verdict=verdict), *judged]


def _labelled(model: str, point: dict[str, Any]) -> str:
    return f"{model} {label(point)}" if point else model


def _mean(values: Sequence[float | None]) -> float | None:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    return statistics.fmean(finite) if finite else None
