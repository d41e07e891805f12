"""What a run records of its data, so that ``zoo eval`` and ``--resume`` refuse data that changed.

Every run records the SHA-256 of its split; a dataset parameter named ``path`` that names a
file (a CSV dataset's, for one) has that file's SHA-256 recorded too, so a changed file is
named as such.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from zoo.config.resolve import TrainConfig
from zoo.errors import RunFolderError
from zoo.runs.bounded import check_regular, sha256
from zoo.training.data import Split


def data_record(split: Split, dataset_params: dict[str, Any]) -> dict[str, Any]:
    """The digests to keep in a run's config.json."""
    record: dict[str, Any] = {"sha256": split.sha256()}
    path = dataset_params.get("path")
    if isinstance(path, str) and os.path.isfile(path):
        record["file"] = {"path": os.path.abspath(path), "sha256": sha256(path, "the data")}
    return record


def checked_params(run_dir: Path, config: TrainConfig, record: dict[str, Any]) -> dict[str, Any]:
    """The dataset parameters to load the run's data again with, its data file named by where
    the run found it (absolute, so the run can be used from any folder); that file is refused
    before it is read if it is not a regular file (a FIFO would be waited on for ever) or if it
    changed since the run was trained (its SHA-256)."""
    params = dict(config.dataset_params)
    file = record.get("file")
    trained_on = f"the run in {run_dir} was trained on it; put it back to use the run"
    if isinstance(file, dict) and isinstance(file.get("path"), str):
        if "path" in params:
            params["path"] = file["path"]
        if sha256(file["path"], trained_on) != file.get("sha256"):
            raise RunFolderError(
                f"{file['path']}: changed since the run in {run_dir} was trained on it (its "
                "SHA-256 differs); restore it, or train a new run"
            )
    path = params.get("path")
    if isinstance(path, str) and os.path.lexists(path) and not os.path.isdir(path):
        check_regular(path, trained_on)  # a plugin's folder of files is the plugin's to read
    return params


def check_split(run_dir: Path, record: dict[str, Any], split: Split, dataset: str) -> None:
    """Refuse a split that is not the one the run was trained on."""
    expected = record.get("sha256")
    if expected is not None and split.sha256() != expected:
        raise RunFolderError(
            f"{run_dir}: dataset {dataset!r} now gives other data than the run was trained "
            "on (its SHA-256 differs); was its plugin or its parameters changed?"
        )
