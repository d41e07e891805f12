"""Running a comparison from its request to its report: plan, train, summarise, keep."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from zoo.comparison.cluster import Connection, HeadLost, check_cluster
from zoo.comparison.comparison_events import ComparisonEvents, comparison_info
from zoo.comparison.execute import JobResult, Stopped, merge, plan_chunks, run_chunks
from zoo.comparison.grid import check_grid
from zoo.comparison.plan import Job, Request, check_vary, expand_models, plan_jobs, seed_list
from zoo.comparison.store import ComparisonFolder
from zoo.comparison.summary import Comparison, summarise
from zoo.comparison.workers import run_in_processes, worker_count
from zoo.config.checks import open_zoo
from zoo.config.layers import Catalogues, user_paths
from zoo.config.model_entries import model_entries
from zoo.config.resolve import resolve
from zoo.errors import ClusterError, ConfigError, TrainingInterrupted
from zoo.plugins.events import Events
from zoo.plugins.loaded import Plugins
from zoo.runs.folder import claim_run_dir
from zoo.runs.lock import hold
from zoo.runs.run_events import open_events
from zoo.training.interrupts import StopRequests
from zoo.training.records import Progress

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class Launch:
    """Where and how a comparison's seeds train, and who hears of them: not part of what
    was asked, so never kept (a resumed comparison may train elsewhere)."""

    workers: int | None = None  # processes (--jobs), or chunks per stack on Ray
    on_progress: Progress | None = None
    cluster: str | None = None
    cluster_address: str | None = None
    loggers: Sequence[Any] | None = None


def compare(request: Request, launch: Launch, out: PathLike | None = None) -> Comparison:
    """See :func:`zoo.compare`: a request in, a finished comparison out."""
    check_cluster(launch.cluster, launch.cluster_address)
    plugins, catalogue = open_zoo(request.registry)
    request = planned_request(request, plugins, catalogue)
    jobs = plan_jobs(request, plugins, catalogue)
    events = open_events(launch.loggers)
    with backend(jobs, launch) as where:  # before any file
        if out is None:
            return _run(jobs, request, where, launch.on_progress, None, {}, events)
        path = claim_run_dir(out)
        with hold(path):  # the folder's only writer until the report is written
            folder = ComparisonFolder(path)
            folder.start(request.to_dict())
            return _run(jobs, request, where, launch.on_progress, folder, {}, events)


def planned_request(request: Request, plugins: Plugins, catalogue: Catalogues) -> Request:
    """``request`` checked, its wildcards expanded and its seeds listed: what is kept."""
    settings = _checked(request.settings, request.exact, request.reach)
    sources = list(check_vary(request.vary))
    swept = check_grid(request.grid, settings)
    entries = model_entries(plugins, catalogue)
    names = expand_models(list(request.models), [(e.name, e.qualified_name) for e in entries])
    if not names:
        raise ConfigError("name at least one model to compare")
    first_seed = resolve(names[0], plugins, catalogue, settings)[0].seed
    seeds = seed_list(request.seeds, first_seed)
    settings.pop("seed", None)
    return replace(
        request,
        models=names,
        datasets=list(request.datasets) if request.datasets else None,
        seeds=seeds,
        settings=settings,
        registry=[str(path) for path in user_paths(request.registry)] or None,
        grid=swept,
        vary=sources,
    )


def resume_comparison(path: PathLike, launch: Launch) -> Comparison:
    """See :func:`zoo.resume_comparison`: only the seeds the folder lacks are trained."""
    check_cluster(launch.cluster, launch.cluster_address)
    folder = ComparisonFolder(Path(path))
    with hold(folder.path):  # before anything is read: another writer may be mid-file
        request, jobs = kept_plan(folder)
        finished = folder.load(jobs)
        events = open_events(launch.loggers)
        with backend(jobs, launch) as where:
            folder.tidy()  # everything was checked: the folder may change now
            return _run(jobs, request, where, launch.on_progress, folder, finished, events)


def kept_plan(folder: ComparisonFolder) -> tuple[Request, list[Job]]:
    """The request kept in ``folder``'s compare.json and its jobs, planned again exactly as
    :func:`compare` planned them: the one way back from a folder (resume, report, anything)."""
    request = Request(**folder.request())
    request = replace(request, grid=check_grid(request.grid, request.settings))
    plugins, catalogue = open_zoo(request.registry)
    return request, plan_jobs(request, plugins, catalogue)


def _checked(overrides: dict[str, Any] | None, exact: Any, reach: Any) -> dict[str, Any]:
    """The settings given (None: not given), with ``exact`` and ``reach`` checked first."""
    if exact is not None and not isinstance(exact, bool):
        raise ConfigError(f"exact: must be True, False or None (the default), got {exact!r}")
    check_reach(reach)
    settings = {k: v for k, v in (overrides or {}).items() if v is not None}
    if "target" in settings:  # compare's accuracy was called target; now target is a column
        settings = _label_column(settings)
    return settings


def _label_column(settings: dict[str, Any]) -> dict[str, Any]:
    """``target=`` as a CSV file's label column, as ``--target`` is; a number was the old
    accuracy to reach, now ``reach=``."""
    found = dict(settings)
    target = found.pop("target")
    if isinstance(target, (int, float)) and not isinstance(target, bool):
        raise ConfigError(
            f"target: names a CSV file's label column; the test accuracy to reach is "
            f"reach={target!r} (a column by number: dataset_params={{'target': {target!r}}})"
        )
    found["dataset_params"] = {**found.get("dataset_params", {}), "target": target}
    return found


def check_reach(reach: Any) -> None:
    """A percentage, or one line that says what it must be."""
    if isinstance(reach, bool) or not isinstance(reach, (int, float)) or not 0 <= reach <= 100:
        raise ConfigError(f"reach: must be a test accuracy in percent, 0 to 100, got {reach!r}")


@dataclass(frozen=True)
class Backend:
    """Where a comparison's chunks train: processes here, or tasks on a Ray cluster."""

    workers: int  # chunks per stack of jobs
    cluster: Connection | None = None  # Ray, connected


@contextmanager
def backend(jobs: Sequence[Job], launch: Launch) -> Iterator[Backend]:
    """This machine's worker processes, or a Ray connection for the comparison's length."""
    workers = launch.workers
    if launch.cluster is None:
        yield Backend(worker_count(jobs, workers))
        return
    from zoo.comparison.cluster import chunks_per_stack, connected

    with connected(launch.cluster_address) as connection:
        devices = {job.experiment.device.type for job in jobs}
        parts = chunks_per_stack(connection.ray.cluster_resources(), devices)  # GPU work?
        yield Backend(max(1, workers) if workers is not None else parts, connection)


def _run(
    jobs: list[Job],
    request: Request,
    where: Backend,
    on_progress: Progress | None,
    folder: ComparisonFolder | None,
    finished: dict[int, list[JobResult]],
    events: Events,
) -> Comparison:
    out_dir = folder.path if folder is not None else None
    info = comparison_info(request.models, jobs, request.seed_values(), request.settings, out_dir)
    with ComparisonEvents(events, info).running() as told:
        # Ray connects before the handlers are set: its own SIGTERM handler would replace ours.
        with StopRequests() as stop:
            try:
                results = _train(jobs, where, finished, folder, on_progress, stop, told.seeds)
            except Stopped:
                raise TrainingInterrupted(_stopped_message(folder), stop.exit_status) from None
            except HeadLost as exc:
                raise ClusterError(f"{exc}; {_kept(folder)}") from None
        if request.baselines:
            from zoo.comparison.baselines import run_baselines

            results += run_baselines(jobs)
        comparison = summarise(results, request.reach, request.grid, request.sources())
        comparison = replace(comparison, inputs=comparison_inputs(jobs, request, folder))
        if folder is not None:
            save_comparison(comparison, folder.path, own=True)
        return comparison


def _train(
    jobs: list[Job],
    where: Backend,
    finished: dict[int, list[JobResult]],
    folder: ComparisonFolder | None,
    on_progress: Progress | None,
    should_stop: Callable[[], bool],
    tell: Callable[[JobResult], None],
) -> list[JobResult]:
    """Every job's seeds not yet ``finished``; each new chunk is saved as it completes, then
    its seeds are told to the event hooks (``tell``)."""
    chunks = plan_chunks(jobs, finished, where.workers)
    parts: dict[int, list[JobResult]] = {i: list(finished.get(i, [])) for i in range(len(jobs))}

    def keep(index: int, part: JobResult) -> None:
        parts[index].append(part)
        if folder is not None:
            folder.save(index, part)
        tell(part)

    if where.cluster is not None:
        from zoo.comparison.cluster import run_on_ray

        run_on_ray(where.cluster, jobs, chunks, keep, on_progress, should_stop)
    elif where.workers <= 1 or len(chunks) <= 1:
        run_chunks(jobs, chunks, keep, on_progress, should_stop)
    else:
        run_in_processes(jobs, chunks, where.workers, keep, on_progress, should_stop)
    return [merge(job, parts[index]) for index, job in enumerate(jobs)]


def comparison_inputs(
    jobs: Sequence[Job], request: Request, folder: ComparisonFolder | None
) -> tuple[str, ...]:
    """The files a comparison was made from: what none of its outputs may replace."""
    paths = [job.config.dataset_params.get("path") for job in jobs]
    found = [path for path in paths if isinstance(path, str)]
    found += [str(path) for path in user_paths(request.registry)]
    if folder is not None:  # its results.json too, once written
        found += [str(path) for path in [*folder.files(), folder.path / folder.RESULTS]]
    return tuple(dict.fromkeys(found))


def _stopped_message(folder: ComparisonFolder | None) -> str:
    return f"stopped; {_kept(folder)}"


def _kept(folder: ComparisonFolder | None) -> str:
    """What a comparison that ended early kept, and how to finish it."""
    if folder is None:
        return "nothing was kept (with --out DIR, finished seeds are)"
    return (
        f"the seeds finished so far are kept in {folder.path}; "
        f"go on with: zoo compare --resume {folder.path}"
    )


def save_comparison(
    comparison: Comparison, path: PathLike, *, plot: bool = False, own: bool = False
) -> None:
    """Write a comparison's results and summary (and picture) into ``path``, each by the
    rules of every output (:mod:`zoo.runs.outputs`); ``own``: the comparison's own ``--out``
    folder, where a link planted in a file's place is replaced, never followed."""
    from zoo.comparison import report
    from zoo.comparison.card import comparison_card
    from zoo.runs.outputs import write_output

    directory = Path(path)
    directory.mkdir(parents=True, exist_ok=True)
    files = {
        "results.json": report.render(comparison, "json"),
        "results.csv": report.results_csv(comparison),
        "summary.csv": report.summary_csv(comparison),
        "summary.md": report.markdown(comparison),
        "README.md": comparison_card(comparison),  # the model card of every row
    }
    written = {os.path.abspath(directory / name) for name in files}  # its own, to replace
    inputs = [path for path in comparison.inputs if os.path.abspath(path) not in written]
    for name, text in files.items():
        write_output(directory / name, text.encode(), inputs=inputs, what=name, follow=not own)
    if plot:
        from zoo.comparison.pictures import picture_name

        plot_comparison(comparison, directory / picture_name(comparison), follow=not own)


def plot_comparison(comparison: Comparison, path: PathLike, *, follow: bool = True) -> None:
    """One PNG: each compared model's boundary (its first seed) over its test points, or for
    a sweep, test accuracy against each swept setting."""
    from zoo.comparison.pictures import figure
    from zoo.runs.figures import png
    from zoo.runs.outputs import write_output

    picture = png(figure(comparison))
    write_output(path, picture, inputs=comparison.inputs, what="picture", follow=follow)
