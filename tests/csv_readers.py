"""zoo's CSV reader with one of its paths chosen, for tests that compare the paths.

``read_table`` takes the fastest path that reads a file exactly: pyarrow for a large file (when
installed), numpy for blocks of plain lines, and the careful reader, cell by cell, for the rest
and to name a failing line. These helpers force the careful reader everywhere, or pyarrow for
files of any size, so that a test can check that they all read the same.
"""

from __future__ import annotations

import os
from typing import Any

import zoo.tables.arrow
import zoo.tables.reading
from zoo.tables import Table, read_table


def careful_read(path: str | os.PathLike[str], **options: Any) -> Table:
    """Every row cell by cell, as the careful reader reads it."""
    zoo.tables.reading.FAST = False
    try:
        return read_table(path, **options)
    finally:
        zoo.tables.reading.FAST = True


def arrow_read(path: str | os.PathLike[str], **options: Any) -> Table:
    """pyarrow for the file whatever its size, where it reads it exactly."""
    smallest = zoo.tables.arrow.ARROW_FROM
    zoo.tables.arrow.ARROW_FROM = 0
    try:
        return read_table(path, **options)
    finally:
        zoo.tables.arrow.ARROW_FROM = smallest
