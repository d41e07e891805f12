"""zoo.sklearn.ZooClassifier: a scikit-learn estimator by scikit-learn's own checks, and zoo's
trainer underneath, so it gives `zoo train`'s numbers."""

from __future__ import annotations

import os

# scikit-learn skips its array-API check unless this is set (it reads it when the check runs);
# with it, and pandas installed, none of the checks below is skipped.
os.environ["SCIPY_ARRAY_API"] = "1"

import json
import pickle
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_wine, make_blobs, make_circles
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import (
    check_dataframe_column_names_consistency,
    parametrize_with_checks,
)

import zoo
from zoo.errors import ConfigError, ModelError, TrainingDiverged, UnknownNameError
from zoo.plugins.loader import load_plugins
from zoo.sklearn import ZooClassifier
from zoo.training.data import load_split

CIRCLES = make_circles(n_samples=600, noise=0.03, random_state=42)


# All of scikit-learn's checks, with no expected failures. epochs=100 is the one change from
# the defaults: the checks fit about 55 times, and 100 epochs (circle-v0's own default) keep
# the suite to seconds; every code path is the same, only the loop is shorter. The default
# ZooClassifier() passes them all as well (about 45 s on two cores), and its training is
# checked against `zoo train` below. With its own scaling (fitted in fit, applied by every
# prediction, a constant column included) it passes them too.
@parametrize_with_checks([ZooClassifier(epochs=100), ZooClassifier(epochs=100, scale="standard")])
def test_scikit_learns_estimator_checks(estimator, check):
    check(estimator)


def test_feature_names_are_checked_as_scikit_learn_asks():
    # Defined in scikit-learn but not yielded by parametrize_with_checks: called by hand.
    check_dataframe_column_names_consistency("ZooClassifier", ZooClassifier(epochs=20))


def training_split(model: str, **overrides):
    """The split `zoo train MODEL` trains on, and its resolved settings."""
    config = zoo.resolve_config(model, **overrides)
    dataset = load_plugins().dataset(config.dataset)
    split = load_split(dataset, config.dataset_params, config.test_size, config.split_seed)
    return config, split


def assert_same_weights(fitted: ZooClassifier, weights_file) -> None:
    trained = torch.load(weights_file, weights_only=True)
    mine = fitted.module_.state_dict()
    assert mine.keys() == trained.keys()
    for name in trained:
        assert mine[name].dtype == trained[name].dtype
        assert torch.equal(mine[name], trained[name]), name  # to the bit


def test_fitting_zoo_trains_split_gives_zoo_trains_weights_and_accuracy(zoo_cli, tmp_path):
    run = zoo_cli("train", "circle-v2", "--out", str(tmp_path / "run"), "--no-plot", "--json")
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    _, split = training_split("circle-v2")

    fitted = ZooClassifier("circle-v2").fit(split.X_train, split.y_train)

    assert_same_weights(fitted, tmp_path / "run" / "weights.pt")
    assert fitted.score(split.X_test, split.y_test) * 100 == pytest.approx(summary["test_acc"])
    assert fitted.n_iter_ == summary["epochs"] == 1000


@pytest.mark.parametrize(
    ("model", "settings", "parameters"),
    [
        ("blob-v0", {}, {}),  # multi-class: CrossEntropyLoss, 4 outputs
        (
            "circle-v2",
            {"epochs": 40, "batch_size": 64, "optimizer": "adam", "lr": 0.01, "seed": 7},
            {"epochs": 40, "batch_size": 64, "optimizer": "adam", "lr": 0.01, "random_state": 7},
        ),
        (
            "circle-v2-wide",  # a registry.yaml variant: its params come from the catalogue
            {"epochs": 60, "weight_decay": 0.001, "params": {"hidden_units": 24}},
            {"epochs": 60, "weight_decay": 0.001, "params": {"hidden_units": 24}},
        ),
    ],
)
def test_same_settings_and_seed_give_the_weights_of_zoo_train(
    tmp_path, model, settings, parameters
):
    run = zoo.train(model, out=tmp_path / "run", plot=False, **settings)
    config, split = training_split(model, **settings)

    fitted = ZooClassifier(model, **parameters).fit(split.X_train, split.y_train)

    assert_same_weights(fitted, tmp_path / "run" / "weights.pt")
    assert fitted.score(split.X_test, split.y_test) * 100 == pytest.approx(run.summary["test_acc"])
    assert fitted.settings_ == config.settings()


def test_scale_standard_fits_on_the_rows_given_and_gives_the_weights_of_zoo_train(tmp_path):
    wine = load_wine()
    table = tmp_path / "wine.csv"
    lines = [
        ",".join(map(repr, map(float, row))) + f",{t}" for row, t in zip(wine.data, wine.target)
    ]
    table.write_text("\n".join(lines) + "\n")
    run = zoo.train("circle-v2", data=str(table), epochs=30, out=tmp_path / "run", plot=False)
    _, split = training_split("circle-v2", dataset=str(table))

    fitted = ZooClassifier("circle-v2", epochs=30, scale="standard")
    fitted.fit(split.X_train, split.y_train)

    assert_same_weights(fitted, tmp_path / "run" / "weights.pt")
    recorded = json.loads((tmp_path / "run" / "config.json").read_text())["scaling"]
    assert fitted.scaling_.to_dict() == recorded
    assert fitted.score(split.X_test, split.y_test) * 100 == pytest.approx(run.summary["test_acc"])
    assert ZooClassifier().get_params()["scale"] == "none"  # a Pipeline scales, by default


def test_none_means_the_models_configured_setting():
    fitted = ZooClassifier("circle-v2", epochs=5).fit(*CIRCLES)
    assert fitted.settings_["lr"] == 0.1 and fitted.settings_["momentum"] == 0.9
    assert fitted.settings_["seed"] == 42 and fitted.settings_["epochs"] == 5
    assert fitted.get_params()["lr"] is None  # the parameter itself stays as it was given


def test_text_labels_stay_text_and_multi_class_gives_a_column_per_class():
    X, y = CIRCLES
    labels = np.where(y == 1, "inner", "outer")
    fitted = ZooClassifier(epochs=300).fit(X, labels)
    assert list(fitted.classes_) == ["inner", "outer"]
    assert set(fitted.predict(X)) == {"inner", "outer"}
    assert fitted.score(X, labels) > 0.95

    X, y = make_blobs(n_samples=300, centers=4, random_state=0)
    names = np.array(["north", "east", "south", "west"])[y]
    fitted = ZooClassifier("blob-v0", epochs=50).fit(X, names)
    assert fitted.decision_function(X).shape == (300, 4)
    assert np.allclose(fitted.predict_proba(X).sum(axis=1), 1.0)
    assert set(fitted.predict(X)) <= set(names)


def test_a_dataframe_gives_feature_names():
    X, y = CIRCLES
    frame = pd.DataFrame(X, columns=["x1", "x2"])
    fitted = ZooClassifier(epochs=10).fit(frame, y)
    assert list(fitted.feature_names_in_) == ["x1", "x2"] and fitted.n_features_in_ == 2
    assert fitted.predict(frame).shape == (600,)


def test_a_pipeline_with_standard_scaler_in_cross_val_score():
    X, y = CIRCLES
    pipeline = make_pipeline(StandardScaler(), ZooClassifier(epochs=300))
    scores = cross_val_score(pipeline, X * 100 + 500, y, cv=5)  # unscaled data, scaled first
    assert len(scores) == 5 and scores.min() > 0.9


def test_grid_search_over_lr_and_hidden_units_in_two_processes():
    X, y = CIRCLES
    pipeline = make_pipeline(StandardScaler(), ZooClassifier(epochs=150))
    grid = {
        "zooclassifier__lr": [0.01, 0.1],
        "zooclassifier__params": [{"hidden_units": 4}, {"hidden_units": 16}],
    }
    search = GridSearchCV(pipeline, grid, cv=3, n_jobs=2).fit(X, y)

    assert search.best_params_ == {
        "zooclassifier__lr": 0.1,
        "zooclassifier__params": {"hidden_units": 16},
    }
    best = search.best_estimator_[-1]
    assert best.module_.layer_1.out_features == 16
    # A worker process gives the numbers this process gives.
    alone = cross_val_score(clone(search.best_estimator_), X, y, cv=3)
    assert search.cv_results_["mean_test_score"][search.best_index_] == alone.mean()


def test_clone_is_unfitted_and_pickle_keeps_the_predictions():
    X, y = CIRCLES
    fitted = ZooClassifier(epochs=100, lr=0.05, params={"hidden_units": 8}).fit(X, y)

    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params()
    with pytest.raises(NotFittedError):
        copy.predict(X)

    restored = pickle.loads(pickle.dumps(fitted))
    assert np.array_equal(restored.decision_function(X), fitted.decision_function(X))
    assert np.array_equal(restored.classes_, fitted.classes_)


def test_numpy_numbers_from_a_grid_are_taken():
    fitted = ZooClassifier(epochs=np.int64(5), lr=np.float32(0.1)).fit(*CIRCLES)
    assert fitted.n_iter_ == 5


def test_fit_leaves_the_callers_random_numbers_and_threads_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    threads = torch.get_num_threads()
    ZooClassifier(epochs=5).fit(*CIRCLES)
    assert torch.equal(torch.rand(3), expected)
    assert torch.get_num_threads() == threads


@pytest.mark.parametrize(
    ("parameters", "error", "message"),
    [
        ({"model": "circle-v3"}, UnknownNameError, "unknown model 'circle-v3' (did you mean"),
        ({"model": 3}, ConfigError, "model: must be a model name"),
        ({"epochs": 0}, ConfigError, "epochs: must be a whole number from 1"),
        ({"lr": -1.0}, ConfigError, "lr: must be a number > 0"),
        ({"optimizer": "adamm"}, ConfigError, "unknown optimizer 'adamm' (did you mean 'adam'"),
        ({"optimizer": "adam", "momentum": 0.5}, ConfigError, "'adam' takes no momentum"),
        ({"batch_size": 5000}, ConfigError, "batch size 5000 is larger than the 600 training"),
        ({"params": {"hidden_unit": 8}}, ModelError, "no parameter 'hidden_unit'"),
        ({"params": [8]}, ConfigError, "params: must be a mapping"),
        ({"device": "tpu"}, Exception, "unknown device 'tpu'"),
        ({"random_state": -1}, ConfigError, "random_state: must be None, a whole number"),
        ({"lr": 1e30, "epochs": 20}, TrainingDiverged, "try a smaller learning rate"),
        ({"scale": "log"}, ConfigError, "scale: unknown scale 'log'; choose from none, standard"),
    ],
)
def test_bad_settings_are_refused_by_fit_with_zoos_message(parameters, error, message):
    estimator = ZooClassifier(**parameters)  # stored as given: nothing is checked here
    with pytest.raises(error) as raised:
        estimator.fit(*CIRCLES)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)
    with pytest.raises(NotFittedError):
        estimator.predict(CIRCLES[0])


def test_one_class_is_refused():
    X, _ = CIRCLES
    with pytest.raises(ValueError, match=r"at least 2 classes.*only one class: 'a'"):
        ZooClassifier(epochs=5).fit(X, ["a"] * len(X))


def test_import_zoo_imports_neither_the_estimator_nor_scikit_learn():
    script = "import sys, zoo; print('zoo.sklearn' in sys.modules, 'sklearn' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.stdout.split() == ["False", "False"], result.stderr
