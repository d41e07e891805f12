"""Each installed plugin's state, as ``zoo plugins`` shows it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # `import zoo` loads this record: nothing more
    from zoo.plugins.loaded import Plugins


@dataclass(frozen=True)
class PluginStatus:
    """One installed plugin: loaded (what it provides), failed (why), or not loaded."""

    name: str
    status: str  # "loaded", "failed" or "not loaded (ZOO_LOAD_PLUGINS)"
    module: str | None = None
    distribution: str | None = None
    version: str | None = None
    hooks: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    datasets: list[str] = field(default_factory=list)
    loggers: list[str] = field(default_factory=list)
    error: str | None = None  # for a failed one: the exception and where it was raised
    in_process: bool = False  # registered by code running in this process

    def to_dict(self) -> dict[str, Any]:
        """The JSON record of ``zoo plugins --json``: only the keys that apply."""
        record: dict[str, Any] = {"name": self.name}
        if self.module is not None:
            record |= {
                "module": self.module,
                "distribution": self.distribution,
                "version": self.version,
            }
        record["status"] = self.status
        if self.in_process:
            record["registered"] = "in this process"
        if self.status == "loaded":
            record |= {"hooks": self.hooks, "models": self.models, "datasets": self.datasets}
            record |= {"loggers": self.loggers} if self.loggers else {}
        elif self.error is not None:
            record["error"] = self.error
        return record


def plugin_statuses(plugins: Plugins) -> list[PluginStatus]:
    """Loaded plugins by name, then failed ones, then those left out by ZOO_LOAD_PLUGINS."""
    statuses = []
    for plugin in sorted(plugins.loaded, key=lambda p: p.name):
        provided = plugins.provided[plugin.name]
        statuses.append(
            PluginStatus(
                plugin.name,
                "loaded",
                plugin.module,
                plugin.distribution,
                plugin.version,
                list(provided.hooks),
                list(provided.models),
                list(provided.datasets),
                list(provided.loggers),
                in_process=plugin.in_process,
            )
        )
    for failure in sorted(plugins.failures, key=lambda f: f.plugin.name):
        plugin = failure.plugin
        statuses.append(
            PluginStatus(
                plugin.name,
                "failed",
                plugin.module,
                plugin.distribution,
                plugin.version,
                error=failure.error,
            )
        )
    statuses += [PluginStatus(name, "not loaded (ZOO_LOAD_PLUGINS)") for name in plugins.excluded]
    return statuses
