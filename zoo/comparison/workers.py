"""Chunks of a comparison trained in worker processes, one per free CPU core.

Workers are forked: they inherit the loaded plugins and the prepared jobs, and start in
milliseconds instead of importing torch again. Each trains on one thread and reports its
progress through a shared counter.
"""

from __future__ import annotations

import ctypes
import dataclasses
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import torch

from zoo.comparison.execute import Chunk, JobResult, Stopped, run_chunk
from zoo.comparison.plan import Job
from zoo.training.devices import resolve_device
from zoo.training.records import Progress

MOST_WORKERS = 256
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
_WORKER: dict[str, Any] = {}  # what a forked worker inherits: the jobs, chunks and counters


def worker_count(jobs: Sequence[Job], requested: int | None = None) -> int:
    """Processes to use: ``requested``, else one per usable CPU core for CPU-only work.

    Never more than :func:`most_workers` (``--jobs 100000`` must not fork 100,000 processes),
    nor more than the job's seeds: a chunk holds at least one seed, and a process no chunk.
    """
    seeds = sum(len(job.seeds) for job in jobs)
    if requested is not None:
        return max(1, min(requested, most_workers(), seeds))
    if any(resolve_device(job.config.device).type != "cpu" for job in jobs):
        return 1  # accelerators stay in this process
    if not hasattr(os, "fork"):
        return 1
    return max(1, min(usable_cores(), seeds))


def usable_cores() -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, cores or 1)


def most_workers() -> int:
    """The cap on worker processes: four per usable core, and never more than 256.

    Each worker trains on one thread, so more processes than cores only share them.
    """
    return min(MOST_WORKERS, 4 * usable_cores())


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
    workers = max(1, min(workers, len(chunks)))  # never an idle process
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
    _die_with_parent(os.getppid())
    torch.set_num_threads(1)  # one core per process; before any parallel work in the child
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's handler: terminate() kills


def _die_with_parent(parent: int) -> None:
    """End this worker as soon as the comparison's process ends, even by SIGKILL: an orphan
    would train on for nothing, then print BrokenPipe tracebacks.

    On Linux the kernel sends SIGKILL (``prctl(PR_SET_PDEATHSIG)``); elsewhere a thread
    watches for the parent to change."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0:
                if os.getppid() != parent:  # it died before the call: too late to be told
                    os._exit(1)
                return
        except (OSError, AttributeError):
            pass
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


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
