"""zoo compare: many models, datasets and seeds; each seed exactly its solo run."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from conftest import SUMMARY_KEYS, Result, assert_one_line_error
from markdown_it import MarkdownIt

import zoo
from zoo.cli import main
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
    assert all(set(record) >= SUMMARY_KEYS for record in report["results"])
    summary = {row["model"]: row for row in report["summary"]}
    assert set(summary) == {"circle-v0", "circle-v1", "circle-v2"}
    for row in summary.values():
        assert set(row["test_acc"]) == STAT_KEYS and set(row["train_acc"]) == STAT_KEYS
        assert row["seeds"] == 5 and row["params"] > 0 and row["seconds"] > 0
    assert summary["circle-v2"]["test_acc"]["mean"] >= 99.0
    # Five seeds cannot tell two comparisons apart at p<0.05 (2 x 2/2**5 = 0.125): it says so.
    too_few = "too few seeds to tell (5; need 7 for p<0.05 over 2 comparisons)"
    assert summary["circle-v2"]["verdict"] == f"best mean; {too_few}"
    for linear in ("circle-v0", "circle-v1"):
        assert 40.0 <= summary[linear]["test_acc"]["mean"] <= 60.0
        assert summary[linear]["verdict"].startswith(too_few)  # and "; learned nothing on ..."
        assert summary[linear]["p_improvement"] == 1.0  # yet every seed of v2 beat every one
        assert summary[linear]["difference"]["high"] < -40  # by over 40 points
    assert next(row["model"] for row in report["summary"]) == "circle-v2"  # best first


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
    assert comparison.results[1]["test_acc"] == solo.summary["test_acc"]
    assert comparison.results[1]["train_loss"] == solo.summary["train_loss"]


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
        "moons: 2 seeds (42, 43); varied: init; majority class 50.00%",
        "circles: 2 seeds (42, 43); varied: init; majority class 50.00%",
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
    assert best["verdict"] == "best mean; too few seeds to tell (3; need 6 for p<0.05)"


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
        "README.md",  # the comparison's card
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
        "### circles: 2 seeds (42, 43); varied: init; majority class 50.00%\n\n| Model | Params |"
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
    assert (
        repr(comparison).splitlines()[0]
        == "circles: 2 seeds (42, 43); varied: init; majority class 50.00%"
    )
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


# -- in-process command line, real tables --------------------------------------------------


@pytest.fixture
def zoo_here(tmp_path, monkeypatch, capsys) -> Callable[..., Result]:
    """`zoo ARGS` in this process (click's own parsing and errors), in a temporary folder."""
    monkeypatch.chdir(tmp_path)

    def run(*args: str) -> Result:
        status = main(list(args))
        out, err = capsys.readouterr()
        return Result(status, out, err)

    return run


def write_table(path: Path, bunch: Any, label_first: bool = False) -> Path:
    """A scikit-learn dataset as a user has it: a header line, text labels."""
    names = [name.replace(" ", "_") for name in bunch.feature_names]
    labels = bunch.target_names[bunch.target]
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["label", *names] if label_first else [*names, "label"])
        for row, label in zip(bunch.data, labels):
            cells = [repr(float(value)) for value in row]
            writer.writerow([label, *cells] if label_first else [*cells, label])
    return path


def test_reach_names_the_accuracy_whose_first_epoch_is_reported(zoo_here):
    args = ["compare", "circle-v2", "--seeds", "2", "--epochs", "100", "--reach", "60"]
    report = json.loads(zoo_here(*args, "--json").stdout)
    assert report["reach"] == 60.0 and "target" not in report
    for record in report["results"]:
        assert record["epochs_to_target"] is not None  # v2 passes 60% within 100 epochs
    table = zoo_here(*args)
    assert table.returncode == 0, table.stderr
    assert "EPOCHS TO 60%" in table.stdout.splitlines()[1]


def test_an_old_numeric_target_points_at_reach(zoo_here):
    result = zoo_here("compare", "circle-v2", "--target", "99", "--seeds", "2")
    assert_one_line_error(result, "--target names the label column", "--reach 99", status=2)
    with pytest.raises(ConfigError, match=r"reach=99"):
        zoo.compare(["circle-v2"], seeds=2, target=99)


def test_target_names_the_csv_label_column_as_in_train(zoo_here, tmp_path):
    from sklearn.datasets import load_iris

    table = write_table(tmp_path / "iris.csv", load_iris(), label_first=True)
    args = ["--dataset", str(table), "--target", "label", "--epochs", "20"]
    compared = zoo_here("compare", "blob-v0", "--seed-list", "5", *args, "--json")
    assert compared.returncode == 0, compared.stderr
    record = json.loads(compared.stdout)["results"][0]
    solo = zoo_here("train", "blob-v0", "--seed", "5", *args, "--json", "--no-plot")
    assert solo.returncode == 0, solo.stderr
    alone = json.loads(solo.stdout)
    assert record["task"] == "multi-class"
    for key in ("train_acc", "test_acc", "train_loss", "test_loss"):
        assert record[key] == alone[key], key


def test_an_older_compare_folder_that_says_target_still_resumes(zoo_here, tmp_path):
    out = tmp_path / "out"
    first = zoo_here("compare", "circle-v0", "--seeds", "2", "--epochs", "10", "--out", str(out))
    assert first.returncode == 0, first.stderr
    request = json.loads((out / "compare.json").read_text())
    request["target"] = request.pop("reach")  # as zoo wrote it before --reach
    del request["vary"]
    (out / "compare.json").write_text(json.dumps(request))
    (out / "results.json").unlink()
    next((out / "parts").glob("*.pt")).unlink()  # stopped before its end

    resumed = zoo_here("compare", "--resume", str(out), "--json")
    assert resumed.returncode == 0, resumed.stderr
    report = json.loads(resumed.stdout)
    assert report["reach"] == 99.0 and report["vary"] == ["init"]
    assert [r["seed"] for r in report["results"]] == [42, 43]


def test_a_diverged_seeds_loss_shows_as_diverged_not_as_a_number():
    comparison = zoo.compare(["circle-v2"], seeds=2, epochs=20, lr=1e30)
    header, row = comparison.render("table").splitlines()[1:3]
    loss = header.index("TEST LOSS")
    assert row[loss:].split()[0] == "diverged"
    assert comparison.summary[0]["test_loss"] is None  # no seed left whose loss means anything
    assert all(record["status"] == "diverged" for record in comparison.results)


# -- every source of variance ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("vary", "workers", "expected"),
    [
        ("split", 1, lambda seed: (42, seed, 42)),  # (--seed, --split-seed, --order-seed)
        ("order", 2, lambda seed: (42, 42, seed)),
        ("all", 1, lambda seed: (seed, seed, seed)),
    ],
    ids=["split", "order", "all"],
)
def test_each_varied_seed_equals_zoo_train_with_its_seeds_to_the_bit(
    tmp_path, vary, workers, expected
):
    settings = {"epochs": 20, "batch_size": 100}  # mini-batches: there is an order to vary
    comparison = zoo.compare(
        ["circle-v2"], seed_list=[3, 11, 12], vary=vary, workers=workers, **settings
    )
    result = comparison.job_results[0]
    assert result.batched  # other splits, as many rows: still one stack
    for record, state in zip(comparison.results, result.states):
        seeds = (record["init_seed"], record["split_seed"], record["order_seed"])
        assert seeds == expected(record["seed"])
        run_dir = tmp_path / f"{vary}-{record['seed']}"
        zoo.train(
            "circle-v2",
            seed=seeds[0],
            split_seed=seeds[1],
            order_seed=seeds[2],
            out=run_dir,
            plot=False,
            **settings,
        )
        solo = torch.load(run_dir / "weights.pt", weights_only=True)
        assert all(torch.equal(solo[name], state[name]) for name in solo), record["seed"]
    accuracies = {record["test_acc"] for record in comparison.results}
    assert len(accuracies) > 1  # the seeds did differ


@pytest.mark.parametrize(
    ("vary", "settings", "heading"),
    [
        (None, {}, "varied: init"),
        (None, {"batch_size": 100}, "varied: init, order"),  # the order follows --seed
        ("split", {"batch_size": 100}, "varied: split"),
        ("all", {}, "varied: init, split (full batch: no batch order to vary)"),
        ("all", {"batch_size": 100}, "varied: init, split, order"),
    ],
)
def test_the_report_says_which_sources_of_variance_varied(vary, settings, heading):
    comparison = zoo.compare(["circle-v0"], seeds=2, epochs=3, vary=vary, **settings)
    first = comparison.render("table").splitlines()[0]
    assert first.startswith(f"circles: 2 seeds (42, 43); {heading}; majority class ")
    assert comparison.to_json()["vary"] == list(vary_names(vary))
    assert comparison.render("markdown").startswith(f"### circles: 2 seeds (42, 43); {heading}")


def vary_names(vary: str | None) -> tuple[str, ...]:
    return {None: ("init",), "split": ("split",), "all": ("init", "split", "order")}[vary]


def test_the_split_seed_of_an_unvaried_split_stays_the_configured_one():
    comparison = zoo.compare(["circle-v0"], seeds=3, epochs=3)
    assert [r["split_seed"] for r in comparison.results] == [42, 42, 42]
    assert [r["init_seed"] for r in comparison.results] == [42, 43, 44]


def test_varying_only_the_order_of_full_batch_training_is_refused(zoo_here):
    with pytest.raises(ConfigError, match="no batch order to vary"):
        zoo.compare(["circle-v0"], seeds=2, vary="order")
    bad = zoo_here("compare", "circle-v0", "--vary", "weights")
    assert_one_line_error(bad, "'weights' is not a source of variance", "init, split, order")


# How a verdict reads, with its interval: "worse than B by D pp [LOW, HIGH], p=P" (D the best's
# lead) or "no clear difference from B (D pp [LOW, HIGH]...)" (D the row's signed difference).
WORSE = re.compile(r"worse than (\S+) by (\d+\.\d) pp \[(-?\d+\.\d), (-?\d+\.\d)\], p[=<][\d.]+")
UNCLEAR = re.compile(
    r"no clear difference from (\S+) \(([+-]\d+\.\d) pp \[(-?\d+\.\d), (-?\d+\.\d)\]"
    r"(?:; p=[\d.]+)?\)"
)


def test_whether_the_wide_variants_lead_survives_split_variance_is_reported(zoo_here):
    # `zoo compare circle-v2 circle-v2-wide --seeds 10 --vary all`, at 300 epochs: every seed
    # of both reaches 99% well before that, and the default 1000 take 15-25 s on this machine.
    args = ["circle-v2", "circle-v2-wide", "--seeds", "10", "--vary", "all", "--epochs", "300"]
    result = zoo_here("compare", *args, "--out", "out")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    # Full-batch training has no batch order: "all" varies the weights and the split.
    assert lines[0].startswith(
        "circles: 10 seeds (42 ... 51); varied: init, split (full batch: no batch order to "
        "vary); majority "
    )
    report = json.loads(Path("out/results.json").read_text())
    assert report["vary"] == ["init", "split", "order"]  # what was asked
    assert [r["split_seed"] for r in report["results"] if r["model"] == "circle-v2"] == list(
        range(42, 52)
    )  # each seed its own split
    best, other = report["summary"]
    assert best["verdict"] in ("best", f"best mean; not clearly better than {other['model']}")
    assert other["shared_seeds"] == 10 and other["against"] == best["model"]
    verdict = other["verdict"]
    [row] = [line for line in lines if line.startswith(other["model"] + " ")]
    assert row.endswith(f"  {verdict}")  # the table's verdict is the JSON's
    d = other["difference"]
    if worse := WORSE.fullmatch(verdict):
        assert other["p_holm"] < 0.05 and d["high"] < 0
        shown = (-d["estimate"], -d["high"], -d["low"])
    else:
        unclear = UNCLEAR.fullmatch(verdict)
        assert unclear, verdict  # 10 shared seeds: enough to tell (6 would do)
        assert other["p_holm"] >= 0.05 or d["low"] <= 0 <= d["high"]
        shown = (d["estimate"], d["low"], d["high"])
    match = worse or unclear
    assert match.group(1) == best["model"]
    assert [float(n) for n in match.groups()[1:4]] == [round(n, 1) for n in shown]


# -- baselines that hold on real data -------------------------------------------------------


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # 5 epochs, asked
@pytest.mark.parametrize("loader", ["load_breast_cancer", "load_wine"])
def test_baselines_on_a_real_table_sit_in_its_block_with_a_majority_row(zoo_here, tmp_path, loader):
    import sklearn.datasets

    from zoo.comparison.baselines import MAJORITY

    bunch = getattr(sklearn.datasets, loader)()
    table = str(write_table(tmp_path / f"{loader}.csv", bunch))
    result = zoo_here(
        "compare", "circle-v0", "circle-v2", "blob-v0", "--dataset", table,
        "--baselines", "--seeds", "5", "--epochs", "5", "--out", "out",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "out" / "results.json").read_text())
    summary = {row["model"]: row for row in report["summary"]}
    assert {row["dataset"] for row in summary.values()} == {table}  # one block, the file's
    assert {MAJORITY, "sklearn:logistic-regression", "sklearn:svm-rbf"} <= set(summary)
    assert "sklearn:mlp(10,10,relu)" in summary  # circle-v2's layers, as scikit-learn's MLP
    assert summary["sklearn:mlp(10,10,relu)"]["params"] == summary["circle-v2"]["params"]
    assert not any(row["failed"] for row in summary.values())
    # The printed table: one block, headed by the file, every row (baselines too) under it.
    heading, header, *rows = result.stdout.splitlines()[: 2 + len(summary)]
    assert heading.startswith(f"{table}: 5 seeds (42, 43, 44, 45, 46); varied: init; majority")
    assert header.startswith("MODEL ")
    assert sorted(row.split()[0] for row in rows) == sorted(summary)
    assert not [line for line in result.stdout.splitlines() if line.startswith("csv")]
    # The MLP is scikit-learn's own: adam at its default rate (not zoo's SGD at lr 0.1 with
    # momentum 0.9, which diverged on unscaled tables), for zoo's 5 epochs, scaled as zoo is.
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from zoo.plugins.loader import load_plugins
    from zoo.training.data import load_split

    split = load_split(load_plugins().dataset("csv"), {"path": table}, 0.2, 42)
    for record in (r for r in report["results"] if r["model"] == "sklearn:mlp(10,10,relu)"):
        mlp = MLPClassifier((10, 10), solver="adam", max_iter=5, random_state=record["seed"])
        fitted = make_pipeline(StandardScaler(), mlp).fit(split.X_train, split.y_train)
        assert record["test_acc"] == np.mean(fitted.predict(split.X_test) == split.y_test) * 100
    # The majority row scores the test split's share of the training split's commonest class.
    from sklearn.model_selection import train_test_split

    labels = bunch.target_names[bunch.target]
    train, test = train_test_split(labels, test_size=0.2, random_state=42)
    values, counts = np.unique(train, return_counts=True)
    share = np.mean(test == values[np.argmax(counts)]) * 100
    assert summary[MAJORITY]["test_acc"]["mean"] == pytest.approx(share)
    # Scaled as the run is (standard, on a CSV file), the classic tools do what they should.
    assert summary["sklearn:logistic-regression"]["test_acc"]["min"] >= 95.0
    assert summary["sklearn:svm-rbf"]["test_acc"]["min"] >= 95.0


def test_the_majority_rate_is_on_every_page_and_a_row_that_learned_nothing_says_so():
    # Without --baselines too: "better than chance" needs the chance rate beside the rows.
    comparison = zoo.compare(["circle-v0", "circle-v2"], epochs=60)
    assert comparison.seeds == list(range(42, 52))  # 10 by default: enough for a verdict
    rows = {row["model"]: row for row in comparison.summary}
    linear = rows["circle-v0"]  # a straight line through two rings: 50% give or take a point
    assert linear["majority_acc"] == 50.0 and linear["learned_nothing"] >= 5
    assert linear["verdict"].startswith("worse than circle-v2 by")
    assert linear["verdict"].endswith(
        f"; learned nothing on {linear['learned_nothing']} of 10 seeds"
    )
    assert rows["circle-v2"]["learned_nothing"] == 0 and rows["circle-v2"]["verdict"] == "best"
    for fmt in ("table", "markdown"):
        assert "varied: init; majority class 50.00%" in comparison.render(fmt)


def test_a_best_row_that_learned_nothing_is_not_called_best_alone(tmp_path):
    # Raw breast-cancer features at a large lr: every model answers the majority class.
    import sklearn.datasets

    table = str(write_table(tmp_path / "bc.csv", sklearn.datasets.load_breast_cancer()))
    comparison = zoo.compare(["circle-v0"], datasets=[table], seeds=2, epochs=3, scale="none")
    (row,) = comparison.summary
    assert row["learned_nothing"] == 2
    assert row["verdict"] == "only entry; learned nothing on 2 of 2 seeds"


def test_a_baseline_that_cannot_be_fitted_is_a_row_that_says_why_and_resume_finishes(
    zoo_here, tmp_path
):
    from sklearn.datasets import load_iris

    from zoo.comparison.baselines import MAJORITY

    iris = load_iris()
    # Twenty rows of iris (ten a class, as zoo asks of every dataset), the two of a second
    # species where the split puts them: rows 0 and 1 are test rows with split_seed 42.
    # Fitted on one species, logistic regression and the SVM refuse.
    rows = [50, 51, *range(18)]
    iris.data, iris.target = iris.data[rows], iris.target[rows]
    table = write_table(tmp_path / "rare.csv", iris)
    out = tmp_path / "out"
    args = ["circle-v2", "--dataset", str(table), "--baselines", "--seeds", "2", "--epochs", "5"]
    first = zoo_here("compare", *args, "--out", str(out), "--json")
    assert first.returncode == 0, first.stderr
    assert "Traceback" not in first.stderr
    summary = {row["model"]: row for row in json.loads(first.stdout)["summary"]}
    failed = summary["sklearn:logistic-regression"]
    assert failed["failed"].startswith("ValueError: This solver needs samples of at least 2")
    assert failed["verdict"] == f"failed: {failed['failed']}"
    assert failed["test_acc"] is None and failed["dataset"] == str(table)
    svm = summary["sklearn:svm-rbf"]  # scikit-learn's own refusal, in its own words
    assert svm["verdict"] == (
        "failed: ValueError: The number of classes has to be greater than one; got 1 class "
        "(seed 42)"
    )
    assert summary["circle-v2"]["test_acc"] is not None
    assert summary[MAJORITY]["failed"] is None  # one class is all it needs

    # As a comparison stopped after its first seed leaves the folder: its request and that
    # seed's part, no results. The resume trains seed 43, fits the baselines again (failing
    # again) and finishes with the same rows.
    for path in out.iterdir():
        if path.name not in ("compare.json", "parts"):
            path.unlink()
    (out / "parts" / "0-43.pt").unlink()
    resumed = zoo_here("compare", "--resume", str(out))
    assert resumed.returncode == 0, resumed.stderr
    assert "Traceback" not in resumed.stderr
    assert (out / "parts" / "0-43.pt").is_file()
    [row] = [line for line in resumed.stdout.splitlines() if line.startswith(failed["model"])]
    assert row.endswith(f"  {failed['verdict']}")
    again = json.loads((out / "results.json").read_text())["summary"]
    assert [{k: v for k, v in r.items() if k != "seconds"} for r in again] == [
        {k: v for k, v in r.items() if k != "seconds"} for r in summary.values()
    ]


def test_every_format_carries_the_same_numbers():
    comparison = zoo.compare(["circle-v0", "circle-v2"], seeds=6, epochs=40)
    rows = {row["model"]: row for row in comparison.summary}
    linear = rows["circle-v0"]
    assert linear["verdict"].startswith("worse than circle-v2 by")
    flat = {row["model"]: row for row in csv.DictReader(io.StringIO(comparison.render("csv")))}
    for key in ("p_value", "p_holm", "p_improvement"):
        assert float(flat["circle-v0"][key]) == linear[key]
    for key in ("estimate", "low", "high"):
        column = "difference" if key == "estimate" else f"difference_{key}"
        assert float(flat["circle-v0"][column]) == linear["difference"][key]
        column = "iqm" if key == "estimate" else f"iqm_{key}"
        assert float(flat["circle-v0"][column]) == linear["iqm"][key]
    iqm = linear["iqm"]
    shown = f"{iqm['estimate']:.2f} [{iqm['low']:.2f}, {iqm['high']:.2f}]"
    table = comparison.render("table")
    assert shown in table and linear["verdict"] in table
    markdown = MarkdownIt().enable("table").render(comparison.render("markdown"))  # as read
    assert shown in markdown and html.escape(linear["verdict"]) in markdown
    assert json.loads(comparison.render("json"))["summary"] == comparison.summary


# -- validation, early stopping and schedules in a comparison -----------------------------

ON_THEIR_OWN = {
    "early-stop": ({"epochs": 60, "val_size": 0.2, "early_stop": 10}, "init"),
    "early-stop-mini-batch": (
        {"epochs": 40, "val_size": 0.2, "early_stop": 3, "batch_size": 64, "lr": 0.3},
        "all",
    ),
    "cosine": ({"epochs": 30, "lr_schedule": "cosine"}, "split"),
    "step-adam": (
        {"epochs": 30, "lr_schedule": "step", "lr_step_size": 7, "optimizer": "adam", "lr": 0.01},
        "init",
    ),
    "plateau": ({"epochs": 30, "lr_schedule": "plateau", "val_size": 0.2, "lr_patience": 2}, "all"),
}


@pytest.mark.parametrize(("settings", "vary"), ON_THEIR_OWN.values(), ids=list(ON_THEIR_OWN))
def test_each_compared_seed_stops_and_schedules_as_its_solo_run_to_the_bit(
    tmp_path, settings, vary
):
    comparison = zoo.compare(["circle-v2"], seed_list=[3, 11, 12], vary=vary, workers=1, **settings)
    result = comparison.job_results[0]
    assert result.batched
    keys = ("epochs", "best_epoch", "stopped_early", "train_loss", "test_acc", "val_loss")
    for record, state in zip(comparison.results, result.states):
        run_dir = tmp_path / str(record["seed"])
        solo = zoo.train(
            "circle-v2",
            seed=record["init_seed"],
            split_seed=record["split_seed"],
            order_seed=record["order_seed"],
            out=run_dir,
            plot=False,
            **settings,
        )
        own = torch.load(run_dir / "weights.pt", weights_only=True)
        assert all(torch.equal(own[name], state[name]) for name in own), record["seed"]
        assert [record[k] for k in keys] == [solo.summary[k] for k in keys], record["seed"]
    if "early_stop" in settings:  # each member stopped on its own
        assert len({record["epochs"] for record in comparison.results}) > 1


def test_a_grid_of_learning_rates_on_the_plateau_schedule_keeps_each_members_own_rate():
    settings = {"epochs": 30, "lr_schedule": "plateau", "val_size": 0.2, "lr_patience": 2}
    comparison = zoo.compare(
        ["circle-v2"], seed_list=[3, 4], grid={"lr": [0.05, 0.2]}, workers=1, **settings
    )
    assert comparison.job_results[0].batched  # one stack, a plateau optimizer per member
    for record in comparison.results:
        solo = zoo.train("circle-v2", seed=record["seed"], lr=record["lr"], **settings)
        assert (record["test_acc"], record["val_loss"]) == (
            solo.summary["test_acc"],
            solo.summary["val_loss"],
        )


def test_baselines_are_scored_on_the_same_validation_rows_and_ranked_with_the_models():
    comparison = zoo.compare(
        ["circle-v2"], seeds=2, epochs=100, val_size=0.2, early_stop=20, baselines=True
    )
    rows = comparison.summary
    assert all(row["val_acc"] is not None for row in rows)
    assert [row["val_acc"]["mean"] for row in rows] == sorted(
        (row["val_acc"]["mean"] for row in rows), reverse=True
    )
    assert (
        comparison.render("table")
        .splitlines()[0]
        .endswith("ranked on validation, verdicts on test")
    )
