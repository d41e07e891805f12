"""Calling the event hooks (see :mod:`zoo.hookspecs`): zoo's own, the installed plugins' and
the chosen loggers', each on its own.

An :class:`Events` serves one command (a ``zoo train``, ``zoo compare``, or the resume of
either). It calls each implementation itself, in order (zoo's own, then the installed
plugins', then the loggers' as chosen), because pluggy's hook call would let one exception
stop the others. zoo's own implementations (history.csv) are part of the run: their errors are
the run's. Any other that raises (anything but KeyboardInterrupt) is reported once, as a
:class:`~zoo.errors.HookWarning` naming it and the hook, and skipped for the rest of the
command; with ``ZOO_STRICT_PLUGINS=1`` it is a :class:`~zoo.errors.PluginError` instead.

Loggers are chosen by name (``--logger NAME``) from what the ``register_loggers`` hooks
registered; their factories run here, before anything trains, and each object they make is
registered with a pluggy manager of this command only, which checks its hooks against the
specs.
"""

from __future__ import annotations

import types
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pluggy

from zoo import hookspecs
from zoo.errors import (
    ConfigError,
    HookWarning,
    PluginError,
    ZooError,
    describe_exception,
)
from zoo.names import did_you_mean
from zoo.plugins.loaded import Plugins
from zoo.plugins.loader import ENTRY_POINT_GROUP, event_hooks, hook_names, strict
from zoo.plugins.specs import LoggerSpec


@dataclass(frozen=True)
class Logger:
    """A chosen logger: its object, and how warnings name it."""

    who: str  # "logger 'mlflow'"
    object: Any


@dataclass(frozen=True)
class Listener:
    """One implementation of one event hook."""

    who: str  # "plugin 'name'", "logger 'name'", or "zoo" for zoo's own
    module: str  # where its code lives, for the file:line of its errors
    function: Callable[..., Any]
    argnames: tuple[str, ...]  # the arguments it takes (a subset of the spec's)

    @property
    def own(self) -> bool:
        return self.who == "zoo"


class Events:
    """The event hooks of one command; :meth:`emit` calls them."""

    def __init__(
        self,
        installed: pluggy.PluginManager | None,
        loggers: Sequence[Logger] = (),
        own: Sequence[object] = (),
    ) -> None:
        self.loggers = list(loggers)
        self._failed: set[Listener] = set()  # the implementations that raised once
        self._listeners: dict[str, list[Listener]] = {hook: [] for hook in event_hooks()}
        for plugin_object in own:
            self._add(plugin_object, "zoo")
        if installed is not None:
            for hook, listeners in self._listeners.items():
                for impl in getattr(installed.hook, hook).get_hookimpls():
                    module = getattr(impl.plugin, "__name__", type(impl.plugin).__module__)
                    who = f"plugin {impl.plugin_name!r}"
                    listeners.append(Listener(who, module, impl.function, tuple(impl.argnames)))
        for logger in self.loggers:
            self._add(logger.object, logger.who)

    def wants(self, hook: str) -> bool:
        """Whether anything implements ``hook``."""
        return bool(self._listeners[hook])

    def emit(self, hook: str, **arguments: Any) -> None:
        """Call every implementation of ``hook`` with the arguments it takes."""
        for listener in self._listeners[hook]:
            if listener in self._failed:
                continue
            given = {name: arguments[name] for name in listener.argnames}
            if listener.own:
                listener.function(**given)
                continue
            try:
                listener.function(**given)
            except KeyboardInterrupt:
                raise
            except BaseException as exc:  # SystemExit too: a plugin never ends zoo
                self._report(listener, hook, exc)

    def _report(self, listener: Listener, hook: str, exc: BaseException) -> None:
        self._failed.add(listener)
        message = f"{listener.who} failed in {hook}: {describe_exception(exc, listener.module)}"
        if strict():
            raise PluginError(message + " (ZOO_STRICT_PLUGINS is set)") from None
        warnings.warn(message + "; training goes on without it", HookWarning, stacklevel=3)

    def _add(self, plugin_object: object, who: str) -> None:
        """Register ``plugin_object`` with a manager of its own, which checks its hooks."""
        for hook, impls in _event_impls(plugin_object, who).items():
            module = type(plugin_object).__module__
            if isinstance(plugin_object, types.ModuleType):
                module = plugin_object.__name__
            for impl in impls:
                listener = Listener(who, module, impl.function, tuple(impl.argnames))
                self._listeners[hook].append(listener)


def _event_impls(plugin_object: object, who: str) -> dict[str, list[Any]]:
    """The event hooks ``plugin_object`` implements, checked by pluggy against the specs."""
    manager = pluggy.PluginManager(ENTRY_POINT_GROUP)
    manager.add_hookspecs(hookspecs)
    try:
        manager.register(plugin_object)
    except pluggy.PluginValidationError as exc:  # "Plugin ... for hook ...\n...\nwhy"
        lines = str(exc).strip().splitlines()
        definition = lines[1].partition(": ")[2] if len(lines) > 2 else ""
        raise PluginError(f"{who}: {definition}: {lines[-1]}") from None
    found: dict[str, list[Any]] = {}
    for caller in manager.get_hookcallers(plugin_object) or []:
        if not caller.has_spec():
            hint = did_you_mean(caller.name, hook_names())
            raise PluginError(f"{who}: unknown hook {caller.name!r}{hint}")
        if caller.name in event_hooks():
            found[caller.name] = caller.get_hookimpls()
    return found


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
        elif any(_event_impls(item, f"logger {type(item).__name__}")):
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
    try:
        return spec.factory()
    except ModuleNotFoundError as exc:
        fix = f": pip install '{spec.install}'" if spec.install else ""
        missing = exc.name or "a module"
        raise ConfigError(
            f"logger {spec.name!r} needs {missing}, which is not installed{fix}"
        ) from None
    except (KeyboardInterrupt, ZooError):  # the plugin's own one-line message
        raise
    except BaseException as exc:
        error = describe_exception(exc, spec.plugin.module)
        raise PluginError(f"logger {spec.name!r} could not start: {error}") from None
