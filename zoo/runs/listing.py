"""The run folders under a root (``zoo runs``): what each trained, how it ended, and when."""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from zoo.errors import ZooError
from zoo.runs import folder


@dataclass(frozen=True)
class RunListing:
    """One run folder, as ``zoo runs`` shows it."""

    run_dir: str
    model: str | None
    dataset: str | None
    status: str  # completed, diverged, stopped, started (no checkpoint yet) or unreadable
    epochs: int | None  # trained so far
    test_acc: float | None
    date: str  # when it started: config.json's time
    problem: str | None = None  # why an unreadable folder cannot be read

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def list_runs(root: str | os.PathLike[str] = "runs") -> list[RunListing]:
    """Every run folder under ``root`` (folders holding a config.json), oldest first."""
    base = Path(root)
    if not base.is_dir():
        return []
    found = sorted(
        (path.parent for path in base.glob("**/" + folder.CONFIG) if path.is_file()),
        key=_started,
    )
    return [describe(run_dir) for run_dir in found]


def describe(run_dir: Path) -> RunListing:
    started = time.strftime("%Y-%m-%d %H:%M", time.localtime(_started(run_dir)))
    try:
        config = folder.read_record(run_dir).config
        model, dataset = config.model, config.dataset
        status, epochs, accuracy = _progress(run_dir)
    except ZooError as exc:  # one folder's problem, not the listing's: shown with it
        return RunListing(str(run_dir), None, None, "unreadable", None, None, started, str(exc))
    return RunListing(str(run_dir), model, dataset, status, epochs, accuracy, started)


def _started(run_dir: Path) -> float:
    """When config.json was written (0 if it went away meanwhile)."""
    try:
        return (run_dir / folder.CONFIG).stat().st_mtime
    except OSError:
        return 0.0


def _progress(run_dir: Path) -> tuple[str, int | None, float | None]:
    if (run_dir / folder.SUMMARY).exists():
        summary = folder.read_summary(run_dir / folder.SUMMARY)
        return summary["status"], summary["epochs"], summary["test_acc"]
    if (run_dir / folder.CHECKPOINT).exists():
        checkpoint = folder.load_checkpoint(run_dir / folder.CHECKPOINT)
        return "stopped", checkpoint.epoch, checkpoint.history[-1].test_acc
    return "started", 0, None
