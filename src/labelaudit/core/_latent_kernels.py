"""Compiled steps of :mod:`labelaudit.core.latent` for many classes.

Each step computes ``clip_noise_rates`` of a scaled K x K matrix. In NumPy that is three
to five passes (product, division, clip, column sums, division); at K = 1000 the 22 steps
of one estimate took about 0.1 s. Here each step is one pass, with the same floating-point
operations in the same order, so the results are equal to NumPy's, bit for bit:

- the inverse noise matrix is computed stored transposed (row ``i`` holds column ``i``),
  which is the layout NumPy gives it, whose column sums are then NumPy's pairwise sums
  of contiguous values;
- the noise matrix is C-ordered, so NumPy's column sums add its rows one after another.
"""

from __future__ import annotations

from typing import Any

from numba import njit, prange

from labelaudit.core._kernels import _ZERO, _pairwise_sum


@njit(cache=True, inline="always")
def _clip_rate(value: Any, high: float) -> Any:
    """``np.clip(value, 0.0, high)`` (NaN stays NaN)."""
    if value < 0.0:
        return 0.0
    if value > high:
        return high
    return value


@njit(cache=True, parallel=True, nogil=True)
def rates_transposed(
    a: Any, scale: Any, floor: Any, high: float, tiny: float, ops: Any, out: Any
) -> None:
    """``clip_noise_rates((a * scale).T / floor)``, written transposed into ``out`` (not
    ``a``: numba may assume that they do not overlap).

    Row ``i`` of ``out`` is column ``i`` of the result: ``a[i, j] * scale[j] / floor[i]``
    clipped to [0, high] off the diagonal, divided by its pairwise sum (at least ``tiny``,
    summed with the operations ``ops`` of a K-value plan)."""
    k = a.shape[0]
    for i in prange(k):
        row = out[i]
        diagonal = a[i, i] * scale[i] / floor[i]
        for j in range(k):
            row[j] = _clip_rate(a[i, j] * scale[j] / floor[i], high)
        row[i] = diagonal
        total = _pairwise_sum(row, _ZERO, ops, _ZERO, ops.shape[0])
        if total < tiny:
            total = tiny
        for j in range(k):
            row[j] = row[j] / total


@njit(cache=True, parallel=True, nogil=True)
def rates(a: Any, scale: Any, floor: Any, high: float, tiny: float, out: Any) -> None:
    """``clip_noise_rates((a.T * scale).T / floor)`` into the C-ordered ``out`` (not
    ``a``): ``a[i, j] * scale[i] / floor[j]`` clipped to [0, high] off the
    diagonal, each column divided by its sum (at least ``tiny``) taken row after row."""
    k = a.shape[0]
    for i in prange(k):
        diagonal = a[i, i] * scale[i] / floor[i]
        for j in range(k):
            out[i, j] = _clip_rate(a[i, j] * scale[i] / floor[j], high)
        out[i, i] = diagonal
    totals = out[0].copy()
    for i in range(1, k):
        for j in range(k):
            totals[j] += out[i, j]
    for j in range(k):
        if totals[j] < tiny:
            totals[j] = tiny
    for i in prange(k):
        for j in range(k):
            out[i, j] = out[i, j] / totals[j]
