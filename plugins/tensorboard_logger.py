"""``--logger tensorboard``: a run's metrics as TensorBoard event files.

Where the files go: a run with a folder writes into ``RUN/tensorboard/``; a compared seed
into ``OUT/tensorboard/<run>/`` with ``--out OUT``, else ``runs/tensorboard/<comparison>/<run>/``;
a run without a folder (``zoo.train`` with neither ``out`` nor ``runs_root``) into
``runs/tensorboard/<run>-<time>/``. ``tensorboard --logdir runs`` shows them all.

At every log point (step: the epoch) four scalars: ``loss/train``, ``loss/test``,
``accuracy/train``, ``accuracy/test``; the settings and the summary as text. A resumed run
goes on in the same folder, and hides what the stopped run logged after its checkpoint
(``purge_step``), as if it had never stopped.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from torch.utils.tensorboard import SummaryWriter

import zoo
from zoo.hookspecs import RunInfo

TAGS = {
    "train_loss": "loss/train",
    "test_loss": "loss/test",
    "train_acc": "accuracy/train",
    "test_acc": "accuracy/test",
}
FOLDER = "tensorboard"


class TensorBoardLogger:
    """One ``SummaryWriter`` per run, open from its start to its end (or stop)."""

    def __init__(self) -> None:
        self.writers: dict[RunInfo, SummaryWriter] = {}

    @zoo.hookimpl
    def on_run_start(self, run: RunInfo) -> None:
        purge = run.start_epoch + 1 if run.start_epoch else None
        writer = SummaryWriter(str(log_dir(run)), purge_step=purge)
        writer.add_text("settings", table(run.settings), run.start_epoch)
        self.writers[run] = writer

    @zoo.hookimpl
    def on_log_point(self, run: RunInfo, epoch: int, metrics: Mapping[str, float]) -> None:
        writer = self.writers[run]
        for name, tag in TAGS.items():
            writer.add_scalar(tag, metrics[name], epoch)

    @zoo.hookimpl
    def on_run_stopped(self, run: RunInfo, reason: str) -> None:
        if reason != "diverged":  # a diverged run still ends, with its summary
            self._close(run)

    @zoo.hookimpl
    def on_run_end(self, run: RunInfo, summary: Mapping[str, Any]) -> None:
        writer = self.writers.get(run)
        if writer is not None:
            writer.add_text("summary", table(summary), summary.get("epochs") or 0)
        self._close(run)

    def _close(self, run: RunInfo) -> None:
        writer = self.writers.pop(run, None)
        if writer is not None:
            writer.close()  # flushes, and ends its writer thread


def log_dir(run: RunInfo) -> Path:
    if run.run_dir is not None:
        return run.run_dir / FOLDER
    comparison = run.comparison
    if comparison is not None and comparison.out_dir is not None:
        return comparison.out_dir / FOLDER / safe(run.name)
    if comparison is not None:
        return Path("runs") / FOLDER / comparison.id / safe(run.name)
    return Path("runs") / FOLDER / f"{safe(run.name)}-{time.strftime('%Y%m%d-%H%M%S')}"


def safe(name: str) -> str:
    """A folder name: ``circle-v2 on circles, seed 3`` -> ``circle-v2_on_circles_seed_3``."""
    return re.sub(r"[^A-Za-z0-9.=-]+", "_", name).strip("_") or "run"


def table(values: Mapping[str, Any]) -> str:
    """A Markdown table, which TensorBoard's text tab shows as a table."""
    rows = [f"| {key} | {value} |" for key, value in values.items()]
    return "\n".join(["| name | value |", "|---|---|", *rows])
