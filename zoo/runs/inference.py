"""A trained model back from its run folder: evaluate it again, or predict with it.

The model is rebuilt by its plugin from the run's config.json, and its weights load with
``weights_only=True``: a run folder from elsewhere can fail to load, but never runs code.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from zoo.config.resolve import TrainConfig
from zoo.errors import ConfigError, ModelError, RunFolderError, UnknownNameError
from zoo.plugins.loaded import Plugins
from zoo.plugins.loader import load_plugins
from zoo.plugins.specs import ModelSpec
from zoo.runs import folder
from zoo.training.data import load_split
from zoo.training.devices import resolve_device, torch_threads
from zoo.training.experiment import TensorSplit
from zoo.training.models import build_model, check_output
from zoo.training.tasks import Task
from zoo.training.trainer import evaluate


@dataclass
class LoadedRun:
    """A trained model back from its run folder."""

    config: TrainConfig
    model: nn.Module
    task: Task
    classes: list[Any]
    features: int
    device: torch.device
    data: TensorSplit | None = None

    def predict(self, X: Any) -> tuple[list[Any], np.ndarray]:
        rows = np.asarray(X, dtype=np.float32)
        if rows.ndim != 2 or rows.shape[1] != self.features:
            raise ConfigError(
                f"the model takes rows of {self.features} features, got shape {list(rows.shape)}"
            )
        self.model.eval()
        with torch.inference_mode():
            logits = self.task.logits(self.model(torch.from_numpy(rows).to(self.device)))
            probabilities = self.task.probabilities(logits).cpu().numpy()
        best = probabilities.argmax(axis=1)
        labels = [self.classes[i] for i in best]
        return labels, probabilities[np.arange(len(best)), best]


def load_run(
    run_dir: str | os.PathLike[str], *, device: str | None = None, with_data: bool = True
) -> LoadedRun:
    """Rebuild a run's model from its plugin and load its weights, which run no code.

    The model and, with ``with_data``, the data must still be those of the run: a plugin or
    dataset that changed since is an error, not silently wrong numbers.
    """
    run_dir = Path(run_dir)
    record = folder.read_record(run_dir)
    config = record.config
    plugins = load_plugins()
    spec = model_of_run(run_dir, config, plugins)
    target = resolve_device(device or config.device)
    state = folder.load_weights(run_dir / folder.WEIGHTS)
    model = build_model(spec, record.factory_kwargs)
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        detail = first[1].strip() if len(first) > 1 else first[0]
        raise RunFolderError(
            f"{run_dir / folder.WEIGHTS}: does not fit model {spec.name!r} ({detail}); "
            "nothing was loaded"
        ) from None
    model.to(target).eval()
    task = Task(len(record.classes))
    data = None
    if with_data:
        split = load_split(
            plugins.dataset(config.dataset),
            config.dataset_params,
            config.test_size,
            config.split_seed,
        )
        if split.classes != record.classes or split.features != record.features:
            raise RunFolderError(
                f"{run_dir}: dataset {config.dataset!r} gives {split.features} features and "
                f"classes {split.classes}, but the run was trained on {record.features} and "
                f"{record.classes}; was its plugin or config.json changed?"
            )
        data = TensorSplit.from_split(split, target)
    sample = (
        data.X_train[:4] if data is not None else torch.zeros(2, record.features, device=target)
    )
    try:
        check_output(model, spec, task, sample, config.dataset)
    except ModelError as exc:
        raise RunFolderError(f"{run_dir}: {exc}") from None
    return LoadedRun(config, model, task, record.classes, record.features, target, data)


def model_of_run(run_dir: Path, config: TrainConfig, plugins: Plugins) -> ModelSpec:
    """The installed plugin model a run was trained with."""
    try:
        return plugins.model(config.builds)
    except UnknownNameError:
        raise RunFolderError(
            f"{run_dir}: was trained with model {config.builds!r}, which no installed plugin "
            f"provides; install its plugin to use this run{plugins.why_missing()}"
        ) from None


def evaluate_run(run_dir: str | os.PathLike[str], *, device: str | None = None) -> dict[str, Any]:
    """The run's metrics measured again on its data: the numbers of its summary."""
    run = load_run(run_dir, device=device)
    assert run.data is not None
    with torch_threads(run.config.threads):  # as many as training used: the same sums
        train_loss, train_acc, test_loss, test_acc = evaluate(run.model, run.data)
    return {
        "model": run.config.model,
        "dataset": run.config.dataset,
        "train_acc": train_acc,
        "test_acc": test_acc,
        "train_loss": train_loss,
        "test_loss": test_loss,
        "device": str(run.device),
        "seed": run.config.seed,
        "run_dir": str(run_dir),
    }
