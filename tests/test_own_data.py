"""Your own data and settings: CSV datasets, --param and --dataset-param, catalogues in layers."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sklearn.datasets
from conftest import assert_one_line_error
from csv_readers import arrow_read, careful_read
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_iris,
    load_wine,
    make_moons,
)
from test_docs import console_block

import zoo
from zoo.errors import CatalogueError, DataError, ModelError
from zoo.sklearn import ZooClassifier
from zoo.tables import MOST_CLASSES, read_table


def write_pets(path: Path, rows: int = 300, header: bool = True, seed: int = 0) -> Path:
    """Two interleaving moons whose classes are called cat and dog."""
    X, y = make_moons(rows, noise=0.1, random_state=seed)
    lines = ["x1,x2,species"] if header else []
    lines += [f"{a:.5f},{b:.5f},{['cat', 'dog'][c]}" for (a, b), c in zip(X, y)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def pets(tmp_path: Path) -> Path:
    return write_pets(tmp_path / "pets.csv")


def test_a_csv_file_is_a_dataset_and_its_text_labels_keep_their_names(zoo_cli, pets, tmp_path):
    trained = zoo_cli(
        "train", "circle-v2", "--dataset", str(pets), "--epochs", "200", "--out", "run", "--json"
    )
    assert trained.returncode == 0, trained.stderr
    summary = json.loads(trained.stdout)
    assert summary["dataset"] == str(pets) and summary["test_acc"] > 90.0
    rows = tmp_path / "new.csv"
    rows.write_text("x1,x2\n-1.0,0.2\n2.0,0.3\n")
    predicted = zoo_cli("predict", "run", "--input", str(rows))
    assert predicted.returncode == 0, predicted.stderr
    lines = predicted.stdout.splitlines()
    assert lines[0] == "label,p_cat,p_dog"
    assert [line.split(",")[0] for line in lines[1:]] == ["cat", "dog"]


def test_the_label_column_is_the_last_one_or_the_one_named(tmp_path):
    path = tmp_path / "table.csv"
    X, y = make_moons(200, noise=0.1, random_state=1)
    path.write_text(
        "kind,a,b\n"
        + "".join(f"{'no' if c else 'yes'},{p:.4f},{q:.4f}\n" for (p, q), c in zip(X, y))
    )
    run = zoo.train("circle-v2", data=str(path), epochs=100, dataset_params={"target": "kind"})
    assert run.classes == ["no", "yes"] and run.features == 2
    with pytest.raises(
        DataError, match=r"table.csv:1: no label column 'knd' \(did you mean 'kind'\?\)"
    ):
        zoo.train("circle-v2", data=str(path), epochs=1, dataset_params={"target": "knd"})
    headerless = write_pets(tmp_path / "plain.csv", header=False)
    run = zoo.train("circle-v2", data=str(headerless), epochs=50)  # the last column: 3
    assert run.config.dataset_params["target"] == "3" and run.classes == ["cat", "dog"]


def test_a_catalogue_entry_may_name_a_csv_file_beside_it(tmp_path):
    write_pets(tmp_path / "pets.csv")
    catalogue = tmp_path / "mine.yaml"
    catalogue.write_text(
        textwrap.dedent(
            """\
            models:
              pet-net:
                model: circle-v2
                dataset: csv
                dataset_params: {path: pets.csv, target: species}
                epochs: 50
            """
        )
    )
    run = zoo.train("pet-net", registry=catalogue)
    assert run.classes == ["cat", "dog"]
    assert run.config.dataset_params["path"] == str(tmp_path / "pets.csv")


def test_a_run_records_its_file_and_refuses_it_once_changed(zoo_cli, pets, tmp_path):
    zoo.train("circle-v2", data=str(pets), epochs=30, out=tmp_path / "run", plot=False)
    record = json.loads((tmp_path / "run" / "config.json").read_text())
    assert record["data"]["file"]["path"] == str(pets)
    assert len(record["data"]["file"]["sha256"]) == 64
    zoo.train("circle-v2", data=str(pets), epochs=30, out=tmp_path / "stopped", plot=False)
    (tmp_path / "stopped" / "summary.json").unlink()  # as if it had been stopped
    with pets.open("a") as file:
        file.write("0.5,0.5,cat\n")
    message = f"{pets}: changed since the run in"
    assert_one_line_error(zoo_cli("eval", str(tmp_path / "run")), message, status=1)
    assert_one_line_error(zoo_cli("train", "--resume", str(tmp_path / "stopped")), message)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("x1,x2,y\n0.1,abc,cat\n0.2,0.3,dog\n", "bad.csv:2: column 2 (x2): 'abc' is not a number"),
        ("x1,x2,y\n0.1,0.2,cat\n0.2,dog\n", "bad.csv:3: 2 cells, but line 1 has 3"),
        ("", "bad.csv: empty"),
        (
            "x1,x2,y\n0.1,0.2,cat\n0.3,0.4,cat\n",
            "bad.csv: the label column 'y' holds one class only",
        ),
        ('x1,x2,y\n0.1,0.2,"cat\n0.3,0.4,dog\n', "bad.csv:2: a quoted cell that is never closed"),
        ("x1,x2,y\n0.1,0.2,cat\n,,\n0.3,0.4,dog\n", "bad.csv:3: a row with no values"),
        ("x1,x2,y\n" + "1" * (2**20 + 10) + "\n", "bad.csv:2: a line longer than 1,048,576"),
    ],
)
def test_every_problem_in_a_csv_file_is_one_line_with_its_place(
    zoo_cli, tmp_path, content, message
):
    (tmp_path / "bad.csv").write_text(content)
    result = zoo_cli("train", "circle-v2", "--dataset", "bad.csv", "--epochs", "5")
    assert_one_line_error(result, message, status=1)
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").rglob("*.json"))


def test_a_missing_target_column_suggests_the_close_name(zoo_cli, pets):
    result = zoo_cli("train", "circle-v2", "--dataset", str(pets), "--target", "specis")
    assert_one_line_error(result, "pets.csv:1: no label column 'specis' (did you mean 'species'?)")


def test_param_flags_reach_the_factory_and_the_loader_and_info_shows_them(zoo_cli):
    result = zoo_cli(
        "info",
        "circle-v2",
        "--param",
        "hidden_units=64",
        "--dataset-param",
        "noise=0.2",
        "--dataset-param",
        "n_samples=500",
    )
    assert result.returncode == 0, result.stderr
    rows = {
        line.split()[0]: line.split()[1:]
        for line in result.stdout.splitlines()
        if line.startswith("  ")
    }
    assert rows["params.hidden_units"] == ["64", "override"]
    assert rows["dataset_params.noise"] == ["0.2", "override"]
    assert rows["dataset_params.n_samples"] == ["500", "override"]
    assert "Linear(in_features=2, out_features=64" in result.stdout
    trained = zoo_cli(
        "train", "circle-v2", "--param", "hidden_units=3", "--epochs", "2", "--json", "--no-plot"
    )
    assert json.loads(trained.stdout)["params"] == 2 * 3 + 3 + 3 * 3 + 3 + 3 + 1


def test_a_parameter_nothing_takes_lists_the_ones_that_are_taken(zoo_cli):
    assert_one_line_error(
        zoo_cli("train", "circle-v2", "--param", "hidden_unit=64"),
        "takes no parameter 'hidden_unit' (did you mean 'hidden_units'?)",
        "(it takes: hidden_units, in_features, out_features)",
    )
    with pytest.raises(DataError, match=r"dataset 'circles' takes no parameter 'nois' \(did you"):
        zoo.train("circle-v2", epochs=1, dataset_params={"nois": 0.2})
    assert_one_line_error(
        zoo_cli("train", "circle-v2", "--param", "64"), "is not NAME=VALUE", status=2
    )


def test_test_size_and_split_seed_are_flags(zoo_cli):
    result = zoo_cli(
        "train", "circle-v2", "--test-size", "0.5", "--split-seed", "7", "--epochs", "2", "--json"
    )
    assert result.returncode == 0, result.stderr
    run = zoo.train("circle-v2", test_size=0.5, split_seed=7, epochs=2)
    split = run.load_split()
    assert (
        len(split.X_train) == 500
        and json.loads(result.stdout)["test_acc"] == run.summary["test_acc"]
    )


def test_a_users_catalogue_adds_to_the_shipped_one_key_by_key(tmp_path):
    mine = tmp_path / "mine.yaml"
    mine.write_text(
        "models:\n"
        "  circle-v2:\n    lr: 0.05\n"
        "  circle-v2-tiny:\n    model: circle-v2\n    params: {hidden_units: 2}\n"
    )
    config = zoo.resolve_config("circle-v2", registry=mine)
    assert (config.momentum, config.lr) == (0.9, 0.05)  # the shipped 0.9 stays
    assert config.sources["momentum"] == "registry.yaml models.circle-v2"
    assert config.sources["lr"] == "mine.yaml models.circle-v2"
    variant = zoo.resolve_config("circle-v2-tiny", registry=mine)
    assert (variant.momentum, variant.lr, variant.params) == (0.9, 0.05, {"hidden_units": 2})
    more = tmp_path / "more.yaml"
    more.write_text("models:\n  circle-v2-tiny:\n    epochs: 7\n")
    stacked = zoo.resolve_config("circle-v2-tiny", registry=[mine, more])
    assert (stacked.epochs, stacked.params) == (7, {"hidden_units": 2})
    assert {"circle-v2-wide", "circle-v2-tiny"} <= set(zoo.list_models(registry=mine))


def test_unknown_datasets_and_parameters_in_a_catalogue_have_their_line(tmp_path):
    mine = tmp_path / "mine.yaml"
    mine.write_text("models:\n  circle-v2:\n    dataset: moon\n")
    with pytest.raises(CatalogueError) as caught:
        zoo.list_models(registry=mine)
    assert str(caught.value).startswith(f"{mine}:3: models.circle-v2.dataset: unknown dataset")
    assert "(did you mean 'moons'?)" in str(caught.value)
    mine.write_text("defaults:\n  dataset: moons\n  dataset_params: {nosie: 0.1}\n")
    with pytest.raises(CatalogueError) as caught:
        zoo.list_models(registry=mine)
    assert str(caught.value).startswith(f"{mine}:3: defaults.dataset_params: dataset 'moons'")
    assert "takes no parameter 'nosie' (did you mean 'noise'?)" in str(caught.value)


def test_a_model_that_does_not_fit_a_csv_file_says_so(tmp_path):
    path = tmp_path / "three.csv"
    X, y = make_moons(100, noise=0.1, random_state=0)
    path.write_text("".join(f"{a},{b},{a + b},{c}\n" for (a, b), c in zip(X, y)))
    run = zoo.train("circle-v2", data=str(path), epochs=5)  # in_features follows the data
    assert run.features == 3 and run.predict([[0.0, 0.0, 0.0]]).shape == (1,)
    with pytest.raises(ModelError, match="failed on"):
        zoo.train("circle-v0", data=str(path), epochs=1, params={"in_features": 2})


def test_models_compare_on_a_csv_file(zoo_cli, pets):
    result = zoo_cli(
        "compare", "circle-v2", "circle-v1", "--dataset", str(pets), "--seeds", "2",
        "--epochs", "100", "--format", "json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = {row["model"]: row for row in json.loads(result.stdout)["summary"]}
    assert set(summary) == {"circle-v2", "circle-v1"}
    assert {row["dataset"] for row in summary.values()} == {str(pets)}
    assert summary["circle-v2"]["test_acc"]["mean"] > summary["circle-v1"]["test_acc"]["mean"]


# -- CSV files as people have them: scikit-learn's own, notes before the table ------------------

SKLEARN_DATA = Path(sklearn.datasets.__file__).parent / "data"
# scikit-learn's shipped files: a first line of counts and class names, then rows whose last
# column is the class (0, 1, 2); `--target` numbers it, as in any file without a header.
SHIPPED = [
    ("iris.csv", 4, 3, "5"),
    ("wine_data.csv", 13, 3, "14"),
    ("breast_cancer.csv", 30, 2, "31"),
]


@pytest.mark.parametrize(("name", "features", "classes", "last"), SHIPPED)
def test_sklearns_shipped_csv_files_train_with_skip_rows(zoo_here, name, features, classes, last):
    path = SKLEARN_DATA / name
    assert path.read_text().splitlines()[0].split(",")[:2] == [
        str(len(path.read_text().splitlines()) - 1),
        str(features),
    ]
    trained = zoo_here(
        "train", "circle-v2", "--dataset", str(path), "--dataset-param", "skip_rows=1",
        "--epochs", "5", "--json", "--no-plot", "--out", "run",
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    run = zoo.load("run")
    assert (run.features, run.classes) == (features, list(range(classes)))
    assert run.config.dataset_params == {"path": str(path), "skip_rows": 1, "target": last}
    named = zoo.train(
        "circle-v2", data=str(path), epochs=5,
        dataset_params={"skip_rows": 1, "header": "none", "target": last},
    )  # fmt: skip
    assert named.summary["test_acc"] == json.loads(trained.stdout)["test_acc"]
    scored = zoo_here("eval", "run", "--data", str(path), "--json")  # read as the run read it
    assert json.loads(scored.stdout)["rows"] == len(path.read_text().splitlines()) - 1


@pytest.mark.parametrize(("name", "features", "classes", "last"), SHIPPED)
def test_the_first_line_of_sklearns_files_is_refused_with_the_parameter_that_skips_it(
    zoo_here, name, features, classes, last
):
    result = zoo_here("train", "circle-v2", "--dataset", str(SKLEARN_DATA / name))
    assert_one_line_error(
        result,
        f"{name}:1: column 3: ",
        "is not a number; features must be numbers; if line 1 is not part of the table, "
        "skip it: --dataset-param skip_rows=1",
        status=1,
    )
    assert not Path("runs").exists()


def test_skip_rows_and_header_come_from_a_catalogue_as_from_the_command_line(tmp_path):
    (tmp_path / "notes.csv").write_text(
        "Measured on 2024-05-01\n\n1990,2000,kind\n"
        + "".join(
            f"{a:.4f},{b:.4f},{'ab'[c]}\n" for (a, b), c in zip(*make_moons(200, random_state=2))
        )
    )
    catalogue = tmp_path / "mine.yaml"
    catalogue.write_text(
        "models:\n  noted:\n    model: circle-v2\n    dataset: csv\n    epochs: 5\n"
        "    dataset_params: {path: notes.csv, skip_rows: 1, header: first}\n"
        "  unnamed:\n    model: circle-v2\n    dataset: csv\n    epochs: 5\n"
        "    dataset_params: {path: notes.csv, skip_rows: 3, header: no}\n"  # YAML: false
    )
    run = zoo.train("noted", registry=catalogue)
    assert run.classes == ["a", "b"] and run.config.dataset_params["target"] == "kind"
    assert zoo.train("unnamed", registry=catalogue).config.dataset_params["target"] == "3"
    table = read_table(tmp_path / "notes.csv", skip_rows=1, header="first")
    assert table.columns == ["1990", "2000", "kind"] and table.lines[0] == 4
    as_data = read_table(tmp_path / "notes.csv", skip_rows=1)  # auto: numbers are no header
    assert as_data.columns == ["1", "2", "3"] and as_data.lines[0] == 3
    assert as_data.X[0].tolist() == [1990, 2000] and as_data.labels[0] == "kind"
    assert read_table(tmp_path / "notes.csv", skip_rows=3, header="none").lines[0] == 4


def test_a_title_line_above_the_header_is_named_with_the_fix(zoo_here, tmp_path):
    lines = [f"{a:.4f},{b:.4f},{c}" for (a, b), c in zip(*make_moons(100, random_state=4))]
    (tmp_path / "titled.csv").write_text("Pets, weighed\nweight,height,kind\n" + "\n".join(lines))
    assert_one_line_error(
        zoo_here("train", "circle-v2", "--dataset", "titled.csv"),
        "titled.csv:2: 3 cells, but line 1 has 2; every row needs one cell per column; "
        "if line 1 is not part of the table, skip it: --dataset-param skip_rows=1",
    )
    trained = zoo_here(
        "train", "circle-v2", "--dataset", "titled.csv", "--dataset-param", "skip_rows=1",
        "--epochs", "2", "--no-plot",
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr


@pytest.mark.parametrize(
    ("param", "message"),
    [
        ("skip_rows=-1", "skip_rows=-1: must be a whole number of lines, 0 or more"),
        ("skip_rows=two", "skip_rows='two': must be a whole number of lines, 0 or more"),
        ("header=frist", "header='frist': must be auto, first, none (did you mean 'first'?)"),
        ("skip_rows=1000", "pets.csv: nothing after the 1,000 skipped lines"),
    ],
)
def test_a_wrong_skip_rows_or_header_is_one_line(zoo_here, pets, param, message):
    result = zoo_here("train", "circle-v2", "--dataset", "pets.csv", "--dataset-param", param)
    assert_one_line_error(result, message, status=1)


# -- labels: classes a classifier can learn, numbers that fit ----------------------------------


def write_rows(path: Path, X: np.ndarray, labels: list[Any], header: str = "") -> Path:
    lines = [header] if header else []
    lines += [",".join([*(f"{v:.5f}" for v in row), str(label)]) for row, label in zip(X, labels)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_label_column_of_ids_is_refused_before_anything_is_written(zoo_here, tmp_path):
    X = np.random.default_rng(0).normal(size=(100_000, 2))
    write_rows(tmp_path / "ids.csv", X, [f"id{i}" for i in range(100_000)], "a,b,id")
    assert (tmp_path / "ids.csv").stat().st_size < 2.5e6
    result = zoo_here("train", "circle-v2", "--dataset", "ids.csv", "--out", "run")
    assert_one_line_error(
        result,
        f"ids.csv:{MOST_CLASSES + 2}: more than {MOST_CLASSES:,} distinct labels in column 'id'; "
        "is it the label column? (--target COLUMN picks another)",
    )
    assert not (tmp_path / "run").exists() and not (tmp_path / "runs").exists()


def test_fewer_than_ten_rows_a_class_is_refused_with_a_hint(zoo_here, tmp_path):
    X, y = make_moons(60, random_state=0)
    write_rows(tmp_path / "few.csv", X, [f"{c}{i % 4}" for i, c in enumerate(y)], "a,b,kind")
    assert_one_line_error(
        zoo_here("train", "circle-v2", "--dataset", "few.csv"),
        "dataset 'few.csv' has 8 classes in 60 rows, fewer than 10 rows a class: too few to learn "
        "from; is column 'kind' the label column? An ID or a measurement is not a class "
        "(--target COLUMN picks another)",
    )
    with pytest.raises(DataError, match=r"has 60 classes in 60 rows.*are its labels classes, not"):
        zoo.train("circle-v2", data=(X, np.arange(60)), epochs=1)
    with pytest.raises(DataError, match=f"has 1,200 classes; zoo takes at most {MOST_CLASSES:,}"):
        zoo.train("circle-v2", data=(np.zeros((20_000, 2)), np.arange(20_000) % 1200), epochs=1)


def test_a_label_column_that_looks_measured_warns_in_one_line(zoo_here, tmp_path):
    X, _ = make_moons(1000, noise=0.1, random_state=0)
    grades = np.round(X[:, 0] * 10) / 10  # a measurement to one decimal: 35 values
    write_rows(tmp_path / "grades.csv", X, [f"{g:.1f}" for g in grades])
    result = zoo_here("train", "circle-v2", "--dataset", "grades.csv", "--epochs", "2", "--no-plot")
    assert result.returncode == 0, result.stderr
    warned = [line for line in result.error_lines if "warning" in line]
    measured = [line for line in warned if "look like a measurement" in line]
    # One line for the labels; the only other warning is the run's own: 35 classes in 2
    # epochs learn nothing, and zoo says so.
    assert len(measured) == 1 and all(
        line in measured or "learned nothing" in line for line in warned
    )
    assert (
        "zoo: warning: the labels of dataset 'grades.csv' look like a measurement ("
        in (measured[0])
    )
    assert (
        "is this a regression target? zoo trains classifiers, one class per distinct value"
        in measured[0]
    )
    with pytest.raises(DataError, match=r"got float64 \(fractions: is this a regression target"):
        zoo.train("circle-v2", data=(X, grades), epochs=1)


@pytest.mark.parametrize("label", ["1e300", "18446744073709551615", "9223372036854775808"])
def test_a_label_too_large_for_a_class_is_one_line(zoo_here, tmp_path, label):
    X, y = make_moons(100, random_state=0)
    write_rows(tmp_path / "big.csv", X, [label if c else "7" for c in y], "a,b,y")
    line = 2 + int(np.argmax(y))
    assert_one_line_error(
        zoo_here("train", "circle-v2", "--dataset", "big.csv"),
        f"big.csv:{line}: label '{label}' is too large a number for a class (int64 holds up to "
        "9.2e18); use smaller whole numbers or text labels",
    )


def test_whole_number_labels_are_kept_exactly_as_written(tmp_path):
    X, y = make_moons(100, random_state=0)
    labels = ["9007199254740993" if c else "2.0" for c in y]  # 2**53 + 1: no float64 holds it
    table = read_table(write_rows(tmp_path / "exact.csv", X, labels, "a,b,y"))
    assert sorted(set(table.labels.tolist())) == [2, 2**53 + 1]
    assert (
        read_table(write_rows(tmp_path / "tiny.csv", X, ["1e-400", "0"] * 50)).labels[0] == "1e-400"
    )


@pytest.mark.parametrize(
    "y",
    [
        lambda y: y * 1e300,
        lambda y: np.where(y == 1, 2**64 - 1, 0).astype(np.uint64),
    ],
    ids=["1e300", "2**64-1"],
)
def test_array_labels_too_large_for_a_class_are_one_line(y):
    X, labels = make_moons(100, random_state=0)
    with pytest.raises(DataError, match=r"y holds 1\.8446\d*e\+19|y holds 1e\+300") as caught:
        zoo.train("circle-v2", data=(X, y(labels)), epochs=1)
    assert "too large a number for a class (int64 holds up to 9.2e18)" in str(caught.value)
    kept = zoo.train(
        "circle-v2", data=(X, np.where(labels, 2**63 - 1, 0).astype(np.uint64)), epochs=1
    )
    assert kept.classes == [0, 2**63 - 1]


def test_a_feature_beyond_float32_is_named_not_blamed_on_the_learning_rate(zoo_here, tmp_path):
    X, y = make_moons(100, random_state=0)
    X[17, 1] = 1e39  # a float64 that float32 cannot hold
    with pytest.raises(DataError, match=r"X\[17, 1\] is 1e\+39, beyond float32's range"):
        zoo.train("circle-v2", data=(X, y), epochs=1)
    with pytest.raises(DataError, match=r"fit: X\[17, 1\] is 1e\+39, beyond float32's range"):
        ZooClassifier(epochs=1).fit(X, y)
    (tmp_path / "wide.csv").write_text(
        "a,b,y\n" + "".join(f"{a},{b},{c}\n" for (a, b), c in zip(X.tolist(), y))
    )
    assert_one_line_error(
        zoo_here("train", "circle-v2", "--dataset", "wide.csv"),
        "wide.csv:19: column 2 (b): '1e+39' is not a finite float32",
    )


def test_eval_scores_a_file_whose_rows_are_all_one_class(zoo_here, pets, tmp_path):
    zoo.train("circle-v2", data=str(pets), epochs=50, out=tmp_path / "run", plot=False)
    (tmp_path / "cats.csv").write_text("x1,x2,species\n-1.0,0.2,cat\n-0.9,0.3,cat\n")
    result = zoo_here("eval", "run", "--data", "cats.csv", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["rows"] == 2


# -- the fast readers read what the careful one reads ------------------------------------------


@pytest.mark.parametrize("loader", [load_breast_cancer, load_wine, load_digits, load_iris])
def test_sklearn_tables_written_as_csv_read_back_exactly_by_every_reader(tmp_path, loader):
    data = loader(as_frame=True)
    frame = data.frame.assign(target=np.asarray(data.target_names)[data.target])
    frame.to_csv(tmp_path / "table.csv", index=False)
    careful = careful_read(tmp_path / "table.csv")
    assert np.array_equal(careful.X, data.data.to_numpy().astype(np.float32))
    assert careful.labels.tolist() == frame["target"].tolist()
    for read in (read_table, arrow_read):
        table = read(tmp_path / "table.csv")
        assert np.array_equal(table.X, careful.X) and table.X.flags.c_contiguous
        assert table.labels.tolist() == careful.labels.tolist()
        assert table.lines.tolist() == careful.lines.tolist() == list(range(2, len(frame) + 2))


def test_the_csv_examples_readme_shows_are_what_zoo_prints(zoo_here, tmp_path):
    shutil.copy(SKLEARN_DATA / "iris.csv", tmp_path)
    assert (tmp_path / "iris.csv").read_text().splitlines()[:2] == console_block("head -2 iris.csv")
    diabetes = load_diabetes(as_frame=True, scaled=False).frame
    diabetes.to_csv(tmp_path / "diabetes.csv", index=False)
    X = np.random.default_rng(0).normal(size=(100_000, 2))
    write_rows(tmp_path / "visits.csv", X, [f"v{i:06d}" for i in range(100_000)], "age,min,visitor")
    for command in (
        "zoo train circle-v2 --dataset iris.csv",
        "zoo train circle-v2 --dataset visits.csv",
        "zoo train circle-v2 --dataset diabetes.csv",
    ):
        assert zoo_here(*command.split()[1:]).stderr.splitlines() == console_block(command)
