"""Verdicts in words: each row of a dataset against its best, from the paired statistics.

A row is called worse (or better) than the best only when the Holm-adjusted signed-rank
p-value is below 0.05 *and* the 95% interval of the mean difference leaves out zero: the test
says a difference is there, the interval says how large. Otherwise there is no clear
difference, and with fewer shared seeds than the test needs to reach p<0.05 at all, the
verdict says so and how many it would need (see :mod:`zoo.comparison.statistics`).

The scores compared are always test accuracies, paired by seed. With a validation split the
best row is the one with the best mean *validation* accuracy (chosen without looking at the
test rows); the verdicts then say how the other rows' test accuracies stand against the
chosen row's, so a row may well be "better than" it on test.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from zoo.comparison.statistics import (
    ALPHA,
    Interval,
    holm,
    paired_difference,
    probability_of_improvement,
    seeds_needed,
    signed_rank_p,
)

Scores = Mapping[int, float]  # seed -> test accuracy (%)


@dataclass(frozen=True)
class Versus:
    """One row against the best row of its dataset, over the seeds both trained.

    ``difference``: the mean of (row - best) in percentage points with its 95% bootstrap
    interval (negative: the row scores lower); ``p_improvement``: P(best > row), rliable's
    probability of improvement; ``p_value``: the two-sided Wilcoxon signed-rank p-value of the
    paired differences; ``p_holm``: that p-value Holm-adjusted over the dataset's rows.
    """

    against: str
    shared_seeds: int
    difference: Interval
    p_improvement: float
    p_value: float
    p_holm: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "against": self.against,
            "shared_seeds": self.shared_seeds,
            "difference": self.difference.to_dict(),
            "p_improvement": self.p_improvement,
            "p_value": self.p_value,
            "p_holm": self.p_holm,
        }


EMPTY = {
    "against": None,
    "shared_seeds": None,
    "difference": None,
    "p_improvement": None,
    "p_value": None,
    "p_holm": None,
}  # the keys of Versus.to_dict() for a row compared with nothing (the best, a failed row)


def against_best(best: str, best_scores: Scores, others: Sequence[Scores]) -> list[Versus]:
    """Each of ``others`` against ``best`` over their shared seeds, Holm-corrected together."""
    found = []
    for scores in others:
        shared = sorted(set(best_scores) & set(scores))
        row = [scores[s] for s in shared]
        top = [best_scores[s] for s in shared]
        difference = [a - b for a, b in zip(row, top)]
        found.append(
            Versus(
                best,
                len(shared),
                paired_difference(row, top) if shared else Interval(0.0, None, None, "none"),
                probability_of_improvement(top, row) if shared else 0.5,
                signed_rank_p(difference),
                1.0,
            )
        )
    tested = [k for k, v in enumerate(found) if v.shared_seeds]
    adjusted = holm([found[k].p_value for k in tested])
    for k, p in zip(tested, adjusted):
        found[k] = replace(found[k], p_holm=p)
    return found


def clear(versus: Versus) -> bool:
    """Whether the difference is clear: adjusted p below 0.05 and an interval without 0."""
    return versus.p_holm < ALPHA and versus.difference.excludes_zero()


def clearly_behind(versus: Versus) -> bool:
    return clear(versus) and versus.difference.estimate < 0


def row_verdict(versus: Versus, comparisons: int) -> str:
    """``worse than B by 51.0 pp [49.4, 52.5], p<0.001``, ``no clear difference from B
    (-0.2 pp [-0.6, 0.3])`` or ``too few seeds to tell (3; need 6 for p<0.05)``."""
    n, best, d = versus.shared_seeds, versus.against, versus.difference
    if n == 0:
        return f"no seed shared with {best}: nothing to compare"
    needed = seeds_needed(comparisons)
    if n < needed:
        family = f" over {comparisons} comparisons" if comparisons > 1 else ""
        return f"too few seeds to tell ({n}; need {needed} for p<0.05{family})"
    if clear(versus):
        assert d.low is not None and d.high is not None
        p = "p<0.001" if versus.p_holm < 0.001 else f"p={versus.p_holm:.3f}"
        if d.estimate < 0:
            return f"worse than {best} by {-d.estimate:.1f} pp [{-d.high:.1f}, {-d.low:.1f}], {p}"
        return f"better than {best} by {d.estimate:.1f} pp [{d.low:.1f}, {d.high:.1f}], {p}"
    why = ""
    if d.excludes_zero():  # the interval alone would say otherwise: the test's word decides
        family = f" over {comparisons} comparisons" if comparisons > 1 else ""
        why = f"; p={versus.p_holm:.3f}{family}"
    return f"no clear difference from {best} ({d.estimate:+.1f} pp {_bounds(d)}{why})"


def best_verdict(others: Sequence[tuple[str, Versus]], on_validation: bool = False) -> str:
    """The best row's verdict: ``best`` when it is clearly ahead of every other row on test;
    else which rows it is not clearly better than, or that no row had seeds enough to tell.
    ``on_validation``: the row was chosen by its validation accuracy."""
    if not others:
        return "only entry"
    unclear = [(label, versus) for label, versus in others if not clearly_behind(versus)]
    if not unclear:
        return "best"
    lead = "best on validation" if on_validation else "best mean"
    comparisons = sum(versus.shared_seeds > 0 for _, versus in others)
    needed = seeds_needed(comparisons)
    if all(0 < versus.shared_seeds < needed for _, versus in others):
        return f"{lead}; " + row_verdict(others[0][1], comparisons)
    return f"{lead}; not clearly better than " + ", ".join(label for label, _ in unclear)


def _bounds(interval: Interval) -> str:
    if interval.low is None or interval.high is None:
        return "[no interval: one seed]"
    return f"[{interval.low:.1f}, {interval.high:.1f}]"
