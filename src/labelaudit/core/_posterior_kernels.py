"""Compiled passes of :mod:`labelaudit.core.posterior`.

Each pass reads a row, raises it to the sharpness ``power`` relative to its largest value
(``e_j = (p_j / p_max) ** power``, with ``p_j`` floored at ``floor``), and uses the
result without writing an N x K array. In NumPy the same pass made five N x K
temporaries (log, product, exp, quotient, posterior) and took about 1.5 s per pass
over 1e6 x 100 float32 values.

Terms below ``exp(-CUT)`` of the row's largest are skipped: the exponential is the
cost, and on real and synthetic data most of a row's probabilities are that small once
sharpened. What a skipped term could have added is at most ``K exp(-CUT)`` (the
channel's entries are at most 1); where the kept sum is not 1e12 times larger than
that, the row is recomputed with every term, so the result agrees with the full sum to
about 1e-12. In the channel counts (units of 2**-32 of a probability) a skipped term
would round to 0 anyway.

Counts are int64 (exact in any order), so the threads' shares add up to the same
matrix however rows are split. The log-likelihood is summed per block of
:data:`BLOCK` rows and then block after block, so it does not depend on the number of
threads either.

Arrays written are never arrays read (numba may assume that they do not overlap).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit, prange

from labelaudit.core._kernels import PREFETCH_ROWS, _int64, prefetch_row
from labelaudit.core.posterior import COUNT_UNIT as UNIT

#: Terms below exp(-CUT) (1.1e-20) of a row's largest are not computed (see above).
CUT = 46.0
#: The kept sum must exceed K exp(-CUT) by this factor, or the row is recomputed.
MARGIN = 1e12
#: Rows per block of the log-likelihood's partial sums.
BLOCK = 1024


@njit(cache=True, inline="always")
def _row_at(rows: Any, use_rows: bool, i: int) -> int:
    return rows[i] if use_rows else i


@njit(cache=True, inline="always")
def _prefetch_ahead(probs: Any, rows: Any, use_rows: bool, i: int) -> None:
    """With ``use_rows`` (a sample of rows, out of order), ask for the row
    :data:`PREFETCH_ROWS` ahead of ``i`` to be loaded while row ``i`` is worked on. It
    changes no result; the fit's passes over a sample of 100,000 of 1e6 x 100 float32 rows
    took 35 ms each without it, and 19 ms on a contiguous copy of the sample."""
    ahead = i + PREFETCH_ROWS
    if use_rows and ahead < rows.shape[0]:
        prefetch_row(probs, rows[ahead], max(1, 64 // probs.itemsize))


@njit(cache=True, inline="always")
def _powers(row: Any, power: Any, floor: Any, every: bool, e: Any, kept: Any) -> Any:
    """Fill ``e[kept[:n]]`` with ``(max(p, floor) / p_max) ** power`` for the terms kept
    (all with ``every``); return ``(n, sum of e)``. The logs and exponentials are in the
    precision of ``row``, ``power`` and ``floor`` (float32 halves their cost)."""
    k = row.shape[0]
    top = floor
    for j in range(k):
        top = max(top, row[j])
    log_top = math.log(top)
    cut = -1.0 if every else top * math.exp(-CUT / power)
    n = 0
    for j in range(k):  # without a branch: which terms are kept is unpredictable
        kept[n] = j
        n += max(row[j], floor) > cut
    total = 0.0
    for s in range(n):
        j = kept[s]
        value = math.exp(power * (math.log(max(row[j], floor)) - log_top))
        e[j] = value
        total += value
    return n, total


@njit(cache=True, error_model="numpy", inline="always")
def _explained(
    row: Any, lab: int, power: float, floor: float, noise_t: Any, every: bool, e: Any, kept: Any
) -> Any:
    """Powers of the row (every term with ``every``, and wherever the skipped terms could
    matter) and ``sum_j e_j noise[j, lab]`` over the terms kept. Returns ``(n, sum of e,
    that sum, its term j = lab)``."""
    bound = row.shape[0] * math.exp(-CUT) * MARGIN
    while True:
        n, total = _powers(row, power, floor, every, e, kept)
        explained = 0.0
        own = 0.0
        for t in range(n):
            j = kept[t]
            term = e[j] * noise_t[lab, j]
            explained += term
            if j == lab:
                own = term
        if every or explained > bound:
            return n, total, explained, own
        every = True


def split(n: int, parts: int) -> Any:
    """Bounds of ``parts`` contiguous ranges covering ``n`` (whole blocks of BLOCK rows)."""
    blocks = -(-n // BLOCK)
    return np.minimum(np.arange(parts + 1) * blocks // parts * BLOCK, n)


@njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def channel_counts(
    probs: Any, labels: Any, rows: Any, use_rows: bool, power: float, floor: float, bounds: Any
) -> Any:
    """``[given i, true j]`` sums of the sharpened rows, in units of 2**-32 (int64), over
    ``probs[rows]`` (all rows unless ``use_rows``); ``bounds`` splits the rows between
    threads, and the sums come per part of it (parts x K x K): the caller adds them up
    (exact in any order), in NumPy, which spares numba compiling its ``sum(axis=)``."""
    k = probs.shape[1]
    parts = bounds.shape[0] - 1
    shares = np.zeros((parts, k, k), dtype=np.int64)
    for t in prange(parts):
        e = np.empty(k)
        kept = np.empty(k, dtype=np.int64)
        share = shares[t]
        for i in range(bounds[t], bounds[t + 1]):
            _prefetch_ahead(probs, rows, use_rows, i)
            r = _row_at(rows, use_rows, i)
            n, total = _powers(probs[r], power, floor, False, e, kept)
            into = share[labels[r]]
            for s in range(n):
                j = kept[s]
                into[j] += np.int64(np.rint(e[j] / total * UNIT))
    return shares


@njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def log_likelihood(
    probs: Any,
    labels: Any,
    rows: Any,
    use_rows: bool,
    power: float,
    floor: float,
    noise_t: Any,
    bounds: Any,
) -> float:
    """``sum log P(given label)`` over ``probs[rows]``: ``log(sum_j q_j noise[j, label])``
    with ``noise_t`` the channel transposed (``[given, true]``)."""
    k = probs.shape[1]
    n_rows = bounds[-1]
    parts = bounds.shape[0] - 1
    sums = np.zeros(-(-n_rows // BLOCK))
    for t in prange(parts):
        e = np.empty(k)
        kept = np.empty(k, dtype=np.int64)
        for i in range(bounds[t], bounds[t + 1]):
            _prefetch_ahead(probs, rows, use_rows, i)
            r = _row_at(rows, use_rows, i)
            lab = labels[r]
            row = probs[r]
            _, total, explained, _ = _explained(row, lab, power, floor, noise_t, False, e, kept)
            sums[i // BLOCK] += math.log(explained) - math.log(total)
    total_ll = 0.0
    for b in range(sums.shape[0]):
        total_ll += sums[b]
    return total_ll


@njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def mislabeled(
    probs: Any, labels: Any, power: float, floor: float, noise_t: Any, bounds: Any, out: Any
) -> None:
    """``out[i] = 1 - P(true = labels[i] | row i)``, clipped to [0, 1]."""
    k = probs.shape[1]
    for t in prange(bounds.shape[0] - 1):
        e = np.empty(k)
        kept = np.empty(k, dtype=np.int64)
        for i in range(bounds[t], bounds[t + 1]):
            lab = labels[i]
            _, _, explained, own = _explained(probs[i], lab, power, floor, noise_t, False, e, kept)
            out[i] = min(1.0, max(0.0, 1.0 - own / explained))


@njit(cache=True)
def _best_other(e: Any, kept: Any, n: int, lab: int, noise_t: Any) -> int:
    """The kept class other than ``lab`` with the largest posterior (the first of equals),
    or -1 if none has a positive one."""
    best, best_j = 0.0, -1
    for s in range(n):
        j = kept[s]
        term = e[j] * noise_t[lab, j]
        if j != lab and term > best:
            best, best_j = term, j
    return best_j


@njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def summarize(
    probs: Any,
    labels: Any,
    power: float,
    floor: float,
    noise_t: Any,
    bounds: Any,
    p_wrong: Any,
    alt: Any,
    p_alt: Any,
    model_alt: Any,
) -> Any:
    """Per row: the probability that the label is wrong, the most probable other class,
    its posterior and its pred_probs value; returns the ``[given, true]`` sums of the
    posteriors in units of 2**-32, per part of ``bounds`` (as ``channel_counts``). The
    other class is chosen among the kept terms, which is exact wherever its posterior is
    above 1e-12 (a skipped one is below 1e-12 / K)."""
    k = probs.shape[1]
    parts = bounds.shape[0] - 1
    shares = np.zeros((parts, k, k), dtype=np.int64)
    for t in prange(parts):
        e = np.empty(k)
        kept = np.empty(k, dtype=np.int64)
        share = shares[t]
        for i in range(bounds[t], bounds[t + 1]):
            lab = labels[i]
            row = probs[i]
            n, _, explained, own = _explained(row, lab, power, floor, noise_t, False, e, kept)
            best_j = _best_other(e, kept, _int64(n), lab, noise_t)
            if best_j < 0 and n < k:  # every kept other class has none: look at them all
                n, _, explained, own = _explained(row, lab, power, floor, noise_t, True, e, kept)
                best_j = _best_other(e, kept, _int64(n), lab, noise_t)
            other = 0.0
            if best_j >= 0:
                other = e[best_j] * noise_t[lab, best_j] / explained
            else:  # none at all: the first other class, as argmax would say
                best_j = 1 if lab == 0 else 0
            into = share[lab]
            for s in range(n):
                j = kept[s]
                into[j] += np.int64(np.rint(e[j] * noise_t[lab, j] / explained * UNIT))
            p_wrong[i] = min(1.0, max(0.0, 1.0 - own / explained))
            alt[i] = best_j
            p_alt[i] = min(1.0, other)
            model_alt[i] = row[best_j]
    return shares


@njit(cache=True)
def best_prefix(top: Any, total: float) -> Any:
    """The first ``m`` at which ``2 sum(top[:m + 1]) / (m + 1 + total)`` is largest, and
    that largest value, the sum taken in order (as ``np.cumsum``), with ``top`` sorted
    decreasing."""
    running = 0.0
    best, best_m = -1.0, 0
    for m in range(top.shape[0]):
        running += top[m]
        f1 = 2.0 * running / (np.float64(m + 1) + total)
        if f1 > best:
            best, best_m = f1, m
    return best_m, best
