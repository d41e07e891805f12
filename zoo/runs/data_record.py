"""What a run records of its data, so that ``zoo eval`` and ``--resume`` refuse data that changed.

Every run records the SHA-256 of its split; a dataset parameter named ``path`` that names a
file (a CSV dataset's, for one) has that file's SHA-256 recorded too, so a changed file is
named as such.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from zoo.errors import RunFolderError
from zoo.tables import file_sha256
from zoo.training.data import Split


def data_record(split: Split, dataset_params: dict[str, Any]) -> dict[str, Any]:
    """The digests to keep in a run's config.json."""
    record: dict[str, Any] = {"sha256": split.sha256()}
    path = dataset_params.get("path")
    if isinstance(path, str) and os.path.isfile(path):
        record["file"] = {"path": os.path.abspath(path), "sha256": file_sha256(path)}
    return record


def check_file(run_dir: Path, record: dict[str, Any]) -> None:
    """Refuse, before it is read, a data file that changed since the run was trained."""
    file = record.get("file")
    if not isinstance(file, dict) or not isinstance(file.get("path"), str):
        return
    path = file["path"]
    if not os.path.isfile(path):
        raise RunFolderError(
            f"{path}: missing; the run in {run_dir} was trained on it; put it back to use the run"
        )
    if file_sha256(path) != file.get("sha256"):
        raise RunFolderError(
            f"{path}: changed since the run in {run_dir} was trained on it (its SHA-256 "
            "differs); restore it, or train a new run"
        )


def recorded_params(params: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    """The dataset parameters, the data file named by where the run found it (absolute), so
    the run can be used from any folder."""
    file = record.get("file")
    if isinstance(file, dict) and isinstance(file.get("path"), str) and "path" in params:
        return {**params, "path": file["path"]}
    return params


def check_split(run_dir: Path, record: dict[str, Any], split: Split, dataset: str) -> None:
    """Refuse a split that is not the one the run was trained on."""
    expected = record.get("sha256")
    if expected is not None and split.sha256() != expected:
        raise RunFolderError(
            f"{run_dir}: dataset {dataset!r} now gives other data than the run was trained "
            "on (its SHA-256 differs); was its plugin or its parameters changed?"
        )
