"""history.csv: written by zoo's own implementation of the ``on_run_end`` event hook.

It is registered for every run (see :func:`zoo.runs.run_events.open_events`), before any
plugin or logger, and writes only for a run with a folder. Unlike a plugin's, its errors (a
full disk) are the run's: the run folder is not whole without its history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from zoo.hookspecs import RunInfo, hookimpl
from zoo.runs import folder


@hookimpl(tryfirst=True)  # first of all: history.csv is there when the others are told
def on_run_end(run: RunInfo, history: Sequence[Mapping[str, float]]) -> None:
    """One row per log point, the columns of :class:`zoo.training.records.LogRow`."""
    if run.run_dir is not None:
        folder.write_history(run.run_dir / folder.HISTORY, (dict(row) for row in history))
