"""The skeleton every trainer shares: an epoch of lesson 02's loop, then one decision.

A trainer trains one or more *members* (one model, or K seeds stacked into one) and says how
to run an epoch, how to evaluate its members and how to checkpoint them; this module decides,
the same way for all of them, when to log, when to checkpoint, when a member has diverged
(its loss or its weights are no longer finite: it stops there and keeps the weights of its
last good log point), and when a requested stop ends the run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import torch

from zoo.training.records import FitResult, LogRow

Weights = dict[str, torch.Tensor]
# Progress of one run: (units done, units in all); for a trainer the units are epochs.
Progress = Callable[[int, int], None]


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
    """One member's log so far, and the weights of its last good log point."""

    history: list[LogRow]
    kept: Weights
    kept_epoch: int = 0
    diverged_at: int | None = None

    def record(self, row: LogRow, weights: Callable[[], Weights]) -> None:
        """Keep a finite row and ``weights()`` behind it; a non-finite one is divergence."""
        if not row.finite():
            self.diverged_at = row.epoch
            return
        self.history.append(row)
        self.kept, self.kept_epoch = weights(), row.epoch

    def result(self, seconds: float, epochs: int) -> FitResult:
        """The outcome after ``epochs`` epochs, or at the kept weights when it diverged."""
        if self.diverged_at is None:
            return FitResult(self.history, seconds, epochs)
        return FitResult(self.history, seconds, self.kept_epoch, self.diverged_at, self.kept_epoch)

    def stopped(self, seconds: float, epoch: int) -> FitResult:
        """The outcome of a run asked to stop after ``epoch``."""
        return FitResult(self.history, seconds, epoch, stopped_at=epoch)


class TrainingLoop:
    """Lesson 02's loop for every member at once, and the decision at the end of each epoch.

    Subclasses set :attr:`tracks` (one per member, starting from the row of epoch 0) and
    implement :meth:`train_epoch`, :meth:`log_rows`, :meth:`weights`, :meth:`restore` and,
    where their schedule has checkpoints, :meth:`checkpoint`.
    """

    def __init__(
        self,
        schedule: Schedule,
        on_progress: Progress | None = None,
        should_stop: Callable[[], bool] | None = None,  # asked after every epoch
    ) -> None:
        self.schedule = schedule
        self.on_progress = on_progress
        self.should_stop = should_stop
        self.tracks: list[RunTrack] = []

    def train_epoch(self, epoch: int) -> None:
        """One epoch of forward, loss, ``zero_grad``, ``backward``, ``step`` for the live
        members; a member whose loss is not finite is marked diverged and takes no step."""
        raise NotImplementedError

    def log_rows(self, epoch: int) -> list[LogRow]:
        """Every member's row (losses and accuracies on both splits), in eval mode."""
        raise NotImplementedError

    def weights(self, member: int) -> Weights:
        """A copy of one member's weights."""
        raise NotImplementedError

    def checkpoint(self, epoch: int, seconds: float) -> bool:
        """Save everything needed to go on; False if the weights are no longer finite."""
        raise NotImplementedError

    def restore(self, member: int, weights: Weights) -> None:
        """Put ``weights`` back into one member (a diverged one gets its kept weights)."""
        raise NotImplementedError

    def run(self, first: int = 1, earlier: float = 0.0) -> list[FitResult]:
        """Train from epoch ``first`` to the schedule's last; ``earlier`` seconds went before."""
        schedule, tracks = self.schedule, self.tracks
        last, start = schedule.epochs, time.perf_counter()

        def seconds() -> float:
            return (earlier + time.perf_counter() - start) / len(tracks)

        for epoch in range(first, last + 1):
            self.train_epoch(epoch)
            if self.on_progress is not None:
                self.on_progress(epoch, last)
            if self.all_diverged():
                break
            if schedule.logs_at(epoch):
                for member, row in enumerate(self.log_rows(epoch)):
                    if tracks[member].diverged_at is None:
                        tracks[member].record(row, partial(self.weights, member))
                if self.all_diverged():
                    break
            stop = self.should_stop is not None and self.should_stop()
            if schedule.checkpoints_at(epoch, stop) and not self.checkpoint(epoch, seconds()):
                for track in tracks:  # a checkpoint never holds broken weights
                    track.diverged_at = track.diverged_at or epoch
                break
            if stop and epoch < last:
                return [track.stopped(seconds(), epoch) for track in tracks]
        for member, track in enumerate(tracks):
            if track.diverged_at is not None:
                self.restore(member, track.kept)
        return [track.result(seconds(), last) for track in tracks]

    def all_diverged(self) -> bool:
        return all(track.diverged_at is not None for track in self.tracks)
