"""The one way zoo calls a plugin's code: a factory, a loader, a model's forward, a hook.

A plugin's failure is its own: whatever it raises (``sys.exit`` included) reaches the caller's
``on_error``, which turns it into zoo's one-line error (raised) or a warning and a stand-in
value (returned). Ctrl-C always goes through, as does whatever ``passes`` names (zoo's own
errors, which a plugin may raise to say its problem in one line).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def call_plugin(
    call: Callable[[], T],
    on_error: Callable[[BaseException], T],
    *,
    passes: tuple[type[BaseException], ...] = (),
) -> T:
    """``call()``; if it raises anything but KeyboardInterrupt or ``passes``,
    ``on_error(exception)`` (which raises zoo's error, or returns what to use instead)."""
    try:
        return call()
    except KeyboardInterrupt:
        raise
    except passes:
        raise
    except BaseException as exc:  # SystemExit too: a plugin never ends zoo
        return on_error(exc)
