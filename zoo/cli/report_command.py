"""zoo report: a comparison as one self-contained HTML page; also ``zoo compare --html``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

import zoo
from zoo.errors import RunFolderError

REPORT = "report.html"

html_option = click.option(
    "--html",
    "html",
    type=click.Path(path_type=Path),
    default=None,
    metavar="PATH",
    help="Also write the report as one self-contained HTML page (no network needed to view).",
)


def check_report_path(path: Path) -> None:
    """Refuse, before any work, a report path that cannot be written: nothing is trained or
    read in vain."""
    parent = path.parent
    if path.is_dir():
        raise RunFolderError(f"{path}: is a folder; name the page's file, e.g. {path / REPORT}")
    if not parent.is_dir():
        reason = "no such folder" if not parent.exists() else "not a folder"
        raise RunFolderError(f"{path}: cannot write the report ({parent}: {reason})")
    from zoo.runs.resume import check_writable  # torch: only once a report is asked for

    check_writable(parent)


def write_html(comparison: Any, path: Path) -> None:
    """The page of ``comparison`` (a Comparison, or an --out folder) at ``path``."""
    written = zoo.html_report(comparison, path)
    click.echo(f"Report: {written}", err=True)


@click.command("report")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option(
    "--html",
    "html",
    type=click.Path(path_type=Path),
    default=None,
    metavar="PATH",
    help=f"Where to write the page (default: FOLDER/{REPORT}).",
)
def report_command(folder: Path, html: Path | None) -> None:
    """Write the HTML report of FOLDER, a finished 'zoo compare --out FOLDER'.

    One self-contained page: the summary table with the verdicts, each model's decision
    boundary, accuracy and loss curves with their spread over the seeds, the spread of test
    accuracy, the settings, and the versions and machine. It needs no network to view.
    """
    if not folder.is_dir():
        raise RunFolderError(
            f"{folder}: no such folder; give the folder of a 'zoo compare ... --out FOLDER'"
        )
    target = html if html is not None else folder / REPORT
    check_report_path(target)
    write_html(folder, target)


COMMANDS = [report_command]
