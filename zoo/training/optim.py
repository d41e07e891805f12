"""The optimizer, its learning-rate schedule and the mini-batch order of a run, and the
checks on their settings."""

from __future__ import annotations

import inspect
from collections.abc import Iterable

import torch

from zoo.config.resolve import TrainConfig
from zoo.errors import ConfigError
from zoo.settings import OPTIMIZERS

Scheduler = torch.optim.lr_scheduler.LRScheduler | torch.optim.lr_scheduler.ReduceLROnPlateau
# The settings each schedule reads besides lr_schedule itself.
SCHEDULE_SETTINGS = {
    "none": (),
    "cosine": (),
    "step": ("lr_step_size", "lr_gamma"),
    "plateau": ("lr_gamma", "lr_patience"),
}
NEEDS_VALIDATION = "there is no validation split: add --val-size F (val_size=F in Python), e.g. 0.2"


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


def build_scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig) -> Scheduler | None:
    """``config.lr_schedule`` over ``optimizer``, stepped once an epoch (see :func:`step`);
    None for ``none``. Cosine anneals to 0 at the run's last epoch."""
    schedules = torch.optim.lr_scheduler
    name = config.lr_schedule
    if name == "cosine":
        return schedules.CosineAnnealingLR(optimizer, T_max=config.epochs)
    if name == "step":
        return schedules.StepLR(optimizer, step_size=config.lr_step_size, gamma=config.lr_gamma)
    if name == "plateau":
        return schedules.ReduceLROnPlateau(
            optimizer, mode="min", factor=config.lr_gamma, patience=config.lr_patience
        )
    return None


def step(scheduler: Scheduler | None, val_loss: float | None) -> None:
    """The schedule's step at the end of an epoch: plateau's on the validation loss."""
    if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
        assert val_loss is not None  # plateau runs validate every epoch
        scheduler.step(val_loss)
    elif scheduler is not None:
        scheduler.step()


def schedule_options(config: TrainConfig) -> None:
    """Refuse a schedule setting the schedule does not read (when set explicitly), and the
    plateau schedule without a validation split to watch."""
    name = config.lr_schedule
    if name == "plateau" and not config.val_size:
        raise ConfigError(
            f"the plateau schedule watches the validation loss, and {NEEDS_VALIDATION}"
        )
    for key in ("lr_step_size", "lr_gamma", "lr_patience"):
        if key not in SCHEDULE_SETTINGS[name] and config.sources.get(key) == "override":
            takers = [s for s, keys in SCHEDULE_SETTINGS.items() if key in keys]
            raise ConfigError(
                f"{key} is for --lr-schedule {' or '.join(takers)}; this run's schedule is {name!r}"
            )


def validates_every_epoch(config: TrainConfig) -> bool:
    """Early stopping and the plateau schedule decide on each epoch's validation loss."""
    return bool(config.early_stop) or config.lr_schedule == "plateau"


def check_early_stop(config: TrainConfig) -> None:
    if config.early_stop and not config.val_size:
        raise ConfigError(f"early stopping watches the validation loss, and {NEEDS_VALIDATION}")


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
