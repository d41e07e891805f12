"""What a training can say about itself when it fails: it learned nothing, or it diverged.

A model that always answers the most common class scores that class's share of the test
rows, whatever it learned. ``majority_acc`` is that share; a completed run whose test accuracy
is at most ``MARGIN`` points above it learned nothing, and says so in one line with the likely
cause. Raw features whose columns have very different scales are the most common cause on
real tables, for that and for a diverging loss alike, so both messages name it when it holds.
"""

from __future__ import annotations

from typing import Any

import numpy as np

MARGIN = 1.0  # percentage points above the majority rate that still count as nothing
SCALE_FIX = "--scale standard"  # how the command line and zoo.train scale features


def majority_acc(labels: np.ndarray) -> float:
    """The test accuracy (%) of always answering the most common of ``labels`` (encoded
    0..K-1), computed as :func:`zoo.training.tasks.accuracy` computes a model's."""
    counts = np.bincount(np.asarray(labels, dtype=np.int64))
    return float(counts.max()) / len(labels) * 100


def majority_class(labels: np.ndarray) -> int:
    """The most common of ``labels`` (the first of equals, as ``argmax`` picks)."""
    return int(np.bincount(np.asarray(labels, dtype=np.int64)).argmax())


def learned_nothing(test_acc: float, majority: float) -> bool:
    """Whether a test accuracy is no better than always answering the majority class."""
    return test_acc <= majority + MARGIN


def scale_note(X: np.ndarray) -> str | None:
    """Why these raw features want scaling before SGD, or None when they look scaled:
    columns whose spreads differ tenfold or more, or values far from 1 in size."""
    columns = np.asarray(X, dtype=np.float64)
    spread = columns.std(axis=0)
    moving = spread[spread > 0]
    if not moving.size:
        return None
    low, high, largest = moving.min(), moving.max(), float(np.abs(columns).max())
    if high / low >= 10:
        return f"its features' standard deviations run from {_number(low)} to {_number(high)}"
    if largest > 100:
        return f"its features reach {_number(largest)}"
    if high < 0.01:
        return f"its features' standard deviations are all below {_number(high)}"
    return None


def learned_nothing_message(
    model: str,
    dataset: str,
    test_acc: float,
    majority: float,
    answer: Any,
    note: str | None,
    epochs: int,
    lr: float,
) -> str:
    """One line: what the run scored, what a constant answer scores, and the likely why."""
    constant = f"always answering {_label(answer)}"
    if round(test_acc, 2) == round(majority, 2):
        scored = f"{test_acc:.2f}% is what {constant} scores"
    else:
        scored = f"{test_acc:.2f}% is no better than the {majority:.2f}% of {constant}"
    if note is not None:
        why = f"{note} (try {SCALE_FIX})"
    else:
        why = (
            f"the model may be too simple for this data, or need more than {epochs} "
            f"epoch{'s' * (epochs != 1)} or another lr than {lr:g}"
        )
    return f"{model} learned nothing on {dataset}: {scored}; {why}"


def divergence_message(epoch: int, lr: float, note: str | None, fix: str = SCALE_FIX) -> str:
    """Why a loss stopped being finite at ``epoch``, and what to try (``fix``: how the
    caller's user scales features, named when ``note`` says the features are unscaled)."""
    message = f"training diverged: the loss was not finite at epoch {epoch} with lr {lr:g}"
    if note is not None:
        return f"{message}; try a smaller learning rate, or scale the features ({fix}): {note}"
    return f"{message}; try a smaller learning rate"


def _label(answer: Any) -> str:
    return repr(answer) if isinstance(answer, str) else str(answer)


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 1000 else f"{value:.3g}"
