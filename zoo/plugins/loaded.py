"""What the loaded plugins provide: models, datasets and loggers by name, and which plugin
gave each.

Plugins fill it through the ``register`` callbacks of their hooks (see :mod:`zoo.hookspecs`);
this module keeps the rules: valid names, settings that pass the schema, and no silent
overwrite when two plugins use one name (both stay, and a bare lookup asks the user to pick
``plugin:name``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from zoo.errors import AmbiguousNameError, PluginError, UnknownNameError
from zoo.names import NAME, NAME_RULE, did_you_mean, is_csv_path, matches, natural_key
from zoo.plugins.specs import DatasetSpec, LoggerSpec, ModelSpec, PluginFailure, PluginInfo
from zoo.plugins.weights import check_weights
from zoo.settings import InvalidSetting, check_settings

Spec = TypeVar("Spec", ModelSpec, DatasetSpec, LoggerSpec)
DATASET_CHOSEN = ("dataset", "dataset_params")  # settings a dataset's defaults cannot hold


def check_name(kind: str, name: Any) -> str:
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise PluginError(f"invalid {kind} name {name!r}: {NAME_RULE}")
    return name


class Registrations:
    """What one plugin registers, checked as it comes and added to the rest all at once.

    Each ``register_<kind>s`` hook of :mod:`zoo.hookspecs` receives the method
    ``register_<kind>`` of this class as its ``register`` callback.
    """

    def __init__(self, plugin: PluginInfo) -> None:
        self.plugin = plugin
        self.hooks: list[str] = []  # the hooks the plugin implements
        self.models: dict[str, ModelSpec] = {}
        self.datasets: dict[str, DatasetSpec] = {}
        self.loggers: dict[str, LoggerSpec] = {}

    def callback(self, hook: str) -> Callable[..., None]:
        """The ``register`` callback for the registration hook named ``hook``."""
        method: Callable[..., None] = getattr(self, hook.removesuffix("s"))
        return method

    def register_model(
        self,
        name: str,
        factory: Callable[..., Any],
        *,
        description: str | None = None,
        defaults: Mapping[str, Any] | None = None,
        weights: Mapping[str, Any] | None = None,
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
        trained = None
        if weights is not None:
            try:  # a relative file is the plugin's package data
                trained = check_weights(weights, _package_folder(self.plugin.module), self.origin)
            except ValueError as exc:
                raise PluginError(f"model {name!r}: {exc}") from None
        self.models[name] = ModelSpec(name, factory, self.plugin, description, checked, trained)

    @property
    def origin(self) -> str:
        return f"plugin {self.plugin.name}"

    def register_dataset(
        self,
        name: str,
        loader: Callable[..., Any],
        *,
        description: str | None = None,
        defaults: Mapping[str, Any] | None = None,
    ) -> None:
        check_name("dataset", name)
        if name in self.datasets:
            raise PluginError(f"registers dataset {name!r} twice")
        if not callable(loader):
            raise PluginError(f"dataset {name!r}: loader {loader!r} is not callable")
        try:
            checked = check_settings(dict(defaults or {}))
        except InvalidSetting as exc:
            raise PluginError(f"dataset {name!r}: defaults: {exc}") from None
        chosen = sorted(set(checked) & set(DATASET_CHOSEN))
        if chosen:
            raise PluginError(
                f"dataset {name!r}: defaults: {chosen[0]}: is chosen with the dataset, "
                "not by it; give the loader's own defaults instead"
            )
        self.datasets[name] = DatasetSpec(name, loader, self.plugin, description, checked)

    def register_logger(
        self,
        name: str,
        factory: Callable[[], Any],
        *,
        description: str | None = None,
        install: str | None = None,
    ) -> None:
        check_name("logger", name)
        if name in self.loggers:
            raise PluginError(f"registers logger {name!r} twice")
        if not callable(factory):
            raise PluginError(f"logger {name!r}: factory {factory!r} is not callable")
        self.loggers[name] = LoggerSpec(name, factory, self.plugin, description, install)


def _package_folder(module: str) -> Path:
    """The folder of a plugin's module (its package data sits beside it); the current
    folder for code registered in this process. ``module`` is its entry point's value: a
    module, or ``module:object`` for an object in one."""
    found = sys.modules.get(module.partition(":")[0].strip())
    where = getattr(found, "__file__", None)
    return Path(where).parent if where else Path.cwd()


class Plugins:
    """The loaded plugins: models and datasets by name; a name with two providers is ambiguous."""

    def __init__(self) -> None:
        self._models: dict[str, dict[str, ModelSpec]] = {}  # name -> plugin name -> spec
        self._datasets: dict[str, dict[str, DatasetSpec]] = {}
        self._loggers: dict[str, dict[str, LoggerSpec]] = {}
        self.loaded: list[PluginInfo] = []  # in load order
        self.provided: dict[str, Registrations] = {}  # plugin name -> what it added
        self.failures: list[PluginFailure] = []
        self.excluded: list[str] = []  # installed plugins that ZOO_LOAD_PLUGINS left out
        self.manager: Any = None  # the pluggy PluginManager that loaded them

    def add(self, registrations: Registrations) -> None:
        """Add what one plugin registered; an in-process plugin may add more, name by name,
        a name registered again replacing its earlier definition (a notebook cell re-run)."""
        plugin = registrations.plugin
        provided = self.provided.get(plugin.name)
        if provided is None:
            self.loaded.append(plugin)
            provided = self.provided[plugin.name] = Registrations(plugin)
        provided.hooks = list(dict.fromkeys(provided.hooks + registrations.hooks))
        provided.models |= registrations.models
        provided.datasets |= registrations.datasets
        provided.loggers |= registrations.loggers
        for name, spec in registrations.models.items():
            self._models.setdefault(name, {})[plugin.name] = spec
        for name, dataset in registrations.datasets.items():
            self._datasets.setdefault(name, {})[plugin.name] = dataset
        for name, logger in registrations.loggers.items():
            self._loggers.setdefault(name, {})[plugin.name] = logger

    def add_failure(self, failure: PluginFailure) -> None:
        self.failures.append(failure)

    @property
    def complete(self) -> bool:
        """True when every installed plugin loaded, so a missing name really is missing."""
        return not self.failures and not self.excluded

    def model(self, name: str) -> ModelSpec:
        return _lookup("model", name, self._models, self.why_missing())

    def dataset(self, name: str) -> DatasetSpec:
        """The dataset ``name``; a path ending in ``.csv`` is the built-in ``csv`` dataset."""
        if is_csv_path(name) and name not in self._datasets:
            name = "csv"
        return _lookup("dataset", name, self._datasets, self.why_missing())

    def logger(self, name: str) -> LoggerSpec:
        return _lookup("logger", name, self._loggers, self.why_missing())

    def model_providers(self, name: str) -> list[ModelSpec]:
        """Every model ``name`` (or ``plugin:name``) could mean: none, one, or a clash."""
        return _candidates(name, self._models)

    def models(self, pattern: str | None = None) -> list[ModelSpec]:
        return _listing(self._models, pattern)

    def datasets(self, pattern: str | None = None) -> list[DatasetSpec]:
        return _listing(self._datasets, pattern)

    def loggers(self, pattern: str | None = None) -> list[LoggerSpec]:
        return _listing(self._loggers, pattern)

    def clashes(self) -> dict[str, list[str]]:
        """Names that several plugins register, with those plugins."""
        tables: list[Mapping[str, Mapping[str, Any]]] = [self._models, self._datasets]
        return {
            name: list(providers)
            for table in tables
            for name, providers in table.items()
            if len(providers) > 1
        }

    def why_missing(self) -> str:
        """A note for 'unknown name' errors when some plugin did not load."""
        notes = [f"plugin {f.plugin.name!r} failed to load" for f in self.failures]
        if self.excluded:
            notes.append("ZOO_LOAD_PLUGINS left out " + ", ".join(map(repr, self.excluded)))
        return f"; note: {'; '.join(notes)} (see 'zoo plugins')" if notes else ""


def _candidates(name: str, table: dict[str, dict[str, Spec]]) -> list[Spec]:
    plugin, _, bare = name.rpartition(":")
    providers = table.get(bare, {})
    if plugin:
        return [providers[plugin]] if plugin in providers else []
    return list(providers.values())


def _lookup(kind: str, name: str, table: dict[str, dict[str, Spec]], why_missing: str) -> Spec:
    found = _candidates(name, table)
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
    if kind == "logger":  # a handful: named here
        listing = (
            f"the loggers: {', '.join(sorted(table, key=natural_key))}"
            if table
            else "no logger is installed"
        )
    else:
        listing = f"'{'zoo list' if kind == 'model' else 'zoo datasets'}' shows them all"
    raise UnknownNameError(
        f"unknown {kind} {name!r}{did_you_mean(name, known)}; {listing}{why_missing}"
    )


def _listing(table: dict[str, dict[str, Spec]], pattern: str | None) -> list[Spec]:
    specs = [
        spec
        for providers in table.values()
        for spec in providers.values()
        if matches(pattern, spec.name, spec.qualified_name)
    ]
    return sorted(specs, key=lambda s: (natural_key(s.name), s.plugin.name))
