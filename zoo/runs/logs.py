"""history.csv and epochs.csv while a run trains: appended, so a checkpoint costs the same at
epoch 3,000 as at epoch 3; and history.csv written whole at the end by zoo's own
implementation of the ``on_run_end`` event hook (:func:`on_run_end`).

A checkpoint used to hold the whole history, so with ``--log-every 1`` each one wrote more
than the last (3,000 epochs: 73 s instead of 1.4 s). Now each checkpoint first appends the
rows logged since the one before to their files and flushes them to disk (``fdatasync``, as
a database flushes its log), then saves a checkpoint.pt that only counts its rows. A run
killed at any moment leaves files holding at least the rows its last checkpoint counts
(maybe more, or half a line, after them); a resume reads exactly those
(:func:`zoo.runs.folder.load_checkpoint`), and its first checkpoint writes each file whole
again, atomically, so what a killed run wrote after its last checkpoint goes. A new run
starts the files afresh: no checkpoint counts anything in them yet. At the end of a run both
files are written whole once more, with every row.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from zoo.hookspecs import RunInfo, hookimpl
from zoo.runs import folder
from zoo.training.checkpoint import Checkpoint
from zoo.training.records import EpochRow, LogRow


class RunLogs:
    """The logs of one run folder as this process writes them; ``resumed``: the folder has
    a checkpoint that counts rows of them."""

    def __init__(self, run_dir: Path, resumed: bool) -> None:
        self.run_dir = run_dir
        # The rows each file holds once this process wrote it; a resumed run's files are
        # replaced whole at its first checkpoint.
        self.written: dict[str, int] = {} if resumed else {folder.HISTORY: 0, folder.EPOCHS: 0}

    def save(self, checkpoint: Checkpoint) -> None:
        """The checkpoint's new rows on disk, then the checkpoint that counts them."""
        self._write(folder.HISTORY, checkpoint.history)
        self._write(folder.EPOCHS, checkpoint.steps)
        folder.save_checkpoint(self.run_dir / folder.CHECKPOINT, checkpoint)

    def _write(self, name: str, rows: Sequence[LogRow | EpochRow]) -> None:
        path, done = self.run_dir / name, self.written.get(name)
        if not rows or done == len(rows):
            return
        if done is None:  # whole, replacing whatever a killed run left after its checkpoint
            folder.write_history(path, (row.to_dict() for row in rows))
        else:
            text = folder.csv_text([row.to_dict() for row in rows[done:]], header=not done)
            with open(path, "a" if done else "w", encoding="utf-8", newline="") as file:
                file.write(text)
                file.flush()
                _flush_data(file.fileno())
        self.written[name] = len(rows)


def _flush_data(handle: int) -> None:
    """The appended rows on disk before the checkpoint that counts them is written (where
    there is no fdatasync, fsync); the checkpoint's folder sync makes a new file's name last."""
    getattr(os, "fdatasync", os.fsync)(handle)


# zoo's own event hook, registered for every run (see :func:`zoo.runs.run_events.open_events`)
# before any plugin or logger; it writes only for a run with a folder. Unlike a plugin's, its
# errors (a full disk) are the run's: the run folder is not whole without its history.
@hookimpl(tryfirst=True)  # first of all: history.csv is there when the others are told
def on_run_end(run: RunInfo, history: Sequence[Mapping[str, float]]) -> None:
    """One row per log point, the columns of :class:`zoo.training.records.LogRow`."""
    if run.run_dir is not None:
        folder.write_history(run.run_dir / folder.HISTORY, (dict(row) for row in history))
