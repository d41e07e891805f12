"""Checking a checkpoint.pt before a resume uses it (see :mod:`zoo.runs.schema`): weights,
the optimizer's and the schedule's state, early stopping's, the random generators, and how
many rows of history.csv and epochs.csv are its own (older checkpoints hold the rows)."""

from __future__ import annotations

from typing import Any

import torch

from zoo.runs.schema import (
    Check,
    SchemaError,
    at,
    fields,
    items,
    log_rows,
    mapping,
    number,
    optional,
    shown,
    state_dict,
    tensor,
    text,
    whole,
)


def _state_value(value: Any, field: str) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return tensor(value, field)


def _hyper_parameter(value: Any, field: str) -> Any:
    if isinstance(value, (tuple, list)):
        return [_hyper_parameter(item, at(field, i)) for i, item in enumerate(value[:16])]
    return _state_value(value, field)


def _param_group(value: Any, field: str) -> dict[str, Any]:
    mapping(value, field, ["params"])
    params = items(whole(0, 10**9), most=10**6)(value["params"], at(field, "params"))
    if len(set(params)) != len(params):
        raise SchemaError(at(field, "params"), "names a parameter twice")
    for key, item in value.items():
        if not isinstance(key, str):
            raise SchemaError(field, f"has a key that is not a name: {shown(key)}")
        if key != "params":
            _hyper_parameter(item, at(field, key))
    checked: dict[str, Any] = value  # checked above
    return checked


def _optimizer(value: Any, field: str) -> dict[str, Any]:
    mapping(value, field, ["state", "param_groups"])
    groups = items(_param_group, 1, 1000)(value["param_groups"], at(field, "param_groups"))
    known = {index for group in groups for index in group["params"]}
    states = mapping(value["state"], at(field, "state"))
    for index, state in states.items():
        where = at(at(field, "state"), index)
        if index not in known:
            raise SchemaError(where, "belongs to no parameter of param_groups")
        for key, item in mapping(state, where).items():
            _state_value(item, at(where, key))
    checked: dict[str, Any] = value  # checked above
    return checked


def _generator_state(value: Any, field: str) -> torch.Tensor:
    if not isinstance(value, torch.Tensor) or value.dtype != torch.uint8 or value.dim() != 1:
        raise SchemaError(field, f"must be a random generator's state, got {shown(value)}")
    return tensor(value, field)


def _rng(value: Any, field: str) -> dict[str, Any]:
    mapping(value, field, ["torch"])
    _generator_state(value["torch"], at(field, "torch"))
    if "batches" in value:
        _generator_state(value["batches"], at(field, "batches"))
    if "cuda" in value:
        items(_generator_state, most=1024)(value["cuda"], at(field, "cuda"))
    checked: dict[str, Any] = value  # checked above
    return checked


def _plain(value: Any, field: str) -> Any:
    """Numbers, texts, booleans and None, in lists: a learning-rate schedule's state."""
    if isinstance(value, list):
        return [_plain(item, at(field, i)) for i, item in enumerate(value[:1000])]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise SchemaError(field, f"must be a number, a text or a list of them, got {shown(value)}")


def _schedule(value: Any, field: str) -> dict[str, Any]:
    for key, item in mapping(value, field).items():
        text(key, f"{field} key")
        _plain(item, at(field, key))
    checked: dict[str, Any] = value  # checked above
    return checked


def _early_stopping(value: Any, field: str) -> dict[str, Any]:
    """Early stopping's state: the best validation loss, its epoch and weights, and the
    epoch it stopped at (None: not yet)."""
    checks = {
        "best_loss": number(finite=False),
        "best_epoch": whole(0, 10**9),
        "stopped_at": optional(whole(1, 10**9)),
        "best": state_dict,
    }
    return fields(value, field, checks)


CHECKPOINT_FIELDS: dict[str, Check] = {
    "epoch": whole(0, 10**9),
    "model": state_dict,
    "optimizer": _optimizer,
    "kept": state_dict,
    "kept_epoch": whole(0, 10**9),
    "seconds": number(0),
    "rng": _rng,
}
# Since history.csv and epochs.csv are appended as a run goes: the checkpoint counts its rows.
NEWER_CHECKPOINT_FIELDS: dict[str, Check] = {
    "history_rows": whole(1, 10**9),
    "step_rows": whole(0, 10**9),
    "scheduler": optional(_schedule),
    "early": optional(_early_stopping),
}
OLDER_CHECKPOINT_FIELDS: dict[str, Check] = {"history": log_rows}  # the rows themselves


def check_checkpoint(data: Any) -> None:
    """A checkpoint.pt's content has the shape zoo writes; raises :class:`SchemaError`."""
    older = isinstance(data, dict) and "history" in data
    rows = OLDER_CHECKPOINT_FIELDS if older else NEWER_CHECKPOINT_FIELDS
    fields(data, "", {**CHECKPOINT_FIELDS, **rows})
    if data["kept_epoch"] > data["epoch"]:
        raise SchemaError("kept_epoch", f"is after epoch {data['epoch']}")
