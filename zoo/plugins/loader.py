"""Finding and loading plugins: the ``zoo`` entry-point group, through pluggy.

Every plugin, zoo's own included, is a module named in the ``zoo`` entry-point group. Each is
imported, registered (checked by pluggy: :func:`register_checked`) and asked for its models,
datasets and loggers on its own (pluggy calls its registration hooks, its alone), so one
broken plugin stays one broken plugin: a one-line warning, and everything else keeps working.

Environment:
    ZOO_LOAD_PLUGINS=a,b    load only these plugins (empty: none), built-in ones included
    ZOO_STRICT_PLUGINS=1    a plugin that fails to load is an error, not a warning
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
import threading
import time
import warnings
from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

import pluggy

from zoo import hookspecs
from zoo.errors import PluginError, PluginWarning, describe_exception
from zoo.names import did_you_mean
from zoo.plugins.call import call_plugin
from zoo.plugins.loaded import Plugins, Registrations
from zoo.plugins.specs import PluginFailure, PluginInfo

ENTRY_POINT_GROUP = "zoo"
SLOW_PLUGIN_SECONDS = 3.0  # a plugin still loading, and idle, after this long is named
VERY_SLOW_PLUGIN_SECONDS = 30.0  # ... and one still loading after this long, idle or not
ORDER_OPTIONS = ("tryfirst", "trylast", "wrapper", "hookwrapper")  # for event hooks only


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
        call_plugin(
            functools.partial(_load_noted, manager, entry_point, plugin, plugins),
            functools.partial(_failed, manager, plugin, plugins),
        )
    return plugins


def _load_noted(
    manager: pluggy.PluginManager, entry_point: EntryPoint, plugin: PluginInfo, plugins: Plugins
) -> None:
    with _SlowNotice(plugin):
        plugins.add(_load(manager, entry_point, plugin))


def _failed(
    manager: pluggy.PluginManager, plugin: PluginInfo, plugins: Plugins, exc: BaseException
) -> None:
    """A plugin's failure is its own: it is reported, the others load."""
    _unregister(manager, plugin.name)
    failure = PluginFailure(plugin, describe_exception(exc, plugin.module))
    plugins.add_failure(failure)
    _report(failure)


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
    """Register ``plugin_object`` under ``name`` and collect what its hooks register.

    pluggy calls the registration hooks, of this plugin alone (``subset_hook_caller``), so
    what a plugin registers is its own and a plugin that fails registers nothing.
    """
    register_checked(manager, plugin_object, name)
    others = [other for other in manager.get_plugins() if other is not plugin_object]
    registrations = Registrations(plugin)
    for hook_name in registration_hooks():
        own = manager.subset_hook_caller(hook_name, remove_plugins=others)
        if own.get_hookimpls():
            registrations.hooks.append(hook_name)
            own(register=registrations.callback(hook_name))
    listening = {caller.name for caller in manager.get_hookcallers(plugin_object) or []}
    registrations.hooks += [hook for hook in event_hooks() if hook in listening]
    return registrations


def register_checked(manager: pluggy.PluginManager, plugin_object: object, name: str) -> None:
    """Register ``plugin_object`` under ``name``, or raise :class:`PluginError` in one line
    and leave ``manager`` as it was.

    pluggy does the checking: ``register`` compares each hook's arguments with its spec, and
    ``check_pending`` refuses a hook that zoo does not know (a typo would be a silent no-op;
    ``optionalhook=True`` says it may be unknown). zoo adds what it cannot honour: options on
    a registration hook, and hook specs of the plugin's own.
    """
    try:
        manager.register(plugin_object, name=name)
    except pluggy.PluginValidationError as exc:
        raise PluginError(_invalid_hook(manager, exc)) from None
    try:
        _check_registered(manager, plugin_object)
    except PluginError:
        manager.unregister(plugin_object)
        raise


def _check_registered(manager: pluggy.PluginManager, plugin_object: object) -> None:
    try:
        manager.check_pending()
    except pluggy.PluginValidationError as exc:
        unknown = [c for c in manager.get_hookcallers(exc.plugin) or [] if not c.has_spec()]
        raise PluginError(_unknown_hook(unknown[0], exc.plugin) if unknown else str(exc)) from None
    _refuse_unsupported(manager, plugin_object)


def _unknown_hook(caller: pluggy.HookCaller, plugin_object: object) -> str:
    impl = next(impl for impl in caller.get_hookimpls() if impl.plugin is plugin_object)
    hint = did_you_mean(caller.name, hook_names())
    return f"unknown hook {caller.name!r}{hint}{where(impl.function)}"


def _invalid_hook(manager: pluggy.PluginManager, exc: pluggy.PluginValidationError) -> str:
    """Why pluggy refused the plugin, in one line: its error names the plugin, not the hook."""
    for _, hook, function, options in hook_functions(exc.plugin):
        caller = getattr(manager.hook, hook, None)
        if caller is None or caller.spec is None:
            continue
        given = caller.spec.argnames
        parameters = inspect.signature(function).parameters.values()
        definition = f"{hook}({', '.join(p.name for p in parameters)})"
        positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        required = [p.name for p in parameters if p.kind in positional and p.default is p.empty]
        unknown = [name for name in required if name not in given]
        if unknown:
            return (
                f"{definition}: {hook} gives no {', '.join(map(repr, unknown))} "
                f"(it gives {', '.join(given)}){where(function)}"
            )
        if (options["wrapper"] or options["hookwrapper"]) and not (
            inspect.isgeneratorfunction(function)
        ):
            return f"{definition}: a wrapper must yield once{where(function)}"
    return " ".join(str(exc).split())


def _refuse_unsupported(manager: pluggy.PluginManager, plugin_object: object) -> None:
    """Options zoo cannot honour. Registration hooks are called one plugin at a time, so
    ordering and wrapping them would mean nothing; a plugin cannot add hooks of its own."""
    for caller in manager.get_hookcallers(plugin_object) or []:
        if caller.name not in registration_hooks():
            continue
        for impl in caller.get_hookimpls():
            options = [option for option in ORDER_OPTIONS if getattr(impl, option)]
            if impl.plugin is plugin_object and options:
                raise PluginError(
                    f"{caller.name}: {options[0]}=True is for event hooks; zoo calls each "
                    f"plugin's registration hooks on their own{where(impl.function)}"
                )
    for attribute in dir(plugin_object):
        value = inspect.getattr_static(plugin_object, attribute, None)
        own_spec = inspect.isfunction(value) and hasattr(value, f"{ENTRY_POINT_GROUP}_spec")
        if own_spec and value is not vars(hookspecs).get(attribute):
            raise PluginError(
                f"declares a hook of its own, {attribute!r} (@zoo.hookspec): zoo calls only "
                f"the hooks of zoo.hookspecs, so its options (firstresult, historic) would "
                f"never apply{where(value)}"
            )


def hook_functions(
    plugin_object: object,
) -> list[tuple[str, str, Callable[..., Any], pluggy.HookimplOpts]]:
    """``(attribute, hook, function, options)`` for each ``@zoo.hookimpl`` of
    ``plugin_object``, found as pluggy finds them (a property is not evaluated)."""
    manager = pluggy.PluginManager(ENTRY_POINT_GROUP)  # it knows zoo's marker
    found = []
    for attribute in dir(plugin_object):
        options = manager.parse_hookimpl_opts(plugin_object, attribute)
        if options is not None:
            hook = options.get("specname") or attribute
            found.append((attribute, hook, getattr(plugin_object, attribute), options))
    return found


def where(function: object) -> str:
    """`` (file.py:line)`` of a hook implementation, through any wrapping."""
    code = getattr(inspect.unwrap(function), "__code__", None)  # type: ignore[arg-type]
    if code is None:
        return ""
    return f" ({Path(code.co_filename).name}:{code.co_firstlineno})"


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
