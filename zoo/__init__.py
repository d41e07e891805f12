"""zoo: a plugin-based model zoo for small PyTorch classifiers.

Plugins register models and datasets through pluggy hooks (see :mod:`zoo.hookspecs`); the
shared trainer trains any of them. Plugin authors need one import::

    import zoo

    @zoo.hookimpl
    def register_models(register): ...

The API (each function is documented in :mod:`zoo.api`):

- what is installed: ``list_models``, ``model_entries``, ``list_datasets``,
  ``dataset_entries``, ``list_plugins``
- your own models and data, defined here: ``register_model``, ``register_dataset``
- a model and its settings: ``get_model``, ``describe``, ``resolve_config``,
  ``load_run_config``
- training and using a model: ``train`` (returns a ``Run``: ``.model``, ``.summary``,
  ``.history``, ``.predict``, ``.predict_proba``, ``.plot``), ``resume``, ``load``,
  ``evaluate``, ``plot_run``, ``list_runs``
- comparing models: ``compare``, ``resume_comparison``, ``save_comparison``,
  ``plot_comparison``, ``html_report``
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
    dataset_entries,
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
    model_entries,
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
    from zoo.hookspecs import hookimpl

__version__ = "0.1.0"

__all__ = [
    "PluginStatus",
    "Run",
    "__version__",
    "compare",
    "dataset_entries",
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
    "model_entries",
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


def __getattr__(name: str) -> Any:
    if name == "hookimpl":  # pluggy loads when a plugin asks for it, not for `zoo --help`
        from zoo.hookspecs import hookimpl

        return hookimpl
    if name in _MODULES:
        import importlib

        return importlib.import_module(f"zoo.{name}")
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*__all__, *_MODULES})
