"""Load data for an audit, and the default model that turns it into pred_probs.

``read_table`` turns a CSV or Parquet file (or a DataFrame) with a label column into
``X, y``; ``read_embeddings`` reads an ``(N, d)`` ``.npy`` of embeddings; ``default_model``
builds a scikit-learn pipeline suited to ``X``: numeric columns imputed and scaled,
categorical columns one-hot encoded, one free-text column as TF-IDF; a
HistGradientBoostingClassifier for tables, a LogisticRegression for embeddings and text.

``npy_chunks``, ``parquet_chunks`` and ``iter_chunks`` describe pred_probs too large for
memory; pass what they return as ``pred_probs`` (the streaming engine reads it in blocks).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from labelaudit._results import import_pandas
from labelaudit.engines._sources import (
    ChunkSource,
    IterChunks,
    NpyChunks,
    ParquetChunks,
    open_table,
    table_format,
)
from labelaudit.exceptions import InvalidInputError

#: Suffixes of the tables ``read_table`` reads (``.tsv``: tab-separated).
TABLE_SUFFIXES = (".csv", ".tsv", ".parquet")

__all__ = [
    "ChunkSource",
    "default_model",
    "iter_chunks",
    "npy_chunks",
    "parquet_chunks",
    "read_embeddings",
    "read_table",
    "text_column",
]

#: A string column is free text when its values average at least this many characters,
TEXT_MIN_CHARS = 30
#: or at least this many words with at least this share of distinct values (short texts,
#: such as titles, that a one-hot encoding of 20 categories would reduce to noise).
TEXT_MIN_WORDS = 3
TEXT_MIN_DISTINCT = 0.5


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
        if path.suffix.lower() not in TABLE_SUFFIXES:
            raise InvalidInputError(
                f"Tables must be .csv, .tsv or .parquet files. Got {str(path)!r}; convert it or "
                "pass a pandas DataFrame."
            )
        if not path.is_file():
            raise InvalidInputError(f"No such file: {str(path)!r}.")
        frame = read_table_file(path)
    if label_column not in frame.columns:
        raise InvalidInputError(
            f"The table has no column {label_column!r}. Its columns: {list(frame.columns)}."
        )
    y = frame[label_column]
    missing = y.isna()
    if y.dtype.kind not in "biufc":  # text: a blank label is missing too
        missing |= y.astype(str).str.strip() == ""
    if missing.any():
        rows = np.flatnonzero(missing.to_numpy())
        raise InvalidInputError(
            f"The label column {label_column!r} has missing values (rows "
            f"{rows[:5].tolist()}{'...' if rows.size > 5 else ''}, counting data rows from 0; "
            "an empty or blank line too); drop or fill those rows first."
        )
    X = frame.drop(columns=[label_column])
    if X.shape[1] == 0:
        raise InvalidInputError("The table has no feature columns besides the labels.")
    return X, y


def _trailing_blank_lines(path: Path) -> int:
    """How many empty lines end the file (after its last newline, which ends a line)."""
    with path.open("rb") as handle:
        handle.seek(0, 2)
        handle.seek(max(0, handle.tell() - 65536))
        lines = handle.read().split(b"\n")[:-1]
    count = 0
    for line in reversed(lines):
        if line.strip(b"\r"):
            break
        count += 1
    return count


def read_table_file(path: Path, **csv_options: Any) -> Any:
    """A .csv, .tsv or .parquet file as a DataFrame, or an InvalidInputError that says why.

    A CSV keeps one row per line: a blank line inside the file is a row of missing values
    (pandas would drop it and shift every later row); blank lines at its end are ignored.
    """
    pd = import_pandas()
    try:
        if path.suffix.lower() == ".parquet":
            return pd.read_parquet(path)
        frame = pd.read_csv(path, skip_blank_lines=False, **csv_dialect(path), **csv_options)
    except FileNotFoundError:
        raise InvalidInputError(f"No such file: {str(path)!r}.") from None
    except UnicodeDecodeError:
        raise InvalidInputError(
            f"{str(path)!r} is not UTF-8 text (as Excel's plain 'CSV' is not); save it as "
            "UTF-8 ('CSV UTF-8' in Excel) or convert it, for example with iconv."
        ) from None
    except (ValueError, OSError) as exc:  # pandas' and pyarrow's parse errors among them
        lines = str(exc).strip().splitlines()
        reason = lines[-1] if lines else type(exc).__name__
        raise InvalidInputError(f"{str(path)!r} is not a readable table ({reason}).") from None
    extra = _trailing_blank_lines(path)
    frame = frame.iloc[: len(frame) - extra] if extra else frame
    return _without_index_column(frame)


#: A number written with a decimal comma (or an integer), as a cell of a CSV's first line.
_COMMA_NUMBER = re.compile(r"[-+]?(\d+,?\d*|,\d+)([eE][-+]?\d+)?")


def csv_dialect(path: Path) -> dict[str, str]:
    """Separator and decimal mark of a CSV, as ``pandas.read_csv`` options: tabs for a
    ``.tsv``; else commas, unless the first line has semicolons or tabs and no comma but
    in decimal numbers (as spreadsheets save CSV in locales where the comma is the decimal
    mark; then a comma in the first two lines is one)."""
    if path.suffix.lower() == ".tsv":
        return {"sep": "\t"}
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            first, second = handle.readline(), handle.readline()
    except UnicodeDecodeError:
        return {}  # reading the table says so
    for sep in (";", "\t"):
        cells = first.rstrip("\r\n").split(sep)
        if len(cells) < 2 or not ("," not in first or all(map(_comma_number, cells))):
            continue
        return {"sep": sep, "decimal": "," if "," in first + second else "."}
    return {}


def _comma_number(cell: str) -> bool:
    return _COMMA_NUMBER.fullmatch(cell.strip()) is not None


def _without_index_column(frame: Any) -> Any:
    """The frame without pandas' own index, as ``DataFrame.to_csv`` writes it by default:
    a first column with an empty header (read as "Unnamed: 0") of distinct integers. It
    is never data: kept, it became a feature, a probability column or an annotator."""
    if frame.shape[1] < 2 or str(frame.columns[0]) != "Unnamed: 0":
        return frame
    first = frame.iloc[:, 0]
    if first.dtype.kind not in "iu" or not first.is_unique:
        return frame
    return frame.iloc[:, 1:]


def read_embeddings(path: str | Path) -> np.ndarray[Any, Any]:
    """Read an ``(N, d)`` array of embeddings from a ``.npy`` file.

    Parameters
    ----------
    path : str or Path
        A ``.npy`` file of numbers, one row per example (``numpy.save`` writes it).

    Returns
    -------
    ndarray of shape (n_samples, n_features)
    """
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
    """The free-text column with the longest values, or None. A string column is free
    text if its values average at least :data:`TEXT_MIN_CHARS` characters, or at least
    :data:`TEXT_MIN_WORDS` words with at least :data:`TEXT_MIN_DISTINCT` of them
    distinct (a category, even of several words, repeats).

    Parameters
    ----------
    X : pandas.DataFrame
        The features; only its string (object or string dtype) columns are considered.

    Returns
    -------
    str or None
        The name of the text column that :func:`default_model` turns into TF-IDF.
    """
    best, best_len = None, -1.0
    for name in X.columns:
        col = X[name]
        if not (col.dtype == object or str(col.dtype) in ("string", "str")):
            continue
        values = col.dropna().astype(str)
        if values.empty:
            continue
        mean_len = float(values.str.len().mean())
        words = float(values.str.split().str.len().mean())
        distinct = values.nunique() / len(values)
        is_text = mean_len >= TEXT_MIN_CHARS or (
            words >= TEXT_MIN_WORDS and distinct >= TEXT_MIN_DISTINCT
        )
        if is_text and mean_len > best_len:
            best, best_len = name, mean_len
    return best


def as_text(column: Any) -> Any:
    """Missing text becomes the empty string (TF-IDF takes strings only)."""
    return column.fillna("").astype(str)


def as_categories(columns: Any) -> Any:
    """Categorical columns as strings, so that a column mixing numbers and text (as read
    from spreadsheets) can be one-hot encoded; a missing value is a category of its own."""
    return columns.astype(object).where(columns.notna(), "(missing)").astype(str)


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
    present = [c for c in X.columns if c != text and X[c].notna().any()]  # no empty columns
    numeric = [c for c in present if X[c].dtype.kind in "biuf"]
    categorical = [c for c in present if c not in numeric]
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
            ("categorical", make_pipeline(FunctionTransformer(as_categories), encoder), categorical)
        )
    if text is not None:
        tfidf = TfidfVectorizer(sublinear_tf=True, min_df=2)
        parts.append(("text", make_pipeline(FunctionTransformer(as_text), tfidf), text))
    features = ColumnTransformer(parts, sparse_threshold=1.0 if sparse else 0.0)
    model = LogisticRegression(max_iter=1000) if sparse else HistGradientBoostingClassifier()
    return make_pipeline(features, model)


def _check_chunk_rows(chunk_rows: Any) -> int | None:
    if chunk_rows is None:
        return None
    if (
        isinstance(chunk_rows, bool)
        or not isinstance(chunk_rows, int | np.integer)
        or chunk_rows < 1
    ):
        raise InvalidInputError(
            f"The 'chunk_rows' parameter must be a positive int or None. Got {chunk_rows!r}."
        )
    return int(chunk_rows)


def npy_chunks(path: str | Path, labels: Any, *, chunk_rows: int | None = None) -> ChunkSource:
    """pred_probs in a 2-D ``.npy`` file, read a block of rows at a time.

    Parameters
    ----------
    path : str or Path
        A ``.npy`` file of shape (n_samples, n_classes), C order (``numpy.save`` writes it).
    labels : array-like of shape (n_samples,), or a path to a ``.npy`` file
        Given labels; a path is memory-mapped, not read whole.
    chunk_rows : int, optional
        Rows per block; by default blocks of about 32 MiB.

    Returns
    -------
    ChunkSource
        Pass it as ``pred_probs`` (with ``labels=None``) to any public function.

    Examples
    --------
    >>> import numpy as np, tempfile, os, labelaudit
    >>> folder = tempfile.mkdtemp()
    >>> np.save(os.path.join(folder, "p.npy"), np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3]]))
    >>> source = labelaudit.io.npy_chunks(os.path.join(folder, "p.npy"), [0, 1, 1], chunk_rows=2)
    >>> labelaudit.label_quality_scores(None, source)
    array([0.9, 0.8, 0.3])
    """
    from labelaudit._inputs import sized_labels

    source = NpyChunks(Path(path), None, _check_chunk_rows(chunk_rows))
    labs = sized_labels(labels, source.header.shape[0])
    return NpyChunks(Path(path), labs, source.chunk_rows)


def parquet_chunks(
    path: str | Path,
    *,
    label_column: str = "label",
    prob_columns: list[str] | str | None = None,
    chunk_rows: int | None = None,
) -> ChunkSource:
    """pred_probs in a Parquet or Arrow file, read a record batch at a time.

    Parameters
    ----------
    path : str or Path
        A Parquet file (``.parquet``, ``.pq``), an Arrow IPC / Feather file (``.arrow``,
        ``.feather``) or a directory of Parquet files (read in sorted order), with a label
        column and the predicted probabilities: one numeric column per class (in class
        order) or one list column holding each row's vector.
    label_column : str, default="label"
        The column of given labels (integers in ``[0, n_classes)``).
    prob_columns : list of str or str, optional
        The probability columns in class order, or the name of the list column; by
        default every other column.
    chunk_rows : int, optional
        Rows per batch.

    Returns
    -------
    ChunkSource
        Pass it as ``pred_probs`` (with ``labels=None``) to any public function.
    """
    import pyarrow as pa

    if table_format(Path(path)) is None:
        raise InvalidInputError(
            f"parquet_chunks reads .parquet, .pq, .arrow and .feather files and directories "
            f"of Parquet files. Got {str(path)!r}."
        )
    try:
        schema = open_table(Path(path)).schema
    except (OSError, pa.ArrowException) as exc:
        raise InvalidInputError(f"Cannot read {str(path)!r} as a table: {exc}") from exc
    if label_column not in schema.names:
        raise InvalidInputError(
            f"The Parquet file has no column {label_column!r}. Its columns: {schema.names}; "
            "pass label_column=."
        )
    if prob_columns is None:
        columns = [name for name in schema.names if name != label_column]
    else:
        columns = [prob_columns] if isinstance(prob_columns, str) else list(prob_columns)
    missing = [c for c in columns if c not in schema.names]
    if missing or not columns:
        raise InvalidInputError(
            f"prob_columns must name columns of the Parquet file. Missing: {missing}; "
            f"its columns: {schema.names}."
        )
    numeric = [
        pa.types.is_floating(schema.field(c).type) or pa.types.is_integer(schema.field(c).type)
        for c in columns
    ]
    if len(columns) > 1 and not all(numeric):
        bad = [c for c, ok in zip(columns, numeric, strict=True) if not ok]
        raise InvalidInputError(
            f"Probability columns must be numeric. Got {bad}; pass prob_columns= to choose them."
        )
    return ParquetChunks(Path(path), label_column, tuple(columns), _check_chunk_rows(chunk_rows))


def iter_chunks(factory: Any) -> ChunkSource:
    """pred_probs produced in chunks by your own code.

    Parameters
    ----------
    factory : callable or collection
        Called with no argument, returns an iterable of ``(labels, pred_probs)`` pairs
        covering the data in the same order each time (it is called once per pass, at
        most three times for the pruning methods). A list (or other collection that can
        be iterated again) of such pairs works too; a generator cannot be read twice.

    Returns
    -------
    ChunkSource
        Pass it as ``pred_probs`` (with ``labels=None``) to any public function.

    Examples
    --------
    >>> import numpy as np, labelaudit
    >>> def chunks():
    ...     yield [0, 1], np.array([[0.9, 0.1], [0.2, 0.8]])
    ...     yield [1], np.array([[0.7, 0.3]])
    >>> labelaudit.label_quality_scores(None, labelaudit.io.iter_chunks(chunks))
    array([0.9, 0.8, 0.3])
    """
    if not callable(factory) and isinstance(factory, Iterable) and iter(factory) is not factory:
        chunks = factory  # a list or other re-iterable collection: read it on every pass
        return IterChunks(lambda: chunks)
    if not callable(factory):
        raise InvalidInputError(
            "iter_chunks needs a function that returns a new iterable of (labels, pred_probs) "
            f"each time it is called (the data is read up to three times). Got "
            f"{type(factory).__name__}; wrap a generator in a function: lambda: make_chunks()."
        )
    return IterChunks(factory)
