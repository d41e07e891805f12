"""A checkpoint: everything a run needs to go on exactly as if it had never stopped."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

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


def check_fits(checkpoint: Checkpoint, model: nn.Module, optimizer: torch.optim.Optimizer) -> None:
    """Raise ValueError naming the first field of ``checkpoint`` that ``model`` and its fresh
    ``optimizer`` cannot take, before any of it is restored."""
    own = model.state_dict()
    for field, state in (("model", checkpoint.model), ("kept", checkpoint.kept)):
        if set(state) != set(own):
            name = sorted(set(state) ^ set(own))[0]
            raise ValueError(f"{field}.{name}: {'missing' if name in own else 'not in the model'}")
        for name, tensor in state.items():
            if tensor.shape != own[name].shape:
                raise ValueError(
                    f"{field}.{name}: shape {list(tensor.shape)}, the model's is "
                    f"{list(own[name].shape)}"
                )
    _check_optimizer(checkpoint.optimizer, optimizer)
    if checkpoint.rng["torch"].numel() != torch.get_rng_state().numel():
        raise ValueError("rng.torch: not a state of torch's random generator")


def _check_optimizer(saved: dict[str, Any], optimizer: torch.optim.Optimizer) -> None:
    fresh = optimizer.state_dict()["param_groups"]
    groups = saved["param_groups"]
    if len(groups) != len(fresh):
        raise ValueError(f"optimizer.param_groups: {len(groups)} groups, not {len(fresh)}")
    parameters: dict[int, torch.Tensor] = {}
    for index, (group, own, live) in enumerate(zip(groups, fresh, optimizer.param_groups)):
        where = f"optimizer.param_groups[{index}]"
        if len(group["params"]) != len(own["params"]):
            count, expected = len(group["params"]), len(own["params"])
            raise ValueError(f"{where}.params: {count} parameters, the model has {expected}")
        parameters.update(zip(group["params"], live["params"]))
        for key, value in own.items():
            needed = isinstance(value, (int, float, tuple)) and not isinstance(value, bool)
            if key == "params" or (key not in group and not needed):
                continue  # a flag torch's own defaults fill in
            if key not in group:
                raise ValueError(f"{where}.{key}: missing")
            if not _same_kind(value, group[key]):
                raise ValueError(f"{where}.{key}: {group[key]!r:.40} is not a valid setting")
    for index, state in saved["state"].items():
        shape = parameters[index].shape
        for key, value in state.items():
            if isinstance(value, torch.Tensor) and value.numel() > 1 and value.shape != shape:
                raise ValueError(
                    f"optimizer.state.{index}.{key}: shape {list(value.shape)}, "
                    f"its parameter's is {list(shape)}"
                )


def _same_kind(fresh: Any, saved: Any) -> bool:
    """Whether a saved optimizer setting can stand where torch put ``fresh``."""
    if fresh is None or isinstance(fresh, bool):
        return saved is None or isinstance(saved, bool)
    if isinstance(fresh, (int, float)):
        return (
            isinstance(saved, (int, float)) and not isinstance(saved, bool) and math.isfinite(saved)
        )
    if isinstance(fresh, (tuple, list)):
        return (
            isinstance(saved, (tuple, list))
            and len(saved) == len(fresh)
            and all(_same_kind(a, b) for a, b in zip(fresh, saved))
        )
    if isinstance(fresh, torch.Tensor):
        return isinstance(saved, torch.Tensor) and saved.shape == fresh.shape
    return type(saved) is type(fresh)
