"""A checkpoint: everything a run needs to go on exactly as if it had never stopped.

Its rows (a log row per log point, an epoch row per epoch) grow with the run, so they are
not part of the saved dictionary: a run folder appends them to history.csv and epochs.csv
and the checkpoint saves how many of each are its own (see :mod:`zoo.runs.logs`). What is
saved stays the same size however long the run: weights, optimizer, schedule, early stopping
and random generators.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from zoo.training.records import EpochRow, LogRow


@dataclass(frozen=True)
class Checkpoint:
    """Only tensors, numbers, text, lists and dicts: it loads with ``weights_only=True``.

    ``history`` and ``steps`` are the run's rows so far, read at once by whoever saves it
    (the trainer's own lists: not copied, so saving costs the same at every epoch).
    """

    epoch: int  # epochs completed
    model: dict[str, torch.Tensor]
    optimizer: dict[str, Any]
    kept: dict[str, torch.Tensor]  # the weights of the last good log point
    kept_epoch: int
    history: list[LogRow]
    seconds: float
    rng: dict[str, Any]  # the global torch generator's state and the batch order's
    steps: list[EpochRow] = field(default_factory=list)
    scheduler: dict[str, Any] | None = None  # the lr schedule's state_dict
    early: dict[str, Any] | None = None  # early stopping: best_loss, best_epoch, stopped_at, best

    def to_dict(self) -> dict[str, Any]:
        """What checkpoint.pt holds: the rows only counted (they are in their own files)."""
        return {
            "epoch": self.epoch,
            "model": self.model,
            "optimizer": self.optimizer,
            "kept": self.kept,
            "kept_epoch": self.kept_epoch,
            "history_rows": len(self.history),
            "step_rows": len(self.steps),
            "seconds": self.seconds,
            "rng": self.rng,
            "scheduler": self.scheduler,
            "early": self.early,
        }

    @classmethod
    def from_dict(
        cls, data: Any, history: list[LogRow] | None = None, steps: list[EpochRow] | None = None
    ) -> Checkpoint:
        """Rebuild from a loaded file and its rows (``history`` and ``steps``, read from their
        files; a checkpoint from before those files holds its history itself); raises
        ValueError when it is not a zoo checkpoint."""
        try:
            checkpoint = cls(
                epoch=data["epoch"],
                model=data["model"],
                optimizer=data["optimizer"],
                kept=data["kept"],
                kept_epoch=data["kept_epoch"],
                history=history if history is not None else [LogRow(**r) for r in data["history"]],
                seconds=float(data["seconds"]),
                rng=data["rng"],
                steps=steps or [],
                scheduler=data.get("scheduler"),
                early=data.get("early"),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"missing or malformed field: {exc}") from None
        states: list[tuple[str, Any]] = [("model", checkpoint.model), ("kept", checkpoint.kept)]
        if checkpoint.early is not None:
            states.append(("early.best", checkpoint.early.get("best")))
        for name, state in states:
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


def check_fits(
    checkpoint: Checkpoint,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any = None,
    patience: int = 0,
) -> None:
    """Raise ValueError naming the first field of ``checkpoint`` that ``model`` and its fresh
    ``optimizer`` and ``scheduler`` (and early stopping's ``patience``) cannot take, before
    any of it is restored."""
    _check_parts(checkpoint, scheduler, patience)
    own = model.state_dict()
    states = [("model", checkpoint.model), ("kept", checkpoint.kept)]
    if checkpoint.early is not None:
        states.append(("early.best", checkpoint.early["best"]))
    for where, state in states:
        if set(state) != set(own):
            name = sorted(set(state) ^ set(own))[0]
            raise ValueError(f"{where}.{name}: {'missing' if name in own else 'not in the model'}")
        for name, tensor in state.items():
            if tensor.shape != own[name].shape:
                raise ValueError(
                    f"{where}.{name}: shape {list(tensor.shape)}, the model's is "
                    f"{list(own[name].shape)}"
                )
    _check_optimizer(checkpoint.optimizer, optimizer)
    if checkpoint.rng["torch"].numel() != torch.get_rng_state().numel():
        raise ValueError("rng.torch: not a state of torch's random generator")


def _check_parts(checkpoint: Checkpoint, scheduler: Any, patience: int) -> None:
    """The schedule's state and early stopping's are there exactly when the run has them,
    and the schedule's holds what a fresh one of its kind holds."""
    for name, saved, needed in (
        ("scheduler", checkpoint.scheduler, scheduler is not None),
        ("early", checkpoint.early, patience > 0),
    ):
        if (saved is not None) != needed:
            raise ValueError(f"{name}: {'missing' if needed else 'not part of this run'}")
    saved = checkpoint.scheduler
    if scheduler is not None and saved is not None:
        for key, value in scheduler.state_dict().items():
            if key not in saved:
                raise ValueError(f"scheduler.{key}: missing")
            if not _like(value, saved[key]):
                raise ValueError(f"scheduler.{key}: {saved[key]!r:.40} is not valid")
    if checkpoint.early is not None:
        early = checkpoint.early
        if not isinstance(early.get("best_epoch"), int) or early["best_epoch"] > checkpoint.epoch:
            raise ValueError("early.best_epoch: not an epoch of this run so far")


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


def _like(fresh: Any, saved: Any) -> bool:
    """Whether a saved schedule value has the shape of a fresh one (numbers may be infinite:
    the plateau schedule's best loss starts so)."""
    if fresh is None:
        return saved is None or isinstance(saved, (bool, int, float, str))
    if isinstance(fresh, (bool, str)):
        return type(saved) is type(fresh)
    if isinstance(fresh, (int, float)):
        return isinstance(saved, (int, float)) and not isinstance(saved, bool)
    if isinstance(fresh, (list, tuple)):
        return (
            isinstance(saved, (list, tuple))
            and len(saved) == len(fresh)
            and all(_like(a, b) for a, b in zip(fresh, saved))
        )
    return False  # zoo's schedules hold nothing else


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
