"""Models and datasets defined in this process (a notebook, a script), without packaging.

``register_model`` and ``register_dataset`` build a small plugin object whose hooks register
them, and register it with the same pluggy manager as the installed plugins: the same checks,
the same lookups, and ``zoo plugins`` lists them as registered in this process. Registering a
name again replaces it, so a notebook cell can be re-run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from zoo.errors import ConfigError
from zoo.hookspecs import RegisterDataset, RegisterModel, hookimpl
from zoo.plugins.loaded import Plugins
from zoo.plugins.loader import add_plugin_object, load_plugins
from zoo.plugins.specs import DatasetSpec, ModelSpec, PluginInfo

IN_PROCESS = PluginInfo("in-process", module="__main__", in_process=True)
ARRAYS_DEFAULTS = {"scale": "standard"}  # the defaults of (X, y) given to zoo.train


class _Definitions:
    """A plugin object: the models and datasets of one registration call."""

    def __init__(
        self,
        models: list[tuple[str, Callable[..., Any], str | None, Mapping[str, Any] | None]],
        datasets: list[tuple[str, Callable[..., Any], str | None, Mapping[str, Any] | None]],
    ) -> None:
        self.models, self.datasets = models, datasets

    @hookimpl
    def register_models(self, register: RegisterModel) -> None:
        for name, factory, description, defaults in self.models:
            register(name, factory, description=description, defaults=defaults)

    @hookimpl
    def register_datasets(self, register: RegisterDataset) -> None:
        for name, loader, description, defaults in self.datasets:
            register(name, loader, description=description, defaults=defaults)


def register_model(
    name: str,
    factory: Callable[..., Any],
    *,
    description: str | None = None,
    defaults: Mapping[str, Any] | None = None,
) -> ModelSpec:
    """Register a model factory (an ``nn.Module`` class or a function) under ``name``."""
    plugins = load_plugins()
    definitions = _Definitions([(name, factory, description, defaults)], [])
    add_plugin_object(plugins, definitions, IN_PROCESS)
    return plugins.model(f"{IN_PROCESS.name}:{name}")


def register_dataset(
    name: str,
    loader: Callable[..., Any],
    *,
    description: str | None = None,
    defaults: Mapping[str, Any] | None = None,
) -> DatasetSpec:
    """Register a dataset loader (``loader(**params) -> (X, y)``) under ``name``."""
    plugins = load_plugins()
    definitions = _Definitions([], [(name, loader, description, defaults)])
    add_plugin_object(plugins, definitions, IN_PROCESS)
    return plugins.dataset(f"{IN_PROCESS.name}:{name}")


def model_spec(model: Any, plugins: Plugins) -> ModelSpec:
    """What ``zoo.train`` trains when given code instead of a name.

    A class or a factory function is registered in this process under its own name (so it can
    be compared, and its runs reloaded, in this process); a module instance is trained as it
    is: nothing builds it, so a seed cannot change its initial weights.
    """
    from torch import nn

    if isinstance(model, nn.Module):
        name = derived_name(type(model))
        return ModelSpec(name, lambda **_: model, IN_PROCESS, f"the {type(model).__name__} given")
    if not callable(model):
        raise ConfigError(
            f"zoo.train takes a model name, an nn.Module, a class or a factory function, "
            f"not {type(model).__name__}"
        )
    return register_model(derived_name(model), model)


def arrays_dataset(data: tuple[Any, Any]) -> DatasetSpec:
    """``(X, y)`` given to ``zoo.train``, as a dataset that zoo splits like any other. Its
    columns may have any units, so its features are standardised unless asked otherwise."""
    return DatasetSpec(
        "arrays", lambda: data, IN_PROCESS, "the (X, y) given to zoo.train", ARRAYS_DEFAULTS
    )


def derived_name(code: Any) -> str:
    """A model name from a class or function name: ``MyNet`` -> ``mynet``."""
    name = re.sub(r"[^a-z0-9._-]+", "-", getattr(code, "__name__", "").lower()).strip("-._")
    return name or "model"
