"""The notebook API: a Run back from zoo.train, code trained without packaging, in-process
registration through the plugin machinery."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from sklearn.datasets import make_moons
from torch import nn

import zoo
from zoo.errors import ConfigError
from zoo.plugins.loader import load_plugins
from zoo.training.records import LogRow


class TinyNet(nn.Module):
    """A model defined in the notebook."""

    def __init__(self, in_features: int = 2, out_features: int = 1, hidden: int = 8) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(in_features, hidden), nn.ReLU(), nn.Linear(hidden, out_features)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


def moons(rows: int = 400) -> tuple[np.ndarray, np.ndarray]:
    X, y = make_moons(rows, noise=0.1, random_state=3)
    return X, np.array(["left", "right"])[y]


def test_train_returns_a_run_with_the_trained_model_and_its_record(tmp_path):
    run = zoo.train("circle-v2", epochs=300, out=tmp_path / "run")
    assert isinstance(run.model, nn.Module) and not run.model.training
    assert run.summary["test_acc"] > 90.0  # one way in: the summary, not the run itself
    assert not isinstance(run, Mapping)
    assert run.run_dir == tmp_path / "run"
    assert all(isinstance(row, LogRow) for row in run.history)
    assert [row.epoch for row in run.history][:2] == [0, 30]
    X = np.array([[0.0, 0.0], [1.0, 0.0]], dtype=np.float32)
    assert run.predict(X).tolist() == [1, 0]  # the inner ring is class 1
    probabilities = run.predict_proba(X)
    assert probabilities.shape == (2, 2) and np.allclose(probabilities.sum(axis=1), 1.0)
    assert isinstance(run.plot(), Figure)
    assert repr(run).startswith("Run(circle-v2 on circles: ")


def test_load_gives_the_same_run_back_from_its_folder(tmp_path):
    trained = zoo.train("blob-v0", out=tmp_path / "run")
    loaded = zoo.load(tmp_path / "run")
    assert loaded.summary == trained.summary
    assert loaded.history == trained.history
    X = np.array([[-8.0, 7.0], [5.0, 2.0], [0.0, -6.0]])
    assert np.array_equal(loaded.predict_proba(X), trained.predict_proba(X))
    assert loaded.predict(X).tolist() == trained.predict(X).tolist()
    assert isinstance(loaded.plot(), Figure)


@pytest.mark.parametrize(
    "model",
    [TinyNet, lambda in_features, out_features: TinyNet(in_features, out_features, 4)],
    ids=["class", "factory"],
)
def test_code_defined_here_trains_on_arrays_with_text_labels(model):
    X, y = moons()
    run = zoo.train(model, data=(X, y), epochs=300, lr=0.1)
    assert run.classes == ["left", "right"]
    assert run.summary["test_acc"] > 80.0
    assert set(run.predict(X[:20]).tolist()) <= {"left", "right"}
    again = zoo.train(model, data=(X, y), epochs=300, lr=0.1)
    assert (
        again.summary["test_acc"] == run.summary["test_acc"]
    )  # seeded before it is built: reproducible


def test_an_instance_is_trained_as_it_is():
    X, y = moons()
    torch.manual_seed(0)
    net = TinyNet()
    before = [p.detach().clone() for p in net.parameters()]
    run = zoo.train(net, data=(X, y), epochs=50)
    assert run.model is net
    assert any(not torch.equal(a, b) for a, b in zip(before, net.parameters()))


def test_data_may_be_a_dataset_name_or_a_csv_path(tmp_path):
    assert zoo.train(TinyNet, data="moons", epochs=20).config.dataset == "moons"
    X, y = moons(100)
    path = tmp_path / "points.csv"
    path.write_text("a,b,side\n" + "".join(f"{p},{q},{c}\n" for (p, q), c in zip(X, y)))
    run = zoo.train("circle-v2", data=str(path), epochs=20)
    assert run.classes == ["left", "right"] and run.config.dataset == str(path)


def test_registered_models_and_datasets_compare_with_the_built_in_ones():
    X, y = moons()
    zoo.register_model("tiny", TinyNet, description="a notebook model")
    zoo.register_dataset("notebook-moons", lambda: (X, y), description="moons with names")
    comparison = zoo.compare(
        ["tiny", "circle-v2"], datasets=["notebook-moons"], seeds=2, epochs=50, workers=1
    )
    assert {row["model"] for row in comparison.summary} == {"tiny", "circle-v2"}
    statuses = {status.name: status for status in zoo.list_plugins()}
    assert statuses["in-process"].in_process
    assert "tiny" in statuses["in-process"].models
    assert "notebook-moons" in statuses["in-process"].datasets
    assert "tiny" in zoo.list_models() and "notebook-moons" in zoo.list_datasets()


def test_registering_a_name_again_replaces_it_as_a_rerun_cell_would():
    zoo.register_model("cell", TinyNet)
    zoo.register_model("cell", lambda: TinyNet(hidden=3))
    assert load_plugins().model("cell").factory is not TinyNet
    assert zoo.get_model("cell").layers[0].out_features == 3


def test_a_run_of_a_notebook_model_reloads_once_it_is_registered_again(tmp_path):
    zoo.train(TinyNet, data="moons", epochs=10, out=tmp_path / "run")
    load_plugins.cache_clear()  # a new process: nothing is registered
    with pytest.raises(zoo.errors.RunFolderError, match=r"register it again first"):
        zoo.load(tmp_path / "run")
    zoo.register_model("tinynet", TinyNet)
    assert zoo.load(tmp_path / "run").features == 2


def test_what_cannot_be_trained_is_a_clear_error():
    with pytest.raises(ConfigError, match=r"takes a model name, an nn\.Module"):
        zoo.train(42, epochs=1)
    with pytest.raises(ConfigError, match="give data= or dataset=, not both"):
        zoo.train("circle-v2", data="moons", dataset="circles")
