"""Class-pair verdicts: intervals, the background rate and the systematic test."""

from __future__ import annotations

import numpy as np
from numpy.testing import assert_allclose

from labelaudit.core.verdict import background_rate, pair_stats, upper_tail, wilson


def test_wilson_interval_known_values():
    low, high = wilson(np.array([5.0, 0.0, 10.0]), np.array([10.0, 10.0, 10.0]))
    assert_allclose(low, [0.2366, 0.0, 0.7225], atol=1e-4)
    assert_allclose(high, [0.7634, 0.2775, 1.0], atol=1e-4)


def test_wilson_interval_without_examples_is_uninformative():
    low, high = wilson(np.array([0.0]), np.array([0.0]))
    assert (low, high) == (0.0, 1.0)


def test_upper_tail_is_the_binomial_survival():
    # P(X >= 3) for X ~ Binomial(4, 0.5) = 5/16
    assert_allclose(upper_tail(np.array([3.0]), np.array([4.0]), 0.5), [5 / 16])
    assert_allclose(upper_tail(np.array([0.0]), np.array([4.0]), 0.5), [1.0])


def test_upper_tail_equals_scipy_stats_binom_sf():
    """Computed from scipy.special (light to import), it equals scipy.stats' binomial
    survival function to the bit: fractional counts and trials as the expected joint gives
    them, no trials, no hits, every hit, rates from 1e-12 to 1."""
    from scipy.stats import binom

    rng = np.random.default_rng(0)
    n = np.concatenate([rng.random(5000) * 10 ** rng.integers(0, 6, 5000), [0.0, 0.4, 3.0, 7.0]])
    count = np.concatenate([n[:-4] * rng.random(5000) ** 4, [0.0, 0.3, 3.0, 0.0]])
    for rate in [1e-12, 1e-4, 0.01, 0.3, 0.999, 1.0]:
        trials = np.round(n).astype(np.int64)
        hits = np.minimum(np.round(count), trials)
        expected = binom.sf(hits - 1, trials, rate)
        np.testing.assert_array_equal(upper_tail(count, n, rate), expected)


def joint_with(k=4, n=1000, background=0.01, strong=((0, 1, 0.2),)):
    rates = np.full((k, k), background)
    for t, g, r in strong:
        rates[t, g] = r
    np.fill_diagonal(rates, 0.0)
    np.fill_diagonal(rates, 1.0 - rates.sum(axis=1))
    return rates * n


def test_background_ignores_the_strong_pairs():
    joint = joint_with(background=0.01, strong=((0, 1, 0.3), (2, 3, 0.2)))
    n_true = np.repeat(joint.sum(axis=1, keepdims=True), 4, axis=1)
    assert_allclose(background_rate(joint / n_true, joint, n_true, 0.10), 0.01)


def test_a_strong_pair_is_systematic_and_the_rest_individual():
    stats = pair_stats(joint_with(), 0.10, None, 0.05)
    expected = np.zeros((4, 4), dtype=bool)
    expected[0, 1] = True
    np.testing.assert_array_equal(stats.systematic, expected)
    assert not stats.clean.any()  # 10 expected errors per background pair
    assert_allclose(stats.rate[0, 1], 0.2)
    assert stats.rate_low[0, 1] < 0.2 < stats.rate_high[0, 1]


def test_a_high_rate_on_few_examples_is_not_significant():
    joint = joint_with(n=20, background=0.05, strong=((0, 1, 0.15),))
    assert not pair_stats(joint, 0.10, None, 0.05).systematic.any()


def test_a_rate_below_the_cut_is_never_systematic():
    joint = joint_with(n=100_000, background=0.001, strong=((0, 1, 0.08),))
    stats = pair_stats(joint, 0.10, None, 0.05)
    assert not stats.systematic.any()
    assert pair_stats(joint, 0.05, None, 0.05).systematic[0, 1]


def test_pairs_without_expected_errors_are_clean():
    joint = joint_with(n=1000, background=0.0001)
    stats = pair_stats(joint, 0.10, None, 0.05)
    off = ~np.eye(4, dtype=bool)
    assert stats.clean[off & ~stats.systematic].all()
    assert not stats.clean[np.eye(4, dtype=bool)].any()


def test_an_explicit_background_is_used():
    joint = joint_with(background=0.01, strong=((0, 1, 0.12),))
    assert pair_stats(joint, 0.10, None, 0.05).systematic[0, 1]
    assert not pair_stats(joint, 0.10, 0.11, 0.05).systematic[0, 1]
