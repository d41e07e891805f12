"""Run folders: what ``zoo train`` leaves behind, and reading it back safely.

A run folder holds::

    config.json    the resolved settings, the factory's arguments and the class labels:
                   written first, so an interrupted run can be resumed
    checkpoint.pt  weights, optimizer state, random generator states and history, every
                   checkpoint interval and at the end (what ``zoo train --resume`` reads)
    weights.pt     the final model's state_dict (torch.save; read back with weights_only=True)
    history.csv    one row per log point
    summary.json   the final metrics, as ``zoo train --json`` prints them; written last, so
                   its presence means the run finished
    boundary.png   the decision boundary on the train and test splits (two-feature data)

Every file is written atomically (a temporary name in the same folder, flushed, then renamed),
so a crash leaves the old file or the new one, never half of one. Nothing here unpickles
arbitrary objects: the weights load with ``weights_only=True`` and are checked to be tensors.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import time
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from zoo.config.resolve import TrainConfig
from zoo.errors import RunFolderError
from zoo.runs.files import write_atomic
from zoo.settings import FALLBACKS, InvalidSetting, check_setting
from zoo.training.checkpoint import Checkpoint, is_state_dict
from zoo.training.records import LogRow

WEIGHTS = "weights.pt"
CHECKPOINT = "checkpoint.pt"
CONFIG = "config.json"
HISTORY = "history.csv"
SUMMARY = "summary.json"
BOUNDARY = "boundary.png"
CURVES = "curves.png"
FORMAT = 1  # bumped when the layout of config.json changes


@dataclass(frozen=True)
class RunRecord:
    """What a run folder needs to rebuild its model and its data."""

    config: TrainConfig
    factory_kwargs: dict[str, Any]
    classes: list[Any]  # the dataset's label for each class index
    features: int  # columns of X
    data: dict[str, Any] = field(default_factory=dict)  # the data's SHA-256s (see DataRecord)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "model": self.config.model,
            "builds": self.config.builds,
            "settings": self.config.settings(),
            "sources": self.config.sources,
            "factory_kwargs": self.factory_kwargs,
            "classes": self.classes,
            "features": self.features,
            "data": self.data,
        }

    @classmethod
    def from_json(cls, data: Any, where: Path) -> RunRecord:
        try:
            if data.get("format") != FORMAT:
                raise ValueError(f"format {data.get('format')!r}, this zoo reads {FORMAT}")
            # A setting newer than the run takes its fallback: the run did not have it.
            settings = {
                **FALLBACKS,
                **{k: check_setting(k, v) for k, v in data["settings"].items()},
            }
            config = TrainConfig(
                model=_text(data["model"]),
                builds=_text(data["builds"]),
                sources=dict(data.get("sources") or {}),
                **settings,
            )
            kwargs, classes, features = data["factory_kwargs"], data["classes"], data["features"]
            if not isinstance(kwargs, dict) or not isinstance(classes, list) or len(classes) < 2:
                raise ValueError("factory_kwargs or classes are malformed")
            if isinstance(features, bool) or not isinstance(features, int) or features < 1:
                raise ValueError(f"features must be a whole number, got {features!r}")
            record = data.get("data") or {}  # runs of an earlier zoo have none
            if not isinstance(record, dict):
                raise ValueError("data must be a mapping")
        except (AttributeError, KeyError, TypeError, ValueError, InvalidSetting) as exc:
            raise RunFolderError(f"{where}: not a zoo run config ({exc})") from None
        return cls(config, kwargs, classes, features, record)


def new_run_dir(root: str | os.PathLike[str], model: str) -> Path:
    """A fresh ``root/<model>/<timestamp>`` folder, never one another process also took."""
    parent = Path(root) / re.sub(r"[^A-Za-z0-9._-]", "_", model)
    parent.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for attempt in range(1, 10_000):
        candidate = parent / (stamp if attempt == 1 else f"{stamp}-{attempt}")
        try:
            candidate.mkdir()  # atomic: exactly one process succeeds
            return candidate
        except FileExistsError:
            continue
    raise RunFolderError(f"{parent}: too many runs started at {stamp}")


def claim_run_dir(path: str | os.PathLike[str]) -> Path:
    """An explicitly named run folder: created, or taken if it exists and is empty."""
    path = Path(path)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise RunFolderError(f"{path}: already exists and is not empty; choose another --out")
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_json(path: Path, data: Any) -> None:
    write_atomic(path, (json.dumps(data, indent=2) + "\n").encode())


def write_history(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    rows = list(rows)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_atomic(path, buffer.getvalue().encode())


def save_weights(path: Path, state_dict: dict[str, torch.Tensor]) -> None:
    buffer = io.BytesIO()
    torch.save({k: v.detach().cpu() for k, v in state_dict.items()}, buffer)
    write_atomic(path, buffer.getvalue())


def load_weights(path: Path) -> dict[str, torch.Tensor]:
    """A state_dict of tensors; anything else, or a file that asks to run code, is refused."""
    state = load_safely(path, "weights")
    if not is_state_dict(state):
        raise RunFolderError(f"{path}: not a state_dict of tensors; nothing was loaded")
    return state


def save_checkpoint(path: Path, checkpoint: Checkpoint) -> None:
    buffer = io.BytesIO()
    torch.save(checkpoint.to_dict(), buffer)
    write_atomic(path, buffer.getvalue())


def load_checkpoint(path: Path) -> Checkpoint:
    """The run's last checkpoint, checked; a damaged or foreign file is refused."""
    try:
        return Checkpoint.from_dict(load_safely(path, "checkpoint"))
    except ValueError as exc:
        raise RunFolderError(f"{path}: not a zoo checkpoint ({exc}); nothing was loaded") from None


def load_safely(path: Path, what: str) -> Any:
    """torch.load with weights_only=True: tensors and plain data, never code."""
    if not path.is_file():
        raise RunFolderError(f"{path}: missing; this run folder has no {what}")
    try:
        with warnings.catch_warnings():  # torch's own notes on odd files: the error says it
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        if "weights_only" in str(exc) or "Unsupported global" in str(exc):
            reason = "refused: the file asks to run code when loaded"
        else:
            reason = f"damaged or not a {what} file"
        raise RunFolderError(f"{path}: {reason}; nothing was loaded") from None


def read_json(path: Path) -> Any:
    if not path.is_file():
        raise RunFolderError(f"{path}: missing; is {path.parent} a zoo run folder?")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunFolderError(f"{path}: damaged or not JSON ({exc})") from None


def read_record(run_dir: str | os.PathLike[str]) -> RunRecord:
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunFolderError(f"{run_dir}: no such run folder")
    return RunRecord.from_json(read_json(run_dir / CONFIG), run_dir / CONFIG)


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"expected a name, got {value!r}")
    return value


def read_history(path: Path) -> list[LogRow]:
    """The log rows of a run's history.csv."""
    try:
        with open(path, newline="", encoding="utf-8") as file:
            return [LogRow(**_log_row(row)) for row in csv.DictReader(file)]
    except FileNotFoundError:
        raise RunFolderError(f"{path}: missing; is {path.parent} a finished zoo run?") from None
    except (OSError, UnicodeDecodeError, TypeError, ValueError) as exc:
        raise RunFolderError(f"{path}: damaged or not a zoo history ({exc})") from None


def _log_row(row: dict[str, str]) -> dict[str, Any]:
    return {key: int(value) if key == "epoch" else float(value) for key, value in row.items()}
