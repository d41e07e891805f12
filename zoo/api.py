"""zoo's Python API, the one the command line uses too.

Each function is a thin door into the package that does the work; importing this module
imports neither torch nor the plugins, so ``import zoo`` and ``help(zoo)`` are instant.
Functions that read the catalogue take ``registry=`` (a registry.yaml path); by default zoo
reads ``$ZOO_REGISTRY`` or the catalogue it ships with.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from torch import nn

    from zoo.comparison.summary import Comparison
    from zoo.config.listing import ModelEntry
    from zoo.config.resolve import TrainConfig
    from zoo.plugins.specs import DatasetSpec
    from zoo.runs.inference import LoadedRun
    from zoo.training.experiment import Experiment
    from zoo.training.loop import Progress
    from zoo.training.records import LogRow

PathLike = str | os.PathLike[str]

__all__ = [
    "PluginStatus",
    "compare",
    "dataset_entries",
    "describe",
    "evaluate",
    "get_model",
    "list_datasets",
    "list_models",
    "list_plugins",
    "load_run",
    "load_run_config",
    "model_entries",
    "plot_comparison",
    "predict",
    "resolve_config",
    "resume",
    "resume_comparison",
    "save_comparison",
    "train",
]

from zoo.plugins.status import PluginStatus  # noqa: E402  (torch-free; a public record)

# -- what is installed -------------------------------------------------------------------------


def list_models(pattern: str | None = None, *, registry: PathLike | None = None) -> list[str]:
    """Names of every model and variant, naturally sorted; ``pattern`` is a shell wildcard."""
    return [entry.name for entry in model_entries(pattern, registry=registry)]


def model_entries(
    pattern: str | None = None, *, registry: PathLike | None = None
) -> list[ModelEntry]:
    """Every model and variant with its plugin and default dataset (``zoo list``)."""
    from zoo.config.listing import model_entries as entries
    from zoo.config.setup import open_zoo

    return entries(*open_zoo(registry), pattern)


def list_datasets(pattern: str | None = None) -> list[str]:
    """Names of every dataset, naturally sorted; ``pattern`` is a shell wildcard."""
    return [spec.name for spec in dataset_entries(pattern)]


def dataset_entries(pattern: str | None = None) -> list[DatasetSpec]:
    """Every dataset with its plugin and description (``zoo datasets``)."""
    from zoo.plugins.loader import load_plugins

    return load_plugins().datasets(pattern)


def list_plugins() -> list[PluginStatus]:
    """Every installed plugin: loaded (with what it provides), failed (with why), or left
    out by ``ZOO_LOAD_PLUGINS`` (``zoo plugins``)."""
    from zoo.plugins.loader import load_plugins
    from zoo.plugins.status import plugin_statuses

    return plugin_statuses(load_plugins())


# -- a model and its settings ------------------------------------------------------------------


def resolve_config(name: str, *, registry: PathLike | None = None, **overrides: Any) -> TrainConfig:
    """The settings ``zoo.train(name, **overrides)`` would use."""
    from zoo.config.resolve import resolve
    from zoo.config.setup import open_zoo

    return resolve(name, *open_zoo(registry), overrides)[0]


def load_run_config(run_dir: PathLike) -> TrainConfig:
    """The settings a run folder was trained with."""
    from zoo.runs.folder import read_record

    return read_record(run_dir).config


def get_model(name: str, *, registry: PathLike | None = None, **kwargs: Any) -> nn.Module:
    """A fresh, untrained model as ``zoo train`` would build it for its configured dataset.

    ``kwargs`` go to the factory on top of the configured params (``in_features`` and
    ``out_features`` too, to build it for other data).
    """
    from zoo.training.models import build_model, factory_kwargs

    experiment = _experiment(name, registry, {}, device="cpu")
    config, spec = experiment.config, experiment.spec
    params = {**config.params, **kwargs}
    shapes = (experiment.split.features, experiment.task.out_features)
    return build_model(spec, factory_kwargs(spec, params, *shapes))


def describe(name: str, *, registry: PathLike | None = None, **overrides: Any) -> dict[str, Any]:
    """What ``zoo info`` shows: resolved settings with their sources, size and architecture."""
    from zoo.config.catalogue import load_catalogue
    from zoo.training.models import parameter_count

    experiment = _experiment(name, registry, overrides, device="cpu")
    config, spec = experiment.config, experiment.spec
    model = experiment.build(config.seed)
    variant = load_catalogue(registry).entries.get(name)
    return {
        "model": config.model,
        "builds": config.builds,
        "plugin": spec.plugin.origin,
        "description": (variant.description if variant else None) or spec.description,
        "settings": config.settings(),
        "sources": {key: config.sources.get(key, "zoo") for key in config.settings()},
        "factory_kwargs": experiment.kwargs,
        "task": experiment.task.name,
        "params": parameter_count(model),
        "architecture": repr(model),
    }


# -- training and using a model ----------------------------------------------------------------


def train(
    name: str,
    *,
    registry: PathLike | None = None,
    out: PathLike | None = None,
    runs_root: PathLike | None = None,
    plot: bool = True,
    on_log: Callable[[LogRow], None] | None = None,
    on_progress: Progress | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """Train ``name`` with the shared trainer and return its summary.

    ``overrides`` are settings (``epochs=``, ``lr=``, ``optimizer=``, ``momentum=``,
    ``batch_size=``, ``seed=``, ``device=``, ``log_every=``, ``dataset=``, ...). The run
    folder (see :mod:`zoo.runs.folder`) is written to ``out``, or to a new
    ``runs_root/<model>/<timestamp>``; with neither, nothing is written. ``on_log`` receives
    each log row, ``on_progress`` (epochs done, epochs in all) after every epoch. A diverging
    loss raises :class:`zoo.errors.TrainingDiverged` after the last good weights are saved;
    with a run folder, Ctrl-C or SIGTERM raise :class:`zoo.errors.TrainingInterrupted` after a
    checkpoint, and :func:`resume` goes on from it.
    """
    from zoo.runs.folder import claim_run_dir, new_run_dir
    from zoo.runs.job import Callbacks, train_run

    experiment = _experiment(name, registry, overrides)
    run_dir = None
    if out is not None:
        run_dir = claim_run_dir(out)
    elif runs_root is not None:
        run_dir = new_run_dir(runs_root, experiment.config.model)
    try:
        summary = train_run(
            experiment, run_dir, plot=plot, callbacks=Callbacks(on_log, on_progress)
        )
    except BaseException:
        if run_dir is not None and not any(run_dir.iterdir()):
            run_dir.rmdir()  # leave no empty run folder behind
        raise
    return summary.to_dict()


def resume(
    run_dir: PathLike,
    *,
    plot: bool = True,
    on_log: Callable[[LogRow], None] | None = None,
    on_progress: Progress | None = None,
) -> dict[str, Any]:
    """Go on with an interrupted run from its last checkpoint, to its configured epochs.

    The result equals, on the CPU bit for bit, that of the run had it never stopped.
    """
    from zoo.plugins.loader import load_plugins
    from zoo.runs.job import Callbacks, resume_run

    callbacks = Callbacks(on_log, on_progress)
    return resume_run(Path(run_dir), load_plugins(), plot=plot, callbacks=callbacks).to_dict()


def evaluate(run_dir: PathLike, *, device: str | None = None) -> dict[str, Any]:
    """Reload a run's weights and data and measure them again: the summary's numbers."""
    from zoo.runs.inference import evaluate_run

    return evaluate_run(run_dir, device=device)


def load_run(run_dir: PathLike, *, device: str | None = None, with_data: bool = True) -> LoadedRun:
    """A run's trained model back from its folder; its weights load without running code."""
    from zoo.runs.inference import load_run as load

    return load(run_dir, device=device, with_data=with_data)


def predict(
    run_dir: PathLike, X: Any, *, device: str | None = None
) -> tuple[list[Any], np.ndarray]:
    """Labels (the dataset's own) and each label's probability for the rows of ``X``."""
    return load_run(run_dir, device=device, with_data=False).predict(X)


# -- comparing models --------------------------------------------------------------------------


def compare(
    models: Sequence[str],
    *,
    datasets: Sequence[str] | None = None,
    seeds: int | None = None,
    seed_list: Sequence[int] | None = None,
    target: float = 99.0,
    baselines: bool = False,
    workers: int | None = None,
    out: PathLike | None = None,
    registry: PathLike | None = None,
    on_progress: Progress | None = None,
    grid: Mapping[str, Sequence[Any]] | None = None,
    cluster: str | None = None,
    cluster_address: str | None = None,
    exact: bool | None = None,
    **overrides: Any,
) -> Comparison:
    """Train every model on every dataset for every seed; per-seed results and statistics.

    ``models`` may hold shell wildcards; ``datasets`` defaults to each model's own. Seeds are
    ``seed_list``, or ``seeds`` (5 by default) consecutive ones from the configured seed.
    ``target``: the test accuracy (percent) whose first log point is reported per seed.
    ``workers`` processes train in parallel (default: one per CPU core, for CPU work).
    ``on_progress`` gets (seed-epochs done, in all). ``overrides`` (settings) apply to every
    model; ``grid`` sweeps them: ``{"lr": [0.01, 0.1], "param.hidden_units": [5, 10]}``.
    ``cluster="ray"``: on the Ray cluster at ``cluster_address``, else ``$RAY_ADDRESS``, else
    a local one. ``exact``: seeds equal to solo runs (CPU default), or fast (CUDA default).
    All is checked first. ``out`` (a new or empty folder) keeps chunks as they finish; after
    a stop (:class:`zoo.errors.TrainingInterrupted`), :func:`resume_comparison` ends the rest.
    """
    from zoo.comparison.runner import compare as run

    return run(
        [models] if isinstance(models, str) else models,
        datasets=datasets,
        seeds=seeds,
        seed_values=seed_list,
        target=target,
        baselines=baselines,
        workers=workers,
        out=out,
        registry=registry,
        on_progress=on_progress,
        overrides=overrides,
        grid=grid,
        cluster=cluster,
        cluster_address=cluster_address,
        exact=exact,
    )


def resume_comparison(
    folder: PathLike,
    *,
    workers: int | None = None,
    on_progress: Progress | None = None,
    cluster: str | None = None,
    cluster_address: str | None = None,
) -> Comparison:
    """Finish a comparison that was stopped: its request as it was, only the missing seeds
    (here, or with ``cluster="ray"`` on a Ray cluster, as :func:`compare` says)."""
    from zoo.comparison.runner import resume_comparison as run

    return run(
        folder,
        workers=workers,
        on_progress=on_progress,
        cluster=cluster,
        cluster_address=cluster_address,
    )


def save_comparison(comparison: Comparison, folder: PathLike, *, plot: bool = False) -> None:
    """Write a comparison's results and summary (and picture) into ``folder``, each atomically."""
    from zoo.comparison.runner import save_comparison as save

    save(comparison, folder, plot=plot)


def plot_comparison(comparison: Comparison, path: PathLike | None = None) -> Path:
    """One PNG of each compared model's boundary (its first seed) over its test points, or
    for a sweep, of test accuracy against each swept setting (``comparison.plot()`` gives
    the figure itself).

    Written to ``path``, or to ``runs/compare/<timestamp>/`` as boundaries.png (sweep.png for
    a sweep); returns where.
    """
    from zoo.comparison.runner import plot_comparison as plot
    from zoo.runs.folder import new_run_dir

    name = comparison.picture_name
    picture = Path(path) if path is not None else new_run_dir("runs", "compare") / name
    plot(comparison, picture)
    return picture


def _experiment(
    name: str, registry: PathLike | None, overrides: dict[str, Any], device: str | None = None
) -> Experiment:
    """The prepared experiment for ``name``: settings resolved, data loaded and checked."""
    from zoo.config.resolve import resolve
    from zoo.config.setup import open_zoo
    from zoo.training.devices import resolve_device
    from zoo.training.experiment import Experiment

    plugins, catalogue = open_zoo(registry)
    config, spec = resolve(name, plugins, catalogue, overrides)
    target = resolve_device(device or config.device)
    return Experiment.prepare(config, spec, plugins, target)
