"""The codebase's shape: one-way dependencies, a public API that imports no torch, small parts."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import zoo

ROOT = Path(__file__).resolve().parent.parent
# Lowest first: a module may import its own layer and the layers below it, never above.
LAYERS = [
    ("zoo.names", "zoo.errors", "zoo.hookspecs", "zoo.settings", "zoo.tables", "zoo.text"),
    ("zoo.plugins",),
    ("zoo.config",),
    ("zoo.training",),
    ("zoo.batched",),
    ("zoo.runs",),
    ("zoo.comparison",),
    ("zoo.api", "zoo", "zoo.sklearn"),
    ("zoo.cli", "zoo.__main__"),
]


def layer_of(module: str) -> int:
    for depth, prefixes in reversed(list(enumerate(LAYERS))):
        if any(module == p or module.startswith(p + ".") for p in prefixes if p != "zoo"):
            return depth
    assert module == "zoo", module
    return 7


def zoo_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] == "zoo"}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "zoo":
            module = node.module or ""
            found |= {f"{module}.{alias.name}" for alias in node.names}
            if module != "zoo":  # `from zoo import api` imports zoo.api; zoo itself is free
                found.add(module)
    return found


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def sources(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("path", sources("zoo"), ids=lambda p: module_name(p))
def test_dependencies_point_one_way(path):
    here = layer_of(module_name(path))
    for imported in zoo_imports(path):
        assert layer_of(imported) <= here, f"{module_name(path)} imports {imported}, above it"


@pytest.mark.parametrize("path", sources("plugins"), ids=lambda p: p.name)
def test_built_in_plugins_use_only_the_public_api(path):
    public = ("zoo.hookspecs", "zoo.errors", "zoo.tables")
    for imported in zoo_imports(path):
        assert imported == "zoo" or imported.startswith(public), imported


def test_the_api_is_listed_and_documented_without_importing_torch():
    script = (
        "import io, sys, pydoc, zoo\n"
        "text = pydoc.render_doc(zoo, renderer=pydoc.plaintext)\n"
        "print(sorted(dir(zoo)))\n"
        "print('train(' in text and 'compare(' in text and 'hookimpl' in text)\n"
        "print('torch' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    names, documented, torch_loaded = result.stdout.splitlines()
    assert eval(names) == sorted({*zoo.__all__, "api", "errors", "hookspecs", "tables"})
    assert documented == "True"
    assert torch_loaded == "False"


def test_the_package_api_and_the_api_module_agree():
    from zoo import api

    assert set(api.__all__) <= set(zoo.__all__)
    types = {"DatasetSpec", "ModelEntry", "TrainConfig"}  # zoo's lazy names, not api's
    assert set(zoo.__all__) - set(api.__all__) == {"__version__", "hookimpl", *types}


def test_every_module_stays_small_and_every_function_short():
    for path in sources("zoo") + sources("plugins"):
        lines = path.read_text().count("\n")
        assert lines <= 400, f"{path.relative_to(ROOT)} has {lines} lines"
        if "cli" in path.parts:
            continue  # a command's option list is long by nature
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                assert length <= 50, f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"
