"""registry.yaml: validation with line numbers, safe loading, variants and precedence."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from conftest import assert_one_line_error

import zoo
from zoo.config.catalogue import load_catalogue
from zoo.errors import CatalogueError


def write(tmp_path: Path, text: str, name: str = "registry.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def catalogue_error(path: Path) -> str:
    with pytest.raises(CatalogueError) as caught:
        zoo.list_models(registry=path)
    return str(caught.value)


def test_the_shipped_catalogue_is_valid_and_names_only_real_models():
    catalogue = load_catalogue()
    assert catalogue.defaults["optimizer"] == "sgd" and catalogue.defaults["lr"] == 0.1
    assert catalogue.entries["circle-v2"].settings == {"momentum": 0.9}
    assert "circle-v2-wide" in zoo.list_models()


def test_an_unknown_key_names_file_line_and_key_with_a_suggestion(tmp_path):
    path = write(
        tmp_path,
        """\
        models:
          circle-v2:
            epochs: 10
            learning_rate: 0.5
    """,
    )
    assert catalogue_error(path) == (
        f"{path}:4: models.circle-v2.learning_rate: unknown key (allowed: model, description, "
        "dataset, dataset_params, scale, params, epochs, lr, optimizer, momentum, weight_decay, "
        "batch_size, seed, split_seed, order_seed, test_size, val_size, early_stop, lr_schedule, "
        "lr_step_size, lr_gamma, lr_patience, device, threads, log_every, checkpoint_every, "
        "weights)"
    )


def test_a_mistyped_key_gets_a_did_you_mean(tmp_path):
    path = write(tmp_path, "defaults:\n  epocs: 10\n")
    assert catalogue_error(path) == (
        f"{path}:2: defaults.epocs: unknown key (did you mean 'epochs'?)"
    )


def test_a_wrong_type_names_file_line_and_key(tmp_path):
    path = write(
        tmp_path,
        """\
        defaults:
          lr: 0.1
        models:
          blob-v0:
            dataset: blobs
            epochs: many
    """,
    )
    assert catalogue_error(path) == (
        f"{path}:6: models.blob-v0.epochs: must be a whole number from 1 to 1,000,000,000, "
        "got 'many'"
    )


def test_a_variant_of_a_model_no_plugin_provides_is_an_error(tmp_path):
    path = write(
        tmp_path,
        """\
        models:
          my-variant:
            description: wider
            model: circel-v2
            params: {hidden_units: 32}
    """,
    )
    assert catalogue_error(path) == (
        f"{path}:4: models.my-variant.model: no plugin provides model 'circel-v2' "
        "(did you mean 'circle-v2'?)"
    )


def test_settings_for_a_model_no_plugin_provides_are_an_error(tmp_path):
    path = write(tmp_path, "models:\n  circle-v9:\n    epochs: 5\n")
    assert catalogue_error(path).startswith(
        f"{path}:2: models.circle-v9: no plugin provides model 'circle-v9'"
    )


def test_a_variant_may_not_take_a_plugin_models_name(tmp_path):
    path = write(tmp_path, "models:\n  circle-v1:\n    model: circle-v2\n")
    assert "is already a plugin's model" in catalogue_error(path)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("models:\n  circle-v2:\n    epochs: 1\n    epochs: 2\n", 4, "epochs: appears twice"),
        ("defaults: !!python/object/apply:os.system ['echo hacked']\n", 1, "no tags"),
        ("models: [circle-v2]\n", 1, "models: must be a mapping"),
        ("defaults:\n  lr: [0.1\n", 3, ""),
        ("- just\n- a list\n", 1, "expected a mapping with 'defaults:' and 'models:'"),
        ("models:\n  circle-v2:\n    params: 3\n", 3, "params: must be a mapping"),
    ],
)
def test_malformed_documents_are_errors_with_their_line(tmp_path, text, line, message):
    path = write(tmp_path, text)
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(path)
    assert str(caught.value).startswith(f"{path}:{line}: ")
    assert message in str(caught.value)


def test_yaml_tags_never_construct_python_objects(tmp_path):
    marker = tmp_path / "executed"
    path = write(
        tmp_path,
        f"defaults: !!python/object/apply:os.system ['touch {marker}']\n",
    )
    with pytest.raises(CatalogueError):
        load_catalogue(path)
    assert not marker.exists()


def test_a_file_that_is_not_utf8_is_an_error_with_its_line(tmp_path):
    path = tmp_path / "registry.yaml"
    path.write_bytes(b"defaults:\n  lr: 0.1\n  device: \xff\xfe\n")
    assert catalogue_error(path) == f"{path}:3: not UTF-8 text; save the file as UTF-8"


def test_an_empty_user_catalogue_changes_nothing(tmp_path):
    # A user's catalogue adds to the shipped one (issue #9): circle-v2 keeps momentum 0.9.
    path = write(tmp_path, "")
    config = zoo.resolve_config("circle-v2", registry=path)
    assert config == zoo.resolve_config("circle-v2")
    assert (config.momentum, config.epochs, config.lr) == (0.9, 1000, 0.1)


def test_precedence_is_fallbacks_then_defaults_then_plugin_then_catalogue_then_flags(tmp_path):
    path = write(
        tmp_path,
        """\
        defaults:
          epochs: 7        # loses to the plugin's own epochs
          seed: 3          # nobody else sets it: wins
          lr: 0.5          # loses to the plugin's lr
        models:
          circle-v2:
            lr: 0.02       # beats the plugin
            weight_decay: 0.001
    """,
    )
    config = zoo.resolve_config("circle-v2", registry=path, weight_decay=0.5)
    assert config.epochs == 1000 and config.sources["epochs"] == "plugin circle_models"
    assert config.seed == 3 and config.sources["seed"] == "registry.yaml defaults"
    assert config.lr == 0.02 and config.sources["lr"] == "registry.yaml models.circle-v2"
    assert config.weight_decay == 0.5 and config.sources["weight_decay"] == "override"
    # Under the user's file lies the shipped one (issue #9), whose defaults set test_size.
    assert config.test_size == 0.2 and config.sources["test_size"] == "registry.yaml defaults"
    assert config.sources["params"] == "zoo" and config.momentum == 0.9


def test_a_variant_starts_from_its_base_models_settings(tmp_path):
    path = write(
        tmp_path,
        """\
        models:
          circle-v2:
            momentum: 0.8
            params: {hidden_units: 12}
          circle-v2-deep:
            model: circle-v2
            params: {hidden_units: 20}
            epochs: 300
    """,
    )
    config = zoo.resolve_config("circle-v2-deep", registry=path)
    assert config.builds == "circle_models:circle-v2"
    assert (config.momentum, config.epochs, config.params) == (0.8, 300, {"hidden_units": 20})
    assert zoo.get_model("circle-v2-deep", registry=path).layer_1.out_features == 20


def test_the_environment_variable_and_the_flag_choose_the_catalogue(zoo_cli, tmp_path):
    path = write(
        tmp_path,
        """\
        models:
          circle-v2-tiny:
            model: circle-v2
            params: {hidden_units: 2}
    """,
        name="mine.yaml",
    )
    by_env = zoo_cli("list", "--json", env={"ZOO_REGISTRY": str(path)})
    assert "circle-v2-tiny" in [m["name"] for m in json.loads(by_env.stdout)]
    by_flag = zoo_cli(
        "train", "circle-v2-tiny", "--registry", str(path), "--epochs", "3", "--json", "--no-plot"
    )
    assert by_flag.returncode == 0, by_flag.stderr
    assert json.loads(by_flag.stdout)["params"] == 2 * 2 + 2 + 2 * 2 + 2 + 2 + 1


def test_an_invalid_catalogue_is_one_line_on_the_command_line(zoo_cli, tmp_path):
    path = write(tmp_path, "defaults:\n  optimizer: sgdd\n")
    assert_one_line_error(
        zoo_cli("list", "--registry", str(path)),
        f"{path}:2: defaults.optimizer: unknown optimizer 'sgdd' (did you mean 'sgd'?)",
        status=1,
    )
    missing = tmp_path / "nope.yaml"
    assert_one_line_error(
        zoo_cli("train", "circle-v2", "--registry", str(missing)), "nope.yaml: no such file"
    )
