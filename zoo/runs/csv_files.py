"""Feature rows for ``zoo predict``, streamed from CSV in chunks, and predictions out.

The input is one row of numbers per line, optionally under a header line (see
:mod:`zoo.tables` for the shared rules: bounded lines, ``-`` for standard input); a label
column named by the header may be left out. It is read in chunks, so a file of millions of
rows never sits in memory at once. Every problem names the file, the line and what was
expected.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator, Sequence
from typing import IO, Any

import numpy as np

from zoo.errors import DataError
from zoo.tables import feature, is_header, read_lines
from zoo.text import printable, spreadsheet_cell

CHUNK_ROWS = 65_536


def read_rows(
    path: str | os.PathLike[str],
    features: int,
    chunk_rows: int = CHUNK_ROWS,
    drop: str | None = None,
) -> Iterator[np.ndarray]:
    """float32 arrays of shape [<= chunk_rows, features], in file order."""
    for _, rows in read_numbered_rows(path, features, chunk_rows, drop):
        yield rows


def read_numbered_rows(
    path: str | os.PathLike[str],
    features: int,
    chunk_rows: int = CHUNK_ROWS,
    drop: str | None = None,
) -> Iterator[tuple[list[int], np.ndarray]]:
    """Each chunk with the file's line number of each row; ``drop`` names a column (a header
    name) to leave out, such as a label column."""
    chunk: list[list[float]] = []
    lines: list[int] = []
    skip: int | None = None
    header, rows = False, 0
    for line, cells in read_lines(path):
        if rows == 0 and not header and is_header(cells):
            skip = cells.index(drop) if drop in cells else None
            width = len(cells) - (skip is not None)
            if width != features:
                raise DataError(
                    f"{path}:{line}: the header has {width} columns; "
                    f"the model takes {features} features"
                )
            header = True
            continue
        values = [c for i, c in enumerate(cells) if i != skip]
        if len(values) != features:
            raise DataError(
                f"{path}:{line}: expected {features} numbers (one per feature), got {len(values)}"
            )
        chunk.append([feature(path, line, str(i), c) for i, c in enumerate(values, start=1)])
        lines.append(line)
        rows += 1
        if len(chunk) == chunk_rows:
            yield lines, np.asarray(chunk, dtype=np.float32)
            chunk, lines = [], []
    if chunk:
        yield lines, np.asarray(chunk, dtype=np.float32)
    if rows == 0:
        what = "only a header" if header else "no rows"
        raise DataError(f"{path}: {what}; expected lines of {features} numbers")


class PredictionWriter:
    """Predictions as CSV (``label,p_<class>,...``) or as one JSON array of such records."""

    def __init__(self, out: IO[str], classes: Sequence[Any], as_json: bool) -> None:
        self.out, self.as_json = out, as_json
        self.columns = ["label", *(f"p_{label}" for label in classes)]
        self.classes = list(classes)
        # In CSV, labels are text a spreadsheet shows as text (see zoo.text); JSON escapes.
        self.cells = [spreadsheet_cell(label) for label in classes]
        self.started = False
        self._csv = csv.writer(out, lineterminator="\n")

    def write(self, probabilities: np.ndarray) -> None:
        labels = [self.classes[i] for i in probabilities.argmax(axis=1)]
        if self.as_json:
            for label, row in zip(labels, probabilities.tolist()):
                record = dict(zip(self.columns, [label, *(round(p, 6) for p in row)]))
                self.out.write(("[\n" if not self.started else ",\n") + json.dumps(record))
                self.started = True
            return
        if not self.started:
            self._csv.writerow(["label", *(printable(f"p_{c}") for c in self.classes)])
            self.started = True
        cells = [self.cells[i] for i in probabilities.argmax(axis=1)]
        self._csv.writerows(
            [cell, *(f"{p:.6f}" for p in row)] for cell, row in zip(cells, probabilities.tolist())
        )

    def close(self) -> None:
        if self.as_json:
            self.out.write("\n]\n" if self.started else "[]\n")
