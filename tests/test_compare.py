"""zoo compare: many models, datasets and seeds; each seed exactly its solo run."""

from __future__ import annotations

import csv
import io
import json

import pytest
import torch
from conftest import SUMMARY_KEYS, assert_one_line_error

import zoo
from zoo.errors import ConfigError, ModelError, UnknownNameError

STAT_KEYS = {"mean", "std", "min", "max"}


def test_the_lessons_three_models_over_five_seeds(zoo_cli):
    result = zoo_cli(
        "compare", "circle-v0", "circle-v1", "circle-v2", "--seeds", "5", "--format", "json"
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["seeds"] == [42, 43, 44, 45, 46]
    assert len(report["results"]) == 15
    assert all(SUMMARY_KEYS <= set(record) for record in report["results"])
    summary = {row["model"]: row for row in report["summary"]}
    assert set(summary) == {"circle-v0", "circle-v1", "circle-v2"}
    for row in summary.values():
        assert set(row["test_acc"]) == STAT_KEYS and set(row["train_acc"]) == STAT_KEYS
        assert row["seeds"] == 5 and row["params"] > 0 and row["seconds"] > 0
    assert summary["circle-v2"]["test_acc"]["mean"] >= 99.0
    # Five seeds cannot tell two comparisons apart at p<0.05 (2 x 2/2**5 = 0.125): it says so.
    assert summary["circle-v2"]["verdict"].startswith("best mean; not clearly better than")
    for linear in ("circle-v0", "circle-v1"):
        assert 40.0 <= summary[linear]["test_acc"]["mean"] <= 60.0
        assert summary[linear]["verdict"] == (
            "too few seeds to tell (5; need 7 for p<0.05 over 2 comparisons)"
        )
        assert summary[linear]["p_improvement"] == 1.0  # yet every seed of v2 beat every one
        assert summary[linear]["difference"]["high"] < -40  # by over 40 points
    assert [row["model"] for row in report["summary"]][0] == "circle-v2"  # best first


def test_a_compared_seed_equals_its_solo_zoo_train_run(zoo_cli):
    compared = zoo_cli(
        "compare", "circle-v2", "--seed-list", "7", "--epochs", "300", "--format", "json"
    )
    solo = zoo_cli("train", "circle-v2", "--seed", "7", "--epochs", "300", "--json", "--no-plot")
    assert compared.returncode == 0 and solo.returncode == 0, compared.stderr + solo.stderr
    record = json.loads(compared.stdout)["results"][0]
    alone = json.loads(solo.stdout)
    for key in ("train_acc", "test_acc", "train_loss", "test_loss", "epochs", "params"):
        assert record[key] == alone[key], key  # equal to the bit, not just close


@pytest.mark.parametrize(
    ("model", "settings"),
    [
        ("circle-v2", {"epochs": 200}),
        ("circle-v2", {"epochs": 20, "batch_size": 30}),  # the last batch is partial
        ("circle-v2-wide", {"epochs": 30, "optimizer": "adam", "lr": 0.01}),
        ("blob-v0", {"epochs": 30, "weight_decay": 0.001}),
        ("circle-v0", {"epochs": 30, "dataset_params": {"n_samples": 1003}}),
    ],
)
@pytest.mark.parametrize("workers", [1, 2])
def test_seeds_trained_together_have_their_solo_weights_to_the_bit(
    tmp_path, model, settings, workers
):
    comparison = zoo.compare([model], seed_list=[3, 11, 12], workers=workers, **settings)
    result = comparison.job_results[0]
    assert result.batched
    for seed, state in zip([3, 11, 12], result.states):
        run_dir = tmp_path / f"{seed}-{workers}"
        zoo.train(model, seed=seed, out=run_dir, plot=False, **settings)
        solo = torch.load(run_dir / "weights.pt", weights_only=True)
        assert solo.keys() == state.keys()
        assert all(torch.equal(solo[name], state[name]) for name in solo), seed


def test_a_model_that_cannot_be_batched_trains_one_seed_at_a_time(plugins_in_process, tmp_path):
    plugins_in_process("stateful")
    comparison = zoo.compare(["batchnorm-net"], seed_list=[1, 2], workers=1)
    result = comparison.job_results[0]
    assert not result.batched
    solo = zoo.train("batchnorm-net", seed=2, out=tmp_path / "run", plot=False)
    assert comparison.results[1]["test_acc"] == solo["test_acc"]
    assert comparison.results[1]["train_loss"] == solo["train_loss"]


def test_wildcards_and_several_datasets_give_one_block_per_dataset(zoo_cli):
    result = zoo_cli(
        "compare",
        "circle-v2*",
        "--dataset",
        "moons",
        "--dataset",
        "circles",
        "--seeds",
        "2",
        "--epochs",
        "100",
    )
    assert result.returncode == 0, result.stderr
    blocks = result.stdout.strip().split("\n\n")
    assert [block.splitlines()[0] for block in blocks] == [
        "moons: 2 seeds (42, 43); varied: init",
        "circles: 2 seeds (42, 43); varied: init",
    ]
    for block in blocks:
        models = [line.split()[0] for line in block.splitlines()[2:]]
        assert sorted(models) == ["circle-v2", "circle-v2-wide"]


def test_models_within_each_others_spread_are_not_crowned():
    comparison = zoo.compare(
        ["circle-v2", "circle-v2-wide"], seeds=3, datasets=["moons"], epochs=300
    )
    best, other = comparison.summary
    assert other["verdict"] == "too few seeds to tell (3; need 6 for p<0.05)"
    assert other["against"] == best["model"] and other["shared_seeds"] == 3
    assert best["verdict"] == f"best mean; not clearly better than {other['model']}"


def test_baselines_are_fitted_on_the_same_split(zoo_cli):
    result = zoo_cli(
        "compare", "circle-v2", "--seeds", "2", "--epochs", "50", "--baselines", "--format", "json"
    )
    assert result.returncode == 0, result.stderr
    summary = {row["model"]: row for row in json.loads(result.stdout)["summary"]}
    assert {"sklearn:logistic-regression", "sklearn:svm-rbf", "sklearn:mlp(10,10,relu)"} <= set(
        summary
    )
    assert summary["sklearn:mlp(10,10,relu)"]["params"] == 151  # the same architecture
    # The same 800/200 split: refit one baseline by hand and get the same accuracy.
    from sklearn.linear_model import LogisticRegression

    from zoo.plugins.loader import load_plugins
    from zoo.training.data import load_split

    split = load_split(load_plugins().dataset("circles"), {}, 0.2, 42)
    fitted = LogisticRegression().fit(split.X_train, split.y_train)  # scikit-learn's defaults
    expected = (fitted.predict(split.X_test) == split.y_test).mean() * 100
    assert summary["sklearn:logistic-regression"]["test_acc"]["mean"] == pytest.approx(expected)


def test_out_writes_every_format_and_plot_draws_the_grid(zoo_cli, tmp_path):
    out = tmp_path / "report"
    result = zoo_cli(
        "compare",
        "circle-v0",
        "circle-v2",
        "--seeds",
        "2",
        "--epochs",
        "50",
        "--out",
        str(out),
        "--plot",
        "--format",
        "csv",
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "boundaries.png",
        "compare.json",
        "parts",
        "results.csv",
        "results.json",
        "summary.csv",
        "summary.md",
    ]
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [row["model"] for row in rows] == ["circle-v2", "circle-v0"]
    assert (out / "summary.csv").read_text() == result.stdout
    assert len(list(csv.DictReader((out / "results.csv").open()))) == 4
    assert "| circle-v2 |" in (out / "summary.md").read_text()
    assert (out / "boundaries.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_markdown_and_table_formats(zoo_cli):
    markdown = zoo_cli(
        "compare", "circle-v0", "--seeds", "2", "--epochs", "10", "--format", "markdown"
    )
    assert markdown.stdout.startswith(
        "### circles: 2 seeds (42, 43); varied: init\n\n| Model | Params |"
    )
    table = zoo_cli("compare", "circle-v0", "--seeds", "2", "--epochs", "10")
    header = table.stdout.splitlines()[1]
    assert header.split()[:4] == ["MODEL", "PARAMS", "TEST", "ACC"]


@pytest.mark.parametrize(
    ("args", "message", "status"),
    [
        (["resnet*"], "no model matches 'resnet*'", 1),
        (["circle-v9"], "unknown model 'circle-v9'", 1),
        (["circle-v2", "--seeds", "0"], "--seeds", 2),
        (["circle-v2", "--seeds", "2", "--seed-list", "1,2"], "not both", 2),
        (["circle-v2", "--seed-list", "1,x"], "comma-separated list", 2),
        (["circle-v2", "--dataset", "moon"], "unknown dataset 'moon'", 1),
        (["circle-v2", "--optimizer", "adam", "--momentum", "0.5"], "takes no momentum", 1),
    ],
)
def test_bad_compare_input_is_one_line_and_writes_nothing(zoo_cli, tmp_path, args, message, status):
    out = tmp_path / "report"
    assert_one_line_error(zoo_cli("compare", *args, "--out", str(out)), message, status=status)
    assert not out.exists()


def test_a_dataset_a_model_cannot_take_is_refused_before_training(plugins_in_process):
    plugins_in_process("fixed_shapes")
    with pytest.raises(ModelError, match="'fixed-net' gives output of shape"):
        zoo.compare(["circle-v2", "fixed-net"], datasets=["blobs"], seeds=2)


def test_seed_counts_are_checked_in_python_too():
    with pytest.raises(ConfigError, match="seeds"):
        zoo.compare(["circle-v2"], seeds=0)
    with pytest.raises(UnknownNameError, match="no model matches"):
        zoo.compare(["nothing-*"])


def test_diverging_seeds_are_reported_not_fatal():
    comparison = zoo.compare(["circle-v2"], seeds=2, epochs=20, lr=1e30)
    row = comparison.summary[0]
    assert row["diverged"] == 2
    assert all(record["status"] == "diverged" for record in comparison.results)


def test_compare_takes_json_as_every_other_command_does(zoo_cli):
    args = ["compare", "circle-v0", "--seeds", "2", "--epochs", "10"]
    with_json, with_format = zoo_cli(*args, "--json"), zoo_cli(*args, "--format", "json")
    assert with_json.returncode == 0 and with_format.returncode == 0, with_json.stderr
    first, second = json.loads(with_json.stdout), json.loads(with_format.stdout)
    for report in (first, second):
        for record in report["results"] + report["summary"]:
            record.pop("seconds")
    assert first == second


def test_a_comparison_shows_itself_as_a_table_in_a_terminal_and_in_a_notebook():
    comparison = zoo.compare(["circle-v0", "circle-v1"], seeds=2, epochs=10)
    assert repr(comparison) == comparison.render("table").rstrip("\n")
    assert repr(comparison).splitlines()[0] == "circles: 2 seeds (42, 43); varied: init"
    page = comparison._repr_html_()
    assert page.count("<table>") == 1 and page.count("<tr>") == 3  # header and two models
    assert "<th>MODEL</th>" in page and "<td>circle-v0</td>" in page


def test_the_picture_names_the_seed_it_draws_and_that_seeds_own_accuracy():
    comparison = zoo.compare(["circle-v2", "circle-v0"], seeds=3, epochs=60)
    figure = comparison.plot()
    titles = [axis.get_title() for axis in figure.axes if axis.get_visible()]
    assert len(titles) == 2
    for title in titles:
        model = title.split(" on ")[0]
        seed42 = next(r for r in comparison.results if r["model"] == model and r["seed"] == 42)
        mean = next(r for r in comparison.summary if r["model"] == model)["test_acc"]["mean"]
        assert title == (
            f"{model} on circles\nseed 42 shown: {seed42['test_acc']:.1f}% test "
            f"(mean of 3 seeds: {mean:.1f}%)"
        )
