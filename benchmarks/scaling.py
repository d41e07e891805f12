"""Benchmark: the cost of one model-epoch as the number of stacked models K grows.

circle-v2 (2 -> 10 -> 10 -> 1, ReLU) on the lesson's circles (800 training rows, 200 test),
full batch, SGD at lr 0.1 with momentum 0.9, train and test loss and accuracy evaluated every
10 epochs, one thread. For K = 1, 10, 100 and 1000 models, in microseconds per model-epoch:

- zoo exact: `zoo.compare(["circle-v2"], seeds=K, exact=True)`, the shared training loop's
  seconds (each seed equal to its solo `zoo train` bit for bit);
- zoo fast: the same with `exact=False` (each seed within float32 rounding of it);
- vmap: K models as one torch.func ensemble written by hand (stack_module_state,
  vmap(grad(loss)), SGD with momentum as three foreach kernels over the stacked weights);
- plain loop: the lesson's loop written by hand, one model at a time (its cost per model does
  not depend on K), with torch's foreach SGD;
- limit: the arithmetic of one model-epoch (the products of the forward and backward passes
  and of the evaluations) at the rate this core reaches on a 512^3 float32 GEMM: a lower
  bound that no formulation reaches (it ignores the element-wise work and moving memory).

Everything runs in this process, interleaved: each round times the plain loop and then every
K with every method; the figures are medians over the rounds, and the speed-ups are medians
of ratios within a round, so a machine that is busier in one round than in another shifts
both sides. K = 1000 trains 100 epochs instead of 1000 (same evaluation every 10 epochs).

    .venv/bin/python benchmarks/scaling.py                  # 3 rounds, about 5 minutes
    .venv/bin/python benchmarks/scaling.py --quick          # 1 round, 10x fewer epochs
    .venv/bin/python benchmarks/scaling.py --device cuda    # the same on a GPU (gpu_check.py)
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
from common import circles, lesson_loop, machine
from torch.func import functional_call, grad, stack_module_state, vmap
from torch.nn import functional as F
from zoo_plugins.circle_models import CircleModelV2

import zoo

COUNTS = (1, 10, 100, 1000)
LR, MOMENTUM, LOG_EVERY = 0.1, 0.9, 10
METHODS = ("zoo exact", "zoo fast", "vmap")


def epochs_for(count: int, epochs: int) -> int:
    return epochs // 10 if count >= 1000 else epochs


def synchronize(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def zoo_seconds(count: int, epochs: int, device: str, exact: bool) -> float:
    """Seconds of zoo's shared training loop (evaluations at the log points included)."""
    comparison = zoo.compare(
        ["circle-v2"],
        seeds=count,
        epochs=epochs,
        workers=1,
        exact=exact,
        device=device,
        log_every=LOG_EVERY,
    )
    return sum(result.seconds for result in comparison.job_results)


def vmap_seconds(count: int, epochs: int, device: str) -> float:
    """K CircleModelV2s as one torch.func ensemble, trained and evaluated as zoo does."""
    X_train, y_train, X_test, y_test = (t.to(device) for t in circles())
    models = []
    for k in range(count):
        torch.manual_seed(42 + k)
        models.append(CircleModelV2().to(device))
    params, _ = stack_module_state(models)
    names = list(params)
    weights = [params[name] for name in names]
    velocity = [torch.zeros_like(w) for w in weights]
    base = CircleModelV2().to("meta")

    def logits(p: dict[str, torch.Tensor], X: torch.Tensor) -> torch.Tensor:
        return functional_call(base, p, (X,)).squeeze(-1)

    def loss(p: dict[str, torch.Tensor], X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.binary_cross_entropy_with_logits(logits(p, X), y)

    gradients = vmap(grad(loss), in_dims=(0, None, None))
    evaluate = vmap(logits, in_dims=(0, None))

    def log_point() -> None:
        for X, y in ((X_train, y_train), (X_test, y_test)):
            z = evaluate(dict(zip(names, weights)), X)
            losses = F.binary_cross_entropy_with_logits(z, y.expand_as(z), reduction="none")
            correct = torch.eq(torch.round(torch.sigmoid(z)), y).sum(1)
            losses.mean(1).tolist(), correct.tolist()

    synchronize(device)
    start = time.perf_counter()
    with torch.no_grad():
        for epoch in range(1, epochs + 1):
            found = gradients(dict(zip(names, weights)), X_train, y_train)
            torch._foreach_mul_(velocity, MOMENTUM)
            torch._foreach_add_(velocity, [found[name] for name in names])
            torch._foreach_add_(weights, velocity, alpha=-LR)
            if epoch % LOG_EVERY == 0 or epoch == epochs:
                log_point()
    synchronize(device)
    return time.perf_counter() - start


def gemm_rate(device: str) -> float:
    """FLOP per second of one 512^3 float32 product on this core (or device), best of 20."""
    a, b = (torch.randn(512, 512, device=device) for _ in range(2))
    best = float("inf")
    for _ in range(20):
        synchronize(device)
        start = time.perf_counter()
        a @ b
        synchronize(device)
        best = min(best, time.perf_counter() - start)
    return 2 * 512**3 / best


def flops_per_model_epoch(train: int, test: int) -> float:
    """The products of one epoch of circle-v2: forward and backward on the training rows
    (no gradient for the input), and an evaluation of both splits every LOG_EVERY epochs."""
    layers = [
        (m.in_features, m.out_features)
        for m in CircleModelV2().modules()
        if hasattr(m, "in_features")
    ]
    forward = sum(2 * i * o for i, o in layers)
    backward = sum(2 * i * o for i, o in layers) + sum(2 * i * o for i, o in layers[1:])
    return train * (forward + backward) + (train + test) * forward / LOG_EVERY


def main(device: str = "cpu", rounds: int = 3, epochs: int = 1000) -> None:
    torch.set_num_threads(1)
    data = circles()
    train, test = len(data[0]), len(data[2])
    flops, rate = flops_per_model_epoch(train, test), gemm_rate(device)
    limit = flops / rate * 1e6
    print(f"machine: {machine()}, device {device}")
    print(
        f"circle-v2 on the circles ({train} training rows, {test} test), full batch, SGD lr {LR} "
        f"momentum {MOMENTUM}, evaluated every {LOG_EVERY} epochs; {epochs} epochs "
        f"({epochs_for(1000, epochs)} for K = 1000); median of {rounds} interleaved rounds"
    )
    print(
        f"arithmetic: {flops / 1e6:.2f} MFLOP per model-epoch; this core's 512^3 GEMM: "
        f"{rate / 1e9:.0f} GFLOP/s; limit {limit:.1f} us per model-epoch"
    )
    runs: dict[str, Callable[[], float]] = {
        "plain loop": lambda: (
            lesson_loop(data, 42, epochs, MOMENTUM, LOG_EVERY, foreach=True, device=device)[0]
            / epochs
        )
    }
    for count in COUNTS:
        n = epochs_for(count, epochs)
        per = count * n
        runs[f"zoo exact {count}"] = lambda c=count, n=n, p=per: zoo_seconds(c, n, device, True) / p
        runs[f"zoo fast {count}"] = lambda c=count, n=n, p=per: zoo_seconds(c, n, device, False) / p
        runs[f"vmap {count}"] = lambda c=count, n=n, p=per: vmap_seconds(c, n, device) / p
    for count in (1, 4):  # warm-up: imports, probes, lazy initialisation
        zoo_seconds(count, 5, device, True), zoo_seconds(count, 5, device, False)
        vmap_seconds(count, 5, device)
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            seconds[name].append(run())
    report(seconds, limit)


def report(seconds: dict[str, list[float]], limit: float) -> None:
    loop = seconds["plain loop"]
    print()
    print("  microseconds per model-epoch (median)")
    header = ("K", "zoo exact", "zoo fast", "vmap", "plain loop", "limit")
    print("  {:>5} {:>10} {:>10} {:>10} {:>11} {:>7}".format(*header))
    for count in COUNTS:
        cells = [statistics.median(seconds[f"{m} {count}"]) * 1e6 for m in METHODS]
        print(
            f"  {count:>5} {cells[0]:>10.1f} {cells[1]:>10.1f} {cells[2]:>10.1f} "
            f"{statistics.median(loop) * 1e6:>11.1f} {limit:>7.1f}"
        )
    print()
    print("  speed-up over the plain loop (median of the ratios within a round)")
    print(f"  {'K':>5} {'zoo exact':>10} {'zoo fast':>10} {'vmap':>10}")
    for count in COUNTS:
        ratios = [
            statistics.median(a / b for a, b in zip(loop, seconds[f"{m} {count}"])) for m in METHODS
        ]
        print(f"  {count:>5} {ratios[0]:>9.2f}x {ratios[1]:>9.2f}x {ratios[2]:>9.2f}x")
    print()
    for method in ("zoo exact", "zoo fast"):
        per_member = [
            statistics.median(
                a / b for a, b in zip(seconds[f"{method} {k}"], seconds[f"{method} 10"])
            )
            for k in (100, 1000)
        ]
        print(
            f"  {method}: cost per model at K = 100 and 1000 against K = 10: "
            f"{per_member[0]:.2f} and {per_member[1]:.2f}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="1 round, 100 epochs")
    options = parser.parse_args()
    if options.quick:
        main(options.device, rounds=1, epochs=100)
    else:
        main(options.device, options.rounds)
