"""The statistics behind zoo compare's verdicts, against cases whose answer is known and
against scipy where it computes the same thing."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import zoo
from zoo.comparison.statistics import (
    RESAMPLING_SEED,
    holm,
    interquartile_mean,
    paired_difference,
    probability_of_improvement,
    seeds_needed,
    signed_rank_p,
)
from zoo.comparison.verdicts import against_best, best_verdict, row_verdict


@pytest.mark.slow
def test_the_interval_covers_a_known_shift_about_95_times_in_100():
    # 50 pairs: a bootstrap interval reaches its nominal coverage only with enough of them
    # (measured: 92% at 30 pairs, 95% at 50; the t-interval's, 95% at 30).
    rng = np.random.default_rng(7)
    shift, covered = -2.0, 0
    for _ in range(100):
        best = rng.normal(90.0, 3.0, 50)
        row = best + shift + rng.normal(0.0, 1.5, 50)  # the pairs differ by -2 pp on average
        interval = paired_difference(row, best)
        covered += interval.low <= shift <= interval.high
    # A 95% interval: 88-99 of 100 is what a binomial test at the 1% level accepts.
    assert 88 <= covered <= 99
    assert stats.binomtest(covered, 100, 0.95).pvalue > 0.01


def test_a_clear_shift_is_called_worse_with_its_size_and_p_value():
    rng = np.random.default_rng(3)
    best = rng.normal(90.0, 1.0, 12)
    row = best - 5.0 + rng.normal(0.0, 0.5, 12)
    (versus,) = against_best("b", dict(enumerate(best)), [dict(enumerate(row))])
    assert versus.difference.high < 0 and versus.p_improvement > 0.95
    assert versus.p_value == pytest.approx(stats.wilcoxon(row - best, method="exact").pvalue)
    d = versus.difference
    assert row_verdict(versus, 1) == (
        f"worse than b by {-d.estimate:.1f} pp [{-d.high:.1f}, {-d.low:.1f}], p<0.001"
    )


def test_identical_score_lists_claim_no_difference():
    scores = {seed: 90.0 + seed % 3 for seed in range(10)}
    (versus,) = against_best("b", scores, [dict(scores)])
    assert versus.difference.to_dict() == {
        "estimate": 0.0,
        "low": 0.0,
        "high": 0.0,
        "method": "constant",
    }
    assert versus.p_value == 1.0 and versus.p_holm == 1.0
    assert versus.p_improvement == 0.5
    assert row_verdict(versus, 1) == "no clear difference from b (+0.0 pp [0.0, 0.0])"
    assert best_verdict([("row", versus)]) == "best mean; not clearly better than row"


def test_too_few_seeds_says_how_many_the_test_needs():
    best = dict.fromkeys(range(3), 99.0)
    row = dict.fromkeys(range(3), 50.0)
    (versus,) = against_best("circle-v2", best, [row])
    assert row_verdict(versus, 1) == "too few seeds to tell (3; need 6 for p<0.05)"
    assert row_verdict(versus, 3) == (
        "too few seeds to tell (3; need 7 for p<0.05 over 3 comparisons)"
    )


@pytest.mark.parametrize(("comparisons", "expected"), [(1, 6), (2, 7), (3, 7), (6, 8)])
def test_seeds_needed_is_the_fewest_with_which_scipys_exact_test_can_reach_0_05(
    comparisons, expected
):
    def smallest_p(n: int) -> float:  # every difference on one side: the most extreme case
        return float(stats.wilcoxon(np.arange(1.0, n + 1), method="exact").pvalue)

    needed = seeds_needed(comparisons)
    assert needed == expected
    assert comparisons * smallest_p(needed) < 0.05 <= comparisons * smallest_p(needed - 1)


def test_the_signed_rank_p_value_is_scipys_exact_one_without_ties():
    rng = np.random.default_rng(11)
    for n in (1, 4, 6, 15, 40):
        d = rng.normal(0.5, 1.0, n)
        assert signed_rank_p(d) == pytest.approx(stats.wilcoxon(d, method="exact").pvalue)


@pytest.mark.parametrize(
    "d",
    [
        [0.0, 0.0, 0.5, 0.5, 1.0, 0.5, 0.0, 1.5, 0.5, -0.5],  # zeros and ties
        [1.0, 1.0, 1.0, -1.0, 2.0, 2.0, 0.0],
        [-0.5, -0.5, -0.5, -0.5, -0.5, -0.5, 0.0, 0.0],
        [3.0, -3.0, 3.0, -3.0],
    ],
)
def test_with_ties_and_zeros_the_p_value_is_scipys_exhaustive_permutation_one(d):
    reference = stats.wilcoxon(d, zero_method="pratt", method=stats.PermutationMethod())
    assert signed_rank_p(d) == pytest.approx(reference.pvalue)


def test_all_zero_differences_give_p_1():
    assert signed_rank_p([0.0] * 8) == 1.0


def test_the_probability_of_improvement_is_mann_whitneys_u_over_the_pairs():
    best, row = [99.0, 99.5, 100.0, 99.5], [99.5, 98.0, 99.5, 97.0, 100.0]
    u = stats.mannwhitneyu(best, row).statistic
    assert probability_of_improvement(best, row) == u / (len(best) * len(row))
    assert probability_of_improvement([1.0, 2.0], [1.0, 2.0]) == 0.5  # ties count half


def test_the_iqm_is_scipys_trimmed_mean_with_a_bootstrap_interval():
    values = [52.0, 98.5, 99.0, 99.0, 99.5, 99.5, 100.0, 100.0, 100.0, 64.5]
    iqm = interquartile_mean(values)
    assert iqm.estimate == pytest.approx(stats.trim_mean(values, 0.25))
    assert iqm.low <= iqm.estimate <= iqm.high
    assert iqm.estimate == 99.25 > np.mean(values)  # two collapsed seeds do not drag it down
    single = interquartile_mean([97.5])
    assert (single.low, single.high, single.method) == (None, None, "none")


def test_the_paired_interval_is_scipys_bootstrap_of_the_differences_with_a_fixed_seed():
    rng = np.random.default_rng(5)
    best = rng.normal(95.0, 2.0, 20)
    row = rng.normal(93.0, 2.0, 20)
    reference = stats.bootstrap(
        (row - best,), np.mean, n_resamples=9999, rng=np.random.default_rng(RESAMPLING_SEED)
    ).confidence_interval
    interval = paired_difference(row, best)
    assert (interval.low, interval.high) == pytest.approx((reference.low, reference.high))
    assert interval.method == "BCa"
    assert paired_difference(row, best) == interval  # the same numbers on every run


def test_holm_adjusts_a_textbook_family():
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.9]) == [1.0, 1.0]  # never above 1, never below an earlier step
    assert holm([0.02, 0.3]) == pytest.approx([0.04, 0.3])
    assert holm([]) == []


@pytest.mark.slow
def test_the_lessons_linear_model_is_clearly_worse_over_ten_seeds():
    comparison = zoo.compare(["circle-v0", "circle-v2"], seeds=10)
    best, linear = comparison.summary
    assert best["model"] == "circle-v2" and best["verdict"] == "best"
    assert linear["p_holm"] == 2 / 2**10  # every seed of v2 beat its pair: the exact minimum
    assert linear["p_improvement"] == 1.0
    assert linear["difference"]["high"] < -45
    d = linear["difference"]
    assert linear["verdict"] == (
        f"worse than circle-v2 by {-d['estimate']:.1f} pp "
        f"[{-d['high']:.1f}, {-d['low']:.1f}], p=0.002; "
        f"learned nothing on {linear['learned_nothing']} of 10 seeds"
    )
