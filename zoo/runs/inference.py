"""A trained model back from its run folder: load it, evaluate it again, or on new data.

The model is rebuilt by its plugin from the run's config.json, and its weights load with
``weights_only=True``: a run folder from elsewhere can fail to load, but never runs code. The
data must still be the run's: a dataset or CSV file that changed since is an error, not
silently wrong numbers.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from zoo.config.resolve import TrainConfig
from zoo.errors import DataError, ModelError, RunFolderError, UnknownNameError
from zoo.plugins.loaded import Plugins
from zoo.plugins.loader import load_plugins
from zoo.plugins.specs import ModelSpec
from zoo.runs import folder
from zoo.runs.data_record import check_split, checked_params
from zoo.runs.run import Run
from zoo.tables import read_table
from zoo.training.data import Split, load_split
from zoo.training.devices import resolve_device, torch_threads
from zoo.training.experiment import TensorSplit
from zoo.training.models import build_model, check_output
from zoo.training.scaling import Scaling
from zoo.training.tasks import Task, accuracy
from zoo.training.trainer import evaluate, split_scores

PathLike = str | os.PathLike[str]


def load(run_dir: PathLike, *, device: str | None = None) -> Run:
    """A finished run's model (rebuilt by its plugin, weights loaded without running code),
    summary and history; its data loads when something asks for it."""
    run_dir = folder.run_path(run_dir)
    record = folder.read_record(run_dir)
    config = record.config
    plugins = load_plugins()
    spec = model_of_run(run_dir, config, plugins)
    target = resolve_device(device or config.device)
    state = folder.load_weights(run_dir / folder.WEIGHTS)
    model, task = rebuild(spec, record, state, target, (run_dir / folder.WEIGHTS, run_dir))
    summary = folder.read_summary(run_dir / folder.SUMMARY)
    history = folder.read_history(run_dir / folder.HISTORY)
    return Run(
        model,
        summary,
        history,
        run_dir,
        config,
        record.classes,
        record.features,
        task,
        target,
        lambda: run_split(run_dir, record, plugins),
        record.feature_scaling,
        folder.read_epochs(run_dir / folder.EPOCHS),
    )


def rebuild(
    spec: ModelSpec,
    record: folder.RunRecord,
    state: dict[str, torch.Tensor],
    target: torch.device,
    where: tuple[Path, Path],
) -> tuple[nn.Module, Task]:
    """The model built by its plugin with trained weights ``state``, in eval mode on
    ``target`` and checked with one forward pass; ``where``: the weights' file and the
    folder that holds them (run folder, exported folder), for the messages."""
    weights, owner = where
    model = build_model(spec, record.factory_kwargs)
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        detail = first[1].strip() if len(first) > 1 else first[0]
        raise RunFolderError(
            f"{weights}: does not fit model {spec.name!r} ({detail}); nothing was loaded"
        ) from None
    model.to(target).eval()
    task = Task(len(record.classes))
    try:
        sample = torch.zeros(2, record.features, device=target)
        check_output(model, spec, task, sample, record.config.dataset)
    except ModelError as exc:
        raise RunFolderError(f"{owner}: {exc}") from None
    return model, task


def run_split(run_dir: Path, record: folder.RunRecord, plugins: Plugins) -> Split:
    """The run's own split (``record``: its config.json, as read), loaded again and checked
    to be the data it was trained on."""
    config = record.config
    if config.dataset == "arrays":
        raise RunFolderError(
            f"{run_dir}: was trained on arrays given to zoo.train, which zoo cannot load "
            "again; evaluate it on a CSV file with: zoo eval RUN --data FILE"
        )
    params = checked_params(run_dir, config, record.data)
    dataset = plugins.dataset(config.dataset)
    split = load_split(dataset, params, config.test_size, config.split_seed, config.val_size)
    if split.classes != record.classes or split.features != record.features:
        raise RunFolderError(
            f"{run_dir}: dataset {config.dataset!r} gives {split.features} features and "
            f"classes {split.classes}, but the run was trained on {record.features} and "
            f"{record.classes}; was its plugin or config.json changed?"
        )
    check_split(run_dir, record.data, split, config.dataset)
    return split


def model_of_run(run_dir: Path, config: TrainConfig, plugins: Plugins) -> ModelSpec:
    """The plugin model a run was trained with."""
    try:
        return plugins.model(config.builds)
    except UnknownNameError:
        if config.builds.startswith("in-process:"):
            raise RunFolderError(
                f"{run_dir}: was trained with model {config.builds!r}, defined in a notebook or "
                f"script; register it again first: zoo.register_model({config.model!r}, ...)"
            ) from None
        raise RunFolderError(
            f"{run_dir}: was trained with model {config.builds!r}, which no installed plugin "
            f"provides; install its plugin to use this run{plugins.why_missing()}"
        ) from None


def evaluate_run(
    run_dir: PathLike,
    *,
    device: str | None = None,
    data: PathLike | None = None,
    target: str | None = None,
) -> dict[str, Any]:
    """The run's metrics measured again on its own split, or on the labelled CSV ``data``."""
    run = load(run_dir, device=device)
    record: dict[str, Any] = {"model": run.config.model, "dataset": run.config.dataset}
    with torch_threads(run.config.threads):  # as many as training used: the same sums
        if data is None:
            split = run.load_split() if run.load_split else None
            assert split is not None
            scaling = run.scaling or Scaling.identity(split.features)
            tensors = TensorSplit.from_split(split, run.device, scaling)
            scores = evaluate(run.model, tensors)
            record |= dict(zip(("train_loss", "train_acc", "test_loss", "test_acc"), scores))
            if tensors.X_val is not None and tensors.y_val is not None:
                loss_fn, task = tensors.task.loss_function(), tensors.task
                val = split_scores(run.model, task, tensors.X_val, tensors.y_val, loss_fn)
                record |= dict(zip(("val_loss", "val_acc"), val))
        else:
            record |= {"dataset": str(data), **_score_file(run, data, target)}
    return {**record, "device": str(run.device), "seed": run.config.seed, "run_dir": str(run_dir)}


def _score_file(run: Run, path: PathLike, target: str | None) -> dict[str, Any]:
    """Loss and accuracy on every row of a labelled CSV file, its labels the run's classes;
    the file is read as the run's own was (its skip_rows and header)."""
    params = run.config.dataset_params
    column = target if target is not None else params.get("target")
    layout = {key: params[key] for key in ("skip_rows", "header") if key in params}
    table = read_table(path, column, **layout)  # read as the run read its own file
    if table.X.shape[1] != run.features:
        raise DataError(
            f"{path}: {table.X.shape[1]} feature columns besides the label "
            f"{table.target!r}; the model takes {run.features}"
        )
    index = {label: position for position, label in enumerate(run.classes)}
    codes = [index.get(label.item() if hasattr(label, "item") else label) for label in table.labels]
    if None in codes:
        row = codes.index(None)
        raise DataError(
            f"{path}:{table.lines[row]}: label {table.labels[row].item()!r} is not one of the "
            f"run's classes ({', '.join(map(str, run.classes))})"
        )
    targets = run.task.targets(torch.tensor(np.asarray(codes), device=run.device))
    with torch.inference_mode():
        logits = run.task.logits(run.scaled_model(torch.from_numpy(table.X).to(run.device)))
        loss = run.task.loss_function()(logits, targets).item()
    return {"rows": len(codes), "acc": accuracy(run.task.labels(logits), targets), "loss": loss}
