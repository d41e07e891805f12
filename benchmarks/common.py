"""Shared by the benchmarks: the machine, a hand-written lesson loop, and fair timing.

Timings on a shared machine drift by tens of percent from minute to minute, so every benchmark
runs zoo and its baseline in the same process, interleaved, several times, and reports the
median of each and their ratio.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import torch
from sklearn.datasets import make_circles
from sklearn.model_selection import train_test_split
from torch import nn
from zoo_plugins.circle_models import CircleModelV2

# zoo trains on one CPU thread unless told otherwise (its `threads` setting): the hand-written
# baselines get the same, so that the comparison measures code, not threading.
torch.set_num_threads(1)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if "model name" in line)
    except (OSError, StopIteration):
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"torch {torch.__version__}, {torch.get_num_threads()} torch threads"
    )


def circles() -> tuple[torch.Tensor, ...]:
    """The lesson's data and split, made as the lesson makes them."""
    X, y = make_circles(n_samples=1000, noise=0.03, random_state=42)
    X = torch.from_numpy(X).type(torch.float)
    y = torch.from_numpy(y).type(torch.float)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=42)
    return X_train, y_train, X_test, y_test


def lesson_loop(
    data: tuple[torch.Tensor, ...],
    seed: int,
    epochs: int,
    momentum: float,
    log_every: int,
    foreach: bool | None = None,
    device: str = "cpu",
    every_epoch: bool = False,
) -> tuple[float, float]:
    """The lesson's loop, written by hand: (training seconds, final test accuracy).

    Full batch, BCEWithLogitsLoss, SGD at lr 0.1; train and test evaluated in eval mode under
    inference_mode at epoch 0, every ``log_every`` epochs and at the end, as zoo's trainer does.
    ``foreach``: torch's SGD as it chooses (None, as the lesson writes it) or told to use its
    foreach kernels (True: the faster on this project's CPU).
    ``every_epoch``: also keep each epoch's loss and the accuracy of its logits, as the lesson
    computes them in its loop (and zoo records them, for its curves).
    """
    X_train, y_train, X_test, y_test = (t.to(device) for t in data)
    torch.manual_seed(seed)
    model = CircleModelV2().to(device)
    loss_fn = nn.BCEWithLogitsLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=momentum, foreach=foreach)

    def evaluate() -> float:
        model.eval()
        with torch.inference_mode():
            for X, y in ((X_train, y_train), (X_test, y_test)):
                logits = model(X).squeeze(1)
                loss_fn(logits, y).item()
                accuracy = (
                    torch.eq(torch.round(torch.sigmoid(logits)), y).sum().item() / len(y) * 100
                )
        model.train()
        return accuracy

    evaluate()
    curve: list[tuple[float, float]] = []
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        logits = model(X_train).squeeze(1)
        loss = loss_fn(logits, y_train)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if every_epoch:  # the lesson's acc = accuracy_fn(y_train, round(sigmoid(logits)))
            right = torch.eq(torch.round(torch.sigmoid(logits.detach())), y_train).sum().item()
            curve.append((loss.item(), right / len(y_train) * 100))
        if epoch % log_every == 0 or epoch == epochs:
            accuracy = evaluate()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return time.perf_counter() - start, accuracy


def interleaved(
    runs: dict[str, Callable[[], float]], repeats: int, warm_up: bool = True
) -> dict[str, list[float]]:
    """Each run's seconds, ``repeats`` times, in alternating order after one warm-up each."""
    for run in runs.values() if warm_up else ():
        run()
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    for repeat in range(repeats):
        order = list(runs) if repeat % 2 == 0 else list(reversed(runs))
        for name in order:
            seconds[name].append(runs[name]())
    return seconds


def median(values: list[float]) -> float:
    return statistics.median(values)


def paired_ratio(numerator: list[float], denominator: list[float]) -> float:
    """Median of the ratios of runs made side by side: robust to the machine's drift."""
    return statistics.median(a / b for a, b in zip(numerator, denominator))


def fresh_process(args: list[str], cwd: str | None = None) -> float:
    """Seconds for ``python *args`` in a new process, start to exit."""
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], check=True, capture_output=True, cwd=cwd)
    return time.perf_counter() - start
