"""The catalogues zoo reads, in layers: the registry.yaml it ships, then the user's own files.

A user's file adds to the ones below it: its ``defaults:`` override theirs key by key, an entry
for a model adds to (and, key by key, overrides) that model's entries below, and a variant
named again takes the settings given in each file, its ``model:`` from the highest that says.
Files come from ``$ZOO_REGISTRY`` (paths separated by ``os.pathsep``), then ``--registry``
(repeatable). A relative CSV path in a file is relative to that file's folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from zoo.config.catalogue import Catalogue, CatalogueEntry, default_path, load_catalogue
from zoo.names import Registry, is_csv_path

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class Variant:
    """A catalogue model that needs no code: another name for a model with other settings."""

    name: str
    model: str  # the model it builds
    description: str | None
    file: Catalogue  # the file that says which model it builds


@dataclass(frozen=True)
class Catalogues:
    """Every catalogue file zoo reads, lowest first."""

    files: tuple[Catalogue, ...]

    def entries(self, name: str) -> list[tuple[Catalogue, CatalogueEntry]]:
        """Each file's entry named ``name``, lowest first."""
        return [(f, f.entries[name]) for f in self.files if name in f.entries]

    def variant(self, name: str) -> Variant | None:
        """The variant ``name``, if some file gives it a ``model:``."""
        model, description, source = None, None, None
        for file, entry in self.entries(name):
            if entry.model is not None:
                model, source = entry.model, file
            description = entry.description or description
        if model is None or source is None:
            return None
        return Variant(name, model, description, source)

    @property
    def variants(self) -> list[Variant]:
        names = dict.fromkeys(name for f in self.files for name in f.entries)
        return [v for v in map(self.variant, names) if v is not None]

    @property
    def paths(self) -> list[str]:
        return [str(f.path) for f in self.files]


def load_catalogues(registry: Registry = None) -> Catalogues:
    """The shipped catalogue, then ``$ZOO_REGISTRY``'s files, then ``registry``'s."""
    paths = [default_path(), *user_paths(registry)]
    return Catalogues(tuple(_absolute_csv_paths(load_catalogue(path)) for path in paths))


def user_paths(registry: Registry = None) -> list[Path]:
    found = [Path(p) for p in os.environ.get("ZOO_REGISTRY", "").split(os.pathsep) if p]
    if isinstance(registry, (str, os.PathLike)):
        found.append(Path(registry))
    elif registry is not None:
        found += [Path(p) for p in registry]
    return found


def _absolute_csv_paths(file: Catalogue) -> Catalogue:
    """The file with each relative CSV path made relative to its folder."""
    folder = Path(os.path.abspath(file.path)).parent
    entries = {
        name: replace(entry, settings=_anchored(entry.settings, folder))
        for name, entry in file.entries.items()
    }
    return replace(file, defaults=_anchored(file.defaults, folder), entries=entries)


def _anchored(settings: dict[str, Any], folder: Path) -> dict[str, Any]:
    found = dict(settings)
    dataset = found.get("dataset")
    if isinstance(dataset, str) and is_csv_path(dataset) and not Path(dataset).is_absolute():
        found["dataset"] = str(folder / dataset)
    params = found.get("dataset_params")
    path = params.get("path") if params else None
    if params and isinstance(path, str) and not Path(path).is_absolute():
        found["dataset_params"] = {**params, "path": str(folder / path)}
    return found
