"""Reference rows from scikit-learn, fitted on exactly the split the zoo models train on,
its features scaled as theirs are.

Logistic regression (a straight line), an RBF support-vector machine (the classic non-linear
tool), and ``MLPClassifier`` with the zoo model's hidden layers, activation and optimizer
settings where the model is such a chain: does the network beat the classic tools?
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from zoo.batched.plan import batch_plan
from zoo.comparison.execute import JobResult
from zoo.comparison.plan import Job
from zoo.config.resolve import TrainConfig
from zoo.training.data import Split
from zoo.training.diagnosis import learned_nothing, majority_acc
from zoo.training.records import RunSummary
from zoo.training.scaling import Scaling


@dataclass(frozen=True)
class Baseline:
    name: str
    make: Callable[[int], Any]  # seed -> an unfitted estimator


def baselines_for(
    config: TrainConfig, hidden: tuple[list[int], str] | None, rows: int
) -> list[Baseline]:
    """The classic tools, plus an MLP like the zoo model when ``hidden`` describes it."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.svm import SVC

    found = [
        Baseline("sklearn:logistic-regression", lambda seed: LogisticRegression(max_iter=1000)),
        Baseline(
            "sklearn:svm-rbf", lambda seed: SVC(kernel="rbf", probability=False, random_state=seed)
        ),
    ]
    if hidden is not None and config.optimizer in ("sgd", "adam"):
        sizes, activation = hidden
        batch = rows if config.batch_size == "full" else int(config.batch_size)
        options: dict[str, Any] = {
            "hidden_layer_sizes": tuple(sizes),
            "activation": activation,
            "solver": config.optimizer,
            "learning_rate_init": config.lr,
            "batch_size": batch,
            "max_iter": config.epochs,
            "alpha": config.weight_decay,
            "tol": 0.0,
            "n_iter_no_change": config.epochs + 1,  # run every epoch, as the zoo model does
            "shuffle": batch < rows,
        }
        if config.optimizer == "sgd":
            options |= {
                "momentum": config.momentum,
                "nesterovs_momentum": False,
                "learning_rate": "constant",
            }
        label = ",".join(map(str, sizes)) or "-"
        found.append(
            Baseline(
                f"sklearn:mlp({label},{activation})",
                lambda seed: MLPClassifier(random_state=seed, **options),
            )
        )
    return found


def run_baselines(jobs: list[Job]) -> list[JobResult]:
    """scikit-learn's rows for each dataset: the classic tools once, an MLP per architecture."""
    results: list[JobResult] = []
    seen: set[tuple[str, str]] = set()
    for job in jobs:
        experiment = job.experiment
        plan = batch_plan(experiment.build(job.config.seed))
        hidden = plan.hidden_layers() if plan is not None else None
        split = _as_seen(experiment.split, experiment.scaling, job.dataset)
        for baseline in baselines_for(job.config, hidden, len(split.X_train)):
            if (baseline.name, job.dataset) in seen:
                continue
            seen.add((baseline.name, job.dataset))
            start = time.perf_counter()
            records = [
                fit_baseline(baseline, split, seed, experiment.task.name) for seed in job.seeds
            ]
            seconds = time.perf_counter() - start
            histories: list[list[Any]] = [[] for _ in records]
            results.append(
                JobResult(job, records, histories, [], False, seconds, split.features, True)
            )
    return results


def fit_baseline(baseline: Baseline, split: Split, seed: int, task: str) -> RunSummary:
    """Fit on the training split; accuracy (percent) and log-loss on both splits."""
    from sklearn.metrics import log_loss

    estimator = baseline.make(seed)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: the epochs are the user's choice
        estimator.fit(split.X_train, split.y_train)
    seconds = time.perf_counter() - start
    scores: dict[str, Any] = {}
    for part, X, y in (
        ("train", split.X_train, split.y_train),
        ("test", split.X_test, split.y_test),
    ):
        scores[f"{part}_acc"] = float(np.mean(estimator.predict(X) == y) * 100)
        scores[f"{part}_loss"] = None
        if hasattr(estimator, "predict_proba"):
            probabilities = estimator.predict_proba(X)
            scores[f"{part}_loss"] = float(log_loss(y, probabilities, labels=estimator.classes_))
    majority = majority_acc(split.y_test)
    return RunSummary(
        model=baseline.name,
        builds=None,
        dataset=split.name,
        task=task,
        epochs=None,
        seconds=seconds,
        device="cpu",
        seed=seed,
        params=_parameter_count(estimator),
        status="completed",
        majority_acc=majority,
        learned_nothing=learned_nothing(scores["test_acc"], majority),
        **scores,
    )


def _as_seen(split: Split, scaling: Scaling, dataset: str) -> Split:
    """The split as the zoo model sees it: its features scaled (fitted on its train rows), and
    named as the comparison names the dataset (a CSV file's path, not 'csv')."""
    X_train, X_test = scaling.apply(split.X_train), scaling.apply(split.X_test)
    return replace(split, name=dataset, X_train=X_train, X_test=X_test)


def _parameter_count(estimator: Any) -> int | None:
    if hasattr(estimator, "coefs_"):
        return int(
            sum(w.size for w in estimator.coefs_) + sum(b.size for b in estimator.intercepts_)
        )
    if hasattr(estimator, "coef_"):
        return int(estimator.coef_.size + np.size(estimator.intercept_))
    return None  # an SVM's size is its support vectors, not a parameter count
