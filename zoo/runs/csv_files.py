"""Reading feature rows from CSV, streamed in chunks, and writing predictions as CSV.

The input is one row of numbers per line, optionally under a header line; it is read in chunks,
so a file of millions of rows never sits in memory at once. Every problem names the file, the
line and what was expected.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from zoo.errors import DataError

CHUNK_ROWS = 65_536
_LARGEST = float(np.finfo(np.float32).max)  # features are float32 inside the model


def read_rows(
    path: str | os.PathLike[str], features: int, chunk_rows: int = CHUNK_ROWS
) -> Iterator[np.ndarray]:
    """float32 arrays of shape [<= chunk_rows, features], in file order."""
    path = Path(path)
    chunk: list[list[float]] = []
    rows = 0
    header = False
    for line, cells in _lines(path):
        if rows == 0 and not header and all(_number(c) is None for c in cells):
            if len(cells) != features:
                raise DataError(
                    f"{path}:{line}: the header has {len(cells)} columns; "
                    f"the model takes {features} features"
                )
            header = True
            continue
        chunk.append(_parse(path, line, cells, features))
        rows += 1
        if len(chunk) == chunk_rows:
            yield np.asarray(chunk, dtype=np.float32)
            chunk = []
    if chunk:
        yield np.asarray(chunk, dtype=np.float32)
    if rows == 0:
        what = "only a header" if header else "no rows"
        raise DataError(f"{path}: {what}; expected lines of {features} numbers")


def write_predictions(
    out: TextIO, labels: list[Any], probabilities: np.ndarray, header: bool
) -> None:
    """CSV rows of ``label,probability``; the probability is the label's own."""
    writer = csv.writer(out, lineterminator="\n")
    if header:
        writer.writerow(["label", "probability"])
    writer.writerows(zip(labels, (f"{p:.6f}" for p in probabilities.tolist())))


def _lines(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of every line that is not blank."""
    try:
        file = open(path, newline="", encoding="utf-8-sig")  # a BOM from Excel is no cell
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder, not a CSV file") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot be read: {exc.strerror}") from None
    line = 0
    with file:
        reader = csv.reader(file)
        try:
            for cells in reader:
                line = reader.line_num
                if any(cell.strip() for cell in cells):
                    yield line, cells
        except UnicodeDecodeError:
            raise DataError(f"{path}:{line + 1}: not UTF-8 text") from None
        except csv.Error as exc:
            raise DataError(f"{path}:{line + 1}: not readable as CSV ({exc})") from None


def _parse(path: Path, line: int, cells: list[str], features: int) -> list[float]:
    if len(cells) != features:
        raise DataError(
            f"{path}:{line}: expected {features} numbers (one per feature), got {len(cells)}"
        )
    values = []
    for column, cell in enumerate(cells, start=1):
        value = _number(cell)
        if value is None:
            raise DataError(f"{path}:{line}: column {column}: {cell.strip()!r} is not a number")
        if not math.isfinite(value) or abs(value) > _LARGEST:
            raise DataError(
                f"{path}:{line}: column {column}: {cell.strip()!r} is not a finite float32"
            )
        values.append(value)
    return values


def _number(cell: Any) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None
