"""Benchmark: what zoo compare's statistics add to a 100-seed comparison.

`zoo.compare(["circle-v0", "circle-v2"], seeds=100)` (its wall time: planning, training,
summarising) against the summarising alone on its results (`summarise`: every record and
row, the IQM intervals, the paired intervals, P(best>row), the exact Wilcoxon tests and
Holm's correction), in the same run, side by side. The target: the statistics add under 5%.

    .venv/bin/python benchmarks/compare_statistics.py
"""

from __future__ import annotations

import statistics
import time

from common import machine

import zoo
from zoo.comparison.summary import Comparison, summarise

MODELS = ["circle-v0", "circle-v2"]
SEEDS = 100
REPEATS = 3


def compare() -> tuple[float, Comparison]:
    start = time.perf_counter()
    comparison = zoo.compare(MODELS, seeds=SEEDS)
    return time.perf_counter() - start, comparison


def summarised(comparison: Comparison) -> float:
    """Seconds to summarise the comparison's results again: the median of five."""
    times = []
    for _ in range(5):
        start = time.perf_counter()
        again = summarise(comparison.job_results, comparison.reach, comparison.grid)
        times.append(time.perf_counter() - start)
        assert again.summary == comparison.summary  # the same numbers every time
    return statistics.median(times)


def main() -> None:
    print(f"machine: {machine()}")
    print(f"{' and '.join(MODELS)}, {SEEDS} seeds, 1000 epochs each, {REPEATS} runs")
    compare()  # warm-up: imports, kernel probes
    ratios = []
    for run in range(REPEATS):
        seconds, comparison = compare()
        stats = summarised(comparison)
        ratios.append(stats / (seconds - stats))  # what they add to the rest of the work
        print(f"  run {run + 1}: comparison {seconds:.2f} s, statistics {stats * 1000:.0f} ms")
    print(f"statistics add {statistics.median(ratios):.2%} to the comparison (median; target < 5%)")
    print()
    print(comparison.render("table"), end="")


if __name__ == "__main__":
    main()
