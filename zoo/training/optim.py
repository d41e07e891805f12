"""The optimizer and the mini-batch order of a run, and the checks on their settings."""

from __future__ import annotations

import inspect
from collections.abc import Iterable

import torch

from zoo.config.resolve import TrainConfig
from zoo.errors import ConfigError
from zoo.settings import OPTIMIZERS


def build_optimizer(
    parameters: Iterable[torch.Tensor], config: TrainConfig
) -> torch.optim.Optimizer:
    """``config.optimizer`` from torch.optim with the options it takes (see :func:`options`)."""
    optimizer_class = getattr(torch.optim, OPTIMIZERS[config.optimizer])
    optimizer: torch.optim.Optimizer = optimizer_class(parameters, **options(config))
    return optimizer


def options(config: TrainConfig) -> dict[str, float]:
    """The keyword arguments of ``config.optimizer``: ``lr``, and the others it accepts.

    ``momentum`` and ``weight_decay`` reach only optimizers that accept them. One the caller
    set explicitly for an optimizer without it is an error; one inherited from a default is
    left out.
    """
    name = config.optimizer
    accepted = inspect.signature(getattr(torch.optim, OPTIMIZERS[name])).parameters
    found = {"lr": config.lr}
    for key in ("momentum", "weight_decay"):
        value = getattr(config, key)
        if key in accepted:
            found[key] = value
        elif value and config.sources.get(key) == "override":
            raise ConfigError(f"optimizer {name!r} takes no {key}; use sgd or rmsprop for it")
    return found


class BatchOrder:
    """Each epoch's mini-batches, shuffled by a generator seeded with the run's order seed.

    The generator's state is part of a checkpoint, so a resumed run draws the same batches.
    """

    def __init__(self, rows: int, size: int, seed: int, device: torch.device) -> None:
        self.rows, self.size, self.device = rows, size, device
        self.generator = torch.Generator().manual_seed(seed)

    def next_epoch(self) -> list[torch.Tensor]:
        order = torch.randperm(self.rows, generator=self.generator).to(self.device)
        return list(torch.split(order, self.size))


def batch_size(config: TrainConfig, rows: int) -> int | None:
    """Rows per step, or None for full batch; a size larger than the data is an error."""
    size = None if config.batch_size == "full" else int(config.batch_size)
    if size is not None and size > rows:
        raise ConfigError(
            f"batch size {size} is larger than the {rows} training rows; "
            f"use at most {rows}, or 'full' for full batch"
        )
    return None if size == rows else size


def batch_order(config: TrainConfig, rows: int, device: torch.device) -> BatchOrder | None:
    """None for full batch; else the run's mini-batch order."""
    size = batch_size(config, rows)
    return None if size is None else BatchOrder(rows, size, config.batch_seed, device)
