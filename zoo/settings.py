"""The training settings: their names, what values they take, and zoo's own fallbacks.

One schema serves every place a setting can come from: registry.yaml, a plugin's ``defaults``,
keyword arguments of ``zoo.train`` and the command line's flags. Importing this module is cheap
(no torch), so the command line can check a flag before any work starts.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from zoo.names import did_you_mean

# Lower-case names accepted for ``optimizer``, and the torch.optim class each one builds.
OPTIMIZERS: dict[str, str] = {
    "sgd": "SGD",
    "adam": "Adam",
    "adamw": "AdamW",
    "rmsprop": "RMSprop",
    "adagrad": "Adagrad",
    "adamax": "Adamax",
    "nadam": "NAdam",
    "radam": "RAdam",
}

DEVICE_HELP = "auto, cpu, cuda, cuda:N or mps"
# How features are scaled before the model sees them (see zoo/training/scaling.py).
SCALES = ("none", "standard", "minmax")
# Learning-rate schedules (torch.optim.lr_scheduler), stepped once an epoch: see
# zoo/training/optim.py. ``plateau`` watches the validation loss.
LR_SCHEDULES = ("none", "cosine", "step", "plateau")


class InvalidSetting(ValueError):
    """A value outside a setting's range; the message reads after the setting's name."""


@dataclass(frozen=True)
class Setting:
    name: str
    help: str
    check: Callable[[Any], Any]  # returns the normalised value or raises InvalidSetting
    fallback: Any  # used when neither a catalogue nor a plugin gives a value


LARGEST_COUNT = 10**9  # epochs, batch sizes, intervals: beyond this, surely a typo


def _whole(minimum: int, maximum: int = LARGEST_COUNT) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
            raise InvalidSetting(
                f"must be a whole number from {minimum} to {maximum:,}, got {_short(value)}"
            )
        return value

    return check


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _positive(value: Any) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise InvalidSetting(f"must be a number > 0, got {_short(value)}")
    return float(value)


def _non_negative(value: Any) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        raise InvalidSetting(f"must be a number ≥ 0, got {_short(value)}")
    return float(value)


def _fraction(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        raise InvalidSetting(f"must be a number between 0 and 1, got {_short(value)}")
    return float(value)


def _holdout(value: Any) -> float:
    """A fraction of the rows held out, or 0 for none."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise InvalidSetting(f"must be a number from 0 (none) to below 1, got {_short(value)}")
    return float(value)


def _seed(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
        raise InvalidSetting(f"must be a whole number from 0 to 2**63-1, got {_short(value)}")
    return value


def _seed_or_seed(value: Any) -> int | str:
    """A seed, or the word 'seed': the same number as the ``seed`` setting."""
    if value == "seed":
        return "seed"
    try:
        return _seed(value)
    except InvalidSetting:
        raise InvalidSetting(
            f"must be a whole number from 0 to 2**63-1 or 'seed', got {_short(value)}"
        ) from None


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidSetting(f"must be a non-empty text, got {_short(value)}")
    return value


def _optimizer(value: Any) -> str:
    name = _text(value).lower()
    if name not in OPTIMIZERS:
        raise InvalidSetting(
            f"unknown optimizer {value!r}{did_you_mean(name, OPTIMIZERS)}; "
            f"choose from {', '.join(OPTIMIZERS)}"
        )
    return name


def _scale(value: Any) -> str:
    if isinstance(value, str) and value in SCALES:
        return value
    hint = did_you_mean(value, SCALES) if isinstance(value, str) else ""
    raise InvalidSetting(f"unknown scale {_short(value)}{hint}; choose from {', '.join(SCALES)}")


def _lr_schedule(value: Any) -> str:
    if isinstance(value, str) and value in LR_SCHEDULES:
        return value
    hint = did_you_mean(value, LR_SCHEDULES) if isinstance(value, str) else ""
    raise InvalidSetting(
        f"unknown schedule {_short(value)}{hint}; choose from {', '.join(LR_SCHEDULES)}"
    )


def _count_or(word: str) -> Callable[[Any], int | str]:
    """A whole number ≥ 1, or ``word`` ('full', 'auto')."""

    def check(value: Any) -> int | str:
        if value == word:
            return word
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= LARGEST_COUNT:
            raise InvalidSetting(f"must be a whole number ≥ 1 or {word!r}, got {_short(value)}")
        return value

    return check


def _keywords(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise InvalidSetting(f"must be a mapping of names to values, got {_short(value)}")
    return dict(value)


_ALL = [
    Setting("dataset", "dataset to train on", _text, "circles"),
    Setting("dataset_params", "keyword arguments for the dataset's loader", _keywords, {}),
    Setting(
        "scale",
        "feature scaling fitted on the training rows: none, standard (mean 0, std 1) or "
        "minmax (0 to 1); by default the dataset's choice (a CSV file's: standard)",
        _scale,
        "none",
    ),
    Setting("params", "keyword arguments for the model's factory", _keywords, {}),
    Setting("epochs", "passes over the training data", _whole(1), 1000),
    Setting("lr", "learning rate", _positive, 0.1),
    Setting("optimizer", f"one of {', '.join(OPTIMIZERS)}", _optimizer, "sgd"),
    Setting("momentum", "momentum, for optimizers that take one", _non_negative, 0.0),
    Setting("weight_decay", "L2 penalty", _non_negative, 0.0),
    Setting("batch_size", "examples per step, or 'full' for full batch", _count_or("full"), "full"),
    Setting("seed", "seed for weights (and batch order: see order_seed)", _seed, 42),
    Setting("split_seed", "random_state of the train/test split", _seed, 42),
    Setting(
        "order_seed",
        "seed of the mini-batch order; 'seed': the same as seed",
        _seed_or_seed,
        "seed",
    ),
    Setting("test_size", "fraction of the data held out for testing", _fraction, 0.2),
    Setting(
        "val_size",
        "fraction of the training rows held out for validation, split off with split_seed "
        "(0: none)",
        _holdout,
        0.0,
    ),
    Setting(
        "early_stop",
        "stop once the validation loss has not improved for this many epochs, keeping the "
        "best weights (0: never; needs val_size)",
        _whole(0),
        0,
    ),
    Setting(
        "lr_schedule",
        "learning-rate schedule, stepped each epoch: none, cosine (to 0 at the last epoch), "
        "step (times lr_gamma every lr_step_size epochs) or plateau (times lr_gamma after "
        "lr_patience epochs without a better validation loss; needs val_size)",
        _lr_schedule,
        "none",
    ),
    Setting("lr_step_size", "epochs between the step schedule's cuts", _whole(1), 100),
    Setting("lr_gamma", "what the step and plateau schedules multiply lr by", _fraction, 0.1),
    Setting(
        "lr_patience",
        "epochs without a better validation loss before the plateau schedule cuts lr",
        _whole(0),
        10,
    ),
    Setting("device", f"where to train: {DEVICE_HELP}", _text, "auto"),
    Setting(
        "threads",
        "CPU threads while training (1: the same numbers on any core count)",
        _whole(1, 4096),
        1,
    ),
    Setting("log_every", "epochs between log lines; 'auto' for a tenth", _count_or("auto"), "auto"),
    Setting(
        "checkpoint_every",
        "epochs between checkpoints in the run folder; 'auto': as logs",
        _count_or("auto"),
        "auto",
    ),
]

SETTINGS: dict[str, Setting] = {s.name: s for s in _ALL}
FALLBACKS: dict[str, Any] = {s.name: s.fallback for s in _ALL}


def check_setting(name: str, value: Any) -> Any:
    """The normalised value, or :class:`InvalidSetting` naming the setting and the problem."""
    setting = SETTINGS.get(name)
    if setting is None:
        raise InvalidSetting(f"{name}: unknown setting{did_you_mean(name, SETTINGS)}")
    try:
        return setting.check(value)
    except InvalidSetting as exc:
        raise InvalidSetting(f"{name}: {exc}") from None


def check_settings(values: Mapping[str, Any]) -> dict[str, Any]:
    """Every setting in ``values`` checked and normalised; ``None`` means 'not given'."""
    return {k: check_setting(k, v) for k, v in values.items() if v is not None}
