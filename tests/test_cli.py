"""The command line's surface: help, version, listings and how it answers mistakes."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

from conftest import assert_one_line_error

import zoo.cli


def test_help_and_version_do_not_import_torch():
    probe = (
        "import sys; from zoo.cli import main\n"
        "for args in (['--help'], ['--version'], ['train', '--help']):\n"
        "    try: main(args)\n"
        "    except SystemExit: pass\n"
        "print('torch' in sys.modules, 'sklearn' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip().splitlines()[-1] == "False False"


def test_version_prints_the_package_version(zoo_cli):
    import zoo

    result = zoo_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"zoo, version {zoo.__version__}"


def test_list_shows_every_builtin_model_with_plugin_dataset_and_description(zoo_cli):
    result = zoo_cli("list")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["MODEL", "PLUGIN", "DATASET", "WEIGHTS", "DESCRIPTION"]
    names = [line.split()[0] for line in lines[1:]]
    assert names == [
        "blob-v0",
        "circle-v0",
        "circle-v0-seq",
        "circle-v1",
        "circle-v2",
        "circle-v2-wide",
    ]
    circle_v2 = next(line for line in lines if line.startswith("circle-v2 "))
    assert (
        "circle_models (torch-zoo " in circle_v2 and "circles" in circle_v2 and "ReLU" in circle_v2
    )
    assert "variant of circle-v2" in next(line for line in lines if "circle-v2-wide" in line)


def test_list_filters_with_a_shell_wildcard_and_speaks_json(zoo_cli):
    result = zoo_cli("list", "circle-v[01]*", "--json")
    assert result.returncode == 0, result.stderr
    records = json.loads(result.stdout)
    assert [r["name"] for r in records] == ["circle-v0", "circle-v0-seq", "circle-v1"]
    assert records[0]["plugin"] == "circle_models"
    assert records[0]["distribution"] == "torch-zoo"
    assert records[0]["dataset"] == "circles"


def test_list_with_a_pattern_that_matches_nothing_is_an_error(zoo_cli):
    assert_one_line_error(zoo_cli("list", "resnet*"), "no model matches 'resnet*'", status=1)


def test_datasets_lists_the_lesson_datasets(zoo_cli):
    result = zoo_cli("datasets")
    assert result.returncode == 0, result.stderr
    assert [line.split()[0] for line in result.stdout.splitlines()[1:]] == [
        "blobs",
        "circles",
        "csv",  # your own data: a CSV file (issue #9)
        "moons",
    ]


def test_plugins_lists_each_plugin_with_distribution_and_hooks(zoo_cli):
    result = zoo_cli("plugins", "--json")
    assert result.returncode == 0, result.stderr
    plugins = {p["name"]: p for p in json.loads(result.stdout)}
    assert set(plugins) == {
        "blob_models",
        "circle_models",
        "sklearn_datasets",
        "csv_datasets",
        "loggers",
    }
    assert plugins["circle_models"]["hooks"] == ["register_models"]
    assert plugins["loggers"]["hooks"] == ["register_loggers"]
    assert plugins["loggers"]["loggers"] == ["tensorboard", "mlflow"]
    assert plugins["circle_models"]["distribution"] == "torch-zoo"
    assert plugins["sklearn_datasets"]["datasets"] == ["circles", "moons", "blobs"]


def test_info_shows_resolved_settings_with_their_sources_and_the_architecture(zoo_cli):
    result = zoo_cli("info", "circle-v2", "--lr", "0.05")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "parameters  151" in out
    assert "CircleModelV2(" in out and "(relu): ReLU()" in out
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.startswith("  ")}
    assert rows["momentum"] == ["0.9", "registry.yaml", "models.circle-v2"]
    assert rows["lr"] == ["0.05", "override"]
    assert rows["epochs"] == ["1000", "plugin", "circle_models"]


def test_unknown_model_suggests_close_names(zoo_cli):
    line = assert_one_line_error(zoo_cli("train", "circle-v3"), status=1)
    assert "unknown model 'circle-v3' (did you mean 'circle-v2'" in line
    assert "zoo list" in line


def test_unknown_dataset_suggests_close_names(zoo_cli):
    assert_one_line_error(
        zoo_cli("train", "circle-v2", "--dataset", "moon"),
        "unknown dataset 'moon' (did you mean 'moons'?)",
        status=1,
    )


def test_mistyped_command_suggests_the_right_one(zoo_cli):
    assert_one_line_error(zoo_cli("trian"), "no command 'trian' (did you mean 'train'?)", status=2)


def test_mistyped_flag_suggests_the_right_one(zoo_cli):
    line = assert_one_line_error(zoo_cli("train", "circle-v2", "--epocs", "5"), status=2)
    assert "--epocs" in line and "--epochs" in line and "zoo train --help" in line


def test_settings_that_make_no_sense_are_refused_before_any_work(zoo_cli, tmp_path):
    cases = [
        (["--epochs", "0"], "--epochs", "whole number from 1 to 1,000,000,000, got 0"),
        (["--epochs", "10000000000"], "--epochs", "whole number from 1"),
        (["--epochs", "ten"], "--epochs", "not a valid integer"),
        (["--lr", "-0.1"], "--lr", "number > 0"),
        (["--lr", "0"], "--lr", "number > 0"),
        (["--lr", "nan"], "--lr", "number > 0"),
        (["--momentum", "-1"], "--momentum", "number ≥ 0"),
        (["--batch-size", "0"], "--batch-size", "whole number ≥ 1 or 'full'"),
        (["--optimizer", "sgdd"], "--optimizer", "did you mean 'sgd'"),
        (["--log-every", "0"], "--log-every", "whole number ≥ 1 or 'auto'"),
        (["--seed", "-3"], "--seed", "whole number from 0"),
    ]
    for flags, flag, message in cases:
        assert_one_line_error(zoo_cli("train", "circle-v2", *flags), flag, message, status=2)
    assert not (tmp_path / "runs").exists()


def test_a_batch_larger_than_the_training_split_is_refused(zoo_cli, tmp_path):
    assert_one_line_error(
        zoo_cli("train", "circle-v2", "--batch-size", "5000"),
        "batch size 5000 is larger than the 800 training rows",
        status=1,
    )
    assert not any((tmp_path / "runs").rglob("*.json"))


def test_an_unavailable_device_is_a_clear_error(zoo_cli):
    assert_one_line_error(
        zoo_cli("train", "circle-v2", "--device", "cuda:7"), "device 'cuda:7'", status=1
    )
    assert_one_line_error(
        zoo_cli("train", "circle-v2", "--device", "tpu"), "unknown device 'tpu'", status=1
    )


def test_momentum_given_to_an_optimizer_without_it_is_refused(zoo_cli):
    assert_one_line_error(
        zoo_cli("train", "circle-v2", "--optimizer", "adam", "--momentum", "0.5"),
        "optimizer 'adam' takes no momentum",
        status=1,
    )


def test_an_inherited_momentum_does_not_block_another_optimizer(zoo_cli):
    # circle-v2's catalogue entry sets momentum 0.9; Adam simply does not use it.
    result = zoo_cli(
        "train",
        "circle-v2",
        "--optimizer",
        "adam",
        "--lr",
        "0.01",
        "--epochs",
        "20",
        "--no-plot",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["epochs"] == 20


def test_the_command_line_in_process_leaves_the_callers_warning_settings_as_they_were(
    tmp_path, capsys
):
    before = (warnings.showwarning, list(warnings.filters))
    status = zoo.cli.main(["train", "circle-v0", "--epochs", "2", "--out", str(tmp_path / "r")])
    assert status == 0
    assert "zoo: warning: circle-v0 learned nothing" in capsys.readouterr().err
    assert (warnings.showwarning, list(warnings.filters)) == before
