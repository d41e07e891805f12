"""Sweeps: zoo compare --grid trains every combination of settings for every seed."""

from __future__ import annotations

import csv
import io
import json
import math

import pytest
import torch
from conftest import assert_one_line_error

import zoo
from zoo.comparison.execute import plan_chunks
from zoo.comparison.grid import check_grid, parse_option
from zoo.comparison.plan import Request, plan_jobs
from zoo.config.checks import open_zoo
from zoo.errors import ConfigError, ModelError


def test_a_grid_gives_one_row_per_combination_with_a_column_per_setting(zoo_cli):
    result = zoo_cli(
        "compare",
        "circle-v2",
        "--grid",
        "lr=0.03,0.3",
        "--grid",
        "momentum=0,0.9",
        "--seeds",
        "2",
        "--epochs",
        "60",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["grid"] == {"lr": [0.03, 0.3], "momentum": [0.0, 0.9]}
    assert len(report["results"]) == 8  # 4 combinations x 2 seeds
    combinations = {(row["lr"], row["momentum"]) for row in report["summary"]}
    assert combinations == {(0.03, 0.0), (0.03, 0.9), (0.3, 0.0), (0.3, 0.9)}
    assert all(row["seeds"] == 2 and row["batched"] for row in report["summary"])
    best = report["summary"][0]
    assert best["verdict"].startswith(("best", "only"))
    label = f"circle-v2 lr={best['lr']:g} momentum={best['momentum']:g}"
    assert all(row["against"] == label for row in report["summary"][1:])
    assert all(row["verdict"].startswith("too few seeds") for row in report["summary"][1:])
    assert {(r["lr"], r["momentum"], r["seed"]) for r in report["results"]} == {
        (lr, momentum, seed) for lr, momentum in combinations for seed in (42, 43)
    }


@pytest.mark.parametrize(
    ("settings", "grid"),
    [
        ({"epochs": 40}, {"lr": [0.01, 0.03, 0.1, 0.3], "momentum": [0, 0.9]}),
        ({"epochs": 30, "momentum": 0.5}, {"weight_decay": [0, 0.01], "lr": [0.05, 0.2]}),
        ({"epochs": 20, "optimizer": "adam"}, {"lr": [0.001, 0.01], "weight_decay": [0, 1e-3]}),
        ({"epochs": 10, "batch_size": 300}, {"lr": [0.1, 0.3]}),  # mini-batches, partial last
    ],
)
@pytest.mark.parametrize("workers", [1, 2])
def test_each_swept_seed_has_its_zoo_train_weights_to_the_bit(tmp_path, settings, grid, workers):
    comparison = zoo.compare(
        ["circle-v2"], seed_list=[3, 11], workers=workers, grid=grid, **settings
    )
    assert len(comparison.job_results) == math.prod(len(values) for values in grid.values())
    for result in comparison.job_results:
        assert result.batched
        for seed, state in zip([3, 11], result.states):
            run_dir = tmp_path / f"{workers}-{seed}-{'-'.join(map(str, result.job.point.values()))}"
            zoo.train(
                "circle-v2", seed=seed, out=run_dir, plot=False, **settings, **result.job.point
            )
            solo = torch.load(run_dir / "weights.pt", weights_only=True)
            assert all(torch.equal(solo[name], state[name]) for name in solo), (
                result.job.point,
                seed,
            )


def test_combinations_that_differ_only_in_optimizer_numbers_share_one_stack():
    plugins, catalogue = open_zoo(None)
    grid = check_grid(
        {"lr": [0.01, 0.1], "momentum": [0, 0.9], "weight_decay": [0, 0.1], "epochs": [5, 6]},
        {},
    )
    request = Request(["circle-v2"], None, [1, 2, 3], 99.0, False, {}, None, grid)
    jobs = plan_jobs(request, plugins, catalogue)
    assert len(jobs) == 16
    chunks = plan_chunks(jobs, {}, workers=1)
    assert len(chunks) == 2  # one stack per number of epochs: everything else is per member
    for chunk in chunks:
        assert len(chunk.members) == 8 * 3
        assert len({jobs[j].config.epochs for j in chunk.jobs()}) == 1
    halves = plan_chunks(jobs, {}, workers=2)
    assert sorted(len(chunk.members) for chunk in halves) == [12, 12, 12, 12]


def test_param_and_dataset_keys_reach_the_factory_and_the_loader():
    comparison = zoo.compare(
        ["circle-v2"],
        seeds=1,
        epochs=30,
        grid={"param.hidden_units": [4, 10], "dataset.noise": [0.03, 0.2]},
    )
    params = {
        (r["param.hidden_units"], r["dataset.noise"]): r["params"] for r in comparison.summary
    }
    assert params == {(4, 0.03): 37, (4, 0.2): 37, (10, 0.03): 151, (10, 0.2): 151}
    record = next(
        r for r in comparison.results if r["param.hidden_units"] == 4 and r["dataset.noise"] == 0.2
    )
    solo = zoo.train(
        "circle-v2",
        epochs=30,
        params={"hidden_units": 4},
        dataset_params={"noise": 0.2},
    )
    assert (record["test_acc"], record["test_loss"]) == (
        solo.summary["test_acc"],
        solo.summary["test_loss"],
    )


def test_csv_and_the_out_folder_have_a_column_per_swept_setting(zoo_cli, tmp_path):
    out = tmp_path / "sweep"
    args = ["circle-v0", "--grid", "lr=0.1,0.3", "--seeds", "2", "--epochs", "20"]
    result = zoo_cli("compare", *args, "--format", "csv", "--out", str(out), "--plot")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert sorted(row["lr"] for row in rows) == ["0.1", "0.3"]
    assert list(rows[0])[:3] == ["dataset", "model", "lr"]
    results = list(csv.DictReader((out / "results.csv").open()))
    assert sorted((r["lr"], r["seed"]) for r in results) == [
        ("0.1", "42"),
        ("0.1", "43"),
        ("0.3", "42"),
        ("0.3", "43"),
    ]
    assert (out / "sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"Sweep: {out / 'sweep.png'}" in result.stderr
    assert "| circle-v0 | 0.1 |" in (out / "summary.md").read_text()


def test_a_sweeps_picture_has_a_panel_per_swept_setting_with_mean_and_band():
    comparison = zoo.compare(
        ["circle-v0"], seeds=2, epochs=10, grid={"lr": [0.01, 0.1, 1.0], "momentum": [0, 0.9]}
    )
    figure = comparison.plot()
    lr_panel, momentum_panel = figure.axes
    assert lr_panel.get_xlabel() == "lr" and lr_panel.get_xscale() == "log"
    assert momentum_panel.get_xlabel() == "momentum"
    assert len(lr_panel.get_lines()) == 2  # one line per momentum
    assert len(momentum_panel.get_lines()) == 3  # one line per learning rate
    line = lr_panel.get_lines()[0]
    momentum = float(line.get_label().rpartition("=")[2])
    rows = [r for r in comparison.summary if r["momentum"] == momentum]
    expected = [
        next(r for r in rows if r["lr"] == lr)["test_acc"]["mean"] for lr in (0.01, 0.1, 1.0)
    ]
    assert list(line.get_ydata()) == expected
    assert len(lr_panel.collections) == 2  # the min-max bands


def test_a_stopped_sweep_resumes_with_its_grid(tmp_path):
    grid = {"lr": [0.05, 0.2], "param.hidden_units": [5, 8]}
    first = zoo.compare(["circle-v2"], seeds=2, epochs=30, grid=grid, out=tmp_path / "kept")
    parts = sorted((tmp_path / "kept" / "parts").glob("*.pt"))
    parts[-1].unlink()  # as if it was training when the comparison stopped
    resumed = zoo.resume_comparison(tmp_path / "kept")
    assert resumed.grid == first.grid
    assert resumed.results == [
        {**record, "seconds": resumed.results[i]["seconds"]}
        for i, record in enumerate(first.results)
    ]


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        ({"lrr": [0.1]}, "grid: unknown setting 'lrr' (did you mean 'lr'?)"),
        ({"lr": []}, "grid lr: list one or more values"),
        ({"lr": 0.1}, "grid lr: list one or more values"),
        ({"lr": [0.1, -1]}, "grid lr: must be a number > 0, got -1"),
        ({"momentum": [0, 0.0]}, "grid momentum: 0 is listed twice"),
        ({"seed": [1, 2]}, "give seeds with --seeds or --seed-list"),
        ({"params": [{}]}, "sweep one factory parameter as param.NAME"),
        ({"param.": [1]}, "grid param.: '' is not a parameter name"),
        ({"optimizer": ["sgd", "adamm"]}, "unknown optimizer 'adamm'"),
    ],
)
def test_bad_grids_are_refused_in_python_before_anything_trains(grid, message):
    with pytest.raises(ConfigError) as caught:
        zoo.compare(["circle-v2"], seeds=1, grid=grid)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_a_factory_parameter_the_model_does_not_take_lists_the_ones_it_does():
    with pytest.raises(ModelError, match=r"takes no parameter 'hiden_units' \(did you mean"):
        zoo.compare(["circle-v2"], seeds=1, grid={"param.hiden_units": [5]})


def test_grid_values_are_read_as_registry_yaml_reads_them():
    assert parse_option("lr=1e-3,0.1") == ("lr", [0.001, 0.1])
    assert parse_option("optimizer=sgd,adam") == ("optimizer", ["sgd", "adam"])
    assert parse_option("batch_size=full,32") == ("batch_size", ["full", 32])
    assert parse_option("param.bias=true,false") == ("param.bias", [True, False])


@pytest.mark.parametrize(
    ("args", "message", "status"),
    [
        (["--grid", "lr"], "write --grid KEY=V1,V2", 2),
        (["--grid", "lr="], "lr: list one or more values", 2),
        (["--grid", "lr=0.1", "--grid", "lr=0.3"], "--grid lr is given twice", 2),
        (["--grid", "lrr=0.1"], "unknown setting 'lrr' (did you mean 'lr'?)", 1),
        (["--grid", "lr=0.1,x"], "grid lr: must be a number > 0, got 'x'", 1),
        (["--grid", "lr=0.1", "--lr", "0.3"], "grid lr: also given as --lr", 1),
        (["--grid", "param.hiden_units=3"], "takes no parameter 'hiden_units'", 1),
        (["--grid", "dataset.noys=0.1"], "takes no parameter 'noys' (did you mean 'noise'?)", 1),
        (["--json", "--format", "csv"], "--json is --format json", 2),
    ],
)
def test_bad_grid_flags_are_one_line_and_write_nothing(zoo_cli, tmp_path, args, message, status):
    out = tmp_path / "report"
    result = zoo_cli("compare", "circle-v2", *args, "--out", str(out))
    assert_one_line_error(result, message, status=status)
    assert not out.exists()


# -- selection without peeking ---------------------------------------------------------------


def test_a_sweep_with_a_validation_split_is_ranked_on_validation_and_judged_on_test():
    comparison = zoo.compare(
        ["circle-v2"], seeds=3, epochs=60, val_size=0.25, grid={"lr": [0.01, 0.1, 0.3]}
    )
    rows = comparison.summary
    validation = [row["val_acc"]["mean"] for row in rows]
    assert validation == sorted(validation, reverse=True)  # the best first, on validation
    table = comparison.render("table").splitlines()
    assert table[0].endswith("; ranked on validation, verdicts on test")
    assert table[1].split()[:5] == ["MODEL", "LR", "PARAMS", "VAL", "ACC"]
    # The verdicts compare test accuracies, paired by seed, against the row chosen on
    # validation.
    chosen = rows[0]
    by_seed = {(record["lr"], record["seed"]): record["test_acc"] for record in comparison.results}
    for row in rows[1:]:
        differences = [
            by_seed[(row["lr"], seed)] - by_seed[(chosen["lr"], seed)] for seed in (42, 43, 44)
        ]
        assert row["difference"]["estimate"] == pytest.approx(sum(differences) / 3)
        assert row["against"] == f"circle-v2 lr={chosen['lr']:g}"


def test_a_sweep_without_a_validation_split_says_it_ranks_on_the_test_split():
    comparison = zoo.compare(["circle-v0"], seeds=2, epochs=5, grid={"lr": [0.1, 0.3]})
    heading = comparison.render("table").splitlines()[0]
    assert heading.endswith(
        "; ranked on the test split, so the best row's test accuracy is optimistic "
        "(--val-size F ranks on validation)"
    )
    assert "VAL ACC" not in comparison.render("table")
    assert "val_acc_mean" not in comparison.render("csv").splitlines()[0]
    plain = zoo.compare(["circle-v0"], seeds=2, epochs=5)  # no sweep: nothing was selected
    assert (
        plain.render("table").splitlines()[0]
        == "circles: 2 seeds (42, 43); varied: init; majority class 50.00%"
    )


def test_a_validation_sweeps_csv_and_markdown_carry_the_validation_columns():
    comparison = zoo.compare(["circle-v0"], seeds=2, epochs=5, val_size=0.2, grid={"lr": [0.1]})
    header = comparison.render("csv").splitlines()[0].split(",")
    assert header.index("val_acc_mean") < header.index("test_acc_mean")
    assert "Val acc" in comparison.render("markdown")
    assert all(record["val_acc"] is not None for record in comparison.results)
