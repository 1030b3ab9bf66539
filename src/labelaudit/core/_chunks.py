"""Row chunking: bound the size of temporaries made from an N x K array; and the one
layout the kernels get pred_probs in."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

#: Bytes of pred_probs handled at once; a few such temporaries fit in a core's cache.
CHUNK_BYTES = 1 << 21


def row_slices(n_rows: int, n_cols: int, itemsize: int) -> Iterator[slice]:
    """Yield consecutive row slices covering ``n_rows`` rows of about CHUNK_BYTES each."""
    step = max(1, CHUNK_BYTES // max(1, n_cols * itemsize))
    for start in range(0, n_rows, step):
        yield slice(start, min(start + step, n_rows))


def read_only(arr: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """A read-only view (no copy), as every pred_probs-shaped input of the kernels is.
    numba compiles a kernel once per argument type, and read-only is part of the type:
    pandas 3 hands out read-only arrays, NumPy writable ones, so without this each kernel
    was compiled twice on a machine (about 11 s more on the first audit of a DataFrame, at
    the same speed), and two processes compiling the second variant at once could clash
    in the cache."""
    view = arr.view()
    view.setflags(write=False)
    return view
