"""Chunks of a comparison trained in worker processes, one per free CPU core.

Workers are forked: they inherit the loaded plugins and the prepared jobs, and start in
milliseconds instead of importing torch again. Each trains on one thread and reports its
progress through a shared counter.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import signal
from collections.abc import Callable, Sequence
from typing import Any

import torch

from zoo.comparison.execute import Chunk, JobResult, Progress, Stopped, run_chunk
from zoo.comparison.plan import Job
from zoo.training.devices import resolve_device

_WORKER: dict[str, Any] = {}  # what a forked worker inherits: the jobs, chunks and counters


def worker_count(jobs: Sequence[Job], requested: int | None = None) -> int:
    """Processes to use: ``requested``, else one per usable CPU core for CPU-only work."""
    if requested is not None:
        return max(1, requested)
    if any(resolve_device(job.config.device).type != "cpu" for job in jobs):
        return 1  # accelerators stay in this process
    if not hasattr(os, "fork"):
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, cores or 1)


def run_in_processes(
    jobs: Sequence[Job],
    chunks: Sequence[Chunk],
    workers: int,
    keep: Callable[[int, JobResult], None],
    on_progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> None:
    """Train ``chunks`` in ``workers`` processes; ``keep`` receives each result as it comes.

    A stop request terminates the workers: the chunks still training are lost, the rest kept.
    """
    context = multiprocessing.get_context("fork")
    counters = context.RawArray("d", len(chunks))  # each chunk writes its own slot
    total = sum(chunk.units(jobs) for chunk in chunks)
    _WORKER.update(jobs=jobs, chunks=chunks, counters=counters)
    try:
        with context.Pool(workers, initializer=_start_worker) as pool:
            results = pool.imap_unordered(_run_chunk, range(len(chunks)))
            for _ in chunks:
                while True:
                    if should_stop is not None and should_stop():
                        pool.terminate()
                        raise Stopped
                    if on_progress is not None:
                        on_progress(int(sum(counters)), total)
                    try:
                        parts = results.next(timeout=0.1)
                        break
                    except multiprocessing.TimeoutError:
                        continue
                for job_index, part in parts:
                    keep(job_index, unpack(jobs[job_index], part))
    finally:
        _WORKER.clear()


def _start_worker() -> None:
    torch.set_num_threads(1)  # one core per process; before any parallel work in the child
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's handler: terminate() kills


def _run_chunk(index: int) -> list[tuple[int, dict[str, Any]]]:
    counters = _WORKER["counters"]

    def advance(done: int, _: int) -> None:
        counters[index] = done

    parts = run_chunk(_WORKER["jobs"], _WORKER["chunks"][index], advance)
    return [(job_index, pack(part)) for job_index, part in parts]


def pack(result: JobResult) -> dict[str, Any]:
    """A part without its job (the parent has it), weights as numpy arrays: plain pickles."""
    fields = {
        f.name: getattr(result, f.name) for f in dataclasses.fields(result) if f.name != "job"
    }
    fields["states"] = [{k: v.numpy() for k, v in state.items()} for state in result.states]
    return fields


def unpack(job: Job, fields: dict[str, Any]) -> JobResult:
    states = [{k: torch.from_numpy(v) for k, v in s.items()} for s in fields["states"]]
    return JobResult(job, **{**fields, "states": states})
