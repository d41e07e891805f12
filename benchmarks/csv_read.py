"""Benchmark 7: reading a CSV file into a table, zoo against pandas.read_csv, in the same run.

A 100,000 x 20 numeric CSV file with a header and a label column, written here twice: numbers
at full precision (as pandas' to_csv writes float64) and with five decimals. Each file is read
by ``zoo.tables.read_table`` (what ``zoo train --dataset FILE.csv`` and ``zoo.train(...,
data=FILE)`` use) and by ``pandas.read_csv``, after one warm-up each, interleaved, REPEATS
times; the ratio is the median of the paired ratios. The target is at most 1.5.

zoo takes pyarrow's parser for a file this large when pyarrow is installed (the ``arrow``
extra); its own numpy path, without pyarrow, is timed too.

    .venv/bin/python benchmarks/csv_read.py
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from common import interleaved, machine, median, paired_ratio

import zoo.tables.arrow
from zoo.tables import read_table

ROWS, FEATURES, REPEATS = 100_000, 20, 9


def write(path: Path, digits: int | None) -> Path:
    """ROWS rows of FEATURES normal features and a 0/1 label, under a header."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        rng.normal(size=(ROWS, FEATURES)), columns=[f"x{i + 1}" for i in range(FEATURES)]
    )
    frame["label"] = rng.integers(0, 2, ROWS)
    frame.to_csv(path, index=False, float_format=None if digits is None else f"%.{digits}f")
    return path


def seconds(read: Callable[[], object]) -> Callable[[], float]:
    def timed() -> float:
        start = time.perf_counter()
        read()
        return time.perf_counter() - start

    return timed


def without_arrow(path: Path) -> object:
    """zoo's reader as it reads without pyarrow installed."""
    arrow_from = zoo.tables.arrow.ARROW_FROM
    zoo.tables.arrow.ARROW_FROM = 1 << 62
    try:
        return read_table(path)
    finally:
        zoo.tables.arrow.ARROW_FROM = arrow_from


def compare(path: Path) -> None:
    ours = read_table(path)
    assert np.array_equal(ours.X, pd.read_csv(path).to_numpy()[:, :FEATURES].astype(np.float32))
    runs = {
        "zoo read_table": seconds(lambda: read_table(path)),
        "pandas.read_csv": seconds(lambda: pd.read_csv(path)),
        "zoo, no pyarrow": seconds(lambda: without_arrow(path)),
    }
    times = interleaved(runs, REPEATS)
    size = path.stat().st_size / 2**20
    print(f"{path.name}: {ROWS:,} rows x {FEATURES} features + label, {size:.1f} MiB")
    for name, values in times.items():
        ratio = paired_ratio(values, times["pandas.read_csv"])
        print(f"  {name:17} {median(values) * 1000:7.0f} ms   ({ratio:.2f}x pandas)")


def main() -> None:
    print(f"machine: {machine()}")
    print(f"pyarrow: {'installed' if zoo.tables.arrow.installed() else 'not installed'}")
    print(f"median of {REPEATS} interleaved runs after a warm-up; ratios: median of paired runs")
    with tempfile.TemporaryDirectory() as folder:
        compare(write(Path(folder) / "full-precision.csv", None))
        compare(write(Path(folder) / "five-decimals.csv", 5))
    print("target: zoo read_table <= 1.5x pandas")


if __name__ == "__main__":
    main()
