"""Resolving a model name to the model to build and the settings to train it with.

Settings come in layers, lowest to highest: zoo's fallbacks, each catalogue file's
``defaults:``, the dataset's own ``defaults`` (what its data needs: the ``csv`` dataset's
``scale: standard``), the plugin's own ``defaults``, each catalogue file's entry for the model
(for a variant: the base model's entries, then the variant's), and the caller's overrides.
``params`` and ``dataset_params`` merge key by key; every other setting is replaced whole.
Each resolved value remembers its layer (``sources``; ``params.NAME`` for each parameter). A
dataset named by a ``.csv`` path is read by the built-in ``csv`` dataset, its path in
``dataset_params``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from zoo.config.layers import Catalogues
from zoo.errors import ConfigError, UnknownNameError, ZooError
from zoo.names import did_you_mean, is_csv_path
from zoo.plugins.loaded import Plugins
from zoo.plugins.specs import DatasetSpec, ModelSpec
from zoo.settings import FALLBACKS, InvalidSetting, check_settings
from zoo.tables import last_column

_MERGED = ("params", "dataset_params")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run, fully resolved."""

    model: str  # the name asked for: a model, a variant or ``plugin:name``
    builds: str  # ``plugin:name`` of the model whose factory is called
    dataset: str
    dataset_params: dict[str, Any]
    scale: str  # none, standard or minmax: fitted on the training rows (training/scaling.py)
    params: dict[str, Any]
    epochs: int
    lr: float
    optimizer: str
    momentum: float
    weight_decay: float
    batch_size: int | str  # 'full': the whole training split in one step
    seed: int
    split_seed: int
    order_seed: int | str  # 'seed': the mini-batches are shuffled by ``seed``
    test_size: float
    val_size: float  # of the training rows; 0: no validation split
    early_stop: int  # patience in epochs; 0: never stop early
    lr_schedule: str  # none, cosine, step or plateau (training/optim.py)
    lr_step_size: int
    lr_gamma: float
    lr_patience: int
    device: str
    threads: int
    log_every: int | str
    checkpoint_every: int | str
    sources: dict[str, str] = dataclasses.field(default_factory=dict, compare=False)

    @property
    def log_interval(self) -> int:
        if self.log_every == "auto":
            return max(1, self.epochs // 10)
        return int(self.log_every)

    @property
    def batch_seed(self) -> int:
        """The seed of the mini-batch order: ``order_seed``, or ``seed`` when it says so."""
        return self.seed if self.order_seed == "seed" else int(self.order_seed)

    @property
    def checkpoint_interval(self) -> int:
        if self.checkpoint_every == "auto":
            return self.log_interval
        return int(self.checkpoint_every)

    def settings(self) -> dict[str, Any]:
        """The training settings alone, as a JSON-ready mapping."""
        return {k: v for k, v in dataclasses.asdict(self).items() if k in FALLBACKS}


def resolve(
    name: str,
    plugins: Plugins,
    catalogues: Catalogues,
    overrides: Mapping[str, Any] | None = None,
    data: DatasetSpec | None = None,
) -> tuple[TrainConfig, ModelSpec]:
    """The model ``name`` builds and its settings, with ``overrides`` on top (for ``data``,
    when given instead of the configured dataset)."""
    variant = catalogues.variant(name)
    spec = find_model(variant.model if variant else name, plugins, catalogues)
    config = resolve_spec(spec, name, catalogues, overrides, variant is not None, data or plugins)
    return config, spec


def resolve_spec(
    spec: ModelSpec,
    name: str,
    catalogues: Catalogues,
    overrides: Mapping[str, Any] | None = None,
    variant: bool = False,
    datasets: Plugins | DatasetSpec | None = None,
) -> TrainConfig:
    """The settings of ``spec`` asked for as ``name`` (a variant of it, if ``variant``).

    ``datasets`` gives the dataset's own defaults: the plugins to look the resolved dataset
    up in, or the dataset itself (arrays given to ``zoo.train``).
    """
    below: list[tuple[str, Mapping[str, Any]]] = [("zoo", FALLBACKS)]
    below += [(f"{f.path.name} defaults", f.defaults) for f in catalogues.files]
    above: list[tuple[str, Mapping[str, Any]]] = [(f"plugin {spec.plugin.name}", spec.defaults)]
    base = next((k for k in (spec.qualified_name, spec.name) if catalogues.entries(k)), None)
    entries = [base] if base is not None and catalogues.variant(base) is None else []
    entries += [name] if variant else []
    for key in entries:  # the base model's entries, then the variant's, each file in turn
        above += [(f"{f.path.name} models.{key}", e.settings) for f, e in catalogues.entries(key)]
    above.append(("override", _checked(overrides or {})))
    values, _ = _merged(below + above)
    dataset = _dataset_of(values["dataset"], datasets)
    middle = [(f"dataset {dataset.name}", dataset.defaults)] if dataset else []
    values, sources = _merged(below + middle + above)  # the data's needs, once it is known
    _csv_table(values, sources)
    return TrainConfig(model=name, builds=spec.qualified_name, sources=sources, **values)


def _merged(layers: list[tuple[str, Mapping[str, Any]]]) -> tuple[dict[str, Any], dict[str, str]]:
    """The layers' values, higher over lower, and the layer each value came from."""
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for source, layer in layers:
        for key, value in layer.items():
            if key in _MERGED:
                values[key] = {**values.get(key, {}), **value}
                sources |= {f"{key}.{k}": source for k in value}
            else:
                values[key] = value
            sources[key] = source
    return values, sources


def _dataset_of(name: str, datasets: Plugins | DatasetSpec | None) -> DatasetSpec | None:
    """The dataset whose defaults apply; an unknown one has none (its error comes later,
    where the data is loaded)."""
    if isinstance(datasets, DatasetSpec) or datasets is None:
        return datasets
    try:
        return datasets.dataset(name)
    except ZooError:
        return None


def _csv_table(values: dict[str, Any], sources: dict[str, str]) -> None:
    """A CSV dataset's parameters in full: its path, and its label column by name."""
    if is_csv_path(values["dataset"]):  # read by the built-in csv dataset
        values["dataset_params"] = {**values["dataset_params"], "path": values["dataset"]}
        sources["dataset_params.path"] = sources["dataset"]
    params = values["dataset_params"]
    csv = values["dataset"] == "csv" or is_csv_path(values["dataset"])
    if csv and "target" not in params and isinstance(params.get("path"), str):
        layout = {key: params[key] for key in ("skip_rows", "header") if key in params}
        target = last_column(params["path"], **layout)
        values["dataset_params"] = {**params, "target": target}
        sources["dataset_params.target"] = "the file's last column"


def find_model(name: str, plugins: Plugins, catalogues: Catalogues) -> ModelSpec:
    """The plugin model behind ``name``; unknown names suggest models and variants alike."""
    try:
        return plugins.model(name)
    except UnknownNameError:
        known = [s.name for s in plugins.models()] + [
            v.name for v in catalogues.variants if plugins.model_providers(v.model)
        ]
        raise UnknownNameError(
            f"unknown model {name!r}{did_you_mean(name, known)}; "
            f"'zoo list' shows them all{plugins.why_missing()}"
        ) from None


def _checked(overrides: Mapping[str, Any]) -> dict[str, Any]:
    try:
        return check_settings(overrides)
    except InvalidSetting as exc:
        raise ConfigError(str(exc)) from None
