"""A CSV file read whole into a table: fast, within stated bounds, every problem at its line.

The first row (after ``skip_rows`` lines) gives the layout: the columns, named by a header
line or numbered, and the label column. The rows after it are converted a batch at a time by
numpy (a large file by pyarrow when it is installed, :mod:`zoo.tables.arrow`); only a batch
that fails goes cell by cell, to name the line, the column and the cell. Features are held as
float32 and labels as codes as they come, so the bounds of :mod:`zoo.tables.limits` are
checked at each line and memory stays near what the table itself takes.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import chain, islice, repeat
from typing import Any

import numpy as np

from zoo.errors import DataError
from zoo.names import did_you_mean
from zoo.tables import limits
from zoo.tables.arrow import read_arrow
from zoo.tables.labels import LabelColumn
from zoo.tables.lines import Lines, feature, is_header, open_file, read_lines, rows, shown

HEADERS = ("auto", "first", "none")  # auto: a first line none of whose cells is a number
BATCH_ROWS = 4096  # rows converted at once: large enough for numpy, small as Python lists
FAST = True  # False: every row cell by cell, as the careful reader does (tests compare them)


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


@dataclass(frozen=True)
class Layout:
    """What the first row says: the columns, whether a header names them, the label column."""

    path: str
    columns: list[str]
    header: bool
    label: int  # the label column's index
    first: int  # the first row's line: every row must be as wide

    @property
    def width(self) -> int:
        return len(self.columns)

    def named(self, index: int) -> str:
        name = self.columns[index]
        return name if name == str(index + 1) else f"{index + 1} ({shown(name)})"

    def skip_hint(self) -> str:
        """For a problem in the first rows: that line may be a note before the table."""
        return (
            f"; if line {self.first} is not part of the table, skip it: "
            f"--dataset-param skip_rows={self.first}"
        )


def read_table(
    path: str | os.PathLike[str],
    target: str | int | None = None,
    skip_rows: int = 0,
    header: str | bool = "auto",
) -> Table:
    """The table at ``path``: ``target`` names the label column (a header name or a column
    number from 1), by default the last one; the first ``skip_rows`` lines are left out;
    ``header`` says whether the first row names the columns (``first``), is a row of data
    (``none``), or names them when none of its cells is a number (``auto``)."""
    header = check_options(skip_rows, header)
    with open_file(path) as raw:
        lines = Lines(path, raw)
        lines.skip(skip_rows)
        first = next(rows(path, lines, lines.number), None)
        if first is None:
            raise DataError(_empty(path, skip_rows))
        layout = _layout(str(path), first, target, header)
        gathered = _Gathered(layout)
        body = lines.number if layout.header else first[0]
        parsed = read_arrow(str(path), body, layout.width, layout.label) if FAST else None
        if not gathered.add_parsed(parsed):
            if not layout.header:
                gathered.add([first])
            _read_body(gathered, lines)
    return gathered.table()


def _read_body(gathered: _Gathered, lines: Lines) -> None:
    """The rows after the first, a block of lines at a time."""
    path = gathered.layout.path
    while block := lines.block():
        first = lines.number - len(block)
        text = "".join(block)
        if '"' in text:  # a quoted cell may span lines and blocks: the csv module reads on
            rest = rows(path, chain(block, lines), first)
            while batch := list(islice(rest, BATCH_ROWS)):
                gathered.add(batch)
            return
        if not (FAST and gathered.add_text(text, first)):
            gathered.add(list(rows(path, iter(block), first)))


def last_column(
    path: str | os.PathLike[str], skip_rows: int = 0, header: str | bool = "auto"
) -> str:
    """The default label column: the header's last name, or the number of columns."""
    header = check_options(skip_rows, header)
    first = next(iter(read_lines(path, skip_rows)), None)
    if first is None:
        raise DataError(_empty(path, skip_rows))
    named = header == "first" or (header == "auto" and is_header(first[1]))
    return first[1][-1].strip() if named else str(len(first[1]))


def check_options(skip_rows: Any, header: Any) -> str:
    """``skip_rows`` and ``header`` as the csv dataset takes them, or a one-line error; the
    header's word (YAML reads ``header: no`` as false: no header, ``yes`` as true: first)."""
    if isinstance(skip_rows, bool) or not isinstance(skip_rows, int) or skip_rows < 0:
        raise DataError(f"skip_rows={skip_rows!r}: must be a whole number of lines, 0 or more")
    if isinstance(header, bool):
        return "first" if header else "none"
    if header not in HEADERS:
        hint = did_you_mean(str(header), HEADERS)
        raise DataError(f"header={header!r}: must be {', '.join(HEADERS)}{hint}")
    return str(header)


def _empty(path: Any, skip_rows: int) -> str:
    if skip_rows:
        return f"{path}: nothing after the {skip_rows:,} skipped lines; expected rows of numbers"
    return f"{path}: empty; expected rows of numbers with a label column"


def _layout(
    path: str, first: tuple[int, list[str]], target: str | int | None, header: str
) -> Layout:
    line, cells = first
    named = header == "first" or (header == "auto" and is_header(cells))
    columns = (
        [cell.strip() for cell in cells] if named else [str(i) for i in range(1, len(cells) + 1)]
    )
    return Layout(path, columns, named, _label_column(path, columns, target, named), line)


def _label_column(path: Any, columns: list[str], target: str | int | None, header: bool) -> int:
    if target is None:
        return len(columns) - 1
    name = str(target)
    if name in columns:
        return columns.index(name)
    if header and name.isdigit() and 1 <= int(name) <= len(columns):
        return int(name) - 1
    hint = did_you_mean(name, columns) if header else ""
    listed = (
        ", ".join(map(shown, columns)) if header else f"columns 1 to {len(columns)} (no header)"
    )
    raise DataError(f"{path}:1: no label column {name!r}{hint}; the file has {listed}")


class _Gathered:
    """The rows so far: float32 features, label codes and line numbers, in batches."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.labels = LabelColumn(layout.path, layout.columns[layout.label])
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.rows = 0

    def add(self, batch: list[tuple[int, list[str]]]) -> None:
        """Rows the csv module split: converted at once, or row by row to say where not."""
        cells = [row for _, row in batch]
        if FAST and set(map(len, cells)) == {self.layout.width}:
            lines = np.array([line for line, _ in batch], dtype=np.int64)
            if self._at_once(list(chain.from_iterable(cells)), lines):
                return
        self._row_by_row(batch)

    def add_text(self, text: str, first: int) -> bool:
        """Lines with no quote (the first is line ``first``), split and converted at once;
        False, and nothing added, where the csv module must split them or a row is wrong."""
        if "\r" in text:
            text = text.replace("\r\n", "\n")
            if "\r" in text:
                return False
        lines = text.split("\n")
        if lines[-1] == "":  # the last line's end
            lines.pop()
        numbers = np.arange(first, first + len(lines), dtype=np.int64)
        if "" in lines:  # blank lines hold no row
            numbers = numbers[[bool(line) for line in lines]]
            lines = [line for line in lines if line]
        width = self.layout.width
        if width < 2 or set(map(str.count, lines, repeat(","))) - {width - 1}:
            return False  # a row of another width, or a blank line of spaces
        return not lines or self._at_once(",".join(lines).split(","), numbers)

    def add_parsed(self, parsed: tuple[np.ndarray, list[str], np.ndarray] | None) -> bool:
        """pyarrow's rows, when it parsed them and they are within bounds."""
        if parsed is None:
            return False
        X, texts, indices = parsed
        lines = np.arange(len(X), dtype=np.int64) + self.layout.first + self.layout.header
        used, first_row = np.unique(indices, return_index=True)
        met = np.argsort(first_row)  # the distinct labels in the order the rows meet them
        keys = [texts[entry].strip() for entry in used[met]]
        if not self._within(len(X), max(map(len, keys))):
            return False
        codes = self.labels.codes(keys, lines[first_row[met]])
        if codes is None:
            return False
        code_of = np.zeros(len(texts), dtype=np.int32)
        code_of[used[met]] = codes
        self._keep(X, code_of[indices], lines)
        return True

    def _at_once(self, cells: list[str], lines: np.ndarray) -> bool:
        """Rows of ``cells`` (each row as wide as the first) converted by numpy at once."""
        width, label = self.layout.width, self.layout.label
        keys = list(map(str.strip, cells[label::width]))
        del cells[label::width]
        try:
            values = np.array(cells, dtype=np.float64)  # each cell as float() reads it
        except ValueError:
            return False
        if not (np.abs(values) <= limits.LARGEST).all():  # NaN, infinite, beyond float32
            return False
        if not self._within(len(lines), max(map(len, keys))):
            return False
        codes = self.labels.codes(keys, lines)
        if codes is None:
            return False
        self._keep(values.astype(np.float32).reshape(len(lines), width - 1), codes, lines)
        return True

    def _row_by_row(self, batch: Iterable[tuple[int, list[str]]]) -> None:
        layout, labels = self.layout, self.labels
        features: list[float] = []
        codes: list[int] = []
        lines: list[int] = []
        for line, cells in batch:
            try:
                self._check_row(line, cells, len(lines))
                features += [
                    feature(layout.path, line, layout.named(index), cell)
                    for index, cell in enumerate(cells)
                    if index != layout.label
                ]
            except DataError as exc:  # the first row itself may be a note before the table
                hint = layout.skip_hint() if line == layout.first else ""
                raise DataError(f"{exc}{hint}") from None
            codes.append(labels.code(cells[layout.label].strip(), line))
            lines.append(line)
        X = np.asarray(features, dtype=np.float32).reshape(len(lines), layout.width - 1)
        self._keep(X, np.asarray(codes, dtype=np.int32), np.asarray(lines, dtype=np.int64))

    def _check_row(self, line: int, cells: list[str], pending: int) -> None:
        layout = self.layout
        if len(cells) != layout.width:
            after_first = self.rows + pending == (0 if layout.header else 1)
            raise DataError(
                f"{layout.path}:{line}: {len(cells)} cells, but line {layout.first} has "
                f"{layout.width}; every row needs one cell per column"
                + (layout.skip_hint() if after_first else "")
            )
        longest = max(self.labels.longest, len(cells[layout.label].strip()))
        rows = self.rows + pending + 1
        if rows * layout.width > limits.MOST_CELLS:
            raise DataError(
                f"{layout.path}:{line}: more than {limits.MOST_CELLS:,} cells; use a smaller table"
            )
        each = limits.row_bytes(layout.width - 1, longest)
        if rows * each > limits.MOST_BYTES:
            raise DataError(
                f"{layout.path}:{line}: more than {limits.MOST_BYTES / 2**20:g} MiB as a table "
                f"in memory ({each:,} bytes a row); use a smaller table"
            )

    def _within(self, rows: int, longest: int) -> bool:
        """Whether ``rows`` more rows stay within the bounds (else row by row says where)."""
        total = self.rows + rows
        longest = max(self.labels.longest, longest)
        return (
            total * self.layout.width <= limits.MOST_CELLS
            and total * limits.row_bytes(self.layout.width - 1, longest) <= limits.MOST_BYTES
        )

    def _keep(self, X: np.ndarray, codes: np.ndarray, lines: np.ndarray) -> None:
        self.parts.append((X, codes, lines))
        self.rows += len(lines)

    def table(self) -> Table:
        layout = self.layout
        if not self.rows:
            raise DataError(
                f"{layout.path}: only a header; expected rows of numbers with a label column"
            )
        X, codes, lines = (
            parts[0] if len(parts) == 1 else np.concatenate(parts) for parts in zip(*self.parts)
        )
        self.parts.clear()
        labels = self.labels.values()[codes]
        target = layout.columns[layout.label]
        return Table(layout.path, layout.columns, layout.header, target, X, labels, lines)
