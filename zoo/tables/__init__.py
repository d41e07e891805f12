"""CSV tables: a user's own data, read fast and within bounds, every problem as ``file:line``.

A table is lines of cells: numeric feature columns and one label column (by default the last),
optionally under a header line (a first line none of whose cells is a number, or as
``header=first|none`` says), after ``skip_rows`` lines that are not part of it. Labels may be
numbers or text (``cat``, ``dog``); text labels keep their names everywhere zoo shows them.
Every line is bounded in length, a table in cells, bytes and classes
(:mod:`zoo.tables.limits`), so no file can make zoo use unbounded memory. ``-`` reads standard
input. Torch-free: plugins and the command line use it.
"""

from __future__ import annotations

from zoo.tables.limits import (
    LARGEST,
    LONGEST_LINE,
    MOST_BYTES,
    MOST_CELLS,
    MOST_CLASSES,
    ROWS_PER_CLASS,
)
from zoo.tables.lines import feature, is_header, number, read_lines
from zoo.tables.reading import HEADERS, Table, check_options, last_column, read_table

__all__ = [
    "HEADERS",
    "LARGEST",
    "LONGEST_LINE",
    "MOST_BYTES",
    "MOST_CELLS",
    "MOST_CLASSES",
    "ROWS_PER_CLASS",
    "Table",
    "check_options",
    "feature",
    "is_header",
    "last_column",
    "number",
    "read_lines",
    "read_table",
]
