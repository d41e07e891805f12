"""README.md and the documentation pages (docs/*.md) show real output and the real example
plugins: these tests keep them so.

A ``console`` block marked ``<!-- rerun -->`` on the line before it is run again, command by
command, in a fresh folder holding the repository's examples/data, and what it shows must be
what zoo prints (``...`` stands for lines left out; the seconds a training took, run-folder
timestamps and a comparison's SECONDS column may differ). Other blocks show what needs a
setting these tests cannot make (a Ctrl-C, a plugin that fails, a cluster) and are checked by
the tests of those features.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import drift
import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
TEXT = {page.relative_to(ROOT).as_posix(): page.read_text() for page in PAGES}
README = TEXT["README.md"]
ALL = "\n".join(TEXT.values())
RERUN = re.compile(r"^( *)<!-- rerun -->\n\1```console\n(.*?)^\1```", re.M | re.S)


def console_block(command: str) -> list[str]:
    """The lines the docs show after ``$ command``, up to the next prompt or the block's end."""
    block = ALL.split(f"$ {command}\n", 1)[1]
    lines = []
    for line in block.splitlines():
        if line.startswith(("$ ", "```")):
            break
        lines.append(line)
    return lines


def test_the_write_a_plugin_section_is_the_example_package():
    shown = ALL.split("# zoo_tanh.py\n", 1)[1].split("```", 1)[0]
    source = (ROOT / "examples" / "zoo-tanh" / "zoo_tanh.py").read_text()
    assert shown.strip() == re.sub(r'^""".*?"""\n', "", source, flags=re.S).strip()


def test_the_order_and_wrappers_plugin_shown_is_the_one_the_tests_install():
    shown = ALL.split("# zoo_call_order.py\n", 1)[1].split("```", 1)[0]
    source = (ROOT / "tests" / "plugins" / "zoo-call-order" / "zoo_call_order.py").read_text()
    assert shown.strip() == re.sub(r'^""".*?"""\n', "", source, flags=re.S).strip()


def test_the_call_order_shown_is_what_the_plugin_prints(zoo_cli, with_plugins):
    command = "zoo train blob-v0 --epochs 1 --out run"
    result = zoo_cli(*command.split()[1:], env=with_plugins("call_order"))
    assert result.returncode == 0, result.stderr
    shown = [line for line in console_block(command) if line.startswith("call_order: ")]
    assert result.error_lines == shown


def test_the_ten_line_logger_is_a_working_logger(tmp_path, monkeypatch):
    from types import ModuleType

    import zoo
    from zoo.plugins.loader import add_plugin_object, load_plugins
    from zoo.plugins.specs import PluginInfo

    shown = ALL.split("# zoo_ledger.py\n", 1)[1].split("```", 1)[0]
    module = ModuleType("zoo_ledger")
    exec(compile(shown, "zoo_ledger.py", "exec"), module.__dict__)
    add_plugin_object(load_plugins(), module, PluginInfo("ledger", "zoo_ledger"))
    monkeypatch.chdir(tmp_path)
    zoo.train("circle-v0", epochs=5, loggers=["ledger"])  # registered by its hook
    zoo.train("circle-v2", epochs=5, loggers=[module.Ledger()])  # or given as an object
    lines = (tmp_path / "zoo-runs.jsonl").read_text().splitlines()
    assert [json.loads(line)["run"] for line in lines] == [
        "circle-v0 on circles, seed 42",
        "circle-v2 on circles, seed 42",
    ]


def rerun_blocks() -> list[tuple[str, str]]:
    """Every console block marked for re-running, at the left margin or indented in a list
    item: (page, block)."""
    return [
        (page, re.sub(rf"^{indent}", "", block, flags=re.M))
        for page, text in TEXT.items()
        for indent, block in RERUN.findall(text)
    ]


def session(block: str) -> list[tuple[str, list[str]]]:
    """Each command of a console block (a ``python -c '...'`` runs on until its closing
    quote) with the lines shown after it."""
    steps: list[tuple[str, list[str]]] = []
    lines = block.splitlines()
    while lines:
        command = lines.pop(0)[2:]
        if command.startswith("python -c '"):
            while command.count("'") < 2:  # the code, up to its closing quote
                command += "\n" + lines.pop(0)
        shown = []
        while lines and not lines[0].startswith("$ "):
            shown.append(lines.pop(0))
        steps.append((command, shown))
    return steps


def block_name(block: str) -> str:
    """A block's test id: its first command whose output it shows (the commands that only
    make what it needs, a file or a run folder whose output is ``...``, come first), else
    its last."""
    commands = [command for command, lines in session(block) if lines and lines[0] != "..."]
    return (commands or [session(block)[-1][0]])[0].split("\n")[0][:60]


def run_shown(command: str, capsys, monkeypatch) -> str:
    """Run one shown command here, in this process (stderr into stdout, as a terminal shows
    them): ``zoo ...``, ``head -N FILE``, ``cat FILE``, ``printf '...' | zoo ...``,
    ``printf '...' > FILE`` (FILE may be a pattern that names one file) or ``python -c``."""
    import contextlib
    import io
    import shlex
    import sys

    from zoo.cli import main

    if command.startswith("python -c '"):
        capsys.readouterr()
        exec(compile(command[len("python -c '") : -1], "<docs>", "exec"), {})
        return capsys.readouterr().out
    if command.startswith("head -"):
        count, path = shlex.split(command)[1:]
        return "".join(Path(path).read_text().splitlines(keepends=True)[: int(count[1:])])
    if command.startswith("cat "):
        (path,) = shlex.split(command)[1:]
        return Path(path).read_text()
    if command.startswith("printf ") and " > " in command:
        given, _, pattern = command.partition(" > ")
        (path,) = sorted(Path().glob(pattern)) if "*" in pattern else [Path(pattern)]
        path.write_text(shlex.split(given)[1].encode().decode("unicode_escape"))
        return ""
    if command.startswith("printf "):
        given, _, command = command.partition(" | ")
        text = shlex.split(given)[1].encode().decode("unicode_escape")
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    assert command.startswith("zoo "), command
    capsys.readouterr()
    with contextlib.redirect_stderr(sys.stdout):
        status = main(shlex.split(command)[1:])
    printed = capsys.readouterr().out
    assert (status == 0) != ("error:" in printed), (command, status, printed)
    return printed


def machine_free(text: str) -> str:
    """``text`` without what depends on the machine and the moment: a training's seconds (in
    its last line and in its JSON), a run folder's timestamp and the time it started (in
    ``zoo runs``), a comparison's SECONDS column, and the SHA-256 of published weights (their
    last bits differ between CPUs, see tests/drift.py)."""
    text = re.sub(r"Done in \d+\.\d+s", "Done in Xs", text)
    text = re.sub(r'"seconds": [\d.e-]+', '"seconds": X', text)
    text = re.sub(r"(runs/[\w.-]+/)\d{8}-\d{6}(-\d+)?", r"\1TIMESTAMP", text)
    text = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d$", "STARTED", text, flags=re.M)
    text = re.sub(r"(sha256:? )[0-9a-f]{12,64}", r"\1SHA256", text)
    lines = text.split("\n")
    column = None  # where a table's SECONDS column starts
    for i, line in enumerate(lines):
        if "  SECONDS  " in line:
            column = line.index("SECONDS")
        elif column is not None and line.strip() and not line.startswith(("$", "Written")):
            lines[i] = line[:column] + re.sub(r"^\S+ +", "X ", line[column:])
        else:
            column = None
    return "\n".join(lines)


def assert_shown(shown: list[str], printed: str) -> None:
    """What the docs show is what zoo printed: the same text, each number up to the drift
    between CPUs (tests/drift.py); ``...`` stands for lines left out."""
    expected = machine_free("\n".join(shown)).split("\n") if shown else []
    kept = [line for line in expected if line.strip() != "..."]
    regex = "".join(
        r"(?:.*\n)*?" if line.strip() == "..." else drift.pattern(line) + r"\n" for line in expected
    )
    match = re.fullmatch(regex, machine_free(printed))
    assert match, f"the docs show:\n{shown}\nzoo printed:\n{printed}"
    shown_numbers = [n for line in kept for n in drift.numbers(line)]
    assert not drift.drifted(shown_numbers, list(match.groups())), (
        f"the docs show:\n{shown}\nzoo printed:\n{printed}"
    )


def test_the_readme_stays_a_front_door():
    assert len(README.splitlines()) <= 250  # the rest lives on the site's pages


def test_the_readme_notebook_example_returns_what_its_comments_show(tmp_path, monkeypatch):
    """Each line of the README's notebook example that ends in a comment showing a value
    (``# 98.0``) gives that value, up to the drift between CPUs."""
    import ast

    code = "import zoo\n" + README.split("```python\nimport zoo\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    shown = 0
    for statement in ast.parse(code).body:
        value = code.splitlines()[statement.end_lineno - 1].partition("  # ")[2]
        if isinstance(statement, ast.Expr) and re.match(r"[\d\[(-]|array\(", value):
            printed = repr(eval(ast.get_source_segment(code, statement), namespace))
            assert drift.same_up_to_drift(value, printed), (statement.lineno, value, printed)
            shown += 1
        else:
            exec(compile(ast.Module([statement], []), "README.md", "exec"), namespace)
    assert shown == 2


def test_some_console_blocks_of_readme_and_of_the_pages_are_rerun():
    pages = {page for page, _ in rerun_blocks()}
    assert {"README.md", "docs/getting-started.md", "docs/your-own-data.md"} <= pages


@pytest.mark.slow  # a comparison of ten seeds among them
@pytest.mark.parametrize(
    ("page", "block"),
    rerun_blocks(),
    ids=[f"{page}:{block_name(block)}" for page, block in rerun_blocks()],
)
def test_a_console_block_marked_rerun_shows_what_zoo_prints(
    page, block, tmp_path, capsys, monkeypatch
):
    shutil.copytree(ROOT / "examples" / "data", tmp_path / "examples" / "data")
    monkeypatch.chdir(tmp_path)
    for command, shown in session(block):
        assert_shown(shown, run_shown(command, capsys, monkeypatch))


@pytest.mark.slow
def test_the_ten_line_model_plugin_is_the_same_everywhere_and_trains():
    from types import ModuleType

    import zoo
    from zoo.plugins.loader import add_plugin_object, load_plugins
    from zoo.plugins.specs import PluginInfo

    shown = {text.split("# zoo_silu.py\n", 1)[1].split("```", 1)[0] for text in TEXT.values()
             if "# zoo_silu.py\n" in text}  # fmt: skip
    assert len(shown) == 1  # README and the plugin page show one plugin
    (source,) = shown
    assert len([line for line in source.splitlines() if line.strip()]) <= 10
    module = ModuleType("zoo_silu")
    exec(compile(source, "zoo_silu.py", "exec"), module.__dict__)
    add_plugin_object(load_plugins(), module, PluginInfo("silu", "zoo_silu"))
    assert "silu-mlp" in zoo.list_models()
    run = zoo.train("silu-mlp", epochs=200, lr=0.1, momentum=0.9)
    assert run.config.dataset == "moons" and run.summary["test_acc"] > 85.0
