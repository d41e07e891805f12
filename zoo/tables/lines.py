"""A CSV file's lines, a block at a time, and the careful reader that splits them into cells.

The file is read in blocks of whole lines, decoded as UTF-8 here (so a bad byte is named at
its line) and bounded: a line longer than LONGEST_LINE is refused before it is all read. Lines
end as the csv module's do (``\\n``, ``\\r\\n`` or ``\\r``) and are numbered as in the file.
:func:`rows` is the careful reader: the csv module's cells of each line that is not blank,
with every problem as ``file:line``; :mod:`zoo.tables.reading` converts whole blocks at once
and goes to it only to read quotes or to name the line of a block that failed.
"""

from __future__ import annotations

import csv
import io
import math
import os
import sys
from collections.abc import Generator, Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import IO, Any

from zoo.errors import DataError
from zoo.tables import limits

BLOCK = 1 << 18  # bytes read at once: whole lines of it are handed out together


def read_lines(
    path: str | os.PathLike[str], skip_rows: int = 0
) -> Generator[tuple[int, list[str]], None, None]:
    """(line number, cells) of every line that is not blank, each line bounded in length;
    the first ``skip_rows`` lines of the file are left out whatever they hold."""
    with open_file(path) as raw:
        lines = Lines(path, raw)
        lines.skip(skip_rows)
        yield from rows(path, lines, lines.number)


class Lines:
    """A file's lines in order (an iterator), or the rest of a block at once (:meth:`block`);
    :attr:`number` is the line number of the next one."""

    def __init__(self, path: Any, raw: IO[bytes]) -> None:
        self._blocks = _blocks(path, raw)
        self._lines: list[str] = []
        self._at = 0
        self.number = 1

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        while self._at == len(self._lines):
            self._lines, self._at = next(self._blocks), 0
        self._at += 1
        self.number += 1
        return self._lines[self._at - 1]

    def block(self) -> list[str]:
        """The lines left in the current block, or the next block's; [] at the end."""
        lines = self._lines[self._at :] or next(self._blocks, [])
        self._lines, self._at = [], 0
        self.number += len(lines)
        return lines

    def skip(self, count: int) -> None:
        for _ in range(count):
            if next(self, None) is None:
                return


def rows(path: Any, lines: Iterator[str], first: int) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of each line of ``lines`` (the first is line ``first``) that is
    not blank, split by the csv module; a line of commas only is refused."""
    reader = csv.reader(lines, strict=True)
    line = first - 1
    try:
        for cells in reader:
            line = first - 1 + reader.line_num
            if cells and (cells[0].strip() or any(cell.strip() for cell in cells)):
                yield line, cells
            elif len(cells) > 1:  # a line of nothing but commas is a row of empty cells
                raise DataError(f"{path}:{line}: a row with no values; remove the line")
    except csv.Error as exc:
        if "end of data" in str(exc):
            raise DataError(
                f'{path}:{line + 1}: a quoted cell that is never closed; add the closing "'
            ) from None
        raise DataError(f"{path}:{line + 1}: not readable as CSV ({exc})") from None


def is_header(cells: list[str]) -> bool:
    """A first line none of whose cells is a number names the columns."""
    return all(number(cell) is None for cell in cells)


def number(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


def feature(path: Any, line: int, column: str, cell: str) -> float:
    """A feature cell as a finite float32-sized number, or a one-line error."""
    value = number(cell)
    if value is None:
        raise DataError(
            f"{path}:{line}: column {column}: {cell.strip()!r} is not a number; "
            "features must be numbers"
        )
    if not math.isfinite(value) or abs(value) > limits.LARGEST:
        raise DataError(f"{path}:{line}: column {column}: {cell.strip()!r} is not a finite float32")
    return value


def shown(text: str) -> str:
    """A name from a file as a message shows it: as written, or quoted with escapes where it
    holds a line end or another character a terminal would not print as itself."""
    return text if text.isprintable() else repr(text)


def open_file(path: str | os.PathLike[str]) -> AbstractContextManager[IO[bytes]]:
    if str(path) == "-":
        return nullcontext(sys.stdin.buffer)  # read, and left open for whoever comes next
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder, not a CSV file") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot be read: {exc.strerror}") from None


def _blocks(path: Any, raw: IO[bytes]) -> Iterator[list[str]]:
    """The file's lines (their ends kept), about BLOCK bytes of them at a time."""
    longest = limits.LONGEST_LINE
    number, pending = 1, raw.read(3).removeprefix(b"\xef\xbb\xbf")  # Excel's byte order mark
    while True:
        data = raw.read(BLOCK)
        text, pending = _whole_lines(pending + data, at_end=not data)
        if len(pending) > 4 * (longest + 1):  # more characters than that, whatever they are
            raise DataError(_too_long(path, number, longest))
        if not text:
            if data:
                continue
            return
        lines = io.StringIO(_decoded(path, text, number), newline="").readlines()
        if max(map(len, lines)) > longest:  # the careful rule: as readline(LONGEST_LINE + 1)
            for at, line in enumerate(lines):
                if len(line) > longest + 1 or (len(line) > longest and line[-1] != "\n"):
                    raise DataError(_too_long(path, number + at, longest))
        yield lines
        number += len(lines)


def _whole_lines(data: bytes, at_end: bool) -> tuple[bytes, bytes]:
    """``data`` cut after its last line end (all of it at the end of the file); a ``\\r``
    that ends it may be half of ``\\r\\n``, so it waits for the next block."""
    if at_end:
        return data, b""
    cut = max(data.rfind(b"\n"), data.rfind(b"\r", 0, len(data) - 1)) + 1
    return data[:cut], data[cut:]


def _decoded(path: Any, text: bytes, number: int) -> str:
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = text[: exc.start].decode("utf-8")
        line = number + before.count("\n") + before.count("\r") - before.count("\r\n")
        raise DataError(f"{path}:{line}: not UTF-8 text; save the file as UTF-8") from None


def _too_long(path: Any, line: int, longest: int) -> str:
    return f"{path}:{line}: a line longer than {longest:,} characters; is this a CSV of numbers?"
