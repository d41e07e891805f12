"""The shared trainer: lesson 02's loop, for any model and dataset.

Per epoch: forward, loss on the raw logits, ``zero_grad``, ``backward``, ``step``; full batch
unless a batch size is set; the step's loss and the accuracy of the same logits are kept for
every epoch, as the lesson's loop computes them. At log points the model is evaluated on
every split in eval mode under ``torch.inference_mode``; at checkpoint points the whole
state goes to a callback. Per epoch there is only one check that the loss is finite and one
that no stop was asked for, so the loop costs what a hand-written one costs. What happens at
the end of an epoch is decided by :class:`zoo.training.loop.TrainingLoop`, shared with the
batched trainer.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from zoo.config.resolve import TrainConfig
from zoo.training.checkpoint import Checkpoint, check_fits
from zoo.training.devices import torch_threads
from zoo.training.engine import CapturedStep, solo_engine
from zoo.training.experiment import TensorSplit
from zoo.training.loop import RunTrack, Schedule, TrainingLoop, Weights
from zoo.training.optim import (
    batch_order,
    build_optimizer,
    build_scheduler,
    step,
    validates_every_epoch,
)
from zoo.training.records import FitResult, LogRow, Progress
from zoo.training.tasks import Task, accuracy


class Trainer(TrainingLoop):
    """Trains one model on one split with one configuration.

    ``on_log`` receives each finite log row; ``on_checkpoint`` a :class:`Checkpoint` every
    ``config.checkpoint_interval`` epochs and at the end; ``should_stop`` is asked after every
    epoch, and a yes ends the training with a checkpoint (``FitResult.stopped_at``).
    ``fit(resume=checkpoint)`` goes on from a checkpoint exactly as the run that wrote it
    would have gone on.
    """

    def __init__(
        self,
        model: nn.Module,
        data: TensorSplit,
        config: TrainConfig,
        *,
        on_log: Callable[[LogRow], None] | None = None,
        on_progress: Progress | None = None,
        on_checkpoint: Callable[[Checkpoint], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> None:
        every = config.checkpoint_interval if on_checkpoint is not None else None
        super().__init__(
            Schedule(config.epochs, config.log_interval, every),
            on_progress,
            should_stop,
            on_log,
            patience=config.early_stop,
            validate_every_epoch=validates_every_epoch(config),
        )
        self.model, self.data, self.config = model, data, config
        self.on_checkpoint = on_checkpoint
        self.loss_fn = data.task.loss_function()
        self.optimizer = build_optimizer(model.parameters(), config)
        self.scheduler = build_scheduler(self.optimizer, config)
        self.batches = batch_order(config, len(data.X_train), data.X_train.device)
        # On CUDA, full batch: the step is captured once and replayed (the same kernels).
        self.engine = solo_engine(
            data.X_train.device.type, self.batches is None, self.optimizer, self.scheduler
        )
        self.captured = CapturedStep(self._whole_step, self.engine)
        self.best: Weights | None = None  # early stopping's best weights so far

    def fit(self, resume: Checkpoint | None = None) -> FitResult:
        with torch_threads(self.config.threads):
            if resume is None:
                self.begin(self.log_rows(0))
                first, earlier = 1, 0.0
            else:
                self._restore(resume)
                self.tracks = [
                    RunTrack(
                        list(resume.history),
                        resume.kept,
                        resume.kept_epoch,
                        steps=list(resume.steps),
                    )
                ]
                self._resume_early(resume.early)
                first, earlier = resume.epoch + 1, resume.seconds
            self.model.train()
            return self.run(first, earlier)[0]

    def train_epoch(self, epoch: int) -> list[tuple[float, float]]:
        """The epoch's steps; their loss (over mini-batches, weighted by rows) and accuracy."""
        data, step = self.data, self._step
        rows = len(data.y_train)
        if self.batches is None and self.engine.graphs:
            loss, correct = self.captured().tolist()
        elif self.batches is None:
            loss, correct = step(data.X_train, data.y_train)
        else:
            total = correct = 0.0
            for batch in self.batches.next_epoch():
                value, right = step(data.X_train[batch], data.y_train[batch])
                total, correct = total + value * len(batch), correct + right
                if not math.isfinite(value):
                    break
            loss = total / rows
        if not math.isfinite(loss):
            self.tracks[0].diverged_at = epoch
        return [(loss, correct / rows * 100)]

    def _step(self, X: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
        """One step; the loss before it, and how many of the same logits' labels were right."""
        logits = self.data.task.logits(self.model(X))
        loss = self.loss_fn(logits, y)
        value: float = loss.item()
        if math.isfinite(value):  # never step on a NaN: the weights stay as they were
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
        right: float = torch.eq(self.data.task.labels(logits.detach()), y).sum().item()
        return value, right

    def _whole_step(self) -> torch.Tensor:
        """A full-batch step that steps whatever the loss (a graph cannot branch on it): a
        non-finite loss still ends the run, which then restores the last good weights.
        Returns (loss, labels right) as one tensor."""
        data = self.data
        logits = data.task.logits(self.model(data.X_train))
        loss = self.loss_fn(logits, data.y_train)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        right = torch.eq(data.task.labels(logits.detach()), data.y_train).sum()
        return torch.stack([loss.detach(), right.to(loss.dtype)])

    def log_rows(self, epoch: int) -> list[LogRow]:
        train_and_test = evaluate(self.model, self.data, self.loss_fn)
        val = self.validate()[0] if self.data.X_val is not None else (None, None)
        return [LogRow(epoch, *train_and_test, *val)]

    def validate(self) -> list[tuple[float, float]]:
        data = self.data
        assert data.X_val is not None and data.y_val is not None
        return [split_scores(self.model, data.task, data.X_val, data.y_val, self.loss_fn)]

    def step_schedules(self, val_losses: list[float] | None) -> None:
        step(self.scheduler, val_losses[0] if val_losses else None)

    def weights(self, member: int) -> Weights:
        return {k: v.detach().clone() for k, v in self.model.state_dict().items()}

    def keep_best(self, members: list[int]) -> None:
        self.best = self.weights(0)

    def best_weights(self, member: int) -> Weights:
        assert self.best is not None
        return self.best

    def restore(self, member: int, weights: Weights) -> None:
        self.model.load_state_dict(weights)

    def checkpoint(self, epoch: int, seconds: float) -> bool:
        if not all(bool(torch.isfinite(p).all()) for p in self.model.parameters()):
            return False
        assert self.on_checkpoint is not None  # the schedule has checkpoints only then
        track = self.tracks[0]
        rng: dict[str, Any] = {"torch": torch.get_rng_state()}
        if self.batches is not None:
            rng["batches"] = self.batches.generator.get_state()
        if torch.cuda.is_available():
            rng["cuda"] = torch.cuda.get_rng_state_all()
        self.on_checkpoint(
            Checkpoint(
                epoch,
                self.weights(0),
                self.optimizer.state_dict(),
                track.kept,
                track.kept_epoch,
                track.history,  # read at once by the saver: not copied
                seconds,
                rng,
                track.steps,
                None if self.scheduler is None else self.scheduler.state_dict(),
                self._early_state(),
            )
        )
        return True

    def _early_state(self) -> dict[str, Any] | None:
        if not self.patience:
            return None
        track = self.tracks[0]
        return {
            "best_loss": track.best_loss,
            "best_epoch": track.best_epoch,
            "stopped_at": track.stopped_early_at,
            "best": self.best,
        }

    def _resume_early(self, early: dict[str, Any] | None) -> None:
        if early is None:
            return
        track = self.tracks[0]
        track.best_loss, track.best_epoch = float(early["best_loss"]), early["best_epoch"]
        track.stopped_early_at = early["stopped_at"]
        self.best = early["best"]

    def check_resume(self, checkpoint: Checkpoint) -> None:
        """Raise ValueError naming the first thing in ``checkpoint`` this trainer cannot go on
        from; nothing is changed (the model, its optimizer and the generators stay as they
        were), so a caller can check before it touches anything."""
        check_fits(checkpoint, self.model, self.optimizer, self.scheduler, self.patience)
        if checkpoint.epoch > self.schedule.epochs:
            raise ValueError(
                f"epoch: {checkpoint.epoch}, after the run's last ({self.schedule.epochs})"
            )
        batches = checkpoint.rng.get("batches")
        if (
            self.batches is not None
            and batches is not None
            and batches.numel() != self.batches.generator.get_state().numel()
        ):
            raise ValueError("rng.batches: not a state of the batch order's generator")
        self._trial(checkpoint)

    def _restore(self, checkpoint: Checkpoint) -> None:
        self.check_resume(checkpoint)
        self.model.load_state_dict(checkpoint.model)
        self.optimizer.load_state_dict(checkpoint.optimizer)
        if self.scheduler is not None and checkpoint.scheduler is not None:
            self.scheduler.load_state_dict(checkpoint.scheduler)
        torch.set_rng_state(checkpoint.rng["torch"])
        if self.batches is not None and "batches" in checkpoint.rng:
            self.batches.generator.set_state(checkpoint.rng["batches"])
        if "cuda" in checkpoint.rng and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(checkpoint.rng["cuda"])

    def _trial(self, checkpoint: Checkpoint) -> None:
        """Restore ``checkpoint`` into a copy and take one step with it: a state that passed
        the checks but that torch cannot use fails here, not in the middle of training."""
        try:
            with torch.random.fork_rng(devices=[]):
                torch.set_rng_state(checkpoint.rng["torch"])
        except Exception as exc:
            raise ValueError(
                f"rng.torch: not a usable generator state ({_first_line(exc)})"
            ) from None
        try:
            model = copy.deepcopy(self.model)
        except Exception:  # a model that cannot be copied: the checks above must do
            return
        try:
            model.load_state_dict(checkpoint.model)
            optimizer = build_optimizer(model.parameters(), self.config)
            scheduler = build_scheduler(optimizer, self.config)
            optimizer.load_state_dict(copy.deepcopy(checkpoint.optimizer))  # its own buffers
            for parameter in model.parameters():
                parameter.grad = torch.zeros_like(parameter)
            optimizer.step()
        except Exception as exc:
            raise ValueError(
                f"optimizer: its saved state does not work ({_first_line(exc)})"
            ) from None
        try:
            if scheduler is not None and checkpoint.scheduler is not None:
                scheduler.load_state_dict(copy.deepcopy(checkpoint.scheduler))
                step(scheduler, 0.0)
        except Exception as exc:
            raise ValueError(
                f"scheduler: its saved state does not work ({_first_line(exc)})"
            ) from None


def _first_line(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def evaluate(
    model: nn.Module, data: TensorSplit, loss_fn: nn.Module | None = None
) -> tuple[float, float, float, float]:
    """(train loss, train accuracy, test loss, test accuracy) in eval mode."""
    loss_fn = loss_fn or data.task.loss_function()
    train = split_scores(model, data.task, data.X_train, data.y_train, loss_fn)
    test = split_scores(model, data.task, data.X_test, data.y_test, loss_fn)
    return train[0], train[1], test[0], test[1]


def split_scores(
    model: nn.Module, task: Task, X: torch.Tensor, y: torch.Tensor, loss_fn: nn.Module
) -> tuple[float, float]:
    """(loss, accuracy) of one split: one forward pass in eval mode, under inference_mode."""
    was_training = model.training
    model.eval()
    with torch.inference_mode():
        logits = task.logits(model(X))
        scores = loss_fn(logits, y).item(), accuracy(task.labels(logits), y)
    model.train(was_training)
    return scores
