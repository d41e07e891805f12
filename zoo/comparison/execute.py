"""Training a comparison's seeds: each job's seeds in chunks, together where the model allows.

Every seed trains exactly as ``zoo train`` would train it: the same loss, optimizer, split and
seeding, so a compared seed equals its solo run. The seeds of one model train together where
the model allows it (see :mod:`zoo.batched`); chunks run in worker processes when more than
one CPU core is free (see :mod:`zoo.comparison.workers`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import torch

from zoo.batched.plan import batch_plan
from zoo.batched.trainer import BatchedTrainer
from zoo.comparison.plan import Job
from zoo.training.records import FitResult, LogRow, RunSummary
from zoo.training.trainer import Trainer

Weights = dict[str, torch.Tensor]
# Progress of a comparison: (units done, units in all), a unit being one seed's epoch.
Progress = Callable[[int, int], None]
Chunk = tuple[int, tuple[int, ...]]  # (job index, seeds)


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


class Stopped(Exception):
    """A stop was requested mid-comparison; the chunks finished so far were kept."""


def plan_chunks(
    jobs: Sequence[Job], finished: dict[int, list[JobResult]], workers: int
) -> list[Chunk]:
    """Each job's seeds not yet in ``finished``, in at most ``workers`` chunks per job."""
    chunks = []
    for index, job in enumerate(jobs):
        done = {r.seed for part in finished.get(index, []) for r in part.records}
        left = tuple(seed for seed in job.seeds if seed not in done)
        chunks += [(index, chunk) for chunk in split_seeds(left, workers) if chunk]
    return chunks


def run_chunks(
    jobs: Sequence[Job],
    chunks: Sequence[Chunk],
    keep: Callable[[int, JobResult], None],
    on_progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> None:
    """Train ``chunks`` one after another in this process; ``keep`` receives each result."""
    total = sum(jobs[i].config.epochs * len(seeds) for i, seeds in chunks)
    done = 0
    for index, seeds in chunks:

        def advance(units: int, _: int, before: int = done) -> None:
            if on_progress is not None:
                on_progress(before + units, total)

        keep(index, run_seeds(jobs[index], seeds, advance, should_stop))
        done += jobs[index].config.epochs * len(seeds)


def run_seeds(
    job: Job,
    seeds: Sequence[int],
    on_progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> JobResult:
    """Train ``seeds`` of ``job``: together when the model allows, else one after another.

    ``on_progress`` gets (seed-epochs done, seed-epochs in all) of this chunk.
    """
    experiment = job.experiment
    configs = [job.config_for(seed) for seed in seeds]
    models = [experiment.build(seed) for seed in seeds]
    plan = batch_plan(models[0])
    fits: list[FitResult]
    if plan is not None:
        trainer = BatchedTrainer(
            plan,
            models,
            experiment.data,
            configs,
            on_progress=_scaled(on_progress, len(seeds), None),
            should_stop=should_stop,
        )
        fits, stacked = trainer.fit()
        for k, model in enumerate(models):
            model.load_state_dict(stacked.state_dict(k))
    else:
        fits = []
        for position, (config, model) in enumerate(zip(configs, models)):
            progress = _scaled(on_progress, len(seeds), position)
            solo = Trainer(
                model, experiment.data, config, on_progress=progress, should_stop=should_stop
            )
            fits.append(solo.fit())
    if any(fit.stopped_at is not None for fit in fits):
        raise Stopped
    return JobResult(
        job,
        [_record(job, model, fit, seed) for seed, model, fit in zip(seeds, models, fits)],
        [fit.history for fit in fits],
        [{k: v.detach().cpu() for k, v in m.state_dict().items()} for m in models],
        plan is not None,
        sum(fit.seconds for fit in fits),
        experiment.split.features,
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
    """A seed's summary, under the name the comparison was asked for."""
    return replace(job.experiment.summary(model, fit, seed), model=job.model)


def split_seeds(seeds: Sequence[int], parts: int) -> list[tuple[int, ...]]:
    """``seeds`` in at most ``parts`` nearly equal, consecutive chunks."""
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
