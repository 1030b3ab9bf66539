"""Multi-label data as one binary problem per class, and per-class scores combined into
one score per example."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from labelaudit._typing import BoolArray, FloatArray, IntArray
from labelaudit.core.verdict import PairStats, judge


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
    from scipy.special import softmax

    weights = softmax((1 - scores) / temperature, axis=1)
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


def tag_noise(
    tags: BoolArray, p_wrong: FloatArray, systematic_rate: float, alpha: float
) -> PairStats:
    """Rates, intervals and verdicts of each class's missing (column 0: the class applies,
    not tagged) and spurious tags (column 1: tagged, does not apply), arrays of shape
    (K, 2), from every tag's probability of being wrong, by the rule of the class pairs
    of single-label data (:func:`labelaudit.core.verdict.judge`, Bonferroni over the 2K
    directions). ``count`` is the expected number of such wrong tags, ``n_true`` the
    expected number of examples the class applies to (column 0) or not (column 1)."""
    applies = np.where(tags, 1 - p_wrong, p_wrong).sum(axis=0)
    count = np.column_stack(
        [np.where(tags, 0.0, p_wrong).sum(axis=0), np.where(tags, p_wrong, 0.0).sum(axis=0)]
    )
    n = np.column_stack([applies, tags.shape[0] - applies])
    return judge(count, n, np.ones(count.shape, dtype=bool), systematic_rate, None, alpha)
