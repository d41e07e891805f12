"""Training a comparison's seeds: each job's seeds in chunks, together where the model allows.

Every seed trains exactly as ``zoo train`` would train it: the same loss, optimizer, split and
seeding, so a compared seed equals its solo run. The seeds of one model train together where
the model allows it (see :mod:`zoo.batched`); chunks run in worker processes when more than
one CPU core is free (see :mod:`zoo.comparison.workers`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

import torch

from zoo.batched.batch_plan import batch_plan
from zoo.batched.batched_trainer import BatchedTrainer
from zoo.comparison.plan import Job
from zoo.training.experiment import Experiment, TensorSplit
from zoo.training.records import FitResult, LogRow, Progress, RunSummary
from zoo.training.trainer import Trainer

Weights = dict[str, torch.Tensor]
T = TypeVar("T")
Member = tuple[int, int]  # (job index, seed)


@dataclass(frozen=True)
class JobResult:
    """What some or all seeds of one job gave."""

    job: Job
    records: list[RunSummary]  # one per seed
    histories: list[list[LogRow]]
    states: list[Weights]  # each seed's final weights, on the CPU (none for baselines)
    batched: bool
    seconds: float  # training time of all its seeds (batched: the shared loop's time)
    features: int  # columns of the data: only two can be drawn
    baseline: bool = False  # scikit-learn's rows, not a zoo model
    failure: str | None = None  # why a baseline could not be fitted (then no records)
    name: str | None = None  # a failed baseline's row name


@dataclass(frozen=True)
class Chunk:
    """Members trained together: seeds of jobs that differ at most in optimizer numbers,
    grouped by job."""

    members: tuple[Member, ...]

    def jobs(self) -> list[int]:
        return list(dict.fromkeys(job for job, _ in self.members))

    def units(self, jobs: Sequence[Job]) -> int:
        """Seed-epochs: the unit of a comparison's progress."""
        return sum(jobs[job].config.epochs for job, _ in self.members)


class Stopped(Exception):
    """A stop was requested mid-comparison; the chunks finished so far were kept."""


def plan_chunks(
    jobs: Sequence[Job], finished: dict[int, list[JobResult]], workers: int
) -> list[Chunk]:
    """The members not yet in ``finished``: jobs that can share a stack share one, split
    into at most ``workers`` chunks per stack."""
    stacks: dict[str, list[Member]] = {}
    for index, job in enumerate(jobs):
        done = {r.seed for part in finished.get(index, []) for r in part.records}
        left = [(index, seed) for seed in job.seeds if seed not in done]
        stacks.setdefault(job.stack_key(), []).extend(left)
    return [
        Chunk(part) for members in stacks.values() for part in split_seeds(members, workers) if part
    ]


def run_chunks(
    jobs: Sequence[Job],
    chunks: Sequence[Chunk],
    keep: Callable[[int, JobResult], None],
    on_progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> None:
    """Train ``chunks`` one after another in this process; ``keep`` receives each result."""
    total = sum(chunk.units(jobs) for chunk in chunks)
    done = 0
    for chunk in chunks:

        def advance(units: int, _: int, before: int = done) -> None:
            if on_progress is not None:
                on_progress(before + units, total)

        for index, part in run_chunk(jobs, chunk, advance, should_stop):
            keep(index, part)
        done += chunk.units(jobs)


def run_chunk(
    jobs: Sequence[Job],
    chunk: Chunk,
    on_progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> list[tuple[int, JobResult]]:
    """Train a chunk's members: together when the model allows, else one after another.

    Returns each job's part, by job index. ``on_progress`` gets (seed-epochs done,
    seed-epochs in all) of this chunk.
    """
    members = chunk.members
    configs = [jobs[job].config_for(seed) for job, seed in members]
    experiments = [jobs[job].experiment_for(seed) for job, seed in members]
    models = [e.build(c.seed) for e, c in zip(experiments, configs)]
    data = stacked_data(experiments)
    plan = batch_plan(models[0])
    fits: list[FitResult]
    if plan is not None:
        trainer = BatchedTrainer(
            plan,
            models,
            data,
            configs,
            exact=jobs[members[0][0]].exact,
            on_progress=_scaled(on_progress, len(members), None),
            should_stop=should_stop,
        )
        fits, stacked = trainer.fit()
        for k, model in enumerate(models):
            model.load_state_dict(stacked.state_dict(k))
    else:
        fits = []
        for position, (config, model) in enumerate(zip(configs, models)):
            progress = _scaled(on_progress, len(members), position)
            own = experiments[position].data
            solo = Trainer(model, own, config, on_progress=progress, should_stop=should_stop)
            fits.append(solo.fit())
    if any(fit.stopped_at is not None for fit in fits):
        raise Stopped
    return [
        (index, _job_result(jobs[index], index, members, models, fits, plan is not None))
        for index in chunk.jobs()
    ]


def stacked_data(experiments: Sequence[Experiment]) -> TensorSplit:
    """The members' data: the split they all share, or each member's own split stacked
    ([K, N, F] features, [K, N] targets). A dataset split with other seeds holds other rows
    but as many of them, so the shapes agree and the members still train as one stack."""
    if all(e.split is experiments[0].split for e in experiments):
        return experiments[0].data
    splits = [e.data for e in experiments]
    names = ("X_train", "y_train", "X_test", "y_test", "X_val", "y_val")
    present = [name for name in names if getattr(splits[0], name) is not None]
    stacked = {name: torch.stack([getattr(s, name) for s in splits]) for name in present}
    return TensorSplit(splits[0].task, **stacked)


def _job_result(
    job: Job,
    index: int,
    members: Sequence[Member],
    models: Sequence[torch.nn.Module],
    fits: Sequence[FitResult],
    batched: bool,
) -> JobResult:
    """Job ``index``'s part of a chunk: its own members' records, histories and weights."""
    own = [k for k, (j, _) in enumerate(members) if j == index]
    return JobResult(
        job,
        [_record(job, models[k], fits[k], members[k][1]) for k in own],
        [fits[k].history for k in own],
        [{n: v.detach().cpu() for n, v in models[k].state_dict().items()} for k in own],
        batched,
        sum(fits[k].seconds for k in own),
        job.experiment.split.features,
    )


def _scaled(on_progress: Progress | None, count: int, position: int | None) -> Progress | None:
    """A trainer's (epochs done, epochs) as seed-epochs of a chunk of ``count`` seeds: all
    of them at once (``position`` None), or the ``position``-th after the ones before."""
    if on_progress is None:
        return None
    report = on_progress

    def progress(epoch: int, epochs: int) -> None:
        if position is None:
            report(epoch * count, epochs * count)
        else:
            report(position * epochs + epoch, count * epochs)

    return progress


def _record(job: Job, model: torch.nn.Module, fit: FitResult, seed: int) -> RunSummary:
    """A seed's summary, under the name the comparison was asked for; ``seed`` is the
    comparison's (the rows are paired on it)."""
    return replace(job.experiment_for(seed).summary(model, fit, seed), model=job.model)


def split_seeds(seeds: Sequence[T], parts: int) -> list[tuple[T, ...]]:
    """``seeds`` (or members) in at most ``parts`` nearly equal, consecutive chunks."""
    parts = max(1, min(parts, len(seeds)))
    size, extra = divmod(len(seeds), parts)
    chunks, start = [], 0
    for index in range(parts):
        end = start + size + (index < extra)
        chunks.append(tuple(seeds[start:end]))
        start = end
    return chunks


def merge(job: Job, parts: Sequence[JobResult]) -> JobResult:
    """One job's chunks as one result, its seeds in the job's order."""
    order = {seed: position for position, seed in enumerate(job.seeds)}
    no_states: list[Weights | None] = [None] * sum(len(p.records) for p in parts)
    seeds = sorted(
        (
            (record, history, state)
            for p in parts
            for record, history, state in zip(p.records, p.histories, p.states or no_states)
        ),
        key=lambda item: order[item[0].seed],
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
