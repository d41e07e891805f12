"""One model on one dataset: the split, its scaling fitted on the training rows, the data
ready on its device, and the model built per seed."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch
from torch import nn

from zoo.config.checks import open_zoo
from zoo.config.layers import Catalogues
from zoo.config.resolve import TrainConfig, resolve, resolve_spec
from zoo.errors import ConfigError
from zoo.names import Registry
from zoo.plugins.in_process import arrays_dataset, model_spec
from zoo.plugins.loaded import Plugins
from zoo.plugins.specs import ModelSpec
from zoo.training import diagnosis
from zoo.training.data import Split, load_split
from zoo.training.devices import resolve_device
from zoo.training.models import build_model, check_output, factory_kwargs, parameter_count
from zoo.training.optim import batch_size, check_early_stop, options, schedule_options
from zoo.training.records import FitResult, RunSummary
from zoo.training.scaling import Scaling
from zoo.training.tasks import Task


@dataclass(frozen=True)
class TensorSplit:
    """A split as tensors on the training device, targets in the loss's dtype."""

    task: Task
    X_train: torch.Tensor
    y_train: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor
    X_val: torch.Tensor | None = None  # None: no validation split
    y_val: torch.Tensor | None = None

    @classmethod
    def from_split(cls, split: Split, device: torch.device, scaling: Scaling) -> TensorSplit:
        """The split's tensors, features scaled by ``scaling`` (fitted on its train rows)."""
        task = Task(split.class_count)

        def tensor(array: np.ndarray) -> torch.Tensor:
            return torch.tensor(array, device=device)  # a copy in torch's own aligned memory

        def rows(X: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
            # scaled on the device, as inference scales
            return scaling.apply_tensor(tensor(X)), task.targets(tensor(y))

        val: tuple[torch.Tensor | None, torch.Tensor | None] = (None, None)
        if split.X_val is not None and split.y_val is not None:
            val = rows(split.X_val, split.y_val)
        return cls(
            task, *rows(split.X_train, split.y_train), *rows(split.X_test, split.y_test), *val
        )


@dataclass(frozen=True)
class Experiment:
    config: TrainConfig
    spec: ModelSpec
    split: Split  # as loaded: raw features
    data: TensorSplit  # on the device, features scaled
    kwargs: dict[str, Any]  # what the factory is called with
    device: torch.device
    scaling: Scaling  # fitted on split.X_train, the rows the model trains on
    # Whether a model was built and checked: the check (a forward and backward pass on a
    # copy) is the same for every seed, so it runs once. Never copied by replace().
    _checked: list[bool] = field(default_factory=list, init=False, repr=False, compare=False)

    @classmethod
    def prepare(
        cls,
        config: TrainConfig,
        spec: ModelSpec,
        plugins: Plugins,
        device: torch.device,
        split: Split | None = None,
        scaling: Scaling | None = None,
    ) -> Experiment:
        """Load and split the data (unless ``split`` is given), fit the scaling on the
        training rows (unless a run's own ``scaling`` is given) and check the settings.

        The model is not built here: :meth:`build` checks it against the data.
        """
        if split is None:
            dataset = plugins.dataset(config.dataset)
            split = load_split(
                dataset, config.dataset_params, config.test_size, config.split_seed, config.val_size
            )
        kwargs = factory_kwargs(
            spec, config.params, split.features, Task(split.class_count).out_features
        )
        options(config)  # an optimizer setting it cannot take
        schedule_options(config)  # a schedule setting it cannot take, or one without validation
        check_early_stop(config)
        batch_size(config, len(split.X_train))  # a batch larger than the data
        if scaling is None:
            scaling = Scaling.fit(config.scale, split.X_train)
        data = TensorSplit.from_split(split, device, scaling)
        return cls(config, spec, split, data, kwargs, device, scaling)

    @property
    def task(self) -> Task:
        return self.data.task

    def build(self, seed: int) -> nn.Module:
        """A fresh model, its weights decided by ``seed``: seeded before it is built; the
        first one is checked to fit the data and to train (the same for every seed)."""
        torch.manual_seed(seed)
        model = build_model(self.spec, self.kwargs).to(self.device)
        if not self._checked:
            check_output(model, self.spec, self.task, self.data.X_train[:4], self.split.name)
            self._checked.append(True)
        return model

    def summary(
        self, model: nn.Module, fit: FitResult, seed: int, run_dir: str | None = None
    ) -> RunSummary:
        """The record of one trained seed; one that completed no better than always
        answering the majority class says so (see :mod:`zoo.training.diagnosis`)."""
        config, final = self.config, fit.final
        majority = diagnosis.majority_acc(self.split.y_test)
        nothing = fit.diverged_at is None and diagnosis.learned_nothing(final.test_acc, majority)
        warning = self._learned_nothing(final.test_acc, majority, fit.epochs) if nothing else None
        return RunSummary(
            model=config.model,
            builds=config.builds,
            dataset=config.dataset,
            task=self.task.name,
            epochs=fit.epochs,
            train_acc=final.train_acc,
            test_acc=final.test_acc,
            train_loss=final.train_loss,
            test_loss=final.test_loss,
            seconds=fit.seconds,
            device=str(self.device),
            seed=seed,
            params=parameter_count(model),
            status="completed" if fit.diverged_at is None else "diverged",
            run_dir=run_dir,
            majority_acc=majority,
            learned_nothing=nothing,
            warning=warning,
            val_acc=final.val_acc,
            val_loss=final.val_loss,
            best_epoch=None if fit.best is None else fit.best.epoch,
            stopped_early=fit.stopped_early,
        )

    def scale_note(self) -> str | None:
        """Why the raw features want scaling, when they are not scaled (else None)."""
        return diagnosis.scale_note(self.split.X_train) if self.config.scale == "none" else None

    def _learned_nothing(self, test_acc: float, majority: float, epochs: int) -> str:
        answer = self.split.classes[diagnosis.majority_class(self.split.y_test)]
        config = self.config
        return diagnosis.learned_nothing_message(
            config.model, config.dataset, test_acc, majority, answer, self.scale_note(),
            epochs, config.lr,
        )  # fmt: skip


def prepare(
    model: Any,
    *,
    data: Any = None,
    registry: Registry = None,
    overrides: Mapping[str, Any] | None = None,
    device: str | None = None,
    opened: tuple[Plugins, Catalogues] | None = None,
) -> Experiment:
    """The experiment for ``model`` (a name, an ``nn.Module``, a class or a factory) on
    ``data`` (None: its configured dataset; a dataset name or CSV path; or ``(X, y)``);
    ``opened``: the plugins and catalogues, if the caller has them already."""
    settings = dict(overrides or {})
    arrays = data is not None and not isinstance(data, (str, os.PathLike))
    if data is not None and "dataset" in settings:
        raise ConfigError("give data= or dataset=, not both")
    if data is not None and not arrays:
        settings["dataset"] = str(data)
    plugins, catalogues = opened or open_zoo(registry)
    given = arrays_dataset(data) if arrays else None
    if isinstance(model, str):
        config, spec = resolve(model, plugins, catalogues, settings, given)
    else:
        spec = model_spec(model, plugins)
        config = resolve_spec(spec, spec.name, catalogues, settings, datasets=given or plugins)
    split = None
    if given is not None:
        config = replace(config, dataset="arrays", dataset_params={})
        split = load_split(given, {}, config.test_size, config.split_seed, config.val_size)
    target = resolve_device(device or config.device)
    return Experiment.prepare(config, spec, plugins, target, split)
