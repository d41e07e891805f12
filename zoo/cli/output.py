"""Printing: aligned tables, JSON, and a progress bar for terminals."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

import click


def echo(message: str = "", *, err: bool = False, nl: bool = True) -> None:
    """``click.echo`` that outlives a closed standard output (``zoo train | head -3``):
    what no one reads any more is dropped, and the command goes on."""
    try:
        click.echo(message, err=err, nl=nl)
    except BrokenPipeError:
        drop_stdout()


def drop_stdout() -> None:
    """Send the rest of standard output to /dev/null: its reader has gone."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def echo_json(data: Any) -> None:
    echo(json.dumps(data, indent=2))


def echo_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Columns padded to their widest cell; the last column runs free."""
    cells = [list(map(str, headers))] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers) - 1)]
    for row in cells:
        padded = [cell.ljust(width) for cell, width in zip(row, widths)]
        echo("  ".join([*padded, row[-1]]).rstrip())


def percent(value: float) -> str:
    return f"{value:.2f}%"


class ProgressBar:
    """A bar on stderr, drawn only when stderr is a terminal, at most ten times a second."""

    def __init__(self, label: str, *, as_percent: bool = False) -> None:
        self.label = label
        self.as_percent = as_percent  # show 42% instead of done/total
        self.detail = ""  # shown after the count, e.g. the last logged loss
        self.enabled = sys.stderr.isatty()
        self._last_draw = 0.0
        self._line = ""

    def update(self, done: int, total: int) -> None:
        """A ``(done, total)`` progress callback: redraw, at most ten times a second."""
        now = time.monotonic()
        if not self.enabled or (now - self._last_draw < 0.1 and done < total):
            return
        self._last_draw = now
        width = 30
        filled = int(width * min(done / max(total, 1), 1.0))
        count = f"{done / max(total, 1):.0%}" if self.as_percent else f"{done}/{total}"
        bar = f"[{'#' * filled}{'.' * (width - filled)}]"
        self._line = f"{self.label} {bar} {count}  {self.detail}"
        click.echo(f"\r{self._line.rstrip()}", nl=False, err=True)

    def clear(self) -> None:
        """Erase the bar so that a log line can take its place."""
        if self.enabled and self._line:
            click.echo("\r" + " " * len(self._line) + "\r", nl=False, err=True)
            self._line = ""

    def close(self) -> None:
        self.clear()
