"""Going on with a run: after an interruption, or further than it was trained.

``resume_run`` restores the last checkpoint (weights, optimizer, random generators, history)
and trains to the run's epochs, or to ``epochs`` in all when given: a finished run trained to
1000 epochs and extended to 2000 has the weights of a run trained to 2000 directly, bit for
bit on the CPU. The run's data must be the data it was trained on.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import replace
from pathlib import Path

from zoo.config.resolve import TrainConfig
from zoo.errors import ConfigError, RunFolderError
from zoo.plugins.loaded import Plugins
from zoo.runs import folder
from zoo.runs.data_record import check_split, checked_params
from zoo.runs.files import remove_leftovers
from zoo.runs.inference import model_of_run
from zoo.runs.lock import hold
from zoo.runs.run import Run
from zoo.runs.training_run import Callbacks, check_resumable, run_record, train_in_folder
from zoo.settings import InvalidSetting, check_setting
from zoo.training.checkpoint import Checkpoint
from zoo.training.devices import resolve_device
from zoo.training.experiment import Experiment


def resume_run(
    run_dir: str | os.PathLike[str],
    plugins: Plugins,
    *,
    epochs: int | None = None,
    plot: bool = True,
    callbacks: Callbacks | None = None,
) -> Run:
    """Go on from the last checkpoint (or from the start if none), to ``epochs`` if given."""
    run_dir = folder.run_path(run_dir)
    with hold(run_dir):  # before anything is read: another writer may be mid-file
        return _resume_run(run_dir, plugins, epochs, plot, callbacks)


def _resume_run(
    run_dir: Path, plugins: Plugins, epochs: int | None, plot: bool, callbacks: Callbacks | None
) -> Run:
    """Everything is checked first; the folder changes only once all of it passed."""
    record = folder.read_record(run_dir)
    checkpoint = _checkpoint(run_dir, epochs)
    if epochs is not None:
        check_extendable(run_dir, record.config, checkpoint, epochs)
    check_writable(run_dir)
    config = replace(
        record.config, dataset_params=checked_params(run_dir, record.config, record.data)
    )
    config = config if epochs is None else replace(config, epochs=epochs)
    spec = model_of_run(run_dir, config, plugins)
    device = resolve_device(config.device)  # the run's scaling, as fitted when it started:
    experiment = Experiment.prepare(config, spec, plugins, device, scaling=record.feature_scaling)
    if experiment.kwargs != record.factory_kwargs:
        raise RunFolderError(
            f"{run_dir}: the model would now be built with {experiment.kwargs}, not the run's "
            f"{record.factory_kwargs}; its plugin or data changed, so it cannot be resumed"
        )
    check_split(run_dir, record.data, experiment.split, config.dataset)
    model = experiment.build(config.seed)
    if checkpoint is not None:
        check_resumable(experiment, model, checkpoint, run_dir)
    remove_leftovers(run_dir)  # half-written temporary files of a killed run
    if epochs is not None:  # the run now goes further: say so before any epoch is trained
        (run_dir / folder.SUMMARY).unlink(missing_ok=True)
        folder.write_json(run_dir / folder.CONFIG, run_record(experiment).to_json())
    return train_in_folder(experiment, model, run_dir, checkpoint, plot, callbacks)


def _checkpoint(run_dir: Path, epochs: int | None) -> Checkpoint | None:
    """The checkpoint to go on from; a finished run only goes on to more epochs."""
    finished = (run_dir / folder.SUMMARY).exists()
    if finished and epochs is None:
        raise RunFolderError(
            f"{run_dir}: this run has finished; to train it further: "
            f"zoo train --resume {run_dir} --epochs N"
        )
    if epochs is not None:
        try:
            check_setting("epochs", epochs)
        except InvalidSetting as exc:
            raise ConfigError(str(exc)) from None
    if finished and folder.read_summary(run_dir / folder.SUMMARY)["status"] == "diverged":
        raise RunFolderError(f"{run_dir}: this run diverged; train a new one instead")
    if not (run_dir / folder.CHECKPOINT).exists():  # killed before the first one: start over
        return None
    checkpoint = folder.load_checkpoint(run_dir / folder.CHECKPOINT)
    if epochs is not None and epochs <= checkpoint.epoch:
        raise ConfigError(
            f"--epochs {epochs}: the run has trained {checkpoint.epoch} epochs already; "
            f"give more than {checkpoint.epoch}"
        )
    return checkpoint


def check_extendable(
    run_dir: Path, config: TrainConfig, checkpoint: Checkpoint | None, epochs: int
) -> None:
    """Refuse to train further a run whose going on would not be the run trained that far:
    one that stopped early would stop at once, and a cosine schedule anneals over the
    epochs the run was started with."""
    early = checkpoint.early if checkpoint is not None else None
    if early is not None and early["stopped_at"] is not None:
        raise ConfigError(
            f"{run_dir}: stopped early at epoch {early['stopped_at']} (no better validation loss "
            f"for {config.early_stop} epochs), so training it further would stop at once; "
            "train a new run instead"
        )
    if config.lr_schedule == "cosine":
        raise ConfigError(
            f"{run_dir}: its cosine schedule anneals the learning rate to 0 over its "
            f"{config.epochs} epochs, so it would not become the run trained to {epochs}; "
            f"train a new run with --epochs {epochs} instead"
        )


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
