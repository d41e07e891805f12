"""The plugins and the catalogue, loaded and checked against each other."""

from __future__ import annotations

import warnings

from zoo.config.checks import check_catalogues
from zoo.config.layers import Catalogues, load_catalogues
from zoo.errors import CatalogueWarning
from zoo.names import Registry
from zoo.plugins.loaded import Plugins
from zoo.plugins.loader import load_plugins

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
