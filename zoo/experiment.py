"""One model on one dataset: the split, ready on its device, and the model built per seed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from zoo.config import TrainConfig
from zoo.data import Split, load_split
from zoo.models import build_model, check_output, factory_kwargs
from zoo.registry import ModelSpec, Registry
from zoo.tasks import Task
from zoo.trainer import TensorSplit


@dataclass(frozen=True)
class Experiment:
    config: TrainConfig
    spec: ModelSpec
    split: Split
    data: TensorSplit
    kwargs: dict[str, Any]  # what the factory is called with
    device: torch.device

    @classmethod
    def prepare(
        cls, config: TrainConfig, spec: ModelSpec, registry: Registry, device: torch.device
    ) -> Experiment:
        """Load and split the data, and check that the model can be built for it."""
        dataset = registry.dataset(config.dataset)
        split = load_split(dataset, config.dataset_params, config.test_size, config.split_seed)
        task = Task(split.class_count)
        kwargs = factory_kwargs(spec, config.params, split.features, task.out_features)
        experiment = cls(config, spec, split, TensorSplit.from_split(split, device), kwargs, device)
        experiment.build(config.seed)  # a model that does not fit the data fails here, early
        return experiment

    @property
    def task(self) -> Task:
        return self.data.task

    def build(self, seed: int) -> nn.Module:
        """A fresh model, its weights decided by ``seed``: seeded before it is built."""
        torch.manual_seed(seed)
        model = build_model(self.spec, self.kwargs).to(self.device)
        check_output(model, self.spec, self.task, self.data.X_train[:4], self.split.name)
        return model
