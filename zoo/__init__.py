"""zoo: a plugin-based model zoo for small PyTorch classifiers.

Plugins register models and datasets through pluggy hooks (see :mod:`zoo.hookspecs`); the
shared trainer trains any of them. Plugin authors need one import::

    import zoo

    @zoo.hookimpl
    def register_models(register): ...

The API (each function is documented in :mod:`zoo.api`):

- what is installed: ``list_models``, ``list_datasets`` (names, or with ``details=True``
  entries), ``list_plugins``
- your own models and data, defined here: ``register_model``, ``register_dataset``
- a model and its settings: ``get_model``, ``describe``, ``resolve_config``,
  ``load_run_config``
- training and using a model: ``train`` (returns a ``Run``: ``.model``, ``.summary``,
  ``.history``, ``.predict``, ``.predict_proba``, ``.plot``), ``resume``, ``load``,
  ``evaluate``, ``plot_run``, ``list_runs``
- comparing models: ``compare``, ``resume_comparison``, ``save_comparison``,
  ``plot_comparison``, ``html_report``
- the types they return: ``Run``, ``TrainConfig``, ``ModelEntry``, ``DatasetSpec``,
  ``PluginStatus``, ``Comparison``, ``RunListing`` (imported when first used)
- for plugins: ``hookimpl``; errors are in :mod:`zoo.errors`, CSV tables in :mod:`zoo.tables`

Importing zoo is cheap: torch loads when a function first needs it, pluggy when a plugin
asks for ``zoo.hookimpl``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zoo.api import (
    PluginStatus,
    Run,
    compare,
    describe,
    evaluate,
    get_model,
    html_report,
    list_datasets,
    list_models,
    list_plugins,
    list_runs,
    load,
    load_run_config,
    plot_comparison,
    plot_run,
    register_dataset,
    register_model,
    resolve_config,
    resume,
    resume_comparison,
    save_comparison,
    train,
)

if TYPE_CHECKING:
    from zoo.comparison.summary import Comparison as Comparison
    from zoo.config.model_entries import ModelEntry
    from zoo.config.resolve import TrainConfig
    from zoo.hookspecs import hookimpl
    from zoo.plugins.specs import DatasetSpec
    from zoo.runs.listing import RunListing as RunListing

__version__ = "0.1.0"

# The public types are importable from zoo (``from zoo import Comparison``), each when first
# asked for. Comparison and RunListing are left out of __all__ (and so of dir() and help(zoo)):
# their modules bring torch, and listing zoo must not.
__all__ = [
    "DatasetSpec",
    "ModelEntry",
    "PluginStatus",
    "Run",
    "TrainConfig",
    "__version__",
    "compare",
    "describe",
    "evaluate",
    "get_model",
    "hookimpl",
    "html_report",
    "list_datasets",
    "list_models",
    "list_plugins",
    "list_runs",
    "load",
    "load_run_config",
    "plot_comparison",
    "plot_run",
    "register_dataset",
    "register_model",
    "resolve_config",
    "resume",
    "resume_comparison",
    "save_comparison",
    "train",
]


_MODULES = ("api", "errors", "hookspecs", "tables")  # the public modules
# What the API returns, each imported when first asked for (a comparison's brings torch).
_TYPES = {
    "Comparison": "zoo.comparison.summary",
    "DatasetSpec": "zoo.plugins.specs",
    "ModelEntry": "zoo.config.model_entries",
    "RunListing": "zoo.runs.listing",
    "TrainConfig": "zoo.config.resolve",
    "hookimpl": "zoo.hookspecs",  # pluggy loads when a plugin asks for it, not for --help
}


def __getattr__(name: str) -> Any:
    import importlib

    if name in _TYPES:
        return getattr(importlib.import_module(_TYPES[name]), name)
    if name in _MODULES:
        return importlib.import_module(f"zoo.{name}")
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*__all__, *_MODULES})
