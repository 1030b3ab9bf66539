"""The confident joint: counts of (given label, confidently estimated true label)."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Literal, NamedTuple, TypeAlias

import numpy as np

from labelaudit._typing import BoolArray, FloatArray, IntArray
from labelaudit.core._chunks import row_slices
from labelaudit.core.thresholds import TOLERANCE

#: How to pick the true label when several classes pass their thresholds: "confident" takes
#: the most probable of the classes that pass (the paper's definition, our default);
#: "argmax" takes the most probable of all classes (cleanlab 2.9, its issue 1248).
Collision: TypeAlias = Literal["confident", "argmax"]

#: Guards divisions by zero, as small as a float64 allows (cleanlab uses the same value).
TINY = 1e-100


class ConfidentCounts(NamedTuple):
    """What one pass of confident counting yields."""

    joint: IntArray
    """(K, K) raw confident joint, rows = given label, columns = estimated true label."""
    off_diagonal: BoolArray
    """(N,) examples counted off the diagonal (confident in a class other than the label)."""


def confident_counts(
    labels: IntArray,
    pred_probs: FloatArray,
    thresholds: FloatArray,
    collision: Collision = "confident",
) -> ConfidentCounts:
    """Count every example whose probability passes the threshold of at least one class.

    The estimated true label is the most probable class *among those that pass* (the
    confident-learning paper's definition; cleanlab 2.9 takes the argmax over all classes,
    its issue 1248; ``collision="argmax"`` reproduces it). Every diagonal cell is raised
    to at least 1.
    """
    k = pred_probs.shape[1]
    flat, off = confident_flat(labels, pred_probs, thresholds, collision)
    # Counted as [true, given] and returned transposed (Fortran order), as cleanlab's is:
    # calibration then sums in the same memory order and rounds to the same integers.
    joint = flat.reshape(k, k).T
    np.fill_diagonal(joint, np.maximum(joint.diagonal(), 1))
    return ConfidentCounts(joint, off)


def confident_flat(
    labels: IntArray,
    pred_probs: FloatArray,
    thresholds: FloatArray,
    collision: Collision = "confident",
) -> tuple[IntArray, BoolArray]:
    """:func:`confident_counts` before its last step: flat ``true * K + given`` counts
    (which add up over blocks of rows) and the rows counted off the diagonal."""
    n, k = pred_probs.shape
    cutoff = thresholds - thresholds.dtype.type(TOLERANCE)
    flat = np.zeros(k * k, dtype=np.int64)
    off = np.zeros(n, dtype=bool)
    for rows in row_slices(n, k, pred_probs.itemsize):
        chunk = pred_probs[rows]
        passes = chunk >= cutoff
        masked = np.where(passes, chunk, -np.inf)
        guess = masked.argmax(axis=1)
        confident = masked[np.arange(guess.shape[0]), guess] > -np.inf
        if collision == "argmax":
            guess = np.where(passes.sum(axis=1) > 1, chunk.argmax(axis=1), guess)
        given = labels[rows]
        flat += np.bincount(guess[confident] * k + given[confident], minlength=k * k)
        off[rows] = confident & (guess != given)
    return flat, off


def round_preserving_sum(values: FloatArray) -> IntArray:
    """Round to integers whose sum is the rounded sum of ``values``.

    The entries whose rounding lost (or gained) the most are moved by one. Ties are
    resolved through NumPy's default argsort of the rounding errors, as cleanlab does, so
    that calibrated joints are equal to cleanlab's, not merely close.
    """
    ints = values.round()
    target = np.sum(values).round()
    deficit = target - np.sum(ints).round()
    while abs(deficit) > TOLERANCE:
        step = 1.0 if deficit > 0 else -1.0
        n_moves = min(int(abs(deficit)), values.shape[0])
        order = np.argsort(values - ints)
        moved = order[::-1][:n_moves] if step > 0 else order[:n_moves]
        ints[moved] += step
        deficit = target - np.sum(ints).round()
    return ints.astype(np.int64)


def _round_chunk(values: FloatArray) -> FloatArray:
    """:func:`round_preserving_sum` of each row of a C-contiguous block (each row sum is
    then the pairwise sum ``np.sum(row)`` gives). Rows on their total after rounding are
    left alone; the others take their step together, from one 2-D argsort (which sorts
    each row as the 1-D argsort of that row alone does). One step is all a row takes:
    rounding moves a row's sum by at most K / 2, so the deficit is at most K / 2 + 1
    entries, each moved by exactly one."""
    k = values.shape[1]
    ints = values.round()
    targets = values.sum(axis=1).round()
    deficit = targets - ints.sum(axis=1).round()
    off = np.flatnonzero(np.abs(deficit) > TOLERANCE)
    if off.size == 0:
        return ints
    n_moves = np.minimum(np.abs(deficit[off]), k).astype(np.int64)
    order = np.argsort(values[off] - ints[off], axis=1)
    which = np.repeat(np.arange(off.shape[0]), n_moves)
    rank = np.arange(which.shape[0]) - np.repeat(np.cumsum(n_moves) - n_moves, n_moves)
    up = deficit[off][which] > 0
    place = np.where(up, k - 1 - rank, rank)  # from the end of the order when moving up
    ints[off[which], order[which, place]] += np.where(up, 1.0, -1.0)
    return ints


def _usable_cpus() -> int:
    """CPUs this process may run on (its affinity where the platform tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def round_rows(matrix: FloatArray) -> IntArray:
    """Round each row of ``matrix`` with :func:`round_preserving_sum`, a block of rows at
    a time (see :func:`_round_chunk`). With several blocks (K of about 500 or more), the
    blocks are shared between threads: their argsorts, most of the time, run without
    Python's lock."""
    n_rows, k = matrix.shape
    out = np.empty((n_rows, k), dtype=np.int64)

    def round_block(rows: slice) -> None:
        out[rows] = _round_chunk(np.ascontiguousarray(matrix[rows]))

    blocks = list(row_slices(n_rows, k, 8))
    workers = min(len(blocks), _usable_cpus())
    if workers < 2:
        for rows in blocks:
            round_block(rows)
        return out
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(round_block, blocks))
    return out


def calibrate(joint: IntArray, label_counts: IntArray) -> IntArray:
    """Rescale rows to the given label counts and the total to N, then round.

    The result's row ``i`` sums to the number of examples labeled ``i``.
    """
    row_totals = np.clip(joint.sum(axis=1), TINY, None)
    scaled = joint / row_totals[:, None]  # then in place: no more K x K temporaries
    scaled *= label_counts[:, None]
    scaled /= np.clip(np.sum(scaled), TINY, None)
    scaled *= label_counts.sum()
    return round_rows(scaled)
