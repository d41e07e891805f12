"""Exporting a trained run: ONNX (checked by ONNX Runtime), TorchScript (loaded where zoo is
not), and a safetensors folder that zoo.load rebuilds; each one graph from raw features to
class probabilities, the run's scaling inside.

Data: the lesson's circles, and scikit-learn's iris table written as a CSV file with its
species as text labels (scaled by default, as every CSV table is).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest
from conftest import assert_one_line_error
from sklearn.datasets import load_iris

import zoo
from zoo.runs.export import writer


@pytest.fixture(scope="module")
def iris_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """scikit-learn's iris, as a user exports it: a header, the measurements, the species."""
    iris = load_iris()
    path = tmp_path_factory.mktemp("iris") / "iris.csv"
    lines = [",".join([*(n.replace(" ", "_") for n in iris.feature_names), "species"])]
    lines += [
        ",".join([*map(repr, map(float, row)), str(iris.target_names[t])])
        for row, t in zip(iris.data, iris.target)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, iris_csv: Path) -> dict[str, Path]:
    """Two finished run folders: circle-v2 on circles, circle-v2 on the iris CSV."""
    folder = tmp_path_factory.mktemp("runs")
    zoo.train("circle-v2", epochs=100, out=folder / "circles", plot=False)
    zoo.train("circle-v2", data=str(iris_csv), epochs=60, out=folder / "iris", plot=False)
    return {"circles": folder / "circles", "iris": folder / "iris"}


def _test_rows(run_dir: Path) -> tuple[zoo.Run, np.ndarray, np.ndarray]:
    run = zoo.load(run_dir)
    split = run.load_split()
    return run, split.X_test, run.predict_proba(split.X_test)


@pytest.mark.parametrize("data", ["circles", "iris"])
def test_onnx_is_one_graph_from_raw_features_to_probabilities_checked_by_onnx_runtime(
    zoo_here, runs, data, tmp_path
):
    run, rows, expected = _test_rows(runs[data])
    result = zoo_here("export", str(runs[data]), "--format", "onnx", "--output", "m.onnx")
    assert result.returncode == 0, result.stderr
    assert "run on its" in result.stdout and "by ONNX Runtime" in result.stdout
    session = onnxruntime.InferenceSession(str(tmp_path / "m.onnx"))
    (given,), (taken,) = session.get_inputs(), session.get_outputs()
    assert given.name == "features" and given.shape[1] == run.features
    assert taken.name == "probabilities" and taken.shape[1] == len(run.classes)
    assert isinstance(given.shape[0], str)  # the batch dimension is dynamic
    found = session.run(None, {"features": rows})[0]
    difference = float(np.abs(found - expected).max())
    assert difference <= 1e-5
    for batch in (1, 7):  # any batch, one row included
        part = session.run(None, {"features": rows[:batch]})[0]
        assert np.abs(part - expected[:batch]).max() <= 1e-5
    metadata = {p.key: p.value for p in onnx.load(str(tmp_path / "m.onnx")).metadata_props}
    assert json.loads(metadata["classes"]) == run.classes
    assert json.loads(metadata["metrics"])["test_acc"] == run.summary["test_acc"]
    assert json.loads(metadata["scaling"])["kind"] == ("standard" if data == "iris" else "none")


def test_the_iris_export_carries_the_species_names_and_its_standard_scaling(runs):
    run, _rows, _expected = _test_rows(runs["iris"])
    assert run.classes == ["setosa", "versicolor", "virginica"]
    assert run.scaling is not None and run.scaling.kind == "standard"


@pytest.mark.parametrize("data", ["circles", "iris"])
def test_torchscript_loads_with_torch_alone_where_zoo_cannot_be_imported(runs, data, tmp_path):
    run, rows, expected = _test_rows(runs[data])
    path = tmp_path / "m.pt"
    report = run.export(path, format="torchscript")
    assert report.max_difference <= 1e-5 and report.rows == len(rows)
    np.save(tmp_path / "rows.npy", rows)
    script = (
        "import json, sys\n"
        "sys.modules['zoo'] = sys.modules['zoo_plugins'] = None  # importing zoo now fails\n"
        "import numpy, torch\n"
        "extra = {'zoo.json': ''}\n"
        f"model = torch.jit.load({str(path)!r}, _extra_files=extra)\n"
        f"rows = torch.from_numpy(numpy.load({str(tmp_path / 'rows.npy')!r}))\n"
        "print(json.dumps(model(rows).tolist()))\n"
        "print(json.dumps(json.loads(extra['zoo.json'])['classes']))\n"
        "try:\n    import zoo\nexcept ImportError:\n    print('no zoo')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    probabilities, classes, no_zoo = done.stdout.splitlines()
    difference = float(np.abs(np.array(json.loads(probabilities)) - expected).max())
    assert difference <= 1e-5
    assert json.loads(classes) == run.classes and no_zoo == "no zoo"


@pytest.mark.parametrize("data", ["circles", "iris"])
def test_a_safetensors_folder_round_trips_through_zoo_load(zoo_here, runs, data, tmp_path):
    run, rows, expected = _test_rows(runs[data])
    result = zoo_here("export", str(runs[data]), "--format", "safetensors", "--output", "out")
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == [
        "README.md",
        "config.json",
        "model.safetensors",
    ]
    assert out.joinpath("model.safetensors").read_bytes()[8:9] == b"{"  # a JSON header: no pickle
    config = json.loads(out.joinpath("config.json").read_text())
    assert config["builds"] == "circle_models:circle-v2" and config["classes"] == run.classes
    assert config["factory_kwargs"] == {
        "in_features": run.features,
        "out_features": run.task.out_features,
    }
    assert (
        config["scaling"] == run.scaling.to_dict()
        and config["settings"]["epochs"] == run.config.epochs
    )
    back = zoo.load(out)
    difference = float(np.abs(back.predict_proba(rows) - expected).max())
    assert difference == 0.0
    assert list(back.predict(rows)) == list(run.predict(rows))
    assert back.summary["test_acc"] == run.summary["test_acc"] and back.classes == run.classes


def test_an_exported_folder_names_the_plugin_it_needs_when_that_is_not_installed(
    runs, tmp_path, monkeypatch
):
    zoo.load(runs["circles"]).export(tmp_path / "out", format="safetensors")
    monkeypatch.setenv("ZOO_LOAD_PLUGINS", "blob_models,sklearn_datasets")
    from zoo.plugins.loader import load_plugins

    load_plugins.cache_clear()
    with pytest.raises(zoo.errors.RunFolderError) as raised:
        zoo.load(tmp_path / "out")
    message = str(raised.value)
    assert "needs model 'circle_models:circle-v2' from plugin 'circle_models'" in message
    assert "pip install torch-zoo" in message and "\n" not in message


def test_a_run_that_did_not_finish_is_refused_unless_partial(zoo_here, tmp_path):
    assert (
        zoo_here("train", "circle-v2", "--epochs", "40", "--out", "run", "--no-plot").returncode
        == 0
    )
    run_dir = tmp_path / "run"
    (run_dir / "summary.json").unlink()  # what an interrupted run leaves: a checkpoint only
    (run_dir / "weights.pt").unlink()
    refused = zoo_here("export", "run", "--format", "torchscript", "--output", "m.pt")
    assert_one_line_error(refused, "run: did not finish", "--partial")
    assert not (tmp_path / "m.pt").exists()
    partial = zoo_here("export", "run", "--format", "torchscript", "--output", "m.pt", "--partial")
    assert partial.returncode == 0, partial.stderr
    assert "did not finish: exporting its last checkpoint, epoch 40 of 40" in partial.stderr
    assert (tmp_path / "m.pt").is_file()


def test_every_output_rule_of_predict_holds(zoo_here, runs, tmp_path):
    run = str(runs["circles"])
    before = (runs["circles"] / "config.json").read_bytes()
    into_run = zoo_here("export", run, "--format", "onnx", "--output", f"{run}/config.json")
    assert_one_line_error(into_run, "is an input file of this command")
    assert (runs["circles"] / "config.json").read_bytes() == before
    (tmp_path / "folder").mkdir()
    assert_one_line_error(
        zoo_here("export", run, "--format", "torchscript", "--output", "folder"), "is a folder"
    )
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "mine.txt").write_text("kept")
    assert_one_line_error(
        zoo_here("export", run, "--format", "safetensors", "--output", "full"), "not empty"
    )
    assert [p.name for p in (tmp_path / "full").iterdir()] == ["mine.txt"]
    (tmp_path / "old.pt").write_text("an older file, replaced whole")
    assert zoo_here("export", run, "--format", "torchscript", "--output", "old.pt").returncode == 0
    assert (tmp_path / "old.pt").read_bytes()[:2] == b"PK"  # torch.jit's zip, not the old text
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file left behind


def test_an_export_that_differs_from_torch_is_refused_and_nothing_is_written(
    runs, tmp_path, monkeypatch
):
    monkeypatch.setattr(writer, "TOLERANCE", 0.0)  # ONNX Runtime's float sums differ slightly
    with pytest.raises(zoo.errors.ExportError, match="nothing was written") as raised:
        zoo.load(runs["circles"]).export(tmp_path / "m.onnx", format="onnx")
    assert "differ from torch's by up to" in str(raised.value)
    assert not (tmp_path / "m.onnx").exists() and not list(tmp_path.iterdir())


def test_without_the_onnx_extra_one_line_names_it(zoo_here, runs, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxscript", None)  # as if it were not installed
    result = zoo_here("export", str(runs["circles"]), "--format", "onnx", "--output", "m.onnx")
    assert_one_line_error(result, "the onnx extra", "pip install 'torch-zoo[onnx]'")


def test_an_unknown_format_is_a_usage_error(zoo_here, runs):
    result = zoo_here("export", str(runs["circles"]), "--format", "onxx", "--output", "m")
    assert_one_line_error(result, "'onxx' is not one of", status=2)
