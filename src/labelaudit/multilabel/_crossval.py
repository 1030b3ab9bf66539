"""Public: out-of-sample probabilities of each class of multi-label data, one-vs-rest."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from labelaudit._crossval import ProgressCallback, check_proba, check_rows, run_folds, splitter
from labelaudit._typing import BoolArray, FloatArray, IntArray
from labelaudit.exceptions import FewExamplesWarning, InvalidInputError
from labelaudit.multilabel._checks import as_tags


def _tag_matrix(labels: Any, n_classes: int | None) -> BoolArray:
    """The given tags as an (N, K) bool matrix: K from an indicator matrix's columns, or
    ``n_classes`` for index lists (which cannot say how many classes there are). As in
    :func:`as_tags`, only an array, a DataFrame or a sparse matrix is an indicator matrix."""
    matrix = isinstance(labels, np.ndarray) and labels.ndim == 2
    if matrix or hasattr(labels, "toarray") or hasattr(labels, "columns"):
        n_rows, width = labels.shape
        if n_classes is not None and width != n_classes:
            raise InvalidInputError(
                f"labels, an indicator matrix, has {width} columns and n_classes is "
                f"{n_classes}; give one column per class (or leave n_classes out)."
            )
        return as_tags(labels, n_rows, width)
    if n_classes is None:
        raise InvalidInputError(
            "labels given as lists of class indices need n_classes (the number of classes, "
            "which the lists cannot tell when the last classes are never tagged); or give an "
            "indicator matrix (sklearn.preprocessing.MultiLabelBinarizer)."
        )
    if isinstance(n_classes, bool) or not isinstance(n_classes, int | np.integer) or n_classes < 1:
        raise InvalidInputError(f"n_classes must be an integer >= 1. Got {n_classes!r}.")
    if not hasattr(labels, "__len__"):
        labels = list(labels)  # a generator, read once
    return as_tags(labels, len(labels), int(n_classes), width=f"n_classes is {n_classes}")


def _warn_one_sided(tags: BoolArray, folds: list[tuple[IntArray, IntArray]]) -> None:
    """Warn about the classes that some training fold holds only tagged or only
    untagged examples of (such a fold's model predicts a constant for the class)."""
    one_sided = np.zeros(tags.shape[1], dtype=bool)
    for train, _ in folds:
        seen = tags[train]
        one_sided |= ~seen.any(axis=0) | seen.all(axis=0)
    if one_sided.any():
        warnings.warn(
            f"Classes {np.flatnonzero(one_sided).tolist()} are tagged on too few (or too "
            "many) examples for the folds: some training folds hold no example with (or "
            "without) the tag, and those folds predict the same probability, 0 (or 1), for "
            "every example (their tags then look wrong). Shuffle the folds "
            "(random_state=0), tag more examples, or use fewer folds.",
            FewExamplesWarning,
            stacklevel=3,
        )


def _fit_predict(
    model: Any, X: Any, tags: BoolArray, train: IntArray, test: IntArray
) -> tuple[IntArray, FloatArray]:
    from sklearn.utils import _safe_indexing

    with warnings.catch_warnings():  # _warn_one_sided says it, with what to do about it
        warnings.filterwarnings("ignore", "Label .* is present in all training", UserWarning)
        model.fit(_safe_indexing(X, train), tags[train].astype(np.int64))
        probs = model.predict_proba(_safe_indexing(X, test))
    # one class: scikit-learn sees a binary problem and gives both columns
    return test, probs[:, -tags.shape[1] :]


def cross_val_pred_probs(
    estimator: Any,
    X: Any,
    labels: Any,
    *,
    n_classes: int | None = None,
    cv: Any = 5,
    n_jobs: int | None = None,
    random_state: int | None = None,
    callback: ProgressCallback | None = None,
) -> FloatArray:
    """Out-of-sample probability that each class applies to each example, one-vs-rest.

    Each fold fits one clone of ``estimator`` per class on the other folds (scikit-learn's
    ``OneVsRestClassifier``) and predicts its own rows: the ``pred_probs`` that
    :func:`labelaudit.multilabel.audit` and the other functions of this module take.

    Parameters
    ----------
    estimator : scikit-learn binary classifier or pipeline with ``predict_proba``
        Fitted once per class and fold, as ``OneVsRestClassifier(estimator)`` (pass a
        ``OneVsRestClassifier`` to set its own options); the object passed is not modified.
    X : array-like, sparse matrix or DataFrame of shape (n_samples, ...)
        Features; rows are selected with scikit-learn's indexing (sparse and pandas kept).
    labels : indicator matrix of shape (n_samples, n_classes) or list of lists of int
        The given tags, in either form the module's other functions take.
    n_classes : int, optional
        The number of classes; needed with lists of class indices, checked against an
        indicator matrix's columns.
    cv : int or scikit-learn splitter, default=5
        Number of folds (``KFold``), or a splitter with ``split(X)``.
    n_jobs : int, optional
        Folds fitted in parallel through joblib (None = 1, -1 = all cores).
    random_state : int, optional
        Shuffles the folds with this seed; None keeps the row order.
    callback : callable, optional
        ``callback(folds_done, folds_total)`` after each fold, for progress bars.

    Returns
    -------
    ndarray of shape (n_samples, n_classes), float64
        Column ``k``: the probability that class ``k`` applies. Rows need not sum to 1. A
        class that a training fold holds only tagged (or only untagged) examples of gets
        that fold's constant 1 (or 0), and a :class:`FewExamplesWarning` says so.

    Examples
    --------
    >>> from sklearn.datasets import make_multilabel_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from labelaudit import multilabel
    >>> X, Y = make_multilabel_classification(n_samples=200, n_classes=4, random_state=0)
    >>> pred_probs = multilabel.cross_val_pred_probs(LogisticRegression(), X, Y)
    >>> pred_probs.shape
    (200, 4)
    """
    from joblib import delayed
    from sklearn.base import clone
    from sklearn.model_selection import KFold
    from sklearn.multiclass import OneVsRestClassifier

    tags = _tag_matrix(labels, n_classes)
    check_rows(X, tags.shape[0], "labels")
    check_proba(estimator)
    splits = splitter(cv, random_state, KFold)
    if isinstance(splits, KFold) and splits.n_splits > tags.shape[0]:
        raise InvalidInputError(
            f"cv={splits.n_splits} folds need at least {splits.n_splits} examples. Got "
            f"{tags.shape[0]}; use fewer folds."
        )
    try:
        folds = list(splits.split(np.zeros((tags.shape[0], 1)), tags.astype(np.int64)))
    except ValueError as exc:
        raise InvalidInputError(
            f"The splitter {splits!r} cannot split multi-label tags: {exc} Use an int or "
            "KFold (or a splitter whose split(X, Y) takes a 0/1 matrix)."
        ) from exc
    _warn_one_sided(tags, folds)
    if not isinstance(estimator, OneVsRestClassifier):
        estimator = OneVsRestClassifier(estimator)
    jobs = [delayed(_fit_predict)(clone(estimator), X, tags, train, test) for train, test in folds]
    return run_folds(jobs, tags.shape, n_jobs, callback)
