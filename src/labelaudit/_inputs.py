"""Choose the engine for the inputs a public function was given, and prepare them.

``engine="auto"`` picks by input: NumPy arrays (and anything array-like) run in memory;
a ``dask.array`` runs on Dask; a path to a ``.npy`` or Parquet file, a
:class:`~labelaudit.engines._sources.ChunkSource` or a function returning chunks streams.
Any engine can be asked for explicitly: in memory, files and chunks are read whole;
streamed, arrays are cut into blocks; on Dask, arrays and ``.npy`` files become dask arrays.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from labelaudit._typing import Engine
from labelaudit._validation import (
    as_pred_probs,
    check_inputs,
    check_n_classes,
    check_option,
    is_pandas,
)
from labelaudit.engines import _inmemory as mem
from labelaudit.engines._sources import (
    ArrayChunks,
    ChunkSource,
    IterChunks,
    NpyChunks,
    rows_per_block,
    table_format,
)
from labelaudit.engines._streaming import (
    DaskRunner,
    SerialRunner,
    StreamPrepared,
    dask_blocks,
    is_dask,
    prepare_stream,
)
from labelaudit.exceptions import InvalidInputError

ENGINES = ("auto", "numpy", "streaming", "dask")


def _pandas_index(value: Any) -> Any:
    """The index of a pandas Series or DataFrame, else None."""
    return value.index if is_pandas(value) and hasattr(value, "index") else None


def check_aligned(labels: Any, pred_probs: Any) -> None:
    """Rows are paired by position. Two pandas objects holding the same index labels in
    another order (one of them sorted or shuffled since) would pair other examples."""
    left, right = _pandas_index(labels), _pandas_index(pred_probs)
    if left is None or right is None or left.equals(right) or len(left) != len(right):
        return
    if left.is_unique and right.is_unique and left.sort_values().equals(right.sort_values()):
        raise InvalidInputError(
            "labels and pred_probs hold the same index labels in another order; rows are "
            "paired by position, so row i of each must be the same example. Align them "
            "first, for example pred_probs = pred_probs.loc[labels.index]."
        )


def kind_of(pred_probs: Any) -> str:
    """The engine ``auto`` picks for ``pred_probs``."""
    if is_dask(pred_probs):
        return "dask"
    if isinstance(pred_probs, ChunkSource | str | os.PathLike) or callable(pred_probs):
        return "streaming"
    return "numpy"


def prepare_input(
    labels: Any,
    pred_probs: Any,
    n_classes: Any,
    engine: Engine | str,
    extent: mem.Extent,
    needs: frozenset[str] = frozenset(),
) -> mem.Prepared | StreamPrepared:
    """Validate the inputs, pick the engine and run its first pass(es).

    ``needs`` names what the streaming engines must collect in those passes for the
    method at hand (see ``prepare_stream``); the in-memory engine computes on demand, but
    for the pruning pass's seeds ("prune"), which its joint's pass keeps.
    """
    chosen = check_option("engine", engine, ENGINES)
    if chosen == "auto":
        chosen = kind_of(pred_probs)
    if chosen == "numpy":
        labs, probs, k = check_inputs(*in_memory(labels, pred_probs), n_classes)
        return mem.prepare(labs, probs, k, extent, needs)
    if n_classes is not None:
        check_n_classes(n_classes, n_classes if isinstance(n_classes, int) else -1)
    runner = (
        DaskRunner(*dask_inputs(labels, pred_probs))
        if chosen == "dask"
        else SerialRunner(as_source(labels, pred_probs))
    )
    return prepare_stream(runner, n_classes, extent, needs)


def as_source(labels: Any, pred_probs: Any) -> ChunkSource:
    """The chunk source that streams ``pred_probs`` (with ``labels``)."""
    if isinstance(pred_probs, ChunkSource):
        _no_labels(labels, "a chunk source (it holds its labels)")
        return pred_probs
    if isinstance(pred_probs, str | os.PathLike):
        return path_source(labels, Path(pred_probs))
    if is_dask(pred_probs):
        return DaskArrayChunks(*dask_inputs(labels, pred_probs))
    if callable(pred_probs):
        _no_labels(labels, "a function returning (labels, pred_probs) chunks")
        return IterChunks(pred_probs)
    probs = as_pred_probs(pred_probs)
    return ArrayChunks(sized_labels(labels, probs.shape[0]), probs)


def _no_labels(labels: Any, what: str) -> None:
    if labels is not None:
        raise InvalidInputError(
            f"labels must be None when pred_probs is {what}. Got labels of type "
            f"{type(labels).__name__}."
        )


def path_source(labels: Any, path: Path) -> ChunkSource:
    """A ``.npy`` file (labels: an array or a ``.npy`` path) or a Parquet / Arrow table
    (labels: the label column's name, default ``"label"``)."""
    from labelaudit.io import npy_chunks, parquet_chunks

    if path.suffix == ".npy":
        return npy_chunks(path, labels)
    if table_format(path) is not None:
        if labels is not None and not isinstance(labels, str):
            raise InvalidInputError(
                "With a table file as pred_probs, labels must name its label column (a str) "
                f"or be None for 'label'. Got {type(labels).__name__}."
            )
        return parquet_chunks(path, label_column=labels or "label")
    raise InvalidInputError(
        "pred_probs given as a path must be a .npy, Parquet or Arrow file (or a directory of "
        f"Parquet files). Got {os.fspath(path)!r}; load other formats into an array first."
    )


def load_labels(labels: Any) -> Any:
    """Labels as given, or memory-mapped from a ``.npy`` path (read, never copied whole)."""
    if labels is None:
        raise InvalidInputError("labels is required: one class index per row of pred_probs.")
    if isinstance(labels, ChunkSource):
        raise InvalidInputError(
            "A chunk source holds the labels too: pass it as pred_probs, with labels=None."
        )
    if isinstance(labels, str | os.PathLike):
        if Path(labels).suffix.lower() != ".npy":
            raise InvalidInputError(
                f"labels given as a path must be a .npy file (numpy.save). Got "
                f"{os.fspath(labels)!r}; load other formats into an array first (for a CSV, "
                "pandas.read_csv(path)['label'].to_numpy())."
            )
        try:
            return np.load(labels, mmap_mode="r")
        except (OSError, ValueError) as exc:
            raise InvalidInputError(
                f"Cannot read labels from {os.fspath(labels)!r}: {exc}. Pass a .npy file "
                "saved with numpy.save, or an array."
            ) from exc
    if hasattr(labels, "to_numpy"):
        return labels.to_numpy()
    return labels if is_dask(labels) else np.asarray(labels)


def sized_labels(labels: Any, n_rows: int) -> Any:
    """:func:`load_labels`, checked to hold one label per row."""
    labs = load_labels(labels)
    if np.ndim(labs) != 1:
        raise InvalidInputError(
            f"labels must be 1-D, one class index per example. Got shape {np.shape(labs)}."
        )
    if labs.shape[0] != n_rows:
        raise InvalidInputError(
            f"labels and pred_probs must have the same length. Got {labs.shape[0]} labels and "
            f"{n_rows} rows of pred_probs."
        )
    return labs


def in_memory(labels: Any, pred_probs: Any) -> tuple[Any, Any]:
    """Labels and pred_probs as arrays, read whole (for ``engine="numpy"``)."""
    check_aligned(labels, pred_probs)
    if kind_of(pred_probs) == "numpy":
        return load_labels(labels), pred_probs
    if is_dask(pred_probs):
        labs, probs = dask_inputs(labels, pred_probs)
        return (labs.compute() if is_dask(labs) else labs), probs.compute()
    parts = [
        (np.asarray(lab), np.asarray(p)) for _, lab, p in as_source(labels, pred_probs).blocks()
    ]
    if not parts:
        raise InvalidInputError("pred_probs is empty: there must be at least one example.")
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def dask_inputs(labels: Any, pred_probs: Any) -> tuple[Any, Any]:
    """(labels, pred_probs as a dask array with whole-row blocks) for the Dask engine."""
    import dask.array as da

    if isinstance(pred_probs, str | os.PathLike) and Path(pred_probs).suffix == ".npy":
        pred_probs = npy_dask_array(Path(pred_probs))
    elif not is_dask(pred_probs):
        if isinstance(pred_probs, ChunkSource | str | os.PathLike) or callable(pred_probs):
            raise InvalidInputError(
                "engine='dask' takes a dask.array, a NumPy array or a .npy path as pred_probs. "
                f"Got {type(pred_probs).__name__}; use engine='streaming' for other files and "
                "chunk sources."
            )
        probs = as_pred_probs(pred_probs)
        step = rows_per_block(probs.shape[1], probs.dtype.itemsize, None)
        pred_probs = da.from_array(probs, chunks=(step, -1))
    if not hasattr(pred_probs, "rechunk"):  # a dask DataFrame or Bag, not an array
        raise InvalidInputError(
            f"The Dask engine takes pred_probs as a dask.array. Got a {type(pred_probs).__name__}; "
            "convert it with .to_dask_array(lengths=True)."
        )
    if pred_probs.ndim != 2:
        raise InvalidInputError(
            f"pred_probs must be 2-D of shape (n_samples, n_classes). Got shape {pred_probs.shape}."
        )
    if np.isnan(pred_probs.shape[0]):
        raise InvalidInputError(
            "The dask array pred_probs has unknown chunk sizes; call "
            "pred_probs.compute_chunk_sizes() first."
        )
    return sized_labels(labels, int(pred_probs.shape[0])), pred_probs


def npy_dask_array(path: Path) -> Any:
    """A dask array whose blocks each read their own rows of a ``.npy`` file (on a
    cluster, every worker must see the file at the same path)."""
    import dask
    import dask.array as da

    source = NpyChunks(path, None)
    n, k = source.header.shape
    dtype = source.header.dtype
    step = rows_per_block(k, dtype.itemsize, None)
    read: Callable[..., Any] = dask.delayed(source.read_rows, pure=True)
    blocks = [
        da.from_delayed(read(start, min(step, n - start)), (min(step, n - start), k), dtype=dtype)
        for start in range(0, n, step)
    ]
    return da.concatenate(blocks, axis=0)


class DaskArrayChunks(ChunkSource):
    """A dask array's row blocks computed one after another (``engine="streaming"``)."""

    def __init__(self, labels: Any, pred_probs: Any) -> None:
        self.labels, self.pred_probs = labels, pred_probs
        self.description = f"dask array of shape {pred_probs.shape}"

    def blocks(self) -> Any:
        for start, labels, probs in dask_blocks(self.labels, self.pred_probs):
            yield start, labels.compute() if hasattr(labels, "compute") else labels, probs.compute()
