"""A validation split and what it enables: early stopping, learning-rate schedules, every
epoch's training numbers, and checkpoints whose cost does not grow with the run.

The validation rows come out of the training rows (``--val-size``, chosen by ``split_seed``);
without them nothing changes. Each feature resumes bit for bit from a run stopped midway.
"""

from __future__ import annotations

import csv
import math
import os
import signal
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import assert_one_line_error

import zoo
from zoo.errors import ConfigError, TrainingInterrupted
from zoo.training.experiment import prepare


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as file:
        return list(csv.DictReader(file))


def weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return torch.load(run_dir / "weights.pt", weights_only=True)


def same_weights(a: Path, b: Path) -> bool:
    first, second = weights(a), weights(b)
    return first.keys() == second.keys() and all(torch.equal(first[k], second[k]) for k in first)


def as_set(X: np.ndarray) -> set[tuple[float, ...]]:
    return {tuple(row) for row in X.tolist()}


# -- the validation split ----------------------------------------------------------------------


def test_validation_rows_come_out_of_the_training_rows_chosen_by_the_split_seed():
    plain = prepare("circle-v2").split
    held = prepare("circle-v2", overrides={"val_size": 0.25}).split
    other = prepare("circle-v2", overrides={"val_size": 0.25, "split_seed": 7}).split
    assert np.array_equal(held.X_test, plain.X_test)  # the test rows are the lesson's
    assert (len(held.X_train), len(held.X_val)) == (600, 200)
    assert as_set(held.X_train) | as_set(held.X_val) == as_set(plain.X_train)
    assert not as_set(held.X_train) & as_set(held.X_val)
    assert as_set(other.X_val) != as_set(held.X_val)  # another split seed, other rows


def test_the_scaling_is_fitted_on_the_rows_trained_on_never_the_validation_rows():
    experiment = prepare("circle-v2", overrides={"val_size": 0.3, "scale": "standard"})
    trained_on = experiment.split.X_train.astype(np.float64)
    assert np.allclose(experiment.scaling.offset, trained_on.mean(axis=0), atol=1e-6)
    everything = np.concatenate([trained_on, experiment.split.X_val])
    assert not np.allclose(experiment.scaling.offset, everything.mean(axis=0), atol=1e-6)


def test_without_a_validation_split_the_files_and_numbers_are_as_before(tmp_path):
    run = zoo.train("circle-v2", epochs=20, out=tmp_path / "run", plot=False)
    assert (
        run.summary["val_acc"] is None
        and run.summary["val_loss"] is None
        and run.summary["best_epoch"] is None
    )
    assert list(rows(tmp_path / "run" / "history.csv")[0]) == [
        "epoch",
        "train_loss",
        "train_acc",
        "test_loss",
        "test_acc",
    ]
    assert list(rows(tmp_path / "run" / "epochs.csv")[0]) == ["epoch", "step_loss", "step_acc"]


def test_the_log_lines_history_and_summary_carry_the_validation_numbers(zoo_here):
    result = zoo_here("train", "circle-v2", "--epochs", "20", "--val-size", "0.2", "--out", "r")
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("Epoch:")]
    assert all(" | Val loss: " in line and ", Val acc: " in line for line in lines)
    assert lines[0].index("Val loss") < lines[0].index("Test loss")
    history = rows(Path("r") / "history.csv")
    assert {"val_loss", "val_acc"} <= set(history[0])
    run = zoo.load("r")
    assert run.summary["val_acc"] == float(history[-1]["val_acc"])
    assert run.history[-1].val_loss == run.summary["val_loss"]
    assert ", val " in result.stdout.splitlines()[-2]  # Done in ...: train ..., val ..., test


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--val-size", "0.999"], "800 training rows: val_size 0.999 would leave none to train on"),
        (["--val-size", "1"], "--val-size"),
        (["--early-stop", "5"], "early stopping watches the validation loss, and there is no"),
        (["--lr-schedule", "plateau"], "the plateau schedule watches the validation loss"),
        (["--lr-gamma", "0.5"], "lr_gamma is for --lr-schedule step or plateau"),
        (["--lr-schedule", "cosine", "--lr-step-size", "5"], "lr_step_size is for --lr-schedule"),
        (["--lr-schedule", "cosin"], "unknown schedule 'cosin' (did you mean 'cosine'?)"),
    ],
    ids=["no-rows-left", "all", "early-stop", "plateau", "gamma", "step-size", "typo"],
)
def test_a_validation_setting_that_cannot_work_is_one_line(zoo_here, args, message):
    result = zoo_here("train", "circle-v2", "--epochs", "3", "--no-plot", *args)
    assert_one_line_error(result, message)
    assert not Path("runs").exists()  # nothing was written


def test_the_api_refuses_the_same_in_its_own_words():
    with pytest.raises(ConfigError, match=r"add --val-size F \(val_size=F in Python\)"):
        zoo.train("circle-v2", epochs=3, early_stop=5)


# -- early stopping --------------------------------------------------------------------------


def test_early_stopping_keeps_the_weights_of_the_best_validation_loss(tmp_path):
    run_dir = tmp_path / "run"
    run = zoo.train("circle-v2", epochs=200, val_size=0.2, early_stop=10, out=run_dir, plot=False)
    assert (
        run.summary["stopped_early"]
        and run.summary["epochs"] == run.summary["best_epoch"] + 10 < 200
    )
    epochs = rows(run_dir / "epochs.csv")
    assert len(epochs) == run.summary["epochs"]  # validated every epoch until it stopped
    losses = [float(r["val_loss"]) for r in epochs]
    untrained = float(rows(run_dir / "history.csv")[0]["val_loss"])
    best = min([untrained, *losses])
    assert run.summary["val_loss"] == best  # the summary's numbers are the kept weights'
    assert run.summary["best_epoch"] == ([untrained, *losses].index(best))
    # What was kept is what zoo.load gives back: its validation loss, measured again.
    again = zoo.load(run_dir)
    split = again.load_split()
    with torch.inference_mode():
        logits = again.task.logits(again.scaled_model(torch.from_numpy(split.X_val)))
        loss = again.task.loss_function()(logits, again.task.targets(torch.from_numpy(split.y_val)))
    assert loss.item() == run.summary["val_loss"]


def test_without_early_stopping_validation_runs_only_at_log_points(tmp_path):
    zoo.train("circle-v2", epochs=20, val_size=0.2, out=tmp_path / "plain", plot=False)
    zoo.train("circle-v2", epochs=20, val_size=0.2, early_stop=50, out=tmp_path / "es", plot=False)
    assert "val_loss" not in rows(tmp_path / "plain" / "epochs.csv")[0]
    assert "val_loss" in rows(tmp_path / "es" / "epochs.csv")[0]
    # Patience never ran out: all epochs trained, and still the best weights are kept.
    summary = zoo.load(tmp_path / "es").summary
    assert summary["epochs"] == 20 and not summary["stopped_early"]
    assert summary["best_epoch"] is not None


def test_the_command_line_says_where_it_stopped_and_which_weights_it_kept(zoo_here):
    args = ["--val-size", "0.2", "--early-stop", "10", "--no-plot", "--out", "r"]
    result = zoo_here("train", "circle-v2", "--epochs", "200", *args)
    assert result.returncode == 0, result.stderr
    summary = zoo.load("r").summary
    expected = (
        f"Stopped early after epoch {summary['epochs']}: the validation loss was best at "
        f"epoch {summary['best_epoch']}; its weights were kept"
    )
    assert expected in result.stdout.splitlines()


# -- learning-rate schedules -----------------------------------------------------------------


def final_lr(run_dir: Path) -> float:
    checkpoint = torch.load(run_dir / "checkpoint.pt", weights_only=True)
    return checkpoint["optimizer"]["param_groups"][0]["lr"]


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({}, 0.1),
        ({"lr_schedule": "step", "lr_step_size": 10, "lr_gamma": 0.5}, 0.1 * 0.5**3),
        ({"lr_schedule": "cosine"}, 0.0),  # annealed to 0 at the last epoch
    ],
    ids=["none", "step", "cosine"],
)
def test_a_schedule_sets_the_learning_rate_of_each_epoch(tmp_path, settings, expected):
    zoo.train("circle-v2", epochs=30, out=tmp_path / "run", plot=False, **settings)
    assert final_lr(tmp_path / "run") == pytest.approx(expected, abs=1e-12)


def test_the_plateau_schedule_cuts_the_rate_when_the_validation_loss_stalls(tmp_path):
    # circle-v2's loss barely moves for its first epochs: a plateau.
    settings = {"lr_schedule": "plateau", "val_size": 0.2, "lr_patience": 2, "lr_gamma": 0.5}
    zoo.train("circle-v2", epochs=30, out=tmp_path / "run", plot=False, **settings)
    lr = final_lr(tmp_path / "run")
    assert lr < 0.1 and math.log2(0.1 / lr) == pytest.approx(round(math.log2(0.1 / lr)))


# -- stopped and resumed: bit for bit --------------------------------------------------------

INTERRUPTED = {
    "cosine": ({"lr_schedule": "cosine"}, 20),
    "step": ({"lr_schedule": "step", "lr_step_size": 7, "lr_gamma": 0.5}, 20),
    "plateau": ({"lr_schedule": "plateau", "val_size": 0.2, "lr_patience": 2}, 20),
    "early-stop": ({"val_size": 0.2, "early_stop": 10, "log_every": 2}, 6),  # stops at 14
    "early-stop-mini-batch": ({"val_size": 0.2, "early_stop": 3, "batch_size": 64}, 5),
}


@pytest.mark.parametrize(("settings", "press_at"), INTERRUPTED.values(), ids=list(INTERRUPTED))
def test_a_run_stopped_and_resumed_equals_an_uninterrupted_one_bit_for_bit(
    tmp_path, settings, press_at
):
    common = {"epochs": 60, "plot": False, "log_every": 5, **settings}
    reference = zoo.train("circle-v2", out=tmp_path / "reference", **common)

    def press_ctrl_c(row) -> None:  # a real SIGINT to this process, at one log point
        if row.epoch == press_at:
            os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(TrainingInterrupted):
        zoo.train("circle-v2", out=tmp_path / "run", on_log=press_ctrl_c, **common)
    resumed = zoo.resume(tmp_path / "run", plot=False)
    assert same_weights(tmp_path / "run", tmp_path / "reference")
    for name in ("history.csv", "epochs.csv"):
        assert (tmp_path / "run" / name).read_bytes() == (
            tmp_path / "reference" / name
        ).read_bytes()
    assert {k: v for k, v in resumed.summary.items() if k != "seconds"} == {
        k: v for k, v in reference.summary.items() if k not in ("seconds", "run_dir")
    } | {"run_dir": str(tmp_path / "run")}


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"val_size": 0.2, "early_stop": 3}, "stopped early at epoch"),
        ({"lr_schedule": "cosine"}, "its cosine schedule anneals the learning rate to 0 over its"),
    ],
    ids=["stopped-early", "cosine"],
)
def test_a_run_that_would_not_become_the_longer_run_is_not_trained_further(
    zoo_here, tmp_path, settings, message
):
    zoo.train("circle-v2", epochs=40, out=tmp_path / "run", plot=False, **settings)
    before = {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir()}
    result = zoo_here("train", "--resume", str(tmp_path / "run"), "--epochs", "80")
    assert_one_line_error(result, message)
    assert {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir()} == before


# -- every epoch's training numbers ----------------------------------------------------------


def test_every_epoch_has_its_training_steps_loss_and_accuracy(tmp_path):
    run_dir = tmp_path / "run"
    run = zoo.train("circle-v2", epochs=100, out=run_dir, plot=False)
    epochs = rows(run_dir / "epochs.csv")
    assert [int(r["epoch"]) for r in epochs] == list(range(1, 101))
    assert run.steps[-1].step_loss == float(epochs[-1]["step_loss"])
    # circle-v2 has no dropout or batch norm, so the forward pass of epoch e+1's step sees
    # what the evaluation after epoch e saw: the same loss and accuracy, to the bit.
    for logged in run.history[:-1]:
        step = run.steps[logged.epoch]  # the step of epoch logged.epoch + 1
        assert (step.step_loss, step.step_acc) == (logged.train_loss, logged.train_acc)


def test_the_curves_have_a_point_per_epoch(tmp_path):
    run = zoo.train("circle-v2", epochs=200, val_size=0.2, early_stop=500, out=tmp_path / "r")
    figure = run.plot()
    loss_axis = figure.axes[-2]
    by_label = {line.get_label(): line for line in loss_axis.get_lines()}
    assert len(by_label["Train loss"].get_xdata()) == 200
    assert len(by_label["Validation loss"].get_xdata()) == 200  # validated every epoch
    assert len(by_label["Test loss"].get_xdata()) == 11  # the log points
    assert f"Kept (epoch {run.summary['best_epoch']})" in by_label
    assert (tmp_path / "r" / "curves.png").stat().st_size > 0


# -- checkpoints that cost the same at every epoch -------------------------------------------


def test_a_checkpoint_holds_no_rows_so_its_size_does_not_grow(tmp_path):
    sizes = {}
    for epochs in (10, 120):
        run_dir = tmp_path / str(epochs)
        zoo.train("circle-v2", epochs=epochs, log_every=1, out=run_dir, plot=False)
        checkpoint = torch.load(run_dir / "checkpoint.pt", weights_only=True)
        assert "history" not in checkpoint
        assert checkpoint["history_rows"] == epochs + 1 and checkpoint["step_rows"] == epochs
        sizes[epochs] = (run_dir / "checkpoint.pt").stat().st_size
    assert abs(sizes[120] - sizes[10]) < 64  # a few digits more, nothing that grows


def test_a_checkpoint_from_before_the_appended_logs_still_resumes(tmp_path):
    zoo.train("circle-v2", epochs=60, out=tmp_path / "reference", plot=False)
    run_dir = tmp_path / "old"
    zoo.train("circle-v2", epochs=30, out=run_dir, plot=False)
    # As zoo wrote it before: the history inside checkpoint.pt, no epochs.csv.
    checkpoint = torch.load(run_dir / "checkpoint.pt", weights_only=True)
    for key in ("history_rows", "step_rows", "scheduler", "early"):
        del checkpoint[key]
    history = rows(run_dir / "history.csv")
    checkpoint["history"] = [
        {k: int(v) if k == "epoch" else float(v) for k, v in row.items()} for row in history
    ]
    torch.save(checkpoint, run_dir / "checkpoint.pt")
    (run_dir / "epochs.csv").unlink()
    resumed = zoo.resume(run_dir, epochs=60, plot=False)
    assert same_weights(run_dir, tmp_path / "reference")
    assert [row.epoch for row in resumed.steps] == list(range(31, 61))  # from the resume on
