"""zoo's Python API. The command line is a thin layer over these functions.

Every function takes ``registry=`` (a registry.yaml path) where it reads the catalogue; by
default zoo reads ``$ZOO_REGISTRY`` or the catalogue it ships with.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from zoo import runs
from zoo.catalogue import Catalogue, load_catalogue
from zoo.comparison import (
    Comparison,
    ComparisonFolder,
    Job,
    JobResult,
    Stopped,
    expand_models,
    plan_jobs,
    run_baselines,
    run_jobs,
    summarise,
    worker_count,
)
from zoo.comparison import seed_list as comparison_seeds
from zoo.config import TrainConfig, check_catalogue, resolve
from zoo.devices import resolve_device
from zoo.errors import CatalogueWarning, ConfigError, TrainingInterrupted
from zoo.experiment import Experiment
from zoo.inference import LoadedRun, evaluate_run, load_run
from zoo.interrupts import StopRequests
from zoo.models import build_model, factory_kwargs, parameter_count
from zoo.plugins import load_registry
from zoo.registry import PluginInfo, Registry, matches, natural_key
from zoo.trainer import LogRow, Trainer, batch_order, build_optimizer
from zoo.training import resume_run, train_run

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class ModelEntry:
    """A row of ``zoo list``."""

    name: str
    plugin: PluginInfo
    dataset: str
    description: str | None
    variant_of: str | None = None  # set for a registry.yaml variant

    @property
    def qualified_name(self) -> str:
        return f"{self.plugin.name}:{self.name.rpartition(':')[2]}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "plugin": self.plugin.name,
            "distribution": self.plugin.distribution,
            "version": self.plugin.version,
            "dataset": self.dataset,
            "description": self.description,
            "variant_of": self.variant_of,
        }


def open_zoo(registry: PathLike | None = None) -> tuple[Registry, Catalogue]:
    """The plugins' registry (loaded once per process) and the catalogue, checked together."""
    loaded = load_registry()
    catalogue = load_catalogue(registry)
    for note in check_catalogue(catalogue, loaded):
        if note not in _NOTED:  # once per process, however often the catalogue is read
            _NOTED.add(note)
            warnings.warn(note, CatalogueWarning, stacklevel=3)
    return loaded, catalogue


_NOTED: set[str] = set()


def list_models(pattern: str | None = None, *, registry: PathLike | None = None) -> list[str]:
    """Names of every model and variant, naturally sorted; ``pattern`` is a shell wildcard."""
    return [entry.name for entry in model_entries(pattern, registry=registry)]


def list_datasets(pattern: str | None = None) -> list[str]:
    """Names of every dataset, naturally sorted; ``pattern`` is a shell wildcard."""
    return [spec.name for spec in load_registry().datasets(pattern)]


def model_entries(
    pattern: str | None = None, *, registry: PathLike | None = None
) -> list[ModelEntry]:
    loaded, catalogue = open_zoo(registry)
    clashing = loaded.clashes()
    entries = []
    for spec in loaded.models():
        name = spec.qualified_name if spec.name in clashing else spec.name
        config, _ = resolve(name, loaded, catalogue)
        entries.append(ModelEntry(name, spec.plugin, config.dataset, spec.description))
    for variant in catalogue.variants:
        if len(loaded.model_providers(variant.model or "")) == 1:  # check_catalogue noted others
            config, spec = resolve(variant.name, loaded, catalogue)
            description = variant.description or f"variant of {spec.name}"
            plugin = PluginInfo(catalogue.path.name, module="")  # the catalogue, not a plugin
            entries.append(ModelEntry(variant.name, plugin, config.dataset, description, spec.name))
    entries = [e for e in entries if matches(pattern or None, e.name, e.qualified_name)]
    return sorted(entries, key=lambda e: natural_key(e.name))


def resolve_config(name: str, *, registry: PathLike | None = None, **overrides: Any) -> TrainConfig:
    """The settings ``zoo.train(name, **overrides)`` would use."""
    loaded, catalogue = open_zoo(registry)
    return resolve(name, loaded, catalogue, overrides)[0]


def load_run_config(run_dir: PathLike) -> TrainConfig:
    """The settings a run folder was trained with."""
    return runs.read_record(run_dir).config


def get_model(name: str, *, registry: PathLike | None = None, **kwargs: Any) -> nn.Module:
    """A fresh, untrained model as ``zoo train`` would build it for its configured dataset.

    ``kwargs`` go to the factory on top of the configured params (``in_features`` and
    ``out_features`` too, to build it for other data).
    """
    loaded, catalogue = open_zoo(registry)
    config, spec = resolve(name, loaded, catalogue)
    experiment = Experiment.prepare(config, spec, loaded, torch.device("cpu"))
    split, task = experiment.split, experiment.task
    params = {**config.params, **kwargs}
    return build_model(spec, factory_kwargs(spec, params, split.features, task.out_features))


def describe(name: str, *, registry: PathLike | None = None, **overrides: Any) -> dict[str, Any]:
    """What ``zoo info`` shows: resolved settings with their sources, size and architecture."""
    loaded, catalogue = open_zoo(registry)
    config, spec = resolve(name, loaded, catalogue, overrides)
    experiment = Experiment.prepare(config, spec, loaded, torch.device("cpu"))
    model = experiment.build(config.seed)
    Trainer(model, experiment.data, config)  # the optimizer and batch size zoo train would refuse
    variant = catalogue.entries.get(name)
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


def train(
    name: str,
    *,
    registry: PathLike | None = None,
    out: PathLike | None = None,
    runs_root: PathLike | None = None,
    plot: bool = True,
    on_log: Callable[[LogRow], None] | None = None,
    on_progress: Callable[[int, float], None] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """Train ``name`` with the shared trainer and return its summary.

    ``overrides`` are settings (``epochs=``, ``lr=``, ``optimizer=``, ``momentum=``,
    ``batch_size=``, ``seed=``, ``device=``, ``log_every=``, ``dataset=``, ...). The run
    folder (see :mod:`zoo.runs`) is written to ``out``, or to a new
    ``runs_root/<model>/<timestamp>``; with neither, nothing is written. A diverging loss
    raises :class:`zoo.errors.TrainingDiverged` after the last good weights are saved; with
    a run folder, Ctrl-C or SIGTERM raise :class:`zoo.errors.TrainingInterrupted` after a
    checkpoint, and :func:`resume` goes on from it.
    """
    loaded, catalogue = open_zoo(registry)
    config, spec = resolve(name, loaded, catalogue, overrides)
    experiment = Experiment.prepare(config, spec, loaded, resolve_device(config.device))
    run_dir = _run_dir(out, runs_root, config.model)
    try:
        return train_run(experiment, run_dir, plot=plot, on_log=on_log, on_progress=on_progress)
    except BaseException:
        if run_dir is not None and not any(run_dir.iterdir()):
            run_dir.rmdir()  # leave no empty run folder behind
        raise


def resume(
    run_dir: PathLike,
    *,
    plot: bool = True,
    on_log: Callable[[LogRow], None] | None = None,
    on_progress: Callable[[int, float], None] | None = None,
) -> dict[str, Any]:
    """Go on with an interrupted run from its last checkpoint, to its configured epochs.

    The result equals, on the CPU bit for bit, that of the run had it never stopped.
    """
    run_dir = Path(run_dir)
    return resume_run(run_dir, load_registry(), plot=plot, on_log=on_log, on_progress=on_progress)


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
    on_progress: Callable[[float], None] | None = None,
    **overrides: Any,
) -> Comparison:
    """Train every model on every dataset for every seed; per-seed results and statistics.

    ``models`` may hold shell wildcards; ``datasets`` defaults to each model's own. Seeds are
    ``seed_list``, or ``seeds`` (5 by default) consecutive ones from the configured seed.
    ``target`` is the test accuracy (percent) whose first log point is reported per seed.
    ``workers`` processes train in parallel (default: one per CPU core, for CPU work).
    ``on_progress`` receives the finished fraction, 0 to 1. Everything is checked before any
    training starts. Settings in ``overrides`` apply to every model.

    With ``out`` (a new or empty folder), each finished chunk of seeds is saved as it comes,
    then the reports: a comparison stopped by Ctrl-C raises
    :class:`zoo.errors.TrainingInterrupted`, and :func:`resume_comparison` finishes it.
    """
    loaded, catalogue = open_zoo(registry)
    if isinstance(models, str):
        models = [models]
    entries = model_entries(registry=registry)
    names = expand_models(models, [(e.name, e.qualified_name) for e in entries])
    if not names:
        raise ConfigError("name at least one model to compare")
    first_seed = resolve(names[0], loaded, catalogue, overrides)[0].seed
    seeds_used = comparison_seeds(seeds, seed_list, first_seed)
    overrides = {k: v for k, v in overrides.items() if k != "seed" and v is not None}
    jobs = plan_jobs(names, datasets, seeds_used, loaded, catalogue, overrides)
    _check_jobs(jobs, loaded)
    folder = None
    if out is not None:
        folder = ComparisonFolder(runs.claim_run_dir(out))
        request = {
            "models": names,
            "datasets": list(datasets) if datasets else None,
            "seeds": seeds_used,
            "target": target,
            "baselines": baselines,
            "settings": overrides,
            "registry": str(registry) if registry is not None else None,
        }
        folder.start(request)
    return _run_comparison(jobs, loaded, target, baselines, workers, on_progress, folder, {})


def resume_comparison(
    folder: PathLike,
    *,
    workers: int | None = None,
    on_progress: Callable[[float], None] | None = None,
) -> Comparison:
    """Finish a comparison that was stopped: its request as it was, only the missing seeds."""
    store = ComparisonFolder(Path(folder))
    request = store.request()
    loaded, catalogue = open_zoo(request["registry"])
    jobs = plan_jobs(
        request["models"],
        request["datasets"],
        request["seeds"],
        loaded,
        catalogue,
        request["settings"],
    )
    _check_jobs(jobs, loaded)
    finished = store.load(jobs)
    return _run_comparison(
        jobs,
        loaded,
        request["target"],
        request["baselines"],
        workers,
        on_progress,
        store,
        finished,
    )


def _check_jobs(jobs: Sequence[Job], loaded: Registry) -> None:
    """Every model, dataset, device and setting, checked before any training starts."""
    for job in jobs:
        device = resolve_device(job.config.device)
        experiment = Experiment.prepare(job.config, job.spec, loaded, device)
        build_optimizer(experiment.build(job.config.seed).parameters(), job.config)
        batch_order(job.config, len(experiment.split.X_train), device)


def _run_comparison(
    jobs: Sequence[Job],
    loaded: Registry,
    target: float,
    baselines: bool,
    workers: int | None,
    on_progress: Callable[[float], None] | None,
    folder: ComparisonFolder | None,
    finished: dict[int, list[JobResult]],
) -> Comparison:
    with StopRequests() as stop:
        try:
            results = run_jobs(
                jobs,
                loaded,
                worker_count(jobs, workers),
                on_progress,
                finished=finished,
                on_part=folder.save if folder else None,
                should_stop=stop,
            )
        except Stopped:
            if folder is None:
                raise TrainingInterrupted(
                    "stopped; nothing was kept (with --out DIR, finished seeds are)",
                    stop.exit_status,
                ) from None
            raise TrainingInterrupted(
                f"stopped; the seeds finished so far are kept in {folder.path}; "
                f"go on with: zoo compare --resume {folder.path}",
                stop.exit_status,
            ) from None
    if baselines:
        results += run_baselines(jobs, loaded)
    comparison = summarise(results, target)
    if folder is not None:
        save_comparison(comparison, folder.path)
    return comparison


def save_comparison(comparison: Comparison, folder: PathLike, *, plot: bool = False) -> None:
    """Write a comparison's results and summary (and picture) into ``folder``, each atomically."""
    from zoo import report
    from zoo.files import write_atomic

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "results.json": report.render(comparison, "json"),
        "results.csv": report.results_csv(comparison),
        "summary.csv": report.summary_csv(comparison),
        "summary.md": report.markdown(comparison),
    }
    for name, text in files.items():
        write_atomic(folder / name, text.encode())
    if plot:
        plot_comparison(comparison, folder / "boundaries.png")


def plot_comparison(comparison: Comparison, path: PathLike) -> None:
    """One PNG: each compared model's boundary (its first seed) over its test points."""
    from zoo.plotting import save_boundaries

    loaded = load_registry()
    panels = []
    for result in comparison.drawable():
        job = result.job
        experiment = Experiment.prepare(job.config, job.spec, loaded, torch.device("cpu"))
        model = experiment.build(job.seeds[0])
        model.load_state_dict(result.states[0])
        summary = next(
            row
            for row in comparison.summary
            if row["model"] == job.model and row["dataset"] == job.dataset
        )
        title = (
            f"{job.model} on {job.dataset}: {summary['test_acc']['mean']:.1f}% test\n"
            f"(mean of {len(job.seeds)} seeds; seed {job.seeds[0]} shown)"
        )
        split = experiment.split
        panels.append((title, model, experiment.task, split.X_test, split.y_test))
    if not panels:
        raise ConfigError("no compared model has two-feature data to draw")
    columns = min(4, len({p[0].split(" on ")[0] for p in panels}))
    save_boundaries(Path(path), panels, columns=max(1, columns))


def evaluate(run_dir: PathLike, *, device: str | None = None) -> dict[str, Any]:
    """Reload a run's weights and data and measure them again: the summary's numbers."""
    return evaluate_run(run_dir, device=device)


def predict(
    run_dir: PathLike, X: Any, *, device: str | None = None
) -> tuple[list[Any], np.ndarray]:
    """Labels (the dataset's own) and each label's probability for the rows of ``X``."""
    return load_run(run_dir, device=device, with_data=False).predict(X)


def _run_dir(out: PathLike | None, runs_root: PathLike | None, model: str) -> Path | None:
    if out is not None:
        return runs.claim_run_dir(out)
    if runs_root is not None:
        return runs.new_run_dir(runs_root, model)
    return None


__all__ = [
    "Comparison",
    "compare",
    "plot_comparison",
    "resume",
    "resume_comparison",
    "save_comparison",
    "LoadedRun",
    "ModelEntry",
    "describe",
    "evaluate",
    "get_model",
    "list_datasets",
    "list_models",
    "load_run",
    "model_entries",
    "open_zoo",
    "predict",
    "resolve_config",
    "train",
]
