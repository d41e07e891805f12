"""Benchmark 2: many seeds of one model trained together, against plain loops one by one.

`zoo compare circle-v2 --seeds K --epochs 1000` (through zoo.compare, its wall time: checks,
worker processes and all) against K hand-written loops one after another, with the same log
points (every 10 epochs). The target for ten seeds is at least 3x faster; a hundred are
reported too. The per-seed test accuracies must be identical.

    .venv/bin/python benchmarks/seeds_together.py
"""

from __future__ import annotations

import time

from common import circles, interleaved, lesson_loop, machine, median, paired_ratio

import zoo

EPOCHS = 1000


def compare(seeds: int) -> tuple[float, list[float]]:
    start = time.perf_counter()
    comparison = zoo.compare(["circle-v2"], seeds=seeds, epochs=EPOCHS)
    return time.perf_counter() - start, [r["test_acc"] for r in comparison.results]


def loops(data: tuple, seeds: int) -> tuple[float, list[float]]:
    start = time.perf_counter()
    accuracies = [lesson_loop(data, 42 + k, EPOCHS, 0.9, EPOCHS // 100)[1] for k in range(seeds)]
    return time.perf_counter() - start, accuracies


def main() -> None:
    data = circles()
    print(f"machine: {machine()}")
    print(f"circle-v2, {EPOCHS} epochs per seed, seeds from 42")
    for seeds, repeats in ((10, 5), (100, 1)):
        results: dict[str, list[float]] = {}
        seconds = interleaved(
            {
                "zoo compare": lambda k=seeds, r=results: _keep(r, "zoo", compare(k)),
                "plain loops": lambda k=seeds, r=results: _keep(r, "loops", loops(data, k)),
            },
            repeats,
            warm_up=seeds == 10,  # the hundred-seed runs start warm
        )
        ours, theirs = median(seconds["zoo compare"]), median(seconds["plain loops"])
        ratios = [a / b for a, b in zip(seconds["plain loops"], seconds["zoo compare"])]
        speed_up = paired_ratio(seconds["plain loops"], seconds["zoo compare"])
        same = results["zoo"] == results["loops"]
        target = "   (target: >= 3x)" if seeds == 10 else ""
        print(f"{seeds} seeds (median of {repeats}):")
        print(f"  zoo compare         {ours:.2f} s")
        print(f"  {seeds} plain loops     {theirs:.2f} s")
        print(f"  speed-up            {speed_up:.2f}x{target}")
        if repeats > 1:
            print(f"  paired runs         {min(ratios):.2f}x to {max(ratios):.2f}x")
        print(f"  identical test accuracies per seed: {'yes' if same else 'NO'}")


def _keep(store: dict[str, list[float]], key: str, outcome: tuple[float, list[float]]) -> float:
    store[key] = outcome[1]
    return outcome[0]


if __name__ == "__main__":
    main()
