"""The HTML report: `zoo compare --html` and `zoo report DIR` write one self-contained page, and
a real headless Chromium shows it: no console errors, a table row per model, every picture.

The browser test keeps a full-page screenshot: in its pytest tmp folder (the path is printed,
`pytest -s` shows it) and, when ZOO_TEST_ARTIFACTS names a folder, as
$ZOO_TEST_ARTIFACTS/report-screenshot.png.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import assert_one_line_error
from headless_chromium import chromium, missing, open_page

import zoo
import zoo.cli
from zoo.errors import RunFolderError

MODELS = ["circle-v0", "circle-v2"]


def sections(page: str) -> dict[str, str]:
    return dict(re.findall(r"<section id='(\w+)'>(.*?)</section>", page, flags=re.S))


def test_compare_html_writes_one_page_that_a_real_headless_chromium_shows(zoo_cli, tmp_path):
    if missing():
        pytest.fail(missing())  # never skipped: CI installs the browser (.ci/run)
    result = zoo_cli(
        "compare", *MODELS, "--seeds", "2", "--epochs", "60", "--baselines",
        "--out", "out", "--html", "page.html",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Report: page.html" in result.stderr
    summary = json.loads((tmp_path / "out" / "results.json").read_text())["summary"]
    screenshot = tmp_path / "report-screenshot.png"

    with chromium() as browser:
        page = open_page(browser, tmp_path / "page.html", screenshot)

    print(f"screenshot: {screenshot}")
    if os.environ.get("ZOO_TEST_ARTIFACTS"):
        artifacts = Path(os.environ["ZOO_TEST_ARTIFACTS"])
        artifacts.mkdir(parents=True, exist_ok=True)
        shutil.copy(screenshot, artifacts / screenshot.name)
    assert page.console_errors == []
    assert [row[0] for row in page.summary_rows] == [row["model"] for row in summary]
    assert len(page.summary_rows) == 7  # circle-v0, circle-v2, five scikit-learn rows
    verdicts = {row[0]: row[-1] for row in page.summary_rows}
    too_few = "too few seeds to tell (2; need 8 for p<0.05 over 6 comparisons)"
    assert verdicts["circle-v0"].startswith(too_few)  # "; learned nothing on 1 of 2 seeds"
    assert verdicts["sklearn:majority-class"].startswith("too few seeds")
    # the intervals, the spread, two boundaries, two sets of curves
    assert len(page.images) == 6
    assert page.broken_images == []
    assert all(image["width"] > 100 and image["height"] > 100 for image in page.images)
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_page_needs_nothing_but_itself(tmp_path):
    comparison = zoo.compare(MODELS, seeds=2, epochs=30, workers=1)
    html = zoo.html_report(comparison, tmp_path / "page.html").read_text()
    assert html.startswith("<!DOCTYPE html>")
    assert "<script" not in html
    links = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert links and all(link.startswith("data:") for link in links)  # nothing to fetch
    assert list(sections(html)) == ["summary", "boundaries", "curves", "settings", "environment"]
    for words in ("torch", "scikit-learn", "python", "machine", "momentum"):
        assert f"<td>{words}</td>" in html
    assert [p.name for p in tmp_path.iterdir()] == ["page.html"]  # no temporary file left


class SummaryTables(HTMLParser):
    """What a reader of the page sees of its summary tables: the header and the rows as text
    (entities read as a browser reads them), and each picture by its alt text."""

    def __init__(self) -> None:
        super().__init__()
        self.headers: list[str] = []
        self.rows: list[list[str]] = []
        self.pictures: dict[str, str] = {}
        self._in_summary = False
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "table":
            self._in_summary = found.get("class") == "summary"
        elif tag == "tr" and self._in_summary:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "img":
            self.pictures[found.get("alt") or ""] = found.get("src") or ""

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row.append("".join(self._cell))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self.headers:
                self.rows.append(self._row)
            else:
                self.headers = self._row
            self._row = None
        elif tag == "table":
            self._in_summary = False


def numbers(text: str) -> list[float]:
    return [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", text)]


def test_the_pages_summary_and_intervals_carry_the_numbers_of_results_json(tmp_path):
    from zoo.runs.figures import intervals_figure, png_uri

    zoo.compare(MODELS, seeds=6, epochs=40, workers=1, out=tmp_path / "out")
    report = json.loads((tmp_path / "out" / "results.json").read_text())
    parsed = SummaryTables()
    parsed.feed(zoo.html_report(tmp_path / "out").read_text())  # as `zoo report DIR` makes it

    shown: dict[str, dict[str, str]] = {
        row[0]: dict(zip(parsed.headers, row)) for row in parsed.rows
    }
    assert list(shown) == [row["model"] for row in report["summary"]]
    for row in report["summary"]:
        cells = shown[row["model"]]
        assert cells["VERDICT"] == row["verdict"]
        test = row["test_acc"]
        assert numbers(cells["TEST ACC"]) == [round(test["mean"], 2), round(test["std"], 2)]
        iqm = row["iqm"]
        assert numbers(cells["IQM [95% CI]"]) == [
            round(iqm[k], 2) for k in ("estimate", "low", "high")
        ]
        if row["p_improvement"] is None:  # the best row: the others are measured from it
            assert cells["P(BEST>ROW)"] == "-" and row["difference"] is None
        else:
            assert float(cells["P(BEST>ROW)"]) == round(row["p_improvement"], 2)
    behind = report["summary"][1]  # six seeds of circle-v0 against circle-v2's
    verdict = shown[behind["model"]]["VERDICT"]
    assert verdict.startswith(f"worse than {report['summary'][0]['model']} by ")
    d = behind["difference"]  # row - best: the verdict says by how much the best leads
    lead = [round(-d["estimate"], 1), round(-d["high"], 1), round(-d["low"], 1)]
    said = verdict.split(" by ", 1)[1].split(";")[0]  # "6.2 pp [3.7, 8.2], p=0.031"
    assert numbers(said) == [*lead, round(behind["p_holm"], 3)]

    # The interval plot is a picture of exactly these intervals.
    alt = "interquartile mean and difference from the best, with 95% intervals, on circles"
    picture = parsed.pictures[alt]
    assert base64.b64decode(picture.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert picture == png_uri(intervals_figure(report["summary"]))
    iqm_axis, difference_axis = intervals_figure(report["summary"]).axes
    ends = [end for bar in iqm_axis.patches for end in (bar.get_x(), bar.get_x() + bar.get_width())]
    iqms = [row["iqm"] for row in report["summary"]]  # the best (first) row's bar on top
    assert ends == pytest.approx([end for iqm in iqms for end in (iqm["low"], iqm["high"])])
    [bar] = difference_axis.patches  # the best has no difference from itself
    assert (bar.get_x(), bar.get_x() + bar.get_width()) == pytest.approx((d["low"], d["high"]))


@pytest.fixture(scope="module")
def compared_once(tmp_path_factory) -> Path:
    """A `zoo compare --out` folder, and beside it the page `zoo compare --html` made."""
    root = tmp_path_factory.mktemp("compared")
    comparison = zoo.compare(MODELS, seeds=2, epochs=30, workers=1, out=root / "out")
    zoo.html_report(comparison, root / "page.html")
    return root


@pytest.fixture
def compared(compared_once, tmp_path) -> tuple[Path, Path]:
    """A fresh copy of that folder, and the page, for a test to change."""
    shutil.copytree(compared_once / "out", tmp_path / "out")
    shutil.copy(compared_once / "page.html", tmp_path / "page.html")
    return tmp_path / "out", tmp_path / "page.html"


def test_zoo_report_makes_the_same_page_from_the_out_folder(zoo_cli, compared):
    folder, page = compared
    result = zoo_cli("report", str(folder))
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == f"Report: {folder / 'report.html'}"
    again = sections((folder / "report.html").read_text())
    first = sections(page.read_text())
    for name in ("summary", "boundaries", "curves", "settings"):  # pictures to the byte
        assert again[name] == first[name], name


def test_a_validation_sweep_kept_with_out_gives_the_same_summary_again(tmp_path):
    # Every column comes back from the folder: the swept setting, the validation accuracy,
    # the majority rate in the heading.
    comparison = zoo.compare(
        ["circle-v2"], seeds=2, epochs=20, val_size=0.2, grid={"lr": [0.1, 0.3]}, out=tmp_path / "c"
    )
    first = sections(zoo.html_report(comparison, tmp_path / "first.html").read_text())
    again = sections(zoo.html_report(tmp_path / "c").read_text())
    assert again["summary"] == first["summary"]
    assert "Val acc" in first["summary"] or "VAL ACC" in first["summary"]
    assert "majority class 50.00%" in first["summary"]


def test_a_comparison_without_two_features_has_curves_but_no_boundaries(tmp_path):
    comparison = zoo.compare(
        ["blob-v0"], seeds=2, epochs=10, workers=1, dataset_params={"n_features": 3}
    )
    written = zoo.html_report(comparison, tmp_path / "page.html")
    page = sections(written.read_text())
    assert "No compared dataset has two features" in page["boundaries"]
    assert "accuracy and loss curves of blob-v0 on blobs" in page["curves"]
    assert page["summary"].count("<tr") == 2  # the header and blob-v0


def test_a_folder_that_is_not_a_comparison_is_refused_in_python_too(tmp_path):
    with pytest.raises(RunFolderError, match="not a zoo compare folder"):
        zoo.html_report(tmp_path, tmp_path / "page.html")
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def stopped(compared) -> Path:
    """The compare folder as a comparison stopped before its end leaves it: no results."""
    folder, _ = compared
    (folder / "results.json").unlink()
    return folder


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["report", "nowhere"], "nowhere: no such folder"),
        (["report", "empty"], "empty: not a zoo compare folder (no compare.json)"),
        (["report", "out"], "has not finished (no results.json); finish it with: zoo compare"),
        (["report", "damaged"], "not the results of a zoo comparison"),
        (["report", "older"], "written by an older zoo, without the paired statistics"),
        (["report", "out", "--html", "no/page.html"], "(no: no such folder)"),
        (["report", "out", "--html", "file.txt/page.html"], "(file.txt: not a folder)"),
        (["report", "out", "--html", "empty"], "empty: is a folder"),
    ],
)
def test_bad_report_input_is_one_line_and_writes_nothing(zoo_cli, stopped, args, message):
    work = stopped.parent
    (work / "empty").mkdir()
    (work / "file.txt").write_text("not a folder\n")
    damaged = shutil.copytree(stopped, work / "damaged")
    damaged_results = {"seeds": [42], "reach": 99, "results": [], "summary": [{"model": "x"}]}
    (damaged / "results.json").write_text(json.dumps(damaged_results))
    older = shutil.copytree(stopped, work / "older")  # before --reach, the key was "target"
    older_results = {"seeds": [42], "target": 99, "results": [], "summary": [{"model": "x"}]}
    (older / "results.json").write_text(json.dumps(older_results))
    before = sorted(p.relative_to(work) for p in work.rglob("*"))

    assert_one_line_error(zoo_cli(*args, cwd=work), message, status=1)
    assert sorted(p.relative_to(work) for p in work.rglob("*")) == before


def test_compare_refuses_a_report_path_it_cannot_write_before_training(zoo_cli, tmp_path):
    result = zoo_cli("compare", "circle-v0", "--out", "out", "--html", "no/page.html")
    assert_one_line_error(result, "no/page.html: cannot write the report", status=1)
    assert not (tmp_path / "out").exists()  # nothing trained, nothing written


def test_zoo_report_rebuilds_a_sweeps_page_from_its_out_folder(tmp_path, capsys):
    # The folder's plan (grid and kernels included) is rebuilt by the one function resume uses.
    folder = tmp_path / "sweep"
    zoo.compare(
        ["circle-v2"],
        seeds=2,
        epochs=5,
        workers=1,
        exact=False,
        grid={"lr": [0.1, 0.3]},
        out=folder,
    )
    status = zoo.cli.main(["report", str(folder)])
    assert status == 0, capsys.readouterr().err
    page = sections((folder / "report.html").read_text())
    assert page["summary"].count("<tr") == 3  # the header and one row per learning rate
