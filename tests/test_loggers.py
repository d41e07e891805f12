"""The built-in loggers, read back with their own tools: TensorBoard's event reader and
MLflow's client on a sqlite store. Both extras are installed by `make install`."""

from __future__ import annotations

import csv
import json
import os
import shutil
import socket
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from conftest import Result, assert_one_line_error
from limits import fails_if_blocked

import zoo
from zoo.cli import main
from zoo.errors import HookWarning

pytestmark = pytest.mark.slow  # tensorboard and mlflow take seconds to import


def history_of(run_dir: Path) -> list[dict[str, float]]:
    with open(run_dir / "history.csv", newline="") as file:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(file)]


# -- TensorBoard -------------------------------------------------------------------------------


def scalars(log_dir: Path) -> dict[str, list[tuple[int, float]]]:
    """Every scalar in the event files of ``log_dir``, by tag: (step, value)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    reader = EventAccumulator(str(log_dir), size_guidance={"scalars": 0})
    reader.Reload()
    return {
        tag: [(event.step, event.value) for event in reader.Scalars(tag)]
        for tag in reader.Tags()["scalars"]
    }


def test_tensorboard_writes_the_history_into_the_run_folder(tmp_path):
    zoo.train("circle-v2", epochs=40, out=tmp_path / "run", loggers=["tensorboard"])
    history = history_of(tmp_path / "run")
    found = scalars(tmp_path / "run" / "tensorboard")
    assert sorted(found) == ["accuracy/test", "accuracy/train", "loss/test", "loss/train"]
    for tag, column in [("loss/train", "train_loss"), ("accuracy/test", "test_acc")]:
        assert [step for step, _ in found[tag]] == [int(row["epoch"]) for row in history]
        assert [value for _, value in found[tag]] == pytest.approx(
            [row[column] for row in history],
            rel=1e-6,  # TensorBoard keeps float32
        )


class StopAt:
    """Stops training at once at one epoch, as a second Ctrl-C does: no checkpoint there."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    @zoo.hookimpl
    def on_log_point(self, epoch):
        if epoch == self.epoch:
            raise KeyboardInterrupt


def test_tensorboard_goes_on_in_the_same_folder_when_a_run_is_resumed(tmp_path):
    run_dir = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):  # logged up to 30, last checkpoint at 20
        zoo.train("circle-v2", epochs=40, log_every=5, checkpoint_every=20, out=run_dir,
                  loggers=["tensorboard", StopAt(30)])  # fmt: skip
    zoo.resume(run_dir, loggers=["tensorboard"])  # epochs 21 to 40 again
    steps = [step for step, _ in scalars(run_dir / "tensorboard")["loss/test"]]
    assert steps == [int(row["epoch"]) for row in history_of(run_dir)]
    assert steps == [0, 5, 10, 15, 20, 25, 30, 35, 40]  # each once: the stopped run's 25 and 30
    zoo.resume(run_dir, epochs=60, loggers=["tensorboard"])  # and further
    steps = [step for step, _ in scalars(run_dir / "tensorboard")["loss/test"]]
    assert steps == [int(row["epoch"]) for row in history_of(run_dir)] and steps[-1] == 60


def test_tensorboard_gives_each_compared_seed_a_folder_in_the_comparisons_out(tmp_path):
    zoo.compare(["circle-v0", "circle-v2"], seeds=2, epochs=10, workers=1,
                out=tmp_path / "cmp", loggers=["tensorboard"])  # fmt: skip
    folders = sorted(p.name for p in (tmp_path / "cmp" / "tensorboard").iterdir())
    assert folders == [
        "circle-v0_on_circles_seed_42",
        "circle-v0_on_circles_seed_43",
        "circle-v2_on_circles_seed_42",
        "circle-v2_on_circles_seed_43",
    ]
    found = scalars(tmp_path / "cmp" / "tensorboard" / folders[0])
    assert [step for step, _ in found["accuracy/train"]] == list(range(11))


def test_tensorboard_that_cannot_start_a_run_is_one_warning_and_the_run_goes_on(tmp_path):
    run_dir = tmp_path / "run"
    zoo.train("circle-v0", epochs=5, out=run_dir, plot=False)
    (run_dir / "tensorboard").write_text("a file where its folder goes")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        resumed = zoo.resume(run_dir, epochs=10, loggers=["tensorboard"])
    (warning,) = [str(w.message) for w in caught if issubclass(w.category, HookWarning)]
    assert warning.startswith("logger 'tensorboard' failed in on_run_start: FileExistsError")
    assert warning.endswith("training goes on without it")  # no KeyError from its later hooks
    assert resumed.summary["epochs"] == 10
    assert (run_dir / "summary.json").is_file()


# -- MLflow ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def empty_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh MLflow sqlite database, made once: creating one takes seconds."""
    from mlflow import MlflowClient

    path = tmp_path_factory.mktemp("mlflow-template") / "mlflow.db"
    MlflowClient(tracking_uri=f"sqlite:///{path}").search_experiments()
    return path


@pytest.fixture
def mlflow_here(empty_store, tmp_path, monkeypatch):
    """The current folder is ``tmp_path``, holding an empty ./mlflow.db, zoo's default store."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    shutil.copy(empty_store, tmp_path / "mlflow.db")
    return tmp_path


def test_mlflow_logs_params_metrics_by_step_and_the_run_folders_files(mlflow_here):
    from mlflow import MlflowClient

    run = zoo.train("circle-v2", epochs=30, out="run", loggers=["mlflow"])
    client = MlflowClient(tracking_uri=f"sqlite:///{mlflow_here / 'mlflow.db'}")  # the default
    experiment = client.get_experiment_by_name("zoo")
    (logged,) = client.search_runs([experiment.experiment_id])
    assert logged.info.run_name == "circle-v2 on circles, seed 42"
    assert logged.info.status == "FINISHED"
    assert logged.data.params["epochs"] == "30" and logged.data.params["optimizer"] == "sgd"
    assert set(logged.data.params) == set(run.config.settings()) - {"params", "dataset_params"}
    assert logged.data.tags["zoo.run_dir"] == str(mlflow_here / "run")
    history = history_of(mlflow_here / "run")
    for metric in ("train_loss", "train_acc", "test_loss", "test_acc"):
        points = client.get_metric_history(logged.info.run_id, metric)
        assert [(p.step, p.value) for p in points] == [
            (int(row["epoch"]), row[metric]) for row in history
        ]
    artifacts = {f.path for f in client.list_artifacts(logged.info.run_id)}
    assert {"boundary.png", "weights.pt", "history.csv", "summary.json"} <= artifacts
    weights = client.download_artifacts(logged.info.run_id, "weights.pt", str(mlflow_here))
    assert Path(weights).read_bytes() == (mlflow_here / "run" / "weights.pt").read_bytes()
    os.remove(weights)
    # the artifacts live beside the database, and nothing else lands in the current folder
    assert sorted(os.listdir(mlflow_here)) == ["mlartifacts", "mlflow.db", "run"]


def test_mlflow_logs_a_comparison_as_a_parent_run_with_a_child_per_seed(
    empty_store, tmp_path, monkeypatch
):
    from mlflow import MlflowClient

    store = tmp_path / "tracking" / "runs.db"
    store.parent.mkdir()
    shutil.copy(empty_store, store)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{store}")
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "circles study")
    monkeypatch.chdir(tmp_path)
    zoo.compare(["circle-v0", "circle-v2"], seeds=2, epochs=10, workers=1, loggers=["mlflow"])
    client = MlflowClient(tracking_uri=f"sqlite:///{store}")
    experiment = client.get_experiment_by_name("circles study")
    (parent,) = client.search_runs([experiment.experiment_id], "tags.mlflow.parentRunId IS NULL")
    assert parent.data.params["models"] == "circle-v0,circle-v2"
    assert parent.data.params["seeds"] == "42,43"
    assert parent.info.status == "FINISHED"
    children = client.search_runs(
        [experiment.experiment_id], f"tags.mlflow.parentRunId = '{parent.info.run_id}'"
    )
    assert sorted(child.info.run_name for child in children) == [
        "circle-v0 on circles, seed 42",
        "circle-v0 on circles, seed 43",
        "circle-v2 on circles, seed 42",
        "circle-v2 on circles, seed 43",
    ]
    for child in children:
        assert child.info.status == "FINISHED"
        points = client.get_metric_history(child.info.run_id, "test_acc")
        assert [p.step for p in points] == list(range(11))
        assert {f.path for f in client.list_artifacts(child.info.run_id)} == {"summary.json"}
    assert sorted(os.listdir(tmp_path)) == ["tracking"]
    assert sorted(os.listdir(tmp_path / "tracking")) == ["mlartifacts", "runs.db"]


def test_mlflow_marks_a_diverged_run_failed_with_why(mlflow_here):
    from mlflow import MlflowClient

    with pytest.raises(zoo.errors.TrainingDiverged):
        zoo.train("circle-v2", lr=1e30, epochs=50, log_every=1, out="run", loggers=["mlflow"])
    client = MlflowClient(tracking_uri=f"sqlite:///{mlflow_here / 'mlflow.db'}")
    (logged,) = client.search_runs([client.get_experiment_by_name("zoo").experiment_id])
    assert logged.info.status == "FAILED"
    assert logged.data.tags["zoo.stopped"].startswith("diverged: training diverged")
    assert "weights.pt" in {f.path for f in client.list_artifacts(logged.info.run_id)}


class SpoilStore:
    """At one log point, overwrites the bytes of the sqlite store MLflow has open, as a
    failing disk or another program could: every later call to the store fails."""

    def __init__(self, store: Path, epoch: int) -> None:
        self.store, self.epoch = store, epoch

    @zoo.hookimpl
    def on_log_point(self, epoch):
        if epoch == self.epoch:
            with open(self.store, "r+b") as file:
                file.write(b"not a database" * 100)


def test_an_mlflow_store_that_breaks_mid_run_is_one_warning_and_the_run_finishes(mlflow_here):
    with warnings.catch_warnings(record=True) as caught, fails_if_blocked(60):
        warnings.simplefilter("always")
        run = zoo.train("circle-v2", epochs=10, log_every=1, out="run", plot=False,
                        loggers=["mlflow", SpoilStore(mlflow_here / "mlflow.db", 3)])  # fmt: skip
    (warning,) = [str(w.message) for w in caught if issubclass(w.category, HookWarning)]
    assert warning.startswith("logger 'mlflow' failed in on_log_point: MlflowException: ")
    assert "file is not a database" in warning
    assert warning.endswith("training goes on without it")  # nothing from its later hooks
    assert run.summary["epochs"] == 10 and run.summary["status"] == "completed"
    assert json.loads((mlflow_here / "run" / "summary.json").read_text())["epochs"] == 10
    assert [int(row["epoch"]) for row in history_of(mlflow_here / "run")] == list(range(11))


@pytest.fixture
def closed_port():
    """A local port where nothing listens: a connection to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def silent_port():
    """A local port that accepts connections and never answers."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server.getsockname()[1]


@pytest.mark.parametrize(
    ("port", "settings", "why"),
    [
        ("closed_port", {}, "refused the connection"),
        ("silent_port", {}, "did not answer within 3 s"),  # zoo's bound: no retries
        ("silent_port", {"MLFLOW_HTTP_REQUEST_TIMEOUT": "1"}, "did not answer within 1 s"),
    ],
)
def test_an_mlflow_server_that_does_not_answer_is_one_line_and_nothing_trains(
    request, tmp_path, monkeypatch, capsys, port, settings, why
):
    uri = f"http://127.0.0.1:{request.getfixturevalue(port)}"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    for name in ("MLFLOW_HTTP_REQUEST_TIMEOUT", "MLFLOW_HTTP_REQUEST_MAX_RETRIES"):
        monkeypatch.delenv(name, raising=False)
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)  # main sets its own
    with fails_if_blocked(60):  # MLflow's own retries would wait minutes: a failure, not a hang
        status = main(["train", "circle-v2", "--epochs", "5", "--logger", "mlflow"])
    (line,) = capsys.readouterr().err.splitlines()
    assert status == 1
    assert line == (
        f"zoo: error: logger 'mlflow': the tracking server {uri} (MLFLOW_TRACKING_URI) {why}; "
        "start it, point MLFLOW_TRACKING_URI at one that runs, or unset it to log to "
        "sqlite:///mlflow.db here"
    )
    assert os.listdir(tmp_path) == []  # nothing trained, nothing written
    assert {k: v for k, v in os.environ.items() if k.startswith("MLFLOW_HTTP_")} == settings


# -- without the extras ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("logger", "library"), [("mlflow", "mlflow"), ("tensorboard", "tensorboard")]
)
def test_a_logger_without_its_extra_is_one_line_naming_the_extra(tmp_path, logger, library):
    # The library cannot be imported in this process: None in sys.modules stops its import,
    # as if it were not installed.
    script = (
        f"import sys; sys.modules[{library!r}] = None\n"
        "from zoo.cli import main\n"
        f"sys.exit(main(['train', 'circle-v2', '--logger', {logger!r}]))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, timeout=300
    )
    result = Result(completed.returncode, completed.stdout, completed.stderr)
    assert_one_line_error(
        result,
        f"logger {logger!r} needs {library}, which is not installed: "
        f"pip install 'torch-zoo[{logger}]'",
        status=1,
    )
    assert os.listdir(tmp_path) == []  # nothing trained, nothing written


def test_the_command_line_takes_several_loggers_and_a_resume_takes_them_too(
    zoo_cli, empty_store, tmp_path
):
    from mlflow import MlflowClient

    shutil.copy(empty_store, tmp_path / "mlflow.db")
    env = {"MLFLOW_TRACKING_URI": ""}  # unset: the default, ./mlflow.db
    result = zoo_cli("compare", "circle-v0", "--seeds", "2", "--epochs", "5", "--out", "cmp",
                     "--logger", "tensorboard", "--logger", "mlflow", env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert len(list((tmp_path / "cmp" / "tensorboard").iterdir())) == 2
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("zoo").experiment_id
    assert len(client.search_runs([experiment])) == 3  # the comparison and its two seeds

    assert zoo_cli("train", "circle-v0", "--epochs", "5", "--out", "run").returncode == 0
    resumed = zoo_cli("train", "--resume", "run", "--epochs", "10", "--logger", "tensorboard")
    assert resumed.returncode == 0, resumed.stderr
    steps = [step for step, _ in scalars(tmp_path / "run" / "tensorboard")["loss/train"]]
    assert steps == [6, 7, 8, 9, 10]  # the epochs trained now


def test_mlflows_default_store_is_the_current_folders_at_each_run(
    empty_store, tmp_path, monkeypatch
):
    from mlflow import MlflowClient

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    for name in ("a", "b"):  # a notebook that moves between folders
        (tmp_path / name).mkdir()
        shutil.copy(empty_store, tmp_path / name / "mlflow.db")
        monkeypatch.chdir(tmp_path / name)
        zoo.train("circle-v0", epochs=5, loggers=["mlflow"])
    for name in ("a", "b"):
        client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / name / 'mlflow.db'}")
        assert len(client.search_runs([client.get_experiment_by_name("zoo").experiment_id])) == 1
