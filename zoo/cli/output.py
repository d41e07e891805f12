"""Printing: aligned tables, JSON, and a progress bar for terminals."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

import click

from zoo.runs.files import json_text
from zoo.text import printable

_JSON_STDOUT = "zoo.json_stdout"  # where the JSON document goes while stdout is redirected


def json_mode(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    """The ``--json`` flag's callback: stdout is kept for the one JSON document.

    Anything else written to stdout while the command runs (a plugin's ``print()``) goes to
    stderr, so ``zoo ... --json | jq`` always reads exactly one document.
    """
    if value and _JSON_STDOUT not in ctx.meta:
        ctx.meta[_JSON_STDOUT] = sys.stdout
        ctx.with_resource(contextlib.redirect_stdout(sys.stderr))
    return value


def echo(
    message: str = "", *, err: bool = False, nl: bool = True, file: TextIO | None = None
) -> None:
    """``click.echo`` that outlives a closed standard output (``zoo train | head -3``):
    what no one reads any more is dropped, and the command goes on. Text is data: a control
    character in it (a terminal escape sequence in a label) is printed escaped."""
    try:
        click.echo(printable(message, newlines=True), file=file, err=err, nl=nl)
    except BrokenPipeError:
        drop_stdout()


def warn(message: str) -> None:
    """One warning line on stderr: ``zoo: warning: ...``, a line break in it escaped."""
    echo(f"zoo: warning: {printable(message)}", err=True)


def drop_stdout() -> None:
    """Send the rest of standard output (file descriptor 1, wherever sys.stdout points now)
    to /dev/null: its reader has gone."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)


def echo_json(data: Any) -> None:
    """``data`` as indented strict JSON (a NaN or an infinity becomes null) on stdout."""
    echo(json_text(data, indent=2), file=_json_stdout())


def echo_json_line(data: Any) -> None:
    """``data`` as one line of strict JSON on stdout."""
    echo(json_text(data), file=_json_stdout())


def command_stdout() -> TextIO:
    """Where the command's own output goes: stdout, even while --json keeps a plugin's
    ``print()`` away from it."""
    return _json_stdout()


def _json_stdout() -> TextIO:
    ctx = click.get_current_context(silent=True)
    if ctx is None or _JSON_STDOUT not in ctx.meta:
        return sys.stdout
    stream: TextIO = ctx.meta[_JSON_STDOUT]
    return stream


def echo_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Columns padded to their widest cell; the last column runs free."""
    cells = [list(map(str, headers))]
    cells += [["" if c is None else printable(str(c)) for c in row] for row in rows]
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
