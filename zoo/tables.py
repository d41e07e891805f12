"""CSV tables: a user's own data, read with every problem reported as ``file:line``.

A table is lines of cells: numeric feature columns and one label column (by default the last),
optionally under a header line (a first line none of whose cells is a number). Labels may be
numbers or text (``cat``, ``dog``); text labels keep their names everywhere zoo shows them.
Every line is bounded in length and a table in cells, so no file can make zoo use unbounded
memory. ``-`` reads standard input. Torch-free: plugins and the command line use it.
"""

from __future__ import annotations

import csv
import io
import math
import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

import numpy as np

from zoo.errors import DataError
from zoo.names import did_you_mean

LONGEST_LINE = 1 << 20  # characters: a longer line is not a row of a few numbers
MOST_CELLS = 50_000_000  # a table in memory: about 200 MB of float32 features
LARGEST = float(np.finfo(np.float32).max)  # features become float32 inside the model


@dataclass(frozen=True)
class Table:
    """A CSV file read whole: features, labels and where they came from."""

    path: str
    columns: list[str]  # the header's names, or "1".."N" (column numbers) without one
    header: bool
    target: str  # the label column's name
    X: np.ndarray  # float32 [rows, features]
    labels: np.ndarray  # int64 when every label is a whole number, else text
    lines: np.ndarray  # each row's line in the file, for messages

    @property
    def features(self) -> list[str]:
        return [name for name in self.columns if name != self.target]


def read_table(
    path: str | os.PathLike[str], target: str | int | None = None, *, least_classes: int = 2
) -> Table:
    """The table at ``path``; ``target`` names the label column (a header name or a column
    number from 1), by default the last one. Training needs two classes or more; data to
    evaluate a trained model on may hold one (``least_classes=1``)."""
    lines = iter(read_lines(path))
    first = next(lines, None)
    if first is None:
        raise DataError(f"{path}: empty; expected rows of numbers with a label column")
    header = is_header(first[1])
    columns = list(first[1]) if header else [str(i) for i in range(1, len(first[1]) + 1)]
    label = _label_column(path, columns, target, header)
    rows = lines if header else _chain(first, lines)
    features, labels, numbers = _rows(path, rows, columns, label, first[0])
    X = np.asarray(features, dtype=np.float32).reshape(len(labels), len(columns) - 1)
    y = _label_array(labels)
    if len(np.unique(y)) < least_classes:
        raise DataError(
            f"{path}: the label column {columns[label]!r} holds one class only "
            f"({np.asarray(y[0]).item()!r}); a classifier needs two or more"
        )
    return Table(str(path), columns, header, columns[label], X, y, np.asarray(numbers))


def last_column(path: str | os.PathLike[str]) -> str:
    """The default label column: the header's last name, or the number of columns."""
    first = next(iter(read_lines(path)), None)
    if first is None:
        raise DataError(f"{path}: empty; expected rows of numbers with a label column")
    return first[1][-1].strip() if is_header(first[1]) else str(len(first[1]))


def read_lines(path: str | os.PathLike[str]) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of every line that is not blank, each line bounded in length."""
    with _open(path) as file:
        reader = csv.reader(_bounded(path, file), strict=True)
        line = 0
        try:
            for cells in reader:
                line = reader.line_num
                if any(cell.strip() for cell in cells):
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
    if not math.isfinite(value) or abs(value) > LARGEST:
        raise DataError(f"{path}:{line}: column {column}: {cell.strip()!r} is not a finite float32")
    return value


def _label_column(path: Any, columns: list[str], target: str | int | None, header: bool) -> int:
    if target is None:
        return len(columns) - 1
    name = str(target)
    if name in columns:
        return columns.index(name)
    if header and name.isdigit() and 1 <= int(name) <= len(columns):
        return int(name) - 1
    hint = did_you_mean(name, columns) if header else ""
    listed = ", ".join(columns) if header else f"columns 1 to {len(columns)} (no header)"
    raise DataError(f"{path}:1: no label column {name!r}{hint}; the file has {listed}")


def _rows(
    path: Any, rows: Iterable[tuple[int, list[str]]], columns: list[str], label: int, first: int
) -> tuple[list[float], list[str], list[int]]:
    features: list[float] = []
    labels: list[str] = []
    numbers: list[int] = []
    width = len(columns)
    for line, cells in rows:
        if len(cells) != width:
            raise DataError(
                f"{path}:{line}: {len(cells)} cells, but line {first} has {width}; "
                "every row needs one cell per column"
            )
        if len(features) + width > MOST_CELLS:
            raise DataError(f"{path}:{line}: more than {MOST_CELLS:,} cells; use a smaller table")
        for index, cell in enumerate(cells):
            if index == label:
                labels.append(cell.strip())
            else:
                features.append(feature(path, line, _named(columns, index), cell))
        numbers.append(line)
    if not labels:
        raise DataError(f"{path}: only a header; expected rows of numbers with a label column")
    return features, labels, numbers


def _named(columns: list[str], index: int) -> str:
    name = columns[index]
    return name if name == str(index + 1) else f"{index + 1} ({name})"


def _label_array(labels: list[str]) -> np.ndarray:
    """Whole numbers as int64 (``0``, ``1``, ``2.0``); anything else keeps its text."""
    values = [number(label) for label in labels]
    if all(v is not None and math.isfinite(v) and v == int(v) for v in values):
        return np.asarray([int(v) for v in values if v is not None], dtype=np.int64)
    return np.asarray(labels, dtype=object).astype(str)


def _chain(
    first: tuple[int, list[str]], rest: Iterator[tuple[int, list[str]]]
) -> Iterator[tuple[int, list[str]]]:
    yield first
    yield from rest


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
    """The file's lines, refusing one longer than :data:`LONGEST_LINE` before it is all read."""
    number_ = 0
    while True:
        line = file.readline(LONGEST_LINE + 1)
        if not line:
            return
        number_ += 1
        if len(line) > LONGEST_LINE and not line.endswith("\n"):
            raise DataError(
                f"{path}:{number_}: a line longer than {LONGEST_LINE:,} characters; "
                "is this a CSV of numbers?"
            )
        yield line
