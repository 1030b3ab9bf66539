"""The in-memory engine: passes over a NumPy pred_probs array.

float32 and float64 input run through compiled kernels (``core._kernels``), a few
parallel passes with no N x K temporaries; float16 input (which the compiler does not
handle) runs through the NumPy reference implementation. Both give equal results.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Protocol

import numpy as np
import numpy.typing as npt

from labelaudit._typing import BoolArray, FloatArray, IntArray
from labelaudit._validation import RowStats, check_row_stats, row_stats
from labelaudit.core import prune
from labelaudit.core._chunks import row_slices
from labelaudit.core.joint import Collision, ConfidentCounts, confident_counts
from labelaudit.core.scores import PROB_FLOOR, SCORERS, adjusted_score
from labelaudit.core.thresholds import (
    TOLERANCE,
    class_thresholds,
    finish_thresholds,
    self_confidence,
)

if TYPE_CHECKING:
    from labelaudit.core.posterior import CutStats

#: Input dtypes handled by the compiled kernels. Tests switch kernels off to compare.
KERNEL_DTYPES = frozenset({np.dtype(np.float32), np.dtype(np.float64)})
USE_KERNELS = True
#: The collision rule used when none is asked for: the paper's. Tests set "argmax" to
#: reproduce cleanlab 2.9 exactly and so prove that the rule is the only difference.
DEFAULT_COLLISION: Collision = "confident"
SCORE_CODES = {"self_confidence": 0, "normalized_margin": 1}


def kernels() -> ModuleType:
    """The compiled kernels, imported (and numba with them) on first use."""
    from labelaudit.core import _kernels

    return _kernels


def kernels_need_compiling() -> bool:
    """Whether numba's on-disk cache lacks the kernels every audit runs (or holds them for
    an older source): the first call then compiles them, up to a minute on two cores,
    where it otherwise loads them in about a second. False when the cache cannot be read."""
    from labelaudit.core import _posterior_kernels

    kern = kernels()
    # the first pass's, the joint's and the posterior's (numba's own cache objects)
    dispatchers: tuple[Any, ...] = (
        kern.class_sums,
        kern.confident_rows,
        _posterior_kernels.log_likelihood,
    )
    try:
        return not all(d._cache._cache_file._load_index() for d in dispatchers)
    except Exception:  # a numba whose cache objects differ: nothing is known
        return False


def compiled(probs: FloatArray) -> bool:
    """Whether ``probs`` goes through the compiled kernels."""
    return USE_KERNELS and probs.dtype in KERNEL_DTYPES


#: How much the first pass computes: validation only (scores), plus the thresholds, or
#: plus the label's head start and the confident joint (everything else).
Extent = Literal["check", "thresholds", "joint"]

#: The pruning pass's seeds (``kernels().confident_rows_seeded``) are kept from 32 to 128 classes
#: (with fewer, noise cells keep more rows than 32 group maxima can bound; with more, the
#: threads x K x 16 x K group maxima grow large) and from N = SEED_ROWS x threads x 16 x K
#: rows, where the group maxima take at most 2% of pred_probs' size.
SEED_CLASSES = (32, 128)
SEED_ROWS = 50


class Seeds(NamedTuple):
    """What the joint's pass keeps for the pruning pass (see ``kernels().fill_heaps``)."""

    groups: FloatArray
    """(threads, K, SEED_GROUPS, K): largest margin per class, group and column."""
    bound: FloatArray
    """(N,): each row's largest margin over the columns other than its label."""
    beats: npt.NDArray[np.int8]
    """(N,): how each row's label with its head start compares with its largest other
    value (``kernels().LABEL_BELOW`` and so on; for the argmax post-filter)."""


def wants_seeds(n_rows: int, n_classes: int, n_threads: int) -> bool:
    """Whether the joint's pass keeps seeds for the pruning pass (see SEED_CLASSES)."""
    low, high = SEED_CLASSES
    groups = SEED_ROWS * n_threads * kernels().SEED_GROUPS * n_classes
    return low <= n_classes <= high and n_rows >= groups


class Prepared(NamedTuple):
    """Validated inputs with what the first pass learned about them."""

    labels: IntArray
    probs: FloatArray
    n_classes: int
    counts: IntArray
    """Examples per given label."""
    thresholds: FloatArray | None
    """Per-class thresholds, in the dtype their comparisons use (extent >= "thresholds")."""
    confident: ConfidentCounts | None
    """The raw confident joint and its off-diagonal examples (extent "joint")."""
    seeds: Seeds | None = None
    """The pruning pass's seeds, when a pruning method asked for them."""

    # The engine interface (the streaming engine's StreamPrepared has the same methods).

    def without_label_wins(self, flags: BoolArray) -> BoolArray:
        """``flags`` less the examples whose label wins with a 1e-6 head start."""
        return without_label_wins(self, flags)

    def argmax_differs(self) -> BoolArray:
        """Whether the most probable class differs from the given label."""
        return argmax_differs(self)

    def lowest(self, score: str, m: int) -> BoolArray:
        """The m examples with the lowest ``score``."""
        return lowest(self, score, m)

    def prune_flags(
        self, prune_counts: IntArray, n_keep: int, *, by_class: bool, by_rate: bool
    ) -> tuple[BoolArray, BoolArray]:
        """Flags of prune_by_class and prune_by_noise_rate (see :func:`prune_flags`)."""
        return prune_flags(self, prune_counts, n_keep, by_class=by_class, by_rate=by_rate)

    def ranking_scores(self, rows: IntArray, method: str) -> FloatArray:
        """Scores of ``rows`` in pred_probs' precision, to rank them by."""
        return subset_scores(self.labels, self.probs, rows, method)

    def mislabeled_probability(self) -> FloatArray:
        """The posterior probability that each label is wrong (rows already checked)."""
        from labelaudit._probability import probability_of

        return probability_of(self.labels, self.probs, self.n_classes, checked=True)

    def _fitted(self) -> tuple[float, FloatArray]:
        """The posterior's sharpness and noise channel (rows already checked)."""
        from labelaudit._probability import fit_posterior

        fit = fit_posterior(self.labels, self.probs, self.n_classes, checked=True)
        return fit.power, fit.channel

    def mislabeled_stats(self) -> CutStats:
        """The sum of the probabilities that labels are wrong (and what the expected-F1 cut
        needs of them), without keeping N values."""
        from labelaudit.core import posterior

        return posterior.mislabeled_stats(self.labels, self.probs, *self._fitted())

    def mislabeled_flags(self) -> BoolArray:
        """The posterior method's flags (N probabilities kept only where they are small
        beside pred_probs: see :func:`labelaudit.core.posterior.mislabeled_flags`)."""
        from labelaudit.core import posterior

        return posterior.mislabeled_flags(self.labels, self.probs, *self._fitted())

    def posterior_summary(self) -> tuple[float, Any]:
        """The posterior's sharpness and what the audit needs of it."""
        from labelaudit.core import posterior

        power, channel = self._fitted()
        return power, posterior.summarize(self.labels, self.probs, power, channel)

    def self_confidence(self) -> FloatArray:
        """Each example's probability of its given label (pred_probs' dtype)."""
        return self_confidence(self.labels, self.probs)

    def adjusted_scores(self, method: str) -> FloatArray:
        """Scores of the threshold-adjusted probabilities (extent "thresholds")."""
        assert self.thresholds is not None
        return adjusted_score(SCORERS[method], self.labels, self.probs, self.thresholds)


def index_like(n_rows: int) -> IntArray:
    """An empty array of the integer dtype kernels store row indices in: int32 if it can
    hold every row index (halving selection heaps), else int64."""
    return np.zeros(0, dtype=np.int32 if n_rows < 2**31 else np.int64)


#: From this row length (K x itemsize: 384 float32 classes, 192 float64) the checks move
#: from the thresholds' pass to the joint's, where extent "joint" asks for both: the
#: thresholds' pass then reads one value per row. Measured (2 threads): the two kernels
#: alone 21.4 -> 14.1 ms at 1e5 x 1000 float32 and 22.7 -> 16.3 ms at 2e5 x 500;
#: ``prepare(extent="joint")`` 23-25 -> 19-20 ms and 23 -> 19-21 ms there. At 3e5 x 300
#: the kernels took 17.4 -> 16.1 ms, and at 1e6 x 100 longer: the one-value-per-row read
#: waits on memory for every row (11 ms, as long as the checking pass).
FUSED_CHECK_ROW_BYTES = 1536


def _class_means(labels: IntArray, probs: FloatArray, check: bool) -> tuple[list[Any], IntArray]:
    """Mean of P(k) over the rows labeled k, exactly as ``np.mean`` computes it (one
    pass), and the examples per label; with ``check``, the rows are checked in the same
    pass (otherwise the caller checks them)."""
    kern = kernels()
    sums, stats, counts = kern.class_sums(
        labels, probs, *kern.bits_of(probs), kern.n_threads(), check
    )
    if check:
        check_row_stats(combine_stats(probs, stats), probs.dtype)
    dtype = probs.dtype.type
    means = [dtype(s) / dtype(c) if c else None for s, c in zip(sums, counts.tolist(), strict=True)]
    return means, counts


def _prepare_compiled(
    labels: IntArray, probs: FloatArray, extent: Extent, needs: frozenset[str]
) -> Prepared:
    k = probs.shape[1]
    if extent == "check":
        check_row_stats(check_rows(probs), probs.dtype)
        counts = np.bincount(labels, minlength=k).astype(np.int64)
        return Prepared(labels, probs, k, counts, None, None)
    fused = extent == "joint" and k * probs.itemsize >= FUSED_CHECK_ROW_BYTES
    means, counts = _class_means(labels, probs, check=not fused)
    thresholds = finish_thresholds(means, probs.dtype)
    if extent == "thresholds":
        return Prepared(labels, probs, k, counts, thresholds, None)
    seed = "prune" in needs and wants_seeds(labels.shape[0], k, kernels().n_threads())
    off, per_thread, seeds, stats = confident_rows(
        labels, probs, thresholds, seed=seed and not fused, check=fused
    )
    if stats is not None:  # before anything computed from unchecked rows is used
        check_row_stats(stats, probs.dtype)
    confident = ConfidentCounts(finish_joint(per_thread.sum(axis=0, dtype=np.int64), k), off)
    return Prepared(labels, probs, k, counts, thresholds, confident, seeds)


def check_rows(probs: FloatArray) -> RowStats:
    """The row checks' statistics (``kernels().check_rows``, one pass)."""
    kern = kernels()
    return combine_stats(probs, kern.check_rows(probs, *kern.bits_of(probs), kern.n_threads()))


def confident_rows(
    labels: IntArray,
    probs: FloatArray,
    thresholds: FloatArray,
    collision: Collision | None = None,
    *,
    seed: bool = False,
    check: bool = False,
) -> tuple[BoolArray, IntArray, Seeds | None, RowStats | None]:
    """The off-diagonal rows and per-thread flat confident counts
    (``kernels().confident_rows``), with the collision rule ``collision`` (None:
    ``DEFAULT_COLLISION``, read at each call), the pruning pass's seeds if ``seed``, and
    with ``check`` the row checks' statistics (``kernels().confident_rows_checked``; not
    with ``seed``). Without ``check`` the rows must have been checked: the counts of rows
    that fail the checks mean nothing."""
    kern = kernels()
    cutoff = thresholds - thresholds.dtype.type(TOLERANCE)
    bits, inf_bits = kern.bits_of(probs)
    n_threads = kern.n_threads()
    rule = (cutoff, kern.cutoff_bits(cutoff, probs.dtype))
    argmax_rule = (collision or DEFAULT_COLLISION) == "argmax"
    count_like = index_like(labels.shape[0])  # counts never exceed N
    if check:
        off, per_thread, raw = kern.confident_rows_checked(
            labels, probs, bits, inf_bits, n_threads, *rule, argmax_rule, count_like
        )
        return off, per_thread, None, combine_stats(probs, raw)
    args = (labels, probs, bits, n_threads, *rule, argmax_rule, count_like)
    if not seed:
        off, per_thread = kern.confident_rows(*args)
        return off, per_thread, None, None
    off, per_thread, groups, bound, beats = kern.confident_rows_seeded(
        *args, probs.dtype.type(TOLERANCE)
    )
    return off, per_thread, Seeds(groups, bound, beats), None


def no_seeds(probs: FloatArray) -> Seeds:
    """Empty seeds, for a pruning pass without them."""
    groups = np.empty((1, 0, kernels().SEED_GROUPS, 0), dtype=probs.dtype)
    return Seeds(groups, np.empty(0, dtype=probs.dtype), np.empty(0, dtype=np.int8))


def combine_stats(probs: FloatArray, stats: FloatArray) -> RowStats:
    """Combine the kernels' per-thread validation statistics (columns: smallest value,
    largest value, largest distance of a row sum from 1, its row, first non-finite row)."""
    t = int(np.argmax(stats[:, 2]))
    bad = stats[stats[:, 4] >= 0, 4]
    row = int(stats[t, 3])
    return RowStats(
        float(stats[:, 0].min()),
        float(stats[:, 1].max()),
        row,
        float(np.sum(probs[row], dtype=np.float64)) if row >= 0 else 1.0,
        int(bad.min()) if bad.size else -1,
    )


def finish_joint(flat: IntArray, k: int) -> IntArray:
    """(true * K + given) counts to the joint [given, true], Fortran order as cleanlab's,
    each diagonal cell at least 1."""
    joint = flat.reshape(k, k).T
    np.fill_diagonal(joint, np.maximum(joint.diagonal(), 1))
    return joint


def prepare(
    labels: IntArray,
    probs: FloatArray,
    n_classes: int,
    extent: Extent = "joint",
    needs: frozenset[str] = frozenset(),
) -> Prepared:
    """Check pred_probs' rows and compute what ``extent`` asks for, in as few passes as
    possible (compiled: one light pass for the class sums, one pass over every value);
    ``needs`` containing "prune" asks for the pruning pass's seeds where they pay."""
    if compiled(probs):
        return _prepare_compiled(labels, probs, extent, needs)
    counts = np.bincount(labels, minlength=n_classes).astype(np.int64)
    check_row_stats(row_stats(probs), probs.dtype)
    if extent == "check":
        return Prepared(labels, probs, n_classes, counts, None, None)
    thresholds = class_thresholds(labels, probs, n_classes)
    if extent == "thresholds":
        return Prepared(labels, probs, n_classes, counts, thresholds, None)
    confident = confident_counts(labels, probs, thresholds, DEFAULT_COLLISION)
    return Prepared(labels, probs, n_classes, counts, thresholds, confident)


class HasJoint(Protocol):
    """Prepared inputs of any engine."""

    @property
    def confident(self) -> ConfidentCounts | None:
        """The confident counts, if computed."""
        ...


def joint_of(prep: HasJoint) -> ConfidentCounts:
    """The confident counts of a prepared input (prepared with extent "joint")."""
    if prep.confident is None:
        raise ValueError("prepare(..., extent='joint') is needed for the confident joint")
    return prep.confident


def without_label_wins(prep: Prepared, flags: BoolArray) -> BoolArray:
    """``flags`` less the examples whose label is the argmax once given a 1e-6 head start
    (only the flagged rows are examined)."""
    if prep.seeds is not None:  # the label against the row's other values, from the joint's pass
        kern = kernels()
        kept: BoolArray = kern.drop_label_wins(
            prep.labels,
            prep.probs,
            flags,
            prep.seeds.beats,
            prep.probs.dtype.type(TOLERANCE),
            kern.n_threads(),
        )
        return kept
    rows = np.flatnonzero(flags)
    if compiled(prep.probs):
        wins = kernels().label_wins(prep.labels, prep.probs, rows, prep.probs.dtype.type(TOLERANCE))
    else:
        wins = np.zeros(rows.shape[0], dtype=bool)
        for part in row_slices(rows.shape[0], prep.probs.shape[1], prep.probs.itemsize):
            chosen = rows[part]
            wins[part] = prune.label_wins(prep.labels[chosen], prep.probs[chosen])
    kept = flags.copy()
    kept[rows[wins]] = False
    return kept


def cells_of(prune_counts: IntArray, active: BoolArray) -> tuple[IntArray, IntArray, IntArray]:
    """Noise cells per given class k (CSR): true class j and count, for j != k, count > 0."""
    given, true = np.nonzero(prune_counts.T)  # [given, true] order, without a K x K copy
    keep = (given != true) & active[given]
    given, true = given[keep], true[keep]
    start = np.searchsorted(given, np.arange(prune_counts.shape[0] + 1))
    return start.astype(np.int64), true.astype(np.int64), prune_counts[true, given].astype(np.int64)


def _members_of(classes: IntArray, members: IntArray, class_start: IntArray) -> Any:
    """The members of each of ``classes`` in data order (``members``: rows sorted by
    label, stably; class c's run starts at ``class_start[c]``), concatenated, with where
    each class's run starts and its length in the result."""
    sizes = class_start[classes + 1] - class_start[classes]
    offsets = np.cumsum(sizes) - sizes
    where = np.arange(int(sizes.sum())) + np.repeat(class_start[classes] - offsets, sizes)
    return members[where], offsets, sizes


def _flag_lowest(
    flags: BoolArray, rows: IntArray, values: FloatArray, runs: Any, m: IntArray
) -> None:
    """In each run (offset, size) of ``rows``, flag the ``m`` rows with the lowest values,
    ties broken as NumPy's argsort of the run's values breaks them (cleanlab's choice).
    Runs of one length are stacked and argsorted in one call (a 2-D argsort sorts each
    row as the 1-D argsort of that row alone)."""
    offsets, sizes = runs
    for length in np.unique(sizes).tolist():
        same = np.flatnonzero(sizes == length)
        where = offsets[same][:, None] + np.argsort(
            values[offsets[same][:, None] + np.arange(length)], axis=1
        )
        flags[rows[where[np.arange(length) < m[same][:, None]]]] = True


def _break_ties(
    prep: Prepared, flags: tuple[BoolArray, BoolArray], ties: tuple[IntArray, IntArray], cells: Any
) -> None:
    """Choose among values tied at a cut (see :func:`prune_flags`). Each tie is a class
    run of data-order members; all are gathered at once and argsorted one run at a time."""
    probs = prep.probs
    gather = kernels().gather  # probs[rows, cols], scattered
    members, class_start = prune.class_order(prep.labels, prep.n_classes)
    class_m, start, cell_j, cell_m = cells
    tied = np.flatnonzero(ties[0])
    if tied.size:
        rows, offsets, sizes = _members_of(tied, members, class_start)
        own = gather(probs, rows, np.repeat(tied, sizes))
        _flag_lowest(flags[0], rows, own, (offsets, sizes), class_m[tied])
    tied = np.flatnonzero(ties[1])
    if tied.size:
        given = np.searchsorted(start, tied, side="right") - 1
        rows, offsets, sizes = _members_of(given, members, class_start)
        own = gather(probs, rows, np.repeat(given, sizes))
        margins = -(gather(probs, rows, np.repeat(cell_j[tied], sizes)) - own)  # as cleanlab's
        _flag_lowest(flags[1], rows, margins, (offsets, sizes), cell_m[tied])


def prune_flags(
    prep: Prepared, prune_counts: IntArray, n_keep: int, *, by_class: bool, by_rate: bool
) -> tuple[BoolArray, BoolArray]:
    """Third pass: flags of prune_by_class and of prune_by_noise_rate, before the argmax
    filter; a selection not asked for (``by_class`` / ``by_rate`` False) is all False and
    costs nothing."""
    if not compiled(prep.probs):
        members = prune.class_members(prep.labels, prep.n_classes)
        nothing = np.zeros(prep.labels.shape[0], dtype=bool)
        return (
            prune.prune_by_class(
                members, self_confidence(prep.labels, prep.probs), prune_counts, n_keep
            )
            if by_class
            else nothing,
            prune.prune_by_noise_rate(members, prep.probs, prune_counts, n_keep)
            if by_rate
            else nothing,
        )
    kern = kernels()
    n_threads = kern.n_threads()
    counts, probs = prep.counts, prep.probs
    seeds = prep.seeds or no_seeds(probs)
    active = counts > max(n_keep, 1)
    class_m = np.where(active & by_class, np.maximum(counts - prune_counts.diagonal(), 0), 0)
    start, cell_j, cell_m = cells_of(prune_counts, active & by_rate)
    class_m = class_m.astype(np.int64)
    heaps = kern.fill_heaps(
        prep.labels,
        probs,
        joint_of(prep).off_diagonal,
        index_like(probs.shape[0]),
        n_threads,
        counts,
        active,
        class_m,
        start,
        cell_j,
        cell_m,
        np.full(cell_m.shape[0], -np.inf, dtype=probs.dtype),
        seeds.groups,
        seeds.bound,
    )
    n, k = probs.shape
    class_flags, class_tie = kern.select_heaps(
        n, *heaps[:4], class_m, np.arange(k + 1, dtype=np.int64)
    )
    rate_flags, cell_tie = kern.select_heaps(n, *heaps[4:], cell_m, start)
    # Values tie exactly at a cut (rare, but at K = 1000 float32 probabilities underflow to
    # 0 and a thousand cells can tie): choose as NumPy's argsort does (cleanlab's choice).
    if class_tie.any() or cell_tie.any():
        cells = (class_m, start, cell_j, cell_m)
        _break_ties(prep, (class_flags, rate_flags), (class_tie, cell_tie), cells)
    return class_flags, rate_flags


def lowest(prep: Prepared, score: str, m: int) -> BoolArray:
    """The m examples with the lowest score (ties broken as NumPy's argsort breaks them)."""
    labels, probs = prep.labels, prep.probs
    n = labels.shape[0]
    flags = np.zeros(n, dtype=bool)
    if m >= n:
        flags[:] = True
        return flags
    if m > 0 and compiled(probs):
        kern = kernels()
        found, unique = kern.lowest_scores(
            labels, probs, m, SCORE_CODES[score], index_like(n), kern.n_threads()
        )
        if unique:
            return np.asarray(found)
    flags[prune.smallest(SCORERS[score](labels, probs), m)] = True
    return flags


def argmax_differs(prep: Prepared) -> BoolArray:
    """Whether the most probable class differs from the given label, per example."""
    if compiled(prep.probs):
        flags: BoolArray = kernels().argmax_differs(
            prep.labels, prep.probs, kernels().bits_of(prep.probs)[0]
        )
        return flags
    return np.asarray(prep.probs.argmax(axis=1) != prep.labels)


def subset_scores(labels: IntArray, probs: FloatArray, rows: IntArray, method: str) -> FloatArray:
    """Scores of the given rows in pred_probs' own precision, without copying whole rows
    at once (chunks of rows are gathered)."""
    if method == "self_confidence":
        return np.asarray(probs[rows, labels[rows]])
    out = np.empty(
        rows.shape[0], dtype=np.float64 if method != "normalized_margin" else probs.dtype
    )
    for part in row_slices(rows.shape[0], probs.shape[1], probs.itemsize):
        chosen = rows[part]
        out[part] = SCORERS[method](labels[chosen], probs[chosen])
    return out


def checked_scores(labels: IntArray, probs: FloatArray, method: str) -> FloatArray:
    """Check pred_probs' rows and score every row (float64), in one pass when compiled."""
    if not compiled(probs):
        check_row_stats(row_stats(probs), probs.dtype)
        return np.asarray(SCORERS[method](labels, probs), dtype=np.float64)
    out, stats = scan_scores(labels, probs, method)
    check_row_stats(combine_stats(probs, stats), probs.dtype)
    return out


def scan_scores(labels: IntArray, probs: FloatArray, method: str) -> tuple[FloatArray, Any]:
    """Every row's score (float64) and the kernels' per-thread row checks, in one scan."""
    kern = kernels()
    out = np.empty(labels.shape[0], dtype=np.float64)
    code = SCORE_CODES.get(method, 2)  # 2: confidence_weighted_entropy
    stats = kern.scan_scores(
        labels,
        probs,
        *kern.bits_of(probs),
        kern.n_threads(),
        code,
        probs.dtype.type(PROB_FLOOR),
        out,
    )
    return out, stats
