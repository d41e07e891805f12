"""README.md shows real output and the real example plugin: these tests keep it so."""

from __future__ import annotations

import json
import re
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
    command = "zoo train circle-v0 --epochs 1 --out run"
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
