"""Benchmark 3: the same network trained by scikit-learn and by zoo.

Ten seeds of a 2 -> 10 -> 10 -> 1 ReLU network, full batch, plain SGD at lr 0.1 for 1000
epochs: MLPClassifier(solver="sgd", batch_size=800, learning_rate_init=0.1, momentum=0,
max_iter=1000) against `zoo compare circle-v2 --seeds 10 --momentum 0`. Ratio of training
seconds, and the test accuracy of each. (scikit-learn keeps its defaults otherwise: an L2
penalty of 1e-4, and it stops early once the loss stalls; a second run makes it train all
1000 epochs, the same work as zoo's.)

    .venv/bin/python benchmarks/against_sklearn.py
"""

from __future__ import annotations

import statistics
import time
import warnings

import numpy as np
from common import circles, machine
from sklearn.neural_network import MLPClassifier

import zoo

SEEDS = range(42, 52)


def sklearn_runs(data: tuple, every_epoch: bool = False) -> tuple[float, list[float], list[int]]:
    X_train, y_train, X_test, y_test = (t.numpy() for t in data)
    accuracies, iterations = [], []
    no_early_stop = {"tol": 0.0, "n_iter_no_change": 1001} if every_epoch else {}
    start = time.perf_counter()
    for seed in SEEDS:
        model = MLPClassifier(
            hidden_layer_sizes=(10, 10),
            activation="relu",
            solver="sgd",
            batch_size=800,
            learning_rate_init=0.1,
            momentum=0,
            max_iter=1000,
            random_state=seed,
            **no_early_stop,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning
            model.fit(X_train, y_train)
        accuracies.append(float(np.mean(model.predict(X_test) == y_test) * 100))
        iterations.append(model.n_iter_)
    return time.perf_counter() - start, accuracies, iterations


def zoo_runs(momentum: float) -> tuple[float, list[float]]:
    start = time.perf_counter()
    comparison = zoo.compare(["circle-v2"], seeds=len(SEEDS), epochs=1000, momentum=momentum)
    return time.perf_counter() - start, [r["test_acc"] for r in comparison.results]


def main() -> None:
    data = circles()
    zoo_runs(0.0)  # warm-up: imports and first-call costs on both sides
    sklearn_runs(data)
    theirs, their_acc, iterations = sklearn_runs(data)
    full, full_acc, _ = sklearn_runs(data, every_epoch=True)
    ours, our_acc = zoo_runs(0.0)
    tuned, tuned_acc = zoo_runs(0.9)
    print(f"machine: {machine()}")
    print("2 -> 10 -> 10 -> 1 ReLU, full batch, SGD lr 0.1, 1000 epochs, seeds 42-51")
    print(
        f"  scikit-learn, as specified     {theirs:6.2f} s   test acc {_spread(their_acc)}"
        f"   (stopped early: {min(iterations)}-{max(iterations)} epochs)"
    )
    print(f"  scikit-learn, all 1000 epochs  {full:6.2f} s   test acc {_spread(full_acc)}")
    print(f"  zoo compare, momentum 0        {ours:6.2f} s   test acc {_spread(our_acc)}")
    print(
        f"  zoo compare, momentum 0.9      {tuned:6.2f} s   test acc {_spread(tuned_acc)}"
        "   (zoo's default for circle-v2)"
    )
    print(f"  speed-up over scikit-learn, the same 1000 epochs: {full / ours:.2f}x")


def _spread(values: list[float]) -> str:
    return f"{statistics.fmean(values):5.1f}% mean ({min(values):.1f}-{max(values):.1f})"


if __name__ == "__main__":
    main()
