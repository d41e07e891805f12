"""The careful reader: a CSV file's lines, each bounded in length, split into cells by the csv
module and numbered as in the file, with every problem reported as ``file:line``.

It is the reader that explains: :mod:`zoo.tables.reading` converts its rows a batch at a time
and only goes cell by cell (:func:`feature`) to name the cell of a batch that failed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import os
import sys
from collections.abc import Generator, Iterator
from typing import IO, Any

from zoo.errors import DataError
from zoo.tables import limits


def read_lines(
    path: str | os.PathLike[str], skip_rows: int = 0
) -> Generator[tuple[int, list[str]], None, None]:
    """(line number, cells) of every line that is not blank, each line bounded in length;
    the first ``skip_rows`` lines of the file are left out whatever they hold."""
    with _open(path) as file:
        lines = _bounded(path, file)
        line = 0
        try:
            for _ in range(skip_rows):
                if next(lines, None) is None:
                    return
                line += 1  # the lines read whole, for where a decoding error is
            reader = csv.reader(lines, strict=True)
            for cells in reader:
                line = skip_rows + reader.line_num
                if cells and (cells[0].strip() or any(cell.strip() for cell in cells)):
                    yield line, cells
                elif len(cells) > 1:  # a line of nothing but commas is a row of empty cells
                    raise DataError(f"{path}:{line}: a row with no values; remove the line")
        except UnicodeDecodeError:
            raise DataError(f"{path}:{line + 1}: not UTF-8 text; save the file as UTF-8") from None
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


def file_sha256(path: str | os.PathLike[str]) -> str:
    """The SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _open(path: str | os.PathLike[str]) -> IO[str]:
    if str(path) == "-":
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig", newline="")
    try:
        return open(path, newline="", encoding="utf-8-sig")  # a BOM from Excel is no cell
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder, not a CSV file") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot be read: {exc.strerror}") from None


def _bounded(path: Any, file: IO[str]) -> Iterator[str]:
    """The file's lines, refusing one longer than LONGEST_LINE before it is all read."""
    longest = limits.LONGEST_LINE
    number_ = 0
    while True:
        line = file.readline(longest + 1)
        if not line:
            return
        number_ += 1
        if len(line) > longest and not line.endswith("\n"):
            raise DataError(
                f"{path}:{number_}: a line longer than {longest:,} characters; "
                "is this a CSV of numbers?"
            )
        yield line
