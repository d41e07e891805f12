"""zoo: a plugin-based model zoo for small PyTorch classifiers.

Plugins register models and datasets through pluggy hooks (see :mod:`zoo.hookspecs`); the
shared trainer trains any of them. Plugin authors need one import::

    import zoo

    @zoo.hookimpl
    def register_models(register): ...

Importing zoo is cheap: torch loads only when a function that needs it is first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zoo.hookspecs import hookimpl

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
    if name in _API:
        from zoo import api

        return getattr(api, name)
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")


__all__ = ["__version__", "hookimpl", *_API]
