"""The skeleton every trainer shares: an epoch of lesson 02's loop, then one decision.

A trainer trains one or more *members* (one model, or K seeds stacked into one) and says how
to run an epoch, how to evaluate its members and how to checkpoint them; this module decides,
the same way for all of them, when to log, when to checkpoint, when a member has diverged
(its loss or its weights are no longer finite: it stops there and keeps the weights of its
last good log point), when a member stops early (its validation loss has not improved for
``patience`` epochs: it keeps its best weights), and when a requested stop ends the run.

With early stopping or the plateau schedule the validation split is evaluated after every
epoch (one forward pass in inference mode); otherwise only at log points, with the rest.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial

import torch

from zoo.training.records import EpochRow, FitResult, LogRow, Progress

Weights = dict[str, torch.Tensor]
Scores = list[tuple[float, float]]  # (loss, accuracy) of each member


@dataclass(frozen=True)
class Schedule:
    """When a loop logs and checkpoints: every so many epochs, and always at the last one."""

    epochs: int
    log_every: int
    checkpoint_every: int | None = None  # None: the loop writes no checkpoints

    def logs_at(self, epoch: int) -> bool:
        return epoch % self.log_every == 0 or epoch == self.epochs

    def checkpoints_at(self, epoch: int, stopping: bool) -> bool:
        every = self.checkpoint_every
        return every is not None and (stopping or epoch % every == 0 or epoch == self.epochs)


@dataclass
class RunTrack:
    """One member's log so far, the weights of its last good log point, and where early
    stopping stands (its best validation loss, and when that was)."""

    history: list[LogRow]
    kept: Weights
    kept_epoch: int = 0
    diverged_at: int | None = None
    steps: list[EpochRow] = field(default_factory=list)  # one per epoch, where recorded
    best_loss: float = math.inf
    best_epoch: int = 0
    stopped_early_at: int | None = None  # the epoch whose end ran out of patience

    @property
    def live(self) -> bool:
        """Still training: neither diverged nor stopped early."""
        return self.diverged_at is None and self.stopped_early_at is None

    def logs_at(self, epoch: int) -> bool:
        """Whether this member's row of ``epoch`` belongs to its history."""
        return self.diverged_at is None and self.stopped_early_at in (None, epoch)

    def record(self, row: LogRow, weights: Callable[[], Weights]) -> bool:
        """Keep a finite row and ``weights()`` behind it; a non-finite one is divergence."""
        if not row.finite():
            self.diverged_at = row.epoch
            return False
        self.history.append(row)
        self.kept, self.kept_epoch = weights(), row.epoch
        return True

    def result(self, seconds: float, epochs: int, best: LogRow | None) -> FitResult:
        """The outcome after ``epochs`` epochs, or at the kept weights when it diverged;
        ``best``: early stopping's row of the best weights, which the member ends with."""
        if self.diverged_at is not None:
            return FitResult(
                self.history,
                seconds,
                self.kept_epoch,
                self.diverged_at,
                self.kept_epoch,
                steps=self.steps,
            )
        stopped = self.stopped_early_at
        return FitResult(
            self.history,
            seconds,
            epochs if stopped is None else stopped,
            best=best,
            stopped_early=stopped is not None and stopped < epochs,
            steps=self.steps,
        )

    def stopped(self, seconds: float, epoch: int) -> FitResult:
        """The outcome of a run asked to stop after ``epoch``."""
        return FitResult(self.history, seconds, epoch, stopped_at=epoch, steps=self.steps)


class TrainingLoop:
    """Lesson 02's loop for every member at once, and the decision at the end of each epoch.

    Subclasses call :meth:`begin` with the untrained members' rows (or set :attr:`tracks`
    from a checkpoint) and implement :meth:`train_epoch`, :meth:`log_rows`, :meth:`weights`,
    :meth:`restore`, with a validation split :meth:`validate`, with early stopping
    :meth:`keep_best` and :meth:`best_weights`, and where their schedule has checkpoints
    :meth:`checkpoint`. ``patience``: early stopping's epochs (0: never stops early).
    """

    def __init__(
        self,
        schedule: Schedule,
        on_progress: Progress | None = None,
        should_stop: Callable[[], bool] | None = None,  # asked after every epoch
        on_log: Callable[[LogRow], None] | None = None,  # each finite row that is kept
        *,
        patience: int = 0,
        validate_every_epoch: bool = False,
    ) -> None:
        self.schedule = schedule
        self.on_progress = on_progress
        self.should_stop = should_stop
        self.on_log = on_log
        self.patience = patience
        self.validate_every_epoch = validate_every_epoch or patience > 0
        self.tracks: list[RunTrack] = []

    def train_epoch(self, epoch: int) -> Scores | None:
        """One epoch of forward, loss, ``zero_grad``, ``backward``, ``step`` for the live
        members; a member whose loss is not finite is marked diverged and takes no step.
        Returns each member's loss and accuracy as its steps saw them (None: not recorded)."""
        raise NotImplementedError

    def log_rows(self, epoch: int) -> list[LogRow]:
        """Every member's row (losses and accuracies on every split), in eval mode."""
        raise NotImplementedError

    def validate(self) -> Scores:
        """Every member's validation loss and accuracy, in eval mode."""
        raise NotImplementedError

    def step_schedules(self, val_losses: list[float] | None) -> None:
        """The learning-rate schedules' step at the end of an epoch (none by default)."""

    def weights(self, member: int) -> Weights:
        """A copy of one member's weights."""
        raise NotImplementedError

    def keep_best(self, members: list[int]) -> None:
        """Remember the weights of ``members`` now as their best (early stopping)."""
        raise NotImplementedError

    def best_weights(self, member: int) -> Weights:
        """What :meth:`keep_best` kept, in the form :meth:`restore` takes."""
        raise NotImplementedError

    def checkpoint(self, epoch: int, seconds: float) -> bool:
        """Save everything needed to go on; False if the weights are no longer finite."""
        raise NotImplementedError

    def restore(self, member: int, weights: Weights) -> None:
        """Put ``weights`` back into one member (a diverged one gets its kept weights)."""
        raise NotImplementedError

    def begin(self, rows: list[LogRow]) -> None:
        """The members' tracks, from their untrained rows (epoch 0): early stopping starts
        from the untrained model's validation loss."""
        self.tracks = [RunTrack([row], self.weights(k)) for k, row in enumerate(rows)]
        for row in rows:
            if self.on_log is not None and row.finite():
                self.on_log(row)
        if self.patience:
            for track, row in zip(self.tracks, rows):
                track.best_loss = math.inf if row.val_loss is None else row.val_loss
            self.keep_best(list(range(len(rows))))

    def run(self, first: int = 1, earlier: float = 0.0) -> list[FitResult]:
        """Train from epoch ``first`` to the schedule's last; ``earlier`` seconds went before."""
        schedule, tracks = self.schedule, self.tracks
        last, start = schedule.epochs, time.perf_counter()

        def seconds() -> float:
            return (earlier + time.perf_counter() - start) / len(tracks)

        end = first if self.all_done() else last + 1  # resumed after it had stopped early
        for epoch in range(first, end):
            steps = self.train_epoch(epoch)
            if self.on_progress is not None:
                self.on_progress(epoch, last)
            if self.all_done():
                break
            val = self.validate() if self.validate_every_epoch else None
            self._record_steps(epoch, steps, val)
            self.step_schedules(None if val is None else [loss for loss, _ in val])
            stopping = self._stop_early(epoch, val) if val is not None and self.patience else []
            if schedule.logs_at(epoch) or stopping:
                for member, row in enumerate(self.log_rows(epoch)):
                    if tracks[member].logs_at(epoch):
                        self._record(member, row)
                if self.all_diverged():
                    break
            stop = self.should_stop is not None and self.should_stop()
            done = bool(stopping) and self.all_done()  # the last member stopped early
            if schedule.checkpoints_at(epoch, stop or done) and not self.checkpoint(
                epoch, seconds()
            ):
                for track in tracks:  # a checkpoint never holds broken weights
                    track.diverged_at = track.diverged_at or epoch
                break
            if stop and epoch < last and not done:
                return [track.stopped(seconds(), epoch) for track in tracks]
        best = self._restore_kept()
        return [track.result(seconds(), last, row) for track, row in zip(tracks, best)]

    def all_diverged(self) -> bool:
        return all(track.diverged_at is not None for track in self.tracks)

    def all_done(self) -> bool:
        return not any(track.live for track in self.tracks)

    def _record(self, member: int, row: LogRow) -> None:
        if self.tracks[member].record(row, partial(self.weights, member)) and self.on_log:
            self.on_log(row)

    def _record_steps(self, epoch: int, steps: Scores | None, val: Scores | None) -> None:
        for member, (loss, accuracy) in enumerate(steps or []):
            track = self.tracks[member]
            if track.live:
                scores = val[member] if val is not None else (None, None)
                track.steps.append(EpochRow(epoch, loss, accuracy, *scores))

    def _stop_early(self, epoch: int, val: Scores) -> list[int]:
        """Note each live member's best validation loss (its weights kept); the members that
        have gone ``patience`` epochs without a better one stop here."""
        live = [k for k, track in enumerate(self.tracks) if track.live]
        improved = [k for k in live if val[k][0] < self.tracks[k].best_loss]
        for k in improved:
            self.tracks[k].best_loss, self.tracks[k].best_epoch = val[k][0], epoch
        if improved:
            self.keep_best(improved)
        stopping = [k for k in live if epoch - self.tracks[k].best_epoch >= self.patience]
        for k in stopping:
            self.tracks[k].stopped_early_at = epoch
        return stopping

    def _restore_kept(self) -> list[LogRow | None]:
        """Diverged members get the weights of their last good log point; with early
        stopping the others get their best weights, whose rows are measured again here."""
        for member, track in enumerate(self.tracks):
            if track.diverged_at is not None:
                self.restore(member, track.kept)
            elif self.patience:
                self.restore(member, self.best_weights(member))
        if not self.patience or self.all_diverged():
            return [None] * len(self.tracks)
        rows = self.log_rows(0)  # every member at the weights it ends with
        return [
            None if track.diverged_at is not None else replace(row, epoch=track.best_epoch)
            for track, row in zip(self.tracks, rows)
        ]
