"""Public filtering: which examples are label issues, and in what order to review them."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from labelaudit._count import count_issues, prepared
from labelaudit._typing import (
    BoolArray,
    Engine,
    FilterMethod,
    IntArray,
    LabelsLike,
    ProbsLike,
    ScoreMethod,
)
from labelaudit._validation import check_count, check_fraction, check_option
from labelaudit.core import prune
from labelaudit.core.joint import calibrate
from labelaudit.core.scores import SCORERS
from labelaudit.engines._inmemory import Extent, Prepared, joint_of
from labelaudit.engines._streaming import StreamPrepared
from labelaudit.exceptions import FewExamplesWarning, InvalidInputError

PRUNE_METHODS = ("prune_by_noise_rate", "prune_by_class", "both")
#: Methods that flag the lowest-scoring examples, with the score each uses.
LOW_SCORE_METHODS = {
    "low_self_confidence": "self_confidence",
    "low_normalized_margin": "normalized_margin",
}
#: The methods cleanlab has too (same names, equal results).
CLEANLAB_METHODS = (
    *PRUNE_METHODS,
    "confident_learning",
    "predicted_neq_given",
    "low_self_confidence",
    "low_normalized_margin",
)
FILTER_METHODS = (*CLEANLAB_METHODS, "posterior")

AnyPrepared = Prepared | StreamPrepared


def extent_of(method: str) -> Extent:
    """How much of the first passes a filter method needs."""
    return "check" if method in ("posterior", "predicted_neq_given") else "joint"


def needs_of(method: str) -> frozenset[str]:
    """What the streaming engines must collect in their first passes for ``method``."""
    if method == "posterior":
        return frozenset({"sample"})
    if method == "predicted_neq_given":
        return frozenset({"predicted"})
    if method in LOW_SCORE_METHODS:
        return frozenset({"wins", f"low:{LOW_SCORE_METHODS[method]}"})
    if method in ("prune_by_noise_rate", "both"):  # seeds for the noise cells' selection
        return frozenset({"wins", "prune"})
    return frozenset({"wins"})


def _prune(prep: AnyPrepared, method: str, options: dict[str, Any]) -> BoolArray:
    n_keep = options["min_examples_per_class"]
    small = np.flatnonzero(prep.counts <= n_keep)
    if small.size:
        warnings.warn(
            f"Classes {small.tolist()} have at most min_examples_per_class={n_keep} examples; "
            "their label issues are not pruned.",
            FewExamplesWarning,
            stacklevel=4,
        )
    joint = calibrate(joint_of(prep).joint, prep.counts)
    prune_counts = prune.keep_at_least(joint.T, n_keep, options["frac_noise"])
    if options["num_to_remove_per_class"] is not None:
        prune_counts = prune.counts_for_removal(
            prune_counts, prep.counts, options["num_to_remove_per_class"]
        )
    by_class, by_rate = prep.prune_flags(
        prune_counts,
        n_keep,
        by_class=method != "prune_by_noise_rate",
        by_rate=method != "prune_by_class",
    )
    if method == "prune_by_class":
        return by_class
    if method == "prune_by_noise_rate":
        return by_rate
    return by_class & by_rate


def _filter(prep: AnyPrepared, method: str, options: dict[str, Any]) -> BoolArray:
    if method == "posterior":
        return prep.mislabeled_flags()
    if method in LOW_SCORE_METHODS:
        return prep.lowest(LOW_SCORE_METHODS[method], count_issues(prep, "off_diagonal"))
    if method in PRUNE_METHODS:
        flags = _prune(prep, method, options)
    elif method == "confident_learning":
        flags = joint_of(prep).off_diagonal
    else:  # predicted_neq_given
        flags = prep.argmax_differs()
    return prep.without_label_wins(flags)


def _pruning_only(name: str, method: str) -> None:
    """Reject an option that only the pruning methods take (checked before any pass)."""
    if method not in PRUNE_METHODS:
        raise InvalidInputError(
            f"{name} works only with method in {list(PRUNE_METHODS)}. Got method={method!r}."
        )


def _check_removal(value: Any, k: int) -> IntArray | None:
    if value is None:
        return None
    arr = np.asarray(value)
    if arr.shape != (k,) or arr.dtype.kind not in "iu" or (arr < 0).any():
        raise InvalidInputError(
            f"num_to_remove_per_class must hold {k} non-negative integers (one per class). "
            f"Got {value!r}."
        )
    return arr.astype(np.int64)


def find_label_issues(
    labels: LabelsLike,
    pred_probs: ProbsLike,
    *,
    method: FilterMethod = "prune_by_noise_rate",
    frac_noise: float = 1.0,
    num_to_remove_per_class: Any = None,
    min_examples_per_class: int = 1,
    n_classes: int | None = None,
    engine: Engine = "auto",
) -> BoolArray:
    """Flag the examples whose given label is likely wrong.

    Parameters
    ----------
    labels : array-like of shape (n_samples,)
        Given labels, integers in ``[0, n_classes)``.
    pred_probs : array-like of shape (n_samples, n_classes)
        Out-of-sample predicted probabilities.
    method : str, default="prune_by_noise_rate"
        ``prune_by_noise_rate``: for each off-diagonal cell (true j, given k) of the
        calibrated confident joint, flag that many examples labeled k with the largest
        margin P(j) - P(k). ``prune_by_class``: in each class, flag the examples with the
        lowest self-confidence beyond the estimated number of correct ones. ``both``: the
        intersection of the two. ``confident_learning``: the off-diagonal examples of the
        confident joint. ``predicted_neq_given``: argmax differs from the label.
        ``low_self_confidence`` / ``low_normalized_margin``: the ``num_label_issues``
        examples with the lowest such score. ``posterior``: the examples with the largest
        :func:`mislabeled_probability`, as many as maximize the F1 expected from those
        probabilities (the cut falls where the probability drops to half that F1, so at
        or below 0.5; 0.37-0.48 on the benchmark files), or none where flagging none
        expects more (errors improbable everywhere: F1 of no flags is P(no error)).
        Except for the ``low_*`` and ``posterior`` methods, an example whose label is the
        argmax (with a 1e-6 head start) is never flagged.
    frac_noise : float in (0, 1], default=1.0
        Flag only this fraction of each estimated noise cell (pruning methods only).
    num_to_remove_per_class : array-like of shape (n_classes,), optional
        How many examples to flag in each class (pruning methods only).
    min_examples_per_class : int, default=1
        Keep at least this many examples per class; a class with this many examples or
        fewer is not pruned (a :class:`~labelaudit.exceptions.FewExamplesWarning` says so).
    n_classes : int, optional
        Number of classes; defaults to the number of columns of ``pred_probs``.
    engine : {"auto", "numpy", "streaming", "dask"}, default="auto"
        How to read ``pred_probs``: in memory, in blocks from a file or chunk source, or on
        a Dask cluster; ``auto`` picks by input type (see ``docs/engines.md``). Results are
        equal whichever engine runs.

    Returns
    -------
    ndarray of shape (n_samples,), bool
        True for the flagged examples.

    Examples
    --------
    >>> import labelaudit
    >>> labels = [0, 0, 0, 1, 1, 1]
    >>> pred_probs = [[0.9, 0.1], [0.8, 0.2], [0.1, 0.9],
    ...               [0.2, 0.8], [0.3, 0.7], [0.1, 0.9]]
    >>> labelaudit.find_label_issues(labels, pred_probs)
    array([False, False,  True, False, False, False])
    """
    method = check_option("method", method, FILTER_METHODS)
    frac = check_fraction("frac_noise", frac_noise)
    if frac != 1.0:
        _pruning_only("frac_noise", method)
    if num_to_remove_per_class is not None:
        _pruning_only("num_to_remove_per_class", method)
    n_keep = check_count("min_examples_per_class", min_examples_per_class)
    prep = prepared(labels, pred_probs, n_classes, extent_of(method), engine, needs_of(method))
    options = {
        "frac_noise": frac,
        "num_to_remove_per_class": _check_removal(num_to_remove_per_class, prep.n_classes),
        "min_examples_per_class": n_keep,
    }
    return _filter(prep, method, options)


_DEFAULT_OPTIONS = {"frac_noise": 1.0, "num_to_remove_per_class": None, "min_examples_per_class": 1}


def rank_label_issues(
    labels: LabelsLike,
    pred_probs: ProbsLike,
    *,
    method: FilterMethod = "prune_by_noise_rate",
    rank_by: ScoreMethod = "self_confidence",
    n_classes: int | None = None,
    engine: Engine = "auto",
) -> IntArray:
    """The flagged examples' positions, most likely mislabeled first.

    Parameters
    ----------
    labels : array-like of shape (n_samples,)
        Given labels, integers in ``[0, n_classes)``.
    pred_probs : array-like of shape (n_samples, n_classes)
        Out-of-sample predicted probabilities.
    method : str, default="prune_by_noise_rate"
        Which examples to flag; see :func:`find_label_issues`.
    rank_by : {"self_confidence", "normalized_margin", "confidence_weighted_entropy"}
        The label quality score to order by, lowest first.
    n_classes : int, optional
        Number of classes; defaults to the number of columns of ``pred_probs``.
    engine : {"auto", "numpy", "streaming", "dask"}, default="auto"
        How to read ``pred_probs``: in memory, in blocks from a file or chunk source, or on
        a Dask cluster; ``auto`` picks by input type (see ``docs/engines.md``). Results are
        equal whichever engine runs.

    Returns
    -------
    ndarray of shape (n_issues,), int64
        Positions of the flagged examples.

    Examples
    --------
    >>> import labelaudit
    >>> labels = [0, 0, 1, 1]
    >>> pred_probs = [[0.1, 0.9], [0.9, 0.1], [0.2, 0.8], [0.7, 0.3]]
    >>> labelaudit.rank_label_issues(labels, pred_probs, method="predicted_neq_given")
    array([0, 3])
    """
    method = check_option("method", method, FILTER_METHODS)
    rank_by = check_option("rank_by", rank_by, SCORERS)
    needs = needs_of(method) | {f"rank:{rank_by}"}
    prep = prepared(labels, pred_probs, n_classes, extent_of(method), engine, needs)
    flagged = np.flatnonzero(_filter(prep, method, _DEFAULT_OPTIONS))
    # Scores in pred_probs' own precision and NumPy's default sort: ties come out in
    # cleanlab's order.
    return flagged[np.argsort(prep.ranking_scores(flagged, rank_by))]
