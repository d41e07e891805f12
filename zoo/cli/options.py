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
}


def training_options(*, without: tuple[str, ...] = ()) -> Callable[[F], F]:
    """The settings flags; the command receives them as keyword arguments (None: not given)."""

    def decorate(function: F) -> F:
        for name, option in reversed(TRAINING_OPTIONS.items()):
            if name not in without:
                function = option(function)
        return function

    return decorate


def given(settings: dict[str, Any]) -> dict[str, Any]:
    """The flags the user actually gave."""
    return {k: v for k, v in settings.items() if v is not None}


registry_option = click.option(
    "--registry",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Catalogue to read instead of zoo's own (also: ZOO_REGISTRY).",
)

json_option = click.option(
    "--json",
    "as_json",
    is_flag=True,
    callback=json_mode,
    help="Print one JSON document instead of text.",
)
