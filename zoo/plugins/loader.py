"""Finding and loading plugins: the ``zoo`` entry-point group, through pluggy.

Every plugin, zoo's own included, is a module named in the ``zoo`` entry-point group. Each is
imported, registered and asked for its models and datasets on its own, so one broken plugin
stays one broken plugin: a one-line warning, and everything else keeps working.

Environment:
    ZOO_LOAD_PLUGINS=a,b    load only these plugins (empty: none), built-in ones included
    ZOO_STRICT_PLUGINS=1    a plugin that fails to load is an error, not a warning
"""

from __future__ import annotations

import functools
import os
import sys
import threading
import time
import warnings
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

import pluggy

from zoo import hookspecs
from zoo.errors import PluginError, PluginWarning, describe_exception
from zoo.names import did_you_mean
from zoo.plugins.loaded import Plugins, Registrations
from zoo.plugins.specs import PluginFailure, PluginInfo

ENTRY_POINT_GROUP = "zoo"
SLOW_PLUGIN_SECONDS = 3.0  # a plugin still loading, and idle, after this long is named
VERY_SLOW_PLUGIN_SECONDS = 30.0  # ... and one still loading after this long, idle or not


@functools.cache
def load_plugins() -> Plugins:
    """Load every selected plugin once per process and return what they registered."""
    manager = pluggy.PluginManager(ENTRY_POINT_GROUP)
    manager.add_hookspecs(hookspecs)
    plugins = Plugins()
    plugins.manager = manager
    found = {(ep.name, ep.value): ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    selected, plugins.excluded = _select(list(found.values()))  # one per name and module
    for entry_point in selected:
        plugin = _describe(entry_point)
        try:
            with _SlowNotice(plugin):
                plugins.add(_load(manager, entry_point, plugin))
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # a plugin's failure, sys.exit included, is its own
            _unregister(manager, plugin.name)
            failure = PluginFailure(plugin, describe_exception(exc, plugin.module))
            plugins.add_failure(failure)
            _report(failure)
    return plugins


class _SlowNotice:
    """Names on stderr a plugin that is still loading while it blocks: after
    :data:`SLOW_PLUGIN_SECONDS` when the process has been idle (waiting: a lock, a network, a
    sleep) for the last two seconds, and after :data:`VERY_SLOW_PLUGIN_SECONDS` in any case.
    A plugin that is merely busy (importing torch on a loaded machine) is not named early.
    Then zoo keeps waiting: the notice is a timer thread's, the import is left alone."""

    def __init__(self, plugin: PluginInfo) -> None:
        self.plugin = plugin
        self.done = threading.Event()

    def __enter__(self) -> None:
        threading.Thread(target=self._watch, daemon=True).start()

    def __exit__(self, *exc: object) -> None:
        self.done.set()

    def _watch(self) -> None:
        began = time.monotonic()
        samples = [(began, time.process_time())]
        while not self.done.wait(0.5):
            now, cpu = time.monotonic(), time.process_time()
            samples = [s for s in samples if s[0] >= now - 2.0] + [(now, cpu)]
            window, used = now - samples[0][0], cpu - samples[0][1]
            idle = window >= 1.5 and used < 0.05 * window
            waited = now - began
            if (idle and waited >= SLOW_PLUGIN_SECONDS) or waited >= VERY_SLOW_PLUGIN_SECONDS:
                self._say(waited)
                return

    def _say(self, waited: float) -> None:
        plugin = self.plugin
        where = f" from {plugin.distribution}" if plugin.distribution else ""
        print(
            f"zoo: plugin {plugin.name!r} ({plugin.module}{where}) is still loading after "
            f"{waited:.0f}s; waiting for it (ZOO_LOAD_PLUGINS can leave it out)",
            file=sys.stderr,
            flush=True,
        )


def strict() -> bool:
    return os.environ.get("ZOO_STRICT_PLUGINS", "") not in ("", "0")


def registration_hooks() -> list[str]:
    """The hooks that register things, in the order :mod:`zoo.hookspecs` declares them."""
    return [name for name in hook_names() if name.startswith("register_")]


def event_hooks() -> list[str]:
    """The hooks that are told what training does (see :mod:`zoo.plugins.events`)."""
    return [name for name in hook_names() if name.startswith("on_")]


def hook_names() -> list[str]:
    marker = f"{ENTRY_POINT_GROUP}_spec"  # what pluggy's HookspecMarker sets on a spec
    return [name for name, value in vars(hookspecs).items() if hasattr(value, marker)]


def _select(found: list[EntryPoint]) -> tuple[list[EntryPoint], list[str]]:
    wanted = os.environ.get("ZOO_LOAD_PLUGINS")
    if wanted is None:
        return list(found), []
    names = {name.strip() for name in wanted.split(",") if name.strip()}
    for missing in sorted(names - {ep.name for ep in found}):
        warnings.warn(
            f"ZOO_LOAD_PLUGINS names {missing!r}, which is not installed", PluginWarning, 2
        )
    selected = [ep for ep in found if ep.name in names]
    return selected, sorted({ep.name for ep in found} - names)


def _describe(entry_point: EntryPoint) -> PluginInfo:
    dist = entry_point.dist
    return PluginInfo(
        name=entry_point.name,
        module=entry_point.value,
        distribution=dist.name if dist else None,
        version=dist.version if dist else None,
    )


def add_plugin_object(plugins: Plugins, plugin_object: object, plugin: PluginInfo) -> None:
    """Register an object with ``@hookimpl`` methods at run time, as if it were installed.

    Its failures are the caller's own errors (raised), not warnings: it is their code.
    """
    manager: pluggy.PluginManager = plugins.manager
    name = f"{plugin.name}-{len(manager.get_plugins())}"  # pluggy wants one name per object
    try:
        plugins.add(_register(manager, plugin_object, name, plugin))
    except BaseException:
        _unregister(manager, name)
        raise


def _load(
    manager: pluggy.PluginManager, entry_point: EntryPoint, plugin: PluginInfo
) -> Registrations:
    return _register(manager, entry_point.load(), plugin.name, plugin)


def _register(
    manager: pluggy.PluginManager, plugin_object: object, name: str, plugin: PluginInfo
) -> Registrations:
    """Register ``plugin_object`` under ``name`` and collect what its hooks register."""
    manager.register(plugin_object, name=name)  # checks hook arguments against the specs
    _check_hook_names(manager, plugin_object)
    registrations = Registrations(plugin)
    for hook_name in registration_hooks():
        for impl in getattr(manager.hook, hook_name).get_hookimpls():
            if impl.plugin_name == name:
                registrations.hooks.append(hook_name)
                register = registrations.callback(hook_name)
                impl.function(**{arg: register for arg in impl.argnames})
    listening = {caller.name for caller in manager.get_hookcallers(plugin_object) or []}
    registrations.hooks += [hook for hook in event_hooks() if hook in listening]
    return registrations


def _check_hook_names(manager: pluggy.PluginManager, module: object) -> None:
    """A hook implementation with a name zoo does not know is a typo, not a silent no-op."""
    for caller in manager.get_hookcallers(module) or []:
        if caller.has_spec():
            continue
        for impl in caller.get_hookimpls():
            if impl.plugin is module:
                code = impl.function.__code__
                known = hook_names()
                raise PluginError(
                    f"unknown hook {caller.name!r}{did_you_mean(caller.name, known)} "
                    f"({Path(code.co_filename).name}:{code.co_firstlineno})"
                )


def _unregister(manager: pluggy.PluginManager, name: str) -> None:
    if manager.has_plugin(name):
        manager.unregister(name=name)


def _report(failure: PluginFailure) -> None:
    message = f"plugin {failure.plugin.name!r} failed to load: {failure.error}"
    if strict():
        raise PluginError(message + " (ZOO_STRICT_PLUGINS is set)")
    warnings.warn(
        message + "; its models and datasets are unavailable (details: zoo plugins)",
        PluginWarning,
        stacklevel=3,
    )
