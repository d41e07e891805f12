"""Text zoo prints is data, not commands.

Labels, descriptions and names come from data files, catalogues and plugins: a terminal's
escape sequences in them are printed escaped (zoo predict, zoo list, zoo info, errors), a label
that a spreadsheet would run as a formula is written as text (OWASP's advice against CSV
injection), and summary.md shows names as they are, not as links or HTML.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

import zoo
from zoo.cli import main

ESCAPES = "\x1b[2J\x1b]0;pwned\x07\x9b31m\r\u202e"  # clear, retitle, C1 CSI, CR, bidi override
RED = "\x1b[31mred"
FORMULA = "=cmd|' /C calc'!A0"
NAME = "=a_[link](x.test)_<b>bold_*em*`code`|pipe.csv"  # a dataset's name: a CSV file's


def run_zoo(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def assert_no_controls(text: str) -> None:
    assert not any((ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) <= 0x9F for c in text), repr(
        text
    )
    assert "\u202e" not in text


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run trained on a CSV whose labels hold an escape sequence and a formula."""
    work = tmp_path_factory.mktemp("labels")
    lines = ["x1,x2,label"]
    lines += [f"{4 * (i % 2)},{i % 5},{RED if i % 2 else FORMULA}" for i in range(60)]
    (work / "data.csv").write_text("\n".join(lines) + "\n")
    zoo.train("circle-v2", data=str(work / "data.csv"), epochs=300, out=work / "run", plot=False)
    return work / "run"


@pytest.fixture
def rows(tmp_path: Path) -> Path:
    path = tmp_path / "rows.csv"
    path.write_text("x1,x2\n" + "".join(f"{4 * (i % 2)},{i % 5}\n" for i in range(30)))
    return path


def test_predict_prints_labels_with_their_escapes_written_out(capsys, hostile_run, rows):
    status, out, err = run_zoo(capsys, "predict", str(hostile_run), "--input", str(rows))
    assert status == 0, err
    assert_no_controls(out)
    table = list(csv.reader(io.StringIO(out)))
    assert table[0] == ["label", "p_\\x1b[31mred", "p_=cmd|' /C calc'!A0"]
    assert {row[0] for row in table[1:]} == {"\\x1b[31mred", "'" + FORMULA}


def test_a_label_that_is_a_formula_is_written_as_text_for_spreadsheets(
    capsys, hostile_run, rows, tmp_path
):
    output = tmp_path / "predictions.csv"
    args = ["predict", str(hostile_run), "--input", str(rows), "--output", str(output)]
    assert run_zoo(capsys, *args)[0] == 0
    labels = [row[0] for row in csv.reader(output.open())][1:]
    assert "'" + FORMULA in labels
    assert not any(label.startswith(("=", "+", "-", "@")) for label in labels)


def test_predict_json_keeps_the_labels_exact(capsys, hostile_run, rows):
    status, out, _ = run_zoo(capsys, "predict", str(hostile_run), "--input", str(rows), "--json")
    assert status == 0
    assert_no_controls(out)  # JSON writes control characters as \u001b
    assert {record["label"] for record in json.loads(out)} <= {RED, FORMULA}


@pytest.fixture
def hostile_catalogue(tmp_path: Path) -> Path:
    path = tmp_path / "registry.yaml"
    path.write_text(
        "models:\n  circle-v2-evil:\n    model: circle-v2\n"
        '    description: "fine\\e[2J\\e]0;pwned\\a\\r\\u202etext"\n'
    )
    return path


@pytest.mark.parametrize("command", ["list", "info"])
def test_list_and_info_print_a_description_with_its_escapes_written_out(
    capsys, hostile_catalogue, command
):
    args = ["info", "circle-v2-evil"] if command == "info" else ["list"]
    status, out, err = run_zoo(capsys, *args, "--registry", str(hostile_catalogue))
    assert status == 0, err
    assert_no_controls(out + err)
    assert "fine\\x1b[2J\\x1b]0;pwned\\x07\\r\\u202etext" in out


def test_an_error_naming_data_is_one_line_with_its_escapes_written_out(
    capsys, hostile_run, tmp_path
):
    missing = tmp_path / "\x1b[2J\rnew\nline.csv"
    status, _, err = run_zoo(capsys, "eval", str(hostile_run), "--data", str(missing))
    assert status == 1
    assert_no_controls(err)
    assert len(err.strip().splitlines()) == 1 and "\\x1b[2J\\rnew\\nline.csv" in err


@pytest.fixture(scope="module")
def hostile_comparison(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A comparison whose dataset's name (a CSV path) is Markdown, HTML and a formula."""
    work = tmp_path_factory.mktemp("markdown")
    (work / NAME).write_text(
        "x1,x2,label\n" + "".join(f"{i % 7},{i % 5},{i % 2}\n" for i in range(40))
    )
    here = os.getcwd()
    os.chdir(work)  # the dataset is named as given: relative, so its name starts with "="
    try:
        zoo.compare(["circle-v0"], datasets=[NAME], seeds=2, epochs=3, workers=1, out="o")
    finally:
        os.chdir(here)
    return work / "o"


def test_summary_md_shows_names_as_text_not_links_or_html(hostile_comparison):
    markdown = (hostile_comparison / "summary.md").read_text()
    tokens = MarkdownIt("commonmark").enable("table").parse(markdown)
    kinds = {child.type for token in tokens for child in token.children or []}
    assert kinds <= {"text", "softbreak"}, kinds  # no link, emphasis, code span or HTML
    heading = next(t for i, t in enumerate(tokens) if i and tokens[i - 1].type == "heading_open")
    assert NAME in heading.content.replace("\\", "")
    cells = [t for t in tokens if t.type == "inline" and t.map is not None]
    assert cells  # the table was parsed as one: the | in the name did not break a row


def test_csv_files_of_a_comparison_write_a_formula_name_as_text(hostile_comparison):
    for name in ("results.csv", "summary.csv"):
        rows = list(csv.DictReader((hostile_comparison / name).open()))
        assert all(row["dataset"].startswith("'=") for row in rows), rows


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("=1+1", "'=1+1"),
        ("+cmd", "'+cmd"),
        ("-cmd", "'-cmd"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=x", "\\t=x"),
        ("-1.5", "-1.5"),
        ("+3", "+3"),
        ("cat", "cat"),
        (7, 7),
    ],
)
def test_spreadsheet_cells_follow_owasp(value, shown):
    from zoo.text import spreadsheet_cell

    assert spreadsheet_cell(value) == shown


def test_the_helpers_escape_every_control_character():
    from zoo.text import markdown_cell, printable

    for code in [*range(0x20), *range(0x7F, 0xA0)]:
        assert printable(chr(code)).startswith("\\")
    assert printable("a\nb", newlines=True) == "a\nb"
    assert printable("a\nb") == "a\\nb"
    assert markdown_cell("[x](y) <b> *e* `c` | ~s~ !i") == (
        "\\[x\\](y) \\<b\\> \\*e\\* \\`c\\` \\| \\~s\\~ \\!i"
    )
    assert printable(ESCAPES) == "\\x1b[2J\\x1b]0;pwned\\x07\\x9b31m\\r\\u202e"
