"""Seeds at scale on a GPU: zoo's fast engine against a hand-written torch.func.vmap ensemble.

Measures, in one run, the targets of issue #10 (on an H100 or H200):
  1. 1000 seeds x 1000 epochs of circle-v2: zoo compare's training time, target <= 1.5 s,
     and the vmap ensemble timed in the same run (target: 3x faster than it);
  2. 10,000 seeds: target <= 5 s of training;
  3. solo `zoo train circle-v2` on the GPU (a captured graph per step) against the CPU;
  4. the fast engine against the exact one: the differences in accuracy and loss;
  5. how training time grows with seeds, and the largest seed count that fits.

gpu_check.py runs it after its checks; alone:

    python benchmarks/gpu_scale.py            # on a CUDA machine
    python benchmarks/gpu_scale.py --smoke    # tiny sizes on the CPU: does the script run?

No figure here was measured by the session that wrote it (it had no GPU).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable

import scaling
import torch

import zoo
from zoo.batched.batch_plan import batch_plan
from zoo.batched.batched_trainer import BatchedTrainer
from zoo.comparison.runner import compare as run_compare

EPOCHS = 1000  # circle-v2 as zoo compare trains it


def vmap_ensemble(seeds: int, epochs: int, device: str) -> float:
    """K CircleModelV2s as one torch.func ensemble written by hand, trained and evaluated at
    zoo's log points (the baseline of scaling.py): its seconds."""
    return scaling.vmap_seconds(seeds, epochs, device)


def zoo_compare(seeds: int, epochs: int, device: str, exact: bool | None = None) -> dict:
    """zoo compare circle-v2 on ``device``: the shared loop's seconds, the wall time, and
    the per-seed results."""
    start = time.perf_counter()
    comparison = zoo.compare(
        ["circle-v2"], seeds=seeds, epochs=epochs, device=device, workers=1, exact=exact
    )
    wall = time.perf_counter() - start
    result = comparison.job_results[0]
    return {"training": result.seconds, "wall": wall, "results": comparison.results}


def engine_report(device: str) -> str:
    """What the fast engine ran: graphs, or why not."""
    comparison = zoo.compare(["circle-v2"], seeds=1, epochs=1, device=device, workers=1)
    job = comparison.job_results[0].job
    configs = [job.config_for(seed) for seed in (1, 2, 3, 4)]
    models = [job.experiment.build(config.seed) for config in configs]
    plan = batch_plan(models[0])
    assert plan is not None
    trainer = BatchedTrainer(plan, models, job.experiment.data, configs)
    trainer.fit()
    reason = trainer.captured.eager_because
    return f"exact={trainer.engine.exact}, graphs: {'yes' if reason is None else reason}"


def timed(label: str, work: Callable[[], float]) -> float:
    seconds = work()
    print(f"  {label:<46} {seconds:8.3f} s", flush=True)
    return seconds


def main(smoke: bool = False) -> None:
    device = "cpu" if smoke else "cuda"
    big, bigger, epochs = (8, 16, 20) if smoke else (1000, 10_000, EPOCHS)
    name = torch.cuda.get_device_name(0) if device == "cuda" else "CPU (smoke run)"
    print(f"torch {torch.__version__} on {name}; circle-v2, {epochs} epochs, log every 10")
    print(f"engine: {engine_report(device)}")
    zoo_compare(4, 10, device)  # warm-up: imports, CUDA context, kernels
    vmap_ensemble(4, 10, device)

    print(f"1. {big} seeds x {epochs} epochs (target <= 1.5 s and 3x the vmap ensemble)")
    ours = zoo_compare(big, epochs, device)
    timed("zoo compare: training (the shared loop)", lambda: ours["training"])
    timed("zoo compare: wall (plan, build, train, report)", lambda: ours["wall"])
    theirs = timed("torch.func.vmap ensemble, by hand", lambda: vmap_ensemble(big, epochs, device))
    print(f"  {'speed-up over vmap (training)':<46} {theirs / ours['training']:8.2f}x")

    print(f"2. {bigger} seeds x {epochs} epochs (target <= 5 s)")
    many = zoo_compare(bigger, epochs, device)
    timed("zoo compare: training", lambda: many["training"])
    timed("zoo compare: wall", lambda: many["wall"])
    timed("torch.func.vmap ensemble, by hand", lambda: vmap_ensemble(bigger, epochs, device))

    print("3. solo zoo train circle-v2 (target: the GPU faster than this machine's CPU)")
    for where in ("cpu", device):
        zoo.train("circle-v2", device=where, epochs=50)
        best = min(zoo.train("circle-v2", device=where, epochs=epochs)["seconds"] for _ in range(3))
        print(f"  {f'zoo train --device {where} (best of 3)':<46} {best:8.3f} s")

    print("4. fast against exact kernels (100 seeds): what exactness costs and changes")
    seeds = 8 if smoke else 100
    fast = zoo_compare(seeds, epochs, device, exact=False)
    exact = zoo_compare(seeds, epochs, device, exact=True)
    differences(fast["results"], exact["results"])
    print(f"  training: fast {fast['training']:.3f} s, exact {exact['training']:.3f} s")

    print("5. training time against seeds (100 epochs), up to the largest count that fits")
    growth(device, smoke)


def differences(fast: list[dict], exact: list[dict]) -> None:
    for key in ("test_acc", "test_loss"):
        gaps = [abs(a[key] - b[key]) for a, b in zip(fast, exact)]
        same = sum(gap == 0 for gap in gaps)
        print(
            f"  {key:<9} |fast - exact|: mean {statistics.fmean(gaps):.2e}, "
            f"max {max(gaps):.2e}; equal on {same}/{len(gaps)} seeds"
        )


def growth(device: str, smoke: bool) -> None:
    seeds, limit = (4, 16) if smoke else (1000, 1_024_000)
    deadline = time.monotonic() + 240  # doubling the seeds doubles the time: stop in time
    while seeds <= limit and time.monotonic() < deadline:
        try:
            result = run_compare(
                ["circle-v2"],
                seed_values=list(range(seeds)),
                workers=1,
                overrides={"epochs": 10 if smoke else 100, "device": device},
            )
        except torch.cuda.OutOfMemoryError:
            print(f"  {seeds:>9,} seeds: out of memory; the largest that fit is {seeds // 2:,}")
            return
        training = result.job_results[0].seconds
        print(f"  {seeds:>9,} seeds: {training:8.3f} s training", flush=True)
        seeds *= 2
        if device == "cuda":
            torch.cuda.empty_cache()
    print("  stopped by the time budget or the limit, not by memory")


if __name__ == "__main__":
    main(smoke="--smoke" in sys.argv)
