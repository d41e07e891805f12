"""Shared fixtures: real plugin packages pip-installed into a folder, and a `zoo` runner.

Plugins are found through real entry points only. The example plugin (examples/zoo-tanh), the
misbehaving ones (tests/plugins/zoo-misfits) and one whose event hooks use pluggy's options
(tests/plugins/zoo-call-order) are pip-installed once per session into a target folder; a test
puts that folder on the path (PYTHONPATH for a `zoo` process, sys.path in-process) and picks
plugins with ZOO_LOAD_PLUGINS, as a user would.

The tests are hermetic: every test, and every `zoo` process a test starts, loads the built-in
plugins only (ZOO_LOAD_PLUGINS set to them) unless it names others, so a plugin installed
beside zoo in this environment changes nothing here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from zoo.plugins.loader import load_plugins

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_PLUGIN = ROOT / "examples" / "zoo-tanh"
MISFIT_PLUGINS = ROOT / "tests" / "plugins" / "zoo-misfits"
CALL_ORDER_PLUGIN = ROOT / "tests" / "plugins" / "zoo-call-order"
BUILT_IN = "circle_models,blob_models,sklearn_datasets,csv_datasets,loggers"
# The keys `zoo train --json`, zoo.train and each compare result promise (issue #2).
SUMMARY_KEYS = {
    "model",
    "dataset",
    "epochs",
    "train_acc",
    "test_acc",
    "train_loss",
    "test_loss",
    "seconds",
    "device",
    "seed",
    "run_dir",
}
_ZOO_VARIABLES = ("ZOO_REGISTRY", "ZOO_LOAD_PLUGINS", "ZOO_STRICT_PLUGINS")
# MLflow decides at import whether to send telemetry (and start a thread for it): never here,
# in this process or in the `zoo` processes the tests start.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that starts `zoo` processes or pip-installs plugins is slow: `make check` (the
    inner loop) leaves it out, `make test` runs it."""
    for item in items:
        if {"zoo_process", "with_plugins", "plugins_in_process"} & set(item.fixturenames):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def clean_zoo_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts from zoo's defaults: no ZOO_* variables but the built-in plugin set,
    plugins loaded afresh."""
    for name in _ZOO_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ZOO_LOAD_PLUGINS", BUILT_IN)
    load_plugins.cache_clear()
    yield
    load_plugins.cache_clear()


@pytest.fixture(scope="session")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with zoo-tanh, zoo-misfits and zoo-call-order installed by pip, as wheels with
    entry points."""
    site = tmp_path_factory.mktemp("site-packages")
    sources = tmp_path_factory.mktemp("sources")
    packages = [
        shutil.copytree(p, sources / p.name)
        for p in (EXAMPLE_PLUGIN, MISFIT_PLUGINS, CALL_ORDER_PLUGIN)
    ]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--target",
            str(site),
            *packages,
        ],
        check=True,
        capture_output=True,
    )
    return site


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


Zoo = Callable[..., Result]


@pytest.fixture
def zoo_process(tmp_path: Path) -> Zoo:
    """Run `python -m zoo ARGS` as a process in a temporary folder; ``env`` adds variables.
    For what needs a process: start-up, imports, plugins that exit or print, signals."""

    def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> Result:
        environment = {k: v for k, v in os.environ.items() if k not in _ZOO_VARIABLES}
        environment["ZOO_LOAD_PLUGINS"] = BUILT_IN
        environment.update(env or {})
        completed = subprocess.run(
            [sys.executable, "-m", "zoo", *args],
            capture_output=True,
            text=True,
            cwd=cwd or tmp_path,
            env=environment,
            timeout=600,
        )
        return Result(completed.returncode, completed.stdout, completed.stderr)

    return run


@pytest.fixture
def zoo_cli(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    zoo_process: Zoo,
) -> Zoo:
    """Run ``zoo ARGS`` in a temporary folder, as a user's shell would; ``env`` adds
    variables. In this process (``zoo.cli.main``: a process costs seconds of imports), except
    where ``env`` puts the test plugins on the path: those run in a `zoo` process, since some
    of them exit or write to the terminal at import, as a broken plugin may."""

    def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> Result:
        if env and "PYTHONPATH" in env:
            return zoo_process(*args, env=env, cwd=cwd)
        with monkeypatch.context() as local:
            local.chdir(cwd or tmp_path)
            local.setenv("ZOO_LOAD_PLUGINS", BUILT_IN)
            for name, value in (env or {}).items():
                local.setenv(name, value)
            load_plugins.cache_clear()
            result = run_here(args, capsys)
        load_plugins.cache_clear()
        return result

    return run


@pytest.fixture
def zoo_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Zoo:
    """Run ``zoo ARGS`` in this process (``zoo.cli.main``), in a temporary folder: what it
    printed and its exit status, as ``zoo_process`` gives them for a process."""
    monkeypatch.chdir(tmp_path)
    return lambda *args: run_here(args, capsys)


def run_here(args: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> Result:
    """``zoo ARGS`` through ``zoo.cli.main`` in this process: its status and what it printed."""
    from zoo.cli import main

    capsys.readouterr()  # what was printed before is not this command's
    status = main(list(args))
    out, err = capsys.readouterr()
    return Result(status, out, err)


@pytest.fixture
def with_plugins(plugin_site: Path) -> Callable[..., dict[str, str]]:
    """Environment for a `zoo` process that sees the installed test plugins.

    ``with_plugins("tanh")`` loads the built-ins and those plugins only.
    """

    def environment(*plugins: str) -> dict[str, str]:
        env = {"PYTHONPATH": str(plugin_site)}
        if plugins:
            env["ZOO_LOAD_PLUGINS"] = ",".join([BUILT_IN, *plugins])
        return env

    return environment


@pytest.fixture
def plugins_in_process(plugin_site: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Make the installed test plugins visible to this process; pick them by name."""

    def select(*plugins: str) -> None:
        monkeypatch.syspath_prepend(str(plugin_site))
        monkeypatch.setenv("ZOO_LOAD_PLUGINS", ",".join([BUILT_IN, *plugins]))
        load_plugins.cache_clear()

    return select


def assert_one_line_error(result: Result, *fragments: str, status: int | None = None) -> str:
    """A user's mistake: non-zero exit, no traceback, one line on stderr naming the problem."""
    assert result.returncode != 0, result.stdout
    if status is not None:
        assert result.returncode == status
    assert "Traceback" not in result.stderr
    assert len(result.error_lines) == 1, result.stderr
    line = result.error_lines[0]
    assert "error:" in line
    for fragment in fragments:
        assert fragment in line, line
    return line


def start_zoo(args: list[str], cwd: Path) -> subprocess.Popen[str]:
    """``python -m zoo ARGS`` started in the background (no ZOO_ variables, unbuffered), for
    tests that signal, race or kill it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZOO_")}
    env["ZOO_LOAD_PLUGINS"] = BUILT_IN
    env["PYTHONUNBUFFERED"] = "1"
    return subprocess.Popen(
        [sys.executable, "-m", "zoo", *args],
        cwd=cwd,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
