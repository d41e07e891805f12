"""Comparative evaluation: several models, datasets and seeds, trained by the shared trainer.

Every (model, dataset, seed) trains exactly as ``zoo train`` would train it: the same loss,
optimizer, split and seeding, so a compared seed equals its solo run. The seeds of one model
train together where the model allows it (see :mod:`zoo.batched`), and separate models train
in separate processes when more than one CPU core is free.
"""

from __future__ import annotations

import fnmatch
import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import torch

from zoo.batched import BatchedTrainer, batch_plan
from zoo.catalogue import Catalogue
from zoo.config import TrainConfig, resolve
from zoo.devices import resolve_device
from zoo.errors import ConfigError, UnknownNameError
from zoo.experiment import Experiment
from zoo.registry import ModelSpec, Registry
from zoo.trainer import Trainer
from zoo.training import run_summary

WILDCARDS = "*?["


@dataclass(frozen=True)
class Job:
    """One model on one dataset, for every seed."""

    model: str
    config: TrainConfig  # for the first seed; the others differ only in ``seed``
    spec: ModelSpec
    seeds: tuple[int, ...]

    @property
    def dataset(self) -> str:
        return self.config.dataset

    def config_for(self, seed: int) -> TrainConfig:
        return replace(self.config, seed=seed)


@dataclass
class JobResult:
    job: Job
    records: list[dict[str, Any]]  # one per seed, the keys of `zoo train --json`
    histories: list[list[dict[str, float]]]
    states: list[dict[str, torch.Tensor]]  # each seed's final weights, on the CPU
    batched: bool
    seconds: float  # training time of all its seeds (batched: the shared loop's time)


@dataclass
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
        return {"mean": self.mean, "std": self.std, "min": self.min, "max": self.max}


@dataclass
class Comparison:
    results: list[dict[str, Any]]  # one per (model, dataset, seed)
    summary: list[dict[str, Any]]  # one per (model, dataset), best first within a dataset
    seeds: list[int]
    target: float
    job_results: list[JobResult] = field(default_factory=list, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {"seeds": self.seeds, "target": self.target,
                "results": self.results, "summary": self.summary}

    def datasets(self) -> list[str]:
        return list(dict.fromkeys(row["dataset"] for row in self.summary))


def expand_models(names: Sequence[str], known: Sequence[str]) -> list[str]:
    """Names as given, wildcards expanded against ``known``; a pattern must match something."""
    expanded: list[str] = []
    for name in names:
        if any(c in name for c in WILDCARDS):
            matches = [k for k in known if fnmatch.fnmatchcase(k, name)]
            if not matches:
                raise UnknownNameError(f"no model matches {name!r}; 'zoo list' shows them all")
            expanded += matches
        else:
            expanded.append(name)
    return list(dict.fromkeys(expanded))


def seed_list(seeds: int | None, seed_values: Sequence[int] | None, first: int) -> list[int]:
    """``seed_values`` as given, or ``seeds`` consecutive seeds from ``first``."""
    if seed_values:
        return list(dict.fromkeys(seed_values))
    count = 5 if seeds is None else seeds
    if count < 1:
        raise ConfigError(f"seeds: must be a whole number ≥ 1, got {count}")
    return list(range(first, first + count))


def plan_jobs(
    models: Sequence[str],
    datasets: Sequence[str] | None,
    seeds: Sequence[int],
    registry: Registry,
    catalogue: Catalogue,
    overrides: dict[str, Any],
) -> list[Job]:
    """One job per (model, dataset): the given datasets, or each model's own."""
    jobs = []
    for model in models:
        default, spec = resolve(model, registry, catalogue, overrides)
        for dataset in datasets or [default.dataset]:
            config, _ = resolve(model, registry, catalogue, {**overrides, "dataset": dataset})
            changes: dict[str, Any] = {"seed": seeds[0]}
            if config.log_every == "auto":  # a hundred log points: epochs-to-target to 1%
                changes["log_every"] = max(1, config.epochs // 100)
            jobs.append(Job(model, replace(config, **changes), spec, tuple(seeds)))
    return jobs


def run_jobs(
    jobs: Sequence[Job],
    registry: Registry,
    workers: int = 1,
    on_progress: Callable[[float], None] | None = None,
) -> list[JobResult]:
    """Train every job, in ``workers`` processes; results in the order of ``jobs``.

    With several workers, each job's seeds are split into chunks that train in parallel.
    A seed's numbers do not depend on which chunk it lands in.
    """
    chunks = [
        (index, chunk)
        for index, job in enumerate(jobs)
        for chunk in _split(job.seeds, workers)
    ]
    total = sum(jobs[i].config.epochs * len(seeds) for i, seeds in chunks)
    if workers <= 1 or len(chunks) <= 1:
        done = 0.0

        def advance(units: float) -> None:
            nonlocal done
            done += units
            if on_progress is not None:
                on_progress(done / total)

        parts = [run_seeds(jobs[i], seeds, registry, advance) for i, seeds in chunks]
    else:
        parts = _run_in_processes(jobs, chunks, registry, workers, total, on_progress)
    return [
        _merge([part for (i, _), part in zip(chunks, parts) if i == index])
        for index in range(len(jobs))
    ]


def run_seeds(
    job: Job,
    seeds: Sequence[int],
    registry: Registry,
    on_progress: Callable[[float], None] | None = None,
) -> JobResult:
    """Train ``seeds`` of ``job``: together when the model allows, else one after another."""
    device = resolve_device(job.config.device)
    experiment = Experiment.prepare(job.config, job.spec, registry, device)
    configs = [job.config_for(seed) for seed in seeds]
    models = [experiment.build(seed) for seed in seeds]
    plan = batch_plan(models[0])
    if plan is not None:
        progress = (lambda epoch: on_progress(len(seeds))) if on_progress else None
        fits, stacked = BatchedTrainer(plan, models, experiment.data, configs, progress).fit()
        for k, model in enumerate(models):
            model.load_state_dict(stacked.state_dict(k))
    else:
        progress = (lambda epoch, loss: on_progress(1)) if on_progress else None
        fits = [
            Trainer(model, experiment.data, config, on_progress=progress).fit()
            for config, model in zip(configs, models)
        ]
    records = []
    for seed, model, fit in zip(seeds, models, fits):
        record = run_summary(experiment, model, fit, seed)
        record["model"] = job.model
        records.append(record)
    return JobResult(
        job,
        records,
        [[row.to_dict() for row in fit.history] for fit in fits],
        [{k: v.detach().cpu() for k, v in m.state_dict().items()} for m in models],
        plan is not None,
        sum(fit.seconds for fit in fits),
    )


def _split(seeds: Sequence[int], parts: int) -> list[tuple[int, ...]]:
    """``seeds`` in at most ``parts`` nearly equal, consecutive chunks."""
    parts = max(1, min(parts, len(seeds)))
    size, extra = divmod(len(seeds), parts)
    chunks, start = [], 0
    for index in range(parts):
        end = start + size + (index < extra)
        chunks.append(tuple(seeds[start:end]))
        start = end
    return chunks


def _merge(parts: Sequence[JobResult]) -> JobResult:
    first = parts[0]
    return JobResult(
        first.job,
        [r for p in parts for r in p.records],
        [h for p in parts for h in p.histories],
        [s for p in parts for s in p.states],
        first.batched,
        sum(p.seconds for p in parts),
    )


# Worker processes are forked: they inherit the loaded plugins and the prepared jobs, and
# start in milliseconds instead of importing torch again. Each trains on one thread.
_WORKER: dict[str, Any] = {}


def _run_in_processes(
    jobs: Sequence[Job],
    chunks: Sequence[tuple[int, tuple[int, ...]]],
    registry: Registry,
    workers: int,
    total: float,
    on_progress: Callable[[float], None] | None,
) -> list[JobResult]:
    import multiprocessing

    context = multiprocessing.get_context("fork")
    counters = context.RawArray("d", len(chunks))  # each chunk writes its own slot
    _WORKER.update(jobs=jobs, chunks=chunks, registry=registry, counters=counters)
    try:
        with context.Pool(workers, initializer=_start_worker) as pool:
            pending = pool.map_async(_run_chunk, range(len(chunks)))
            while not pending.ready():
                pending.wait(0.1)
                if on_progress is not None:
                    on_progress(sum(counters) / total)
            return [_unpack(part) for part in pending.get()]
    finally:
        _WORKER.clear()


def _start_worker() -> None:
    torch.set_num_threads(1)  # one core per process; before any parallel work in the child


def _run_chunk(index: int) -> JobResult:
    job_index, seeds = _WORKER["chunks"][index]
    counters = _WORKER["counters"]

    def advance(units: float) -> None:
        counters[index] += units

    result = run_seeds(_WORKER["jobs"][job_index], seeds, _WORKER["registry"], advance)
    result.states = [{k: v.numpy() for k, v in state.items()} for state in result.states]
    return result


def _unpack(result: JobResult) -> JobResult:
    result.states = [{k: torch.from_numpy(v) for k, v in s.items()} for s in result.states]
    return result


def worker_count(jobs: Sequence[Job], requested: int | None = None) -> int:
    """Processes to use: ``requested``, else one per usable CPU core for CPU-only work."""
    if requested is not None:
        return max(1, requested)
    import os

    if any(job.config.device not in ("cpu", "auto") for job in jobs) or torch.cuda.is_available():
        return 1  # accelerators stay in this process
    if not hasattr(os, "fork"):
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, cores or 1)


def run_baselines(jobs: Sequence[Job], registry: Registry) -> list[JobResult]:
    """scikit-learn's rows for each dataset: the classic tools once, an MLP per architecture."""
    from zoo.baselines import baselines_for, fit_baseline

    results: list[JobResult] = []
    seen: set[tuple[str, str]] = set()
    for job in jobs:
        experiment = Experiment.prepare(job.config, job.spec, registry, torch.device("cpu"))
        plan = batch_plan(experiment.build(job.config.seed))
        hidden = plan.hidden_layers() if plan is not None else None
        for baseline in baselines_for(job.config, hidden, len(experiment.split.X_train)):
            if (baseline.name, job.dataset) in seen:
                continue
            seen.add((baseline.name, job.dataset))
            start = time.perf_counter()
            records = []
            for seed in job.seeds:
                record = fit_baseline(baseline, experiment.split, seed)
                record |= {"epochs": None, "device": "cpu", "status": "completed",
                           "task": experiment.task.name, "run_dir": None}
                records.append(record)
            results.append(JobResult(job, records, [[] for _ in records], [], False,
                                     time.perf_counter() - start))
    return results


def summarise(results: Sequence[JobResult], target: float) -> Comparison:
    """Per-seed records and per-(model, dataset) statistics, best first, with verdicts."""
    records: list[dict[str, Any]] = []
    summary: list[dict[str, Any]] = []
    for result in results:
        for record, history in zip(result.records, result.histories):
            reached = [row["epoch"] for row in history if row["test_acc"] >= target]
            record["epochs_to_target"] = reached[0] if reached else None
            record.setdefault("baseline", False)
            records.append(record)
        summary.append(_summary_row(result.records, result.seconds, result.batched))
    ordered = []
    for dataset in dict.fromkeys(row["dataset"] for row in summary):
        block = sorted(
            (row for row in summary if row["dataset"] == dataset),
            key=lambda row: -row["test_acc"]["mean"],
        )
        _judge(block, records)
        ordered += block
    seeds = list(dict.fromkeys(r["seed"] for r in records))
    return Comparison(records, ordered, seeds, target, list(results))


def _summary_row(records: Sequence[dict[str, Any]], seconds: float, batched: bool) -> dict[str, Any]:
    first = records[0]
    reached = [r["epochs_to_target"] for r in records if r["epochs_to_target"] is not None]
    return {
        "model": first["model"],
        "dataset": first["dataset"],
        "params": first["params"],
        "seeds": len(records),
        "train_acc": Stats.of([r["train_acc"] for r in records]).to_dict(),
        "test_acc": Stats.of([r["test_acc"] for r in records]).to_dict(),
        "train_loss": _mean([r.get("train_loss") for r in records]),
        "test_loss": _mean([r.get("test_loss") for r in records]),
        "epochs_to_target": statistics.fmean(reached) if reached else None,
        "reached_target": len(reached),
        "seconds": seconds,
        "batched": batched,
        "diverged": sum(r["status"] == "diverged" for r in records),
        "baseline": bool(first.get("baseline")),
        "verdict": "",
    }


def _judge(block: list[dict[str, Any]], records: Sequence[dict[str, Any]]) -> None:
    """Mark the best row, and say where the best does not beat a row on every seed.

    A paired comparison over the same seeds: the best wins against a row only if its test
    accuracy is higher on every seed they share. Otherwise the two overlap, and no winner
    is crowned by noise.
    """
    if not block:
        return
    by_seed: dict[str, dict[int, float]] = {}
    for record in records:
        if record["dataset"] == block[0]["dataset"]:
            by_seed.setdefault(record["model"], {})[record["seed"]] = record["test_acc"]
    best = block[0]
    overlapping = []
    for row in block[1:]:
        shared = sorted(set(by_seed[best["model"]]) & set(by_seed[row["model"]]))
        wins = sum(by_seed[best["model"]][s] > by_seed[row["model"]][s] for s in shared)
        if shared and wins == len(shared):
            row["verdict"] = f"worse than {best['model']} on {wins}/{len(shared)} seeds"
        else:
            row["verdict"] = f"overlaps {best['model']} (beaten on {wins}/{len(shared)} seeds)"
            overlapping.append(row["model"])
    if len(block) == 1:
        best["verdict"] = "only entry"
    elif overlapping:
        best["verdict"] = "best mean, not clearly better than " + ", ".join(overlapping)
    else:
        best["verdict"] = "best"


def _mean(values: Sequence[float | None]) -> float | None:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    return statistics.fmean(finite) if finite else None
