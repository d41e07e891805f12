"""Planning a comparison: model names and seeds into jobs, each prepared once.

Every (model, dataset) is resolved exactly as ``zoo train`` would resolve it, and prepared
(data loaded and split, settings and model checked) before any training starts, so a mistake
stops the comparison before it begins. A dataset loads once, however many models use it.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from zoo.comparison.grid import OPTIMIZER_NUMBERS, combinations, label, overrides_for
from zoo.config.layers import Catalogues
from zoo.config.resolve import TrainConfig, resolve
from zoo.errors import ConfigError, UnknownNameError
from zoo.names import Registry, matches
from zoo.plugins.loaded import Plugins
from zoo.plugins.specs import DatasetSpec, ModelSpec
from zoo.settings import InvalidSetting, check_setting
from zoo.training.data import Split, load_split
from zoo.training.devices import resolve_device
from zoo.training.experiment import Experiment
from zoo.training.optim import batch_size

WILDCARDS = "*?["
MOST_SEEDS = 100_000
# 10: enough for a verdict (6 seeds are the fewest that can give p<0.05, 7-8 against several
# rows); with 5 every comparison would end "too few seeds to tell".
DEFAULT_SEEDS = 10
# The sources of variance a comparison can vary, and the setting each compared seed sets.
SOURCES = {"init": "seed", "split": "split_seed", "order": "order_seed"}


@dataclass(frozen=True)
class Job:
    """One model on one dataset with one combination of a sweep's settings, for every seed.

    Each compared seed sets the settings of the sources in ``vary`` (``seed`` for init,
    ``split_seed``, ``order_seed``); the others keep their configured values. ``splits``
    holds each seed's own prepared split when the split varies.
    """

    model: str
    experiment: Experiment  # configured for the first seed
    seeds: tuple[int, ...]
    point: dict[str, Any] = field(default_factory=dict)  # the swept settings' values
    exact: bool | None = None  # the kernels: exact, fast, or None for the device's default
    vary: tuple[str, ...] = ("init",)
    splits: dict[int, Experiment] = field(default_factory=dict, repr=False)  # by split seed

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
        """The settings that ``zoo train`` takes to train this job's ``seed`` alone."""
        changes: dict[str, Any] = {SOURCES[source]: seed for source in self.vary}
        return replace(self.config, **changes)

    def experiment_for(self, seed: int) -> Experiment:
        """The prepared split (and its tensors) that ``seed`` trains on."""
        return self.splits.get(self.config_for(seed).split_seed, self.experiment)

    def varied(self) -> tuple[str, ...]:
        """The sources that differ between the seeds: the order only with mini-batches, and
        also with ``init`` alone while ``order_seed`` follows ``seed``."""
        found: list[str] = [source for source in ("init", "split") if source in self.vary]
        config = self.config
        minibatch = batch_size(config, len(self.experiment.split.X_train)) is not None
        follows = "init" in self.vary and config.order_seed == "seed"
        if minibatch and ("order" in self.vary or follows):
            found.append("order")
        return tuple(found)

    def stack_key(self) -> str:
        """Jobs with equal keys train in one stack: they differ only in optimizer numbers
        (each member gets its own) and seeds."""
        settings = self.config.settings()
        for name in {"seed", *(SOURCES[source] for source in self.vary), *OPTIMIZER_NUMBERS}:
            settings.pop(name)
        return json.dumps(
            [self.config.builds, settings, self.exact, self.vary], sort_keys=True, default=repr
        )


@dataclass(frozen=True)
class Request:
    """What a comparison was asked for. :func:`zoo.compare` builds it from its arguments;
    :func:`compare` checks it and plans it, and keeps the planned request (names expanded,
    ``seeds`` a list, the grid normalised) in an ``--out`` folder to resume it."""

    models: Sequence[str]  # names or wildcards; planned: names
    datasets: Sequence[str] | None
    seeds: Sequence[int] | int | None  # the seeds, or a count from the configured seed (None: 10)
    reach: float  # the test accuracy (%) whose first epoch is reported
    baselines: bool
    settings: dict[str, Any]  # every model's settings (None: not given)
    registry: Registry  # the user's catalogues
    grid: Mapping[str, Sequence[Any]] | None = None  # a sweep's settings and their values
    exact: bool | None = None  # the kernels: exact, fast, or None for the device's default
    vary: Sequence[str] | str | None = None  # the sources of variance (None: init)

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))

    def seed_values(self) -> list[int]:
        """The seeds of a planned request (a count, or None, is listed when it is planned)."""
        return [] if self.seeds is None or isinstance(self.seeds, int) else list(self.seeds)

    def sources(self) -> tuple[str, ...]:
        """What each seed changes, in its usual order."""
        return check_vary(self.vary)


def check_vary(vary: str | Sequence[str] | None) -> tuple[str, ...]:
    """``vary`` as a tuple of sources in their usual order: ``'init,split'``, a list of
    names, ``'all'`` or None (``init``: the weights only, as before there was a choice)."""
    if vary is None:
        return ("init",)
    names = vary.split(",") if isinstance(vary, str) else list(vary)
    if not all(isinstance(name, str) for name in names):
        raise ConfigError(f"vary: must name sources of variance, got {vary!r}")
    names = [name.strip() for name in names if name.strip()]
    if names == ["all"]:
        return tuple(SOURCES)
    unknown = [name for name in names if name not in SOURCES]
    if unknown or not names:
        raise ConfigError(
            f"vary: {', '.join(map(repr, unknown)) or 'nothing'} is not a source of variance; "
            "choose from init, split, order (comma-separated) or all"
        )
    return tuple(source for source in SOURCES if source in names)


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


def seed_list(seeds: Sequence[int] | int | None, first: int) -> list[int]:
    """The seeds as listed, or ``seeds`` consecutive seeds from ``first``
    (:data:`DEFAULT_SEEDS` by default)."""
    if seeds is not None and not isinstance(seeds, int):  # zoo.compare's seed_list
        seed_values = seeds
        if isinstance(seed_values, (str, bytes)) or not seed_values:
            raise ConfigError("seed_list: must list one or more whole numbers, e.g. [1, 2, 3]")
        try:
            return list(dict.fromkeys(check_setting("seed", s) for s in seed_values))
        except InvalidSetting as exc:
            raise ConfigError(f"seed_list: {exc}") from None
    count = DEFAULT_SEEDS if seeds is None else seeds
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MOST_SEEDS:
        raise ConfigError(f"seeds: must be a whole number from 1 to {MOST_SEEDS:,}, got {count!r}")
    check_setting("seed", first + count - 1)
    return list(range(first, first + count))


def plan_jobs(request: Request, plugins: Plugins, catalogue: Catalogues) -> list[Job]:
    """One prepared job per (model, dataset, combination of the grid): the given datasets,
    or each model's own."""
    seeds = tuple(request.seed_values())
    overrides, grid, vary = request.settings, request.grid, request.sources()
    jobs = []
    splits: dict[str, Any] = {}  # splits and loaded datasets, each made once
    for model in request.models:
        default, _ = resolve(model, plugins, catalogue, overrides)
        for dataset in dict.fromkeys(request.datasets or [default.dataset]):
            for point in combinations(grid or {}):
                settings = overrides_for(point, {**overrides, "dataset": dataset})
                prepare = functools.partial(_prepare, model, settings, plugins, catalogue, splits)
                jobs.append(_job(model, prepare, seeds, point, request.exact, vary))
    if all(not job.varied() for job in jobs):
        raise ConfigError(
            "vary: every model trains full batch, so there is no batch order to vary and the "
            "seeds would all be the same run; vary init or split too, or give --batch-size N"
        )
    return jobs


def _job(
    model: str,
    prepare: Callable[[dict[str, Any]], Experiment],
    seeds: tuple[int, ...],
    point: dict[str, Any],
    exact: bool | None,
    vary: tuple[str, ...],
) -> Job:
    """A job, its first seed's experiment prepared, and every seed's split if the split varies."""
    first: dict[str, Any] = {SOURCES[source]: seeds[0] for source in vary}
    job = Job(model, prepare(first), seeds, point, exact, vary)
    if "split" not in vary:
        return job
    by_split = {seeds[0]: job.experiment}
    for seed in seeds[1:]:
        by_split[seed] = prepare({**first, "split_seed": seed})
    return replace(job, splits=by_split)


def _prepare(
    model: str,
    settings: dict[str, Any],
    plugins: Plugins,
    catalogue: Catalogues,
    splits: dict[str, Any],
    changes: dict[str, Any],
) -> Experiment:
    config, spec = resolve(model, plugins, catalogue, settings)
    config = replace(config, **changes)
    if config.log_every == "auto":  # a hundred log points: epochs-to-target to 1%
        config = replace(config, log_every=max(1, config.epochs // 100))
    split = _split(config, plugins, splits)
    experiment = Experiment.prepare(config, spec, plugins, resolve_device(config.device), split)
    experiment.build(config.seed)  # a model that does not fit the data fails here
    return experiment


def _split(config: TrainConfig, plugins: Plugins, loaded: dict[str, Any]) -> Split:
    """The dataset's split, made once per dataset, parameters and split settings; the
    dataset's loader is called once however many split seeds it is split with."""
    spec = _loading_once(plugins.dataset(config.dataset), loaded)
    key = json.dumps(
        [
            spec.qualified_name,
            config.dataset_params,
            config.test_size,
            config.split_seed,
            config.val_size,
        ],
        sort_keys=True,
        default=repr,
    )
    if key not in loaded:
        loaded[key] = load_split(
            spec, config.dataset_params, config.test_size, config.split_seed, config.val_size
        )
    split: Split = loaded[key]
    return split


def _loading_once(spec: DatasetSpec, loaded: dict[str, Any]) -> DatasetSpec:
    """``spec`` with a loader that remembers what it returned for each set of parameters
    (in ``loaded``, for this plan): every split of a dataset splits the same rows."""
    original = spec.loader

    @functools.wraps(original)  # the same signature: its parameters are checked as the plugin's
    def loader(**params: Any) -> Any:
        key = json.dumps(["loaded", spec.qualified_name, params], sort_keys=True, default=repr)
        if key not in loaded:
            loaded[key] = original(**params)
        return loaded[key]

    return replace(spec, loader=loader)
