"""A trained model in one safetensors file: the weights, and what rebuilds the model.

The tensors are stored as safetensors stores them (a JSON header, then raw bytes: nothing in
the file is code, nothing is unpickled). The header's metadata has one key, ``zoo``, whose
value is the model's record as JSON: a run's config.json (:class:`~zoo.runs.folder.RunRecord`:
model, factory arguments, classes, features, scaling, settings, the data's SHA-256s) with the
plugin that provides the model and the run's metrics. One key, because safetensors writes the
metadata's keys in no fixed order: with one, the same model gives the same bytes.

A data file's path is kept by its name only: the file is a record of training, not a pointer
into the trainer's disk.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch

from zoo.errors import RunFolderError, UnknownNameError
from zoo.plugins.loader import load_plugins
from zoo.plugins.specs import ModelSpec
from zoo.runs import bounded, folder, schema
from zoo.runs.data_record import data_record
from zoo.runs.inference import rebuild
from zoo.runs.run import Run
from zoo.training.data import Split
from zoo.training.devices import resolve_device
from zoo.training.diagnosis import majority_acc
from zoo.training.models import factory_kwargs

METADATA_KEY = "zoo"
MAX_HEADER_BYTES = bounded.MAX_JSON_BYTES
METRICS = (
    "dataset",
    "seed",
    "epochs",
    "test_acc",
    "train_acc",
    "test_loss",
    "train_loss",
    "majority_acc",
    "learned_nothing",
    "status",
    "params",
    "device",
)  # not the seconds: the same training gives the same file, whatever the machine's load


def describe(run: Run, split: Split) -> dict[str, Any]:
    """The record a weights file (and an exported folder's config.json) keeps of ``run``."""
    spec = load_plugins().model(run.config.builds)
    kwargs = factory_kwargs(spec, run.config.params, run.features, run.task.out_features)
    data = data_record(split, run.config.dataset_params)
    if "file" in data:  # its name and digest; the trainer's folders are nobody's business
        data["file"] = {**data["file"], "path": os.path.basename(data["file"]["path"])}
    record = folder.RunRecord(run.config, kwargs, run.classes, run.features, data, run.scaling)
    metrics = {key: run.summary[key] for key in METRICS if key in run.summary}
    metrics.setdefault("majority_acc", majority_acc(split.y_test))  # a checkpoint has none
    return {
        **record.to_json(),
        "plugin": {
            "name": spec.plugin.name,
            "distribution": spec.plugin.distribution,
            "version": spec.plugin.version,
        },
        "rows": {"train": len(split.X_train), "test": len(split.X_test)},
        "metrics": {**metrics, "partial": bool(run.summary.get("partial"))},
        "zoo_version": zoo_version(),
    }


def zoo_version() -> str:
    """The installed zoo's version (``zoo.__version__``, read without importing the API)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("torch-zoo")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def to_bytes(run: Run, record: dict[str, Any]) -> bytes:
    """The model's weights and ``record`` as a safetensors file's bytes."""
    from safetensors.torch import save

    # A copy of each tensor: safetensors refuses tensors that share memory (tied weights).
    tensors = {
        name: value.detach().cpu().contiguous().clone()
        for name, value in run.model.state_dict().items()
    }
    metadata = {METADATA_KEY: json.dumps(record, sort_keys=True, allow_nan=False)}
    data: bytes = save(tensors, metadata=metadata)
    return data


def read(raw: bytes, where: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The tensors and the record of a weights file's bytes; damage is one line naming it."""
    from safetensors.torch import load

    record = _metadata(raw, where)
    try:
        tensors = schema.state_dict(load(raw), "")
    except Exception as exc:  # safetensors' own error for damaged bytes
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise RunFolderError(
            f"{where}: damaged safetensors file ({reason}); nothing was loaded"
        ) from None
    return tensors, record


def _metadata(raw: bytes, where: Path) -> dict[str, Any]:
    size = int.from_bytes(raw[:8], "little") if len(raw) >= 8 else -1
    if size < 2 or size > min(MAX_HEADER_BYTES, len(raw) - 8):
        raise RunFolderError(f"{where}: not a safetensors file; nothing was loaded")
    try:
        header = json.loads(raw[8 : 8 + size].decode("utf-8"))
        text = header["__metadata__"][METADATA_KEY]
        record = json.loads(text, parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, KeyError, TypeError):
        raise RunFolderError(
            f"{where}: a safetensors file without zoo's record of the model (metadata "
            f"{METADATA_KEY!r}); zoo cannot rebuild a model from weights alone"
        ) from None
    if not isinstance(record, dict):
        raise RunFolderError(f"{where}: metadata {METADATA_KEY!r} is not a zoo record")
    return record


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def build(
    record: dict[str, Any],
    tensors: dict[str, torch.Tensor],
    where: tuple[Path, Path],
    device: str | None = None,
) -> Run:
    """The trained model that ``record`` and ``tensors`` describe, as a :class:`Run` (no
    history, no data: its summary is the recorded metrics)."""
    run_record = folder.RunRecord.from_json(record, where[0])
    spec = _model(record, run_record.config.builds, where[0])
    target = resolve_device(device or "cpu")
    model, task = rebuild(spec, run_record, tensors, target, where)
    metrics = record.get("metrics")
    summary = dict(metrics) if isinstance(metrics, dict) else {}
    summary = {"model": run_record.config.model, "builds": run_record.config.builds, **summary}
    return Run(
        model,
        summary,
        [],
        None,
        run_record.config,
        run_record.classes,
        run_record.features,
        task,
        target,
        None,
        run_record.feature_scaling,
    )


def _model(record: dict[str, Any], builds: str, where: Path) -> ModelSpec:
    """The installed plugin's model; a missing plugin is named, with where to get it."""
    plugins = load_plugins()
    try:
        return plugins.model(builds)
    except UnknownNameError:
        pass
    found = record.get("plugin")
    plugin: dict[str, Any] = found if isinstance(found, dict) else {}
    name = plugin.get("name") or builds.partition(":")[0]
    source, version = plugin.get("distribution"), plugin.get("version")
    origin = f" ({source} {version})" if isinstance(source, str) else ""
    get = f"pip install {source}" if isinstance(source, str) else "install it"
    raise RunFolderError(
        f"{where}: needs model {builds!r} from plugin {name!r}{origin}, which is not "
        f"installed; {get}, then load it again{plugins.why_missing()}"
    )


def load_file(path: Path, device: str | None = None) -> Run:
    """A trained model from one weights file (bounded in size, never code)."""
    tensors, record = read(read_bytes(path), path)
    return build(record, tensors, (path, path), device)


def read_bytes(path: Path) -> bytes:
    """A weights file's bytes, at most :data:`~zoo.runs.bounded.MAX_TENSOR_FILE_BYTES`."""
    return bounded.read_bytes(path, bounded.MAX_TENSOR_FILE_BYTES, "missing")
