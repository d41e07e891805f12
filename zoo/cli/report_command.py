"""zoo report: a comparison as one self-contained HTML page; also ``zoo compare --html``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

import zoo
from zoo.api import REPORT
from zoo.errors import RunFolderError

html_option = click.option(
    "--html",
    "html",
    type=click.Path(path_type=Path),
    default=None,
    metavar="PATH",
    help="Also write the report as one self-contained HTML page (no network needed to view).",
)


def check_report_path(path: Path, inputs: list[Path]) -> None:
    """Refuse, before any work, a report path that cannot be written or that is one of the
    command's ``inputs``: nothing is trained or read in vain."""
    from zoo.runs.outputs import check_output  # torch: only once a report is asked for

    check_output(path, inputs=inputs, what="report", flag="--html")


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
    if html is not None:
        check_report_path(html, [])  # before the folder is read; its files are checked after
        write_html(folder, html)
    else:
        click.echo(f"Report: {zoo.html_report(folder)}", err=True)


COMMANDS = [report_command]
