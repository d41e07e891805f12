"""Options shared by several commands, checked by the same schema as registry.yaml."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from zoo.cli.output import json_mode
from zoo.settings import SETTINGS, InvalidSetting, check_setting

F = Callable[..., Any]


class SettingType(click.ParamType):
    """A flag for a training setting: parsed as ``base``, then checked by the schema."""

    def __init__(self, setting: str, base: click.ParamType | None = None) -> None:
        self.setting = setting
        self.base = base
        self.name = SETTINGS[setting].help

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if self.base is not None:
            value = self.base.convert(value, param, ctx)
        try:
            return check_setting(self.setting, value)
        except InvalidSetting as exc:
            self.fail(str(exc).partition(": ")[2], param, ctx)


class WholeOrWord(click.ParamType):
    """A whole number, or a word such as 'full' or 'auto'."""

    name = "integer"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return int(value)
        except (TypeError, ValueError):
            return value


class NameValue(click.ParamType):
    """``NAME=VALUE``, the value read as a YAML scalar: ``64``, ``0.2``, ``true``, ``relu``."""

    name = "NAME=VALUE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):
            return value
        name, equals, text = str(value).partition("=")
        name = name.strip()
        if not equals or not name.isidentifier():
            self.fail(f"{value!r} is not NAME=VALUE, e.g. hidden_units=64", param, ctx)
        return name, self._scalar(text, param, ctx)

    def _scalar(self, text: str, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        import yaml

        try:
            parsed = yaml.safe_load(text) if len(text) <= 1000 else None
        except yaml.YAMLError:
            parsed = None
        if parsed is None or isinstance(parsed, (dict, list)):
            self.fail(f"{text!r} is not one number, word or true/false", param, ctx)
        return parsed


def _setting(flag: str, setting: str, base: click.ParamType | None, metavar: str) -> F:
    return click.option(
        flag,
        setting,
        type=SettingType(setting, base),
        default=None,
        metavar=metavar,
        help=SETTINGS[setting].help[:1].upper() + SETTINGS[setting].help[1:] + ".",
    )


TRAINING_OPTIONS = {
    "dataset": _setting("--dataset", "dataset", None, "NAME"),
    "epochs": _setting("--epochs", "epochs", click.INT, "N"),
    "lr": _setting("--lr", "lr", click.FLOAT, "F"),
    "optimizer": _setting("--optimizer", "optimizer", None, "NAME"),
    "momentum": _setting("--momentum", "momentum", click.FLOAT, "F"),
    "weight_decay": _setting("--weight-decay", "weight_decay", click.FLOAT, "F"),
    "batch_size": _setting("--batch-size", "batch_size", WholeOrWord(), "N|full"),
    "seed": _setting("--seed", "seed", click.INT, "S"),
    "device": _setting("--device", "device", None, "D"),
    "threads": _setting("--threads", "threads", click.INT, "N"),
    "log_every": _setting("--log-every", "log_every", WholeOrWord(), "N|auto"),
    "checkpoint_every": _setting("--checkpoint-every", "checkpoint_every", WholeOrWord(), "N|auto"),
    "test_size": _setting("--test-size", "test_size", click.FLOAT, "F"),
    "val_size": _setting("--val-size", "val_size", click.FLOAT, "F"),
    "early_stop": _setting("--early-stop", "early_stop", click.INT, "N"),
    "lr_schedule": _setting("--lr-schedule", "lr_schedule", None, "NAME"),
    "lr_step_size": _setting("--lr-step-size", "lr_step_size", click.INT, "N"),
    "lr_gamma": _setting("--lr-gamma", "lr_gamma", click.FLOAT, "F"),
    "lr_patience": _setting("--lr-patience", "lr_patience", click.INT, "N"),
    "split_seed": _setting("--split-seed", "split_seed", click.INT, "S"),
    "order_seed": _setting("--order-seed", "order_seed", WholeOrWord(), "S|seed"),
    "scale": _setting("--scale", "scale", None, "none|standard|minmax"),
    "params": click.option(
        "--param",
        "params",
        type=NameValue(),
        multiple=True,
        help="A model parameter for its factory, e.g. hidden_units=64; repeat for more.",
    ),
    "dataset_params": click.option(
        "--dataset-param",
        "dataset_params",
        type=NameValue(),
        multiple=True,
        help="A dataset parameter for its loader, e.g. noise=0.2; repeat for more.",
    ),
}

target_option = click.option(
    "--target",
    "target",
    default=None,
    metavar="COLUMN",
    help="For a CSV dataset: the label column, a header name or a number from 1 "
    "(default: the last).",
)


def training_options(*, without: tuple[str, ...] = ()) -> Callable[[F], F]:
    """The settings flags; the command receives them as keyword arguments (None: not given)."""

    def decorate(function: F) -> F:
        for name, option in reversed(TRAINING_OPTIONS.items()):
            if name not in without:
                function = option(function)
        return function

    return decorate


def given(settings: dict[str, Any]) -> dict[str, Any]:
    """The settings the user actually gave; ``--param`` pairs become ``params``, and
    ``--target`` and ``--dataset-param`` pairs ``dataset_params``."""
    found = {k: v for k, v in settings.items() if v not in (None, ())}
    for key in ("params", "dataset_params"):
        if key in found:
            found[key] = dict(found[key])
    if "target" in found:
        found["dataset_params"] = {**found.get("dataset_params", {}), "target": found["target"]}
        del found["target"]
    return found


registry_option = click.option(
    "--registry",
    type=click.Path(dir_okay=False, path_type=Path),
    multiple=True,
    metavar="PATH",
    callback=lambda ctx, param, value: list(value) or None,
    help="A catalogue to read on top of zoo's own (repeatable; also: ZOO_REGISTRY).",
)

logger_option = click.option(
    "--logger",
    "loggers",
    multiple=True,
    metavar="NAME",
    help="Send the training's events to a logger: tensorboard (event files in the run "
    "folder), mlflow (MLFLOW_TRACKING_URI, default sqlite:///mlflow.db), or a plugin's; "
    "repeat for more.",
)

json_option = click.option(
    "--json",
    "as_json",
    is_flag=True,
    callback=json_mode,
    help="Print one JSON document instead of text.",
)
