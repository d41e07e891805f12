"""Each event-hook implementation of a plugin or logger, carrying its own ``try``.

pluggy calls the event hooks (:class:`~zoo.plugins.events.Events`): in its order (``tryfirst``,
then the rest, then ``trylast``; wrappers around them all), so pluggy's semantics hold. But a
pluggy call stops at the first exception, and one plugin must not silence the others. So each
implementation is registered through a stand-in, made by :func:`isolated`, whose functions
catch what the plugin's raise: the first failure of a :class:`Provider` (a plugin or a logger)
is reported once, and all its hooks are skipped for the rest of the command. A wrapper that
fails is skipped the same way and the call goes on without it; a wrapper sees an exception
raised inside it (zoo's own, Ctrl-C, a ZOO_STRICT_PLUGINS error) but cannot swallow it.
KeyboardInterrupt is never caught.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable, Collection, Generator
from typing import Any

import pluggy

from zoo.errors import HookWarning, PluginError, describe_exception
from zoo.plugins.call import call_plugin
from zoo.plugins.loader import hook_functions, strict

Function = Callable[..., Any]


class Provider:
    """A plugin or logger whose event hooks are called; it fails as a whole, once."""

    def __init__(self, who: str, module: str) -> None:
        self.who = who  # "plugin 'name'", "logger 'name'"
        self.module = module  # where its code lives, for the file:line of its errors
        self.failed = False

    def fail(self, hook: str, exc: BaseException) -> None:
        """Report the first failure: a warning, or with ZOO_STRICT_PLUGINS an error."""
        if self.failed:
            return
        self.failed = True
        message = f"{self.who} failed in {hook}: {describe_exception(exc, self.module)}"
        if strict():
            raise PluginError(message + " (ZOO_STRICT_PLUGINS is set)") from None
        warnings.warn(message + "; training goes on without it", HookWarning, stacklevel=2)


def isolated(
    plugin_object: object,
    provider: Provider,
    hooks: Collection[str] | None = None,
) -> object:
    """A stand-in for ``plugin_object`` to register instead: its ``@zoo.hookimpl`` functions
    (those of ``hooks``, or all), each guarded, with the same names, options and arguments."""
    guarded = {
        attribute: _guard(function, hook, options, provider)
        for attribute, hook, function, options in hook_functions(plugin_object)
        if hooks is None or hook in hooks
    }
    return _StandIn(provider.who, guarded)


class _StandIn:
    """What is registered in place of a plugin or logger: its hook functions, guarded, as
    attributes (pluggy reads them from the instance)."""

    def __init__(self, who: str, functions: dict[str, Function]) -> None:
        self._who = who
        vars(self).update(functions)

    def __repr__(self) -> str:
        return f"<{self._who}, isolated>"


def _guard(
    function: Function, hook: str, options: pluggy.HookimplOpts, provider: Provider
) -> Function:
    """``function`` with its own try; ``functools.wraps`` keeps what pluggy reads from it
    (its ``@zoo.hookimpl`` options and, through ``__wrapped__``, its arguments). Only a
    generator can be a wrapper: pluggy refuses any other, so the guard keeps that."""
    if inspect.isgeneratorfunction(function) and options["wrapper"]:
        return functools.wraps(function)(_wrapper(function, hook, provider))
    if inspect.isgeneratorfunction(function) and options["hookwrapper"]:
        return functools.wraps(function)(_old_style_wrapper(function, hook, provider))

    def failed(exc: BaseException) -> None:
        provider.fail(hook, exc)

    @functools.wraps(function)
    def call(*args: Any) -> Any:
        return None if provider.failed else call_plugin(lambda: function(*args), failed)

    return call


def _wrapper(function: Function, hook: str, provider: Provider) -> Function:
    """A new-style wrapper (``wrapper=True``): it receives the result, or the exception."""

    def wrap(*args: Any) -> Generator[None, Any, Any]:
        teardown = _started(function(*args) if not provider.failed else None, hook, provider)
        try:
            result = yield
        except BaseException as exc:
            if teardown is not None:
                _finish(teardown, hook, provider, exc, throw=True)
            raise  # what was raised inside goes on, whatever the wrapper did
        if teardown is None:
            return result
        return _finish(teardown, hook, provider, result)

    return wrap


def _old_style_wrapper(function: Function, hook: str, provider: Provider) -> Function:
    """An old-style wrapper (``hookwrapper=True``): it receives pluggy's ``Result``."""

    def wrap(*args: Any) -> Generator[None, Any, None]:
        teardown = _started(function(*args) if not provider.failed else None, hook, provider)
        outcome = yield
        if teardown is None:
            return
        raised = outcome.exception
        _finish(teardown, hook, provider, outcome)
        if raised is not None and outcome.exception is not raised:
            outcome.force_exception(raised)  # it cannot swallow what was raised inside

    return wrap


def _started(
    teardown: Generator[None, Any, Any] | None, hook: str, provider: Provider
) -> Generator[None, Any, Any] | None:
    """The wrapper run up to its ``yield``; None if it failed (or its provider had)."""
    if teardown is None:
        return None

    def failed(exc: BaseException) -> Generator[None, Any, Any] | None:
        if isinstance(exc, StopIteration):
            exc = RuntimeError("a wrapper must yield once; it returned first")
        provider.fail(hook, exc)
        return None

    return call_plugin(lambda: (next(teardown), teardown)[1], failed)


def _finish(
    teardown: Generator[None, Any, Any],
    hook: str,
    provider: Provider,
    given: Any,
    *,
    throw: bool = False,
) -> Any:
    """The wrapper resumed after the call with ``given`` (the result, or the exception to
    throw into it); what it returns, or ``given`` if it failed."""
    try:
        if throw:
            teardown.throw(given)
        else:
            teardown.send(given)
    except StopIteration as stop:
        return stop.value
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        if exc is not given:  # not merely raising again what it was given
            provider.fail(hook, exc)
        return given
    teardown.close()
    provider.fail(hook, RuntimeError("a wrapper must yield once; it yielded again"))
    return given
