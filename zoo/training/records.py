"""What training produces: a log row per log point, an epoch row per epoch, a fit's
outcome, a run's summary."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

# Progress: (units done, units in all); a run's unit is an epoch, a comparison's one seed's
# epoch.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class LogRow:
    """The model after ``epoch`` epochs, evaluated on every split in eval mode."""

    epoch: int  # epochs completed; 0 is the untrained model
    train_loss: float
    train_acc: float
    test_loss: float
    test_acc: float
    val_loss: float | None = None  # None: the run has no validation split
    val_acc: float | None = None

    def line(self) -> str:
        """The lesson's log line (with the validation split's numbers before the test's)."""
        val = ""
        if self.val_loss is not None and self.val_acc is not None:
            val = f"| Val loss: {self.val_loss:.5f}, Val acc: {self.val_acc:.2f}% "
        return (
            f"Epoch: {self.epoch} | Loss: {self.train_loss:.5f}, Accuracy: {self.train_acc:.2f}% "
            f"{val}| Test loss: {self.test_loss:.5f}, Test acc: {self.test_acc:.2f}%"
        )

    def finite(self) -> bool:
        val = self.val_loss if self.val_loss is not None else 0.0
        return (
            math.isfinite(self.train_loss) and math.isfinite(self.test_loss) and math.isfinite(val)
        )

    def to_dict(self) -> dict[str, float]:
        """history.csv's columns: the validation ones only for a run that has them."""
        return {key: value for key, value in asdict(self).items() if value is not None}


@dataclass(frozen=True)
class EpochRow:
    """One epoch as its training step saw it: the loss of the forward pass before each step
    and the accuracy of the same logits (averaged over an epoch's mini-batches), in train
    mode; and the validation split's numbers after the epoch when they are measured every
    epoch (early stopping, the plateau schedule)."""

    epoch: int
    step_loss: float
    step_acc: float
    val_loss: float | None = None
    val_acc: float | None = None

    def to_dict(self) -> dict[str, float]:
        """epochs.csv's columns."""
        return {key: value for key, value in asdict(self).items() if value is not None}


@dataclass(frozen=True)
class FitResult:
    """How one model's training ended."""

    history: list[LogRow]
    seconds: float  # the training loop, log-point evaluations included
    epochs: int  # epochs trained; after divergence, those behind the kept weights
    diverged_at: int | None = None  # the epoch whose loss was not finite
    kept_epoch: int | None = None  # after divergence: the epoch whose weights were kept
    stopped_at: int | None = None  # the epoch after which a stop was requested
    best: LogRow | None = None  # early stopping: the row of the best weights, which were kept
    stopped_early: bool = False  # early stopping ended it before its last epoch
    steps: list[EpochRow] = field(default_factory=list)  # one per epoch (solo runs)

    @property
    def final(self) -> LogRow:
        """The row of the weights the run ends with."""
        return self.best or self.history[-1]


@dataclass(frozen=True)
class RunSummary:
    """One trained model's record: what ``zoo train --json`` prints, one per compared seed."""

    model: str  # the name asked for
    builds: str | None  # ``plugin:name`` of the factory; None for a scikit-learn baseline
    dataset: str
    task: str
    epochs: int | None
    train_acc: float
    test_acc: float
    train_loss: float | None
    test_loss: float | None
    seconds: float
    device: str
    seed: int
    params: int | None
    status: str  # completed or diverged
    run_dir: str | None = None
    majority_acc: float | None = None  # test accuracy (%) of always answering the top class
    learned_nothing: bool = False  # completed, at most 1 point above majority_acc
    warning: str | None = None  # the line that says so, and the likely why
    val_acc: float | None = None  # None: no validation split
    val_loss: float | None = None
    best_epoch: int | None = None  # early stopping: the epoch whose weights were kept
    stopped_early: bool = False  # early stopping ended training before its last epoch

    def to_dict(self) -> dict[str, Any]:
        """The fields as JSON can hold them: a loss that is not finite becomes None."""
        return {
            key: None if isinstance(value, float) and not math.isfinite(value) else value
            for key, value in asdict(self).items()
        }
