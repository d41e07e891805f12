"""A run's events: what training tells the event hooks (see :mod:`zoo.hookspecs`).

:func:`open_events` makes a command's :class:`~zoo.plugins.events.Events` (zoo's own history
writer, the installed plugins, the chosen loggers); :class:`RunEvents` sends one run's events
through it: the start, each log point (from the trainer's log callback, so nothing runs
between log points), the stop and the end. ``running()`` tells the hooks when an error or a
stop ends the run early.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import MappingProxyType
from typing import Any

from zoo.config.resolve import TrainConfig
from zoo.errors import TrainingDiverged, TrainingInterrupted, describe_exception
from zoo.hookspecs import ComparisonInfo, RunInfo
from zoo.plugins.events import Events, choose_loggers
from zoo.plugins.loader import load_plugins
from zoo.runs import logs
from zoo.training.records import LogRow


def open_events(loggers: Sequence[Any] | str | None = None) -> Events:
    """The event hooks of one command, ``loggers`` (names, or objects) made and checked
    first: an unknown name or a missing package is an error before anything trains."""
    plugins = load_plugins()
    return Events(plugins.manager, choose_loggers(loggers, plugins), own=[logs])


def run_info(
    config: TrainConfig,
    run_dir: Path | None,
    *,
    label: str | None = None,
    comparison: ComparisonInfo | None = None,
    start_epoch: int = 0,
) -> RunInfo:
    """The record every event of a run receives; ``label`` names a compared job."""
    name = f"{label or config.model} on {config.dataset}, seed {config.seed}"
    settings = MappingProxyType(config.settings())
    return RunInfo(
        name,
        config.model,
        config.dataset,
        config.seed,
        settings,
        run_dir,
        comparison,
        start_epoch,
    )


class RunEvents:
    """One run's events, in order: start, log points, (stopped), end."""

    def __init__(self, events: Events | None, run: RunInfo) -> None:
        self.events = events if events is not None else open_events()
        self.run = run
        self.stopped_with: str | None = None  # the reason given to on_run_stopped, if any
        self.ended = False

    def watch(self, on_log: Callable[[LogRow], None] | None) -> Callable[[LogRow], None] | None:
        """The trainer's log callback: ``on_log``, then the log-point event (if anything
        listens to it: else ``on_log`` alone, so a run without loggers pays nothing)."""
        if not self.events.wants("on_log_point"):
            return on_log

        def log_point(row: LogRow) -> None:
            if on_log is not None:
                on_log(row)
            self.log_point(row)

        return log_point

    def start(self) -> None:
        self.events.emit("on_run_start", run=self.run)

    def log_point(self, row: LogRow) -> None:
        metrics = row.to_dict()
        epoch = int(metrics.pop("epoch"))
        self.events.emit("on_log_point", run=self.run, epoch=epoch, metrics=metrics)

    def stopped(self, reason: str, message: str) -> None:
        if self.stopped_with is None and not self.ended:
            self.stopped_with = reason
            self.events.emit("on_run_stopped", run=self.run, reason=reason, message=message)

    def end(self, summary: dict[str, Any], history: Sequence[LogRow]) -> None:
        """The run's result: history.csv first (zoo's own hook), then everyone else's."""
        rows = [row.to_dict() for row in history]
        self.events.emit("on_run_end", run=self.run, summary=summary, history=rows)
        self.ended = True

    @contextmanager
    def running(self) -> Iterator[RunEvents]:
        """Start the run; an exception that ends it is told as a stop, then raised."""
        self.start()
        try:
            yield self
        except TrainingDiverged:  # told already: stopped, then the end with its result
            raise
        except TrainingInterrupted as exc:
            self.stopped("interrupted", str(exc))
            raise
        except KeyboardInterrupt:
            self.stopped("interrupted", "stopped at once (asked twice)")
            raise
        except BaseException as exc:
            self.stopped("failed", describe_exception(exc))
            raise
