"""zoo's Python API, the one the command line uses too.

Each function is a thin door into the package that does the work; importing this module
imports neither torch nor the plugins, so ``import zoo`` and ``help(zoo)`` are instant.
Functions that read the catalogue take ``registry=`` (a registry.yaml path); by default zoo
reads ``$ZOO_REGISTRY`` or the catalogue it ships with.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

import zoo  # the public types in hints, as zoo.Comparison: zoo imports them when asked
from zoo.names import Registry
from zoo.training.records import LogRow, Progress  # torch-free

if TYPE_CHECKING:
    from torch import nn
else:  # torch.nn for the hints below: imported when one is resolved (typing.get_type_hints)

    class _TorchNN:
        def __getattr__(self, name: str) -> Any:
            return getattr(importlib.import_module("torch.nn"), name)

    nn = _TorchNN()


PathLike = str | os.PathLike[str]
REPORT = "report.html"  # a comparison folder's page

__all__ = [
    "PluginStatus",
    "Run",
    "compare",
    "describe",
    "evaluate",
    "get_model",
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

from zoo.plugins.status import PluginStatus  # noqa: E402  (torch-free; a public record)
from zoo.runs.run import Run  # noqa: E402  (torch-free; what train and load return)

# -- what is installed, and a model's settings -------------------------------------------------


@overload
def list_models(
    pattern: str | None = None, *, registry: Registry = None, details: Literal[False] = False
) -> list[str]: ...
@overload
def list_models(
    pattern: str | None = None, *, registry: Registry = None, details: Literal[True]
) -> list[zoo.ModelEntry]: ...
def list_models(
    pattern: str | None = None, *, registry: Registry = None, details: bool = False
) -> list[str] | list[zoo.ModelEntry]:
    """Every model and variant, naturally sorted; ``pattern`` is a shell wildcard. Their
    names, or with ``details=True`` each one's :class:`~zoo.ModelEntry`: its plugin, default
    dataset, description and shipped weights (``zoo list``)."""
    from zoo.config.checks import open_zoo
    from zoo.config.model_entries import model_entries

    entries = model_entries(*open_zoo(registry), pattern)
    return entries if details else [entry.name for entry in entries]


@overload
def list_datasets(pattern: str | None = None, *, details: Literal[False] = False) -> list[str]: ...
@overload
def list_datasets(
    pattern: str | None = None, *, details: Literal[True]
) -> list[zoo.DatasetSpec]: ...
def list_datasets(
    pattern: str | None = None, *, details: bool = False
) -> list[str] | list[zoo.DatasetSpec]:
    """Every dataset, naturally sorted; ``pattern`` is a shell wildcard. Their names, or with
    ``details=True`` each one's :class:`~zoo.DatasetSpec`: its plugin and description
    (``zoo datasets``)."""
    from zoo.plugins.loader import load_plugins

    specs = load_plugins().datasets(pattern)
    return specs if details else [spec.name for spec in specs]


def list_plugins() -> list[PluginStatus]:
    """Every installed plugin: loaded (with what it provides), failed (with why), or left
    out by ``ZOO_LOAD_PLUGINS`` (``zoo plugins``)."""
    from zoo.plugins.loader import load_plugins
    from zoo.plugins.status import plugin_statuses

    return plugin_statuses(load_plugins())


def resolve_config(name: str, *, registry: Registry = None, **overrides: Any) -> zoo.TrainConfig:
    """The settings ``zoo.train(name, **overrides)`` would use."""
    from zoo.config.checks import open_zoo
    from zoo.config.resolve import resolve

    return resolve(name, *open_zoo(registry), overrides)[0]


def load_run_config(run_dir: PathLike) -> zoo.TrainConfig:
    """The settings a run folder was trained with."""
    from zoo.runs.folder import read_record

    return read_record(run_dir).config


def get_model(
    name: str, *, weights: bool = False, registry: Registry = None, **kwargs: Any
) -> nn.Module:
    """A fresh, untrained model as ``zoo train`` builds it (``kwargs``: factory arguments over
    the configured params); ``weights=True``: the trained one its catalogue or plugin ships,
    in eval mode, its scaling in front, its SHA-256 checked first."""
    from zoo.runs.trained import model_by_name

    return model_by_name(name, weights=weights, registry=registry, **kwargs)


def describe(name: str, *, registry: Registry = None, **overrides: Any) -> dict[str, Any]:
    """What ``zoo info`` shows: resolved settings with their sources, size and architecture."""
    from zoo.config.checks import open_zoo
    from zoo.training.experiment import prepare
    from zoo.training.models import parameter_count

    opened = open_zoo(registry)  # the catalogues read once, for both
    experiment = prepare(name, overrides=overrides, device="cpu", opened=opened)
    config, spec = experiment.config, experiment.spec
    model = experiment.build(config.seed)
    variant = opened[1].variant(name)
    settings = config.settings()
    return {
        "model": config.model,
        "builds": config.builds,
        "plugin": spec.plugin.origin,
        "description": (variant.description if variant else None) or spec.description,
        "settings": settings,
        "sources": {key: config.sources.get(key, "zoo") for key in config.sources | settings},
        "factory_kwargs": experiment.kwargs,
        "task": experiment.task.name,
        "params": parameter_count(model),
        "architecture": repr(model),
    }


# -- training and using a model ----------------------------------------------------------------


def train(
    model: Any,
    *,
    data: Any = None,
    registry: Registry = None,
    out: PathLike | None = None,
    runs_root: PathLike | None = None,
    plot: bool = True,
    on_log: Callable[[LogRow], None] | None = None,
    on_progress: Progress | None = None,
    loggers: Sequence[Any] | None = None,
    **overrides: Any,
) -> Run:
    """Train ``model`` with the shared trainer and return the :class:`Run`.

    ``model`` is a registered name, or code: an ``nn.Module`` class or factory function
    (registered in this process under its own name) or an ``nn.Module`` instance (trained as
    it is). ``data`` is the dataset: None for the model's own, a dataset name or a CSV path,
    or ``(X, y)`` arrays. ``overrides`` are settings (``epochs=``, ``lr=``, ``momentum=``,
    ``seed=``, ``scale=`` (arrays and CSV files: "standard"), ``params=``, ...). The run folder
    (see :mod:`zoo.runs.folder`) is written to ``out``, or to a new
    ``runs_root/<model>/<timestamp>``; with neither, nothing is written. ``on_log`` receives
    each log row, ``on_progress`` (epochs done, epochs in all) after every epoch. ``loggers``
    (also in :func:`resume`): names (``["tensorboard"]``, ``zoo plugins``) or objects with
    event hooks (:mod:`zoo.hookspecs`). A diverging loss raises
    :class:`zoo.errors.TrainingDiverged` after the last good weights are saved; with a run
    folder, Ctrl-C or SIGTERM raise :class:`zoo.errors.TrainingInterrupted` after a
    checkpoint, and :func:`resume` goes on from it.
    """
    from zoo.runs.training_run import Callbacks, open_events, train_new, warn_learned_nothing
    from zoo.training.experiment import prepare

    experiment = prepare(model, data=data, registry=registry, overrides=overrides)
    callbacks = Callbacks(on_log, on_progress, open_events(loggers))  # before any file
    run = train_new(experiment, out, runs_root, plot=plot, callbacks=callbacks)
    return warn_learned_nothing(run)


def resume(
    run_dir: PathLike,
    *,
    epochs: int | None = None,
    plot: bool = True,
    on_log: Callable[[LogRow], None] | None = None,
    on_progress: Progress | None = None,
    loggers: Sequence[Any] | None = None,
) -> Run:
    """Go on with a run from its last checkpoint: to its configured epochs after an
    interruption, or to ``epochs`` in all to train a stopped or finished run further.

    The result equals, on the CPU bit for bit, that of a run trained so far without a stop.
    """
    from zoo.plugins.loader import load_plugins
    from zoo.runs.resume import resume_run
    from zoo.runs.training_run import Callbacks, open_events, warn_learned_nothing

    callbacks = Callbacks(on_log, on_progress, open_events(loggers))
    run = resume_run(run_dir, load_plugins(), epochs=epochs, plot=plot, callbacks=callbacks)
    return warn_learned_nothing(run)


def load(
    source: PathLike, *, device: str | None = None, partial: bool = False, registry: Registry = None
) -> Run:
    """A trained model back, without running code from its files: a run folder (with
    ``partial``, the last checkpoint of one that did not finish), a safetensors export, or
    a model name whose catalogue entry (``registry=``) or plugin carries trained weights."""
    from zoo.runs.trained import load_trained

    return load_trained(source, device=device, partial=partial, registry=registry)


def evaluate(
    run_dir: PathLike,
    *,
    device: str | None = None,
    data: PathLike | None = None,
    target: str | None = None,
) -> dict[str, Any]:
    """Measure a run again: on its own split (the summary's numbers), or on the labelled CSV
    file ``data`` (its label column ``target``, by default the run's own or the last)."""
    from zoo.runs.inference import evaluate_run

    return evaluate_run(run_dir, device=device, data=data, target=target)


def plot_run(run_dir: PathLike) -> list[Path]:
    """Draw a run's pictures again (boundary.png, curves.png); the files written."""
    from zoo.runs.training_run import save_pictures

    return save_pictures(load(run_dir))


def list_runs(root: PathLike = "runs") -> list[zoo.RunListing]:
    """Every run folder under ``root``: model, dataset, status, epochs, test accuracy, date."""
    from zoo.runs.listing import list_runs as listing

    return listing(root)


def register_model(
    name: str,
    factory: Callable[..., Any],
    *,
    description: str | None = None,
    defaults: dict[str, Any] | None = None,
) -> None:
    """Register a model defined here (an ``nn.Module`` class or a factory function), as a
    plugin would: ``zoo.train(name)``, ``zoo.compare([name, ...])`` and ``zoo list`` see it.
    Registering a name again replaces it."""
    from zoo.plugins.in_process import register_model as register

    register(name, factory, description=description, defaults=defaults)


def register_dataset(
    name: str,
    loader: Callable[..., Any],
    *,
    description: str | None = None,
    defaults: dict[str, Any] | None = None,
) -> None:
    """Register a dataset defined here: ``loader(**params) -> (X, y)``, as a plugin would."""
    from zoo.plugins.in_process import register_dataset as register

    register(name, loader, description=description, defaults=defaults)


# -- comparing models --------------------------------------------------------------------------


def compare(
    models: Sequence[str],
    *,
    datasets: Sequence[str] | None = None,
    seeds: int | None = None,
    seed_list: Sequence[int] | None = None,
    reach: float = 99.0,
    vary: str | Sequence[str] | None = None,
    baselines: bool = False,
    workers: int | None = None,
    out: PathLike | None = None,
    registry: Registry = None,
    on_progress: Progress | None = None,
    grid: Mapping[str, Sequence[Any]] | None = None,
    cluster: str | None = None,
    cluster_address: str | None = None,
    exact: bool | None = None,
    loggers: Sequence[Any] | None = None,
    **overrides: Any,
) -> zoo.Comparison:
    """Train every model on every dataset for every seed; per-seed results and statistics.

    ``models``: names or wildcards; ``datasets``: each model's own by default; ``seed_list``, or
    ``seeds`` (10) from the configured seed on; ``reach``: the test accuracy (%) whose first epoch
    is reported; ``vary``: what each seed changes (``init``, ``split``, ``order``, or ``all``).
    ``overrides`` are settings for every model; ``grid`` sweeps them (``{"lr": [0.01, 0.1]}``).
    The rest are ``zoo compare``'s flags (``workers`` is ``--jobs``); ``out`` keeps chunks as
    they finish: after a stop, :func:`resume_comparison` ends it. ``on_progress`` gets
    (seed-epochs done, in all); ``loggers``: see :func:`train`. All is checked first."""
    from zoo.comparison.plan import Request
    from zoo.comparison.runner import Launch
    from zoo.comparison.runner import compare as run

    names = [models] if isinstance(models, str) else models
    seeds_asked = seeds if seed_list is None else seed_list  # a list, or a count (None: 10)
    request = Request(
        names, datasets, seeds_asked, reach, baselines, overrides, registry, grid, exact, vary
    )
    return run(request, Launch(workers, on_progress, cluster, cluster_address, loggers), out)


def resume_comparison(
    folder: PathLike,
    *,
    workers: int | None = None,
    on_progress: Progress | None = None,
    cluster: str | None = None,
    cluster_address: str | None = None,
    loggers: Sequence[Any] | None = None,
) -> zoo.Comparison:
    """Finish a comparison that was stopped: its request as it was, only the missing seeds
    (here, or with ``cluster="ray"`` on a Ray cluster, as :func:`compare` says)."""
    from zoo.comparison.runner import Launch
    from zoo.comparison.runner import resume_comparison as run

    return run(folder, Launch(workers, on_progress, cluster, cluster_address, loggers))


def save_comparison(comparison: zoo.Comparison, folder: PathLike, *, plot: bool = False) -> None:
    """Write a comparison's results and summary (and picture) into ``folder``, each atomically."""
    from zoo.comparison.runner import save_comparison as save

    save(comparison, folder, plot=plot)


def plot_comparison(comparison: zoo.Comparison, path: PathLike | None = None) -> Path:
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


def html_report(comparison: zoo.Comparison | PathLike, path: PathLike | None = None) -> Path:
    """One self-contained HTML page of a comparison, written atomically to ``path``.

    ``comparison`` is a :class:`Comparison` or the folder of a finished ``zoo compare --out``
    (its seeds' weights load with ``weights_only=True``; without ``path``, the page is the
    folder's report.html). The page shows the summary table with the verdicts, each model's
    decision boundary, accuracy and loss curves with their spread over the seeds, the spread of
    test accuracy, the settings, versions and machine; pictures are inside it, so it needs no
    network. ``path`` is written as every output is (a link followed, a device or FIFO streamed
    to, never a folder or one of the comparison's own files). Returns where it went.
    """
    from zoo.comparison.html_report import from_comparison, from_folder, write_report

    if isinstance(comparison, (str, os.PathLike)):  # without path: the folder's own page,
        page = Path(comparison) / REPORT if path is None else path  # where no link is followed
        return write_report(from_folder(comparison), page, follow=path is not None)
    if path is None:
        raise TypeError("html_report(comparison, path): name the page's file")
    return write_report(from_comparison(comparison), path)
