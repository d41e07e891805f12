"""The shared trainer: lesson 02's loop, for any model and dataset.

Per epoch: forward, loss on the raw logits, ``zero_grad``, ``backward``, ``step``; full batch
unless a batch size is set. At log points the model is evaluated on both splits in eval mode
under ``torch.inference_mode``; at checkpoint points the whole state goes to a callback. Per
epoch there is only one check that the loss is finite and one that no stop was asked for, so
the loop costs what a hand-written one costs.
"""

from __future__ import annotations

import inspect
import math
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

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
    epochs: int  # epochs behind the final weights; fewer than asked when stopped early
    diverged_at: int | None = None  # the epoch whose loss was not finite
    kept_epoch: int | None = None  # after divergence: the epoch whose weights were kept
    stopped_at: int | None = None  # the epoch after which a stop was requested

    @property
    def final(self) -> LogRow:
        return self.history[-1]


@dataclass
class RunTrack:
    """One run's log so far and the weights of its last good log point.

    A log row with a non-finite loss is not kept: it marks the run as diverged, and the run
    ends with the kept weights. The ordinary and the batched trainer both keep one per seed.
    """

    history: list[LogRow]
    kept: dict[str, torch.Tensor]
    kept_epoch: int = 0
    diverged_at: int | None = None

    def record(self, row: LogRow, weights: Callable[[], dict[str, torch.Tensor]]) -> bool:
        """Keep a finite row and ``weights()`` behind it; else mark divergence. True if kept."""
        if not row.finite():
            self.diverged_at = row.epoch
            return False
        self.history.append(row)
        self.kept, self.kept_epoch = weights(), row.epoch
        return True

    def result(self, seconds: float, epochs: int) -> FitResult:
        """The outcome after ``epochs`` epochs, or at the kept weights when it diverged."""
        if self.diverged_at is None:
            return FitResult(self.history, seconds, epochs)
        return FitResult(self.history, seconds, self.kept_epoch, self.diverged_at, self.kept_epoch)

    def stopped(self, seconds: float, epoch: int) -> FitResult:
        """The outcome of a run asked to stop after ``epoch``."""
        return FitResult(self.history, seconds, epoch, stopped_at=epoch)


@dataclass
class Checkpoint:
    """Everything a run needs to go on exactly as if it had never stopped.

    Only tensors, numbers, text, lists and dicts: it loads with ``weights_only=True``.
    """

    epoch: int  # epochs completed
    model: dict[str, torch.Tensor]
    optimizer: dict[str, Any]
    kept: dict[str, torch.Tensor]  # the weights of the last good log point
    kept_epoch: int
    history: list[LogRow]
    seconds: float
    rng: dict[str, Any]  # the global torch generator's state and the batch order's

    def to_dict(self) -> dict[str, Any]:
        return {
            "epoch": self.epoch,
            "model": self.model,
            "optimizer": self.optimizer,
            "kept": self.kept,
            "kept_epoch": self.kept_epoch,
            "history": [row.to_dict() for row in self.history],
            "seconds": self.seconds,
            "rng": self.rng,
        }

    @classmethod
    def from_dict(cls, data: Any) -> Checkpoint:
        """Rebuild from a loaded file; raises ValueError when it is not a zoo checkpoint."""
        try:
            checkpoint = cls(
                epoch=data["epoch"],
                model=data["model"],
                optimizer=data["optimizer"],
                kept=data["kept"],
                kept_epoch=data["kept_epoch"],
                history=[LogRow(**row) for row in data["history"]],
                seconds=float(data["seconds"]),
                rng=data["rng"],
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"missing or malformed field: {exc}") from None
        for name, state in (("model", checkpoint.model), ("kept", checkpoint.kept)):
            if not is_state_dict(state):
                raise ValueError(f"{name} is not a state_dict of tensors")
        if not isinstance(checkpoint.epoch, int) or checkpoint.epoch < 0 or not checkpoint.history:
            raise ValueError("epoch or history is malformed")
        if not isinstance(checkpoint.rng, dict) or not isinstance(
            checkpoint.rng.get("torch"), torch.Tensor
        ):
            raise ValueError("the random number generator states are missing")
        return checkpoint


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
    """Trains one model on one split with one configuration.

    ``on_checkpoint`` receives a :class:`Checkpoint` every ``config.checkpoint_interval``
    epochs and at the end; ``should_stop`` is asked after every epoch, and a yes ends the
    training with a checkpoint (``FitResult.stopped_at``). ``fit(resume=checkpoint)`` goes
    on from a checkpoint exactly as the run that wrote it would have gone on.
    """

    model: nn.Module
    data: TensorSplit
    config: TrainConfig
    on_log: Callable[[LogRow], None] | None = None
    on_progress: Callable[[int, float], None] | None = None  # (epoch, loss), every epoch
    on_checkpoint: Callable[[Checkpoint], None] | None = None
    should_stop: Callable[[], bool] | None = None
    loss_fn: nn.Module = field(init=False)
    optimizer: torch.optim.Optimizer = field(init=False)
    batches: BatchOrder | None = field(init=False)  # None: full batch

    def __post_init__(self) -> None:
        self.loss_fn = self.data.task.loss_function()
        self.optimizer = build_optimizer(self.model.parameters(), self.config)
        self.batches = batch_order(self.config, len(self.data.X_train), self.data.X_train.device)

    def fit(self, resume: Checkpoint | None = None) -> FitResult:
        with torch_threads(self.config.threads):
            return self._fit(resume)

    def _fit(self, resume: Checkpoint | None) -> FitResult:
        model, data, config = self.model, self.data, self.config
        interval, last = config.log_interval, config.epochs
        every = config.checkpoint_interval if self.on_checkpoint is not None else None
        if resume is None:
            track = RunTrack([self._log(0)], _snapshot(model))
            first, earlier = 1, 0.0
        else:
            track = RunTrack(list(resume.history), resume.kept, resume.kept_epoch)
            first, earlier = resume.epoch + 1, resume.seconds
            self._restore(resume)
        batches, step, weights = self.batches, self._step, partial(_snapshot, model)
        model.train()
        start = time.perf_counter()
        for epoch in range(first, last + 1):
            if batches is None:
                loss = step(data.X_train, data.y_train)
            else:
                for rows in batches.next_epoch():
                    loss = step(data.X_train[rows], data.y_train[rows])
                    if not math.isfinite(loss):
                        break
            if self.on_progress is not None:
                self.on_progress(epoch, loss)
            diverged = not math.isfinite(loss)
            if not diverged and (epoch % interval == 0 or epoch == last):
                diverged = not track.record(self._log(epoch), weights)
            stop = not diverged and self.should_stop is not None and self.should_stop()
            if not diverged and every is not None and (stop or epoch % every == 0 or epoch == last):
                diverged = not _finite(model)  # a checkpoint never holds broken weights
                if not diverged:
                    seconds = earlier + time.perf_counter() - start
                    self.on_checkpoint(self._checkpoint(epoch, track, seconds))
            seconds = earlier + time.perf_counter() - start
            if diverged:
                track.diverged_at = epoch
                model.load_state_dict(track.kept)
                return track.result(seconds, last)
            if stop and epoch < last:
                return track.stopped(seconds, epoch)
        return track.result(earlier + time.perf_counter() - start, last)

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

    def _checkpoint(self, epoch: int, track: RunTrack, seconds: float) -> Checkpoint:
        rng: dict[str, Any] = {"torch": torch.get_rng_state()}
        if self.batches is not None:
            rng["batches"] = self.batches.generator.get_state()
        if torch.cuda.is_available():
            rng["cuda"] = torch.cuda.get_rng_state_all()
        return Checkpoint(
            epoch,
            _snapshot(self.model),
            self.optimizer.state_dict(),
            track.kept,
            track.kept_epoch,
            list(track.history),
            seconds,
            rng,
        )

    def _restore(self, checkpoint: Checkpoint) -> None:
        self.model.load_state_dict(checkpoint.model)
        self.optimizer.load_state_dict(checkpoint.optimizer)
        torch.set_rng_state(checkpoint.rng["torch"])
        if self.batches is not None and "batches" in checkpoint.rng:
            self.batches.generator.set_state(checkpoint.rng["batches"])
        if "cuda" in checkpoint.rng and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(checkpoint.rng["cuda"])


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


class BatchOrder:
    """Each epoch's mini-batches, shuffled by a generator seeded with the run's seed.

    The generator's state is part of a checkpoint, so a resumed run draws the same batches.
    """

    def __init__(self, rows: int, size: int, seed: int, device: torch.device) -> None:
        self.rows, self.size, self.device = rows, size, device
        self.generator = torch.Generator().manual_seed(seed)

    def next_epoch(self) -> list[torch.Tensor]:
        order = torch.randperm(self.rows, generator=self.generator).to(self.device)
        return list(torch.split(order, self.size))


def batch_order(config: TrainConfig, rows: int, device: torch.device) -> BatchOrder | None:
    """None for full batch; else the run's mini-batch order."""
    size = None if config.batch_size == "full" else int(config.batch_size)
    if size is not None and size > rows:
        raise ConfigError(
            f"batch size {size} is larger than the {rows} training rows; "
            f"use at most {rows}, or 'full' for full batch"
        )
    if size is None or size == rows:
        return None
    return BatchOrder(rows, size, config.seed, device)


def is_state_dict(value: Any) -> bool:
    """A mapping of parameter names to tensors, and nothing else."""
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in value.items()
    )


def _finite(model: nn.Module) -> bool:
    return all(bool(torch.isfinite(p).all()) for p in model.parameters())


def _snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}
