"""File input and output of the command line: reading labels and probabilities, writing
the report and tables. Errors are InvalidInputError with one clear line."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from labelaudit._results import import_pandas
from labelaudit._typing import IntArray
from labelaudit.exceptions import InvalidInputError
from labelaudit.io import TABLE_SUFFIXES, csv_dialect, read_table_file

#: The files an annotator analysis writes.
ANNOTATOR_OUTPUTS = ("annotators.html", "consensus.csv", "annotators.csv", "annotators.json")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _first_line(path: Path) -> list[str]:
    """The cells of a CSV's first line, read as the table will be (numbers with a decimal
    comma as with a point)."""
    dialect = csv_dialect(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            row = next(csv.reader(handle, delimiter=dialect.get("sep", ",")), [])
    except (UnicodeDecodeError, csv.Error):
        return []  # not a text CSV: reading the table says so
    comma = dialect.get("decimal") == ","
    return [cell.strip().replace(",", ".") if comma else cell.strip() for cell in row]


def _starts_with_labels(path: Path) -> bool:
    """Whether a CSV of labels starts with data, not a header: its first cell is a number
    (numpy.savetxt writes no header)."""
    cells = _first_line(path)
    return len(cells) == 1 and _is_number(cells[0])


def _starts_with_probabilities(path: Path) -> bool:
    """Whether a CSV of pred_probs starts with data, not a header: its first line is
    numbers in [0, 1], other than 0, 1, ..., K-1 in order (class indices naming the
    columns)."""
    cells = _first_line(path)
    if not cells or not all(map(_is_number, cells)):
        return False
    return all(0 <= float(c) <= 1 for c in cells) and cells != [str(i) for i in range(len(cells))]


def _read_frame(path: Path, headerless: Callable[[Path], bool] | None = None) -> Any:
    """A .csv, .tsv or .parquet table; a CSV is read without a header if ``headerless``
    says its first line is data."""
    if path.suffix.lower() not in TABLE_SUFFIXES:
        raise InvalidInputError(f"{path}: expected a .npy, .csv, .tsv or .parquet file.")
    if not path.exists():
        raise InvalidInputError(f"No such file: {path}")
    text = path.suffix.lower() != ".parquet"
    bare = text and headerless is not None and headerless(path)
    return read_table_file(path, header=None if bare else "infer")


def read_npy(path: Path, mmap_mode: Literal["r"] | None = None) -> np.ndarray[Any, Any]:
    """A .npy array (memory-mapped with ``mmap_mode="r"``), or one clear error."""
    try:
        arr: np.ndarray[Any, Any] = np.load(path, mmap_mode=mmap_mode, allow_pickle=False)
    except FileNotFoundError:
        raise InvalidInputError(f"No such file: {path}") from None
    except (OSError, ValueError, EOFError) as exc:
        raise InvalidInputError(f"{path} is not a readable .npy array ({exc}).") from None
    return arr


def load_labels(path: Path) -> tuple[np.ndarray[Any, Any], list[str] | None]:
    """Integer codes and, for string labels, the class names (sorted)."""
    if path.suffix.lower() == ".npy":
        values = read_npy(path)
    else:
        frame = _read_frame(path, _starts_with_labels)
        column = "label" if "label" in frame.columns else None
        if column is None and frame.shape[1] != 1:
            raise InvalidInputError(
                f"{path}: expected one column (or a column named 'label'); got "
                f"{list(frame.columns)}."
            )
        values = frame[column or frame.columns[0]].to_numpy()
    if values.ndim == 2 and values.shape[1] == 1:  # a column vector, as y.reshape(-1, 1)
        values = values[:, 0]
    if values.ndim != 1:
        raise InvalidInputError(f"{path}: labels must be 1-D; got shape {values.shape}.")
    if values.dtype.kind in "iu":
        return values.astype(np.int64), None
    missing = _missing(values)
    if missing.any():
        rows = np.flatnonzero(missing)
        raise InvalidInputError(
            f"{path}: {rows.size} label(s) missing (empty, blank line or NA), at row(s) "
            f"{rows[:5].tolist()}{'...' if rows.size > 5 else ''} (counting data rows from "
            "0); every example needs a label: fill or drop those rows, and the same rows of "
            "pred_probs."
        )
    if values.dtype.kind == "f":
        if not np.all(values == np.round(values)):
            row = int(np.flatnonzero(values != np.round(values))[0])
            raise InvalidInputError(
                f"{path}: labels must be class codes 0..K-1 or class names; row {row} holds "
                f"{values[row]}, not a whole number."
            )
        return values.astype(np.int64), None
    # " cat" (as after "a, cat" in a CSV) is the class "cat"
    names, codes = np.unique(np.char.strip(values.astype(str)), return_inverse=True)
    return codes.astype(np.int64), [str(n) for n in names]


def _missing(values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Which labels are missing: NaN or infinite numbers, None, or blank text."""
    missing: np.ndarray[Any, Any]
    if values.dtype.kind == "f":
        missing = ~np.isfinite(values)
    else:
        blank = [isinstance(v, str) and not v.strip() for v in values]
        missing = np.asarray(import_pandas().isna(values)) | np.asarray(blank, dtype=bool)
    return missing


@dataclass(frozen=True)
class StreamedFile:
    """A ``.npy`` of pred_probs left on disk for the streaming engine."""

    path: Path
    shape: tuple[int, ...]


def stream_pred_probs(path: Path) -> StreamedFile:
    """Check that ``path`` is a 2-D float ``.npy`` the streaming engine can read in blocks."""
    from labelaudit.engines._sources import NpyChunks

    if path.suffix.lower() != ".npy":
        raise InvalidInputError(
            f"--engine streaming reads pred_probs from a .npy file. Got {str(path)!r}; convert "
            "it with numpy.save, or use --engine auto."
        )
    return StreamedFile(path, NpyChunks(path, None).header.shape)


def load_named_pred_probs(
    path: Path, annotations: Any = None
) -> tuple[np.ndarray[Any, Any], list[str] | None]:
    """An (N, K) float array from .npy, or from the numeric columns of a table, and, for a
    table, its column names. With ``annotations`` (as :func:`load_annotations` gives
    them), a table's ``item`` column says whose row each is, and the rows follow the
    annotated items in the order the analysis takes them."""
    columns = None
    if path.suffix.lower() == ".npy":
        probs = read_npy(path)
    else:
        frame = _read_frame(path, _starts_with_probabilities)
        if "label" in frame.columns and frame.shape[1] > 2:
            frame = frame.drop(columns="label")  # one table for both: --labels reads this one
        if annotations is not None and "item" in frame.columns:
            frame = _rows_of_items(frame, annotated_items(annotations), path)
        numeric = frame.select_dtypes("number")
        if numeric.shape[1] != frame.shape[1]:
            bad = [c for c in frame.columns if c not in numeric.columns]
            raise InvalidInputError(f"{path}: every column must be a probability; not {bad}.")
        probs = numeric.to_numpy()
        columns = [str(c).strip() for c in frame.columns]
        empty = np.flatnonzero(np.isnan(probs).all(axis=1))
        if empty.size:
            raise InvalidInputError(
                f"{path}: row(s) {empty[:5].tolist()} (counting data rows from 0) are empty, "
                "as from a blank line; every example needs its probabilities: fill or drop "
                "those rows, and the same labels."
            )
    if probs.ndim != 2 or probs.dtype.kind != "f":
        raise InvalidInputError(
            f"{path}: pred_probs must be a 2-D float array (N x K); got shape {probs.shape} "
            f"and dtype {probs.dtype}."
        )
    return probs, columns


def _rows_of_items(frame: Any, items: Any, path: Path) -> Any:
    """The rows of ``frame`` for ``items``, in that order, found by its ``item`` column."""
    ids = frame["item"]
    if not ids.is_unique:
        repeated = ids[ids.duplicated()].unique()[:5].tolist()
        raise InvalidInputError(f"{path}: items {repeated} have more than one row.")
    rows = frame.drop(columns="item").set_index(ids)
    absent = items.difference(rows.index)
    if len(absent):
        raise InvalidInputError(
            f"{path} has no row for {len(absent)} annotated item(s), such as "
            f"{absent[:5].tolist()}; give every annotated item its probabilities."
        )
    return rows.loc[items].reset_index(drop=True)


def _column_codes(names: list[str] | None, columns: list[str] | None) -> IntArray | None:
    """Each label name's column in pred_probs' header, when the header names every label
    (a model's classes_ need not be sorted, and classes absent from the labels keep their
    columns); else None: the sorted names stand."""
    if names is None or columns is None or not set(names) <= set(columns):
        return None
    position = {column: i for i, column in enumerate(columns)}
    return np.array([position[name] for name in names], dtype=np.int64)


def match_columns(
    codes: np.ndarray[Any, Any], names: list[str] | None, columns: list[str] | None
) -> tuple[np.ndarray[Any, Any], list[str] | None]:
    """String labels re-coded by pred_probs' column names (see :func:`_column_codes`)."""
    recode = _column_codes(names, columns)
    return (codes, names) if recode is None else (recode[codes], columns)


def check_given_names(names: list[str], given: list[str], header: list[str] | None) -> None:
    """``--class-names`` beside string labels give the column order: they must name every
    label, and agree with pred_probs' header when the header names the labels too."""
    known = set(given)
    missing = [name for name in names if name not in known]
    if missing:
        raise InvalidInputError(
            f"The labels are class names, and {missing[:5]} are not among --class-names "
            f"{given[:10]}; list every label, in the order of pred_probs' columns."
        )
    if header is not None and header == names and given != header:
        raise InvalidInputError(
            f"--class-names {given[:10]} order the classes unlike pred_probs' header "
            f"{header[:10]}, which gives the column order; drop --class-names or make them "
            "agree."
        )


def match_annotation_columns(
    table: Any, names: list[str] | None, columns: list[str] | None
) -> tuple[Any, list[str] | None]:
    """Annotations encoded from names (:func:`load_annotations`: float codes, NaN where
    missing) re-coded by pred_probs' column names, as :func:`match_columns` does."""
    recode = _column_codes(names, columns)
    if recode is None:
        return table, names
    moved = np.append(recode.astype(np.float64), np.nan)  # NaN (code -1) stays missing
    long = {"item", "annotator", "label"} <= set(table.columns)
    part = table[["label"]] if long else table
    codes = part.to_numpy()
    recoded = part.copy()
    recoded[:] = moved[np.where(np.isnan(codes), -1, codes).astype(np.int64)]
    return (table.assign(label=recoded["label"]) if long else recoded), columns


def annotated_items(table: Any) -> Any:
    """The ids of the annotated items, in the order the analysis takes them."""
    from labelaudit._annotators import as_long

    pd = import_pandas()
    long = as_long(table)
    return pd.RangeIndex(long.n_items) if long.item_index is None else long.item_index


def load_annotations(path: Path) -> tuple[Any, list[str] | None]:
    """A wide array (.npy) or a wide or long table (.csv / .parquet) of annotations, and,
    when the labels are strings (a long table's label column, or every annotator column
    of a wide table), the class names (sorted) after encoding them as codes."""
    if path.suffix.lower() == ".npy":
        return read_npy(path), None
    frame = _read_frame(path)
    if {"item", "annotator", "label"} <= set(frame.columns):
        if frame[["label"]].select_dtypes("number").shape[1]:
            return frame, None
        codes, names = _encode(frame[["label"]])
        return frame.assign(label=codes[:, 0]), names
    numeric = frame.select_dtypes("number")
    if numeric.shape[1] == frame.shape[1]:
        return frame, None
    if numeric.notna().to_numpy().any():  # numbers beside names (all-empty columns are fine)
        bad = [c for c in frame.columns if c not in numeric.columns]
        raise InvalidInputError(
            f"{path}: a wide table needs the same kind of label in every annotator column "
            f"(all numbers, or all names); columns {bad} hold text and the others numbers. "
            "A long table needs columns item, annotator, label."
        )
    codes, names = _encode(frame)
    pd = import_pandas()
    return pd.DataFrame(codes, index=frame.index, columns=frame.columns), names


def _encode(frame: Any) -> tuple[np.ndarray[Any, Any], list[str]]:
    """String labels as float codes into their sorted names, without surrounding spaces
    (NaN where missing or blank)."""
    values = frame.to_numpy(dtype=object)
    given = frame.notna().to_numpy()
    text = np.full(values.shape, "", dtype=object)
    text[given] = [str(v).strip() for v in values[given]]
    present = text != ""
    names = sorted(set(text[present]))
    index = {name: code for code, name in enumerate(names)}
    codes = np.full(values.shape, np.nan)
    codes[present] = [index[v] for v in text[present]]
    return codes, names


def parse_class_names(value: str | None, k: int | None) -> list[str] | None:
    """Names from a comma-separated list or a file with one name per line (``k`` names,
    when ``k`` is given)."""
    if value is None:
        return None
    path = Path(value)
    if path.is_file():
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidInputError(
                f"--class-names file {path} is not UTF-8 text; save it as UTF-8."
            ) from None
        names = [line.strip() for line in text.splitlines() if line.strip()]
    else:
        names = [name.strip() for name in value.split(",")]
        if not all(names):
            raise InvalidInputError(
                f"--class-names {value!r} has an empty name; give one name per class, "
                "separated by commas."
            )
    if k is not None and len(names) != k:
        raise InvalidInputError(f"--class-names gives {len(names)} names for {k} classes.")
    return names


def load_table_inputs(
    table: Path, label_column: str
) -> tuple[Any, list[str], np.ndarray[Any, Any], Any, Any]:
    """Codes, class names, the labels as given (numbers sort as numbers, anything else as
    text), features and the default model of a feature table."""
    from labelaudit.io import default_model, read_table

    X, y = read_table(table, label_column=label_column)
    values = y.to_numpy() if y.dtype.kind in "biuf" else y.astype(str).str.strip().to_numpy()
    classes, codes = np.unique(values, return_inverse=True)
    names = [str(v) for v in classes.tolist()]
    return codes.astype(np.int64), names, values, X, default_model(X)


def read_data_table(path: Path) -> Any:
    """A ``--data`` table: .csv, .tsv or .parquet, one row per example."""
    if path.suffix.lower() not in TABLE_SUFFIXES:
        raise InvalidInputError(f"--data {path}: expected a .csv, .tsv or .parquet table.")
    return _read_frame(path)


def short_value(value: Any) -> str:
    """A feature's value for the report: floats to 4 significant digits."""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


#: Issues the report lists.
REPORT_TOP = 50


def example_texts(X: Any, audit: Any, count: int) -> list[str]:
    """What the report shows of each listed issue of a feature table: its text column, or
    its features as ``column=value`` pairs (empty for the rows it does not list)."""
    from labelaudit.io import text_column

    texts = [""] * len(X)
    text = text_column(X)
    for i in audit.ranked_issues().head(count).index.tolist():
        row = X.iloc[i]
        if text is not None:
            texts[i] = str(row[text])
        else:
            texts[i] = "; ".join(f"{column}={short_value(value)}" for column, value in row.items())
    return texts


def _tags_of(frame: Any, path: Path, separator: str) -> tuple[Any, list[str]]:
    """A table's tags: its 0/1 columns as a matrix named by them, or its one column of
    class names joined by ``separator`` as lists of names (the names sorted)."""
    text = [c for c in frame.columns if frame[c].dtype.kind not in "biuf"]
    if not text:
        return frame.to_numpy(), [str(c).strip() for c in frame.columns]
    if frame.shape[1] != 1:
        raise InvalidInputError(
            f"{path}: expected one 0/1 column per class, or a single column of tags joined "
            f"by {separator!r}; columns {text} are not 0/1."
        )
    cells = [
        [] if not isinstance(cell, str) else [t.strip() for t in cell.split(separator)]
        for cell in frame.iloc[:, 0]
    ]
    rows = [[tag for tag in row if tag] for row in cells]
    return rows, sorted({tag for row in rows for tag in row})


def load_table_tags(table: Path, columns: list[str], separator: str) -> tuple[Any, list[str], Any]:
    """The tags in ``columns`` of a feature table (see :func:`_tags_of`), their class
    names and the other columns, the features."""
    frame = _read_frame(table)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InvalidInputError(
            f"{table} has no column(s) {missing}. Its columns: {list(frame.columns)[:20]}."
        )
    tags, names = _tags_of(frame[columns], table, separator)
    return tags, names, frame.drop(columns=columns)


def load_tags(path: Path, separator: str) -> tuple[Any, list[str] | None]:
    """The given tags of multi-label data and their class names, if the file has them:
    a 0/1 matrix (.npy, or a table with one 0/1 column per class, named by class), or a
    table with one column of class names joined by ``separator`` (the names sorted); of a
    table with several columns and a text column ``tags`` (the review page's reviewed
    labels), that column."""
    if path.suffix.lower() == ".npy":
        values = read_npy(path)
        if values.ndim != 2:
            raise InvalidInputError(
                f"{path}: expected a 0/1 matrix of shape (examples, classes); got shape "
                f"{values.shape}. For one label per example use 'labelaudit audit'."
            )
        return values, None
    frame = _read_frame(path)
    if "tags" in frame.columns and frame.shape[1] > 1 and frame["tags"].dtype.kind not in "biuf":
        frame = frame[["tags"]]
    return _tags_of(frame, path, separator)


def match_tags(
    tags: Any, names: list[str] | None, order: list[str] | None, path: Path
) -> tuple[Any, list[str] | None]:
    """The tags with their classes in ``order`` (the class names of pred_probs or
    --class-names): a 0/1 matrix's columns reordered, a list of names as class indices."""
    if isinstance(tags, np.ndarray):
        if names is None or order is None:
            return tags, order or names
        if sorted(names) != sorted(order):
            raise InvalidInputError(
                f"{path} has the classes {names} and pred_probs (or --class-names) {order}; "
                "give both the same classes."
            )
        return tags[:, [names.index(name) for name in order]], order
    classes = order or names or []
    index = {name: i for i, name in enumerate(classes)}
    unknown = sorted({tag for row in tags for tag in row} - index.keys())
    if unknown:
        raise InvalidInputError(
            f"{path}: tags {unknown[:5]} are not among the classes {classes[:10]}; give every "
            "class in --class-names (or as pred_probs' column names)."
        )
    return [[index[tag] for tag in row] for row in tags], classes
