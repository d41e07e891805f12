"""Planning a comparison: model names and seeds into jobs, each prepared once.

Every (model, dataset) is resolved exactly as ``zoo train`` would resolve it, and prepared
(data loaded and split, settings and model checked) before any training starts, so a mistake
stops the comparison before it begins. A dataset loads once, however many models use it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from zoo.comparison.grid import OPTIMIZER_NUMBERS, combinations, label, overrides_for
from zoo.config.layers import Catalogues
from zoo.config.resolve import TrainConfig, resolve
from zoo.errors import ConfigError, UnknownNameError
from zoo.names import matches
from zoo.plugins.loaded import Plugins
from zoo.plugins.specs import ModelSpec
from zoo.settings import InvalidSetting, check_setting
from zoo.training.data import Split, load_split
from zoo.training.devices import resolve_device
from zoo.training.experiment import Experiment

WILDCARDS = "*?["
MOST_SEEDS = 100_000


@dataclass(frozen=True)
class Job:
    """One model on one dataset with one combination of a sweep's settings, for every seed."""

    model: str
    experiment: Experiment  # configured for the first seed; the others differ only in ``seed``
    seeds: tuple[int, ...]
    point: dict[str, Any] = field(default_factory=dict)  # the swept settings' values
    exact: bool | None = None  # the kernels: exact, fast, or None for the device's default

    @property
    def label(self) -> str:
        """The model, and the swept settings when there are any: ``circle-v2 lr=0.1``."""
        return f"{self.model} {label(self.point)}" if self.point else self.model

    @property
    def config(self) -> TrainConfig:
        return self.experiment.config

    @property
    def spec(self) -> ModelSpec:
        return self.experiment.spec

    @property
    def dataset(self) -> str:
        return self.config.dataset

    def config_for(self, seed: int) -> TrainConfig:
        return replace(self.config, seed=seed)

    def stack_key(self) -> str:
        """Jobs with equal keys train in one stack: they differ only in optimizer numbers
        (each member gets its own) and seeds."""
        settings = self.config.settings()
        for name in ("seed", *OPTIMIZER_NUMBERS):
            settings.pop(name)
        return json.dumps([self.config.builds, settings, self.exact], sort_keys=True, default=repr)


def expand_models(names: Sequence[str], known: Sequence[tuple[str, str]]) -> list[str]:
    """Names as given, wildcards expanded against ``known`` (name, plugin:name) pairs.

    A pattern must match something.
    """
    expanded: list[str] = []
    for name in names:
        if any(c in name for c in WILDCARDS):
            found = [entry[0] for entry in known if matches(name, *entry)]
            if not found:
                raise UnknownNameError(f"no model matches {name!r}; 'zoo list' shows them all")
            expanded += found
        else:
            expanded.append(name)
    return list(dict.fromkeys(expanded))


def seed_list(seeds: int | None, seed_values: Sequence[int] | None, first: int) -> list[int]:
    """``seed_values`` as given, or ``seeds`` consecutive seeds from ``first`` (5 by default)."""
    if seed_values is not None:
        if isinstance(seed_values, (str, bytes)) or not seed_values:
            raise ConfigError("seed_list: must list one or more whole numbers, e.g. [1, 2, 3]")
        try:
            return list(dict.fromkeys(check_setting("seed", s) for s in seed_values))
        except InvalidSetting as exc:
            raise ConfigError(f"seed_list: {exc}") from None
    count = 5 if seeds is None else seeds
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MOST_SEEDS:
        raise ConfigError(f"seeds: must be a whole number from 1 to {MOST_SEEDS:,}, got {count!r}")
    check_setting("seed", first + count - 1)
    return list(range(first, first + count))


def plan_jobs(
    models: Sequence[str],
    datasets: Sequence[str] | None,
    seeds: Sequence[int],
    plugins: Plugins,
    catalogue: Catalogues,
    overrides: dict[str, Any],
    grid: dict[str, list[Any]] | None = None,
    exact: bool | None = None,
) -> list[Job]:
    """One prepared job per (model, dataset, combination of the grid): the given datasets,
    or each model's own."""
    jobs = []
    splits: dict[str, Split] = {}
    for model in models:
        default, _ = resolve(model, plugins, catalogue, overrides)
        for dataset in dict.fromkeys(datasets or [default.dataset]):
            for point in combinations(grid or {}):
                settings = overrides_for(point, {**overrides, "dataset": dataset})
                experiment = _prepare(model, settings, seeds[0], plugins, catalogue, splits)
                jobs.append(Job(model, experiment, tuple(seeds), point, exact))
    return jobs


def _prepare(
    model: str,
    settings: dict[str, Any],
    seed: int,
    plugins: Plugins,
    catalogue: Catalogues,
    splits: dict[str, Split],
) -> Experiment:
    config, spec = resolve(model, plugins, catalogue, settings)
    changes: dict[str, Any] = {"seed": seed}
    if config.log_every == "auto":  # a hundred log points: epochs-to-target to 1%
        changes["log_every"] = max(1, config.epochs // 100)
    config = replace(config, **changes)
    split = _split(config, plugins, splits)
    experiment = Experiment.prepare(config, spec, plugins, resolve_device(config.device), split)
    experiment.build(config.seed)  # a model that does not fit the data fails here
    return experiment


def _split(config: TrainConfig, plugins: Plugins, loaded: dict[str, Split]) -> Split:
    """The dataset's split, loaded once per dataset, parameters and split settings."""
    spec = plugins.dataset(config.dataset)
    key = json.dumps(
        [spec.qualified_name, config.dataset_params, config.test_size, config.split_seed],
        sort_keys=True,
        default=repr,
    )
    if key not in loaded:
        loaded[key] = load_split(spec, config.dataset_params, config.test_size, config.split_seed)
    return loaded[key]
