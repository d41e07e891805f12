"""The Python API: `import zoo` gives the functions the command line is built on."""

from __future__ import annotations

import importlib
import pkgutil

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


def test_train_returns_the_summary_that_zoo_train_json_prints():
    summary = zoo.train("circle-v0", epochs=10, seed=3)
    assert set(summary) >= SUMMARY_KEYS
    assert summary["run_dir"] is None and summary["seed"] == 3 and summary["epochs"] == 10
