"""The plugins and the catalogues, loaded and checked against each other (:func:`open_zoo`):
every entry names a model and a dataset that exist, with parameters their factory and loader
accept; problems carry ``file:line``."""

from __future__ import annotations

import warnings
from typing import Any

from zoo.config.catalogue import Catalogue, CatalogueEntry, shown
from zoo.config.layers import Catalogues, load_catalogues
from zoo.errors import CatalogueError, CatalogueWarning, UnknownNameError
from zoo.names import Registry, did_you_mean
from zoo.plugins.loaded import Plugins
from zoo.plugins.loader import load_plugins
from zoo.plugins.specs import refused_parameter

_NOTED: set[str] = set()


def open_zoo(registry: Registry = None) -> tuple[Plugins, Catalogues]:
    """The loaded plugins (once per process) and the catalogues (zoo's own, then the user's
    from ``$ZOO_REGISTRY`` and ``registry``), checked against each other."""
    plugins = load_plugins()
    catalogue = load_catalogues(registry)
    for note in check_catalogues(catalogue, plugins):
        if note not in _NOTED:  # once per process, however often the catalogue is read
            _NOTED.add(note)
            warnings.warn(note, CatalogueWarning, stacklevel=3)
    return plugins, catalogue


def check_catalogues(catalogues: Catalogues, plugins: Plugins) -> list[str]:
    """Check every file's entries; return notes about variants skipped for a name clash.

    With every plugin loaded, a missing model or dataset is a :class:`CatalogueError`. When
    some plugin failed (already reported) or was left out on purpose, the entry may be that
    plugin's and is skipped.
    """
    notes: list[str] = []
    for file in catalogues.files:
        _check_dataset(file, None, file.defaults, plugins)
        for entry in file.entries.values():
            variant = catalogues.variant(entry.name)
            note = _check_model(file, entry, variant.model if variant else None, plugins)
            if note:
                notes.append(note)
            _check_dataset(file, entry, entry.settings, plugins)
    return list(dict.fromkeys(notes))


def _check_model(
    file: Catalogue, entry: CatalogueEntry, variant_of: str | None, plugins: Plugins
) -> str | None:
    label = f"models.{shown(entry.name)}"
    if entry.model is not None and plugins.model_providers(entry.name):
        raise CatalogueError(
            f"{file.where(entry)}: {label}: is already a plugin's model; "
            "give the variant a name of its own"
        )
    target = variant_of or entry.name
    where = file.where(entry, "model" if entry.model else None)
    providers = plugins.model_providers(target)
    for spec in providers:  # a parameter the factory refuses: here, with its line
        refused = spec.refused_parameter(entry.settings.get("params", {}))
        if refused:
            raise CatalogueError(f"{file.where(entry, 'params')}: {label}.params: {refused}")
    if len(providers) > 1 and variant_of:
        names = " or ".join(repr(p.qualified_name) for p in providers)
        return (
            f"{where}: {label}.model: {target!r} is registered by {len(providers)} "
            f"plugins; write {names}; variant skipped"
        )
    if not providers and plugins.complete:
        known = [s.name for s in plugins.models()]
        raise CatalogueError(
            f"{where}: {label}{'.model' if entry.model else ''}: no plugin provides model "
            f"{target!r}" + (did_you_mean(target, known) or "; see 'zoo list'")
        )
    return None


def _check_dataset(
    file: Catalogue, entry: CatalogueEntry | None, settings: dict[str, Any], plugins: Plugins
) -> None:
    """The dataset a file names exists, and takes the ``dataset_params`` it gives."""
    label = f"models.{shown(entry.name)}" if entry else "defaults"
    lines = entry.key_lines if entry else file.default_lines

    def where(key: str) -> str:
        return f"{file.path}:{lines.get(key, entry.line if entry else 1)}"

    name = settings.get("dataset")
    if name is None or not plugins.complete:
        return
    try:
        dataset = plugins.dataset(name)
    except UnknownNameError as exc:
        raise CatalogueError(f"{where('dataset')}: {label}.dataset: {exc}") from None
    params = settings.get("dataset_params", {})
    refused = refused_parameter(f"dataset {name!r}", dataset.loader, params)
    if refused:
        raise CatalogueError(f"{where('dataset_params')}: {label}.dataset_params: {refused}")
