"""Runs you can keep working with: train further, score new data, predict from a pipe, draw
again, list them; and the command line's rough edges."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from conftest import assert_one_line_error

import zoo


def weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return torch.load(run_dir / "weights.pt", weights_only=True)


@pytest.mark.parametrize("settings", [{}, {"batch_size": 64, "optimizer": "adam", "lr": 0.01}])
def test_a_finished_run_trained_further_equals_one_trained_that_far_bit_for_bit(tmp_path, settings):
    zoo.train("circle-v2", epochs=150, out=tmp_path / "short", plot=False, **settings)
    extended = zoo.resume(tmp_path / "short", epochs=300, plot=False)
    zoo.train("circle-v2", epochs=300, out=tmp_path / "long", plot=False, **settings)
    short, long = weights(tmp_path / "short"), weights(tmp_path / "long")
    assert all(torch.equal(short[name], long[name]) for name in long)
    assert extended.summary["epochs"] == 300 and extended.config.epochs == 300
    assert zoo.load_run_config(tmp_path / "short").epochs == 300


def test_resume_with_epochs_on_the_command_line(zoo_cli, tmp_path):
    zoo.train("circle-v2", epochs=50, out=tmp_path / "run", plot=False)
    result = zoo_cli("train", "--resume", str(tmp_path / "run"), "--epochs", "80", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["epochs"] == 80
    assert_one_line_error(
        zoo_cli("train", "--resume", str(tmp_path / "run"), "--epochs", "60"),
        "--epochs 60: the run has trained 80 epochs already; give more than 80",
    )
    assert_one_line_error(
        zoo_cli("train", "--resume", str(tmp_path / "run")),
        "this run has finished; to train it further: zoo train --resume",
    )


def test_eval_scores_new_labelled_data(zoo_cli, tmp_path):
    zoo.train("circle-v2", epochs=300, out=tmp_path / "run", plot=False)
    split = zoo.load(tmp_path / "run").load_split()
    lines = ["x1,x2,ring"] + [f"{a},{b},{c}" for (a, b), c in zip(split.X_test, split.y_test)]
    (tmp_path / "new.csv").write_text("\n".join(lines) + "\n")
    result = zoo_cli("eval", str(tmp_path / "run"), "--data", "new.csv", "--json")
    assert result.returncode == 0, result.stderr
    scored = json.loads(result.stdout)
    assert scored["rows"] == 200 and scored["acc"] == zoo.evaluate(tmp_path / "run")["test_acc"]
    (tmp_path / "odd.csv").write_text("x1,x2,ring\n0.1,0.2,0\n0.3,0.4,7\n")
    assert_one_line_error(
        zoo_cli("eval", str(tmp_path / "run"), "--data", "odd.csv"),
        "odd.csv:3: label 7 is not one of the run's classes (0, 1)",
    )


def test_predict_reads_a_pipe_and_gives_every_class_probability(zoo_cli, tmp_path):
    zoo.train("blob-v0", out=tmp_path / "run", plot=False)
    rows = "x1,x2,cluster\n-8.0,7.0,0\n5.0,2.0,1\n"
    result = subprocess.run(
        [sys.executable, "-m", "zoo", "predict", str(tmp_path / "run"), "--input", "-",
         "--target", "cluster", "--json"],
        input=rows, capture_output=True, text=True, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    records = json.loads(result.stdout)
    assert [sorted(r) for r in records] == [["label", "p_0", "p_1", "p_2", "p_3"]] * 2
    for record in records:
        assert record[f"p_{record['label']}"] == max(v for k, v in record.items() if k != "label")
    empty = subprocess.run(
        [sys.executable, "-m", "zoo", "predict", str(tmp_path / "run"), "--input", "-"],
        input="", capture_output=True, text=True, cwd=tmp_path,
    )  # fmt: skip
    assert empty.returncode == 1 and empty.stderr.strip() == (
        "zoo: error: -: no rows; expected lines of 2 numbers"
    )


def test_each_run_folder_has_curves_and_zoo_plot_draws_both_again(zoo_cli, tmp_path):
    zoo.train("circle-v2", epochs=100, out=tmp_path / "run")
    pictures = [tmp_path / "run" / name for name in ("boundary.png", "curves.png")]
    assert all(p.stat().st_size > 0 for p in pictures)
    for picture in pictures:
        picture.unlink()
    result = zoo_cli("plot", str(tmp_path / "run"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(p) for p in pictures]
    assert all(p.stat().st_size > 0 for p in pictures)


def test_zoo_runs_lists_the_run_folders(zoo_cli, tmp_path):
    done = zoo_cli("train", "circle-v0", "--epochs", "5", "--no-plot")
    assert done.returncode == 0, done.stderr
    stopped = zoo.train("circle-v2", epochs=5, runs_root=tmp_path / "runs", plot=False)
    (Path(stopped.summary["run_dir"]) / "summary.json").unlink()
    listing = json.loads(zoo_cli("runs", "--json").stdout)
    assert {(r["model"], r["status"], r["epochs"]) for r in listing} == {
        ("circle-v0", "completed", 5),
        ("circle-v2", "stopped", 5),
    }
    text = zoo_cli("runs").stdout.splitlines()
    assert text[0].split() == [
        "RUN",
        "MODEL",
        "DATASET",
        "STATUS",
        "EPOCHS",
        "TEST",
        "ACC",
        "STARTED",
    ]
    assert_one_line_error(zoo_cli("runs", "elsewhere"), "no run folders under elsewhere")


def test_a_closed_stdout_does_not_stop_training(tmp_path):
    pipeline = subprocess.run(
        f"{sys.executable} -m zoo train circle-v2 --epochs 300 --log-every 1 --out run | head -3",
        shell=True, capture_output=True, text=True, cwd=tmp_path,
    )  # fmt: skip
    assert len(pipeline.stdout.splitlines()) == 3
    assert pipeline.stderr == ""
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["epochs"] == 300
    listing = subprocess.run(
        f"set -o pipefail; {sys.executable} -m zoo list | head -1",
        shell=True, capture_output=True, text=True, cwd=tmp_path, executable="/bin/bash",
    )  # fmt: skip
    assert listing.returncode == 0 and listing.stderr == ""


def test_ctrl_c_while_zoo_starts_says_nothing_was_trained_or_written(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "zoo", "train", "circle-v2"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    maps = Path(f"/proc/{process.pid}/maps")
    deadline = time.monotonic() + 60
    while "libtorch" not in maps.read_text() and time.monotonic() < deadline:
        time.sleep(0.01)  # wait until zoo is loading torch: its start-up, before any training
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert stderr.strip() == (
        "zoo: error: interrupted before training started; nothing was written"
    )
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").rglob("*.*"))


def test_plugins_lists_models_and_datasets_apart(zoo_cli):
    lines = zoo_cli("plugins").stdout.splitlines()
    assert lines[0].split() == ["PLUGIN", "FROM", "MODELS", "DATASETS"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert rows["sklearn_datasets"].split()[-4:] == ["-", "circles,", "moons,", "blobs"]
    assert "circle-v2" in rows["circle_models"] and rows["circle_models"].rstrip().endswith("-")


def test_shell_completion_offers_model_names(tmp_path):
    env = {**os.environ, "_ZOO_COMPLETE": "bash_complete", "COMP_WORDS": "zoo train circle-v",
           "COMP_CWORD": "2"}  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "zoo"], env=env, capture_output=True, text=True, cwd=tmp_path
    )
    offered = [line.split(",", 1)[1] for line in result.stdout.splitlines()]
    assert {"circle-v0", "circle-v1", "circle-v2", "circle-v2-wide"} <= set(offered)


def test_info_loads_only_what_it_shows():
    # zoo info builds the model (torch) for the data's shape (the dataset's loader), but
    # no optimizer: building one imported torch._dynamo, two of its three seconds.
    script = (
        "import sys, zoo\n"
        "zoo.describe('circle-v2')\n"
        "print(sorted(m for m in ('torch._dynamo', 'matplotlib') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_pictures_are_titled_with_model_dataset_and_accuracy():
    run = zoo.train("circle-v2", epochs=100)
    title = run.plot()._suptitle.get_text()
    assert title == f"circle-v2 on circles: {run.summary['test_acc']:.1f}% test"
