"""Reference rows from scikit-learn, fitted on exactly the split each zoo seed trains on.

Each is a ``Pipeline`` of the run's scaling and the estimator with its own library's usual
settings: the majority class (``DummyClassifier``: what "better than chance" means here),
logistic regression (a straight line), an RBF support-vector machine (the classic non-linear
tool), and, where the zoo model is a chain of Linear layers, ``MLPClassifier`` with its hidden
layers and activation, trained by scikit-learn's default (adam) for as many epochs as zoo
trains. A baseline that cannot be fitted is a row that says why, never a traceback.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from zoo.batched.batch_plan import batch_plan
from zoo.comparison.execute import JobResult
from zoo.comparison.plan import Job
from zoo.config.resolve import TrainConfig
from zoo.errors import describe_exception
from zoo.training.data import Split
from zoo.training.diagnosis import learned_nothing, majority_acc
from zoo.training.records import RunSummary

MAJORITY = "sklearn:majority-class"


@dataclass(frozen=True)
class Baseline:
    name: str
    make: Callable[[int], Any]  # seed -> an unfitted estimator


def baselines_for(config: TrainConfig, hidden: tuple[list[int], str] | None) -> list[Baseline]:
    """The majority class and the classic tools, plus an MLP like the zoo model when
    ``hidden`` describes it; each behind the run's scaling."""
    from sklearn.dummy import DummyClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.svm import SVC

    scaled = _scaled(config.scale)  # fitted on the rows it trains on, as zoo's
    found = [
        Baseline(MAJORITY, lambda seed: scaled(DummyClassifier(strategy="most_frequent"))),
        Baseline("sklearn:logistic-regression", lambda seed: scaled(LogisticRegression())),
        Baseline("sklearn:svm-rbf", lambda seed: scaled(SVC(random_state=seed))),
    ]
    if hidden is not None:
        sizes, activation = hidden
        options = {
            "hidden_layer_sizes": tuple(sizes),
            "activation": activation,
            "max_iter": config.epochs,  # an epoch is one pass over the data, as in zoo
        }
        label = ",".join(map(str, sizes)) or "-"
        found.append(
            Baseline(
                f"sklearn:mlp({label},{activation})",
                lambda seed: scaled(MLPClassifier(random_state=seed, **options)),
            )
        )
    return found


def _scaled(scale: str) -> Callable[[Any], Any]:
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler, StandardScaler

    scalers = {"standard": StandardScaler, "minmax": MinMaxScaler}
    if scale not in scalers:
        return lambda estimator: make_pipeline(estimator)
    return lambda estimator: make_pipeline(scalers[scale](), estimator)


def run_baselines(jobs: list[Job]) -> list[JobResult]:
    """scikit-learn's rows for each dataset: the classic tools once, an MLP per architecture,
    each seed fitted on the split that seed's zoo models train on."""
    results: list[JobResult] = []
    seen: set[tuple[str, str]] = set()
    for job in jobs:
        plan = batch_plan(job.experiment.build(job.config.seed))
        hidden = plan.hidden_layers() if plan is not None else None
        for baseline in baselines_for(job.config, hidden):
            if (baseline.name, job.dataset) in seen:
                continue
            seen.add((baseline.name, job.dataset))
            results.append(_fit_all(baseline, job))
    return results


def _fit_all(baseline: Baseline, job: Job) -> JobResult:
    """The baseline on every seed of ``job``; the first seed it fails on ends the row."""
    start = time.perf_counter()
    records = []
    for seed in job.seeds:
        experiment = job.experiment_for(seed)
        try:
            records.append(
                fit_baseline(baseline, experiment.split, job, seed, job.config_for(seed).seed)
            )
        except Exception as exc:  # scikit-learn's own refusal, in its own words
            reason = f"{describe_exception(exc)} (seed {seed})"
            seconds = time.perf_counter() - start
            return JobResult(job, [], [], [], False, seconds, 0, True, reason, baseline.name)
    seconds = time.perf_counter() - start
    features = job.experiment.split.features
    return JobResult(job, records, [[] for _ in records], [], False, seconds, features, True)


def fit_baseline(
    baseline: Baseline, split: Split, job: Job, seed: int, random_state: int
) -> RunSummary:
    """Fit on the training rows; accuracy (percent) and log-loss on every split (validation
    too, where there is one: the rows are ranked on it). ``seed`` is the comparison's (rows
    are paired on it), ``random_state`` the estimator's."""
    from sklearn.metrics import log_loss

    estimator = baseline.make(random_state)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: the epochs are the user's choice
        estimator.fit(split.X_train, split.y_train)
    seconds = time.perf_counter() - start
    scores: dict[str, Any] = {}
    parts = [("train", split.X_train, split.y_train), ("test", split.X_test, split.y_test)]
    if split.X_val is not None and split.y_val is not None:
        parts.append(("val", split.X_val, split.y_val))
    for part, X, y in parts:
        scores[f"{part}_acc"] = float(np.mean(estimator.predict(X) == y) * 100)
        scores[f"{part}_loss"] = None
        # No log-loss without probabilities, nor for a model that never saw every class.
        seen_all = len(estimator.classes_) == job.experiment.split.class_count
        if hasattr(estimator, "predict_proba") and seen_all:
            probabilities = estimator.predict_proba(X)
            scores[f"{part}_loss"] = float(log_loss(y, probabilities, labels=estimator.classes_))
    majority = majority_acc(split.y_test)
    return RunSummary(
        model=baseline.name,
        builds=None,
        dataset=job.dataset,  # the zoo rows' name for it (the file, for a CSV file)
        task=job.experiment.task.name,
        epochs=None,
        seconds=seconds,
        device="cpu",
        seed=seed,
        params=_parameter_count(estimator[-1]),
        status="completed",
        majority_acc=majority,
        learned_nothing=learned_nothing(scores["test_acc"], majority),
        **scores,
    )


def _parameter_count(estimator: Any) -> int | None:
    if hasattr(estimator, "coefs_"):
        return int(
            sum(w.size for w in estimator.coefs_) + sum(b.size for b in estimator.intercepts_)
        )
    if hasattr(estimator, "coef_"):
        return int(estimator.coef_.size + np.size(estimator.intercept_))
    return None  # an SVM's size is its support vectors, not a parameter count
