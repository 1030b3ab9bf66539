"""Load data for an audit, and the default model that turns it into pred_probs.

``read_table`` turns a CSV or Parquet file (or a DataFrame) with a label column into
``X, y``; ``read_embeddings`` reads an ``(N, d)`` ``.npy`` of embeddings; ``default_model``
builds a scikit-learn pipeline suited to ``X``: numeric columns imputed and scaled,
categorical columns one-hot encoded, one free-text column as TF-IDF; a
HistGradientBoostingClassifier for tables, a LogisticRegression for embeddings and text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from labelaudit._results import import_pandas
from labelaudit.exceptions import InvalidInputError

__all__ = ["default_model", "read_embeddings", "read_table", "text_column"]

#: A string column is free text when its values average at least this many characters.
TEXT_MIN_CHARS = 30


def read_table(source: Any, *, label_column: str) -> tuple[Any, Any]:
    """Read a table and split it into features and labels.

    Parameters
    ----------
    source : str, Path or pandas.DataFrame
        A ``.csv`` or ``.parquet`` file, or a DataFrame (not modified).
    label_column : str
        The column holding the given labels.

    Returns
    -------
    X : pandas.DataFrame
        All the other columns.
    y : pandas.Series
        The labels (rows with a missing label are an error).
    """
    pd = import_pandas()
    if isinstance(source, pd.DataFrame):
        frame = source
    else:
        path = Path(source)
        readers = {".csv": pd.read_csv, ".parquet": pd.read_parquet}
        if path.suffix.lower() not in readers:
            raise InvalidInputError(
                f"Tables must be .csv or .parquet files. Got {str(path)!r}; convert it or "
                "pass a pandas DataFrame."
            )
        frame = readers[path.suffix.lower()](path)
    if label_column not in frame.columns:
        raise InvalidInputError(
            f"The table has no column {label_column!r}. Its columns: {list(frame.columns)}."
        )
    y = frame[label_column]
    if y.isna().any():
        rows = np.flatnonzero(y.isna().to_numpy())[:5].tolist()
        raise InvalidInputError(
            f"The label column {label_column!r} has missing values (rows {rows}...); drop "
            "or fill those rows first."
        )
    X = frame.drop(columns=[label_column])
    if X.shape[1] == 0:
        raise InvalidInputError("The table has no feature columns besides the labels.")
    return X, y


def read_embeddings(path: str | Path) -> np.ndarray[Any, Any]:
    """Read an ``(N, d)`` array of embeddings from a ``.npy`` file."""
    try:
        arr: np.ndarray[Any, Any] = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise InvalidInputError(f"Cannot read {str(path)!r} as a .npy array: {exc}") from exc
    if arr.ndim != 2 or arr.dtype.kind not in "fiu":
        raise InvalidInputError(
            f"Embeddings must be a 2-D numeric array (one row per example). Got shape "
            f"{arr.shape} and dtype {arr.dtype}."
        )
    return arr


def text_column(X: Any) -> str | None:
    """The string column with the longest values if they average >= TEXT_MIN_CHARS."""
    best, best_len = None, float(TEXT_MIN_CHARS)
    for name in X.columns:
        col = X[name]
        if col.dtype == object or str(col.dtype) in ("string", "str"):
            mean_len = col.dropna().astype(str).str.len().mean()
            if mean_len >= best_len:
                best, best_len = name, float(mean_len)
    return best


def as_text(column: Any) -> Any:
    """Missing text becomes the empty string (TF-IDF takes strings only)."""
    return column.fillna("").astype(str)


def default_model(X: Any) -> Any:
    """A scikit-learn pipeline suited to ``X`` (see the module docstring).

    Parameters
    ----------
    X : pandas.DataFrame or array of shape (n_samples, n_features)

    Returns
    -------
    sklearn.pipeline.Pipeline
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    if not hasattr(X, "columns"):
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    text = text_column(X)
    numeric = [c for c in X.columns if c != text and X[c].dtype.kind in "biuf"]
    categorical = [c for c in X.columns if c != text and c not in numeric]
    sparse = text is not None
    parts: list[tuple[str, Any, Any]] = []
    if numeric:
        parts.append(
            ("numeric", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric)
        )
    if categorical:
        encoder = OneHotEncoder(
            handle_unknown="infrequent_if_exist", max_categories=20, sparse_output=sparse
        )
        parts.append(
            (
                "categorical",
                make_pipeline(SimpleImputer(strategy="most_frequent"), encoder),
                categorical,
            )
        )
    if text is not None:
        tfidf = TfidfVectorizer(sublinear_tf=True, min_df=2)
        parts.append(("text", make_pipeline(FunctionTransformer(as_text), tfidf), text))
    features = ColumnTransformer(parts, sparse_threshold=1.0 if sparse else 0.0)
    model = LogisticRegression(max_iter=1000) if sparse else HistGradientBoostingClassifier()
    return make_pipeline(features, model)
