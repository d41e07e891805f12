"""The registry: which models and datasets exist, and which plugin provides each.

Plugins fill it through the ``register`` callbacks (see :mod:`zoo.plugins`); this module keeps
the rules: valid names, settings that pass the schema, and no silent overwrite when two plugins
use one name (both stay, and a bare lookup asks the user to pick ``plugin:name``).
"""

from __future__ import annotations

import fnmatch
import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from zoo.errors import AmbiguousNameError, PluginError, UnknownNameError
from zoo.settings import InvalidSetting, check_settings, did_you_mean

NAME = re.compile(r"[a-z0-9][a-z0-9._-]*")


@dataclass(frozen=True)
class PluginInfo:
    """A plugin as its entry point declares it."""

    name: str  # the entry-point name, used in ``plugin:name``
    module: str
    distribution: str | None = None
    version: str | None = None

    @property
    def origin(self) -> str:
        if self.distribution is None:
            return self.name
        return f"{self.name} ({self.distribution} {self.version})"


@dataclass(frozen=True)
class PluginFailure:
    plugin: PluginInfo
    error: str  # one line: the exception and where it was raised


@dataclass(frozen=True)
class ModelSpec:
    name: str
    factory: Callable[..., Any]
    plugin: PluginInfo
    description: str | None = None
    defaults: Mapping[str, Any] = field(default_factory=dict)

    @property
    def qualified_name(self) -> str:
        return f"{self.plugin.name}:{self.name}"

    def parameters(self) -> tuple[set[str], bool]:
        """The keyword arguments the factory takes, and whether it takes any (``**kwargs``)."""
        try:
            found = inspect.signature(self.factory).parameters.values()
        except (TypeError, ValueError):  # a builtin or C callable: trust it with everything
            return set(), True
        named = {p.name for p in found if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
        return named, any(p.kind == p.VAR_KEYWORD for p in found)

    def refused_parameter(self, params: Mapping[str, Any]) -> str | None:
        """The first of ``params`` the factory does not take, with the names it does."""
        accepted, open_ended = self.parameters()
        for key in params:
            if key not in accepted and not open_ended:
                takes = ", ".join(sorted(accepted)) or "no parameters"
                return (
                    f"model {self.name!r} takes no parameter {key!r}"
                    f"{did_you_mean(key, accepted)} (it takes: {takes})"
                )
        return None


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    loader: Callable[..., Any]
    plugin: PluginInfo
    description: str | None = None

    @property
    def qualified_name(self) -> str:
        return f"{self.plugin.name}:{self.name}"


def matches(pattern: str | None, *names: str) -> bool:
    """Whether a shell wildcard (None: everything) matches any of an entry's names."""
    return pattern is None or any(fnmatch.fnmatchcase(name, pattern) for name in names)


def natural_key(name: str) -> list[Any]:
    """Sort key that puts ``model2`` before ``model10``."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def check_name(kind: str, name: Any) -> str:
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise PluginError(
            f"invalid {kind} name {name!r}: use lower-case letters, digits, '.', '_' and '-'"
        )
    return name


class PluginRegistrations:
    """What one plugin registers, checked as it comes and added to the registry all at once."""

    def __init__(self, plugin: PluginInfo) -> None:
        self.plugin = plugin
        self.hooks: list[str] = []  # the hooks the plugin implements
        self.models: dict[str, ModelSpec] = {}
        self.datasets: dict[str, DatasetSpec] = {}

    def register_model(
        self,
        name: str,
        factory: Callable[..., Any],
        *,
        description: str | None = None,
        defaults: Mapping[str, Any] | None = None,
    ) -> None:
        check_name("model", name)
        if name in self.models:
            raise PluginError(f"registers model {name!r} twice")
        if not callable(factory):
            raise PluginError(f"model {name!r}: factory {factory!r} is not callable")
        try:
            checked = check_settings(dict(defaults or {}))
        except InvalidSetting as exc:
            raise PluginError(f"model {name!r}: defaults: {exc}") from None
        self.models[name] = ModelSpec(name, factory, self.plugin, description, checked)

    def register_dataset(
        self, name: str, loader: Callable[..., Any], *, description: str | None = None
    ) -> None:
        check_name("dataset", name)
        if name in self.datasets:
            raise PluginError(f"registers dataset {name!r} twice")
        if not callable(loader):
            raise PluginError(f"dataset {name!r}: loader {loader!r} is not callable")
        self.datasets[name] = DatasetSpec(name, loader, self.plugin, description)


class Registry:
    """Models and datasets by name; a name may have several providers, then it is ambiguous."""

    def __init__(self) -> None:
        self._models: dict[str, dict[str, ModelSpec]] = {}  # name -> plugin name -> spec
        self._datasets: dict[str, dict[str, DatasetSpec]] = {}
        self.plugins: list[PluginInfo] = []  # loaded, in load order
        self.provided: dict[str, PluginRegistrations] = {}  # plugin name -> what it added
        self.failures: list[PluginFailure] = []
        self.excluded: list[str] = []  # installed plugins that ZOO_LOAD_PLUGINS left out

    def add(self, registrations: PluginRegistrations) -> None:
        plugin = registrations.plugin
        self.plugins.append(plugin)
        self.provided[plugin.name] = registrations
        for name, spec in registrations.models.items():
            self._models.setdefault(name, {})[plugin.name] = spec
        for name, dataset in registrations.datasets.items():
            self._datasets.setdefault(name, {})[plugin.name] = dataset

    def add_failure(self, failure: PluginFailure) -> None:
        self.failures.append(failure)

    @property
    def complete(self) -> bool:
        """True when every installed plugin loaded, so a missing name really is missing."""
        return not self.failures and not self.excluded

    def model(self, name: str) -> ModelSpec:
        return self._lookup("model", name, self._models)

    def dataset(self, name: str) -> DatasetSpec:
        return self._lookup("dataset", name, self._datasets)

    def model_providers(self, name: str) -> list[ModelSpec]:
        """Every model ``name`` (or ``plugin:name``) could mean: none, one, or a clash."""
        return self._candidates(name, self._models)

    def models(self, pattern: str | None = None) -> list[ModelSpec]:
        return self._listing(self._models, pattern)

    def datasets(self, pattern: str | None = None) -> list[DatasetSpec]:
        return self._listing(self._datasets, pattern)

    def clashes(self) -> dict[str, list[str]]:
        """Names that several plugins register, with those plugins."""
        return {
            name: list(providers)
            for table in (self._models, self._datasets)
            for name, providers in table.items()
            if len(providers) > 1
        }

    def why_missing(self) -> str:
        """A note for 'unknown name' errors when some plugin did not load."""
        notes = [f"plugin {f.plugin.name!r} failed to load" for f in self.failures]
        if self.excluded:
            notes.append("ZOO_LOAD_PLUGINS left out " + ", ".join(map(repr, self.excluded)))
        return f"; note: {'; '.join(notes)} (see 'zoo plugins')" if notes else ""

    @staticmethod
    def _candidates(name: str, table: dict[str, dict[str, Any]]) -> list[Any]:
        plugin, _, bare = name.rpartition(":")
        providers = table.get(bare, {})
        if plugin:
            return [providers[plugin]] if plugin in providers else []
        return list(providers.values())

    def _lookup(self, kind: str, name: str, table: dict[str, dict[str, Any]]) -> Any:
        found = self._candidates(name, table)
        if len(found) == 1:
            return found[0]
        if found:
            options = " or ".join(repr(spec.qualified_name) for spec in found)
            raise AmbiguousNameError(
                f"{kind} {name!r} is registered by {len(found)} plugins "
                f"({', '.join(spec.plugin.name for spec in found)}); "
                f"name the one you mean: {options}"
            )
        known = [*table, *(s.qualified_name for p in table.values() for s in p.values())]
        listing = "zoo list" if kind == "model" else "zoo datasets"
        raise UnknownNameError(
            f"unknown {kind} {name!r}{did_you_mean(name, known)}; "
            f"'{listing}' shows them all{self.why_missing()}"
        )

    @staticmethod
    def _listing(table: dict[str, dict[str, Any]], pattern: str | None) -> list[Any]:
        specs = [
            spec
            for providers in table.values()
            for spec in providers.values()
            if matches(pattern, spec.name, spec.qualified_name)
        ]
        return sorted(specs, key=lambda s: (natural_key(s.name), s.plugin.name))
