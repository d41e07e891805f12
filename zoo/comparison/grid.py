"""Sweeps: a grid of settings, every combination of its values trained for every seed.

A grid maps a key to the values it takes: a training setting (``lr``, ``momentum``,
``optimizer``, ``epochs``, ...), ``param.NAME`` for a parameter of the model's factory, or
``dataset.NAME`` for one of the dataset's loader. Settings are checked by the same schema as
registry.yaml and the flags; parameters are checked against the factory and the loader when
the comparison is planned. Torch-free: the command line parses ``--grid`` with it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

from zoo.errors import ConfigError
from zoo.names import did_you_mean
from zoo.settings import SETTINGS, InvalidSetting, check_setting

PREFIXES = {"param.": "params", "dataset.": "dataset_params"}
# Settings a grid does not take, and where they go instead.
ELSEWHERE = {
    "seed": "give seeds with --seeds or --seed-list (seed_list= in Python)",
    "dataset": "give datasets with --dataset, once per dataset (datasets= in Python)",
    "params": "sweep one factory parameter as param.NAME",
    "dataset_params": "sweep one dataset parameter as dataset.NAME",
}
# What members of one stack may differ in: each member gets its own optimizer numbers.
OPTIMIZER_NUMBERS = ("lr", "momentum", "weight_decay")
MOST_COMBINATIONS = 10_000
HOW = "write --grid KEY=V1,V2 with KEY a setting, param.NAME or dataset.NAME"


def parse_scalar(text: str) -> Any:
    """A value as registry.yaml would read it (``0.1``, ``true``, ``adam``, ``1e-3``)."""
    import yaml

    text = text.strip()
    try:
        value = yaml.safe_load(text) if text else ""
    except yaml.YAMLError:
        return text
    if isinstance(value, str):
        try:
            return float(value)  # YAML 1.1 reads 1e-3 as text; a flag would read a number
        except ValueError:
            return value
    return value


def parse_option(text: str) -> tuple[str, list[Any]]:
    """``KEY=V1,V2,...`` as (key, values); a text without ``=`` is a :class:`ConfigError`."""
    key, equals, values = text.partition("=")
    if not equals or not key.strip():
        raise ConfigError(f"--grid {text!r}: {HOW}, e.g. --grid lr=0.01,0.1")
    return key.strip(), [parse_scalar(part) for part in values.split(",") if part.strip()]


def check_grid(
    grid: Mapping[str, Sequence[Any]] | None, overrides: Mapping[str, Any]
) -> dict[str, list[Any]]:
    """The grid with every setting's values normalised; a mistake is one :class:`ConfigError`.

    A key must be a setting a grid takes, ``param.NAME`` or ``dataset.NAME``, not also given
    as a single value in ``overrides``; its values a non-empty list without repeats.
    """
    if grid is None:
        return {}
    if not isinstance(grid, Mapping):
        raise ConfigError(f"grid: must map keys to lists of values, got {type(grid).__name__}")
    checked: dict[str, list[Any]] = {}
    for key, values in grid.items():
        _check_key(key, overrides)
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
            raise ConfigError(
                f"grid {key}: list one or more values, e.g. --grid {key}=A,B "
                f"({key}=[A, B] in Python)"
            )
        normalised = [_value(key, value) for value in values]
        for position, value in enumerate(normalised):
            if value in normalised[:position]:
                raise ConfigError(f"grid {key}: {shown(value)} is listed twice; list it once")
        checked[key] = normalised
    count = math.prod(len(values) for values in checked.values())
    if count > MOST_COMBINATIONS:
        raise ConfigError(
            f"grid: {count:,} combinations; at most {MOST_COMBINATIONS:,}: list fewer values"
        )
    return checked


def _check_key(key: Any, overrides: Mapping[str, Any]) -> None:
    if not isinstance(key, str) or not key:
        raise ConfigError(f"grid: {key!r} is not a key; {HOW}")
    prefix = next((p for p in PREFIXES if key.startswith(p)), None)
    if prefix is not None:
        name = key[len(prefix) :]
        if not name.isidentifier():
            raise ConfigError(f"grid {key}: {name!r} is not a parameter name; {HOW}")
        if name in (overrides.get(PREFIXES[prefix]) or {}):
            raise ConfigError(f"grid {key}: also given as a single value; give it in one place")
        return
    if key in ELSEWHERE:
        raise ConfigError(f"grid: {key} cannot be swept here; {ELSEWHERE[key]}")
    if key not in SETTINGS:
        known = [*SETTINGS, *(p + "NAME" for p in PREFIXES)]
        raise ConfigError(f"grid: unknown setting {key!r}{did_you_mean(key, known)}; {HOW}")
    if overrides.get(key) is not None:
        flag = "--" + key.replace("_", "-")
        raise ConfigError(f"grid {key}: also given as {flag}; give it in one place")


def _value(key: str, value: Any) -> Any:
    if any(key.startswith(p) for p in PREFIXES):
        return value
    try:
        return check_setting(key, value)
    except InvalidSetting as exc:
        raise ConfigError(f"grid {exc}") from None


def combinations(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of the grid's values, the last key varying fastest; ``[{}]`` for none."""
    keys = list(grid)
    return [dict(zip(keys, values)) for values in itertools.product(*grid.values())]


def overrides_for(point: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``overrides`` with one combination of the grid on top."""
    merged = dict(overrides)
    for key, value in point.items():
        prefix = next((p for p in PREFIXES if key.startswith(p)), None)
        if prefix is None:
            merged[key] = value
        else:
            field = PREFIXES[prefix]
            merged[field] = {**(merged.get(field) or {}), key[len(prefix) :]: value}
    return merged


def label(point: Mapping[str, Any]) -> str:
    """``lr=0.1 momentum=0.9``: a combination as the table and the verdicts name it."""
    return " ".join(f"{key}={shown(value)}" for key, value in point.items())


def shown(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
