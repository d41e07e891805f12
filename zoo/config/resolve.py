"""Resolving a model name to the model to build and the settings to train it with.

Settings come in layers, lowest to highest: zoo's fallbacks, the catalogue's ``defaults:``, the
plugin's own ``defaults``, the catalogue's entry for the model (for a variant: the base model's
entry, then the variant's), and the caller's overrides. ``params`` and ``dataset_params`` merge
key by key; every other setting is replaced whole. Each resolved value remembers its layer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from zoo.config.catalogue import Catalogue, CatalogueEntry, shown
from zoo.errors import CatalogueError, ConfigError, UnknownNameError
from zoo.names import did_you_mean
from zoo.plugins.loaded import Plugins
from zoo.plugins.specs import ModelSpec
from zoo.settings import FALLBACKS, InvalidSetting, check_settings

_MERGED = ("params", "dataset_params")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run, fully resolved."""

    model: str  # the name asked for: a model, a variant or ``plugin:name``
    builds: str  # ``plugin:name`` of the model whose factory is called
    dataset: str
    dataset_params: dict[str, Any]
    params: dict[str, Any]
    epochs: int
    lr: float
    optimizer: str
    momentum: float
    weight_decay: float
    batch_size: int | str  # 'full': the whole training split in one step
    seed: int
    split_seed: int
    test_size: float
    device: str
    threads: int
    log_every: int | str
    checkpoint_every: int | str
    sources: dict[str, str] = dataclasses.field(default_factory=dict, compare=False)

    @property
    def log_interval(self) -> int:
        if self.log_every == "auto":
            return max(1, self.epochs // 10)
        return int(self.log_every)

    @property
    def checkpoint_interval(self) -> int:
        if self.checkpoint_every == "auto":
            return self.log_interval
        return int(self.checkpoint_every)

    def settings(self) -> dict[str, Any]:
        """The training settings alone, as a JSON-ready mapping."""
        return {k: v for k, v in dataclasses.asdict(self).items() if k in FALLBACKS}


def resolve(
    name: str, plugins: Plugins, catalogue: Catalogue, overrides: Mapping[str, Any] | None = None
) -> tuple[TrainConfig, ModelSpec]:
    """The model ``name`` builds and its settings, with ``overrides`` on top."""
    variant = catalogue.entries.get(name)
    if variant is not None and not variant.is_variant:
        variant = None
    spec = find_model(variant.model if variant and variant.model else name, plugins, catalogue)
    where = catalogue.path.name
    layers: list[tuple[str, Mapping[str, Any]]] = [
        ("zoo", FALLBACKS),
        (f"{where} defaults", catalogue.defaults),
        (f"plugin {spec.plugin.name}", spec.defaults),
    ]
    for entry in (_entry_for(spec, catalogue), variant):
        if entry is not None:
            layers.append((f"{where} models.{entry.name}", entry.settings))
    layers.append(("override", _checked(overrides or {})))

    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for source, layer in layers:
        for key, value in layer.items():
            values[key] = {**values.get(key, {}), **value} if key in _MERGED else value
            sources[key] = source
    config = TrainConfig(model=name, builds=spec.qualified_name, sources=sources, **values)
    return config, spec


def find_model(name: str, plugins: Plugins, catalogue: Catalogue) -> ModelSpec:
    """The plugin model behind ``name``; unknown names suggest models and variants alike."""
    try:
        return plugins.model(name)
    except UnknownNameError:
        known = [s.name for s in plugins.models()] + [
            v.name for v in catalogue.variants if plugins.model_providers(v.model or "")
        ]
        raise UnknownNameError(
            f"unknown model {name!r}{did_you_mean(name, known)}; "
            f"'zoo list' shows them all{plugins.why_missing()}"
        ) from None


def check_catalogue(catalogue: Catalogue, plugins: Plugins) -> list[str]:
    """Check that the catalogue's entries name models that exist, and exist once.

    With every plugin loaded, a missing model is a :class:`CatalogueError`. When some plugin
    failed (already reported) or was left out on purpose, the entry may be that plugin's and
    is skipped. A variant of a name two plugins share is skipped with a returned note.
    """
    notes = []
    for entry in catalogue.entries.values():
        key = "model" if entry.is_variant else None
        entry_label = f"models.{shown(entry.name)}"
        label = entry_label + (".model" if key else "")
        where = catalogue.where(entry, key)
        if entry.is_variant and plugins.model_providers(entry.name):
            raise CatalogueError(
                f"{catalogue.where(entry)}: {entry_label}: is already a plugin's model; "
                "give the variant a name of its own"
            )
        target = entry.model or entry.name
        providers = plugins.model_providers(target)
        for spec in providers:  # a parameter the factory refuses: here, with its line
            refused = spec.refused_parameter(entry.settings.get("params", {}))
            if refused:
                raise CatalogueError(
                    f"{catalogue.where(entry, 'params')}: {entry_label}.params: {refused}"
                )
        if len(providers) > 1 and entry.is_variant:
            names = " or ".join(repr(p.qualified_name) for p in providers)
            notes.append(
                f"{where}: {label}: {target!r} is registered by {len(providers)} "
                f"plugins; write {names}; variant skipped"
            )
        if providers:
            continue
        if plugins.complete:
            known = [s.name for s in plugins.models()]
            raise CatalogueError(
                f"{where}: {label}: no plugin provides model {target!r}"
                + (did_you_mean(target, known) or "; see 'zoo list'")
            )
    return notes


def _entry_for(spec: ModelSpec, catalogue: Catalogue) -> CatalogueEntry | None:
    for key in (spec.qualified_name, spec.name):
        entry = catalogue.entries.get(key)
        if entry is not None and not entry.is_variant:
            return entry
    return None


def _checked(overrides: Mapping[str, Any]) -> dict[str, Any]:
    try:
        return check_settings(overrides)
    except InvalidSetting as exc:
        raise ConfigError(str(exc)) from None
