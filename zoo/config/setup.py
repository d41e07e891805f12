"""The plugins and the catalogue, loaded and checked against each other."""

from __future__ import annotations

import os
import warnings

from zoo.config.catalogue import Catalogue, load_catalogue
from zoo.config.resolve import check_catalogue
from zoo.errors import CatalogueWarning
from zoo.plugins.loaded import Plugins
from zoo.plugins.loader import load_plugins

PathLike = str | os.PathLike[str]
_NOTED: set[str] = set()


def open_zoo(registry: PathLike | None = None) -> tuple[Plugins, Catalogue]:
    """The loaded plugins (once per process) and the catalogue at ``registry``, checked."""
    plugins = load_plugins()
    catalogue = load_catalogue(registry)
    for note in check_catalogue(catalogue, plugins):
        if note not in _NOTED:  # once per process, however often the catalogue is read
            _NOTED.add(note)
            warnings.warn(note, CatalogueWarning, stacklevel=3)
    return plugins, catalogue
