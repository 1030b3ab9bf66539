"""Public scoring: label quality scores for one model or an ensemble of models."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from labelaudit._inputs import ENGINES, in_memory, kind_of, prepare_input
from labelaudit._typing import Engine, FloatArray, IntArray, LabelsLike, ScoreMethod
from labelaudit._validation import check_flag, check_inputs, check_option
from labelaudit.core.scores import SCORERS, adjusted_score
from labelaudit.engines._inmemory import checked_scores, prepare
from labelaudit.engines._streaming import StreamPrepared
from labelaudit.exceptions import InvalidInputError


def is_ensemble(pred_probs: Any) -> bool:
    """True for a list/tuple of 2-D arrays (or of files, chunk sources, dask arrays) or a
    3-D array: one (N, K) array per model.

    A list whose first entry is 2-D is an ensemble (a list of rows has 1-D entries), so
    that a malformed member gets its own error message.
    """
    if isinstance(pred_probs, list | tuple):
        if not pred_probs:
            return False
        first = pred_probs[0]
        return kind_of(first) != "numpy" or np.ndim(first) == 2
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
    engine: Engine = "auto",
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
    engine : {"auto", "numpy", "streaming", "dask"}, default="auto"
        How to read ``pred_probs``: in memory, in blocks from a file or chunk source, or on
        a Dask cluster; ``auto`` picks by input type (see ``docs/engines.md``). Results are
        equal whichever engine runs.

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
    adjust_pred_probs = check_flag("adjust_pred_probs", adjust_pred_probs)
    if adjust_pred_probs and method == "confidence_weighted_entropy":
        raise InvalidInputError(
            "adjust_pred_probs=True is not available with method='confidence_weighted_entropy'. "
            "Use method='self_confidence' or 'normalized_margin', or adjust_pred_probs=False."
        )
    engine = check_option("engine", engine, ENGINES)
    if not is_ensemble(pred_probs):
        return member_scores(labels, pred_probs, method, adjust_pred_probs, engine, False).scores
    members = []
    for i, model in enumerate(pred_probs):
        try:
            members.append(member_scores(labels, model, method, adjust_pred_probs, engine, True))
        except InvalidInputError as err:
            raise InvalidInputError(
                f"pred_probs is read as an ensemble of {len(pred_probs)} models (a list of "
                "2-D arrays, or a 3-D array of shape (n_models, n_samples, n_classes)); "
                f"model {i}: {err}"
            ) from err
    shapes = {m.shape for m in members}
    if len(shapes) > 1:
        raise InvalidInputError(
            "Every model's pred_probs in an ensemble must have the same shape. "
            f"Got shapes {sorted(shapes)}."
        )
    total = np.zeros(members[0].scores.shape[0])
    for weight, member in zip(
        ensemble_weights([m.accuracy or 0.0 for m in members]), members, strict=True
    ):
        total += weight * member.scores
    return total


class Member(NamedTuple):
    """One ensemble member's scores, accuracy on the given labels (None unless asked for)
    and pred_probs' shape."""

    scores: FloatArray
    accuracy: float | None
    shape: tuple[int, int]


def member_scores(
    labels: Any, pred_probs: Any, method: str, adjust: bool, engine: str, accuracy: bool
) -> Member:
    """One model's scores and, if asked for, its accuracy on the given labels (argmax ==
    label: an ensemble's weight, a pass of its own in memory)."""
    chosen = kind_of(pred_probs) if engine == "auto" else engine
    if chosen == "numpy":
        labs, probs, k = check_inputs(*in_memory(labels, pred_probs))
        scores = score_examples(labs, probs, method, adjust)
        acc = float(np.mean(probs.argmax(axis=1) == labs)) if accuracy else None
        return Member(scores, acc, (labs.shape[0], k))
    needs = {"accuracy"} if accuracy else set()
    if not adjust:
        needs.add(f"quality:{method}")
    extent: Any = "thresholds" if adjust else "check"
    prep = prepare_input(labels, pred_probs, None, chosen, extent, frozenset(needs))
    assert isinstance(prep, StreamPrepared)
    scores = prep.adjusted_scores(method) if adjust else prep.quality_scores()
    n = prep.labels.shape[0]
    acc = prep.rows["n_correct"] / n if accuracy else None
    return Member(scores, acc, (n, prep.n_classes))


def ensemble_weights(accuracy: list[float]) -> FloatArray:
    """Weights proportional to each model's accuracy (equal if none gets anything right)."""
    acc = np.asarray(accuracy)
    if acc.sum() == 0:
        return np.full(acc.shape[0], 1.0 / acc.shape[0])
    weights: FloatArray = acc / acc.sum()
    return weights
