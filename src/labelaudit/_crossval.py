"""Public: out-of-sample predicted probabilities by stratified cross-validation."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from labelaudit._typing import FloatArray, IntArray
from labelaudit.exceptions import FewExamplesWarning, InvalidInputError

#: ``callback(folds_done, folds_total)``, called after each fold finishes.
ProgressCallback = Callable[[int, int], None]


def encode_labels(y: Any) -> tuple[IntArray, np.ndarray[Any, Any]]:
    """``(codes, classes)`` with ``classes`` sorted as :func:`numpy.unique` sorts them."""
    from sklearn.utils.multiclass import check_classification_targets

    arr = np.asarray(y)
    if arr.ndim != 1:
        hint = (
            " For multi-label data (a 0/1 column per class), get pred_probs from "
            "labelaudit.multilabel.cross_val_pred_probs(model, X, Y) (one-vs-rest) and "
            "audit them with labelaudit.multilabel."
            if arr.ndim == 2 and arr.shape[1] > 1
            else ""
        )
        raise InvalidInputError(
            f"y must be 1-D (one label per row of X). Got an array of shape {arr.shape}.{hint}"
        )
    if arr.dtype.kind in "fO":
        from labelaudit._results import import_pandas

        missing = np.flatnonzero(np.asarray(import_pandas().isna(arr)))
        if missing.size:
            raise InvalidInputError(
                f"y has {missing.size} missing label(s) (None or NaN), at rows "
                f"{missing[:5].tolist()}{'...' if missing.size > 5 else ''}; drop those rows "
                "of X and y, or fill them."
            )
    try:
        check_classification_targets(arr)
    except ValueError as exc:
        raise InvalidInputError(
            f"y must hold class labels (integers, strings or categories). {exc}"
        ) from exc
    classes, codes = np.unique(arr, return_inverse=True)
    return codes.astype(np.int64), classes


def splitter(cv: Any, random_state: Any, folds: Any) -> Any:
    """The splitter ``cv`` names: a number of ``folds`` (a scikit-learn class such as
    ``StratifiedKFold``, shuffled when ``random_state`` is given), or ``cv`` itself."""
    if isinstance(cv, int | np.integer) and not isinstance(cv, bool):
        if cv < 2:
            raise InvalidInputError(f"The 'cv' parameter must be an int >= 2. Got {cv!r}.")
        return folds(int(cv), shuffle=random_state is not None, random_state=random_state)
    if hasattr(cv, "split") and hasattr(cv, "get_n_splits"):
        return cv
    raise InvalidInputError(
        f"The 'cv' parameter must be an int >= 2 or a scikit-learn splitter. Got {cv!r}."
    )


def _fit_predict(
    estimator: Any, X: Any, codes: IntArray, train: IntArray, test: IntArray, n_classes: int
) -> tuple[IntArray, FloatArray]:
    """Fit on ``train`` and return the test rows' probabilities in the global class order;
    classes missing from the training fold get probability 0."""
    from sklearn.utils import _safe_indexing

    estimator.fit(_safe_indexing(X, train), codes[train])
    probs = estimator.predict_proba(_safe_indexing(X, test))
    out = np.zeros((test.size, n_classes))
    out[:, np.asarray(estimator.classes_, dtype=np.int64)] = probs
    return test, out


def _warn_rare(codes: IntArray, classes: np.ndarray[Any, Any], n_splits: int) -> None:
    counts = np.bincount(codes, minlength=classes.size)
    rare = classes[counts < n_splits]
    if rare.size:
        warnings.warn(
            f"Classes {rare.tolist()} have fewer examples than the {n_splits} folds: some "
            "training folds lack them, and those folds' predictions give them probability 0 "
            "(their own examples then look mislabeled). Collect more examples, merge the "
            "classes, or use fewer folds.",
            FewExamplesWarning,
            stacklevel=3,
        )


def cross_val_pred_probs(
    estimator: Any,
    X: Any,
    y: Any,
    *,
    cv: Any = 5,
    n_jobs: int | None = None,
    random_state: int | None = None,
    callback: ProgressCallback | None = None,
) -> FloatArray:
    """Out-of-sample predicted probabilities of every example, by cross-validation.

    Each fold fits a clone of ``estimator`` on the other folds and predicts its own rows,
    so no example is predicted by a model that saw it: what confident learning needs.

    Parameters
    ----------
    estimator : scikit-learn classifier or pipeline with ``predict_proba``
        Cloned for every fold; the object passed is not modified.
    X : array-like, sparse matrix or DataFrame of shape (n_samples, ...)
        Features; rows are selected with scikit-learn's indexing (sparse and pandas kept).
    y : array-like of shape (n_samples,)
        Class labels: integers, strings or categories.
    cv : int or scikit-learn splitter, default=5
        Number of stratified folds, or a splitter with ``split(X, y)``.
    n_jobs : int, optional
        Folds fitted in parallel through joblib (None = 1, -1 = all cores). Inside
        ``with joblib.parallel_backend("dask"):`` the folds run on a Dask cluster.
    random_state : int, optional
        Shuffles the stratified folds with this seed; None keeps the row order.
    callback : callable, optional
        ``callback(folds_done, folds_total)`` after each fold, for progress bars.

    Returns
    -------
    ndarray of shape (n_samples, n_classes), float64
        Column ``k`` is the k-th class of ``numpy.unique(y)`` (sorted, as
        ``LabelEncoder`` and scikit-learn's ``classes_`` order them). A class absent from
        a training fold (fewer examples than folds; a :class:`FewExamplesWarning` says
        so) gets probability 0 in that fold's predictions.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> import labelaudit
    >>> X, y = load_iris(return_X_y=True)
    >>> pred_probs = labelaudit.cross_val_pred_probs(LogisticRegression(max_iter=500), X, y)
    >>> pred_probs.shape, bool(abs(pred_probs.sum(axis=1) - 1).max() < 1e-9)
    ((150, 3), True)
    """
    from joblib import delayed
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedKFold

    codes, classes = encode_labels(y)
    check_rows(X, codes.size, "y")
    check_proba(estimator)
    if classes.size < 2:
        raise InvalidInputError(
            f"y holds a single class ({classes[0]!r}); label errors are found between "
            "classes, so at least two are needed."
        )
    splits = splitter(cv, random_state, StratifiedKFold)
    if isinstance(splits, StratifiedKFold) and splits.n_splits > codes.size:
        raise InvalidInputError(
            f"cv={splits.n_splits} folds need at least {splits.n_splits} examples. Got "
            f"{codes.size}; use fewer folds."
        )
    largest = int(np.bincount(codes).max())
    if isinstance(splits, StratifiedKFold) and splits.n_splits > largest:
        raise InvalidInputError(
            f"cv={splits.n_splits} stratified folds need a class with at least "
            f"{splits.n_splits} examples; the largest has {largest}. Use {max(largest, 2)} "
            "folds or fewer."
        )
    with warnings.catch_warnings():  # _warn_rare says it, with what to do about it
        warnings.filterwarnings("ignore", "The least populated class", UserWarning)
        folds = list(splits.split(np.zeros((codes.size, 1)), codes))
    _warn_rare(codes, classes, len(folds))
    jobs = [
        delayed(_fit_predict)(clone(estimator), X, codes, train, test, classes.size)
        for train, test in folds
    ]
    return run_folds(jobs, (codes.size, classes.size), n_jobs, callback)


def check_rows(X: Any, n_rows: int, labels_name: str) -> None:
    """Raise unless ``X`` has ``n_rows`` rows (as many as the labels)."""
    from sklearn.utils.validation import _num_samples

    if _num_samples(X) != n_rows:
        raise InvalidInputError(
            f"X and {labels_name} must have the same number of rows. Got {_num_samples(X)} "
            f"and {n_rows}."
        )


def check_proba(estimator: Any) -> None:
    """Raise unless ``estimator`` can give probabilities."""
    if not hasattr(estimator, "predict_proba"):
        raise InvalidInputError(
            f"estimator must have predict_proba (a probabilistic classifier). "
            f"Got {type(estimator).__name__}; wrap a classifier without it (such as SVC) in "
            "sklearn.calibration.CalibratedClassifierCV, e.g. CalibratedClassifierCV(SVC())."
        )


def run_folds(
    jobs: list[Any], shape: tuple[int, int], n_jobs: int | None, callback: ProgressCallback | None
) -> FloatArray:
    """Run the folds' ``(test rows, probabilities)`` jobs through joblib into one array."""
    from joblib import Parallel

    out = np.zeros(shape)
    results = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(jobs)
    for done, (test, probs) in enumerate(results, start=1):
        out[test] = probs
        if callback is not None:
            callback(done, len(jobs))
    return out
