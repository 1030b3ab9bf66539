"""The passes of the streaming and Dask engines: what one block of rows contributes, and
how contributions merge.

A pass is :func:`run_block` applied to every block with the same :class:`Plan`, then an
:class:`Accumulator` fed the results in row order. Every statistic is either per row
(concatenated), an integer count (summed: exact in any order) or a bounded selection
(merged), and each block is computed with the in-memory engine's own functions, so the
engines' results are equal, not just close. Functions here are pure and picklable: the
Dask engine runs :func:`run_block` on the workers.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from labelaudit._typing import BoolArray, FloatArray, IntArray
from labelaudit._validation import (
    RowStats,
    as_labels,
    as_pred_probs,
    check_n_classes,
    row_stats,
)
from labelaudit.core import posterior, prune
from labelaudit.core._chunks import read_only
from labelaudit.core.joint import Collision, confident_flat
from labelaudit.core.scores import SCORERS, adjusted_score
from labelaudit.core.thresholds import TOLERANCE
from labelaudit.engines import _inmemory as mem
from labelaudit.exceptions import InvalidInputError

#: numba's default threading layer must not run two parallel kernels at once; blocks
#: that run in threads of one process (Dask workers) take turns on the kernels.
KERNEL_LOCK = threading.Lock()


@dataclass(frozen=True)
class Cells:
    """The noise cells to select from (CSR by given class, as ``_inmemory._cells``)."""

    active: BoolArray
    start: IntArray
    true: IntArray
    m: IntArray
    floor: FloatArray | None = None
    """Per cell, a margin its (m+1)-th largest is known to reach (from blocks already
    merged), or None: blocks then only offer larger margins."""


@dataclass(frozen=True)
class Plan:
    """What one pass computes for each block. Fields left at their defaults are skipped."""

    n_classes: int | None
    """Columns every block must have (None in a first pass without ``n_classes``)."""
    kernels: bool = True
    """Use the compiled kernels for float32/float64 blocks (tests compare both paths)."""
    check: bool = False
    """Validate the rows' values (first pass)."""
    self_confidence: bool = False
    quality: str | None = None
    """A label quality score, as label_quality_scores computes it (float64)."""
    rank: str | None = None
    """A label quality score in pred_probs' precision, as rank_label_issues sorts by."""
    predicted: bool = False
    """Whether the argmax differs from the label, and whether the label wins (below)."""
    accuracy: bool = False
    sample: bool = False
    """Keep the posterior's fitting sample: the :func:`posterior.fit_size` rows with the
    smallest :func:`posterior.sample_keys`."""
    thresholds: FloatArray | None = None
    """Count the confident joint against these thresholds."""
    collision: Collision = "confident"
    wins: bool = False
    """Whether the label is the argmax with a 1e-6 head start."""
    low: str | None = None
    """A score for the low_* methods, in pred_probs' precision."""
    adjusted: str | None = None
    """A score of threshold-adjusted probabilities (uses ``thresholds``)."""
    power: float | None = None
    """Sum the sharpened channel counts (alone) or the posterior (with ``channel``)."""
    channel: FloatArray | None = None
    summary: bool = False
    """With ``power`` and ``channel``: the audit's posterior summary instead of p alone."""
    cells: Cells | None = None
    """Keep each noise cell's m + 1 largest margins."""
    tied: tuple[tuple[int, int], ...] = ()
    """(given, true) cells whose margins tie at the cut: keep all margins of their class."""


def check_block(
    start: int, labels: Any, probs: Any, n_classes: int | None
) -> tuple[IntArray, FloatArray]:
    """Validate a block's types and shapes (positions in messages count from ``start``)."""
    arr = as_pred_probs(probs)
    k = check_n_classes(n_classes, arr.shape[1])
    labs = as_labels(labels, n_classes=k, offset=start)
    if labs.shape[0] != arr.shape[0]:
        raise InvalidInputError(
            f"labels and pred_probs must have the same length. The chunk at row {start} has "
            f"{labs.shape[0]} labels and {arr.shape[0]} rows of pred_probs."
        )
    return labs, read_only(np.ascontiguousarray(arr))


def _compiled(plan: Plan, probs: FloatArray) -> bool:
    return plan.kernels and probs.dtype in mem.KERNEL_DTYPES


def _stats(plan: Plan, labels: IntArray, probs: FloatArray, start: int) -> tuple[float, ...]:
    """(low, high, distance of the worst row sum from 1, its row, its sum, first bad row)."""
    if not _compiled(plan, probs):
        return _located(row_stats(probs), start)
    with KERNEL_LOCK:
        stats = mem.check_rows(probs)
    return _located(stats, start)


def _located(stats: RowStats, start: int) -> tuple[float, ...]:
    """A block's :class:`RowStats` as :func:`_stats`' tuple, rows counted from ``start``."""
    worst = start + stats.worst_row if stats.worst_row >= 0 else -1
    bad = start + stats.bad_row if stats.bad_row >= 0 else -1
    dev = abs(stats.worst_sum - 1.0) if worst >= 0 else 0.0
    return (stats.low, stats.high, dev, worst, stats.worst_sum, bad)


def _wins(plan: Plan, labels: IntArray, probs: FloatArray) -> BoolArray:
    if _compiled(plan, probs):
        rows = np.arange(labels.shape[0], dtype=np.int64)
        with KERNEL_LOCK:
            wins: BoolArray = mem.kernels().label_wins(
                labels, probs, rows, probs.dtype.type(TOLERANCE)
            )
        return wins
    return prune.label_wins(labels, probs)


def _argmax_differs(plan: Plan, labels: IntArray, probs: FloatArray) -> BoolArray:
    if _compiled(plan, probs):
        with KERNEL_LOCK:
            differs: BoolArray = mem.kernels().argmax_differs(
                labels, probs, mem.kernels().bits_of(probs)[0]
            )
        return differs
    return np.asarray(probs.argmax(axis=1) != labels)


def _quality(
    plan: Plan, labels: IntArray, probs: FloatArray, start: int
) -> tuple[FloatArray, tuple[float, ...]]:
    """Scores as ``_inmemory.checked_scores`` computes them (float64) and the block's
    row checks, in one scan when compiled."""
    method = plan.quality or ""
    if not _compiled(plan, probs):
        scores = np.asarray(SCORERS[method](labels, probs), dtype=np.float64)
        return scores, _stats(plan, labels, probs, start)
    with KERNEL_LOCK:
        out, raw = mem.scan_scores(labels, probs, method)
    return out, _located(mem.combine_stats(probs, raw), start)


def _joint(plan: Plan, labels: IntArray, probs: FloatArray) -> tuple[IntArray, BoolArray]:
    """Flat (true * K + given) confident counts and the rows counted off the diagonal."""
    assert plan.thresholds is not None
    if not _compiled(plan, probs):
        return confident_flat(labels, probs, plan.thresholds, plan.collision)
    with KERNEL_LOCK:  # the blocks were checked in the first pass
        off, per_thread, _, _ = mem.confident_rows(labels, probs, plan.thresholds, plan.collision)
    return per_thread.sum(axis=0, dtype=np.int64), off


def _sample(size: int, labels: IntArray, probs: FloatArray, start: int) -> dict[str, Any]:
    rows = np.arange(start, start + labels.shape[0], dtype=np.int64)
    keys = posterior.sample_keys(rows)
    if keys.shape[0] > size:
        pick = np.argpartition(keys, size - 1)[:size]
        keys, rows, labels, probs = keys[pick], rows[pick], labels[pick], probs[pick]
    return {"keys": keys, "rows": rows, "labels": labels, "probs": probs}


def _cell_candidates(
    plan: Plan, labels: IntArray, probs: FloatArray, start: int
) -> tuple[IntArray, FloatArray, IntArray]:
    """(cell, margin P(true) - P(given), row) of each cell's m + 1 largest margins here."""
    cells = plan.cells
    assert cells is not None
    k = probs.shape[1]
    counts = np.bincount(labels, minlength=k).astype(np.int64)
    floor = np.full(cells.m.shape[0], -np.inf) if cells.floor is None else cells.floor
    if _compiled(plan, probs):
        kern = mem.kernels()
        none = mem.no_seeds(probs)  # the floors bound the cells instead
        with KERNEL_LOCK:
            heaps = kern.fill_heaps(
                labels,
                probs,
                np.zeros(labels.shape[0], dtype=bool),
                mem.index_like(labels.shape[0]),
                kern.n_threads(),
                counts,
                cells.active,
                np.zeros(k, dtype=np.int64),
                cells.start,
                cells.true,
                cells.m,
                floor.astype(probs.dtype),
                none.groups,
                none.bound,
            )
        vals, idx, size, base = heaps[4:]
        cell = np.repeat(np.arange(size.shape[0]), size)
        pos = np.arange(cell.shape[0]) - np.repeat(np.cumsum(size) - size, size) + base[cell]
        return cell, vals[pos], idx[pos].astype(np.int64) + start
    return _cell_candidates_numpy(cells, floor, labels, probs, start)


def _cell_candidates_numpy(
    cells: Cells, floor: FloatArray, labels: IntArray, probs: FloatArray, start: int
) -> tuple[IntArray, FloatArray, IntArray]:
    """:func:`_cell_candidates` for float16 blocks (or with the kernels switched off)."""
    found: list[tuple[IntArray, FloatArray, IntArray]] = []
    for given, members in enumerate(prune.class_members(labels, probs.shape[1])):
        for c in range(cells.start[given], cells.start[given + 1]):
            margin = probs[members, cells.true[c]] - probs[members, given]
            above = np.flatnonzero(margin > floor[c])
            keep = min(int(cells.m[c]) + 1, above.shape[0])
            pick = above[np.argpartition(-margin[above], keep - 1)[:keep]] if keep else above
            found.append((np.full(keep, c), margin[pick], members[pick] + start))
    if not found:
        return np.zeros(0, np.int64), np.zeros(0, probs.dtype), np.zeros(0, np.int64)
    cell_ids, values, rows = (np.concatenate(parts) for parts in zip(*found, strict=True))
    return cell_ids, values, rows


def _tied_margins(plan: Plan, labels: IntArray, probs: FloatArray) -> list[FloatArray]:
    """For each tied cell, ``-(P(true) - P(given))`` of this block's rows labeled given
    (in row order), the values the in-memory engine argsorts."""
    out = []
    for given, true in plan.tied:
        members = np.flatnonzero(labels == given)
        out.append(-(probs[members, true] - probs[members, given]))
    return out


def run_block(start: int, labels: Any, probs: Any, plan: Plan) -> dict[str, Any]:
    """What one block contributes to a pass (see :class:`Plan`)."""
    # One flat dispatch over the plan's fields (each a line or two), kept in one place so
    # that a pass's contents read top to bottom; the work is in the helpers above.
    labs, arr = check_block(start, labels, probs, plan.n_classes)
    out: dict[str, Any] = {"n": labs.shape[0], "k": arr.shape[1], "dtype": arr.dtype}
    if plan.check:  # kept for the whole data: in the smallest integer type that holds K
        out["labels"] = labs.astype(np.uint16 if arr.shape[1] <= 2**16 else np.int32)
        if plan.quality is None:
            out["stats"] = _stats(plan, labs, arr, start)
    if plan.self_confidence:
        out["sc"] = arr[np.arange(labs.shape[0]), labs]
    if plan.quality is not None:  # scores are only asked for in a first pass
        out["quality"], out["stats"] = _quality(plan, labs, arr, start)
    if plan.rank is not None:
        out["rank"] = SCORERS[plan.rank](labs, arr)
    if plan.predicted:
        out["argmax_differs"] = _argmax_differs(plan, labs, arr)
    if plan.predicted or plan.wins:
        out["wins"] = _wins(plan, labs, arr)
    if plan.accuracy:
        out["n_correct"] = int(np.count_nonzero(arr.argmax(axis=1) == labs))
    if plan.sample:
        out["sample"] = _sample(posterior.fit_size(arr.shape[1]), labs, arr, start)
    if plan.thresholds is not None and plan.adjusted is None:
        flat, out["off"] = _joint(plan, labs, arr)
        cells = np.flatnonzero(flat)  # at most one per row: sparse when K^2 > rows
        out["joint"] = (cells, flat[cells])
    if plan.low is not None:
        out["low"] = SCORERS[plan.low](labs, arr)
    if plan.adjusted is not None:
        assert plan.thresholds is not None
        out["adjusted"] = adjusted_score(SCORERS[plan.adjusted], labs, arr, plan.thresholds)
    if plan.power is not None and plan.channel is None:
        out["channel"] = posterior.channel_counts(labs, arr, arr.shape[1], plan.power)
    if plan.power is not None and plan.channel is not None and not plan.summary:
        out["p"] = posterior.mislabeled_probability(labs, arr, plan.power, plan.channel)
    if plan.summary:
        assert plan.power is not None and plan.channel is not None
        summary = posterior.summarize(labs, arr, plan.power, plan.channel)
        out.update((name, getattr(summary, name)) for name in _SUMMARY_ROWS)
        out["expected_counts"] = summary.expected_counts
    if plan.cells is not None:
        out["cells"] = _cell_candidates(plan, labs, arr, start)
    if plan.tied:
        out["tied"] = _tied_margins(plan, labs, arr)
    return out


# ---------------------------------------------------------------------------------------
# Merging, in row order.
# ---------------------------------------------------------------------------------------

_SUMMARY_ROWS = posterior.SUMMARY_ROWS
_ROWS = (
    *("labels", "sc", "quality", "rank", "argmax_differs", "wins", "off", "low", "adjusted", "p"),
    *_SUMMARY_ROWS,
)
_SUMS = ("n", "n_correct", "channel", "expected_counts")


def combine_stats(parts: list[tuple[float, ...]]) -> RowStats:
    """Merge per-block statistics: the worst row is the first with the largest distance."""
    worst = max(range(len(parts)), key=lambda i: (parts[i][2], -i))
    bad = [p[5] for p in parts if p[5] >= 0]
    return RowStats(
        min(p[0] for p in parts),
        max(p[1] for p in parts),
        int(parts[worst][3]),
        float(parts[worst][4]),
        int(min(bad)) if bad else -1,
    )


def top_per_cell(
    cell: IntArray, value: FloatArray, row: IntArray, cap: IntArray
) -> tuple[IntArray, FloatArray, IntArray]:
    """Keep each cell's ``cap`` largest values, sorted by cell then by value, largest first."""
    order = np.lexsort((-value, cell))
    cell, value, row = cell[order], value[order], row[order]
    rank = np.arange(cell.shape[0]) - np.searchsorted(cell, cell)
    keep = rank < cap[cell]
    return cell[keep], value[keep], row[keep]


def _smallest_keys(kept: dict[str, Any] | None, new: dict[str, Any], size: int) -> dict[str, Any]:
    """The ``size`` rows with the smallest keys among those kept and a new block's."""
    if kept is not None and kept["keys"].shape[0] >= size:  # only smaller keys can enter
        below = new["keys"] < kept["keys"].max()
        new = {name: value[below] for name, value in new.items()}
    if kept is not None:
        new = {name: np.concatenate([kept[name], new[name]]) for name in new}
    if new["keys"].shape[0] > size:
        pick = np.argpartition(new["keys"], size - 1)[:size]
        new = {name: value[pick] for name, value in new.items()}
    return new


class Accumulator:
    """Merge the results of one pass over the blocks, fed in row order.

    Selections stay bounded while blocks stream in: the fitting sample keeps its size,
    and noise-cell candidates are merged whenever they have grown by half; each merge
    also raises the floors that :meth:`refine` hands to the blocks still to come.
    """

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.lists: dict[str, list[Any]] = {}
        self.sums: dict[str, Any] = {}
        self.seen: dict[str, set[Any]] = {"k": set(), "dtype": set()}
        self.sample: dict[str, Any] | None = None
        self.cells: list[tuple[IntArray, FloatArray, IntArray]] = []
        self.merged = 0  # candidates in self.cells[0] after the last merge
        self.pending = 0  # candidates added since
        self.floor: FloatArray | None = None

    def add(self, result: dict[str, Any]) -> None:
        """Take one block's result (blocks must come in row order)."""
        for name, value in result.items():
            if name in _SUMS:
                self.sums[name] = self.sums.get(name, 0) + value
            elif name in self.seen:
                self.seen[name].add(value)
            elif name == "joint":  # (flat cell, count) pairs
                k = int(result["k"])
                total = self.sums.setdefault(name, np.zeros(k * k, dtype=np.int64))
                np.add.at(total, value[0], value[1])
            elif name == "sample":
                size = posterior.fit_size(int(result["k"]))
                self.sample = _smallest_keys(self.sample, value, size)
            elif name == "cells":
                self.cells.append(value)
                self.pending += value[0].shape[0]
                if self.pending >= max(self.merged // 2, _MERGE_AT_LEAST):
                    self._merge_cells()
            else:
                self.lists.setdefault(name, []).append(value)

    def _merge_cells(self) -> None:
        cells = self.plan.cells
        assert cells is not None
        cell, value, row = (np.concatenate(parts) for parts in zip(*self.cells, strict=True))
        merged = top_per_cell(cell, value, row, cells.m + 1)
        self.cells, self.merged, self.pending = [merged], merged[0].shape[0], 0
        sizes = np.bincount(merged[0], minlength=cells.m.shape[0])
        last = np.cumsum(sizes) - 1  # the smallest margin kept per cell
        full = sizes == cells.m + 1
        floor = np.full(cells.m.shape[0], -np.inf)
        floor[full] = merged[1][last[full]]
        self.floor = floor

    def refine(self, plan: Plan) -> Plan:
        """``plan`` with the noise cells' floors learned so far (unchanged otherwise)."""
        if plan.cells is None or self.floor is None:
            return plan
        return replace(plan, cells=replace(plan.cells, floor=self.floor))

    def finish(self) -> dict[str, Any]:
        """The merged results: rows concatenated, counts summed, selections made."""
        out: dict[str, Any] = dict(self.sums)
        for name, values in self.seen.items():
            if len(values) > 1:
                raise InvalidInputError(mixed_blocks_message(name, values))
            out[name] = next(iter(values), None)
        if self.sample is not None:
            out["sample"] = self.sample
        if self.cells:
            self._merge_cells()
            out["cells"] = self.cells[0]
        for name in list(self.lists):
            parts = self.lists.pop(name)  # freed as soon as joined: peak one extra vector
            if name in _ROWS:
                out[name] = np.concatenate(parts)
            elif name == "stats":
                out[name] = combine_stats(parts)
            else:  # tied: one list of margins per tied cell
                out[name] = [np.concatenate(column) for column in zip(*parts, strict=True)]
            del parts
        return out


#: Merge noise-cell candidates once this many have arrived since the last merge (or half
#: as many as were kept then, whichever is more): merges stay rare and cheap.
_MERGE_AT_LEAST = 1 << 16


def mixed_blocks_message(name: str, values: set[Any]) -> str:
    """The error for blocks that disagree on their number of columns or their dtype."""
    found = sorted(str(v) for v in values)
    if name == "k":
        return (
            f"Every chunk of pred_probs must have the same number of columns, one per class. "
            f"Got {', '.join(found)}; give every chunk a column for every class (0 where a "
            "class is impossible)."
        )
    return (
        f"Every chunk of pred_probs must have the same dtype. Got {', '.join(found)}; "
        "convert the chunks to one (for example pred_probs.astype(numpy.float32))."
    )
