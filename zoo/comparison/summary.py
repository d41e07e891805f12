"""A comparison's results: per-seed records, per-(model, dataset) statistics and verdicts."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

from zoo.comparison.baselines import MAJORITY
from zoo.comparison.execute import JobResult
from zoo.comparison.grid import label
from zoo.comparison.statistics import Interval, interquartile_mean
from zoo.comparison.verdicts import EMPTY, Versus, against_best, best_verdict, row_verdict
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
    # What zoo train takes to give this seed's numbers: init_seed (--seed), split_seed,
    # order_seed; ``summary.seed`` is the comparison's seed, on which rows are paired.
    sources: dict[str, int] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return _labelled(self.summary.model, self.point)

    def to_dict(self) -> dict[str, Any]:
        # A swept setting is a column; where a record has a field of that name (epochs,
        # device), the record's value is kept: what the seed actually had.
        return {
            **self.point,
            **self.summary.to_dict(),
            **self.sources,
            "epochs_to_target": self.epochs_to_target,
            "baseline": self.baseline,
        }


@dataclass(frozen=True)
class SummaryRow:
    """One (model, dataset, swept settings) over its seeds, and how it stands against the
    best row of its dataset (``versus``: None for the best row itself and a failed one)."""

    model: str
    dataset: str
    params: int | None
    seeds: int
    train_acc: Stats | None  # None: a baseline that failed
    test_acc: Stats | None
    iqm: Interval | None  # interquartile mean of test accuracy, with its 95% interval
    train_loss: float | None  # mean over the seeds that did not diverge
    test_loss: float | None
    epochs_to_target: float | None  # mean over the seeds that reached it
    reached_target: int
    seconds: float
    batched: bool
    diverged: int  # seeds whose loss diverged
    baseline: bool
    verdict: str = ""
    versus: Versus | None = None
    failed: str | None = None  # why a baseline gave no numbers
    varied: tuple[str, ...] = ()  # the sources of variance that differ between its seeds
    point: dict[str, Any] = field(default_factory=dict)  # the swept settings' values
    val_acc: Stats | None = None  # None: no validation split
    majority_acc: float | None = None  # mean test accuracy of always answering the top class
    learned_nothing: int = 0  # seeds that ended at most 1 point above majority_acc

    @property
    def label(self) -> str:
        """The model and its swept settings: how the table and the verdicts name the row."""
        return _labelled(self.model, self.point)

    @classmethod
    def of(cls, seeds: Sequence[SeedResult], result: JobResult) -> SummaryRow:
        first = seeds[0].summary
        reached = [s.epochs_to_target for s in seeds if s.epochs_to_target is not None]
        kept = [s.summary for s in seeds if s.summary.status != "diverged"]
        return cls(
            model=first.model,
            dataset=first.dataset,
            params=first.params,
            seeds=len(seeds),
            train_acc=Stats.of([s.summary.train_acc for s in seeds]),
            test_acc=Stats.of([s.summary.test_acc for s in seeds]),
            iqm=interquartile_mean([s.summary.test_acc for s in seeds]),
            train_loss=_mean([r.train_loss for r in kept]),
            test_loss=_mean([r.test_loss for r in kept]),
            epochs_to_target=statistics.fmean(reached) if reached else None,
            reached_target=len(reached),
            seconds=result.seconds,
            batched=result.batched,
            diverged=len(seeds) - len(kept),
            baseline=seeds[0].baseline,
            varied=result.job.varied(),
            point=seeds[0].point,
            val_acc=_stats([s.summary.val_acc for s in seeds]),
            majority_acc=_mean([s.summary.majority_acc for s in seeds]),
            learned_nothing=sum(s.summary.learned_nothing for s in seeds),
        )

    @classmethod
    def failure(cls, result: JobResult) -> SummaryRow:
        """A baseline that could not be fitted: a row that says why, with no numbers."""
        failure = result.failure or "failed"
        name = result.job.dataset
        return cls(
            model=result.name or result.job.model,
            dataset=name,
            params=None,
            seeds=0,
            train_acc=None,
            test_acc=None,
            iqm=None,
            train_loss=None,
            test_loss=None,
            epochs_to_target=None,
            reached_target=0,
            seconds=result.seconds,
            batched=False,
            diverged=0,
            baseline=True,
            verdict=f"failed: {failure}",
            failed=failure,
            varied=result.job.varied(),
        )

    def to_dict(self) -> dict[str, Any]:
        skip = ("point", "versus", "iqm", "train_acc", "test_acc", "val_acc", "varied")
        row = {f: getattr(self, f) for f in self.__dataclass_fields__ if f not in skip}
        return {
            "model": self.model,
            "dataset": self.dataset,
            **self.point,  # one column per swept setting
            **row,
            "train_acc": None if self.train_acc is None else self.train_acc.to_dict(),
            "test_acc": None if self.test_acc is None else self.test_acc.to_dict(),
            "val_acc": None if self.val_acc is None else self.val_acc.to_dict(),
            "iqm": None if self.iqm is None else self.iqm.to_dict(),
            **(EMPTY if self.versus is None else self.versus.to_dict()),
            "varied": list(self.varied),
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
    reach: float  # the test accuracy (%) whose first epoch is reported
    job_results: list[JobResult] = field(default_factory=list, repr=False)
    grid: dict[str, list[Any]] = field(default_factory=dict)  # a sweep's settings and values
    vary: list[str] = field(default_factory=lambda: ["init"])  # the sources asked to vary
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
            "reach": self.reach,
            "vary": self.vary,
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
    results: Sequence[JobResult],
    reach: float,
    grid: Mapping[str, Sequence[Any]] | None = None,
    vary: Sequence[str] = ("init",),
) -> Comparison:
    """Per-seed records and per-(model, dataset, settings) statistics, best first, with
    verdicts.

    Best first: by mean validation accuracy where every row of a dataset has a validation
    split, else by mean test accuracy. Selection without peeking: with a validation split the
    best row is chosen on the validation rows, and the verdicts then compare the rows' test
    accuracies, paired by seed, against that chosen row (see :func:`ranked_on_validation`).
    """
    records: list[SeedResult] = []
    rows: list[SummaryRow] = []
    for result in results:
        if result.failure is not None:
            rows.append(SummaryRow.failure(result))
            continue
        point = {} if result.baseline else result.job.point
        per_seed = [
            SeedResult(
                record,
                _first_at(history, reach),
                result.baseline,
                point,
                _sources(result, record.seed),
            )
            for record, history in zip(result.records, result.histories)
        ]
        records += per_seed
        rows.append(SummaryRow.of(per_seed, result))
    ordered: list[SummaryRow] = []
    for dataset in dict.fromkeys(row.dataset for row in rows):
        block = [r for r in rows if r.dataset == dataset and r.failed is None]
        block.sort(key=_ranking(ranked_on_validation(block)))
        ordered += _judge(block, records) if block else []
        ordered += [r for r in rows if r.dataset == dataset and r.failed is not None]
    seeds = list(dict.fromkeys(seed for result in results for seed in result.job.seeds))
    return Comparison(records, ordered, seeds, reach, list(results), _lists(grid), list(vary))


def ranked_on_validation(rows: Sequence[SummaryRow]) -> bool:
    """Whether a dataset's rows are ranked on validation: every one has a validation split."""
    return bool(rows) and all(row.val_acc is not None for row in rows)


def _ranking(validation: bool) -> Callable[[SummaryRow], float]:
    def key(row: SummaryRow) -> float:
        score = row.val_acc if validation else row.test_acc
        return -score.mean if score else 0.0

    return key


def _stats(values: Sequence[float | None]) -> Stats | None:
    """The statistics of scores every seed has (validation: None where there is none)."""
    known = [value for value in values if value is not None]
    return Stats.of(known) if known and len(known) == len(values) else None


def _sources(result: JobResult, seed: int) -> dict[str, int]:
    """The seeds that ``zoo train`` takes to train the comparison's ``seed`` alone."""
    config = result.job.config_for(seed)
    return {
        "init_seed": config.seed,
        "split_seed": config.split_seed,
        "order_seed": config.batch_seed,
    }


def _first_at(history: Sequence[Any], reach: float) -> int | None:
    reached = [row.epoch for row in history if row.test_acc >= reach]
    return reached[0] if reached else None


def _judge(block: list[SummaryRow], records: Sequence[SeedResult]) -> list[SummaryRow]:
    """The rows with verdicts: each row's test accuracies against the best's (the first row,
    chosen on validation where there is one), over the seeds they share (see
    :mod:`zoo.comparison.verdicts`)."""
    by_seed: dict[str, dict[int, float]] = {}
    for record in records:
        if record.summary.dataset == block[0].dataset:
            by_seed.setdefault(record.label, {})[record.summary.seed] = record.summary.test_acc
    best, others = block[0], block[1:]
    found = against_best(best.label, by_seed[best.label], [by_seed[r.label] for r in others])
    comparisons = sum(versus.shared_seeds > 0 for versus in found)  # Holm's family
    judged = [
        replace(row, versus=versus, verdict=row_verdict(versus, comparisons) + _nothing(row))
        for row, versus in zip(others, found)
    ]
    pairs = [(row.label, versus) for row, versus in zip(others, found)]
    verdict = best_verdict(pairs, ranked_on_validation(block)) + _nothing(best)
    return [replace(best, verdict=verdict), *judged]


def _nothing(row: SummaryRow) -> str:
    """``; learned nothing on 10 of 10 seeds``: the verdict's warning that a row's accuracy
    is what always answering the majority class scores (see :mod:`zoo.training.diagnosis`)."""
    if not row.learned_nothing or row.model == MAJORITY:  # that baseline is the rate itself
        return ""
    return f"; learned nothing on {row.learned_nothing} of {row.seeds} seeds"


def _labelled(model: str, point: dict[str, Any]) -> str:
    return f"{model} {label(point)}" if point else model


def _mean(values: Sequence[float | None]) -> float | None:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    return statistics.fmean(finite) if finite else None


def _lists(grid: Mapping[str, Sequence[Any]] | None) -> dict[str, list[Any]]:
    return {key: list(values) for key, values in (grid or {}).items()}
