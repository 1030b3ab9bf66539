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
    """Per-cell arrays: (K, K) for the class pairs of single-label data (the diagonal is
    not a pair and is ignored), (K, 2) for the missing and spurious tags of each class of
    multi-label data (:func:`labelaudit.core.multilabel.tag_noise`)."""

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


def background_rate(
    rate: FloatArray,
    count: FloatArray,
    n_true: FloatArray,
    cut: float,
    cells: BoolArray | None = None,
) -> float:
    """Pooled rate of the ``cells`` (by default the off-diagonal pairs) below ``cut``: the
    level of scattered noise."""
    if cells is None:
        cells = ~np.eye(rate.shape[0], dtype=bool)
    weak = cells & (rate < cut)
    pool = weak if n_true[weak].sum() > 0 else cells
    return float(count[pool].sum() / max(n_true[pool].sum(), 1e-12))


def upper_tail(count: FloatArray, n: FloatArray, rate: float) -> FloatArray:
    """One-sided binomial p-value P(X >= count) for X ~ Binomial(n, rate), rounded counts.

    It is the regularized incomplete beta function ``I_rate(count, n - count + 1)`` (1 for
    a count of 0), which is how ``scipy.stats.binom.sf`` computes it (equal to the bit);
    scipy.special loads in a fraction of scipy.stats' third of a second."""
    from scipy.special import betainc

    trials = np.round(n).astype(np.int64)
    hits = np.minimum(np.round(count), trials)
    tail = betainc(np.maximum(hits, 1.0), np.maximum(trials - hits + 1.0, 1.0), rate)
    return np.where(hits > 0, tail, 1.0).astype(np.float64)


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
    off = ~np.eye(k, dtype=bool)
    return judge(expected_joint, n_true, off, systematic_rate, background, alpha)


def judge(
    count: FloatArray,
    n: FloatArray,
    cells: BoolArray,
    systematic_rate: float,
    background: float | None,
    alpha: float,
) -> PairStats:
    """Rates ``count / n``, their intervals and the verdicts of the ``cells`` (the others
    are neither systematic nor clean): systematic at a rate of at least
    ``systematic_rate`` and a count significantly above the background (one-sided
    binomial test at level ``alpha``, Bonferroni-corrected over the cells); clean below
    :data:`MIN_EXPECTED` expected errors; otherwise individual. ``background=None``
    pools the cells below ``systematic_rate``."""
    rate = count / np.maximum(n, 1e-12)
    low, high = wilson(count, n)
    if background is None:
        background = background_rate(rate, count, n, systematic_rate, cells)
    p_value = upper_tail(count, n, min(max(background, 1e-12), 1.0))
    tests = max(1, int(cells.sum()))
    systematic = cells & (rate >= systematic_rate) & (p_value < alpha / tests)
    clean = cells & ~systematic & (count < MIN_EXPECTED)
    return PairStats(count, n, rate, low, high, p_value, background, systematic, clean)
