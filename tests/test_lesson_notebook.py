"""examples/lesson-02.ipynb runs from a clean kernel and shows the lesson: circle-v0 fails
(and zoo says it learned nothing), circle-v2 succeeds, ten seeds give a verdict, a model
defined in the notebook and a CSV file train, the export matches torch. The outputs committed
in the file (what the documentation site shows) are what running it shows, each number up to
the drift between CPUs.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import drift
import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "examples" / "lesson-02.ipynb"
sys.path.insert(0, str(ROOT / "scripts"))

from run_notebook import execute  # noqa: E402  (the same runner that wrote the outputs)


def text(cell: nbformat.NotebookNode, stream: str = "stdout") -> str:
    return "".join(o.text for o in cell.outputs if o.get("name") == stream)


def pictures(cell: nbformat.NotebookNode) -> int:
    return sum("image/png" in o.get("data", {}) for o in cell.outputs)


def tagged(notebook: nbformat.NotebookNode, tag: str) -> nbformat.NotebookNode:
    (cell,) = [c for c in notebook.cells if tag in c.metadata.get("tags", [])]
    return cell


def percent(label: str, shown: str) -> float:
    return float(re.search(rf"{label}: (\d+\.\d)% test accuracy", shown).group(1))


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> nbformat.NotebookNode:
    return execute(NOTEBOOK, tmp_path_factory.mktemp("lesson"))


@pytest.mark.slow
def test_the_notebook_runs_top_to_bottom_from_a_clean_kernel(ran):
    errors = [o for c in ran.cells if c.cell_type == "code" for o in c.outputs]
    assert [o for o in errors if o.output_type == "error"] == []
    assert all(c.execution_count for c in ran.cells if c.cell_type == "code")


@pytest.mark.slow
def test_circle_v0_fails_and_zoo_says_it_learned_nothing(ran):
    cell = tagged(ran, "circle-v0")
    assert percent("circle-v0", text(cell)) < 60.0
    assert "learned nothing: True" in text(cell)
    assert "LearnedNothingWarning: circle-v0 learned nothing on circles" in text(cell, "stderr")


@pytest.mark.slow
def test_circle_v2_succeeds_and_its_boundary_is_drawn(ran):
    cell = tagged(ran, "circle-v2")
    assert percent("circle-v2", text(cell)) > 95.0
    assert pictures(cell) == 1


@pytest.mark.slow
def test_ten_seeds_find_circle_v0_worse_with_a_significant_p_value(ran):
    shown = text(tagged(ran, "compare"))
    assert "circles: 10 seeds (42 ... 51)" in shown
    row = next(line for line in shown.splitlines() if line.startswith("circle-v0 "))
    verdict = re.search(r"worse than circle-v2 by [\d.]+ pp \[[\d.]+, [\d.]+\], p=([\d.]+)", row)
    assert verdict and float(verdict.group(1)) < 0.05


@pytest.mark.slow
def test_a_notebook_model_a_csv_file_and_an_export_work(ran):
    own = text(tagged(ran, "own-model"))
    assert percent("ringnet", own) > 95.0
    assert "inner ring, outer ring: [1 0]" in own
    table = text(tagged(ran, "csv"))
    assert percent("circle-v2 on the table", table) > 90.0
    assert "scaling: standard" in table
    export = text(tagged(ran, "export"))
    difference = float(re.search(r"largest difference from torch (\S+)", export).group(1))
    assert difference <= 1e-5
    inside, outside = map(float, re.findall(r"P\(inner ring\) = ([\d.]+)", export))
    assert inside > 0.5 > outside


def shown(notebook: nbformat.NotebookNode) -> list[tuple[str, int]]:
    """Each code cell's text (times, the kernel's file names and the SECONDS column masked)
    and its number of pictures."""

    def mask(output: str) -> str:
        output = re.sub(r"/tmp/ipykernel_\d+/\d+\.py:\d+", "<cell>", output)
        lines = output.splitlines()
        for i, line in enumerate(lines):
            if "SECONDS" in line and "P(BEST>ROW)" in line:
                start, end = line.index("SECONDS"), line.index("P(BEST>ROW)")
                for j in range(i, len(lines)):
                    lines[j] = lines[j][:start] + " " * (end - start) + lines[j][end:]
        return "\n".join(lines)

    return [
        (mask(text(c) + text(c, "stderr")), pictures(c))
        for c in notebook.cells
        if c.cell_type == "code"
    ]


@pytest.mark.slow
def test_the_committed_outputs_are_what_running_it_shows(ran):
    committed = nbformat.read(NOTEBOOK, as_version=4)
    assert [c.source for c in committed.cells] == [c.source for c in ran.cells]
    advice = "run scripts/run_notebook.py and commit the notebook"
    assert [pictures for _, pictures in shown(committed)] == [p for _, p in shown(ran)], advice
    for (kept, _), (now, _) in zip(shown(committed), shown(ran), strict=True):
        # the same text, each number up to the drift between CPUs (tests/drift.py)
        assert drift.same_up_to_drift(kept, now), f"{advice}\n{kept}\n!=\n{now}"
