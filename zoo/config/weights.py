"""Which trained weights a model name has: the highest catalogue entry that gives some, else
those its plugin ships (a variant's are its own: its plugin's would not fit its settings)."""

from __future__ import annotations

from zoo.config.layers import Catalogues
from zoo.errors import AmbiguousNameError, UnknownNameError, WeightsError
from zoo.plugins.loaded import Plugins
from zoo.plugins.weights import WeightsEntry


def weights_of(name: str, plugins: Plugins, catalogues: Catalogues) -> WeightsEntry | None:
    """The weights ``name`` has, or None."""
    bare = name.rpartition(":")[2]
    for _, entry in reversed(catalogues.entries(bare)):
        if entry.weights is not None:
            return entry.weights
    if catalogues.variant(bare) is not None:
        return None
    try:
        return plugins.model(name).weights
    except (UnknownNameError, AmbiguousNameError):
        return None


def weights_for(name: str, plugins: Plugins, catalogues: Catalogues) -> WeightsEntry:
    """The weights ``name`` has; a name without any is one line saying which have some."""
    found = weights_of(name, plugins, catalogues)
    if found is not None:
        return found
    if catalogues.variant(name) is None:
        plugins.model(name)  # an unknown name is its own error, with its suggestions
    raise WeightsError(
        f"model {name!r} has no trained weights; 'zoo list --with-weights' shows the models "
        "that have some, and 'zoo publish RUN --as NAME --registry FILE' adds yours"
    )
