"""A training job with a run folder: start one, stop it cleanly, resume it exactly.

The run folder's config.json is written before the first epoch and a checkpoint at every
checkpoint interval (see :mod:`zoo.runs.folder`). Ctrl-C or SIGTERM stops at the end of the
epoch with a checkpoint; ``resume_run`` goes on from the last one. On the CPU a resumed run
ends with the weights and numbers of the run that was never interrupted, bit for bit.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from torch import nn

from zoo.errors import RunFolderError, TrainingDiverged, TrainingInterrupted
from zoo.plugins.loaded import Plugins
from zoo.runs import folder
from zoo.runs.files import remove_leftovers
from zoo.runs.inference import model_of_run
from zoo.runs.lock import hold
from zoo.training.checkpoint import Checkpoint
from zoo.training.devices import resolve_device
from zoo.training.experiment import Experiment
from zoo.training.interrupts import StopRequests
from zoo.training.loop import Progress
from zoo.training.records import FitResult, LogRow, RunSummary
from zoo.training.trainer import Trainer


@dataclass(frozen=True)
class Callbacks:
    """What a caller watches while a run trains: each log row, and the epochs done."""

    on_log: Callable[[LogRow], None] | None = None
    on_progress: Progress | None = None


def train_run(
    experiment: Experiment,
    run_dir: Path | None,
    *,
    plot: bool = True,
    callbacks: Callbacks = Callbacks(),
) -> RunSummary:
    """Train a fresh model; with a run folder, write it as training goes (its only writer)."""
    with hold(run_dir):
        return _train_run(experiment, run_dir, plot, callbacks)


def _train_run(
    experiment: Experiment, run_dir: Path | None, plot: bool, callbacks: Callbacks
) -> RunSummary:
    config = experiment.config
    model = experiment.build(config.seed)
    if run_dir is None:
        trainer = Trainer(model, experiment.data, config, **vars(callbacks))
        return _finish(experiment, model, trainer.fit(), None, plot)
    split = experiment.split
    record = folder.RunRecord(config, experiment.kwargs, split.classes, split.features)
    try:
        folder.write_json(run_dir / folder.CONFIG, record.to_json())
    except OSError as exc:
        raise RunFolderError(f"{exc.filename}: {exc.strerror}; nothing was trained") from None
    return _train_in_folder(experiment, model, run_dir, None, plot, callbacks)


def resume_run(
    run_dir: Path,
    plugins: Plugins,
    *,
    plot: bool = True,
    callbacks: Callbacks = Callbacks(),
) -> RunSummary:
    """Go on with an interrupted run from its last checkpoint (or from the start if none)."""
    with hold(run_dir):  # before anything is read: another writer may be mid-file
        return _resume_run(run_dir, plugins, plot, callbacks)


def _resume_run(run_dir: Path, plugins: Plugins, plot: bool, callbacks: Callbacks) -> RunSummary:
    record = folder.read_record(run_dir)
    if (run_dir / folder.SUMMARY).exists():
        raise RunFolderError(f"{run_dir}: this run has finished; there is nothing to resume")
    check_writable(run_dir)
    remove_leftovers(run_dir)  # half-written temporary files of a killed run
    config = record.config
    spec = model_of_run(run_dir, config, plugins)
    experiment = Experiment.prepare(config, spec, plugins, resolve_device(config.device))
    if experiment.kwargs != record.factory_kwargs:
        raise RunFolderError(
            f"{run_dir}: the model would now be built with {experiment.kwargs}, not the run's "
            f"{record.factory_kwargs}; its plugin or data changed, so it cannot be resumed"
        )
    checkpoint = None
    if (run_dir / folder.CHECKPOINT).exists():  # killed before the first one: start over
        checkpoint = folder.load_checkpoint(run_dir / folder.CHECKPOINT)
    model = experiment.build(config.seed)
    return _train_in_folder(experiment, model, run_dir, checkpoint, plot, callbacks)


def check_writable(directory: Path) -> None:
    """Refuse, before any work, a run folder that cannot take new files."""
    try:
        handle, probe = tempfile.mkstemp(dir=directory, prefix=".zoo-write-check-")
    except OSError as exc:
        raise RunFolderError(
            f"{directory}: cannot write here ({exc.strerror}); nothing was changed"
        ) from None
    os.close(handle)
    os.unlink(probe)


def _train_in_folder(
    experiment: Experiment,
    model: nn.Module,
    run_dir: Path,
    checkpoint: Checkpoint | None,
    plot: bool,
    callbacks: Callbacks,
) -> RunSummary:
    def save(latest: Checkpoint) -> None:
        folder.save_checkpoint(run_dir / folder.CHECKPOINT, latest)

    resume = f"zoo train --resume {run_dir}"
    try:
        with StopRequests() as stop:
            trainer = Trainer(
                model,
                experiment.data,
                experiment.config,
                on_checkpoint=save,
                should_stop=stop,
                **vars(callbacks),
            )
            result = _fit(trainer, checkpoint, run_dir)
        if result.stopped_at is not None:
            raise TrainingInterrupted(
                f"stopped after epoch {result.stopped_at}; the checkpoint is in {run_dir}; "
                f"go on with: {resume}",
                stop.exit_status,
            )
        return _finish(experiment, model, result, run_dir, plot)
    except OSError as exc:  # a full disk, a folder made read-only meanwhile
        where = exc.filename or run_dir
        kept = (
            "the run folder keeps its last checkpoint"
            if (run_dir / folder.CHECKPOINT).is_file()
            else "the run folder has no checkpoint yet, so a resume starts over"
        )
        raise RunFolderError(
            f"{where}: {exc.strerror or exc}; {kept}: fix that, then {resume}"
        ) from None


def _fit(trainer: Trainer, checkpoint: Checkpoint | None, run_dir: Path) -> FitResult:
    try:
        return trainer.fit(checkpoint)
    except (RuntimeError, ValueError) as exc:  # a checkpoint of another model
        if checkpoint is None:
            raise
        raise RunFolderError(
            f"{run_dir / folder.CHECKPOINT}: does not fit the model "
            f"({str(exc).strip().splitlines()[-1].strip()}); nothing was changed"
        ) from None


def _finish(
    experiment: Experiment,
    model: nn.Module,
    result: FitResult,
    run_dir: Path | None,
    plot: bool,
) -> RunSummary:
    config = experiment.config
    summary = experiment.summary(model, result, config.seed, str(run_dir) if run_dir else None)
    if run_dir is not None:
        _save_final(run_dir, experiment, model, result, summary, plot)
    if result.diverged_at is not None:
        message = _divergence_message(experiment, result, run_dir)
        raise TrainingDiverged(message, summary.to_dict())
    return summary


def _save_final(
    run_dir: Path,
    experiment: Experiment,
    model: nn.Module,
    result: FitResult,
    summary: RunSummary,
    plot: bool,
) -> None:
    split = experiment.split
    folder.save_weights(run_dir / folder.WEIGHTS, model.state_dict())
    folder.write_history(run_dir / folder.HISTORY, (row.to_dict() for row in result.history))
    if plot and split.features == 2:
        from zoo.runs.plotting import save_boundaries

        task = experiment.task
        save_boundaries(
            run_dir / folder.BOUNDARY,
            [
                ("Train", model, task, split.X_train, split.y_train),
                ("Test", model, task, split.X_test, split.y_test),
            ],
        )
    folder.write_json(run_dir / folder.SUMMARY, summary.to_dict())  # last: marks a whole run


def _divergence_message(experiment: Experiment, result: FitResult, run_dir: Path | None) -> str:
    kept = f"; the weights of epoch {result.kept_epoch} were kept"
    if run_dir is not None:
        kept += f" in {run_dir}"
    if result.history and not result.history[0].finite():  # broken before the first step
        return (
            "training diverged: the untrained model's loss is already not finite (epoch 0), "
            f"so no learning rate helps; check the model's output on this data{kept}"
        )
    return (
        f"training diverged: the loss was not finite at epoch {result.diverged_at} "
        f"with lr {experiment.config.lr:g}; try a smaller learning rate{kept}"
    )
