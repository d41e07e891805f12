"""What a plugin, a model, a dataset and a logger are to zoo: frozen records made at
registration."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from zoo.names import did_you_mean
from zoo.plugins.weights import WeightsEntry


@dataclass(frozen=True)
class PluginInfo:
    """A plugin as its entry point declares it."""

    name: str  # the entry-point name, used in ``plugin:name``
    module: str
    distribution: str | None = None
    version: str | None = None
    in_process: bool = False  # registered by code running in this process (a notebook)

    @property
    def origin(self) -> str:
        if self.in_process:
            return f"{self.name} (registered in this process)"
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
    weights: WeightsEntry | None = None  # trained weights the plugin ships

    @property
    def qualified_name(self) -> str:
        return f"{self.plugin.name}:{self.name}"

    def parameters(self) -> tuple[set[str], bool]:
        """The keyword arguments the factory takes, and whether it takes any (``**kwargs``)."""
        return keyword_parameters(self.factory)

    def refused_parameter(self, params: Mapping[str, Any]) -> str | None:
        """The first of ``params`` the factory does not take, with the names it does."""
        return refused_parameter(f"model {self.name!r}", self.factory, params)


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    loader: Callable[..., Any]
    plugin: PluginInfo
    description: str | None = None
    defaults: Mapping[str, Any] = field(default_factory=dict)  # settings its data needs

    @property
    def qualified_name(self) -> str:
        return f"{self.plugin.name}:{self.name}"


@dataclass(frozen=True)
class LoggerSpec:
    name: str
    factory: Callable[[], Any]  # makes the object whose methods implement the event hooks
    plugin: PluginInfo
    description: str | None = None
    install: str | None = None  # what to pip install for the factory's imports

    @property
    def qualified_name(self) -> str:
        return f"{self.plugin.name}:{self.name}"


def keyword_parameters(function: Callable[..., Any]) -> tuple[set[str], bool]:
    """The keyword arguments ``function`` takes, and whether it takes any (``**kwargs``)."""
    try:
        found = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):  # a builtin or C callable: trust it with everything
        return set(), True
    named = {p.name for p in found if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return named, any(p.kind == p.VAR_KEYWORD for p in found)


def refused_parameter(
    what: str, function: Callable[..., Any], params: Mapping[str, Any]
) -> str | None:
    """The first of ``params`` that ``function`` does not take, with the names it does."""
    accepted, open_ended = keyword_parameters(function)
    for key in params:
        if key not in accepted and not open_ended:
            takes = ", ".join(sorted(accepted)) or "no parameters"
            hint = did_you_mean(key, accepted)
            return f"{what} takes no parameter {key!r}{hint} (it takes: {takes})"
    return None
