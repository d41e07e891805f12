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

__all__ = [
    "__version__",
    "compare",
    "describe",
    "evaluate",
    "get_model",
    "hookimpl",
    "list_datasets",
    "list_models",
    "predict",
    "resolve_config",
    "resume",
    "train",
]

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
        resume,
        train,
    )
    from zoo.hookspecs import hookimpl


def __getattr__(name: str) -> Any:
    if name == "hookimpl":  # pluggy loads when a plugin asks for it, not for `zoo --help`
        from zoo.hookspecs import hookimpl

        return hookimpl
    if name in __all__:
        from zoo import api

        return getattr(api, name)
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")
