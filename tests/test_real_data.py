"""Real tables as a user has them: features in their own units, scaled by zoo on the training
rows, and runs that say so when they learned nothing.

The tables are scikit-learn's breast cancer, wine and digits data, written to CSV files with a
header and text labels, as a user would export them.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import Result
from sklearn.datasets import load_breast_cancer, load_digits, load_wine

import zoo
from zoo.cli import main
from zoo.errors import LearnedNothingWarning, RunFolderError
from zoo.plugins.loader import load_plugins
from zoo.training.data import load_split
from zoo.training.diagnosis import majority_acc
from zoo.training.scaling import Scaling

DIGIT_NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def write_table(path: Path, features: np.ndarray, labels: list[str], names: list[str]) -> Path:
    """A CSV file with a header, the features as written by Python, and a text label column."""
    lines = [",".join([*names, "label"])]
    lines += [
        ",".join([*map(repr, map(float, row)), label]) for row, label in zip(features, labels)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("tables")
    cancer, wine, digits = load_breast_cancer(), load_wine(), load_digits()

    def columns(data) -> list[str]:
        return [name.replace(" ", "_") for name in data.feature_names]

    return {
        "bc": write_table(
            folder / "bc.csv",
            cancer.data,
            [str(cancer.target_names[t]) for t in cancer.target],
            columns(cancer),
        ),
        "wine": write_table(
            folder / "wine.csv",
            wine.data,
            [str(wine.target_names[t]) for t in wine.target],
            columns(wine),
        ),
        "digits": write_table(
            folder / "digits.csv",
            digits.data,
            [DIGIT_NAMES[t] for t in digits.target],
            columns(digits),
        ),
    }


@pytest.fixture
def zoo_here(capsys, monkeypatch, tmp_path):
    """`zoo ARGS` in this process (``zoo.cli.main``), in a fresh folder: what it printed and
    its exit status, as ``zoo_cli`` gives them for a process."""
    monkeypatch.chdir(tmp_path)

    def run(*args: str) -> Result:
        capsys.readouterr()  # what was printed before is not this command's
        status = main(list(args))
        out, err = capsys.readouterr()
        return Result(status, out, err)

    return run


def notes(stderr: str) -> list[str]:
    """stderr's lines that are not the lesson's log lines."""
    return [line for line in stderr.splitlines() if line and not line.startswith("Epoch: ")]


# -- with the defaults, real tables train -------------------------------------------------------


@pytest.mark.parametrize(("table", "least"), [("bc", 95.0), ("wine", 95.0), ("digits", 90.0)])
def test_a_csv_table_is_standardised_by_default_and_circle_v2_learns_it(
    zoo_here, tables, table, least
):
    # The acceptance as written: every setting zoo's default (1000 epochs: 1-3 s a table here).
    result = zoo_here(
        "train", "circle-v2", "--dataset", str(tables[table]), "--target", "label",
        "--out", "run", "--no-plot", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["epochs"] == 1000 and summary["test_acc"] >= least
    assert summary["learned_nothing"] is False and summary["warning"] is None
    assert notes(result.stderr) == []
    record = json.loads(Path("run/config.json").read_text())
    assert record["settings"]["scale"] == "standard"
    assert record["sources"]["scale"] == "dataset csv"


@pytest.mark.parametrize(
    ("table", "majority", "scored"),
    [
        ("bc", 62.28, "62.28% is what always answering 'benign' scores"),
        ("wine", 38.89, "38.89% is what always answering 'class_0' scores"),
        # Digits' pixels run 0 to 16: unscaled, SGD with momentum lands below the 13.06% of
        # the test split's commonest digit, so the line says "no better than" that rate.
        ("digits", 13.06, "7.78% is no better than the 13.06% of always answering 'five'"),
    ],
    ids=["bc", "wine", "digits"],
)
def test_unscaled_a_real_table_learns_nothing_and_one_warning_line_says_why(
    zoo_here, tables, table, majority, scored
):
    result = zoo_here(
        "train", "circle-v2", "--dataset", str(tables[table]), "--scale", "none",
        "--epochs", "100", "--no-plot", "--out", "run", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["learned_nothing"] is True
    assert round(summary["majority_acc"], 2) == majority
    assert summary["test_acc"] <= summary["majority_acc"] + 1.0  # within a point, or below
    [line] = notes(result.stderr)
    assert line == f"zoo: warning: {summary['warning']}"
    assert line.startswith(
        f"zoo: warning: circle-v2 learned nothing on {tables[table]}: {scored}; "
        "its features' standard deviations run from "
    )
    assert line.endswith("(try --scale standard)")


def test_the_majority_rate_is_the_accuracy_of_always_answering_the_commonest_class():
    assert majority_acc(np.array([0, 1, 1, 1])) == 75.0
    assert majority_acc(np.array([2, 0, 1, 2, 2])) == 60.0


def test_a_model_that_learns_nothing_warns_at_the_callers_line_in_python():
    with pytest.warns(LearnedNothingWarning, match="circle-v0 learned nothing on circles") as got:
        run = zoo.train("circle-v0", epochs=5)
    assert got[0].filename == __file__
    assert run.summary["learned_nothing"] is True and run.summary["majority_acc"] == 50.0
    assert "the model may be too simple for this data" in run.summary["warning"]
    assert repr(run) == "Run(circle-v0 on circles: 50.0% test (learned nothing), 5 epochs)"


def test_a_model_that_learns_says_nothing(recwarn):
    run = zoo.train("blob-v0", epochs=100)
    assert run.summary["test_acc"] == 99.5  # the lesson's number, unscaled
    assert run.summary["learned_nothing"] is False and run.summary["warning"] is None
    assert not [w for w in recwarn if issubclass(w.category, LearnedNothingWarning)]


# -- scaling: fitted on the training rows, kept with the run ----------------------------------


def test_the_scaling_is_fitted_on_the_training_rows_only(zoo_here, tables):
    result = zoo_here(
        "train", "circle-v2", "--dataset", str(tables["wine"]), "--epochs", "5",
        "--out", "run", "--no-plot",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    scaling = json.loads(Path("run/config.json").read_text())["scaling"]
    split = load_split(load_plugins().dataset("csv"), {"path": str(tables["wine"])}, 0.2, 42)
    train_rows = split.X_train.astype(np.float64)
    assert scaling["kind"] == "standard"
    assert scaling["offset"] == train_rows.mean(axis=0).tolist()
    assert scaling["scale"] == train_rows.std(axis=0).tolist()
    every_row = np.concatenate([split.X_train, split.X_test]).astype(np.float64)
    assert scaling["offset"] != every_row.mean(axis=0).tolist()  # no test row took part


def test_minmax_maps_the_training_rows_onto_zero_to_one(tables):
    run = zoo.train("circle-v2", data=str(tables["wine"]), scale="minmax", epochs=5)
    assert run.scaling is not None and run.scaling.kind == "minmax"
    split = run.load_split() if run.load_split else None
    assert split is not None
    scaled = run.scaling.apply(split.X_train)
    assert scaled.min(axis=0).tolist() == [0.0] * 13 and np.allclose(scaled.max(axis=0), 1.0)


def test_a_constant_column_is_not_divided_by_zero():
    X = np.array([[1.0, 5.0], [2.0, 5.0], [4.0, 5.0]], dtype=np.float32)
    for kind in ("standard", "minmax"):
        scaling = Scaling.fit(kind, X)
        assert scaling.scale[1] == 1.0
        assert scaling.apply(X)[:, 1].tolist() == [0.0, 0.0, 0.0]
        assert torch.equal(
            scaling.apply_tensor(torch.from_numpy(X)), torch.from_numpy(scaling.apply(X))
        )


def test_a_table_with_a_constant_column_trains(tmp_path):
    features = np.column_stack([load_wine().data, np.full(178, 7.0)])
    path = write_table(
        tmp_path / "flat.csv",
        features,
        [str(t) for t in load_wine().target],
        [f"c{i}" for i in range(14)],
    )
    run = zoo.train("circle-v2", data=str(path), epochs=20)
    assert run.summary["test_acc"] >= 95.0 and np.isfinite(run.summary["test_loss"])


def test_eval_predict_load_and_resume_apply_the_runs_scaling(zoo_here, tables, tmp_path):
    table = str(tables["bc"])
    result = zoo_here(
        "train", "circle-v2", "--dataset", table, "--epochs", "20", "--out", "run", "--json"
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)

    result = zoo_here("eval", "run", "--json")
    measured = json.loads(result.stdout)
    assert result.returncode == 0, result.stderr
    for key in ("train_acc", "test_acc", "train_loss", "test_loss"):
        assert measured[key] == summary[key], key

    run = zoo.load("run")
    split = run.load_split() if run.load_split else None
    assert split is not None
    predicted = run.predict(split.X_test)  # raw rows: the run scales them
    classes = np.asarray(split.classes)
    assert np.mean(predicted == classes[split.y_test]) * 100 == summary["test_acc"]

    labelled = [tables["bc"].read_text().partition("\n")[0]]  # its header: the label column
    labelled += [
        ",".join([*map(repr, map(float, row)), label])
        for row, label in zip(split.X_test, classes[split.y_test])
    ]
    Path("test-rows.csv").write_text("\n".join(labelled) + "\n")
    result = zoo_here("eval", "run", "--data", "test-rows.csv", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["acc"] == summary["test_acc"]

    rows = "\n".join(",".join(map(repr, map(float, row))) for row in split.X_test[:5])
    Path("rows.csv").write_text(rows + "\n")
    result = zoo_here("predict", "run", "--input", "rows.csv")
    assert result.returncode == 0, result.stderr
    assert [line.split(",")[0] for line in result.stdout.splitlines()[1:]] == predicted[:5].tolist()

    zoo.train("circle-v2", data=table, epochs=10, out=tmp_path / "short", plot=False)
    resumed = zoo.resume(tmp_path / "short", epochs=20, plot=False)
    assert resumed.summary["test_acc"] == summary["test_acc"]
    whole = torch.load(tmp_path / "run" / "weights.pt", weights_only=True)
    again = torch.load(tmp_path / "short" / "weights.pt", weights_only=True)
    assert all(torch.equal(whole[name], again[name]) for name in whole)  # to the bit


def test_the_boundary_picture_shows_raw_features_through_the_scaling(tmp_path):
    from sklearn.datasets import make_moons

    X, y = make_moons(400, noise=0.1, random_state=3)
    X = X * np.array([1000.0, 0.001])  # very different units: scaled, the model learns
    run = zoo.train("circle-v2", data=(X, y), epochs=300, out=tmp_path / "run")
    assert run.config.scale == "standard" and run.summary["test_acc"] >= 95.0
    assert (tmp_path / "run" / "boundary.png").is_file()
    grid = np.column_stack([X[:, 0], X[:, 1]])
    assert np.mean(run.predict(grid) == y) * 100 >= 95.0  # the picture's model: raw in


def test_compared_seeds_equal_their_solo_runs_to_the_bit_with_scaling(tables, tmp_path):
    table = str(tables["wine"])
    comparison = zoo.compare(["circle-v2"], datasets=[table], seed_list=[3, 4], epochs=30)
    result = comparison.job_results[0]
    assert result.batched and result.job.experiment.scaling.kind == "standard"
    for seed, state in zip([3, 4], result.states):
        zoo.train(
            "circle-v2", data=table, seed=seed, epochs=30, out=tmp_path / str(seed), plot=False
        )
        solo = torch.load(tmp_path / str(seed) / "weights.pt", weights_only=True)
        assert all(torch.equal(solo[name], state[name]) for name in solo), seed


# -- run folders ------------------------------------------------------------------------------


def test_a_run_folder_from_before_scaling_loads_as_unscaled(tmp_path):
    trained = zoo.train("blob-v0", epochs=30, out=tmp_path / "run", plot=False)
    config = tmp_path / "run" / "config.json"
    record = json.loads(config.read_text())
    del record["scaling"], record["settings"]["scale"], record["sources"]["scale"]
    config.write_text(json.dumps(record))
    run = zoo.load(tmp_path / "run")
    assert run.config.scale == "none" and run.scaling == Scaling.identity(2)
    assert zoo.evaluate(tmp_path / "run")["test_acc"] == trained.summary["test_acc"]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda r: r["scaling"]["scale"].__setitem__(0, 0.0), "scaling.scale[0]: must be > 0"),
        (lambda r: r["scaling"].update(kind="minmax"), "'minmax', but settings.scale is"),
        (lambda r: r["scaling"]["offset"].pop(), "scaling.offset: must hold 13 to 13 items"),
        (lambda r: r.pop("scaling"), "scaling: 'none', but settings.scale is 'standard'"),
    ],
)
def test_a_tampered_scaling_is_one_line_naming_the_field(
    zoo_here, tables, tmp_path, change, problem
):
    zoo.train("circle-v2", data=str(tables["wine"]), epochs=2, out=tmp_path / "run", plot=False)
    config = tmp_path / "run" / "config.json"
    record = json.loads(config.read_text())
    change(record)
    config.write_text(json.dumps(record))
    result = zoo_here("eval", str(tmp_path / "run"))
    assert result.returncode == 1
    [line] = notes(result.stderr)
    assert line.startswith(f"zoo: error: {config}: not a zoo run config (") and problem in line


@pytest.mark.parametrize("value", [None, 3, ["runs/x"]])
def test_load_of_something_that_is_not_a_path_is_one_line(value):
    with pytest.raises(RunFolderError, match="a run folder is a path, not ") as raised:
        zoo.load(value)
    assert "\n" not in str(raised.value) and "no folder" in str(raised.value)
    with pytest.raises(RunFolderError, match="a run folder is a path"):
        zoo.resume(value)
    with pytest.raises(RunFolderError, match="a run folder is a path"):
        zoo.evaluate(value)


# -- where the default comes from -------------------------------------------------------------


def test_the_dataset_gives_the_default_scale_and_zoo_info_says_so(zoo_here, tables):
    described = zoo.describe("circle-v2", dataset=str(tables["wine"]))
    assert described["settings"]["scale"] == "standard"
    assert described["sources"]["scale"] == "dataset csv"
    lesson = zoo.describe("circle-v2")
    assert lesson["settings"]["scale"] == "none"
    assert zoo.describe("circle-v2", scale="minmax")["sources"]["scale"] == "override"
    result = zoo_here("info", "circle-v2", "--dataset", str(tables["wine"]))
    assert result.returncode == 0
    assert [line.split() for line in result.stdout.splitlines() if " scale " in line] == [
        ["scale", "standard", "dataset", "csv"]
    ]


def test_arrays_given_to_zoo_train_are_standardised_unless_asked_otherwise():
    wine = load_wine()
    run = zoo.train("circle-v2", data=(wine.data, wine.target), epochs=20)
    assert run.config.scale == "standard" and run.config.sources["scale"] == "dataset arrays"
    assert run.summary["test_acc"] >= 95.0
    with pytest.warns(LearnedNothingWarning):
        raw = zoo.train("circle-v2", data=(wine.data, wine.target), epochs=20, scale="none")
    assert raw.config.scale == "none" and raw.summary["learned_nothing"] is True


def test_the_datasets_default_sits_above_the_catalogue_defaults_and_below_the_model(tmp_path):
    zoo.register_dataset(
        "wine-table", lambda: (load_wine().data, load_wine().target), defaults={"scale": "minmax"}
    )
    mine = tmp_path / "mine.yaml"
    mine.write_text("defaults:\n  scale: standard\nmodels:\n  blob-v0:\n    scale: none\n")
    assert zoo.resolve_config("circle-v2", dataset="wine-table", registry=mine).scale == "minmax"
    assert zoo.resolve_config("circle-v2", registry=mine).scale == "standard"  # circles: none
    assert zoo.resolve_config("blob-v0", dataset="wine-table", registry=mine).scale == "none"
    config = zoo.resolve_config("blob-v0", dataset="wine-table", registry=mine, scale="minmax")
    assert config.sources["scale"] == "override"


@pytest.mark.parametrize(
    ("defaults", "problem"),
    [
        ({"scale": "sideways"}, "defaults: scale: unknown scale 'sideways'; choose from"),
        ({"dataset": "circles"}, "defaults: dataset: is chosen with the dataset, not by it"),
    ],
)
def test_a_datasets_defaults_are_checked_when_it_registers(defaults, problem):
    from zoo.errors import PluginError

    with pytest.raises(PluginError, match=problem):
        zoo.register_dataset("odd-table", lambda: ([[0.0], [1.0]], [0, 1]), defaults=defaults)


def test_an_unknown_scale_flag_is_one_line(zoo_here):
    result = zoo_here("train", "circle-v2", "--scale", "standrd")
    assert result.returncode == 2
    [line] = notes(result.stderr)
    assert "unknown scale 'standrd' (did you mean 'standard'?); choose from none, standard" in line


# -- divergence ---------------------------------------------------------------------------------


def test_a_divergence_on_unscaled_features_names_scaling_in_the_cli_and_in_sklearn(
    zoo_here, tables
):
    from zoo.errors import TrainingDiverged
    from zoo.sklearn import ZooClassifier

    result = zoo_here(
        "train", "circle-v2", "--dataset", str(tables["bc"]), "--scale", "none", "--lr", "1e12",
        "--epochs", "20", "--no-plot",
    )  # fmt: skip
    assert result.returncode == 1
    [line] = notes(result.stderr)
    assert "training diverged" in line and "try a smaller learning rate, or scale the" in line
    assert "(--scale standard): its features' standard deviations run from" in line
    cancer = load_breast_cancer()
    with pytest.raises(TrainingDiverged) as raised:
        ZooClassifier(lr=1e12, epochs=20).fit(cancer.data, cancer.target)
    assert "or scale the features (scale='standard', or a StandardScaler before it)" in str(
        raised.value
    )
    scaled = notes(
        zoo_here("train", "circle-v2", "--dataset", str(tables["bc"]), "--lr", "1e30").stderr
    )
    assert "scale the features" not in scaled[0]  # scaled already: only the lr


# -- the HTML report ----------------------------------------------------------------------------


def test_the_report_never_colours_a_model_that_learned_nothing_as_best(tmp_path):
    from zoo.comparison.html_report import from_comparison, render

    comparison = zoo.compare(["circle-v0", "circle-v2"], seed_list=[1, 2], epochs=300)
    rows = {row["model"]: row for row in comparison.summary}
    assert rows["circle-v2"]["verdict"].startswith("best")
    page = render(from_comparison(comparison))
    assert page.count('<tr class="best">') == 1
    assert page.count('<tr class="nothing">') == 1
    assert "circle-v0 learned nothing on 2/2 seeds" in page

    nothing = zoo.compare(["circle-v0", "circle-v1"], seed_list=[1, 2], epochs=5)
    assert any(row["verdict"].startswith("best") for row in nothing.summary)
    page = render(from_comparison(nothing))
    assert '<tr class="best">' not in page and page.count('<tr class="nothing">') == 2


def test_baselines_on_a_csv_file_see_its_scaled_features_under_its_name(tables):
    table = str(tables["wine"])
    comparison = zoo.compare(["circle-v2"], datasets=[table], seeds=1, epochs=5, baselines=True)
    assert {record["dataset"] for record in comparison.results} == {table}
    svm = next(r for r in comparison.results if r["model"] == "sklearn:svm-rbf")
    assert svm["test_acc"] == 100.0  # on raw wine features the same SVM scores 80.56%
    assert svm["majority_acc"] == pytest.approx(38.89, abs=0.01)


def test_early_stopping_on_breast_cancer_keeps_its_best_validation_weights(zoo_here, tables):
    args = ["--val-size", "0.2", "--early-stop", "20", "--out", "run", "--json"]
    result = zoo_here("train", "circle-v2", "--dataset", str(tables["bc"]), *args)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["stopped_early"] and summary["epochs"] == summary["best_epoch"] + 20 < 1000
    assert summary["test_acc"] >= 95.0 and summary["val_acc"] >= 95.0
    run = zoo.load("run")
    split = run.load_split()
    # 569 rows: 455 train+validation, of which 91 validate; scaling fitted on the other 364.
    assert (len(split.X_train), len(split.X_val), len(split.X_test)) == (364, 91, 114)
    assert np.allclose(run.scaling.offset, split.X_train.astype(np.float64).mean(axis=0))
    again = zoo.evaluate("run")  # the kept weights, measured again
    assert (again["test_acc"], again["val_acc"]) == (summary["test_acc"], summary["val_acc"])
    assert ", val 9" in zoo_here("eval", "run").stdout
    assert run.plot() is not None
