"""From what a caller names (a model or code, a dataset or arrays, settings) to a prepared
experiment: the one entry point of ``zoo.train``, ``zoo info`` and ``zoo.get_model``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from zoo.config.resolve import resolve, resolve_spec
from zoo.config.setup import open_zoo
from zoo.errors import ConfigError
from zoo.names import Registry
from zoo.plugins.in_process import arrays_dataset, model_spec
from zoo.training.data import load_split
from zoo.training.devices import resolve_device
from zoo.training.experiment import Experiment


def prepare(
    model: Any,
    *,
    data: Any = None,
    registry: Registry = None,
    overrides: Mapping[str, Any] | None = None,
    device: str | None = None,
) -> Experiment:
    """The experiment for ``model`` (a name, an ``nn.Module``, a class or a factory) on
    ``data`` (None: its configured dataset; a dataset name or CSV path; or ``(X, y)``)."""
    settings = dict(overrides or {})
    arrays = data is not None and not isinstance(data, (str, os.PathLike))
    if data is not None and "dataset" in settings:
        raise ConfigError("give data= or dataset=, not both")
    if data is not None and not arrays:
        settings["dataset"] = str(data)
    plugins, catalogues = open_zoo(registry)
    given = arrays_dataset(data) if arrays else None
    if isinstance(model, str):
        config, spec = resolve(model, plugins, catalogues, settings, given)
    else:
        spec = model_spec(model, plugins)
        config = resolve_spec(spec, spec.name, catalogues, settings, datasets=given or plugins)
    split = None
    if given is not None:
        config = replace(config, dataset="arrays", dataset_params={})
        split = load_split(given, {}, config.test_size, config.split_seed, config.val_size)
    target = resolve_device(device or config.device)
    return Experiment.prepare(config, spec, plugins, target, split)
