"""Boundary checks: turn user input into clean arrays or raise a clear error.

Past these checks, code may assume: ``labels`` is a 1-D int64 array with values in
``[0, n_classes)``, ``pred_probs`` is a 2-D float array (float16/32/64, never modified)
and both have the same, non-zero length. Whether pred_probs' rows are probability vectors
is checked from :class:`RowStats`, gathered during the engine's first pass over the data.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any, NamedTuple, TypeVar

import numpy as np

from labelaudit._typing import FloatArray, IntArray
from labelaudit.core._chunks import read_only
from labelaudit.exceptions import InvalidInputError

T = TypeVar("T")

#: Values may stray this far outside [0, 1] (rounding in the model's softmax).
_RANGE_TOLERANCE = 1e-6
#: How far a row sum may be from 1, by dtype. Probabilities are often stored with less
#: precision than they were computed in (CIFAR-100's published pred_probs, kept as float16
#: and cast to float32, are off by up to 4e-4), so 1e-3; float16 keeps ~3 digits per value.
_ROW_SUM_TOLERANCE = {np.dtype(np.float16): 1e-2}
_DEFAULT_ROW_SUM_TOLERANCE = 1e-3
#: Rows scanned at once when checking pred_probs, so that checks need no N x K temporaries.
_CHECK_CHUNK_BYTES = 1 << 22


def check_option(name: str, value: T, allowed: Collection[Any]) -> T:
    """Raise unless ``value`` is one of ``allowed`` (a registry of names)."""
    if isinstance(value, str) and value in allowed:
        return value
    raise InvalidInputError(
        f"The '{name}' parameter must be one of {sorted(allowed)}. Got {value!r} instead."
    )


def check_flag(name: str, value: Any) -> bool:
    """Raise unless ``value`` is a bool (a NumPy bool too): a string such as "no" is
    truthy, and would silently mean True."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    raise InvalidInputError(f"The '{name}' parameter must be True or False. Got {value!r} instead.")


def check_n_classes(n_classes: Any, n_columns: int) -> int:
    """Return the number of classes: ``n_classes`` if given, else the columns of pred_probs."""
    if n_classes is None:
        return n_columns
    if isinstance(n_classes, bool) or not isinstance(n_classes, int | np.integer):
        raise InvalidInputError(
            f"The 'n_classes' parameter must be an int or None. Got {n_classes!r} instead."
        )
    if int(n_classes) != n_columns:
        raise InvalidInputError(
            f"n_classes={n_classes} but pred_probs has {n_columns} columns; pred_probs needs "
            "one column per class, including classes absent from labels. Pass pred_probs with "
            f"{n_classes} columns or leave n_classes=None."
        )
    return n_columns


def _to_array(value: Any, name: str) -> np.ndarray[Any, Any]:
    if hasattr(value, "to_numpy"):  # pandas Series / DataFrame, polars Series
        value = value.to_numpy()
    try:
        return np.asarray(value)
    except (ValueError, TypeError) as exc:
        raise InvalidInputError(
            f"{name} must be array-like (a list, numpy array or pandas Series); numpy could "
            f"not convert the {type(value).__name__} given: {exc}"
        ) from exc


def as_labels(
    labels: Any,
    *,
    n_classes: int | None = None,
    offset: int = 0,
    columns: str = "pred_probs needs a column for every class in labels",
) -> IntArray:
    """Validate ``labels`` and return them as a 1-D int64 array (a new one if converted).
    Positions in error messages count from ``offset`` (a block's first row); ``columns``
    says what limits the classes to ``n_classes``."""
    arr = _to_array(labels, "labels")
    if arr.ndim != 1:
        hint = " Flatten it with labels.ravel()." if arr.ndim == 2 and 1 in arr.shape else ""
        raise InvalidInputError(
            f"labels must be 1-D, one class index per example. Got shape {arr.shape}.{hint}"
        )
    if arr.size == 0:
        raise InvalidInputError("labels is empty: there must be at least one example.")
    if arr.dtype.kind in "USO":
        example = arr[0].item() if hasattr(arr[0], "item") else arr[0]
        raise InvalidInputError(
            "labels must be integers in [0, n_classes). Got dtype "
            f"{arr.dtype} (first value {example!r}); encode string labels first "
            "(sklearn.preprocessing.LabelEncoder, or pandas.factorize) and keep the classes "
            "as class_names (audit takes string labels with class_names)."
        )
    if arr.dtype.kind == "b":
        arr = arr.astype(np.int64)
    elif arr.dtype.kind == "f":
        bad = ~np.isfinite(arr) | (arr != np.round(arr))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            hint = (
                "labels with missing values must be dropped or filled before auditing"
                if np.isnan(arr[i])
                else "give class positions 0, 1, ..., not scores or regression targets"
            )
            raise InvalidInputError(
                "labels must be integers in [0, n_classes). Got a non-integer value "
                f"{arr[i].item()!r} at position {i + offset}; {hint}."
            )
    elif arr.dtype.kind not in "iu":
        raise InvalidInputError(
            f"labels must be integers in [0, n_classes). Got dtype {arr.dtype}."
        )
    lowest, highest = arr.min(), arr.max()
    if lowest < 0:
        i = int(np.argmin(arr))
        raise InvalidInputError(
            f"labels must be integers in [0, n_classes). Got {lowest} at position {i + offset}; "
            "class indices start at 0."
        )
    if n_classes is not None and highest >= n_classes:
        i = int(np.argmax(arr))
        one_based = lowest == 1 and highest == n_classes
        hint = f" The labels look numbered 1..{n_classes}: subtract 1." if one_based else ""
        raise InvalidInputError(
            f"labels must be integers in [0, n_classes) = [0, {n_classes}). Got {highest} at "
            f"position {i + offset}; {columns}.{hint}"
        )
    # int64, contiguous and writable: a read-only view (pandas' to_numpy under copy-on-write,
    # a memory map) or a strided slice would make numba compile every kernel again for that
    # layout; copying N labels is cheap next to pred_probs
    return np.require(arr, dtype=np.int64, requirements=["C", "W"])


def as_pred_probs(pred_probs: Any, *, name: str = "pred_probs") -> FloatArray:
    """Validate predicted probabilities and return them as a 2-D float array (never a copy
    of a float array: the input is only read)."""
    arr = _to_array(pred_probs, name)
    if arr.ndim != 2:
        hint = (
            " For a binary problem with P(class 1) only, pass np.column_stack([1 - p, p])."
            if arr.ndim == 1
            else ""
        )
        raise InvalidInputError(
            f"{name} must be 2-D of shape (n_samples, n_classes). Got shape {arr.shape}.{hint}"
        )
    if arr.dtype.kind in "iub":
        arr = arr.astype(np.float64)
    elif arr.dtype.kind != "f":
        raise InvalidInputError(f"{name} must hold floating-point numbers. Got dtype {arr.dtype}.")
    elif arr.dtype.itemsize > 8:
        arr = arr.astype(np.float64)
    n, k = arr.shape
    if n == 0:
        raise InvalidInputError(f"{name} is empty: there must be at least one example.")
    if k < 2:
        raise InvalidInputError(
            f"{name} must have at least 2 columns (one per class). Got {k} column(s)."
        )
    return read_only(arr)


class RowStats(NamedTuple):
    """What validation needs to know of pred_probs' rows, gathered in one pass."""

    low: float
    """Smallest value."""
    high: float
    """Largest value."""
    worst_row: int
    """Row whose sum is farthest from 1 (-1 if none is off)."""
    worst_sum: float
    """That row's sum."""
    bad_row: int
    """First row whose sum is not finite (-1 if none)."""


def row_stats(arr: FloatArray) -> RowStats:
    """:class:`RowStats` of ``arr`` computed with NumPy in row chunks."""
    low, high, worst, worst_row, worst_sum, bad_row = np.inf, -np.inf, 0.0, -1, 1.0, -1
    step = max(1, _CHECK_CHUNK_BYTES // (arr.shape[1] * arr.itemsize))
    for start in range(0, arr.shape[0], step):
        chunk = arr[start : start + step]
        sums = chunk.sum(axis=1, dtype=np.float64)
        finite = np.isfinite(sums)
        if not finite.all() and bad_row < 0:
            bad_row = start + int(np.flatnonzero(~finite)[0])
        low, high = min(low, float(chunk.min())), max(high, float(chunk.max()))
        off = np.where(finite, np.abs(sums - 1.0), 0.0)
        i = int(np.argmax(off))
        if off[i] > worst:
            worst, worst_row, worst_sum = float(off[i]), start + i, float(sums[i])
    return RowStats(low, high, worst_row, worst_sum, bad_row)


def check_row_stats(stats: RowStats, dtype: np.dtype[Any], name: str = "pred_probs") -> None:
    """Raise unless every row is finite, in [0, 1] and sums to 1 (within a dtype tolerance)."""
    if stats.bad_row >= 0:
        raise InvalidInputError(
            f"{name} must be finite. Row {stats.bad_row} contains NaN or inf; check the "
            "model's output."
        )
    if stats.low < -_RANGE_TOLERANCE or stats.high > 1 + _RANGE_TOLERANCE:
        value = stats.low if stats.low < -_RANGE_TOLERANCE else stats.high
        if stats.low >= -_RANGE_TOLERANCE and 99 <= stats.worst_sum <= 101:
            raise InvalidInputError(
                f"{name} must hold probabilities in [0, 1]. Got {value:.6g}, and row "
                f"{stats.worst_row} sums to {stats.worst_sum:.6g}: if these are percentages, "
                f"divide {name} by 100; if logits or scores, apply a softmax first "
                "(scipy.special.softmax(x, axis=1))."
            )
        raise InvalidInputError(
            f"{name} must hold probabilities in [0, 1]. Got {value:.6g}; if these are logits "
            "or scores, apply a softmax first (scipy.special.softmax(x, axis=1))."
        )
    tol = _ROW_SUM_TOLERANCE.get(dtype, _DEFAULT_ROW_SUM_TOLERANCE)
    off = abs(stats.worst_sum - 1.0)
    if stats.worst_row >= 0 and off > tol:
        raise InvalidInputError(
            f"Each row of {name} must sum to 1 (tolerance {tol:g} for {dtype}). Row "
            f"{stats.worst_row} sums to {stats.worst_sum:.6g}, off by {off:.3g}; normalize "
            f"with {name} / {name}.sum(axis=1, keepdims=True)."
        )


def check_inputs(
    labels: Any, pred_probs: Any, n_classes: Any = None
) -> tuple[IntArray, FloatArray, int]:
    """Validate the types and shapes of a (labels, pred_probs) pair; return them with the
    number of classes. The values of pred_probs' rows are checked by the engine's first
    pass (:func:`check_row_stats`), which reads them anyway."""
    probs = as_pred_probs(pred_probs)
    k = check_n_classes(n_classes, probs.shape[1])
    labs = as_labels(labels, n_classes=k)
    if labs.shape[0] != probs.shape[0]:
        raise InvalidInputError(
            f"labels and pred_probs must have the same length. Got {labs.shape[0]} labels and "
            f"{probs.shape[0]} rows of pred_probs."
        )
    return labs, probs, k


def as_generator(random_state: Any) -> np.random.Generator:
    """``random_state`` (None, an int >= 0 or a Generator) as a NumPy Generator."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or (
        isinstance(random_state, int | np.integer)
        and not isinstance(random_state, bool)
        and random_state >= 0
    ):
        return np.random.default_rng(random_state)
    raise InvalidInputError(
        "The 'random_state' parameter must be None, an int >= 0 or a numpy.random.Generator. "
        f"Got {random_state!r} instead."
    )


def check_fraction(name: str, value: Any, *, low_open: bool = True) -> float:
    """Return ``value`` as a float in (0, 1] (or [0, 1] when ``low_open`` is False)."""
    ok = isinstance(value, int | float | np.floating | np.integer) and not isinstance(value, bool)
    if ok:
        v = float(value)
        ok = (0.0 < v <= 1.0) if low_open else (0.0 <= v <= 1.0)
    if not ok:
        interval = "(0, 1]" if low_open else "[0, 1]"
        raise InvalidInputError(
            f"The '{name}' parameter must be a number in {interval}. Got {value!r} instead."
        )
    return float(value)


def check_count(name: str, value: Any, *, minimum: int = 0) -> int:
    """Return ``value`` as an int >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise InvalidInputError(
            f"The '{name}' parameter must be an int >= {minimum}. Got {value!r} instead."
        )
    return int(value)


def check_class_names(class_names: Any, k: int) -> list[str]:
    """Class names as K distinct strings (default: "0" ... "K-1"), from a list, an array
    (a model's ``classes_``) or a pandas Index (``DataFrame.columns``)."""
    if class_names is None:
        return [str(i) for i in range(k)]
    # a list, an array such as a model's classes_, or a pandas Index such as df.columns
    listed = isinstance(class_names, Sequence) or hasattr(class_names, "tolist")
    if isinstance(class_names, str) or not listed or np.ndim(class_names) != 1:
        raise InvalidInputError(
            f"class_names must be a sequence of {k} names (one per class, in the order of "
            f"pred_probs' columns). Got {type(class_names).__name__}."
        )
    names = [str(name) for name in class_names]
    if len(names) != k or len(set(names)) != k:
        raise InvalidInputError(
            f"class_names must hold {k} distinct names (one per class, in the order of "
            f"pred_probs' columns). Got {len(names)} names for {k} classes, "
            f"{len(set(names))} distinct."
        )
    return names


def check_images(images: Any, n: int) -> np.ndarray[Any, Any]:
    """One grayscale (H, W) or RGB(A) (H, W, 3|4) image per example, as an array (a memory
    map stays one)."""
    array = np.asarray(images)
    grey_or_rgb = array.ndim == 3 or (array.ndim == 4 and array.shape[3] in (3, 4))
    if not grey_or_rgb or array.shape[0] != n:
        raise InvalidInputError(
            f"images must have shape ({n}, H, W) or ({n}, H, W, 3): one grayscale or RGB "
            f"image per example. Got shape {array.shape}."
        )
    return array


def labels_by_name(labels: Any, names: Any) -> Any:
    """String labels (or a pandas Categorical of strings) as positions in ``names``, the
    classes in pred_probs' column order; any other labels as they are."""
    if names is None or isinstance(labels, str) or not hasattr(labels, "__len__"):
        return labels
    values = np.asarray(labels)
    if values.dtype.kind not in "USO" or values.ndim != 1:
        return labels
    if values.dtype.kind == "O" and not all(isinstance(v, str) for v in values):
        missing = [i for i, v in enumerate(values) if _missing_value(v)]
        if missing:
            raise InvalidInputError(
                f"labels has {len(missing)} missing value(s) (None or NaN), at position(s) "
                f"{missing[:5]}; drop those examples (and their rows of pred_probs) first."
            )
        return labels  # mixed values: as_labels says what is wrong
    position = {str(name): i for i, name in enumerate(names)}
    codes = np.fromiter((position.get(v, -1) for v in values.tolist()), np.int64, values.size)
    if (codes < 0).any():
        unknown = sorted({str(v) for v in values[codes < 0]})
        raise InvalidInputError(
            f"labels hold {unknown[:5]}{'...' if len(unknown) > 5 else ''}, not among the "
            f"{len(position)} class names; class_names (or pred_probs' column names) must "
            "name every class, in pred_probs' column order."
        )
    if is_pandas(labels):  # its index still checks the pairing with pred_probs' rows
        return type(labels)(codes, index=labels.index)
    return codes


def _missing_value(value: Any) -> bool:
    try:
        return value is None or bool(value != value)  # NaN
    except TypeError:  # pandas.NA has no truth value
        return True


def is_pandas(value: Any) -> bool:
    """Whether ``value`` is a pandas object (told without importing pandas)."""
    return type(value).__module__.startswith("pandas")


def column_names(pred_probs: Any) -> list[str] | None:
    """The column names of a pandas DataFrame of pred_probs, when they are names (not
    the default 0, 1, ...); else None."""
    columns = getattr(pred_probs, "columns", None)
    if columns is None or not is_pandas(pred_probs):
        return None
    names = [str(c) for c in columns]
    default = names == [str(i) for i in range(len(names))]
    return None if default or len(set(names)) < len(names) else names
