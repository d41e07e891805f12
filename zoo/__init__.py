"""zoo: a plugin-based model zoo for small PyTorch classifiers.

Plugins register models and datasets through pluggy hooks (see :mod:`zoo.hookspecs`); the
shared trainer trains any of them. Plugin authors need one import::

    import zoo

    @zoo.hookimpl
    def register_models(register): ...

Importing zoo is cheap: pluggy and torch load only when something that needs them is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_API = (
    "compare",
    "describe",
    "evaluate",
    "get_model",
    "list_datasets",
    "list_models",
    "predict",
    "resolve_config",
    "train",
)

if TYPE_CHECKING:
    from zoo.hookspecs import hookimpl
    from zoo.api import (
        compare,
        describe,
        evaluate,
        get_model,
        list_datasets,
        list_models,
        predict,
        resolve_config,
        train,
    )


def __getattr__(name: str) -> Any:
    if name == "hookimpl":  # pluggy loads when a plugin asks for it, not for `zoo --help`
        from zoo.hookspecs import hookimpl

        return hookimpl
    if name in _API:
        from zoo import api

        return getattr(api, name)
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")


__all__ = ["__version__", "hookimpl", *_API]
