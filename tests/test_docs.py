"""README.md shows real output and the real example plugin: these tests keep it so."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def console_block(command: str) -> list[str]:
    """The lines README shows after ``$ command``, up to the next prompt or the block's end."""
    block = README.split(f"$ {command}\n", 1)[1]
    lines = []
    for line in block.splitlines():
        if line.startswith(("$ ", "```")):
            break
        lines.append(line)
    return lines


def test_the_write_a_plugin_section_is_the_example_package():
    shown = README.split("# zoo_tanh.py\n", 1)[1].split("```", 1)[0]
    source = (ROOT / "examples" / "zoo-tanh" / "zoo_tanh.py").read_text()
    assert shown.strip() == re.sub(r'^""".*?"""\n', "", source, flags=re.S).strip()


def test_the_order_and_wrappers_plugin_shown_is_the_one_the_tests_install():
    shown = README.split("# zoo_call_order.py\n", 1)[1].split("```", 1)[0]
    source = (ROOT / "tests" / "plugins" / "zoo-call-order" / "zoo_call_order.py").read_text()
    assert shown.strip() == re.sub(r'^""".*?"""\n', "", source, flags=re.S).strip()


def test_the_call_order_shown_is_what_the_plugin_prints(zoo_cli, with_plugins):
    command = "zoo train blob-v0 --epochs 1 --out run"
    result = zoo_cli(*command.split()[1:], env=with_plugins("call_order"))
    assert result.returncode == 0, result.stderr
    shown = [line for line in console_block(command) if line.startswith("call_order: ")]
    assert result.error_lines == shown


def test_the_zoo_list_shown_is_what_zoo_list_prints(zoo_cli):
    assert zoo_cli("list").stdout.splitlines() == console_block("zoo list")


def test_the_errors_shown_are_the_errors_zoo_prints(zoo_cli):
    for command in ("zoo train circle-v3", "zoo train circle-v2 --epochs 0"):
        assert zoo_cli(*command.split()[1:]).stderr.splitlines() == console_block(command)


def test_the_ten_line_logger_is_a_working_logger(tmp_path, monkeypatch):
    from types import ModuleType

    import zoo
    from zoo.plugins.loader import add_plugin_object, load_plugins
    from zoo.plugins.specs import PluginInfo

    shown = README.split("# zoo_ledger.py\n", 1)[1].split("```", 1)[0]
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


def console_session(first: str) -> list[tuple[str, list[str]]]:
    """The ``console`` block of README that starts with ``$ first``: each command (a
    ``python -c '...'`` runs on until its closing quote) with the lines shown after it."""
    block = next(
        b.split("```", 1)[0]
        for b in README.split("```console\n")[1:]
        if b.startswith(f"$ {first}\n")
    )
    session: list[tuple[str, list[str]]] = []
    lines = block.splitlines()
    while lines:
        command = lines.pop(0)[2:]
        if command.startswith("python -c '"):
            while command.count("'") < 2:  # the code, up to its closing quote
                command += "\n" + lines.pop(0)
        shown = []
        while lines and not lines[0].startswith("$ "):
            shown.append(lines.pop(0))
        session.append((command, shown))
    return session


def run_shown(command: str, capsys, monkeypatch) -> str:
    """Run one of README's commands here, in this process (stderr into stdout, as a terminal
    shows them): ``zoo ...``, ``head -N FILE``, ``printf '...' | zoo ...`` or ``python -c``."""
    import contextlib
    import io
    import shlex
    import sys

    from zoo.cli import main

    if command.startswith("python -c '"):
        exec(compile(command[len("python -c '") : -1], "<README>", "exec"), {})
        return ""
    if command.startswith("head -"):
        count, path = shlex.split(command)[1:]
        return "".join(Path(path).read_text().splitlines(keepends=True)[: int(count[1:])])
    if command.startswith("printf "):
        given, _, command = command.partition(" | ")
        text = shlex.split(given)[1].encode().decode("unicode_escape")
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    assert command.startswith("zoo "), command
    capsys.readouterr()
    with contextlib.redirect_stderr(sys.stdout):
        assert main(shlex.split(command)[1:]) == 0, command
    return capsys.readouterr().out


def assert_shown(shown: list[str], printed: str) -> None:
    """What README shows is what zoo printed: ``...`` stands for lines left out, and the
    seconds a training took may differ."""

    def timeless(text: str) -> str:
        return re.sub(r"Done in \d+\.\d+s", "Done in Xs", text)

    pattern = "".join(
        r"(?:.*\n)*?" if line == "..." else re.escape(timeless(line)) + r"\n" for line in shown
    )
    assert re.fullmatch(pattern, timeless(printed)), (
        f"README shows:\n{shown}\nzoo printed:\n{printed}"
    )


def test_readmes_csv_examples_run_as_written(tmp_path, capsys, monkeypatch):
    shutil.copytree(ROOT / "examples" / "data", tmp_path / "examples" / "data")
    monkeypatch.chdir(tmp_path)
    for first in ("head -3 examples/data/pets.csv", "python -c '"):
        for command, shown in console_session(first):
            assert_shown(shown, run_shown(command, capsys, monkeypatch))
