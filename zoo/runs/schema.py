"""Checking what zoo reads back from a folder before it is used: field by field, by name.

A run or comparison folder may have been edited, damaged or made by someone else. Each file is
checked against the shape zoo writes before any of it is used, and the first field that does
not fit is reported by its path (``optimizer.param_groups``, ``records[2].test_acc``), so the
error is one line naming the file and the field. Checks are small functions
``check(value, field) -> value`` that raise :class:`SchemaError`.
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Callable, Collection
from typing import Any

import torch

from zoo.settings import SCALES, InvalidSetting, check_setting

Check = Callable[[Any, str], Any]

MAX_TENSOR_ELEMENTS = 2**28  # one tensor in a run folder: 1 GiB of float32, the file's bound
_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = 30
_SHORT.maxlist = _SHORT.maxdict = _SHORT.maxtuple = 3


class SchemaError(ValueError):
    """A field that does not have the shape zoo writes: ``field: problem``."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}" if field else problem)
        self.field = field


def shown(value: Any) -> str:
    """A value short enough for a one-line message, whatever its size."""
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {list(value.shape)}"
    return _SHORT.repr(value)


def at(field: str, key: Any) -> str:
    """The path of ``key`` inside ``field``: ``a.b`` for a name, ``a[3]`` for a position."""
    if isinstance(key, int):
        return f"{field}[{key}]"
    return f"{field}.{key}" if field else str(key)


def mapping(
    value: Any, field: str, keys: Collection[str] = (), exact: bool = False
) -> dict[str, Any]:
    """A dict with at least ``keys`` (exactly those with ``exact``)."""
    if not isinstance(value, dict):
        raise SchemaError(field, f"must be a mapping, got {shown(value)}")
    for key in keys:
        if key not in value:
            raise SchemaError(at(field, key), "missing")
    if exact:
        extra = sorted(map(str, set(value) - set(keys)))
        if extra:
            raise SchemaError(at(field, extra[0]), "unknown field")
    return value


def whole(lowest: int = 0, highest: int = 2**63 - 1) -> Check:
    def check(value: Any, field: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not lowest <= value <= highest:
            raise SchemaError(
                field, f"must be a whole number from {lowest} to {highest}, got {shown(value)}"
            )
        return value

    return check


def number(lowest: float = -math.inf, highest: float = math.inf, finite: bool = True) -> Check:
    def check(value: Any, field: str) -> float:
        good = isinstance(value, (int, float)) and not isinstance(value, bool)
        if good and math.isnan(value):
            good = not finite
        elif good:
            good = (math.isfinite(value) or not finite) and lowest <= value <= highest
        if not good:
            span = f"from {lowest:g} to {highest:g}" if finite else "(or NaN)"
            raise SchemaError(field, f"must be a number {span}, got {shown(value)}")
        return float(value)

    return check


def text(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise SchemaError(field, f"must be a text, got {shown(value)}")
    return value


def boolean(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise SchemaError(field, f"must be true or false, got {shown(value)}")
    return value


def optional(check: Check) -> Check:
    def maybe(value: Any, field: str) -> Any:
        return None if value is None else check(value, field)

    return maybe


def one_of(*choices: Any) -> Check:
    def check(value: Any, field: str) -> Any:
        if not any(value == c and type(value) is type(c) for c in choices):
            raise SchemaError(field, f"must be one of {', '.join(map(repr, choices))}")
        return value

    return check


def items(check: Check, least: int = 0, most: int = 10**7) -> Check:
    """A list of ``least`` to ``most`` items, each passing ``check``."""

    def check_list(value: Any, field: str) -> list[Any]:
        if not isinstance(value, list):
            raise SchemaError(field, f"must be a list, got {shown(value)}")
        if not least <= len(value) <= most:
            raise SchemaError(field, f"must hold {least} to {most} items, got {len(value)}")
        return [check(item, at(field, i)) for i, item in enumerate(value)]

    return check_list


def fields(value: Any, field: str, checks: dict[str, Check], exact: bool = True) -> dict[str, Any]:
    """A mapping whose named fields pass their checks (and, with ``exact``, no others)."""
    mapping(value, field, checks, exact)
    return {key: check(value[key], at(field, key)) for key, check in checks.items()}


def tensor(value: Any, field: str) -> torch.Tensor:
    """A tensor small enough to use: its elements counted, not its (maybe stride-0) storage."""
    if not isinstance(value, torch.Tensor):
        raise SchemaError(field, f"must be a tensor, got {shown(value)}")
    if value.numel() > MAX_TENSOR_ELEMENTS or value.is_sparse or value.is_quantized:
        raise SchemaError(field, f"is not a plain tensor of a small model ({shown(value)})")
    return value


def state_dict(value: Any, field: str) -> dict[str, torch.Tensor]:
    """Parameter names to tensors (a model's weights)."""
    mapping(value, field)
    for name, weights in value.items():
        if not isinstance(name, str):
            raise SchemaError(field, f"has a key that is not a name: {shown(name)}")
        tensor(weights, at(field, name))
    checked: dict[str, torch.Tensor] = value
    return checked


def shaped_like(value: dict[str, torch.Tensor], field: str, model: dict[str, Any]) -> None:
    """The same names and shapes as the model's state_dict ``model``."""
    missing = sorted(set(model) - set(value))
    extra = sorted(set(value) - set(model))
    if missing or extra:
        name, problem = (missing[0], "missing") if missing else (extra[0], "not in the model")
        raise SchemaError(at(field, name), problem)
    for name, weights in value.items():
        if weights.shape != model[name].shape:
            raise SchemaError(
                at(field, name),
                f"has shape {list(weights.shape)}, the model's is {list(model[name].shape)}",
            )


def settings(value: Any, field: str) -> dict[str, Any]:
    """Training settings, each checked by zoo's settings schema."""
    mapping(value, field)
    try:
        return {key: check_setting(key, item) for key, item in value.items()}
    except InvalidSetting as exc:
        raise SchemaError(field, str(exc)) from None


def scaling(features: int) -> Check:
    """A run's feature scaling (see :mod:`zoo.training.scaling`): a kind, and an offset and
    a positive scale per feature; ``none`` is offset 0 and scale 1."""

    def check(value: Any, field: str) -> dict[str, Any]:
        per_feature = items(number(), least=features, most=features)
        checked = fields(
            value,
            field,
            {"kind": one_of(*SCALES), "offset": per_feature, "scale": per_feature},
        )
        for position, factor in enumerate(checked["scale"]):
            if factor <= 0:
                raise SchemaError(at(at(field, "scale"), position), f"must be > 0, got {factor}")
        if checked["kind"] == "none" and (
            any(checked["offset"]) or any(f != 1 for f in checked["scale"])
        ):
            raise SchemaError(field, "kind 'none' must have offset 0 and scale 1")
        return checked

    return check


def label_list(value: Any, field: str) -> list[Any]:
    """Class labels: two or more, distinct, all numbers or all texts."""
    labels: list[Any] = items(_label, least=2)(value, field)
    kinds = {isinstance(label, str) for label in labels}
    if len(kinds) > 1:
        raise SchemaError(field, "mixes numbers and texts")
    if len({(type(label), label) for label in labels}) != len(labels):
        raise SchemaError(field, "holds a label twice")
    return labels


def _label(value: Any, field: str) -> Any:
    if isinstance(value, str) or (
        isinstance(value, (int, float)) and (isinstance(value, bool) or math.isfinite(value))
    ):
        return value
    raise SchemaError(field, f"must be a number or a text, got {shown(value)}")


# -- history.csv, epochs.csv ---------------------------------------------------------------------


_LOSS, _PERCENT = number(finite=False), number(0, 100)
LOG_ROW_FIELDS: dict[str, Check] = {
    "epoch": whole(0),
    "train_loss": _LOSS,
    "train_acc": _PERCENT,
    "test_loss": _LOSS,
    "test_acc": _PERCENT,
}
# a run with a validation split
VALIDATION_FIELDS: dict[str, Check] = {"val_loss": _LOSS, "val_acc": _PERCENT}
EPOCH_ROW_FIELDS: dict[str, Check] = {"epoch": whole(1), "step_loss": _LOSS, "step_acc": _PERCENT}


def _row(checks: dict[str, Check]) -> Check:
    """A row of ``checks``' columns, and the validation split's when it has them."""

    def check(value: Any, field: str) -> dict[str, Any]:
        validation = isinstance(value, dict) and "val_loss" in value
        return fields(value, field, {**checks, **(VALIDATION_FIELDS if validation else {})})

    return check


log_row = _row(LOG_ROW_FIELDS)  # history.csv, a comparison's histories
epoch_row = _row(EPOCH_ROW_FIELDS)  # epochs.csv
log_rows = items(log_row, least=1)


# -- summary.json, and each record of a comparison ------------------------------------------


def phrase(value: Any, field: str) -> str:
    """A text, maybe empty (a verdict)."""
    if not isinstance(value, str):
        raise SchemaError(field, f"must be a text, got {shown(value)}")
    return value


_loss = optional(number(finite=False))
SUMMARY_FIELDS: dict[str, Check] = {
    "model": text,
    "builds": optional(text),
    "dataset": text,
    "task": one_of("binary", "multi-class"),
    "epochs": optional(whole(0, 10**9)),
    "train_acc": number(0, 100),
    "test_acc": number(0, 100),
    "train_loss": _loss,
    "test_loss": _loss,
    "seconds": number(0),
    "device": text,
    "seed": whole(0, 2**63 - 1),
    "params": optional(whole(0)),
    "status": one_of("completed", "diverged"),
    "run_dir": optional(text),
}
# Fields a summary gained later: checked where present, absent from older run folders and parts.
NEWER_SUMMARY_FIELDS: dict[str, Check] = {
    "majority_acc": optional(number(0, 100)),  # since feature scaling
    "learned_nothing": boolean,
    "warning": optional(text),
    "val_acc": optional(number(0, 100)),  # since validation splits
    "val_loss": _loss,
    "best_epoch": optional(whole(0, 10**9)),
    "stopped_early": boolean,
}


def summary_checks(value: Any) -> dict[str, Check]:
    """The checks of a summary: every field of the oldest, and the newer ones it holds."""
    given = value if isinstance(value, dict) else {}
    newer = {key: check for key, check in NEWER_SUMMARY_FIELDS.items() if key in given}
    return {**SUMMARY_FIELDS, **newer}


def check_summary(data: Any) -> dict[str, Any]:
    """A summary.json's content has the shape ``zoo train --json`` prints (fields a newer zoo
    may add are left as they are)."""
    fields(data, "", summary_checks(data), exact=False)
    return dict(data)
