"""Public: a scikit-learn classifier that finds its training set's label issues and refits."""

from __future__ import annotations

import warnings
from typing import Any, Literal

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import (
    check_array,
    check_is_fitted,
    column_or_1d,
    has_fit_parameter,
    validate_data,
)

from labelaudit._count import estimate_noise
from labelaudit._crossval import cross_val_pred_probs, encode_labels
from labelaudit._probability import mislabeled_probability
from labelaudit._typing import BoolArray
from labelaudit.exceptions import FewExamplesWarning, LabelauditWarning

Handling = Literal["drop", "reweight"]


def weight_keyword(estimator: Any) -> str | None:
    """The fit keyword that passes sample weights to ``estimator``, or None: plain
    ``sample_weight``, or routed to the last step of a Pipeline (also inside a search)."""
    inner = getattr(estimator, "estimator", estimator)  # GridSearchCV and the like
    steps = getattr(inner, "steps", None)
    if steps is not None:
        name, last = steps[-1]
        return f"{name}__sample_weight" if has_fit_parameter(last, "sample_weight") else None
    return "sample_weight" if has_fit_parameter(estimator, "sample_weight") else None


def as_input(X: Any) -> Any:
    """DataFrames and 1-D text pass through (pipelines select columns or vectorize text);
    anything else becomes a 2-D array or a CSR matrix, so folds can select its rows."""
    if hasattr(X, "iloc"):
        return X
    arr = X if hasattr(X, "shape") and hasattr(X, "dtype") else np.asarray(X, dtype=object)
    if getattr(arr, "ndim", 2) == 1 and arr.dtype.kind in "OUS":
        return arr
    return check_array(X, accept_sparse="csr", dtype=None, ensure_all_finite=False)


class CleanClassifier(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Fit a classifier on labels cleaned of their likely errors.

    ``fit`` computes out-of-sample probabilities by cross-validation (with ``detector``),
    the probability that each training label is wrong
    (:func:`labelaudit.mislabeled_probability`), and then fits ``estimator`` either on the
    examples whose probability is below ``threshold`` (``handling="drop"``) or on all of
    them weighted by the probability that their label is right (``"reweight"``).

    Parameters
    ----------
    estimator : classifier, default=None
        The model fitted on the cleaned data; None means ``LogisticRegression(max_iter=1000)``.
    detector : classifier with predict_proba, default=None
        The model whose cross-validated probabilities find the issues; None means a clone
        of ``estimator``. A stronger detector than the final model may find more errors.
    cv : int or splitter, default=5
        Folds of the detection cross-validation.
    handling : {"drop", "reweight"}, default="drop"
        Drop the flagged examples, or weight every example by ``1 - p_mislabeled``
        (``estimator`` must accept ``sample_weight``).
    threshold : float, default=0.5
        Examples with ``p_mislabeled`` at or above this are label issues.
    n_jobs : int, default=None
        Parallel folds (joblib); None means 1.
    random_state : int, default=None
        Seed of the fold shuffling.

    Attributes
    ----------
    estimator_ : classifier
        The fitted final model.
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    label_issues_ : ndarray of shape (n_samples,), bool
        The training examples flagged as label issues.
    p_mislabeled_ : ndarray of shape (n_samples,)
        The probability that each training label is wrong.
    noise_estimate_ : NoiseEstimate
        Confident learning's noise estimate of the training labels.
    n_features_in_ : int
        Number of features seen in ``fit``.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> import labelaudit
    >>> X, y = load_digits(return_X_y=True)
    >>> noisy = labelaudit.noise.make_noisy_labels(
    ...     y, labelaudit.noise.generate_noise_matrix(10, trace=8, random_state=0),
    ...     random_state=0)
    >>> clf = labelaudit.CleanClassifier(random_state=0).fit(X / 16, noisy)
    >>> bool((clf.label_issues_ == (noisy != y)).mean() > 0.9)
    True
    """

    def __init__(
        self,
        estimator: Any = None,
        *,
        detector: Any = None,
        cv: Any = 5,
        handling: Handling = "drop",
        threshold: float = 0.5,
        n_jobs: int | None = None,
        random_state: int | None = None,
    ) -> None:
        self.estimator = estimator
        self.detector = detector
        self.cv = cv
        self.handling = handling
        self.threshold = threshold
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _final_estimator(self) -> Any:
        base = LogisticRegression(max_iter=1000) if self.estimator is None else self.estimator
        return clone(base)

    def _check_params(self) -> None:
        if self.handling not in ("drop", "reweight"):
            raise ValueError(
                f"The 'handling' parameter of CleanClassifier must be 'drop' or 'reweight'. "
                f"Got {self.handling!r} instead."
            )
        if not (isinstance(self.threshold, int | float) and 0 < self.threshold <= 1):
            raise ValueError(
                f"The 'threshold' parameter of CleanClassifier must be a number in (0, 1]. "
                f"Got {self.threshold!r} instead."
            )

    def fit(self, X: Any, y: Any) -> CleanClassifier:
        """Find the label issues of ``(X, y)`` and fit the estimator without them.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        self
        """
        self._check_params()
        X = as_input(X)
        validate_data(self, X, y, accept_sparse=True, dtype=None, skip_check_array=True)
        y = column_or_1d(y, warn=True)
        codes, self.classes_ = encode_labels(y)
        self.p_mislabeled_ = self._detect(X, y, codes)
        self.label_issues_: BoolArray = self.p_mislabeled_ >= self.threshold
        self.estimator_ = self._fit_final(X, y, codes)
        return self

    def _detect(self, X: Any, y: Any, codes: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        """p_mislabeled of every training example (zeros when y is too small to split)."""
        counts = np.bincount(codes)
        stratified = isinstance(self.cv, int)
        n_splits = self.cv if stratified else self.cv.get_n_splits()
        # stratified folds also need one class with at least as many examples as folds
        too_few = stratified and counts.max() < n_splits
        if counts.size < 2 or counts.min() < 2 or codes.size < n_splits or too_few:
            warnings.warn(
                "Too few examples per class to cross-validate; no label issues are searched "
                "and the estimator is fitted on all the data.",
                LabelauditWarning,
                stacklevel=3,
            )
            self.noise_estimate_ = None
            return np.zeros(codes.size)
        detector = self._final_estimator() if self.detector is None else clone(self.detector)
        with warnings.catch_warnings():
            # sklearn's and our notes on classes with fewer examples than folds
            warnings.filterwarnings("ignore", message="The least populated class")
            warnings.simplefilter("ignore", FewExamplesWarning)
            probs = cross_val_pred_probs(
                detector, X, y, cv=self.cv, n_jobs=self.n_jobs, random_state=self.random_state
            )
        self.noise_estimate_ = estimate_noise(codes, probs)
        return mislabeled_probability(codes, probs)

    def _fit_final(self, X: Any, y: Any, codes: np.ndarray[Any, Any]) -> Any:
        estimator = self._final_estimator()
        if self.handling == "reweight":
            keyword = weight_keyword(estimator)
            if keyword is None:
                raise ValueError(
                    f"handling='reweight' needs an estimator whose fit accepts sample_weight; "
                    f"{type(estimator).__name__} does not. Use handling='drop'."
                )
            return estimator.fit(X, y, **{keyword: 1.0 - self.p_mislabeled_})
        keep = ~self.label_issues_
        # never drop a class entirely: keep its least suspicious examples
        for k in np.flatnonzero(np.bincount(codes[keep], minlength=self.classes_.size) == 0):
            members = np.flatnonzero(codes == k)
            keep[members[np.argsort(self.p_mislabeled_[members], kind="stable")[:1]]] = True
        rows = np.flatnonzero(keep)
        return estimator.fit(_safe_indexing(X, rows), _safe_indexing(y, rows))

    def predict(self, X: Any) -> Any:
        """Predicted class labels of ``X``."""
        check_is_fitted(self)
        X = as_input(X)
        validate_data(self, X, accept_sparse=True, reset=False, skip_check_array=True)
        return self.estimator_.predict(X)

    def predict_proba(self, X: Any) -> Any:
        """Class probabilities of ``X`` (columns in the order of ``classes_``)."""
        check_is_fitted(self)
        X = as_input(X)
        validate_data(self, X, accept_sparse=True, reset=False, skip_check_array=True)
        probs = self.estimator_.predict_proba(X)
        if probs.shape[1] == self.classes_.size:
            return probs
        full = np.zeros((probs.shape[0], self.classes_.size))
        full[:, np.searchsorted(self.classes_, self.estimator_.classes_)] = probs
        return full

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
