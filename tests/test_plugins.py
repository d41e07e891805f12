"""Plugins found through real entry points: the example package and ones that misbehave."""

from __future__ import annotations

import json
import warnings

import pytest
from conftest import assert_one_line_error

import zoo
from zoo.errors import (
    AmbiguousNameError,
    ModelError,
    PluginError,
    PluginWarning,
    UnknownNameError,
)
from zoo.plugins.loader import load_plugins


def test_the_example_plugin_appears_in_list_and_plugins(zoo_cli, with_plugins):
    env = with_plugins("tanh")
    listing = zoo_cli("list", "--json", env=env)
    assert listing.returncode == 0, listing.stderr
    models = {m["name"]: m for m in json.loads(listing.stdout)}
    assert models["tanh-mlp"]["plugin"] == "tanh"
    assert models["tanh-mlp"]["distribution"] == "zoo-tanh"
    assert models["tanh-mlp"]["dataset"] == "quantiles"
    plugins = {p["name"]: p for p in json.loads(zoo_cli("plugins", "--json", env=env).stdout)}
    assert plugins["tanh"]["version"] == "0.1.0"
    assert plugins["tanh"]["hooks"] == ["register_models", "register_datasets"]
    assert plugins["tanh"]["models"] == ["tanh-mlp"]
    assert plugins["tanh"]["datasets"] == ["quantiles"]


def test_the_example_plugin_trains_with_zoo_train(zoo_cli, with_plugins, tmp_path):
    result = zoo_cli("train", "tanh-mlp", "--json", env=with_plugins("tanh"))
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["dataset"] == "quantiles"
    assert summary["test_acc"] >= 95.0
    assert (tmp_path / summary["run_dir"] / "boundary.png").is_file()


def test_builtin_models_train_on_a_plugins_dataset(plugins_in_process):
    plugins_in_process("tanh")
    run = zoo.train("blob-v0", dataset="quantiles", epochs=5)
    assert run.summary["dataset"] == "quantiles"


def test_a_broken_plugin_is_one_warning_and_everything_else_works(zoo_cli, with_plugins):
    env = with_plugins("broken_import", "broken_hook")
    # blob-v0 learns in 5 epochs: circle-v0 would add its own (true) learned-nothing line
    result = zoo_cli("train", "blob-v0", "--epochs", "5", "--no-plot", env=env)
    assert result.returncode == 0
    warnings = result.error_lines
    assert len(warnings) == 2
    assert all(w.startswith("zoo: warning: plugin '") for w in warnings)
    assert any(
        "'broken_import' failed to load: ModuleNotFoundError: No module named "
        "'zoo_misfits_missing_dependency' (broken_import.py:3)" in w
        for w in warnings
    )
    assert any("RuntimeError: model server unreachable (broken_hook.py:8)" in w for w in warnings)


def test_zoo_plugins_shows_failed_plugins_with_their_error(zoo_cli, with_plugins):
    env = with_plugins("broken_import", "misspelt_hook", "bad_defaults")
    result = zoo_cli("plugins", env=env)
    assert result.returncode == 0
    assert result.stderr == ""  # the failures are the listing, not warnings
    failed = {line.split()[0]: line for line in result.stdout.splitlines() if "FAILED" in line}
    assert set(failed) == {"broken_import", "misspelt_hook", "bad_defaults"}
    assert (
        "unknown hook 'register_model' (did you mean 'register_models'" in failed["misspelt_hook"]
    )
    assert "epocs: unknown setting (did you mean 'epochs'?)" in failed["bad_defaults"]
    assert "zoo-misfits 1.0.0" in failed["broken_import"]


def test_unknown_names_mention_the_plugins_that_failed(zoo_cli, with_plugins):
    result = zoo_cli("train", "half-model", env=with_plugins("half_registered"))
    assert result.returncode == 1
    error = [line for line in result.error_lines if "error:" in line]
    assert len(error) == 1
    assert "unknown model 'half-model'" in error[0]
    assert "plugin 'half_registered' failed to load" in error[0]


def test_a_plugin_that_fails_halfway_registers_nothing(plugins_in_process):
    plugins_in_process("half_registered")
    with pytest.warns(PluginWarning, match="second model is not ready"):
        plugins = load_plugins()
    assert plugins.model_providers("half-model") == []
    assert [f.plugin.name for f in plugins.failures] == ["half_registered"]


def test_strict_mode_makes_a_broken_plugin_a_hard_error(zoo_cli, with_plugins):
    env = {**with_plugins("broken_hook"), "ZOO_STRICT_PLUGINS": "1"}
    assert_one_line_error(
        zoo_cli("list", env=env),
        "plugin 'broken_hook' failed to load: RuntimeError: model server unreachable",
        "ZOO_STRICT_PLUGINS",
        status=1,
    )


def test_two_plugins_with_one_name_are_never_silently_overwritten(zoo_cli, with_plugins):
    env = with_plugins("clash")
    result = zoo_cli("train", "circle-v0", "--epochs", "1", "--no-plot", env=env)
    assert result.returncode == 0  # unrelated models are unaffected
    line = assert_one_line_error(zoo_cli("train", "circle-v2", env=env), status=1)
    assert "'circle-v2' is registered by 2 plugins" in line
    assert "'clash:circle-v2'" in line and "'circle_models:circle-v2'" in line


def test_plugin_colon_name_chooses_between_clashing_models(plugins_in_process):
    plugins_in_process("clash")
    impostor = zoo.train("clash:circle-v2", epochs=3)
    lesson = zoo.train("circle_models:circle-v2", epochs=3)
    assert impostor.summary["params"] != lesson.summary["params"]
    assert lesson.summary["params"] == 151
    names = zoo.list_models()
    assert "clash:circle-v2" in names and "circle_models:circle-v2" in names
    with pytest.raises(AmbiguousNameError):
        zoo.get_model("circle-v2")


def test_plugins_load_once_per_process(plugins_in_process):
    plugins_in_process("tanh")
    first = load_plugins()
    zoo.list_models()
    zoo.get_model("tanh-mlp")
    assert load_plugins() is first


def test_zoo_load_plugins_chooses_which_plugins_load(zoo_cli):
    only_circles = zoo_cli("list", "--json", env={"ZOO_LOAD_PLUGINS": "circle_models"})
    names = [m["name"] for m in json.loads(only_circles.stdout)]
    assert "blob-v0" not in names and "circle-v2" in names
    nothing = zoo_cli("list", "--json", env={"ZOO_LOAD_PLUGINS": ""})
    assert json.loads(nothing.stdout) == []
    result = zoo_cli("train", "blob-v0", env={"ZOO_LOAD_PLUGINS": "circle_models"})
    assert_one_line_error(result, "unknown model 'blob-v0'", "ZOO_LOAD_PLUGINS left out")


def test_a_factory_without_parameters_is_called_with_none(plugins_in_process):
    plugins_in_process("fixed_shapes")
    run = zoo.train("fixed-net", epochs=5)
    assert run.summary["params"] == 2 * 8 + 8 + 8 + 1


def test_a_model_with_the_wrong_output_shape_is_refused(zoo_cli, with_plugins, tmp_path):
    assert_one_line_error(
        zoo_cli("train", "two-logits", env=with_plugins("odd_shapes")),
        "model 'two-logits' gives output of shape [4, 2]",
        "binary dataset 'circles' needs [4, 1]",
        status=1,
    )
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").rglob("*.pt"))


def test_a_model_that_cannot_take_the_data_is_refused(plugins_in_process):
    plugins_in_process("odd_shapes")
    with pytest.raises(ModelError, match="'three-inputs' failed on 'circles' data"):
        zoo.train("three-inputs")


def test_a_parameter_the_factory_does_not_take_is_refused():
    with pytest.raises(ModelError, match="takes no parameter 'hidden_unit'"):
        zoo.get_model("circle-v2", hidden_unit=3)


def test_get_model_builds_an_untrained_module():
    model = zoo.get_model("circle-v2", hidden_units=4)
    assert model.layer_1.out_features == 4
    with pytest.raises(UnknownNameError, match="did you mean 'circle-v2'"):
        zoo.get_model("circle-v3")


def test_a_strict_error_is_a_plugin_error_in_python(plugins_in_process, monkeypatch):
    plugins_in_process("broken_import")
    monkeypatch.setenv("ZOO_STRICT_PLUGINS", "1")
    with pytest.raises(PluginError, match="broken_import"):
        zoo.list_models()


@pytest.mark.parametrize(
    ("plugin", "message"),
    [
        (
            "ordered_registration",
            "plugin 'ordered_registration' failed to load: register_models: tryfirst=True is "
            "for event hooks; zoo calls each plugin's registration hooks on their own "
            "(ordered_registration.py:7)",
        ),
        (
            "own_hookspec",
            "plugin 'own_hookspec' failed to load: declares a hook of its own, 'pick_model' "
            "(@zoo.hookspec): zoo calls only the hooks of zoo.hookspecs",
        ),
    ],
)
def test_a_hook_option_zoo_cannot_honour_is_refused_at_load_in_one_line(
    plugins_in_process, plugin, message
):
    plugins_in_process(plugin)
    with pytest.warns(PluginWarning) as caught:
        plugins = load_plugins()
    (warning,) = [str(w.message) for w in caught]
    assert warning.startswith(message) and "\n" not in warning
    assert [f.plugin.name for f in plugins.failures] == [plugin]
    assert plugins.models("first-model") == []


def test_an_unknown_hook_marked_optionalhook_loads_as_pluggy_promises(plugins_in_process):
    plugins_in_process("optional_hook")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plugins = load_plugins()
        zoo.train("blob-v0", epochs=3)  # its on_epoch_end is never called (blob-v0 learns)
    assert plugins.failures == []
    assert [spec.name for spec in plugins.models("optional-model")] == ["optional-model"]
