"""Running a comparison from its request to its report: plan, train, summarise, keep."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zoo.comparison.execute import JobResult, Progress, Stopped, merge, plan_chunks, run_chunks
from zoo.comparison.plan import Job, expand_models, plan_jobs, seed_list
from zoo.comparison.store import ComparisonFolder
from zoo.comparison.summary import Comparison, summarise
from zoo.comparison.workers import run_in_processes, worker_count
from zoo.config.listing import model_entries
from zoo.config.resolve import resolve
from zoo.config.setup import open_zoo
from zoo.errors import ConfigError, TrainingInterrupted
from zoo.runs.folder import claim_run_dir
from zoo.runs.lock import hold
from zoo.training.interrupts import StopRequests

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class Request:
    """What a comparison was asked for: kept in an ``--out`` folder to resume it."""

    models: list[str]
    datasets: list[str] | None
    seeds: list[int]
    target: float
    baselines: bool
    settings: dict[str, Any]
    registry: str | None

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def compare(
    models: Sequence[str],
    *,
    datasets: Sequence[str] | None = None,
    seeds: int | None = None,
    seed_values: Sequence[int] | None = None,
    target: float = 99.0,
    baselines: bool = False,
    workers: int | None = None,
    out: PathLike | None = None,
    registry: PathLike | None = None,
    on_progress: Progress | None = None,
    overrides: dict[str, Any] | None = None,
) -> Comparison:
    """See :func:`zoo.compare`: names and settings in, a finished comparison out."""
    plugins, catalogue = open_zoo(registry)
    entries = model_entries(plugins, catalogue)
    names = expand_models(list(models), [(e.name, e.qualified_name) for e in entries])
    if not names:
        raise ConfigError("name at least one model to compare")
    settings = {k: v for k, v in (overrides or {}).items() if v is not None}
    first_seed = resolve(names[0], plugins, catalogue, settings)[0].seed
    seeds_used = seed_list(seeds, seed_values, first_seed)
    settings.pop("seed", None)
    request = Request(
        names,
        list(datasets) if datasets else None,
        seeds_used,
        target,
        baselines,
        settings,
        str(registry) if registry is not None else None,
    )
    jobs = plan_jobs(names, request.datasets, seeds_used, plugins, catalogue, settings)
    if out is None:
        return _run(jobs, request, workers, on_progress, None, {})
    path = claim_run_dir(out)
    with hold(path):  # the folder's only writer until the report is written
        folder = ComparisonFolder(path)
        folder.start(request.to_dict())
        return _run(jobs, request, workers, on_progress, folder, {})


def resume_comparison(
    path: PathLike, *, workers: int | None = None, on_progress: Progress | None = None
) -> Comparison:
    """See :func:`zoo.resume_comparison`: only the seeds the folder lacks are trained."""
    folder = ComparisonFolder(Path(path))
    with hold(folder.path):  # before anything is read: another writer may be mid-file
        request = Request(**folder.request())
        plugins, catalogue = open_zoo(request.registry)
        jobs = plan_jobs(
            request.models, request.datasets, request.seeds, plugins, catalogue, request.settings
        )
        return _run(jobs, request, workers, on_progress, folder, folder.load(jobs))


def _run(
    jobs: list[Job],
    request: Request,
    workers: int | None,
    on_progress: Progress | None,
    folder: ComparisonFolder | None,
    finished: dict[int, list[JobResult]],
) -> Comparison:
    with StopRequests() as stop:
        try:
            results = _train(jobs, worker_count(jobs, workers), finished, folder, on_progress, stop)
        except Stopped:
            raise TrainingInterrupted(_stopped_message(folder), stop.exit_status) from None
    if request.baselines:
        from zoo.comparison.baselines import run_baselines

        results += run_baselines(jobs)
    comparison = summarise(results, request.target)
    if folder is not None:
        save_comparison(comparison, folder.path)
    return comparison


def _train(
    jobs: list[Job],
    workers: int,
    finished: dict[int, list[JobResult]],
    folder: ComparisonFolder | None,
    on_progress: Progress | None,
    should_stop: Callable[[], bool],
) -> list[JobResult]:
    """Every job's seeds not yet ``finished``; each new chunk is saved as it completes."""
    chunks = plan_chunks(jobs, finished, workers)
    parts: dict[int, list[JobResult]] = {i: list(finished.get(i, [])) for i in range(len(jobs))}

    def keep(index: int, part: JobResult) -> None:
        parts[index].append(part)
        if folder is not None:
            folder.save(index, part)

    if workers <= 1 or len(chunks) <= 1:
        run_chunks(jobs, chunks, keep, on_progress, should_stop)
    else:
        run_in_processes(jobs, chunks, workers, keep, on_progress, should_stop)
    return [merge(job, parts[index]) for index, job in enumerate(jobs)]


def _stopped_message(folder: ComparisonFolder | None) -> str:
    if folder is None:
        return "stopped; nothing was kept (with --out DIR, finished seeds are)"
    return (
        f"stopped; the seeds finished so far are kept in {folder.path}; "
        f"go on with: zoo compare --resume {folder.path}"
    )


def save_comparison(comparison: Comparison, path: PathLike, *, plot: bool = False) -> None:
    """Write a comparison's results and summary (and picture) into ``path``, each atomically."""
    from zoo.comparison import report
    from zoo.runs.files import write_atomic

    directory = Path(path)
    directory.mkdir(parents=True, exist_ok=True)
    files = {
        "results.json": report.render(comparison, "json"),
        "results.csv": report.results_csv(comparison),
        "summary.csv": report.summary_csv(comparison),
        "summary.md": report.markdown(comparison),
    }
    for name, text in files.items():
        write_atomic(directory / name, text.encode())
    if plot:
        plot_comparison(comparison, directory / "boundaries.png")


def plot_comparison(comparison: Comparison, path: PathLike) -> None:
    """One PNG: each compared model's boundary (its first seed) over its test points."""
    from zoo.runs.plotting import save_boundaries

    panels = []
    for result in comparison.drawable():
        job, experiment = result.job, result.job.experiment
        model = experiment.build(job.seeds[0])
        model.load_state_dict(result.states[0])
        row = comparison.row_of(job.model, job.dataset)
        title = (
            f"{job.model} on {job.dataset}: {row.test_acc.mean:.1f}% test\n"
            f"(mean of {len(job.seeds)} seeds; seed {job.seeds[0]} shown)"
        )
        split = experiment.split
        panels.append((title, model, experiment.task, split.X_test, split.y_test))
    if not panels:
        raise ConfigError("no compared model has two-feature data to draw")
    columns = min(4, len({p[0].split(" on ")[0] for p in panels}))
    save_boundaries(Path(path), panels, columns=max(1, columns))
