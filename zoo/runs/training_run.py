"""A training job with a run folder: start one, stop it cleanly, and finish it.

The run folder's config.json is written before the first epoch and a checkpoint at every
checkpoint interval (see :mod:`zoo.runs.folder`). Ctrl-C or SIGTERM stops at the end of the
epoch with a checkpoint; :mod:`zoo.runs.resume` goes on from the last one. On the CPU a
resumed run ends with the weights and numbers of the run that was never interrupted, bit for
bit.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from zoo.errors import (
    LearnedNothingWarning,
    RunFolderError,
    TrainingDiverged,
    TrainingInterrupted,
)
from zoo.plugins.events import Events
from zoo.runs import folder
from zoo.runs.card_files import write_run_card
from zoo.runs.data_record import data_record
from zoo.runs.lock import hold
from zoo.runs.logs import RunLogs
from zoo.runs.run import Run
from zoo.runs.run_events import RunEvents, run_info
from zoo.runs.run_events import open_events as open_events  # for the API: one import
from zoo.training.checkpoint import Checkpoint
from zoo.training.diagnosis import divergence_message
from zoo.training.experiment import Experiment
from zoo.training.interrupts import StopRequests
from zoo.training.records import FitResult, LogRow, Progress
from zoo.training.trainer import Trainer


@dataclass(frozen=True)
class Callbacks:
    """What a caller watches while a run trains: each log row, the epochs done, and the
    command's event hooks (None: zoo's own and the installed plugins', no logger)."""

    on_log: Callable[[LogRow], None] | None = None
    on_progress: Progress | None = None
    events: Events | None = None

    def run_events(self, experiment: Experiment, run_dir: Path | None, start: int) -> RunEvents:
        return RunEvents(self.events, run_info(experiment.config, run_dir, start_epoch=start))

    def for_trainer(self, events: RunEvents) -> dict[str, Any]:
        return {"on_log": events.watch(self.on_log), "on_progress": self.on_progress}


def train_new(
    experiment: Experiment,
    out: str | os.PathLike[str] | None,
    runs_root: str | os.PathLike[str] | None,
    *,
    plot: bool = True,
    callbacks: Callbacks | None = None,
) -> Run:
    """A new run, into ``out`` (new or empty), a new ``runs_root/<model>/<timestamp>``, or
    no folder; a run that fails before writing anything leaves no empty folder behind."""
    run_dir = None
    if out is not None:
        run_dir = folder.claim_run_dir(out)
    elif runs_root is not None:
        run_dir = folder.new_run_dir(runs_root, experiment.config.model)
    try:
        return train_run(experiment, run_dir, plot=plot, callbacks=callbacks)
    except BaseException:
        if run_dir is not None and not any(run_dir.iterdir()):
            run_dir.rmdir()
        raise


def train_run(
    experiment: Experiment,
    run_dir: Path | None,
    *,
    plot: bool = True,
    callbacks: Callbacks | None = None,
) -> Run:
    """Train a fresh model; with a run folder, write it as training goes (its only writer)."""
    with hold(run_dir):
        return _train_run(experiment, run_dir, plot, callbacks or Callbacks())


def _train_run(
    experiment: Experiment, run_dir: Path | None, plot: bool, callbacks: Callbacks
) -> Run:
    config = experiment.config
    model = experiment.build(config.seed)
    if run_dir is None:
        with callbacks.run_events(experiment, None, 0).running() as events:
            trainer = Trainer(model, experiment.data, config, **callbacks.for_trainer(events))
            return finish(experiment, model, trainer.fit(), None, plot, events)
    try:
        folder.write_json(run_dir / folder.CONFIG, run_record(experiment).to_json())
    except OSError as exc:
        raise RunFolderError(f"{exc.filename}: {exc.strerror}; nothing was trained") from None
    return train_in_folder(experiment, model, run_dir, None, plot, callbacks)


def run_record(experiment: Experiment) -> folder.RunRecord:
    """What config.json keeps: the settings, the factory's arguments, the classes, the data."""
    config, split = experiment.config, experiment.split
    data = data_record(split, config.dataset_params)
    return folder.RunRecord(
        config, experiment.kwargs, split.classes, split.features, data, experiment.scaling
    )


def train_in_folder(
    experiment: Experiment,
    model: nn.Module,
    run_dir: Path,
    checkpoint: Checkpoint | None,
    plot: bool,
    callbacks: Callbacks | None = None,
) -> Run:
    """Train (from ``checkpoint``, if any) with checkpoints in ``run_dir``, then finish it."""
    callbacks = callbacks or Callbacks()
    logs = RunLogs(run_dir, resumed=checkpoint is not None)  # appended at each checkpoint
    resume = f"zoo train --resume {run_dir}"
    start = checkpoint.epoch if checkpoint is not None else 0
    try:
        with callbacks.run_events(experiment, run_dir, start).running() as events:
            with StopRequests() as stop:
                trainer = Trainer(
                    model,
                    experiment.data,
                    experiment.config,
                    on_checkpoint=logs.save,
                    should_stop=stop,
                    **callbacks.for_trainer(events),
                )
                result = _fit(trainer, checkpoint, run_dir)
            if result.stopped_at is not None:
                raise TrainingInterrupted(
                    f"stopped after epoch {result.stopped_at}; the checkpoint is in {run_dir}; "
                    f"go on with: {resume}",
                    stop.exit_status,
                )
            return finish(experiment, model, result, run_dir, plot, events)
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
        raise unfit_checkpoint(run_dir, exc) from None


def check_resumable(
    experiment: Experiment, model: nn.Module, checkpoint: Checkpoint, run_dir: Path
) -> None:
    """Refuse, before anything in the folder changes, a checkpoint the model cannot go on
    from: its weights, its optimizer's state, its generators, tried on a copy."""
    try:
        Trainer(model, experiment.data, experiment.config).check_resume(checkpoint)
    except (RuntimeError, ValueError) as exc:
        raise unfit_checkpoint(run_dir, exc) from None


def unfit_checkpoint(run_dir: Path, exc: Exception) -> RunFolderError:
    return RunFolderError(
        f"{run_dir / folder.CHECKPOINT}: does not fit the model "
        f"({str(exc).strip().splitlines()[-1].strip()}); nothing was changed"
    )


def finish(
    experiment: Experiment,
    model: nn.Module,
    result: FitResult,
    run_dir: Path | None,
    plot: bool,
    events: RunEvents,
) -> Run:
    """The trained run: its files written last of all (the summary very last); a diverged
    run is saved, then raised as :class:`TrainingDiverged`. The hooks hear of the divergence
    first, then of the end (see :mod:`zoo.runs.run_events`)."""
    config, split = experiment.config, experiment.split
    summary = experiment.summary(model, result, config.seed, str(run_dir) if run_dir else None)
    model.eval()
    run = Run(
        model,
        summary.to_dict(),
        list(result.history),
        run_dir,
        config,
        split.classes,
        split.features,
        experiment.task,
        experiment.device,
        lambda: split,
        experiment.scaling,
        list(result.steps),
    )
    diverged = result.diverged_at is not None
    message = _divergence_message(experiment, result, run_dir) if diverged else ""
    if diverged:
        events.stopped("diverged", message)
    if run_dir is not None:
        _save_final(run, plot, events)
    else:
        events.end(run.summary, run.history)
    if diverged:
        raise TrainingDiverged(message, run.summary)
    return run


def warn_learned_nothing(run: Run) -> Run:
    """``run``, after a :class:`LearnedNothingWarning` if it learned nothing; the warning
    points at the line that called ``zoo.train`` (or ``zoo.resume``)."""
    if run.summary.get("warning"):
        warnings.warn(run.summary["warning"], LearnedNothingWarning, stacklevel=3)
    return run


def _save_final(run: Run, plot: bool, events: RunEvents) -> None:
    assert run.run_dir is not None
    run_dir = run.run_dir
    folder.save_weights(run_dir / folder.WEIGHTS, run.model.state_dict())
    write_run_card(run)  # README.md: what the model is and is good for
    if run.steps:  # whole: a diverged run has rows after its last checkpoint
        folder.write_history(run_dir / folder.EPOCHS, (row.to_dict() for row in run.steps))
    if plot:
        save_pictures(run)
    events.end(run.summary, run.history)  # history.csv first (zoo's own hook), then loggers'
    folder.write_json(run_dir / folder.SUMMARY, run.summary)  # last: marks a whole run


def save_pictures(run: Run) -> list[Path]:
    """boundary.png (two-feature data) and curves.png into the run folder; where they went."""
    from zoo.runs.figures import boundaries_figure, curves_figure, save_figure

    assert run.run_dir is not None
    written = []
    if run.features == 2 and run.load_split is not None:
        split, accuracy = run.load_split(), run.summary.get("test_acc", 0.0)
        model = run.scaled_model  # the points as they are, the model behind their scaling
        panels = [
            ("Train", model, run.task, split.X_train, split.y_train),
            (f"Test ({accuracy:.1f}%)", model, run.task, split.X_test, split.y_test),
        ]
        figure = boundaries_figure(panels)
        figure.suptitle(run.title())
        figure.tight_layout()
        save_figure(run.run_dir / folder.BOUNDARY, figure)
        written.append(run.run_dir / folder.BOUNDARY)
    figure = curves_figure(run.history, run.title(), run.steps, run.summary.get("best_epoch"))
    save_figure(run.run_dir / folder.CURVES, figure)
    return [*written, run.run_dir / folder.CURVES]


def _divergence_message(experiment: Experiment, result: FitResult, run_dir: Path | None) -> str:
    kept = f"; the weights of epoch {result.kept_epoch} were kept"
    if run_dir is not None:
        kept += f" in {run_dir}"
    if result.history and not result.history[0].finite():  # broken before the first step
        return (
            "training diverged: the untrained model's loss is already not finite (epoch 0), "
            f"so no learning rate helps; check the model's output on this data{kept}"
        )
    assert result.diverged_at is not None
    message = divergence_message(result.diverged_at, experiment.config.lr, experiment.scale_note())
    return message + kept
