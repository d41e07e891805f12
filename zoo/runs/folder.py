"""Run folders: what ``zoo train`` leaves behind, and reading it back safely.

A run folder holds::

    config.json    the resolved settings, the factory's arguments, the class labels and the
                   feature scaling fitted on the training rows (``scaling``: kind, offset,
                   scale): written first, so an interrupted run can be resumed
    checkpoint.pt  weights, optimizer and schedule state, early stopping's best weights,
                   random generator states and how many rows of history.csv and epochs.csv
                   are its own, every checkpoint interval and at the end (what ``zoo train
                   --resume`` reads); its size does not grow with the run
    weights.pt     the final model's state_dict (torch.save; read back with weights_only=True)
    history.csv    one row per log point: every split in eval mode after that epoch
                   (val_loss, val_acc with a validation split)
    epochs.csv     one row per epoch: the training step's own loss and accuracy (step_loss,
                   step_acc), and val_loss, val_acc where validation runs every epoch
    summary.json   the final metrics, as ``zoo train --json`` prints them; written last, so
                   its presence means the run finished
    boundary.png   the decision boundary on the train and test splits (two-feature data)

Every file is written atomically (a temporary name in the same folder, flushed, then renamed),
so a crash leaves the old file or the new one, never half of one; history.csv and epochs.csv
are also appended while the run trains, and a checkpoint counts only rows already on disk
(see :mod:`zoo.runs.logs`). Nothing here unpickles
arbitrary objects: the weights load with ``weights_only=True`` and are checked to be tensors.
"""

from __future__ import annotations

import csv
import io
import os
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

import torch

from zoo.config.resolve import TrainConfig
from zoo.errors import RunFolderError
from zoo.runs import bounded, checkpoint_schema, lock, schema
from zoo.runs.files import json_text, write_atomic
from zoo.settings import FALLBACKS
from zoo.training.checkpoint import Checkpoint
from zoo.training.records import EpochRow, LogRow
from zoo.training.scaling import Scaling

WEIGHTS = "weights.pt"
CHECKPOINT = "checkpoint.pt"
CONFIG = "config.json"
HISTORY = "history.csv"
EPOCHS = "epochs.csv"
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
    scaling: Scaling | None = None  # fitted on the training rows; None: none (older runs)

    @property
    def feature_scaling(self) -> Scaling:
        """The scaling every use of the model applies (none for a run older than scaling)."""
        return self.scaling or Scaling.identity(self.features)

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
            "scaling": self.feature_scaling.to_dict(),
        }

    @classmethod
    def from_json(cls, data: Any, where: Path) -> RunRecord:
        """Checked field by field: a tampered config.json is one line naming the field."""
        try:
            record = schema.fields(data, "", _RECORD_FIELDS, exact=False)
            sources = schema.optional(_sources)(data.get("sources"), "sources")
            digests = schema.optional(schema.mapping)(data.get("data"), "data")  # none: older
            _shapes_agree(record)
            scaling = schema.optional(schema.scaling(record["features"]))(
                data.get("scaling"), "scaling"
            )  # none: a run from before scaling, trained on raw features
            _scaling_agrees(scaling, record["settings"].get("scale", FALLBACKS["scale"]))
        except schema.SchemaError as exc:
            raise RunFolderError(f"{where}: not a zoo run config ({exc})") from None
        # A setting newer than the run takes its fallback: the run did not have it.
        config = TrainConfig(
            model=record["model"],
            builds=record["builds"],
            sources=sources or {},
            **{**FALLBACKS, **record["settings"]},
        )
        return cls(
            config,
            record["factory_kwargs"],
            record["classes"],
            record["features"],
            digests or {},
            Scaling.from_dict(scaling) if scaling else None,
        )


def _scaling_agrees(scaling: dict[str, Any] | None, scale: str) -> None:
    """The fitted scaling is the kind the settings asked for."""
    kind = scaling["kind"] if scaling else "none"
    if kind != scale:
        field = "scaling.kind" if scaling else "scaling"
        raise schema.SchemaError(field, f"{kind!r}, but settings.scale is {scale!r}")


def _shapes_agree(record: dict[str, Any]) -> None:
    """The factory's in/out features are the data's: a tampered size is refused before the
    factory builds a model of that size."""
    classes = len(record["classes"])
    expected = {"in_features": record["features"], "out_features": 1 if classes == 2 else classes}
    for key, value in expected.items():
        given = record["factory_kwargs"].get(key, value)
        if given != value or type(given) is not int:
            raise schema.SchemaError(
                f"factory_kwargs.{key}", f"{schema.shown(given)}, but the run's data needs {value}"
            )


def _keywords(value: Any, field: str) -> dict[str, Any]:
    schema.mapping(value, field)
    for key in value:
        schema.text(key, f"{field} key")
    return dict(value)


def _sources(value: Any, field: str) -> dict[str, str]:
    schema.mapping(value, field)
    for key, item in value.items():
        schema.text(item, schema.at(field, key))
    return dict(value)


_RECORD_FIELDS: dict[str, schema.Check] = {
    "format": schema.one_of(FORMAT),
    "model": schema.text,
    "builds": schema.text,
    "settings": schema.settings,
    "factory_kwargs": _keywords,
    "classes": schema.label_list,
    "features": schema.whole(1, 10**9),
}


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
    """An explicitly named run folder: created, or taken if it exists and is empty.

    The claim is atomic (see :func:`zoo.runs.lock.claim`): of two processes naming one folder
    at once, one gets it and the other is refused, so neither overwrites the other's files.
    """
    path = Path(path)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        if (path / lock.LOCK_NAME).exists():
            raise lock.in_use_or_taken(path)
        raise RunFolderError(f"{path}: already exists and is not empty; choose another --out")
    path.mkdir(parents=True, exist_ok=True)
    lock.claim(path)
    return path


def write_json(path: Path, data: Any) -> None:
    write_atomic(path, (json_text(data, indent=2) + "\n").encode())


def write_history(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    """A CSV file of rows (history.csv, epochs.csv), replaced atomically."""
    write_atomic(path, csv_text(list(rows), header=True).encode())


def csv_text(rows: list[dict[str, Any]], header: bool) -> str:
    """Rows as CSV lines, their columns the first row's keys."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    if header:
        writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def save_weights(path: Path, state_dict: dict[str, torch.Tensor]) -> None:
    buffer = io.BytesIO()
    torch.save({k: v.detach().cpu() for k, v in state_dict.items()}, buffer)
    write_atomic(path, buffer.getvalue())


def load_weights(path: Path) -> dict[str, torch.Tensor]:
    """A state_dict of tensors; anything else, or a file that asks to run code, is refused."""
    state = load_safely(path, "weights")
    try:
        return schema.state_dict(state, "")
    except schema.SchemaError as exc:
        raise RunFolderError(
            f"{path}: not a state_dict of tensors ({exc}); nothing was loaded"
        ) from None


def save_checkpoint(path: Path, checkpoint: Checkpoint) -> None:
    buffer = io.BytesIO()
    torch.save(checkpoint.to_dict(), buffer)
    write_atomic(path, buffer.getvalue())


def load_checkpoint(path: Path) -> Checkpoint:
    """The run's last checkpoint, checked, with its rows of history.csv and epochs.csv beside
    it; a damaged or foreign file is refused."""
    data = load_safely(path, "checkpoint")
    try:
        checkpoint_schema.check_checkpoint(data)
    except ValueError as exc:
        raise RunFolderError(f"{path}: not a zoo checkpoint ({exc}); nothing was loaded") from None
    history = steps = None
    if "history_rows" in data:  # else a checkpoint that holds its history itself
        history = read_log(path.parent / HISTORY, LogRow, rows=data["history_rows"])
        steps = read_log(path.parent / EPOCHS, EpochRow, rows=data["step_rows"])
    try:
        return Checkpoint.from_dict(data, history, steps)
    except ValueError as exc:
        raise RunFolderError(f"{path}: not a zoo checkpoint ({exc}); nothing was loaded") from None


def load_safely(path: Path, what: str) -> Any:
    """torch.load with weights_only=True, within bounds: tensors and plain data, never code."""
    return bounded.load_tensors(path, what)


def read_json(path: Path) -> Any:
    """A JSON file of a folder, within bounds (see :mod:`zoo.runs.bounded`)."""
    return bounded.read_json(path)


def run_path(value: Any) -> Path:
    """A run folder's path; anything else (None from a run that wrote no folder) is refused
    in one line."""
    if not isinstance(value, (str, os.PathLike)):
        raise RunFolderError(
            f"a run folder is a path, not {schema.shown(value)}; a run trained with neither "
            "out= nor runs_root= has no folder (keep the Run that zoo.train returned)"
        )
    return Path(value)


def read_record(run_dir: str | os.PathLike[str]) -> RunRecord:
    run_dir = run_path(run_dir)
    if not run_dir.is_dir():
        raise RunFolderError(f"{run_dir}: no such run folder")
    return RunRecord.from_json(read_json(run_dir / CONFIG), run_dir / CONFIG)


def read_summary(path: Path) -> dict[str, Any]:
    """A run's summary.json, checked field by field."""
    data = read_json(path)
    try:
        return schema.check_summary(data)
    except schema.SchemaError as exc:
        raise RunFolderError(f"{path}: not a zoo run summary ({exc})") from None


def read_history(path: Path) -> list[LogRow]:
    """The log rows of a run's history.csv, within bounds (see :mod:`zoo.runs.bounded`)."""
    return read_log(path, LogRow, "missing; is {parent} a finished zoo run?")


def read_epochs(path: Path) -> list[EpochRow]:
    """The rows of a run's epochs.csv; none for a run from before it existed."""
    return read_log(path, EpochRow) if path.exists() else []


Row = TypeVar("Row", LogRow, EpochRow)
_LOGS: dict[type, tuple[str, dict[str, schema.Check]]] = {
    LogRow: ("history", schema.LOG_ROW_FIELDS),
    EpochRow: ("epoch log", schema.EPOCH_ROW_FIELDS),
}


def read_log(
    path: Path,
    make: type[Row],
    missing: str = "missing; the run folder is damaged",
    rows: int | None = None,
) -> list[Row]:
    """A run's log (history.csv, epochs.csv) as ``make`` rows, within bounds: all, or its first
    ``rows`` (the ones a checkpoint counts; a killed run may have written more, or half a line).
    Its columns are ``make``'s, with the validation split's or without."""
    if rows == 0:
        return []
    what, fields = _LOGS[make]
    columns: list[str] = list(fields)
    lines = bounded.read_csv(path, what, missing)
    header = next(lines, (1, []))[1]
    if header not in (columns, [*columns, *schema.VALIDATION_FIELDS]):
        raise RunFolderError(
            f"{path}:1: not a zoo {what} (its columns are {schema.shown(header)}, "
            f"not {', '.join(columns)}, maybe with {', '.join(schema.VALIDATION_FIELDS)})"
        )
    found = [_log_row(path, line, cells, header, make) for line, cells in islice(lines, rows)]
    if rows is not None and len(found) < rows:
        raise RunFolderError(
            f"{path}: holds {len(found)} of the {rows} rows its checkpoint counts; the run "
            "folder is damaged, so it cannot be resumed; nothing was changed"
        )
    if not found and make is LogRow:
        raise RunFolderError(f"{path}: holds no log rows; is {path.parent} a finished zoo run?")
    return found


def _log_row(path: Path, line: int, cells: list[str], header: list[str], make: type[Row]) -> Row:
    try:
        if len(cells) != len(header):
            raise schema.SchemaError("", f"{len(cells)} cells, not {len(header)}")
        row = dict(zip(header, map(_number, cells)))
        check = schema.log_row if make is LogRow else schema.epoch_row
        return make(**check(row, ""))
    except schema.SchemaError as exc:
        raise RunFolderError(f"{path}:{line}: not a zoo {_LOGS[make][0]} row ({exc})") from None


def _number(cell: str) -> int | float | str:
    """A cell as the number it holds (``12`` as an int), or as itself."""
    if len(cell) > bounded.MAX_DIGITS:
        return cell
    try:
        return int(cell)
    except ValueError:
        pass
    try:
        return float(cell)
    except ValueError:
        return cell
