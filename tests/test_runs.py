"""Run folders: what `zoo train` writes, and `zoo eval` / `zoo predict` reading it back safely."""

from __future__ import annotations

import csv
import json
import pickle
from pathlib import Path

import pytest
import torch
from conftest import assert_one_line_error

import zoo
from zoo.errors import RunFolderError


@pytest.fixture(scope="module")
def circle_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One trained circle-v2 run folder, shared by the read-only tests below."""
    run_dir = tmp_path_factory.mktemp("runs") / "circle-v2"
    zoo.train("circle-v2", epochs=300, out=run_dir)
    return run_dir


def test_train_writes_weights_checkpoint_config_history_summary_and_picture(zoo_cli, tmp_path):
    result = zoo_cli("train", "blob-v0", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    run_dir = tmp_path / summary["run_dir"]
    assert run_dir.parent == tmp_path / "runs" / "blob-v0"
    assert sorted(p.name for p in run_dir.iterdir()) == [
        "README.md",  # the model card
        "boundary.png",
        "checkpoint.pt",
        "config.json",
        "curves.png",  # loss and accuracy per log point (issue #9)
        "epochs.csv",  # each epoch's step loss and accuracy (issue #16)
        "history.csv",
        "summary.json",
        "weights.pt",
    ]
    assert json.loads((run_dir / "summary.json").read_text()) == summary
    config = json.loads((run_dir / "config.json").read_text())
    assert config["builds"] == "blob_models:blob-v0"
    assert config["settings"]["epochs"] == 100 and config["classes"] == [0, 1, 2, 3]
    history = list(csv.DictReader((run_dir / "history.csv").open()))
    assert [int(row["epoch"]) for row in history] == list(range(0, 101, 10))
    assert float(history[-1]["test_acc"]) == summary["test_acc"]
    assert (run_dir / "boundary.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (run_dir / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    state = torch.load(run_dir / "weights.pt", weights_only=True)
    assert set(state) == {
        f"linear_layer_stack.{i}.{p}" for i in range(3) for p in ("weight", "bias")
    }


def test_two_runs_started_together_get_separate_folders(tmp_path):
    first = zoo.train("circle-v0", epochs=2, runs_root=tmp_path, plot=False)
    second = zoo.train("circle-v0", epochs=2, runs_root=tmp_path, plot=False)
    assert first.summary["run_dir"] != second.summary["run_dir"]
    assert Path(first.summary["run_dir"]).parent == Path(second.summary["run_dir"]).parent


def test_out_refuses_a_folder_that_holds_something(zoo_cli, tmp_path):
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "notes.txt").write_text("keep me")
    assert_one_line_error(
        zoo_cli("train", "circle-v0", "--out", str(occupied)), "already exists and is not empty"
    )
    assert [p.name for p in occupied.iterdir()] == ["notes.txt"]


def test_eval_reproduces_the_training_summary(zoo_cli, circle_run):
    summary = json.loads((circle_run / "summary.json").read_text())
    result = zoo_cli("eval", str(circle_run), "--json")
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout)
    for key in ("train_acc", "test_acc", "train_loss", "test_loss", "model", "dataset", "seed"):
        assert metrics[key] == summary[key], key


def test_eval_prints_a_readable_line(zoo_cli, circle_run):
    result = zoo_cli("eval", str(circle_run))
    assert result.returncode == 0
    assert result.stdout.startswith("circle-v2 on circles (cpu): train ")


def test_predict_writes_label_and_probability_per_row(zoo_cli, circle_run, tmp_path):
    rows = tmp_path / "points.csv"
    rows.write_text("x1,x2\n0.0,0.0\n1.0,0.0\n0.05,-0.02\n")
    result = zoo_cli("predict", str(circle_run), "--input", str(rows))
    assert result.returncode == 0, result.stderr
    lines = list(csv.reader(result.stdout.splitlines()))
    assert lines[0] == ["label", "p_0", "p_1"]  # every class's probability (issue #9)
    assert [line[0] for line in lines[1:]] == ["1", "0", "1"]  # inner ring is class 1
    assert all(0.5 <= float(line[1 + int(line[0])]) <= 1.0 for line in lines[1:])


def test_predict_gives_multi_class_labels_of_the_dataset(tmp_path):
    run_dir = tmp_path / "blob"
    zoo.train("blob-v0", out=run_dir, plot=False)
    run = zoo.load(run_dir)
    labels = run.predict([[-8.0, 7.0], [5.0, 2.0]]).tolist()
    probabilities = run.predict_proba([[-8.0, 7.0], [5.0, 2.0]]).max(axis=1)
    assert len(set(labels)) == 2 and set(labels) <= {0, 1, 2, 3}
    assert (probabilities > 0.5).all()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("0.1,0.2,0.3\n", "points.csv:1: expected 2 numbers (one per feature), got 3"),
        ("0.1,0.2\n0.3\n", "points.csv:2: expected 2 numbers (one per feature), got 1"),
        ("x,y\n0.1,abc\n", "points.csv:2: column 2: 'abc' is not a number"),
        ("0.1,nan\n", "points.csv:1: column 2: 'nan' is not a finite float32"),
        ("0.1,1e39\n", "points.csv:1: column 2: '1e39' is not a finite float32"),
        ("", "points.csv: no rows; expected lines of 2 numbers"),
        ("x,y\n", "points.csv: only a header; expected lines of 2 numbers"),
        ("a,b,c\n1,2\n", "points.csv:1: the header has 3 columns; the model takes 2 features"),
    ],
)
def test_a_bad_predict_csv_is_one_line_and_writes_nothing(
    zoo_cli, circle_run, tmp_path, content, message
):
    rows = tmp_path / "points.csv"
    rows.write_text(content)
    output = tmp_path / "predictions.csv"
    result = zoo_cli("predict", str(circle_run), "--input", str(rows), "--output", str(output))
    assert_one_line_error(result, message, status=1)
    assert result.stdout == ""
    assert not output.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["points.csv"]  # no temporary file left


def test_a_malicious_pickle_in_place_of_the_weights_is_refused_without_running(
    zoo_cli, circle_run, tmp_path
):
    run_dir = tmp_path / "tampered"
    run_dir.mkdir()
    for name in ("config.json", "summary.json"):
        (run_dir / name).write_bytes((circle_run / name).read_bytes())
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (Path.touch, (marker,))

    (run_dir / "weights.pt").write_bytes(pickle.dumps(Exploit()))
    torch.save(Exploit(), tmp_path / "zipped.pt")  # the same payload in torch's zip format
    for command in (["eval", str(run_dir)], ["predict", str(run_dir), "--input", "x.csv"]):
        assert_one_line_error(zoo_cli(*command), "weights.pt: refused", status=1)
    (run_dir / "weights.pt").write_bytes((tmp_path / "zipped.pt").read_bytes())
    assert_one_line_error(zoo_cli("eval", str(run_dir)), "asks to run code", status=1)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("truncate", "weights.pt: damaged or not a weights file"),
        ("empty", "weights.pt: damaged or not a weights file"),
        ("foreign", "does not fit model 'circle-v2'"),
        ("config", "config.json: damaged or not JSON"),
        ("no-config", "config.json: missing"),
    ],
)
def test_a_damaged_run_folder_is_one_clear_error(circle_run, tmp_path, damage, message):
    run_dir = tmp_path / "damaged"
    run_dir.mkdir()
    for file in circle_run.iterdir():
        (run_dir / file.name).write_bytes(file.read_bytes())
    weights = run_dir / "weights.pt"
    if damage == "truncate":
        weights.write_bytes(weights.read_bytes()[:200])
    elif damage == "empty":
        weights.write_bytes(b"")
    elif damage == "foreign":
        torch.save({"layer_1.weight": torch.zeros(3, 3)}, weights)
    elif damage == "config":
        (run_dir / "config.json").write_text('{"model": "circle-v2", ')
    else:
        (run_dir / "config.json").unlink()
    with pytest.raises(RunFolderError, match=message):
        zoo.evaluate(run_dir)


def test_a_run_whose_plugin_is_not_installed_says_so(zoo_cli, circle_run, tmp_path):
    run_dir = tmp_path / "orphan"
    run_dir.mkdir()
    for file in circle_run.iterdir():
        (run_dir / file.name).write_bytes(file.read_bytes())
    config = json.loads((run_dir / "config.json").read_text())
    config["builds"] = "gone_plugin:circle-v2"
    (run_dir / "config.json").write_text(json.dumps(config))
    assert_one_line_error(
        zoo_cli("eval", str(run_dir)), "'gone_plugin:circle-v2', which no installed plugin"
    )
