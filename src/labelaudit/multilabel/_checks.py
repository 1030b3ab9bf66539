"""Boundary checks of multi-label inputs: label sets and per-class probabilities."""

from __future__ import annotations

from itertools import chain
from typing import Any

import numpy as np

from labelaudit._typing import BoolArray, FloatArray
from labelaudit._validation import _RANGE_TOLERANCE, _to_array, row_stats
from labelaudit.exceptions import InvalidInputError


def as_class_probs(pred_probs: Any) -> FloatArray:
    """Validate per-class probabilities (rows need not sum to 1) as a 2-D float array."""
    arr = _to_array(pred_probs, "pred_probs")
    if arr.ndim != 2:
        raise InvalidInputError(
            "pred_probs must be 2-D of shape (n_samples, n_classes), one probability per "
            f"class that it applies. Got shape {arr.shape}."
        )
    if arr.dtype.kind in "iub" or (arr.dtype.kind == "f" and arr.dtype.itemsize > 8):
        arr = arr.astype(np.float64)
    elif arr.dtype.kind != "f":
        raise InvalidInputError(
            f"pred_probs must hold floating-point numbers. Got dtype {arr.dtype}."
        )
    if arr.size == 0:
        raise InvalidInputError(
            f"pred_probs must have at least one example and one class. Got shape {arr.shape}."
        )
    stats = row_stats(arr)  # in row blocks, without an N x K temporary
    if stats.bad_row >= 0:
        raise InvalidInputError(
            f"pred_probs must be finite. Row {stats.bad_row} contains NaN or inf; check the "
            "model's output."
        )
    low, high = stats.low, stats.high  # the row sums are not checked: tags are not exclusive
    if low < -_RANGE_TOLERANCE or high > 1 + _RANGE_TOLERANCE:
        raise InvalidInputError(
            "pred_probs must hold probabilities in [0, 1], one per class. Got "
            f"{low if low < -_RANGE_TOLERANCE else high:.6g}; if these are logits, apply a "
            "sigmoid first (scipy.special.expit(x))."
        )
    return arr


def as_tags(labels: Any, n_samples: int, n_classes: int, *, width: str | None = None) -> BoolArray:
    """The given label sets as an (n_samples, n_classes) bool matrix.

    ``labels`` is either an indicator matrix (a 2-D array, DataFrame or SciPy sparse
    matrix of 0/1, as scikit-learn's MultiLabelBinarizer makes) or one collection of
    class indices per example (``[[0, 2], [1], []]``, as cleanlab takes). ``width`` says
    where the number of classes comes from, in errors (default: pred_probs' columns).
    """
    if hasattr(labels, "toarray"):  # a SciPy sparse indicator matrix
        labels = labels.toarray()
    if isinstance(labels, np.ndarray) or hasattr(labels, "columns"):
        if hasattr(labels, "isna"):  # a DataFrame: pandas knows its missing values
            _no_missing(labels.isna().to_numpy())
        arr = _to_array(labels, "labels")
        if arr.ndim == 2:
            if arr.dtype.kind == "f":
                _no_missing(np.isnan(arr))
            return _indicator(arr, n_samples, n_classes)
        if arr.dtype.kind != "O":
            raise InvalidInputError(
                "labels must be an indicator matrix of shape (n_samples, n_classes) or one list "
                f"of class indices per example. Got an array of shape {arr.shape} and dtype "
                f"{arr.dtype}; for one class per example use labelaudit.find_label_issues."
            )
        labels = list(arr)
    return _index_sets(labels, n_samples, n_classes, width or f"pred_probs has {n_classes} columns")


def _no_missing(missing: np.ndarray[Any, Any]) -> None:
    """Raise if an indicator matrix has a missing value (``missing``: where)."""
    if missing.any():
        row, column = (int(i) for i in np.argwhere(missing)[0])
        raise InvalidInputError(
            f"labels, an indicator matrix, has {int(missing.sum())} missing value(s), the "
            f"first at row {row}, column {column}; fill them with 0 or 1 (or drop the rows)."
        )


def _indicator(arr: np.ndarray[Any, Any], n_samples: int, n_classes: int) -> BoolArray:
    if arr.shape != (n_samples, n_classes):
        raise InvalidInputError(
            "labels, an indicator matrix, must have the shape of pred_probs "
            f"{(n_samples, n_classes)}. Got shape {arr.shape}."
        )
    if arr.dtype.kind == "b":
        return arr.copy()
    if arr.dtype.kind not in "iuf" or not np.isin(arr, (0, 1)).all():
        raise InvalidInputError(
            "labels, an indicator matrix, must hold only 0 and 1 (1 where the class applies). "
            f"Got dtype {arr.dtype} with other values."
        )
    return arr.astype(bool)


def _index_sets(labels: Any, n_samples: int, n_classes: int, width: str) -> BoolArray:
    if isinstance(labels, str):
        raise InvalidInputError(
            "labels must be one list of class indices per example, not a string."
        )
    try:
        entries = list(labels)  # once: a generator is read once
        texts = [i for i, row in enumerate(entries) if isinstance(row, str)]
        if texts:
            raise InvalidInputError(
                f"labels[{texts[0]}] is the string {entries[texts[0]]!r}, not a list of "
                "classes; split the strings into class names first and encode them as "
                "indices (sklearn.preprocessing.MultiLabelBinarizer)."
            )
        rows = [row if isinstance(row, list | tuple) else list(row) for row in entries]
    except TypeError as exc:
        raise InvalidInputError(
            "labels must be one list of class indices per example (e.g. [[0, 2], [1], []]) "
            f"or an indicator matrix; an entry is not a list: {exc}. For one class per example "
            "use labelaudit.find_label_issues."
        ) from exc
    if len(rows) != n_samples:
        raise InvalidInputError(
            f"labels and pred_probs must have the same length. Got {len(rows)} label sets and "
            f"{n_samples} rows of pred_probs."
        )
    lengths = np.fromiter((len(row) for row in rows), dtype=np.int64, count=len(rows))
    values = list(chain.from_iterable(rows))
    flat = np.asarray(values)
    if flat.size and (
        flat.dtype.kind not in "iu"
        or flat.min() < 0
        or flat.max() >= n_classes
        or not {bool, np.bool_}.isdisjoint(map(type, values))  # np.asarray([0, True]) is int
    ):
        bad = _first_bad(values, n_classes)
        raise InvalidInputError(
            f"labels must list class indices, integers in [0, {n_classes}) ({width}). "
            f"Got {bad!r}; encode class names first "
            "(sklearn.preprocessing.MultiLabelBinarizer)."
        )
    owner = np.repeat(np.arange(len(rows)), lengths)
    tags = np.zeros((n_samples, n_classes), dtype=bool)
    tags[owner, flat.astype(np.int64)] = True
    repeated = tags.sum(axis=1) != lengths
    if repeated.any():
        i = int(np.flatnonzero(repeated)[0])
        raise InvalidInputError(
            f"labels[{i}] lists a class twice: {rows[i]!r}. Each entry must list the indices of "
            "the classes that apply; if the entries are 0/1 indicator rows, pass them as one "
            "2-D array (np.asarray(labels))."
        )
    return tags


def _first_bad(values: list[Any], n_classes: int) -> Any:
    """The first value that is not a class index in [0, n_classes)."""
    for value in values:
        index = isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)
        if not index or not 0 <= value < n_classes:
            return value
    return values[0]  # unreachable: the caller found a value that is not an index
