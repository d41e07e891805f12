"""The Python API: `import zoo` gives the functions the command line is built on."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys
import typing

from conftest import SUMMARY_KEYS

import zoo


def test_every_public_name_is_a_function_even_with_every_submodule_imported():
    # A submodule named like an API function (zoo/predict.py beside zoo.predict) would shadow
    # the function as soon as something imports it.
    for module in pkgutil.walk_packages(zoo.__path__, "zoo."):
        if not module.name.endswith("__main__"):  # that one runs the command line
            importlib.import_module(module.name)
    for name in zoo.__all__:
        if name != "__version__":
            assert callable(getattr(zoo, name)), name
    assert zoo.hookimpl.project_name == "zoo"


def test_every_public_functions_type_hints_resolve():
    functions = [
        getattr(zoo, name) for name in zoo.__all__ if inspect.isfunction(getattr(zoo, name))
    ]
    assert len(functions) > 15
    for function in functions:
        hints = typing.get_type_hints(function)
        assert "return" in hints, function.__name__
    assert typing.get_type_hints(zoo.compare)["return"] is zoo.Comparison
    assert typing.get_type_hints(zoo.list_runs)["return"] == list[zoo.RunListing]


def test_the_types_the_api_returns_are_importable_from_zoo_without_torch_until_used():
    script = (
        "import sys\n"
        "from zoo import DatasetSpec, ModelEntry, PluginStatus, Run, TrainConfig\n"
        "print('torch' in sys.modules)\n"
        "from zoo import Comparison, RunListing\n"
        "print('torch' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True"]


def test_list_models_gives_names_or_with_details_the_entries():
    entries = zoo.list_models("circle-*", details=True)
    assert [entry.name for entry in entries] == zoo.list_models("circle-*")
    assert all(isinstance(entry, zoo.ModelEntry) for entry in entries)
    specs = zoo.list_datasets("circles", details=True)
    assert [spec.name for spec in specs] == zoo.list_datasets("circles") == ["circles"]
    assert isinstance(specs[0], zoo.DatasetSpec)


def test_train_returns_the_summary_that_zoo_train_json_prints():
    run = zoo.train("circle-v0", epochs=10, seed=3)
    assert set(run.summary) >= SUMMARY_KEYS
    assert (
        run.summary["run_dir"] is None and run.summary["seed"] == 3 and run.summary["epochs"] == 10
    )
