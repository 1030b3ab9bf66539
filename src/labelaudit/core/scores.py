"""Label quality scores: one number per example, lower = more likely mislabeled."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from labelaudit._typing import FloatArray, IntArray
from labelaudit.core._chunks import read_only, row_slices
from labelaudit.core.thresholds import self_confidence

#: Floor applied before dividing by, or taking the log of, a probability.
PROB_FLOOR = 1e-6

Scorer = Callable[[IntArray, FloatArray], FloatArray]


def normalized_margin(labels: IntArray, pred_probs: FloatArray) -> FloatArray:
    """``(P(label) - max_{j != label} P(j) + 1) / 2``, in [0, 1]."""
    n, k = pred_probs.shape
    out = np.empty(n, dtype=pred_probs.dtype)
    for rows in row_slices(n, k, pred_probs.itemsize):
        chunk = pred_probs[rows].copy()
        r = np.arange(chunk.shape[0])
        own = chunk[r, labels[rows]].copy()
        chunk[r, labels[rows]] = -np.inf
        out[rows] = (own - chunk.max(axis=1) + 1) / 2
    return out


def normalized_entropy(pred_probs: FloatArray) -> FloatArray:
    """Entropy of each row divided by log(K), in [0, 1]."""
    n, k = pred_probs.shape
    out = np.empty(n, dtype=np.float64)
    for rows in row_slices(n, k, pred_probs.itemsize):
        p = pred_probs[rows].astype(np.float64)
        plogp = p * np.log(np.where(p > 0, p, 1.0))
        out[rows] = -plogp.sum(axis=1) / np.log(k)
    return out


def weigh_entropy(entropy: FloatArray, self_conf: FloatArray) -> FloatArray:
    """``log(1 + h / s) / max(h / s, floor)`` with h the normalized entropy and s the
    self-confidence (floored): high for confident, low-entropy predictions of the label."""
    ratio = entropy / np.clip(self_conf, PROB_FLOOR, None)
    weighed: FloatArray = np.log(ratio + 1) / np.clip(ratio, PROB_FLOOR, None)
    return weighed


def confidence_weighted_entropy(labels: IntArray, pred_probs: FloatArray) -> FloatArray:
    """:func:`weigh_entropy` of each row's normalized entropy and self-confidence."""
    return weigh_entropy(normalized_entropy(pred_probs), self_confidence(labels, pred_probs))


SCORERS: dict[str, Scorer] = {
    "self_confidence": self_confidence,
    "normalized_margin": normalized_margin,
    "confidence_weighted_entropy": confidence_weighted_entropy,
}


def adjusted_score(
    scorer: Scorer, labels: IntArray, pred_probs: FloatArray, thresholds: FloatArray
) -> FloatArray:
    """Score probabilities shifted by the class thresholds: ``p - t + max(t)``, renormalized
    (float64 scores).

    This removes the bias of a model that is over-confident in some classes. Done in row
    chunks, so the adjusted N x K array never exists whole.
    """
    n, k = pred_probs.shape
    shift = thresholds.max()
    out = np.empty(n, dtype=np.float64)
    for rows in row_slices(n, k, pred_probs.itemsize):
        adjusted = pred_probs[rows] - thresholds
        adjusted += shift
        adjusted /= adjusted.sum(axis=1, keepdims=True)
        out[rows] = scorer(labels[rows], read_only(adjusted))
    return out
