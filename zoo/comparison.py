"""Comparative evaluation: several models, datasets and seeds, trained by the shared trainer.

Every (model, dataset, seed) trains exactly as ``zoo train`` would train it: the same loss,
optimizer, split and seeding, so a compared seed equals its solo run. The seeds of one model
train together where the model allows it (see :mod:`zoo.batched`), and separate models train
in separate processes when more than one CPU core is free.
"""

from __future__ import annotations

import io
import math
import signal
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch

from zoo.batched import BatchedTrainer, batch_plan
from zoo.catalogue import Catalogue
from zoo.config import TrainConfig, resolve
from zoo.devices import resolve_device
from zoo.errors import ConfigError, RunFolderError, UnknownNameError
from zoo.experiment import Experiment
from zoo.files import remove_leftovers, write_atomic
from zoo.registry import ModelSpec, Registry, matches
from zoo.runs import load_safely, read_json, write_json
from zoo.settings import InvalidSetting, check_setting
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
    features: int  # columns of the data: only two can be drawn


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
        return {
            "seeds": self.seeds,
            "target": self.target,
            "results": self.results,
            "summary": self.summary,
        }

    def datasets(self) -> list[str]:
        return list(dict.fromkeys(row["dataset"] for row in self.summary))

    def drawable(self) -> list[JobResult]:
        """The trained zoo models whose data has two features: what a boundary plot shows."""
        return [r for r in self.job_results if r.states and r.features == 2]


class ComparisonFolder:
    """A ``zoo compare --out`` folder: the request first, then each finished chunk of seeds.

    So an interrupted comparison keeps what it finished, and ``--resume`` trains only the rest.
    Every file is written atomically and loads with ``weights_only=True``.
    """

    REQUEST = "compare.json"
    PARTS = "parts"

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def start(self, request: dict[str, Any]) -> None:
        write_json(self.path / self.REQUEST, {"format": 1, **request})
        (self.path / self.PARTS).mkdir(exist_ok=True)

    def request(self) -> dict[str, Any]:
        data = read_json(self.path / self.REQUEST)
        keys = {
            "format",
            "models",
            "datasets",
            "seeds",
            "target",
            "baselines",
            "settings",
            "registry",
        }
        if not isinstance(data, dict) or set(data) != keys or data["format"] != 1:
            raise RunFolderError(f"{self.path / self.REQUEST}: not a zoo compare request")
        return {k: v for k, v in data.items() if k != "format"}

    def save(self, job_index: int, part: JobResult) -> None:
        record = {
            "job": job_index,
            "records": part.records,
            "histories": part.histories,
            "states": part.states,
            "batched": part.batched,
            "seconds": part.seconds,
            "features": part.features,
        }
        buffer = io.BytesIO()
        torch.save(record, buffer)
        name = f"{job_index}-{part.records[0]['seed']}.pt"
        write_atomic(self.path / self.PARTS / name, buffer.getvalue())

    def load(self, jobs: Sequence[Job]) -> dict[int, list[JobResult]]:
        """The finished chunks of ``jobs``; a damaged or foreign part is refused."""
        finished: dict[int, list[JobResult]] = {}
        remove_leftovers(self.path / self.PARTS)
        for path in sorted((self.path / self.PARTS).glob("*.pt")):
            data = load_safely(path, "compare part")
            try:
                index = data["job"]
                part = JobResult(
                    jobs[index],
                    data["records"],
                    data["histories"],
                    data["states"],
                    data["batched"],
                    data["seconds"],
                    data["features"],
                )
                if not all(r["seed"] in jobs[index].seeds for r in part.records):
                    raise ValueError("seeds outside the request")
            except (KeyError, IndexError, TypeError, ValueError) as exc:
                raise RunFolderError(f"{path}: not a part of this comparison ({exc})") from None
            finished.setdefault(index, []).append(part)
        return finished


def expand_models(names: Sequence[str], known: Sequence[tuple[str, str]]) -> list[str]:
    """Names as given, wildcards expanded against ``known`` (name, plugin:name) pairs.

    A pattern must match something.
    """
    expanded: list[str] = []
    for name in names:
        if any(c in name for c in WILDCARDS):
            found = [entry[0] for entry in known if matches(name, *entry)]
            if not found:
                raise UnknownNameError(f"no model matches {name!r}; 'zoo list' shows them all")
            expanded += found
        else:
            expanded.append(name)
    return list(dict.fromkeys(expanded))


MOST_SEEDS = 100_000


def seed_list(seeds: int | None, seed_values: Sequence[int] | None, first: int) -> list[int]:
    """``seed_values`` as given, or ``seeds`` consecutive seeds from ``first`` (5 by default)."""
    if seed_values is not None:
        if isinstance(seed_values, (str, bytes)) or not seed_values:
            raise ConfigError("seed_list: must list one or more whole numbers, e.g. [1, 2, 3]")
        try:
            return list(dict.fromkeys(check_setting("seed", s) for s in seed_values))
        except InvalidSetting as exc:
            raise ConfigError(f"seed_list: {exc}") from None
    count = 5 if seeds is None else seeds
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MOST_SEEDS:
        raise ConfigError(f"seeds: must be a whole number from 1 to {MOST_SEEDS:,}, got {count!r}")
    check_setting("seed", first + count - 1)
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
        for dataset in dict.fromkeys(datasets or [default.dataset]):
            config, _ = resolve(model, registry, catalogue, {**overrides, "dataset": dataset})
            changes: dict[str, Any] = {"seed": seeds[0]}
            if config.log_every == "auto":  # a hundred log points: epochs-to-target to 1%
                changes["log_every"] = max(1, config.epochs // 100)
            jobs.append(Job(model, replace(config, **changes), spec, tuple(seeds)))
    return jobs


class Stopped(Exception):
    """A stop was requested mid-comparison; the chunks finished so far were kept."""


def run_jobs(
    jobs: Sequence[Job],
    registry: Registry,
    workers: int = 1,
    on_progress: Callable[[float], None] | None = None,
    *,
    finished: dict[int, list[JobResult]] | None = None,
    on_part: Callable[[int, JobResult], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> list[JobResult]:
    """Train every job, in ``workers`` processes; results in the order of ``jobs``.

    Each job's seeds are split into chunks that train in parallel; a seed's numbers do not
    depend on its chunk. Seeds already in ``finished`` (per job index) are skipped, each new
    chunk goes to ``on_part`` as it completes, and ``should_stop`` is asked between epochs:
    a yes raises :class:`Stopped`, losing only the chunks still training.
    """
    finished = finished or {}
    chunks = []
    for index, job in enumerate(jobs):
        done = {r["seed"] for part in finished.get(index, []) for r in part.records}
        left = tuple(seed for seed in job.seeds if seed not in done)
        chunks += [(index, chunk) for chunk in _split(left, workers) if chunk]
    total = sum(jobs[i].config.epochs * len(seeds) for i, seeds in chunks) or 1
    parts: list[tuple[int, JobResult]] = []

    def keep(index: int, part: JobResult) -> None:
        parts.append((index, part))
        if on_part is not None:
            on_part(index, part)

    if workers <= 1 or len(chunks) <= 1:
        completed = 0.0

        def advance(units: float) -> None:
            nonlocal completed
            completed += units
            if on_progress is not None:
                on_progress(completed / total)

        for index, seeds in chunks:
            keep(index, run_seeds(jobs[index], seeds, registry, advance, should_stop))
    else:
        _run_in_processes(jobs, chunks, registry, workers, total, on_progress, keep, should_stop)
    return [
        _merge(job, finished.get(index, []) + [part for i, part in parts if i == index])
        for index, job in enumerate(jobs)
    ]


def run_seeds(
    job: Job,
    seeds: Sequence[int],
    registry: Registry,
    on_progress: Callable[[float], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> JobResult:
    """Train ``seeds`` of ``job``: together when the model allows, else one after another."""
    device = resolve_device(job.config.device)
    experiment = Experiment.prepare(job.config, job.spec, registry, device)
    configs = [job.config_for(seed) for seed in seeds]
    models = [experiment.build(seed) for seed in seeds]
    plan = batch_plan(models[0])
    if plan is not None:
        progress = (lambda epoch: on_progress(len(seeds))) if on_progress else None
        trainer = BatchedTrainer(plan, models, experiment.data, configs, progress, should_stop)
        fits, stacked = trainer.fit()
        for k, model in enumerate(models):
            model.load_state_dict(stacked.state_dict(k))
    else:
        progress = (lambda epoch, loss: on_progress(1)) if on_progress else None
        fits = [
            Trainer(
                model, experiment.data, config, on_progress=progress, should_stop=should_stop
            ).fit()
            for config, model in zip(configs, models)
        ]
    if any(fit.stopped_at is not None for fit in fits):
        raise Stopped
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
        experiment.split.features,
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


def _merge(job: Job, parts: Sequence[JobResult]) -> JobResult:
    """One job's chunks as one result, its seeds in the job's order."""
    order = {seed: position for position, seed in enumerate(job.seeds)}
    seeds = sorted(
        (
            (record, history, state)
            for p in parts
            for record, history, state in zip(
                p.records, p.histories, p.states or [None] * len(p.records)
            )
        ),
        key=lambda item: order[item[0]["seed"]],
    )
    first = parts[0]
    return JobResult(
        job,
        [record for record, _, _ in seeds],
        [history for _, history, _ in seeds],
        [state for _, _, state in seeds if state is not None],
        first.batched,
        sum(p.seconds for p in parts),
        first.features,
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
    keep: Callable[[int, JobResult], None],
    should_stop: Callable[[], bool] | None,
) -> None:
    import multiprocessing

    context = multiprocessing.get_context("fork")
    counters = context.RawArray("d", len(chunks))  # each chunk writes its own slot
    _WORKER.update(jobs=jobs, chunks=chunks, registry=registry, counters=counters)
    try:
        with context.Pool(workers, initializer=_start_worker) as pool:
            results = pool.imap_unordered(_run_chunk, range(len(chunks)))
            for _ in chunks:
                while True:
                    if should_stop is not None and should_stop():
                        pool.terminate()  # the chunks still training are lost, the rest kept
                        raise Stopped
                    if on_progress is not None:
                        on_progress(sum(counters) / total)
                    try:
                        index, part = results.next(timeout=0.1)
                        break
                    except multiprocessing.TimeoutError:
                        continue
                keep(chunks[index][0], _unpack(part))
    finally:
        _WORKER.clear()


def _start_worker() -> None:
    torch.set_num_threads(1)  # one core per process; before any parallel work in the child
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's handler: terminate() kills


def _run_chunk(index: int) -> tuple[int, JobResult]:
    job_index, seeds = _WORKER["chunks"][index]
    counters = _WORKER["counters"]

    def advance(units: float) -> None:
        counters[index] += units

    result = run_seeds(_WORKER["jobs"][job_index], seeds, _WORKER["registry"], advance)
    result.states = [{k: v.numpy() for k, v in state.items()} for state in result.states]
    return index, result


def _unpack(result: JobResult) -> JobResult:
    result.states = [{k: torch.from_numpy(v) for k, v in s.items()} for s in result.states]
    return result


def worker_count(jobs: Sequence[Job], requested: int | None = None) -> int:
    """Processes to use: ``requested``, else one per usable CPU core for CPU-only work."""
    if requested is not None:
        return max(1, requested)
    import os

    if any(resolve_device(job.config.device).type != "cpu" for job in jobs):
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
                record |= {
                    "epochs": None,
                    "device": "cpu",
                    "status": "completed",
                    "task": experiment.task.name,
                    "run_dir": None,
                }
                records.append(record)
            seconds = time.perf_counter() - start
            results.append(
                JobResult(
                    job,
                    records,
                    [[] for _ in records],
                    [],
                    False,
                    seconds,
                    experiment.split.features,
                )
            )
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


def _summary_row(
    records: Sequence[dict[str, Any]], seconds: float, batched: bool
) -> dict[str, Any]:
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
