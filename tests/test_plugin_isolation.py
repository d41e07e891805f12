"""A plugin cannot end or hang zoo, and a model or dataset that cannot train is one line.

Each misbehaving plugin lives in tests/plugins/zoo-misfits and is installed by pip like any
other. Whatever it does (sys.exit at import, in a hook, a factory or a loader; blocking at
import; printing to stdout; a model or data zoo cannot train on), zoo goes on, names the
plugin, and keeps its own promises: one line per problem, never a traceback, stdout with
``--json`` holding exactly one JSON document.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import assert_one_line_error

pytestmark = pytest.mark.slow  # zoo processes with pip-installed plugins


@pytest.mark.parametrize(
    ("plugin", "message"),
    [
        ("exits_at_import", "SystemExit: the plugin called sys.exit(0) (exits_at_import.py:5)"),
        ("exits_in_hook", "SystemExit: the plugin called sys.exit(2) (exits_in_hook.py:8)"),
    ],
)
@pytest.mark.parametrize("command", [["list"], ["plugins"], ["train", "blob-v0"]])
def test_a_plugin_that_calls_sys_exit_is_a_failed_plugin_not_the_end_of_zoo(
    zoo_cli, with_plugins, plugin, message, command
):
    args = [*command, "--epochs", "3", "--no-plot"] if command[0] == "train" else command
    result = zoo_cli(*args, env=with_plugins(plugin))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    if command == ["list"]:
        assert "circle-v2" in result.stdout  # the other plugins' models are all there
    if command == ["plugins"]:
        failed = [line for line in result.stdout.splitlines() if line.startswith(plugin)]
        assert len(failed) == 1 and message in failed[0]
    else:
        (warning,) = result.error_lines
        assert warning.startswith(f"zoo: warning: plugin '{plugin}' failed to load: ")
        assert message in warning
    if command[0] == "train":
        assert "Done in" in result.stdout


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (
            "exit-factory",
            "model 'exit-factory' could not be built with {'in_features': 2, 'out_features': 1}: "
            "SystemExit: the plugin called sys.exit('factory gave up') (exits_later.py:",
        ),
        (
            "exit-data-model",
            "dataset 'exit-data' failed to load: SystemExit: the plugin called sys.exit(3) "
            "(exits_later.py:",
        ),
    ],
)
def test_a_factory_or_loader_that_calls_sys_exit_is_one_error_naming_it(
    zoo_cli, with_plugins, model, message
):
    result = zoo_cli("train", model, env=with_plugins("exits_later"))
    assert_one_line_error(result, message, status=1)


def test_a_plugin_that_blocks_at_import_is_named_and_waited_for(with_plugins, tmp_path):
    release = tmp_path / "release"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("ZOO_")},
        **with_plugins("slow_import"),
        "ZOO_MISFITS_RELEASE": str(release),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "zoo", "list", "late-*", "--json"],
        cwd=tmp_path,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stderr is not None
    notice = process.stderr.readline()  # blocks until zoo says something
    assert notice.startswith("zoo: plugin 'slow_import' (zoo_misfits.slow_import from zoo-misfits)")
    assert "is still loading after" in notice and "waiting for it" in notice
    assert process.poll() is None  # it still waits: the plugin is not abandoned
    release.touch()
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert [entry["name"] for entry in json.loads(out)] == ["late-model"]
    assert "Traceback" not in err


def test_a_plugin_that_is_busy_loading_is_not_named_as_blocked(zoo_cli, with_plugins):
    # Importing torch can take seconds on a loaded machine: working, not blocked.
    result = zoo_cli("list", "--json", env=with_plugins("fixed_shapes"))
    assert result.returncode == 0 and result.stderr == ""


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (
            "no-parameters",
            "model 'no-parameters' (plugin 'untrainable') has no parameters, so there is "
            "nothing to train",
        ),
        (
            "frozen",
            "model 'frozen' (plugin 'untrainable') has every parameter frozen "
            "(requires_grad=False)",
        ),
        (
            "integer-output",
            "model 'integer-output' (plugin 'untrainable') gives int64 output; it must give "
            "floating",
        ),
        ("two-logits", "model 'two-logits' gives output of shape [4, 2] for 4 rows"),
        (
            "fails-when-training",
            "model 'fails-when-training' failed in training mode (it works in eval mode) on "
            "'circles' data of shape [4, 2]: RuntimeError: this layer was never meant to train "
            "(untrainable.py:",
        ),
        (
            "no-gradient",
            "model 'no-gradient' (plugin 'untrainable'): its output in training mode does not "
            "depend on",
        ),
        (
            "nan-weights",
            "model 'nan-weights' (plugin 'untrainable'): its initial weights are not finite "
            "(weight)",
        ),
    ],
)
def test_a_model_that_cannot_train_is_one_line_naming_it_and_no_run_folder(
    zoo_cli, with_plugins, tmp_path, model, message
):
    result = zoo_cli("train", model, env=with_plugins("untrainable", "odd_shapes"))
    line = assert_one_line_error(result, message, status=1)
    assert "learning rate" not in line.replace("a learning rate cannot fix this", "")
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").rglob("*.json"))


def test_a_loss_that_is_not_finite_before_training_does_not_blame_the_learning_rate(
    zoo_cli, with_plugins, tmp_path
):
    result = zoo_cli(
        "train", "overflowing", "--out", "run", "--json", env=with_plugins("untrainable")
    )
    line = assert_one_line_error(result, status=1)
    assert "the untrained model's loss is already not finite (epoch 0)" in line
    assert "smaller learning rate" not in line
    summary = json.loads(result.stdout)  # strict JSON: the losses that are not numbers are null
    assert summary["status"] == "diverged" and summary["train_loss"] is None
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["test_loss"] is None


@pytest.mark.parametrize(
    ("dataset", "message"),
    [
        ("ragged", "dataset 'ragged' (plugin 'bad_data'): X is not an array of equal-length rows"),
        (
            "text-features",
            "dataset 'text-features' (plugin 'bad_data'): X must hold real numbers, got text",
        ),
        (
            "mixed-labels",
            "dataset 'mixed-labels' (plugin 'bad_data'): y must hold class labels, all whole "
            "numbers or all texts, got a mix of int, str",
        ),
    ],
)
def test_a_loader_that_returns_unusable_data_is_one_line_naming_it(
    zoo_cli, with_plugins, dataset, message
):
    result = zoo_cli("train", "circle-v2", "--dataset", dataset, env=with_plugins("bad_data"))
    assert_one_line_error(result, message, status=1)


def test_text_labels_train_and_predict_as_the_datasets_own_labels(zoo_cli, with_plugins, tmp_path):
    env = with_plugins("bad_data")
    trained = zoo_cli(
        "train", "circle-v2", "--dataset", "text-labels", "--out", "run", "--no-plot", env=env
    )
    assert trained.returncode == 0, trained.stderr
    assert json.loads((tmp_path / "run" / "config.json").read_text())["classes"] == [
        "inner",
        "outer",
    ]
    (tmp_path / "points.csv").write_text("0.0,0.0\n1.0,0.0\n")
    predicted = zoo_cli("predict", "run", "--input", "points.csv", env=env)
    assert predicted.returncode == 0, predicted.stderr
    labels = [line.split(",")[0] for line in predicted.stdout.splitlines()[1:]]
    assert labels == ["inner", "outer"]


@pytest.mark.parametrize(
    "command",
    [
        ["list", "--json"],
        ["plugins", "--json"],
        ["info", "chatty", "--json"],
        ["train", "chatty", "--json", "--no-plot"],
    ],
)
def test_a_plugin_that_prints_never_breaks_json_on_stdout(zoo_cli, with_plugins, command):
    result = zoo_cli(*command, env=with_plugins("chatty"))
    assert result.returncode == 0, result.stderr
    json.loads(result.stdout)  # exactly one document, nothing else
    assert "chatty: imported" in result.stderr  # the plugin's words are not lost


def test_eval_json_keeps_stdout_for_the_document_too(zoo_cli, with_plugins):
    env = with_plugins("chatty")
    trained = zoo_cli("train", "chatty", "--out", "run", "--no-plot", env=env)
    assert trained.returncode == 0, trained.stderr
    evaluated = zoo_cli("eval", "run", "--json", env=env)
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads(evaluated.stdout)["model"] == "chatty"
    assert "chatty: forward" in evaluated.stderr
