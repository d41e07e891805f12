"""Benchmark 6: a sweep in one stack against one comparison per combination.

`zoo compare circle-v2 --grid lr=0.01,0.03,0.1,0.3 --grid momentum=0,0.9 --seeds 10` trains
the 8 combinations x 10 seeds as one stack of 80 members (each with its own optimizer
numbers), against 8 comparisons of 10 seeds, one per combination (8 stacks of 10). Both are
exact, so the per-seed test accuracies must be identical. Wall time of zoo.compare, workers=1
(one process: the stacking is measured, not the second core), interleaved, median of 3.

    .venv/bin/python benchmarks/sweep_stack.py
"""

from __future__ import annotations

import itertools
import time

from common import interleaved, machine, median

import zoo

GRID = {"lr": [0.01, 0.03, 0.1, 0.3], "momentum": [0.0, 0.9]}
SEEDS, EPOCHS = 10, 1000


def one_stack(found: dict[str, list]) -> float:
    start = time.perf_counter()
    comparison = zoo.compare(["circle-v2"], seeds=SEEDS, epochs=EPOCHS, workers=1, grid=GRID)
    found["stack"] = sorted(
        (r["lr"], r["momentum"], r["seed"], r["test_acc"]) for r in comparison.results
    )
    return time.perf_counter() - start


def one_per_combination(found: dict[str, list]) -> float:
    start, results = time.perf_counter(), []
    for lr, momentum in itertools.product(*GRID.values()):
        comparison = zoo.compare(
            ["circle-v2"], seeds=SEEDS, epochs=EPOCHS, workers=1, lr=lr, momentum=momentum
        )
        results += [(lr, momentum, r["seed"], r["test_acc"]) for r in comparison.results]
    found["separate"] = sorted(results)
    return time.perf_counter() - start


def main() -> None:
    print(f"machine: {machine()}")
    print(f"circle-v2, {EPOCHS} epochs, 8 combinations x {SEEDS} seeds, one process")
    found: dict[str, list] = {}
    seconds = interleaved(
        {
            "one stack of 80": lambda: one_stack(found),
            "8 stacks of 10": lambda: one_per_combination(found),
        },
        3,
    )
    stack, separate = median(seconds["one stack of 80"]), median(seconds["8 stacks of 10"])
    print(f"  one sweep, one stack of 80   {stack:.2f} s")
    print(f"  8 comparisons, 10 seeds each {separate:.2f} s")
    print(f"  speed-up                     {separate / stack:.2f}x")
    print(
        f"  identical test accuracies per (settings, seed): {found['stack'] == found['separate']}"
    )


if __name__ == "__main__":
    main()
