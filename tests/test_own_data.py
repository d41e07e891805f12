"""Your own data and settings: CSV datasets, --param and --dataset-param, catalogues in layers."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from conftest import assert_one_line_error
from sklearn.datasets import make_moons

import zoo
from zoo.errors import CatalogueError, DataError, ModelError


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
    assert len(split.X_train) == 500 and json.loads(result.stdout)["test_acc"] == run["test_acc"]


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
