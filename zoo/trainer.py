"""The shared trainer: lesson 02's loop, for any model and dataset.

Per epoch: forward, loss on the raw logits, ``zero_grad``, ``backward``, ``step``; full batch
unless a batch size is set. At log points the model is evaluated on both splits in eval mode
under ``torch.inference_mode``. Nothing else happens per epoch but one check that the loss is
finite, so the loop costs what a hand-written one costs.
"""

from __future__ import annotations

import inspect
import math
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import nn

from zoo.config import TrainConfig
from zoo.data import Split
from zoo.errors import ConfigError
from zoo.settings import OPTIMIZERS
from zoo.tasks import Task, accuracy


@dataclass(frozen=True)
class LogRow:
    epoch: int  # epochs completed; 0 is the untrained model
    train_loss: float
    train_acc: float
    test_loss: float
    test_acc: float

    def line(self) -> str:
        """The lesson's log line."""
        return (
            f"Epoch: {self.epoch} | Loss: {self.train_loss:.5f}, Accuracy: {self.train_acc:.2f}% "
            f"| Test loss: {self.test_loss:.5f}, Test acc: {self.test_acc:.2f}%"
        )

    def finite(self) -> bool:
        return math.isfinite(self.train_loss) and math.isfinite(self.test_loss)

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass
class FitResult:
    history: list[LogRow]
    seconds: float  # the training loop, log-point evaluations included
    epochs: int  # epochs behind the final weights; fewer than asked when the loss diverged
    diverged_at: int | None = None  # the epoch whose loss was not finite
    kept_epoch: int | None = None  # after divergence: the epoch whose weights were kept

    @property
    def final(self) -> LogRow:
        return self.history[-1]


@dataclass(frozen=True)
class TensorSplit:
    """A split as tensors on the training device, targets in the loss's dtype."""

    task: Task
    X_train: torch.Tensor
    y_train: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor

    @classmethod
    def from_split(cls, split: Split, device: torch.device) -> TensorSplit:
        task = Task(split.class_count)

        def tensor(array: np.ndarray) -> torch.Tensor:
            return torch.tensor(array, device=device)  # a copy in torch's own aligned memory

        return cls(
            task,
            tensor(split.X_train),
            task.targets(tensor(split.y_train)),
            tensor(split.X_test),
            task.targets(tensor(split.y_test)),
        )


@dataclass
class Trainer:
    """Trains one model on one split with one configuration."""

    model: nn.Module
    data: TensorSplit
    config: TrainConfig
    on_log: Callable[[LogRow], None] | None = None
    on_progress: Callable[[int, float], None] | None = None  # (epoch, loss), every epoch
    loss_fn: nn.Module = field(init=False)
    optimizer: torch.optim.Optimizer = field(init=False)
    batches: Iterator[list[torch.Tensor]] | None = field(init=False)  # None: full batch

    def __post_init__(self) -> None:
        self.loss_fn = self.data.task.loss_function()
        self.optimizer = build_optimizer(self.model.parameters(), self.config)
        self.batches = batch_order(self.config, len(self.data.X_train), self.data.X_train.device)

    def fit(self) -> FitResult:
        with torch_threads(self.config.threads):
            return self._fit()

    def _fit(self) -> FitResult:
        model, data, config = self.model, self.data, self.config
        interval, last = config.log_interval, config.epochs
        history = [self._log(0)]
        kept, kept_epoch = _snapshot(model), 0
        batches, step = self.batches, self._step
        model.train()
        start = time.perf_counter()
        for epoch in range(1, last + 1):
            if batches is None:
                loss = step(data.X_train, data.y_train)
            else:
                for rows in next(batches):
                    loss = step(data.X_train[rows], data.y_train[rows])
                    if not math.isfinite(loss):
                        break
            if self.on_progress is not None:
                self.on_progress(epoch, loss)
            diverged = not math.isfinite(loss)
            if not diverged and (epoch % interval == 0 or epoch == last):
                row = self._log(epoch)
                diverged = not row.finite()
                if not diverged:
                    history.append(row)
                    kept, kept_epoch = _snapshot(model), epoch
            if diverged:
                model.load_state_dict(kept)
                seconds = time.perf_counter() - start
                return FitResult(history, seconds, kept_epoch, epoch, kept_epoch)
        return FitResult(history, time.perf_counter() - start, last)

    def _step(self, X: torch.Tensor, y: torch.Tensor) -> float:
        loss = self.loss_fn(self.data.task.logits(self.model(X)), y)
        value = loss.item()
        if math.isfinite(value):  # never step on a NaN: the weights stay as they were
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
        return value

    def _log(self, epoch: int) -> LogRow:
        row = LogRow(epoch, *evaluate(self.model, self.data, self.loss_fn))
        if self.on_log is not None and row.finite():
            self.on_log(row)
        return row


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Run the block with ``count`` torch threads, then restore the process's setting.

    Sums split across threads round differently, so the thread count is part of what makes
    a run reproducible; small models are also fastest on one thread.
    """
    previous = torch.get_num_threads()
    if previous != count:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        if previous != count:
            torch.set_num_threads(previous)


def evaluate(
    model: nn.Module, data: TensorSplit, loss_fn: nn.Module | None = None
) -> tuple[float, float, float, float]:
    """(train loss, train accuracy, test loss, test accuracy) in eval mode."""
    loss_fn = loss_fn or data.task.loss_function()
    was_training = model.training
    model.eval()
    with torch.inference_mode():
        scores = []
        for X, y in ((data.X_train, data.y_train), (data.X_test, data.y_test)):
            logits = data.task.logits(model(X))
            scores += [loss_fn(logits, y).item(), accuracy(data.task.labels(logits), y)]
    model.train(was_training)
    return scores[0], scores[1], scores[2], scores[3]


def build_optimizer(
    parameters: Iterable[torch.Tensor], config: TrainConfig
) -> torch.optim.Optimizer:
    """``config.optimizer`` from torch.optim with the options it takes.

    ``momentum`` and ``weight_decay`` reach only optimizers that accept them. One the caller
    set explicitly for an optimizer without it is an error; one inherited from a default is
    left out.
    """
    name = config.optimizer
    optimizer_class = getattr(torch.optim, OPTIMIZERS[name])
    accepted = inspect.signature(optimizer_class).parameters
    options = {"lr": config.lr}
    for key in ("momentum", "weight_decay"):
        value = getattr(config, key)
        if key in accepted:
            options[key] = value
        elif value and config.sources.get(key) == "override":
            raise ConfigError(f"optimizer {name!r} takes no {key}; use sgd or rmsprop for it")
    return optimizer_class(parameters, **options)


def batch_order(
    config: TrainConfig, rows: int, device: torch.device
) -> Iterator[list[torch.Tensor]] | None:
    """None for full batch; else, per epoch, the row indices of each mini-batch."""
    size = None if config.batch_size == "full" else int(config.batch_size)
    if size is not None and size > rows:
        raise ConfigError(
            f"batch size {size} is larger than the {rows} training rows; "
            f"use at most {rows}, or 'full' for full batch"
        )
    if size is None or size == rows:
        return None
    generator = torch.Generator().manual_seed(config.seed)

    def epochs() -> Iterator[list[torch.Tensor]]:
        while True:
            order = torch.randperm(rows, generator=generator).to(device)
            yield list(torch.split(order, size))

    return epochs()


def _snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}
