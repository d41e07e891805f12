"""A comparison's events: each compared seed as a run of its own, told from this process.

Workers (processes or Ray tasks) train and send back each chunk's records and histories; the
events of a seed are sent here, in the process that runs the comparison, when its chunk's
results arrive (:meth:`ComparisonEvents.seeds`), so no worker needs a logger's state. Between
``on_comparison_start`` and ``on_comparison_end``, every trained seed sends
``on_run_start``, its log points, ``on_run_stopped`` if it diverged, and ``on_run_end``.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import MappingProxyType
from typing import Any

from zoo.comparison.execute import JobResult
from zoo.comparison.plan import Job
from zoo.errors import TrainingInterrupted, describe_exception
from zoo.hookspecs import ComparisonInfo
from zoo.plugins.events import Events
from zoo.runs.run_events import RunEvents, run_info


def comparison_info(
    models: Sequence[str],
    jobs: Sequence[Job],
    seeds: Sequence[int],
    settings: dict[str, Any],
    out_dir: Path | None,
) -> ComparisonInfo:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return ComparisonInfo(
        id=f"compare-{stamp}-{secrets.token_hex(3)}",
        models=tuple(models),
        datasets=tuple(dict.fromkeys(job.dataset for job in jobs)),
        seeds=tuple(seeds),
        settings=MappingProxyType(dict(settings)),
        out_dir=out_dir,
    )


class ComparisonEvents:
    """The events of one comparison, through the command's :class:`Events`."""

    def __init__(self, events: Events, comparison: ComparisonInfo) -> None:
        self.events, self.comparison = events, comparison

    def seeds(self, part: JobResult) -> None:
        """Every seed of a finished chunk's part, as a run: start, log points, end."""
        job = part.job
        for record, history in zip(part.records, part.histories):
            config = job.config_for(record.seed)
            info = run_info(config, None, label=job.label, comparison=self.comparison)
            run = RunEvents(self.events, info)
            run.start()
            for row in history:
                run.log_point(row)
            if record.status == "diverged":
                run.stopped(
                    "diverged",
                    f"training diverged: the loss was not finite; the weights of epoch "
                    f"{record.epochs} were kept",
                )
            run.end(record.to_dict(), history)

    @contextmanager
    def running(self) -> Iterator[ComparisonEvents]:
        """Start the comparison; tell its end, early (with why) or not."""
        self.events.emit("on_comparison_start", comparison=self.comparison)
        try:
            yield self
        except (TrainingInterrupted, KeyboardInterrupt) as exc:
            self._end("interrupted", str(exc) or "stopped at once (asked twice)")
            raise
        except BaseException as exc:
            self._end("failed", describe_exception(exc))
            raise
        self._end("finished", None)

    def _end(self, status: str, message: str | None) -> None:
        self.events.emit(
            "on_comparison_end", comparison=self.comparison, status=status, message=message
        )
