"""The models zoo knows: every plugin's models and the catalogue's variants, with their
resolved default dataset (what ``zoo list`` shows)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zoo.config.layers import Catalogues
from zoo.config.resolve import resolve
from zoo.config.weights import weights_of
from zoo.names import matches, natural_key
from zoo.plugins.loaded import Plugins
from zoo.plugins.specs import PluginInfo
from zoo.plugins.weights import WeightsEntry


@dataclass(frozen=True)
class ModelEntry:
    """A row of ``zoo list``."""

    name: str
    plugin: PluginInfo
    dataset: str
    description: str | None
    variant_of: str | None = None  # set for a registry.yaml variant
    weights: WeightsEntry | None = None  # trained weights, if it has some

    @property
    def qualified_name(self) -> str:
        return f"{self.plugin.name}:{self.name.rpartition(':')[2]}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "plugin": self.plugin.name,
            "distribution": self.plugin.distribution,
            "version": self.plugin.version,
            "dataset": self.dataset,
            "description": self.description,
            "variant_of": self.variant_of,
            "weights": self.weights.to_dict() if self.weights else None,
        }


def model_entries(
    plugins: Plugins, catalogues: Catalogues, pattern: str | None = None
) -> list[ModelEntry]:
    """Every model and variant matching ``pattern`` (a shell wildcard), naturally sorted."""
    clashing = plugins.clashes()
    entries = []
    for spec in plugins.models():
        name = spec.qualified_name if spec.name in clashing else spec.name
        config, _ = resolve(name, plugins, catalogues)
        weights = weights_of(name, plugins, catalogues)
        entries.append(
            ModelEntry(name, spec.plugin, config.dataset, spec.description, None, weights)
        )
    for variant in catalogues.variants:
        if len(plugins.model_providers(variant.model)) == 1:  # others were noted
            config, spec = resolve(variant.name, plugins, catalogues)
            description = variant.description or f"variant of {spec.name}"
            plugin = PluginInfo(variant.file.path.name, module="")  # a catalogue, not a plugin
            weights = weights_of(variant.name, plugins, catalogues)
            entries.append(
                ModelEntry(variant.name, plugin, config.dataset, description, spec.name, weights)
            )
    entries = [e for e in entries if matches(pattern or None, e.name, e.qualified_name)]
    return sorted(entries, key=lambda e: natural_key(e.name))
