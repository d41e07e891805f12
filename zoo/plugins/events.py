"""Calling the event hooks (see :mod:`zoo.hookspecs`) of one command, through pluggy.

An :class:`Events` serves one command (a ``zoo train``, ``zoo compare``, or the resume of
either) with a pluggy manager of its own, holding zoo's own implementations (history.csv), the
installed plugins' and the loggers chosen for this command. pluggy calls them: ``tryfirst``
ones first, ``trylast`` ones last, wrappers around them all, and otherwise zoo's own, then the
plugins' in load order, then the loggers' as chosen. zoo's own are part of the run: their
errors are the run's. Each other is registered isolated (see :mod:`zoo.plugins.isolation`): the
first exception of a plugin or logger (anything but KeyboardInterrupt) is reported once, as a
:class:`~zoo.errors.HookWarning` naming it and the hook, and it is dropped, all its hooks, for
the rest of the command; with ``ZOO_STRICT_PLUGINS=1`` it is a
:class:`~zoo.errors.PluginError` instead.

Loggers are chosen by name (``--logger NAME``) from what the ``register_loggers`` hooks
registered; their factories run here, before anything trains, and pluggy checks their hooks
against the specs when they are registered.
"""

from __future__ import annotations

import types
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

import pluggy

from zoo import hookspecs
from zoo.errors import ConfigError, PluginError, ZooError, describe_exception
from zoo.plugins.call import call_plugin
from zoo.plugins.isolation import Provider, isolated
from zoo.plugins.loaded import Plugins
from zoo.plugins.loader import ENTRY_POINT_GROUP, event_hooks, hook_functions, register_checked
from zoo.plugins.specs import LoggerSpec


@dataclass(frozen=True)
class Logger:
    """A chosen logger: its object, and how warnings name it."""

    who: str  # "logger 'mlflow'"
    object: Any


class Events:
    """The event hooks of one command; :meth:`emit` calls them."""

    def __init__(
        self,
        installed: pluggy.PluginManager | None,
        loggers: Sequence[Logger] = (),
        own: Sequence[object] = (),
    ) -> None:
        self.loggers = list(loggers)
        self._manager = pluggy.PluginManager(ENTRY_POINT_GROUP)
        self._manager.add_hookspecs(hookspecs)
        # pluggy calls the last registered first: zoo's own are registered last
        for logger in reversed(self.loggers):
            self._add(logger.object, Provider(logger.who, _module(logger.object)))
        for name, plugin_object in reversed(_listening(installed)):
            provider = Provider(f"plugin {name!r}", _module(plugin_object))
            self._add(plugin_object, provider, hooks=event_hooks())
        for plugin_object in reversed(own):
            register_checked(self._manager, plugin_object, f"zoo #{self._count()}")

    def wants(self, hook: str) -> bool:
        """Whether anything implements ``hook``."""
        return bool(getattr(self._manager.hook, hook).get_hookimpls())

    def emit(self, hook: str, **arguments: Any) -> None:
        """Call every implementation of ``hook``, in pluggy's order; each takes the
        arguments it names."""
        getattr(self._manager.hook, hook)(**arguments)

    def _add(
        self, plugin_object: object, provider: Provider, hooks: Sequence[str] | None = None
    ) -> None:
        stand_in = isolated(plugin_object, provider, hooks)
        try:
            register_checked(self._manager, stand_in, f"{provider.who} #{self._count()}")
        except PluginError as exc:
            raise PluginError(f"{provider.who}: {exc}") from None

    def _count(self) -> int:  # pluggy wants one name per registered object
        return len(self._manager.get_plugins())


def _listening(installed: pluggy.PluginManager | None) -> list[tuple[str, object]]:
    """The installed plugins that implement event hooks, in load order."""
    if installed is None:
        return []
    found = []
    for name, plugin_object in installed.list_name_plugin():
        callers = installed.get_hookcallers(plugin_object) if plugin_object is not None else None
        if {caller.name for caller in callers or []} & set(event_hooks()):
            found.append((name, plugin_object))
    return found


def _module(plugin_object: object) -> str:
    if isinstance(plugin_object, types.ModuleType):
        return plugin_object.__name__
    return type(plugin_object).__module__


def choose_loggers(chosen: Sequence[Any] | str | None, plugins: Plugins) -> list[Logger]:
    """The loggers named in ``chosen`` (``--logger`` or ``loggers=``), each made by its
    factory; an object with ``@zoo.hookimpl`` methods is a logger as it is."""
    if chosen is None:
        return []
    if isinstance(chosen, str) or not isinstance(chosen, Sequence):
        chosen = [chosen]
    loggers: list[Logger] = []
    names: set[str] = set()
    for item in chosen:
        if isinstance(item, str):
            if item in names:
                continue
            names.add(item)
            spec = plugins.logger(item)
            loggers.append(Logger(f"logger {spec.name!r}", make_logger(spec)))
        elif hook_functions(item):
            loggers.append(Logger(f"logger {type(item).__name__}", item))
        else:
            raise ConfigError(
                f"loggers: {item!r} is neither a logger's name nor an object whose methods "
                "are marked @zoo.hookimpl for event hooks (on_run_start, on_log_point, ...)"
            )
    return loggers


def make_logger(spec: LoggerSpec) -> Any:
    """The logger's object, made by its factory; a missing package is one line on what to
    install."""

    def failed(exc: BaseException) -> NoReturn:
        if isinstance(exc, ModuleNotFoundError):
            fix = f": pip install '{spec.install}'" if spec.install else ""
            missing = exc.name or "a module"
            raise ConfigError(
                f"logger {spec.name!r} needs {missing}, which is not installed{fix}"
            ) from None
        error = describe_exception(exc, spec.plugin.module)
        raise PluginError(f"logger {spec.name!r} could not start: {error}") from None

    # a ZooError is the plugin's own one-line message
    return call_plugin(spec.factory, failed, passes=(ZooError,))
