"""Multi-label data as one binary problem per class, and per-class scores combined into
one score per example."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from labelaudit._typing import BoolArray, FloatArray, IntArray
from labelaudit.core.verdict import MIN_EXPECTED, upper_tail, wilson


def binary_problem(tags: BoolArray, p: FloatArray) -> tuple[IntArray, FloatArray]:
    """One class's one-vs-rest problem: label 1 where the class is tagged, and pred_probs
    ``[1 - p, p]`` (C-ordered, in p's dtype) from the class's probability ``p``."""
    probs = np.empty((p.shape[0], 2), dtype=p.dtype)
    np.subtract(1, p, out=probs[:, 0])
    probs[:, 1] = p
    return tags.astype(np.int64), probs


def exponential_moving_average(scores: FloatArray, alpha: float) -> FloatArray:
    """Each row's scores from the largest to the smallest, each step weighing the next
    score by ``alpha`` and the average so far by ``1 - alpha``: with ``alpha`` near 1 the
    result is near the row's smallest score, its worst class."""
    ordered = np.sort(scores, axis=1)[:, ::-1]
    average = ordered[:, 0]
    for column in ordered[:, 1:].T:
        average = alpha * column + (1 - alpha) * average
    return average


def softmin(scores: FloatArray, temperature: float) -> FloatArray:
    """Each row's scores weighted by the softmax of ``(1 - score) / temperature``: a smooth
    minimum, the lower the temperature the closer to it."""
    logits = (1 - scores) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    weights = np.exp(logits)
    weights /= weights.sum(axis=1, keepdims=True)
    result: FloatArray = np.einsum("ij,ij->i", scores, weights)
    return result


def worst(scores: FloatArray) -> FloatArray:
    """Each row's smallest score."""
    result: FloatArray = scores.min(axis=1)
    return result


#: How per-class scores become one score per example, by name; each takes the (N, K)
#: scores and the aggregator's parameter (``alpha``, ``temperature``, or none).
AGGREGATORS: dict[str, Callable[[FloatArray, float], FloatArray]] = {
    "exponential_moving_average": exponential_moving_average,
    "softmin": softmin,
    "min": lambda scores, _: worst(scores),
}


@dataclass(frozen=True)
class TagNoise:
    """Per-class noise of the tags, arrays of shape (K, 2): column 0 the tags missing (the
    class applies, not tagged), column 1 the spurious ones (tagged, does not apply)."""

    count: FloatArray
    """Expected number of such wrong tags: the sum of their probabilities of being wrong."""
    n: FloatArray
    """Expected number of examples the class applies to (column 0) or not (column 1)."""
    rate: FloatArray
    """``count / n``: P(not tagged | applies) and P(tagged | does not apply)."""
    low: FloatArray
    high: FloatArray
    p_value: FloatArray
    """One-sided binomial test of the count against the background rate."""
    background: float
    """Pooled rate of the directions below the systematic rate: the level of slips."""
    systematic: BoolArray
    clean: BoolArray


def tag_noise(
    tags: BoolArray, p_wrong: FloatArray, systematic_rate: float, alpha: float
) -> TagNoise:
    """Rates, intervals and verdicts of each class's missing and spurious tags, from every
    tag's probability of being wrong, with the rule of the class pairs of single-label
    data (:func:`labelaudit.core.verdict.pair_stats`): systematic when the rate is at
    least ``systematic_rate`` and the count significantly above the background
    (Bonferroni over the 2K directions); clean below :data:`MIN_EXPECTED` expected
    errors; otherwise individual slips."""
    applies = np.where(tags, 1 - p_wrong, p_wrong).sum(axis=0)
    count = np.column_stack(
        [np.where(tags, 0.0, p_wrong).sum(axis=0), np.where(tags, p_wrong, 0.0).sum(axis=0)]
    )
    n = np.column_stack([applies, tags.shape[0] - applies])
    rate = count / np.maximum(n, 1e-12)
    low, high = wilson(count, n)
    weak = rate < systematic_rate
    pool = weak if n[weak].sum() > 0 else np.ones_like(weak)
    background = float(count[pool].sum() / max(n[pool].sum(), 1e-12))
    p_value = upper_tail(count, n, min(max(background, 1e-12), 1.0))
    systematic = (rate >= systematic_rate) & (p_value < alpha / count.size)
    clean = ~systematic & (count < MIN_EXPECTED)
    return TagNoise(count, n, rate, low, high, p_value, background, systematic, clean)
