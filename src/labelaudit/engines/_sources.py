"""Where the streaming and Dask engines read pred_probs from, a block of rows at a time.

A source yields ``(start, labels, pred_probs)`` blocks in row order, as often as an engine
asks (each pass reads it again). Blocks are checked by the engines' passes, not here:
sources only read. Empty blocks are skipped.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from labelaudit._typing import FloatArray
from labelaudit.exceptions import InvalidInputError

#: Bytes of pred_probs a streaming block holds when the caller does not say.
BLOCK_BYTES = 1 << 25

#: Classes assumed per row when sizing Parquet batches of a list column (unknown upfront).
_LIST_WIDTH_GUESS = 256

Block = tuple[int, Any, Any]
"""(first row, labels of the block, pred_probs of the block)."""


def rows_per_block(n_columns: int, itemsize: int, chunk_rows: int | None) -> int:
    """``chunk_rows`` if given, else as many rows as fit in :data:`BLOCK_BYTES`."""
    if chunk_rows is not None:
        return chunk_rows
    return max(1, BLOCK_BYTES // max(1, n_columns * itemsize))


def _counted(blocks: Iterable[tuple[Any, Any]]) -> Iterator[Block]:
    """Number the rows of ``(labels, pred_probs)`` blocks, skipping empty ones."""
    start = 0
    for labels, probs in blocks:
        n = len(probs)
        if n:
            yield start, labels, probs
        elif len(labels):
            raise InvalidInputError(
                f"The chunk at row {start} has {len(labels)} labels but no rows of pred_probs."
            )
        start += n


class ChunkSource:
    """pred_probs and labels read a block of rows at a time, as often as needed.

    Build one with :func:`labelaudit.io.npy_chunks`, :func:`labelaudit.io.parquet_chunks`
    or :func:`labelaudit.io.iter_chunks`, and pass it as ``pred_probs`` (with
    ``labels=None``) to any public function: the streaming engine then reads it in at most
    three passes without holding it in memory.
    """

    description = "chunks"

    def blocks(self) -> Iterator[Block]:
        """Yield ``(first row, labels, pred_probs)`` for each non-empty block, in order."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.description})"


@dataclass(frozen=True, repr=False)
class ArrayChunks(ChunkSource):
    """In-memory arrays cut into blocks of rows (views, no copies)."""

    labels: Any
    pred_probs: Any
    chunk_rows: int | None = None

    @property
    def description(self) -> str:  # type: ignore[override]
        return f"array of shape {np.shape(self.pred_probs)}"

    def blocks(self) -> Iterator[Block]:
        probs = self.pred_probs
        step = rows_per_block(probs.shape[1], probs.dtype.itemsize, self.chunk_rows)
        for start in range(0, probs.shape[0], step):
            yield start, self.labels[start : start + step], probs[start : start + step]


@dataclass(frozen=True)
class NpyHeader:
    """What a ``.npy`` file's header says about the array that follows it."""

    shape: tuple[int, ...]
    dtype: np.dtype[Any]
    fortran_order: bool
    offset: int


def read_npy_header(path: Path) -> NpyHeader:
    """Read the header of a ``.npy`` file, with a clear error for anything else."""
    fmt = np.lib.format
    try:
        with open(path, "rb") as f:
            version = fmt.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = fmt.read_array_header_1_0(f)
            elif version == (2, 0):
                shape, fortran, dtype = fmt.read_array_header_2_0(f)
            else:
                raise ValueError(f"unsupported .npy format version {version}")
            return NpyHeader(tuple(shape), np.dtype(dtype), bool(fortran), f.tell())
    except OSError as exc:
        raise InvalidInputError(f"Cannot read {os.fspath(path)!r}: {exc}") from exc
    except ValueError as exc:
        raise InvalidInputError(
            f"{os.fspath(path)!r} is not a .npy file numpy can read ({exc}); save pred_probs "
            "with numpy.save."
        ) from exc


def read_into(file: Any, out: FloatArray) -> int:
    """Fill the C-contiguous ``out`` from ``file``'s current position; bytes read."""
    got: int = file.readinto(out.data.cast("B"))
    return got


@dataclass(frozen=True, repr=False)
class NpyChunks(ChunkSource):
    """A 2-D ``.npy`` file read a block of rows at a time (plain reads into a block-sized
    buffer: only the page cache holds the file, never the process)."""

    path: Path
    labels: Any
    chunk_rows: int | None = None
    header: NpyHeader = field(init=False)

    def __post_init__(self) -> None:
        header = read_npy_header(self.path)
        if len(header.shape) != 2:
            raise InvalidInputError(
                f"pred_probs in {os.fspath(self.path)!r} must be 2-D of shape (n_samples, "
                f"n_classes). Got shape {header.shape}."
            )
        if header.fortran_order:
            raise InvalidInputError(
                f"{os.fspath(self.path)!r} is stored in Fortran (column) order, which cannot be "
                "read a block of rows at a time. Save it with "
                "numpy.save(path, numpy.ascontiguousarray(pred_probs))."
            )
        if header.dtype.kind != "f" or header.dtype.hasobject:
            raise InvalidInputError(
                f"pred_probs in {os.fspath(self.path)!r} must hold floating-point numbers. "
                f"Got dtype {header.dtype}."
            )
        object.__setattr__(self, "header", header)

    @property
    def description(self) -> str:  # type: ignore[override]
        return f"{os.fspath(self.path)!r}, shape {self.header.shape}"

    def blocks(self) -> Iterator[Block]:
        n, k = self.header.shape
        step = rows_per_block(k, self.header.dtype.itemsize, self.chunk_rows)
        for start in range(0, n, step):
            block = self.read_rows(start, min(step, n - start))
            yield start, self.labels[start : start + block.shape[0]], block

    def read_rows(self, start: int, n_rows: int) -> FloatArray:
        """Rows ``start:start + n_rows`` (the Dask engine's blocks call this on workers)."""
        n, k = self.header.shape
        block: FloatArray = np.empty((n_rows, k), dtype=self.header.dtype)
        with open(self.path, "rb") as f:
            f.seek(self.header.offset + start * k * self.header.dtype.itemsize)
            if read_into(f, block) != block.nbytes:
                raise InvalidInputError(
                    f"{os.fspath(self.path)!r} ends early: its header promises {n} rows; "
                    "the file is truncated. Write it again."
                )
        return block


#: Arrow dataset formats by file suffix (a directory is read as Parquet files).
TABLE_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".arrow": "ipc", ".feather": "ipc"}


def table_format(path: Path) -> str | None:
    """The Arrow dataset format of a table file or a directory of Parquet files."""
    return "parquet" if path.is_dir() else TABLE_FORMATS.get(path.suffix.lower())


def open_table(path: Path) -> Any:
    """The ``pyarrow.dataset`` of a Parquet or Arrow IPC file, or of a directory of
    Parquet files (read in their sorted order)."""
    import pyarrow.dataset as ds

    return ds.dataset(path, format=table_format(path))


@dataclass(frozen=True, repr=False)
class ParquetChunks(ChunkSource):
    """A Parquet or Arrow IPC (Feather) file, or a directory of Parquet files, with a
    label column and either one probability column per class or one list column of
    probabilities, read a record batch at a time."""

    path: Path
    label_column: str
    prob_columns: tuple[str, ...]
    chunk_rows: int | None = None

    @property
    def description(self) -> str:  # type: ignore[override]
        return f"{os.fspath(self.path)!r}, labels in {self.label_column!r}"

    def blocks(self) -> Iterator[Block]:
        width = len(self.prob_columns)
        step = rows_per_block(width if width > 1 else _LIST_WIDTH_GUESS, 4, self.chunk_rows)
        columns = [self.label_column, *self.prob_columns]
        # One thread: batches then come in file order, the same on every pass.
        batches = open_table(self.path).to_batches(
            columns=columns, batch_size=step, use_threads=False
        )
        yield from _counted(self._arrays(batch) for batch in batches)

    def _arrays(self, batch: Any) -> tuple[Any, Any]:
        labels = batch.column(0).to_numpy(zero_copy_only=False)
        if len(self.prob_columns) > 1:
            return labels, np.column_stack(
                [
                    batch.column(i).to_numpy(zero_copy_only=False)
                    for i in range(1, batch.num_columns)
                ]
            )
        return labels, list_column(batch.column(1), self.prob_columns[0])


def list_column(column: Any, name: str) -> Any:
    """A list column of equal-length probability lists as a 2-D array."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not (pa.types.is_list(column.type) or pa.types.is_large_list(column.type)) and not (
        pa.types.is_fixed_size_list(column.type)
    ):
        raise InvalidInputError(
            f"Column {name!r} must hold one probability per class: several numeric columns, "
            f"or one list column. Got type {column.type}."
        )
    lengths = pc.list_value_length(column).to_numpy(zero_copy_only=False)
    if len(lengths) and (lengths != lengths[0]).any():
        raise InvalidInputError(
            f"Every list in column {name!r} must have one probability per class (the same "
            f"length). Got lengths {sorted(set(lengths.tolist()))[:5]}."
        )
    values = column.flatten().to_numpy(zero_copy_only=False)
    return values.reshape(len(column), -1)


@dataclass(frozen=True, repr=False)
class IterChunks(ChunkSource):
    """Blocks from a function that returns a new iterable of ``(labels, pred_probs)``."""

    factory: Callable[[], Iterable[tuple[Any, Any]]]

    @property
    def description(self) -> str:  # type: ignore[override]
        return getattr(self.factory, "__name__", type(self.factory).__name__)

    def blocks(self) -> Iterator[Block]:
        yield from _counted(self._pairs())

    def _pairs(self) -> Iterator[tuple[Any, Any]]:
        for item in self.factory():
            if not isinstance(item, tuple | list) or len(item) != 2:
                raise InvalidInputError(
                    f"Each chunk must be a (labels, pred_probs) pair. Got {type(item).__name__}."
                )
            yield item[0], item[1]
