"""Every way back to a trained model: a run folder (finished, or its last checkpoint), an
exported safetensors folder or file, or a registered model's trained weights by name."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from torch import nn

from zoo.errors import ConfigError, RunFolderError
from zoo.names import NAME, Registry
from zoo.plugins.loader import load_plugins
from zoo.runs import folder, inference, weights_file
from zoo.runs.run import Run
from zoo.training.devices import resolve_device
from zoo.training.experiment import prepare
from zoo.training.models import build_model, factory_kwargs, parameter_count

EXPORTED_WEIGHTS = "model.safetensors"


def load_trained(
    source: Any, *, device: str | None = None, partial: bool = False, registry: Registry = None
) -> Run:
    """The trained model ``source`` names: a folder or file if one exists at that path, else
    a model name whose catalogue entry or plugin has trained weights."""
    text = os.fspath(source) if isinstance(source, (str, os.PathLike)) else None
    if isinstance(text, str) and _is_name(text) and not os.path.exists(text):
        from zoo.runs.pretrained import pretrained_run

        return pretrained_run(text, registry=registry, device=device)
    path = folder.run_path(source)
    if path.is_file() and path.suffix == ".safetensors":
        return weights_file.load_file(path, device)
    if (path / EXPORTED_WEIGHTS).is_file():
        return load_exported(path, device)
    if (
        path.is_dir()
        and not (path / folder.SUMMARY).exists()
        and (path / folder.CHECKPOINT).exists()
    ):
        if not partial:
            raise RunFolderError(
                f"{path}: did not finish; go on with: zoo train --resume {path}, or use its last "
                "checkpoint as it is (zoo export --partial, zoo.load(partial=True))"
            )
        return load_checkpoint(path, device)
    return inference.load(path, device=device)


def _is_name(text: str) -> bool:
    """A model name (``circle-v2``, ``plugin:name``), not a path."""
    plugin, _, name = text.rpartition(":")
    return bool(NAME.fullmatch(name)) and (not plugin or bool(NAME.fullmatch(plugin)))


def model_by_name(name: str, *, weights: bool, registry: Registry, **kwargs: Any) -> nn.Module:
    """``zoo.get_model``: untrained as ``zoo train`` builds it, or trained (``weights``)."""
    if weights:
        if kwargs:
            raise ConfigError(
                f"trained weights fit the model they were trained as; give no factory "
                f"arguments with weights=True (got {', '.join(kwargs)})"
            )
        return load_trained(name, registry=registry).scaled_model
    experiment = prepare(name, registry=registry, device="cpu")
    config, spec = experiment.config, experiment.spec
    params = {**config.params, **kwargs}
    shapes = (experiment.split.features, experiment.task.out_features)
    return build_model(spec, factory_kwargs(spec, params, *shapes))


def load_exported(path: Path, device: str | None = None) -> Run:
    """A folder written by ``zoo export --format safetensors``: config.json rebuilds the model
    (its plugin must be installed), model.safetensors holds its weights."""
    record = folder.read_json(path / folder.CONFIG)
    weights = path / EXPORTED_WEIGHTS
    tensors, _ = weights_file.read(weights_file.read_bytes(weights), weights)
    run = weights_file.build(record, tensors, (weights, path), device)
    return _in_folder(run, path)


def load_checkpoint(run_dir: Path, device: str | None = None) -> Run:
    """A run that did not finish, as its last checkpoint left it: weights, history, and a
    summary of its last log point that says ``partial``."""
    record = folder.read_record(run_dir)
    plugins = load_plugins()
    spec = inference.model_of_run(run_dir, record.config, plugins)
    checkpoint = folder.load_checkpoint(run_dir / folder.CHECKPOINT)
    target = resolve_device(device or record.config.device)
    where = (run_dir / folder.CHECKPOINT, run_dir)
    model, task = inference.rebuild(spec, record, checkpoint.model, target, where)
    last = checkpoint.history[-1]
    summary = {
        "model": record.config.model,
        "builds": record.config.builds,
        "dataset": record.config.dataset,
        "task": task.name,
        **{key: value for key, value in last.to_dict().items() if key != "epoch"},
        "epochs": checkpoint.epoch,
        "seconds": checkpoint.seconds,
        "device": str(target),
        "seed": record.config.seed,
        "params": parameter_count(model),
        "status": "partial",
        "partial": True,
        "run_dir": str(run_dir),
    }
    config = record.config
    return Run(
        model,
        summary,
        list(checkpoint.history),
        run_dir,
        config,
        record.classes,
        record.features,
        task,
        target,
        lambda: inference.run_split(run_dir, record, plugins),
        record.feature_scaling,
    )


def _in_folder(run: Run, path: Path) -> Run:
    from dataclasses import replace

    return replace(run, run_dir=path)
