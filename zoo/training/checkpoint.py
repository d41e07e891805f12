"""A checkpoint: everything a run needs to go on exactly as if it had never stopped."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from zoo.training.records import LogRow


@dataclass(frozen=True)
class Checkpoint:
    """Only tensors, numbers, text, lists and dicts: it loads with ``weights_only=True``."""

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


def is_state_dict(value: Any) -> bool:
    """A mapping of parameter names to tensors, and nothing else."""
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in value.items()
    )
