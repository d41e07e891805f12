"""Large files parsed by pyarrow (a dependency; a Python without it reads them with numpy).

pyarrow's CSV reader parses a file on every core, as fast as pandas; numpy cannot convert text
to numbers without a Python object per cell. It is used only where it reads exactly what the
careful reader (:mod:`zoo.tables.lines`) reads: from the first row on, no quote character (it
reads quotes as any other character, so a quote in a cell hands the file back), no blank line,
every row as wide as the first, every feature a finite float32. Anything else, and any error,
hands the file back to the careful reader, which names the line.
"""

from __future__ import annotations

import importlib.util
import os
import stat
from typing import Any

import numpy as np

from zoo.tables import limits

# bytes: numpy reads about 25 MiB a second, pyarrow five times that but takes 0.35 s to import
ARROW_FROM = 8 * 2**20
PARSE_BLOCK = 1 << 18  # bytes each thread parses at once: faster here than pyarrow's 1 MiB


def read_arrow(
    path: str, data_line: int, width: int, label: int
) -> tuple[np.ndarray, list[str], np.ndarray] | None:
    """From line ``data_line`` on: the features as float32 ``[rows, width - 1]``, the label
    column's distinct texts and each row's index into them; None where the careful reader
    must read the file (or pyarrow is not installed)."""
    if path == "-" or width < 2 or not _large_file(path):
        return None
    try:
        import pyarrow.csv
    except ImportError:
        return None
    try:
        offset = _data_offset(path, data_line)
        if offset is None:
            return None
        return _columns(_parse(pyarrow, path, offset, width, label), width, label)
    except (pyarrow.ArrowException, OSError, MemoryError):  # the careful reader says where,
        return None  # or reads the file where pyarrow cannot (no memory for a thread, say)


def _columns(table: Any, width: int, label: int) -> tuple[np.ndarray, list[str], np.ndarray] | None:
    """The features as float32, the labels as distinct texts and indices; None when a
    feature is not a finite float32 or a label was quoted."""
    if table.num_rows == 0:
        return None
    features = [i for i in range(width) if i != label]
    X = np.empty((table.num_rows, width - 1), dtype=np.float32)
    start = 0
    with np.errstate(over="ignore", invalid="ignore"):  # checked below, as float64
        for batch in table.select(features).to_batches():
            X[start : start + batch.num_rows] = np.asarray(batch.to_tensor(row_major=True))
            start += batch.num_rows
        top = max(X.max(), -X.min())  # NaN if any is
    if not top < limits.LARGEST and not (top == limits.LARGEST and _in_float32(table, features)):
        return None  # NaN, infinite, or beyond float32's range
    labels = table.column(label).unify_dictionaries()
    texts = labels.chunk(0).dictionary.to_pylist() if labels.num_chunks else []
    if any('"' in text for text in texts):  # quoted, which the csv module would unquote
        return None
    indices = [chunk.indices.to_numpy(zero_copy_only=False) for chunk in labels.chunks]
    return X, texts, np.concatenate(indices).astype(np.int32)


def _in_float32(table: Any, features: list[int]) -> bool:
    """Whether every float64 feature is within float32's range, not just rounded into it."""
    import pyarrow.compute

    for column in features:
        low, high = pyarrow.compute.min_max(table.column(column)).values()
        if not -limits.LARGEST <= low.as_py() <= high.as_py() <= limits.LARGEST:
            return False
    return True


def installed() -> bool:
    """Whether pyarrow can be imported (the ``arrow`` extra)."""
    return importlib.util.find_spec("pyarrow") is not None


def _large_file(path: str) -> bool:
    try:
        status = os.stat(path)
    except OSError:
        return False
    # pyarrow holds every cell as float64, up to 4 bytes for each byte of the file ("1,"): a
    # larger file could pass MOST_BYTES before it could be refused, so the careful reader,
    # which refuses it at the line, takes it
    return stat.S_ISREG(status.st_mode) and ARROW_FROM <= status.st_size <= limits.MOST_BYTES // 4


def _data_offset(path: str, data_line: int) -> int | None:
    """The byte where line ``data_line`` starts, when the lines before it end as the csv
    module's lines and pyarrow's both do."""
    with open(path, "rb") as file:
        for _ in range(data_line - 1):
            line = file.readline(4 * limits.LONGEST_LINE + 8)
            if b"\r" in line.removesuffix(b"\r\n") or not line.endswith(b"\n"):
                return None  # a lone carriage return, a line too long: the careful reader's
        offset = file.tell()
        if offset == 0 and file.read(3) == b"\xef\xbb\xbf":
            offset = 3  # Excel's byte order mark, which the careful reader drops too
        return offset


def _parse(pyarrow: Any, path: str, offset: int, width: int, label: int) -> Any:
    names = [f"c{i}" for i in range(width)]
    types = {name: pyarrow.float64() for name in names}
    types[names[label]] = pyarrow.dictionary(pyarrow.int32(), pyarrow.string())
    with pyarrow.OSFile(path) as file:
        file.seek(offset)
        return pyarrow.csv.read_csv(
            file,
            read_options=pyarrow.csv.ReadOptions(column_names=names, block_size=PARSE_BLOCK),
            parse_options=pyarrow.csv.ParseOptions(quote_char=False, ignore_empty_lines=False),
            convert_options=pyarrow.csv.ConvertOptions(
                column_types=types,
                null_values=[],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
