"""Row chunking: bound the size of temporaries made from an N x K array."""

from __future__ import annotations

from collections.abc import Iterator

#: Bytes of pred_probs handled at once; a few such temporaries fit in a core's cache.
CHUNK_BYTES = 1 << 21


def row_slices(n_rows: int, n_cols: int, itemsize: int) -> Iterator[slice]:
    """Yield consecutive row slices covering ``n_rows`` rows of about CHUNK_BYTES each."""
    step = max(1, CHUNK_BYTES // max(1, n_cols * itemsize))
    for start in range(0, n_rows, step):
        yield slice(start, min(start + step, n_rows))
