"""What `pip install zoo` puts on a user's machine: every module, the catalogue, the plugins."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # builds and installs wheels

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    """A wheel built from a clean copy of the sources (no stale build/ folder to hide gaps)."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md", "LICENSE", "registry.yaml", "zoo", "plugins"):
        if (ROOT / name).is_dir():
            shutil.copytree(
                ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy2(ROOT / name, source / name, follow_symlinks=False)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-w",
            str(out),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    (path,) = out.glob("torch_zoo-*.whl")
    return zipfile.ZipFile(path)


def test_the_wheel_holds_every_module_of_the_source_tree(wheel):
    names = set(wheel.namelist())
    sources = {
        f"zoo/{p.relative_to(ROOT / 'zoo').as_posix()}" for p in (ROOT / "zoo").rglob("*.py")
    }
    sources |= {f"zoo_plugins/{p.name}" for p in (ROOT / "plugins").glob("*.py")}
    assert sources <= names, sorted(sources - names)


def test_the_distribution_is_torch_zoo_and_imports_as_zoo(wheel):
    # `zoo` on the package index is an unrelated RPC framework: plugins depend on torch-zoo.
    (name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    assert "\nName: torch-zoo\n" in wheel.read(name).decode()
    assert "zoo/__init__.py" in wheel.namelist()


def test_the_catalogue_ships_inside_the_package(wheel):
    assert wheel.read("zoo/registry.yaml") == (ROOT / "registry.yaml").read_bytes()


def test_plugins_install_as_zoo_plugins_never_as_a_bare_plugins_package(wheel):
    assert not any(name.startswith("plugins/") for name in wheel.namelist())


def test_the_builtin_plugins_are_entry_points_and_zoo_is_a_command(wheel):
    (name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt")]
    entry_points = configparser.ConfigParser()
    entry_points.read_string(wheel.read(name).decode())
    assert dict(entry_points["zoo"]) == {
        "circle_models": "zoo_plugins.circle_models",
        "blob_models": "zoo_plugins.blob_models",
        "sklearn_datasets": "zoo_plugins.sklearn_datasets",
        "csv_datasets": "zoo_plugins.csv_datasets",
        "loggers": "zoo_plugins.loggers",
    }
    assert entry_points["console_scripts"]["zoo"] == "zoo.cli:main"


def test_the_shipped_weights_are_package_data_of_the_plugins(wheel):
    names = set(wheel.namelist())
    shipped = {f"zoo_plugins/weights/{p.name}" for p in (ROOT / "plugins" / "weights").iterdir()}
    assert "zoo_plugins/weights/circle-v2.safetensors" in shipped
    assert shipped <= names, sorted(shipped - names)


def test_the_sdist_is_the_package_and_its_licence_without_the_tests(tmp_path):
    # The tests stay in the repository (they need its docs, examples and test plugins).
    out = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "--no-isolation", "--outdir", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    (path,) = out.glob("torch_zoo-*.tar.gz")
    with tarfile.open(path) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
        metadata = sdist.extractfile(f"{path.name.removesuffix('.tar.gz')}/PKG-INFO")
        assert metadata is not None
        info = metadata.read().decode()
    assert {"LICENSE", "README.md", "pyproject.toml", "zoo/api.py", "zoo/registry.yaml"} <= names
    assert "plugins/weights/weights.json" in names
    assert not [name for name in names if name.startswith(("tests/", "docs/", "benchmarks/"))]
    assert "License-Expression: MIT" in info and "License-File: LICENSE" in info
    assert "Classifier: Typing :: Typed" in info and "Provides-Extra: test" not in info
