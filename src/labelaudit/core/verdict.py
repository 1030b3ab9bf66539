"""Class-pair verdicts: systematic confusion, individual errors, or clean.

Inputs are the expected joint ``C[j, i]`` (true j, given i) of the posterior: the expected
number of examples of true class j that carry label i. For every off-diagonal pair the
rate is ``C[j, i] / sum_i C[j, i]`` = P(given i | true j).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from labelaudit._typing import BoolArray, FloatArray

#: z of a two-sided 95% interval.
Z95 = 1.959963984540054
#: A pair with fewer expected errors than this has none worth reviewing.
MIN_EXPECTED = 0.5


@dataclass(frozen=True)
class PairStats:
    """Per-pair arrays of shape (K, K); the diagonal is not a pair and is ignored."""

    count: FloatArray
    n_true: FloatArray
    rate: FloatArray
    rate_low: FloatArray
    rate_high: FloatArray
    p_value: FloatArray
    background: float
    systematic: BoolArray
    clean: BoolArray


def wilson(count: FloatArray, n: FloatArray) -> tuple[FloatArray, FloatArray]:
    """95% Wilson score interval of the proportion ``count / n`` (``[0, 1]`` when n = 0)."""
    n_safe = np.maximum(n, 1e-12)
    p = np.clip(count / n_safe, 0.0, 1.0)
    denom = 1.0 + Z95**2 / n_safe
    mid = (p + Z95**2 / (2 * n_safe)) / denom
    half = Z95 * np.sqrt(p * (1 - p) / n_safe + Z95**2 / (4 * n_safe**2)) / denom
    low = np.where(n > 0, np.clip(mid - half, 0.0, 1.0), 0.0)
    high = np.where(n > 0, np.clip(mid + half, 0.0, 1.0), 1.0)
    return low, high


def background_rate(rate: FloatArray, count: FloatArray, n_true: FloatArray, cut: float) -> float:
    """Pooled rate of the off-diagonal pairs below ``cut``: the level of scattered noise."""
    off = ~np.eye(rate.shape[0], dtype=bool)
    weak = off & (rate < cut)
    pool = weak if n_true[weak].sum() > 0 else off
    return float(count[pool].sum() / max(n_true[pool].sum(), 1e-12))


def upper_tail(count: FloatArray, n: FloatArray, rate: float) -> FloatArray:
    """One-sided binomial p-value P(X >= count) for X ~ Binomial(n, rate), rounded counts."""
    from scipy.stats import binom

    trials = np.round(n).astype(np.int64)
    hits = np.minimum(np.round(count), trials)
    return np.asarray(binom.sf(hits - 1, trials, rate), dtype=np.float64)


def pair_stats(
    expected_joint: FloatArray, systematic_rate: float, background: float | None, alpha: float
) -> PairStats:
    """Rates, intervals and verdicts of every (true, given) pair.

    A pair is systematic when its rate is at least ``systematic_rate`` and its count is
    significantly above the background rate (one-sided binomial test at level ``alpha``,
    Bonferroni-corrected over the K(K-1) pairs); clean when it holds fewer than
    :data:`MIN_EXPECTED` expected errors; otherwise individual.
    """
    k = expected_joint.shape[0]
    n_true = np.repeat(expected_joint.sum(axis=1, keepdims=True), k, axis=1)
    rate = expected_joint / np.maximum(n_true, 1e-12)
    low, high = wilson(expected_joint, n_true)
    if background is None:
        background = background_rate(rate, expected_joint, n_true, systematic_rate)
    p_value = upper_tail(expected_joint, n_true, min(max(background, 1e-12), 1.0))
    off = ~np.eye(k, dtype=bool)
    systematic = off & (rate >= systematic_rate) & (p_value < alpha / max(1, k * (k - 1)))
    clean = off & ~systematic & (expected_joint < MIN_EXPECTED)
    return PairStats(
        expected_joint, n_true, rate, low, high, p_value, background, systematic, clean
    )
