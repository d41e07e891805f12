"""Benchmark 6: a sweep in one stack against one comparison per combination.

`zoo compare circle-v2 --grid lr=0.01,0.03,0.1,0.3 --grid momentum=0,0.9 --seeds 10` trains
the 8 combinations x 10 seeds as one stack of 80 members, each member with its own optimizer
numbers, against 8 comparisons of 10 seeds, one per combination (8 stacks of 10). Both ways
are timed with the fast kernels (`--no-exact`: one stacked SGD step with per-member learning
rates and momenta, see zoo/batched/optim.py) and with the exact ones (the default on the
CPU: torch's own optimizer per run of members that share their settings). Wall time of
zoo.compare, workers=1 (one process: the stacking is measured, not the second core),
interleaved, median of 3. The seconds of the training loops alone (what stacking changes;
the rest is planning, building the models and reporting each seed) are printed too.

Exact members are identical however they are stacked; fast ones agree within rounding (a
chunk's products may sum in another order), so the largest difference is printed instead.

    .venv/bin/python benchmarks/sweep_stack.py
"""

from __future__ import annotations

import itertools
import time

from common import interleaved, machine, median, paired_ratio

import zoo

GRID = {"lr": [0.01, 0.03, 0.1, 0.3], "momentum": [0.0, 0.9]}
SEEDS, EPOCHS = 10, 1000


def one_stack(found: dict[str, list], exact: bool) -> float:
    start = time.perf_counter()
    comparison = zoo.compare(
        ["circle-v2"], seeds=SEEDS, epochs=EPOCHS, workers=1, grid=GRID, exact=exact
    )
    found[f"stack {exact}"] = sorted(
        (r["lr"], r["momentum"], r["seed"], r["test_acc"]) for r in comparison.results
    )
    found.setdefault(f"training stack {exact}", []).append(
        sum(result.seconds for result in comparison.job_results)
    )
    return time.perf_counter() - start


def one_per_combination(found: dict[str, list], exact: bool) -> float:
    start, results, training = time.perf_counter(), [], 0.0
    for lr, momentum in itertools.product(*GRID.values()):
        comparison = zoo.compare(
            ["circle-v2"],
            seeds=SEEDS,
            epochs=EPOCHS,
            workers=1,
            lr=lr,
            momentum=momentum,
            exact=exact,
        )
        results += [(lr, momentum, r["seed"], r["test_acc"]) for r in comparison.results]
        training += comparison.job_results[0].seconds
    found[f"separate {exact}"] = sorted(results)
    found.setdefault(f"training separate {exact}", []).append(training)
    return time.perf_counter() - start


def main() -> None:
    print(f"machine: {machine()}")
    print(f"circle-v2, {EPOCHS} epochs, 8 combinations x {SEEDS} seeds, one process")
    found: dict[str, list] = {}
    runs = {}
    for exact in (False, True):
        runs[f"stack {exact}"] = lambda e=exact: one_stack(found, e)
        runs[f"separate {exact}"] = lambda e=exact: one_per_combination(found, e)
    seconds = interleaved(runs, 3)
    for exact, name in ((False, "fast kernels (--no-exact)"), (True, "exact kernels (default)")):
        stack, separate = seconds[f"stack {exact}"], seconds[f"separate {exact}"]
        print(f"{name}:")
        print(f"  one sweep, one stack of 80    {median(stack):6.2f} s")
        print(f"  8 comparisons, 10 seeds each  {median(separate):6.2f} s")
        print(
            f"  speed-up                      {paired_ratio(separate, stack):6.2f}x   "
            f"(median of paired runs{'; target >= 2.5x' if not exact else ''})"
        )
        # the training loops alone: the warm-up run came first, the timed runs are the last 3
        ours = found[f"training stack {exact}"][-3:]
        theirs = found[f"training separate {exact}"][-3:]
        print(
            f"  training loops alone          {median(ours):6.2f} s against {median(theirs):.2f} s:"
            f" {paired_ratio(theirs, ours):.2f}x"
        )
        pairs = zip(found[f"stack {exact}"], found[f"separate {exact}"])
        gap = max(abs(a[3] - b[3]) for a, b in pairs)
        print(f"  largest test-accuracy difference per (settings, seed): {gap:.2f} points")
    separate_exact = seconds["separate True"]
    print(
        f"the fast sweep against 8 exact comparisons (zoo's default before --no-exact): "
        f"{paired_ratio(separate_exact, seconds['stack False']):.2f}x"
    )


if __name__ == "__main__":
    main()
