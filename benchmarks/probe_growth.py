"""Benchmark: how the exactness probe's cost grows with the seed count (issue #22).

Before training K stacked seeds exactly, zoo probes each stacked Linear layer once per shape
(see zoo/batched/stacked_ops.py): it runs the candidate kernels and the per-seed reference
on random numbers, forward and backward, and keeps the fastest that agrees to the bit. The
reference is per seed, so the probe is at best linear in K. This script measures:

1. the probe alone: the first stacked call of circle-v0's two layers (what `zoo compare`
   pays once per layer shape), for K seeds, in this process with the probe's memory cleared;
2. the whole command as issue #22 ran it, `zoo compare circle-v0 --epochs 1 --jobs 1
   --seeds N`, one fresh process per N (its start-up, model building and report included).

A cost linear in K doubles when K doubles; a quadratic one quadruples.

    .venv/bin/python benchmarks/probe_growth.py              # K = 500 ... 8000
    .venv/bin/python benchmarks/probe_growth.py 1000 2000    # other counts
"""

from __future__ import annotations

import sys
import time

import torch
from common import fresh_process, machine, median

from zoo.batched import stacked_ops

ROWS = 800  # circle-v0 on the lesson's circles: 800 training rows, 2 -> 5 -> 1


def probe_seconds(seeds: int) -> float:
    """The first stacked call of circle-v0's layers for ``seeds`` seeds: probe and run."""
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(ROWS, 2, generator=generator).expand(seeds, ROWS, 2)
    layers = [(5, 2), (1, 5)]
    weights = [torch.randn(seeds, o, i, generator=generator).requires_grad_() for o, i in layers]
    biases = [torch.randn(seeds, o, generator=generator).requires_grad_() for o, _ in layers]
    stacked_ops._LINEAR_WAYS.clear()  # as in a fresh process: nothing probed yet
    stacked_ops._CHOSEN.clear()
    start = time.perf_counter()
    hidden = stacked_ops.stacked_linear(x, weights[0], biases[0])
    stacked_ops.stacked_linear(hidden, weights[1], biases[1]).sum().backward()
    return time.perf_counter() - start


def command_seconds(seeds: int) -> float:
    args = ["compare", "circle-v0", "--epochs", "1", "--jobs", "1", "--seeds", str(seeds)]
    return fresh_process(["-m", "zoo", *args])


def growth_table(label: str, counts: list[int], measure: object, repeats: int) -> None:
    print(label)
    previous: tuple[int, float] | None = None
    for count in counts:
        seconds = median([measure(count) for _ in range(repeats)])  # type: ignore[operator]
        growth = ""
        if previous is not None:
            growth = f"   x{seconds / previous[1]:.1f} for x{count / previous[0]:g} the seeds"
        print(f"  {count:>6} seeds: {seconds:8.2f} s{growth}", flush=True)
        previous = (count, seconds)


def main(counts: list[int]) -> None:
    torch.set_num_threads(1)
    print(f"machine: {machine()}")
    growth_table(
        "1. the probe of circle-v0's two stacked layers, median of 3", counts, probe_seconds, 3
    )
    growth_table(
        "2. zoo compare circle-v0 --epochs 1 --jobs 1 --seeds N, a fresh process each",
        counts[:4],
        command_seconds,
        1,
    )
    print("linear: about x2 for twice the seeds; quadratic: about x4")


if __name__ == "__main__":
    main([int(n) for n in sys.argv[1:]] or [500, 1000, 2000, 4000, 8000])
