"""Public scoring: label quality scores for one model or an ensemble of models."""

from __future__ import annotations

from typing import Any

import numpy as np

from labelaudit._typing import FloatArray, IntArray, LabelsLike, ScoreMethod
from labelaudit._validation import check_inputs, check_option
from labelaudit.core.scores import SCORERS, accuracy_weights, adjusted_score
from labelaudit.engines._inmemory import checked_scores, prepare
from labelaudit.exceptions import InvalidInputError


def is_ensemble(pred_probs: Any) -> bool:
    """True for a list/tuple of 2-D arrays or a 3-D array: one (N, K) array per model.

    A list whose first entry is 2-D is an ensemble (a list of rows has 1-D entries), so
    that a malformed member gets its own error message.
    """
    if isinstance(pred_probs, list | tuple):
        return len(pred_probs) > 0 and np.ndim(pred_probs[0]) == 2
    return isinstance(pred_probs, np.ndarray) and pred_probs.ndim == 3


def score_examples(
    labels: IntArray, probs: FloatArray, method: str, adjust_pred_probs: bool
) -> FloatArray:
    """Check pred_probs' rows and score them (float64)."""
    if not adjust_pred_probs:
        return checked_scores(labels, probs, method)
    prep = prepare(labels, probs, probs.shape[1], "thresholds")
    assert prep.thresholds is not None  # computed for extent "thresholds"
    return adjusted_score(SCORERS[method], labels, probs, prep.thresholds)


def label_quality_scores(
    labels: LabelsLike,
    pred_probs: Any,
    *,
    method: ScoreMethod = "self_confidence",
    adjust_pred_probs: bool = False,
) -> FloatArray:
    """Score how likely each given label is correct; lower = more likely mislabeled.

    Parameters
    ----------
    labels : array-like of shape (n_samples,)
        Given labels, integers in ``[0, n_classes)``.
    pred_probs : array-like of shape (n_samples, n_classes), or a list of such arrays
        Out-of-sample predicted probabilities. A list of arrays (or a 3-D array) holds one
        model per entry; their scores are averaged with weights proportional to each
        model's accuracy on the given labels.
    method : {"self_confidence", "normalized_margin", "confidence_weighted_entropy"}
        ``self_confidence`` is P(given label); ``normalized_margin`` is
        ``(P(given) - max other P + 1) / 2``; ``confidence_weighted_entropy`` weighs
        self-confidence by the prediction's normalized entropy.
    adjust_pred_probs : bool, default=False
        Subtract each class's confidence threshold first (offsets a model's bias toward
        some classes). Not available with ``confidence_weighted_entropy``.

    Returns
    -------
    ndarray of shape (n_samples,), float64
        The scores.

    Examples
    --------
    >>> import labelaudit
    >>> labels = [0, 1, 1]
    >>> pred_probs = [[0.9, 0.1], [0.8, 0.2], [0.3, 0.7]]
    >>> labelaudit.label_quality_scores(labels, pred_probs)
    array([0.9, 0.2, 0.7])
    >>> labelaudit.label_quality_scores(labels, pred_probs, method="normalized_margin")
    array([0.9, 0.2, 0.7])
    """
    method = check_option("method", method, SCORERS)
    if adjust_pred_probs and method == "confidence_weighted_entropy":
        raise InvalidInputError(
            "adjust_pred_probs=True is not available with method='confidence_weighted_entropy'. "
            "Use method='self_confidence' or 'normalized_margin', or adjust_pred_probs=False."
        )
    if not is_ensemble(pred_probs):
        labs, probs, _ = check_inputs(labels, pred_probs)
        return score_examples(labs, probs, method, adjust_pred_probs)
    checked = [check_inputs(labels, member) for member in pred_probs]
    shapes = {probs.shape for _, probs, _ in checked}
    if len(shapes) > 1:
        raise InvalidInputError(
            "Every model's pred_probs in an ensemble must have the same shape. "
            f"Got shapes {sorted(shapes)}."
        )
    weights = accuracy_weights(checked[0][0], [probs for _, probs, _ in checked])
    total = np.zeros(checked[0][0].shape[0])
    for weight, member in zip(weights, checked, strict=True):
        total += weight * score_examples(member[0], member[1], method, adjust_pred_probs)
    return total
