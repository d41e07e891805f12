"""The shared trainer: lesson 02's loop, for any model and dataset.

Per epoch: forward, loss on the raw logits, ``zero_grad``, ``backward``, ``step``; full batch
unless a batch size is set. At log points the model is evaluated on both splits in eval mode
under ``torch.inference_mode``; at checkpoint points the whole state goes to a callback. Per
epoch there is only one check that the loss is finite and one that no stop was asked for, so
the loop costs what a hand-written one costs. What happens at the end of an epoch is decided
by :class:`zoo.training.loop.TrainingLoop`, shared with the batched trainer.
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
from zoo.training.loop import Progress, RunTrack, Schedule, TrainingLoop, Weights
from zoo.training.optim import batch_order, build_optimizer
from zoo.training.records import FitResult, LogRow
from zoo.training.tasks import accuracy


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
            Schedule(config.epochs, config.log_interval, every), on_progress, should_stop
        )
        self.model, self.data, self.config = model, data, config
        self.on_log, self.on_checkpoint = on_log, on_checkpoint
        self.loss_fn = data.task.loss_function()
        self.optimizer = build_optimizer(model.parameters(), config)
        self.batches = batch_order(config, len(data.X_train), data.X_train.device)
        # On CUDA, full batch: the step is captured once and replayed (the same kernels).
        self.engine = solo_engine(data.X_train.device.type, self.batches is None, self.optimizer)
        self.captured = CapturedStep(self._whole_step, self.engine)

    def fit(self, resume: Checkpoint | None = None) -> FitResult:
        with torch_threads(self.config.threads):
            if resume is None:
                self.tracks = [RunTrack(self.log_rows(0), self.weights(0))]
                first, earlier = 1, 0.0
            else:
                self.tracks = [RunTrack(list(resume.history), resume.kept, resume.kept_epoch)]
                first, earlier = resume.epoch + 1, resume.seconds
                self._restore(resume)
            self.model.train()
            return self.run(first, earlier)[0]

    def train_epoch(self, epoch: int) -> None:
        data, step = self.data, self._step
        if self.batches is None and self.engine.graphs:
            loss = self.captured().item()
        elif self.batches is None:
            loss = step(data.X_train, data.y_train)
        else:
            for rows in self.batches.next_epoch():
                loss = step(data.X_train[rows], data.y_train[rows])
                if not math.isfinite(loss):
                    break
        if not math.isfinite(loss):
            self.tracks[0].diverged_at = epoch

    def _step(self, X: torch.Tensor, y: torch.Tensor) -> float:
        loss = self.loss_fn(self.data.task.logits(self.model(X)), y)
        value: float = loss.item()
        if math.isfinite(value):  # never step on a NaN: the weights stay as they were
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
        return value

    def _whole_step(self) -> torch.Tensor:
        """A full-batch step that steps whatever the loss (a graph cannot branch on it): a
        non-finite loss still ends the run, which then restores the last good weights."""
        data = self.data
        loss = self.loss_fn(data.task.logits(self.model(data.X_train)), data.y_train)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.detach()

    def log_rows(self, epoch: int) -> list[LogRow]:
        row = LogRow(epoch, *evaluate(self.model, self.data, self.loss_fn))
        if self.on_log is not None and row.finite():
            self.on_log(row)
        return [row]

    def weights(self, member: int) -> Weights:
        return {k: v.detach().clone() for k, v in self.model.state_dict().items()}

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
                list(track.history),
                seconds,
                rng,
            )
        )
        return True

    def check_resume(self, checkpoint: Checkpoint) -> None:
        """Raise ValueError naming the first thing in ``checkpoint`` this trainer cannot go on
        from; nothing is changed (the model, its optimizer and the generators stay as they
        were), so a caller can check before it touches anything."""
        check_fits(checkpoint, self.model, self.optimizer)
        if checkpoint.epoch > self.schedule.epochs:
            raise ValueError(
                f"epoch: {checkpoint.epoch}, after the run's last ({self.schedule.epochs})"
            )
        batches = checkpoint.rng.get("batches")
        if self.batches is not None and batches is not None:
            if batches.numel() != self.batches.generator.get_state().numel():
                raise ValueError("rng.batches: not a state of the batch order's generator")
        self._trial(checkpoint)

    def _restore(self, checkpoint: Checkpoint) -> None:
        self.check_resume(checkpoint)
        self.model.load_state_dict(checkpoint.model)
        self.optimizer.load_state_dict(checkpoint.optimizer)
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
            optimizer.load_state_dict(copy.deepcopy(checkpoint.optimizer))  # its own buffers
            for parameter in model.parameters():
                parameter.grad = torch.zeros_like(parameter)
            optimizer.step()
        except Exception as exc:
            raise ValueError(
                f"optimizer: its saved state does not work ({_first_line(exc)})"
            ) from None


def _first_line(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


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
