"""A training job with a run folder: start one, stop it cleanly, resume it exactly.

The run folder's config.json is written before the first epoch and a checkpoint at every
checkpoint interval (see :mod:`zoo.runs`). Ctrl-C or SIGTERM stops at the end of the epoch
with a checkpoint; ``resume`` goes on from the last one. On the CPU a resumed run ends with
the weights and numbers of the run that was never interrupted, bit for bit.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from torch import nn

from zoo import runs
from zoo.devices import resolve_device
from zoo.errors import RunFolderError, TrainingDiverged, TrainingInterrupted
from zoo.experiment import Experiment
from zoo.files import remove_leftovers
from zoo.inference import model_of_run
from zoo.interrupts import StopRequests
from zoo.models import parameter_count
from zoo.registry import Registry
from zoo.trainer import Checkpoint, FitResult, LogRow, Trainer

LogCallback = Callable[[LogRow], None]
ProgressCallback = Callable[[int, float], None]


def train_run(
    experiment: Experiment,
    run_dir: Path | None,
    *,
    plot: bool = True,
    on_log: LogCallback | None = None,
    on_progress: ProgressCallback | None = None,
) -> dict[str, Any]:
    """Train a fresh model; with a run folder, write it as training goes."""
    config = experiment.config
    model = experiment.build(config.seed)
    trainer = Trainer(model, experiment.data, config, on_log, on_progress)  # checks the rest
    if run_dir is None:
        return _finish(experiment, model, trainer.fit(), None, plot)
    split = experiment.split
    record = runs.RunRecord(config, experiment.kwargs, split.classes, split.features)
    try:
        runs.write_json(run_dir / runs.CONFIG, record.to_json())
    except OSError as exc:
        raise RunFolderError(f"{exc.filename}: {exc.strerror}; nothing was trained") from None
    return _train_in_folder(experiment, trainer, run_dir, None, plot)


def resume_run(
    run_dir: Path,
    registry: Registry,
    *,
    plot: bool = True,
    on_log: LogCallback | None = None,
    on_progress: ProgressCallback | None = None,
) -> dict[str, Any]:
    """Go on with an interrupted run from its last checkpoint (or from the start if none)."""
    record = runs.read_record(run_dir)
    if (run_dir / runs.SUMMARY).exists():
        raise RunFolderError(f"{run_dir}: this run has finished; there is nothing to resume")
    check_writable(run_dir)
    remove_leftovers(run_dir)  # half-written temporary files of a killed run
    config = record.config
    spec = model_of_run(run_dir, config, registry)
    experiment = Experiment.prepare(config, spec, registry, resolve_device(config.device))
    if experiment.kwargs != record.factory_kwargs:
        raise RunFolderError(
            f"{run_dir}: the model would now be built with {experiment.kwargs}, not the run's "
            f"{record.factory_kwargs}; its plugin or data changed, so it cannot be resumed"
        )
    checkpoint = None
    if (run_dir / runs.CHECKPOINT).exists():  # killed before the first one: start over
        checkpoint = runs.load_checkpoint(run_dir / runs.CHECKPOINT)
    trainer = Trainer(experiment.build(config.seed), experiment.data, config, on_log, on_progress)
    return _train_in_folder(experiment, trainer, run_dir, checkpoint, plot)


def check_writable(folder: Path) -> None:
    """Refuse, before any work, a run folder that cannot take new files."""
    try:
        handle, probe = tempfile.mkstemp(dir=folder, prefix=".zoo-write-check-")
    except OSError as exc:
        raise RunFolderError(
            f"{folder}: cannot write here ({exc.strerror}); nothing was changed"
        ) from None
    os.close(handle)
    os.unlink(probe)


def _train_in_folder(
    experiment: Experiment,
    trainer: Trainer,
    run_dir: Path,
    checkpoint: Checkpoint | None,
    plot: bool,
) -> dict[str, Any]:
    def save(latest: Checkpoint) -> None:
        runs.save_checkpoint(run_dir / runs.CHECKPOINT, latest)

    resume = f"zoo train --resume {run_dir}"
    try:
        with StopRequests() as stop:
            trainer.on_checkpoint, trainer.should_stop = save, stop
            try:
                result = trainer.fit(checkpoint)
            except (RuntimeError, ValueError) as exc:  # a checkpoint of another model
                if checkpoint is None:
                    raise
                raise RunFolderError(
                    f"{run_dir / runs.CHECKPOINT}: does not fit the model "
                    f"({str(exc).strip().splitlines()[-1].strip()}); nothing was changed"
                ) from None
        if result.stopped_at is not None:
            raise TrainingInterrupted(
                f"stopped after epoch {result.stopped_at}; the checkpoint is in {run_dir}; "
                f"go on with: {resume}",
                stop.exit_status,
            )
        return _finish(experiment, trainer.model, result, run_dir, plot)
    except OSError as exc:  # a full disk, a folder made read-only meanwhile
        where = exc.filename or run_dir
        raise RunFolderError(
            f"{where}: {exc.strerror or exc}; the run folder keeps its last checkpoint: "
            f"fix that, then {resume}"
        ) from None


def _finish(
    experiment: Experiment,
    model: nn.Module,
    result: FitResult,
    run_dir: Path | None,
    plot: bool,
) -> dict[str, Any]:
    config = experiment.config
    summary = run_summary(experiment, model, result, config.seed, run_dir)
    if run_dir is not None:
        _save_final(run_dir, experiment, model, result, summary, plot)
    if result.diverged_at is not None:
        raise TrainingDiverged(_divergence_message(experiment, result, run_dir), summary)
    return summary


def run_summary(
    experiment: Experiment,
    model: nn.Module,
    result: FitResult,
    seed: int,
    run_dir: Path | None = None,
) -> dict[str, Any]:
    """The record ``zoo train --json`` prints, one per trained seed."""
    config, final = experiment.config, result.final
    return {
        "model": config.model,
        "builds": config.builds,
        "dataset": config.dataset,
        "task": experiment.task.name,
        "epochs": result.epochs,
        "train_acc": final.train_acc,
        "test_acc": final.test_acc,
        "train_loss": final.train_loss,
        "test_loss": final.test_loss,
        "seconds": result.seconds,
        "device": str(experiment.device),
        "seed": seed,
        "params": parameter_count(model),
        "status": "completed" if result.diverged_at is None else "diverged",
        "run_dir": str(run_dir) if run_dir is not None else None,
    }


def _save_final(
    run_dir: Path,
    experiment: Experiment,
    model: nn.Module,
    result: FitResult,
    summary: dict[str, Any],
    plot: bool,
) -> None:
    split = experiment.split
    runs.save_weights(run_dir / runs.WEIGHTS, model.state_dict())
    runs.write_history(run_dir / runs.HISTORY, (row.to_dict() for row in result.history))
    if plot and split.features == 2:
        from zoo.plotting import save_boundaries

        task = experiment.task
        save_boundaries(
            run_dir / runs.BOUNDARY,
            [
                ("Train", model, task, split.X_train, split.y_train),
                ("Test", model, task, split.X_test, split.y_test),
            ],
        )
    runs.write_json(run_dir / runs.SUMMARY, summary)  # last: its presence marks a whole run


def _divergence_message(experiment: Experiment, result: FitResult, run_dir: Path | None) -> str:
    kept = f"; the weights of epoch {result.kept_epoch} were kept"
    if run_dir is not None:
        kept += f" in {run_dir}"
    return (
        f"training diverged: the loss was not finite at epoch {result.diverged_at} "
        f"with lr {experiment.config.lr:g}; try a smaller learning rate{kept}"
    )
