"""What training produces: a log row per log point, a fit's outcome, a run's summary."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any


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


@dataclass(frozen=True)
class FitResult:
    """How one model's training ended."""

    history: list[LogRow]
    seconds: float  # the training loop, log-point evaluations included
    epochs: int  # epochs behind the final weights; fewer than asked when stopped early
    diverged_at: int | None = None  # the epoch whose loss was not finite
    kept_epoch: int | None = None  # after divergence: the epoch whose weights were kept
    stopped_at: int | None = None  # the epoch after which a stop was requested

    @property
    def final(self) -> LogRow:
        return self.history[-1]


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

    def to_dict(self) -> dict[str, Any]:
        """The fields as JSON can hold them: a loss that is not finite becomes None."""
        return {
            key: None if isinstance(value, float) and not math.isfinite(value) else value
            for key, value in asdict(self).items()
        }
