"""A comparison's results: per-seed records, per-(model, dataset) statistics and verdicts."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from zoo.comparison.execute import JobResult
from zoo.training.records import RunSummary


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
    """One (model, dataset, seed): its run summary, and the first log point at the target."""

    summary: RunSummary
    epochs_to_target: int | None
    baseline: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.summary.to_dict(),
            "epochs_to_target": self.epochs_to_target,
            "baseline": self.baseline,
        }


@dataclass(frozen=True)
class SummaryRow:
    """One (model, dataset) over its seeds."""

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
        )

    def to_dict(self) -> dict[str, Any]:
        row = {f: getattr(self, f) for f in self.__dataclass_fields__}
        return {**row, "train_acc": self.train_acc.to_dict(), "test_acc": self.test_acc.to_dict()}


@dataclass(frozen=True)
class Comparison:
    """Every compared seed and the statistics over them; ``results`` and ``summary`` are
    their JSON-ready forms (the records of ``zoo compare --format json``)."""

    records: list[SeedResult]  # one per (model, dataset, seed)
    rows: list[SummaryRow]  # one per (model, dataset), best first within a dataset
    seeds: list[int]
    target: float
    job_results: list[JobResult] = field(default_factory=list, repr=False)

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
            "results": self.results,
            "summary": self.summary,
        }

    def render(self, fmt: str = "table") -> str:
        """The comparison as text: ``table``, ``markdown``, ``csv`` or ``json``."""
        from zoo.comparison.report import render

        return render(self, fmt)

    def datasets(self) -> list[str]:
        return list(dict.fromkeys(row.dataset for row in self.rows))

    def drawable(self) -> list[JobResult]:
        """The trained zoo models whose data has two features: what a boundary plot shows."""
        return [r for r in self.job_results if r.states and r.features == 2]

    def row_of(self, model: str, dataset: str) -> SummaryRow:
        return next(row for row in self.rows if row.model == model and row.dataset == dataset)


def summarise(results: Sequence[JobResult], target: float) -> Comparison:
    """Per-seed records and per-(model, dataset) statistics, best first, with verdicts."""
    records: list[SeedResult] = []
    rows: list[SummaryRow] = []
    for result in results:
        per_seed = [
            SeedResult(record, _first_at(history, target), result.baseline)
            for record, history in zip(result.records, result.histories)
        ]
        records += per_seed
        rows.append(SummaryRow.of(per_seed, result.seconds, result.batched))
    ordered: list[SummaryRow] = []
    for dataset in dict.fromkeys(row.dataset for row in rows):
        block = sorted((r for r in rows if r.dataset == dataset), key=lambda r: -r.test_acc.mean)
        ordered += _judge(block, records)
    seeds = list(dict.fromkeys(r.summary.seed for r in records))
    return Comparison(records, ordered, seeds, target, list(results))


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
            by_seed.setdefault(record.summary.model, {})[record.summary.seed] = (
                record.summary.test_acc
            )
    best, judged, overlapping = block[0], [], []
    for row in block[1:]:
        shared = sorted(set(by_seed[best.model]) & set(by_seed[row.model]))
        wins = sum(by_seed[best.model][s] > by_seed[row.model][s] for s in shared)
        if shared and wins == len(shared):
            verdict = f"worse than {best.model} on {wins}/{len(shared)} seeds"
        else:
            verdict = f"overlaps {best.model} (beaten on {wins}/{len(shared)} seeds)"
            overlapping.append(row.model)
        judged.append(replace(row, verdict=verdict))
    if len(block) == 1:
        verdict = "only entry"
    elif overlapping:
        verdict = "best mean, not clearly better than " + ", ".join(overlapping)
    else:
        verdict = "best"
    return [replace(best, verdict=verdict), *judged]


def _mean(values: Sequence[float | None]) -> float | None:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    return statistics.fmean(finite) if finite else None
