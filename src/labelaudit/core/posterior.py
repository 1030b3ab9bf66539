"""The probability that a given label is wrong, from out-of-sample predicted probabilities.

Model. The true label of an example is the class its annotators would pick most often;
the model's ``pred_probs`` estimate that choice, but smoothed (models trained on noisy
labels, with label smoothing or regularization, are under-confident about it). So the true
class is distributed as ``q = softmax(power * log(pred_probs))`` for one sharpness
``power`` shared by all examples, and the given label follows a class-level noise channel
``T[j, i] = P(given i | true j)``, estimated as the q-weighted share of examples of each
true class that carry each label. The posterior of the true class of an example with given
label ``i`` is then ``q_j * T[j, i]``, normalized, and ``1 - posterior[i]`` is the
probability that its label is wrong.

``power`` is chosen by maximum likelihood of the given labels under that model
(``mean log sum_j q_j T[j, label]``), a one-dimensional search. It needs no ground truth:
too little sharpening leaves the channel unable to tell confident disagreements from
uncertain ones, too much makes every model mistake look like label noise.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from labelaudit._typing import BoolArray, FloatArray, IntArray
from labelaudit.core._chunks import read_only, row_slices

if TYPE_CHECKING:
    from types import ModuleType

#: Probabilities below this are treated as this before taking logs.
LOG_FLOOR = 1e-30
#: Search interval of the sharpness, and the search's tolerance on ``log(power)`` (a
#: relative precision of about 0.02% on the power).
POWER_RANGE = (0.2, 20.0)
LOG_POWER_TOL = 2e-4
#: The sharpness is chosen on a sample of rows drawn with a fixed seed: at most FIT_ROWS
#: rows and FIT_CELLS probabilities, but never fewer than MIN_FIT_ROWS rows.
FIT_ROWS = 100_000
FIT_CELLS = 10_000_000
MIN_FIT_ROWS = 10_000


def sharpen(pred_probs: FloatArray, power: float) -> FloatArray:
    """Rows of ``pred_probs ** power``, renormalized (computed in log space; the NumPy
    statement of the model, which the compiled passes compute row by row)."""
    z = np.log(np.maximum(pred_probs, LOG_FLOOR)) * power
    z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


def posterior(
    labels: IntArray, pred_probs: FloatArray, power: float, noise_channel: FloatArray
) -> FloatArray:
    """``P(true j | pred_probs, given label)`` for each row (NumPy, N x K: pass a chunk)."""
    post = sharpen(pred_probs, power) * noise_channel[:, labels].T
    post /= post.sum(axis=1, keepdims=True)
    return post


def channel(counts: FloatArray) -> FloatArray:
    """Row-normalize ``counts`` into ``P(given | true)``; an empty row keeps its label."""
    totals = counts.sum(axis=1, keepdims=True)
    eye = np.eye(counts.shape[0])
    return np.where(totals > 0, counts / np.where(totals > 0, totals, 1.0), eye)


#: Channel counts are summed as integers in units of 2**-32: integer sums do not depend
#: on the order rows are added in, so every engine and chunking gives the same channel.
COUNT_UNIT = 2.0**32
#: The compiled passes keep one K x K int64 matrix of counts per thread, within this.
SHARES_BYTES = 64 << 20
#: Dtypes the compiled passes read; others are converted to float32 a chunk at a time.
KERNEL_DTYPES = frozenset({np.dtype(np.float32), np.dtype(np.float64)})


def _kernels() -> ModuleType:
    """The compiled passes (numba is imported on first use, not with labelaudit)."""
    from labelaudit.core import _posterior_kernels

    return _posterior_kernels


def _bounds(n: int, k: int) -> IntArray:
    """How the compiled passes split ``n`` rows between threads."""
    from labelaudit.core._kernels import n_threads

    parts = max(1, min(n_threads(), SHARES_BYTES // (8 * k * k)))
    bounds: IntArray = _kernels().split(n, parts)
    return bounds


def _blocks(pred_probs: FloatArray) -> Iterator[tuple[slice, FloatArray]]:
    """pred_probs whole if the kernels read its dtype, else chunks of it as float32."""
    if pred_probs.dtype in KERNEL_DTYPES:
        yield slice(0, pred_probs.shape[0]), pred_probs
        return
    n, k = pred_probs.shape
    for rows in row_slices(n, k, pred_probs.itemsize):
        yield rows, read_only(pred_probs[rows].astype(np.float32))


_ALL_ROWS = np.zeros(0, dtype=np.int64)
#: Row numbers, int32 where they fit.
RowArray = npt.NDArray[np.signedinteger[Any]]


def _scalars(block: FloatArray, power: float) -> tuple[Any, Any]:
    """``power`` and :data:`LOG_FLOOR` in the block's precision (the passes compute in it)."""
    dtype = block.dtype.type
    return dtype(power), dtype(LOG_FLOOR)


def _transposed(counts: IntArray) -> IntArray:
    """``[true, given]`` counts from the kernels' ``[given, true]``."""
    out: IntArray = np.ascontiguousarray(counts.T)
    return out


def channel_counts(
    labels: IntArray, pred_probs: FloatArray, n_classes: int, power: float
) -> IntArray:
    """``[true j, given i]`` sums of :func:`sharpen` ``(pred_probs, power)`` in units of
    :data:`COUNT_UNIT` (int64, exact in any order; fine to about 2e9 rows)."""
    counts = np.zeros((n_classes, n_classes), dtype=np.int64)
    for rows, block in _blocks(pred_probs):
        bounds = _bounds(block.shape[0], n_classes)
        shares = _kernels().channel_counts(
            block, labels[rows], _ALL_ROWS, False, *_scalars(block, power), bounds
        )
        counts += shares.sum(axis=0)
    return _transposed(counts)


def sharpened_channel(
    labels: IntArray, pred_probs: FloatArray, n_classes: int, power: float
) -> FloatArray:
    """The noise channel of :func:`sharpen` ``(pred_probs, power)``, one chunk at a time."""
    return channel(channel_counts(labels, pred_probs, n_classes, power) / COUNT_UNIT)


def mean_log_likelihood(
    labels: IntArray,
    pred_probs: FloatArray,
    n_classes: int,
    power: float,
    rows: IntArray | None = None,
) -> float:
    """Mean log-probability of the given labels of ``pred_probs[rows]`` (all rows if
    None) under sharpness ``power``: two compiled passes, the channel, then the
    likelihood. pred_probs must be float32 or float64."""
    use = rows is not None
    picked = _ALL_ROWS if rows is None else rows
    n = pred_probs.shape[0] if rows is None else rows.shape[0]
    bounds = _bounds(n, n_classes)
    scalars = _scalars(pred_probs, power)
    shares = _kernels().channel_counts(pred_probs, labels, picked, use, *scalars, bounds)
    counts = shares.sum(axis=0)
    noise_t = np.ascontiguousarray(channel(_transposed(counts) / COUNT_UNIT).T)
    total = _kernels().log_likelihood(pred_probs, labels, picked, use, *scalars, noise_t, bounds)
    return float(total / max(n, 1))


def fit_size(k: int) -> int:
    """How many rows the sharpness is fitted on (all rows if there are at most this many)."""
    return min(FIT_ROWS, max(MIN_FIT_ROWS, FIT_CELLS // k))


def sample_keys(rows: IntArray) -> npt.NDArray[np.uint64]:
    """A pseudo-random key per row index (the splitmix64 finalizer: a bijection, so keys
    never tie). The sample is the rows with the smallest keys: it needs no random state
    and can be drawn one chunk of rows at a time."""
    z = rows.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    out: npt.NDArray[np.uint64] = z ^ (z >> np.uint64(31))
    return out


def fit_rows(n: int, k: int) -> IntArray | None:
    """The sorted sample of rows used to fit the sharpness, or None for all rows."""
    size = fit_size(k)
    if n <= size:
        return None
    # The smallest keys of each block of rows join those kept so far (keys never tie, so
    # the result is the same as one selection over all N keys, in O(size) memory).
    kept = np.zeros(0, dtype=np.int64)
    for start in range(0, n, size):
        rows = np.concatenate([kept, np.arange(start, min(n, start + size), dtype=np.int64)])
        keys = sample_keys(rows)
        kept = rows[np.argpartition(keys, size - 1)[:size]] if rows.size > size else rows
    return np.sort(kept)


def fit_power(labels: IntArray, pred_probs: FloatArray, n_classes: int) -> float:
    """The sharpness that maximizes :func:`mean_log_likelihood` on the rows of
    :func:`fit_rows` (read in place, not copied); see :func:`best_power`."""
    rows = fit_rows(*pred_probs.shape)
    if pred_probs.dtype not in KERNEL_DTYPES:  # a float32 copy of the sample, below
        picked = slice(None) if rows is None else rows
        return fit_power_on(labels[picked], pred_probs[picked], n_classes)
    return best_power(lambda power: mean_log_likelihood(labels, pred_probs, n_classes, power, rows))


def fit_power_on(labels: IntArray, pred_probs: FloatArray, n_classes: int) -> float:
    """:func:`fit_power` on rows already sampled (all of them are used)."""
    if pred_probs.dtype not in KERNEL_DTYPES:
        pred_probs = pred_probs.astype(np.float32)
    pred_probs = read_only(pred_probs)
    return best_power(lambda power: mean_log_likelihood(labels, pred_probs, n_classes, power))


def best_power(score: Callable[[float], float]) -> float:
    """The power in :data:`POWER_RANGE` that maximizes ``score``: Brent's bounded search
    over ``log(power)`` (SciPy; parabolic steps where the score is smooth, golden-section
    steps where not), about 10 evaluations where a golden-section search took 20."""
    from scipy.optimize import minimize_scalar

    found = minimize_scalar(
        lambda log_power: -score(float(np.exp(log_power))),
        bounds=(float(np.log(POWER_RANGE[0])), float(np.log(POWER_RANGE[1]))),
        method="bounded",
        options={"xatol": LOG_POWER_TOL},
    )
    return float(np.exp(found.x))


def mislabeled_probability(
    labels: IntArray, pred_probs: FloatArray, power: float, noise_channel: FloatArray
) -> FloatArray:
    """``1 - P(true = given | ...)`` for every row, in [0, 1] (one compiled pass)."""
    out = np.empty(pred_probs.shape[0])
    _mislabeled_into(labels, pred_probs, power, np.ascontiguousarray(noise_channel.T), out)
    return out


def _mislabeled_into(
    labels: IntArray, pred_probs: FloatArray, power: float, noise_t: FloatArray, out: FloatArray
) -> None:
    for rows, block in _blocks(pred_probs):
        bounds = _bounds(block.shape[0], 1)
        scalars = _scalars(block, power)
        _kernels().mislabeled(block, labels[rows], *scalars, noise_t, bounds, out[rows])


@dataclass(frozen=True)
class CutStats:
    """What the expected-F1 cut needs to know of all of ``p`` before its top: the sum of
    ``p`` and of its values >= 0.5 as integers in units of :data:`COUNT_UNIT` (exact in
    any order, so every chunking and engine finds the same cut), their count, the largest
    ``p`` and the number of values."""

    units: int = 0
    half_units: int = 0
    n_half: int = 0
    largest: float = 0.0
    size: int = 0

    def add(self, p: FloatArray) -> CutStats:
        """These statistics with the values ``p`` added."""
        scaled = np.rint(p * COUNT_UNIT).astype(np.int64)
        half = p >= 0.5
        return CutStats(
            self.units + int(scaled.sum()),
            self.half_units + int(scaled[half].sum()),
            self.n_half + int(np.count_nonzero(half)),
            max(self.largest, float(p.max(initial=0.0))),
            self.size + p.size,
        )

    @property
    def total(self) -> float:
        """The sum of ``p`` (the expected number of errors)."""
        return self.units / COUNT_UNIT

    def bar(self) -> float:
        """No value below this can be flagged (see :func:`expected_f1_flags`); nothing is
        flagged if every value is 0."""
        if self.units <= 0:
            return float("inf")
        tried = max(
            2.0 * self.largest / (1.0 + self.total),
            2.0 * (self.half_units / COUNT_UNIT) / (self.n_half + self.total),
        )
        return tried / 2 * (1 - 1e-9)


#: Values of p handled at once when p is not kept whole.
CUT_CHUNK = 1 << 16


def cut_stats(p_mislabeled: FloatArray) -> CutStats:
    """:class:`CutStats` of ``p``, a chunk at a time (no N-sized temporaries)."""
    stats = CutStats()
    for start in range(0, p_mislabeled.shape[0], CUT_CHUNK):
        stats = stats.add(p_mislabeled[start : start + CUT_CHUNK])
    return stats


def expected_f1_flags(p_mislabeled: FloatArray) -> BoolArray:
    """The examples to flag so that the expected F1 of the flags is largest.

    If ``p`` are calibrated probabilities of error, flagging a set S gives on average
    ``sum(p[S])`` true flags out of ``|S|`` flags and ``sum(p)`` errors, so its F1 is about
    ``F(S) = 2 sum(p[S]) / (|S| + sum(p))``. Adding an example raises F exactly when its
    ``p`` exceeds ``F / 2``, so the best set is the examples with the largest ``p``, cut
    where ``p`` falls to half the F1 reached (the threshold rule of Lipton, Elkan and
    Naryanaswamy, 2014). Ties at the cut are flagged together.

    Flagging nothing scores F1 = 1 if there is no error and 0 otherwise, so its expected
    F1 is the probability of no error, about ``exp(-sum(p))``. Nothing is flagged when
    that is at least the best set's ``F``: where errors are improbable everywhere (every
    ``p`` is 0, or a clean dataset whose largest ``p`` is small) no example is flagged,
    rather than always the most suspicious one. With more than a few expected errors the
    term is negligible and the cut is the threshold rule's.

    Only the top of ``p`` is sorted: each added example moves F towards ``2 p``, so the
    best cut has ``p >= F_best / 2``, which is at least half the F of any set tried (the
    largest ``p`` alone, or every ``p >= 0.5``); below that, F only falls.
    """
    stats = cut_stats(p_mislabeled)
    rows = np.flatnonzero(p_mislabeled >= stats.bar())
    return flags_from_top(stats, rows, p_mislabeled[rows])


def flags_from_top(stats: CutStats, rows: RowArray, values: FloatArray) -> BoolArray:
    """:func:`expected_f1_flags` from the statistics of all of ``p`` and the ``rows`` whose
    ``values`` are at least ``stats.bar()``."""
    flags = np.zeros(stats.size, dtype=bool)
    if stats.units <= 0 or not values.size:
        return flags
    top = np.sort(values)[::-1]
    # 2 sum(top[:m]) / (m + total) is largest at m = best + 1 (compiled: no temporaries)
    best, f1 = _kernels().best_prefix(top, stats.total)
    if f1 <= math.exp(-stats.total):
        return flags  # flagging nothing expects more: see expected_f1_flags
    flags[rows[values >= top[best]]] = True
    return flags


def _chunks_of_p(
    labels: IntArray, pred_probs: FloatArray, power: float, noise_channel: FloatArray
) -> Iterator[tuple[int, FloatArray]]:
    """:func:`mislabeled_probability` :data:`CUT_CHUNK` rows at a time, into one buffer
    (each chunk is overwritten by the next)."""
    n = pred_probs.shape[0]
    noise_t = np.ascontiguousarray(noise_channel.T)
    p = np.empty(min(n, CUT_CHUNK))
    for start in range(0, n, CUT_CHUNK):
        part = slice(start, min(n, start + CUT_CHUNK))
        chunk = p[: part.stop - start]
        _mislabeled_into(labels[part], pred_probs[part], power, noise_t, chunk)
        yield start, chunk


def mislabeled_stats(
    labels: IntArray, pred_probs: FloatArray, power: float, noise_channel: FloatArray
) -> CutStats:
    """:func:`cut_stats` of :func:`mislabeled_probability`, without keeping N values."""
    stats = CutStats()
    for _, chunk in _chunks_of_p(labels, pred_probs, power, noise_channel):
        stats = stats.add(chunk)
    return stats


#: :func:`mislabeled_flags` keeps the N probabilities (one pass instead of two) when
#: they take at most this share of pred_probs' bytes (K of 40 or more in float32).
KEEP_P_SHARE = 0.05
#: Otherwise it keeps each row's ``floor(p * LEVELS)`` (one byte), to recompute only the
#: rows that can reach the cut's bar.
LEVELS = 255


def mislabeled_flags(
    labels: IntArray, pred_probs: FloatArray, power: float, noise_channel: FloatArray
) -> BoolArray:
    """``expected_f1_flags(mislabeled_probability(...))``.

    Where the N probabilities are small beside pred_probs (:data:`KEEP_P_SHARE`), they are
    kept and pred_probs is read once. Otherwise a first pass computes :class:`CutStats`
    and one byte per row, ``floor(p * LEVELS)``; then only the rows whose byte can reach
    the bar are read again (a few more than are flagged), and those above it are kept.
    Both ways flag the same rows: each row's p does not depend on the others, and the
    cut's sums are exact."""
    # N float64 values against N x K of pred_probs: p is kept where K x itemsize x share >= 8
    if KEEP_P_SHARE * pred_probs.shape[1] * pred_probs.itemsize >= 8:
        return expected_f1_flags(mislabeled_probability(labels, pred_probs, power, noise_channel))
    stats = CutStats()
    levels = np.empty(pred_probs.shape[0], dtype=np.uint8)
    for start, chunk in _chunks_of_p(labels, pred_probs, power, noise_channel):
        stats = stats.add(chunk)
        levels[start : start + chunk.size] = (chunk * LEVELS).astype(np.uint8)  # p in [0, 1]
    bar = stats.bar()
    if not np.isfinite(bar):
        return np.zeros(stats.size, dtype=bool)
    # p >= bar puts p * LEVELS >= bar * LEVELS (rounding is monotonic), so its level too
    lowest = np.uint8(int(bar * LEVELS))
    size = sum(
        int(np.count_nonzero(levels[start : start + CUT_CHUNK] >= lowest))
        for start in range(0, levels.size, CUT_CHUNK)
    )
    rows: RowArray = np.empty(size, dtype=np.int32 if stats.size < 2**31 else np.int64)
    values = np.empty(size)
    noise_t = np.ascontiguousarray(noise_channel.T)
    filled = 0
    for start in range(0, levels.size, CUT_CHUNK):
        picked = start + np.flatnonzero(levels[start : start + CUT_CHUNK] >= lowest)
        if not picked.size:
            continue
        p = np.empty(picked.size)
        _mislabeled_into(labels[picked], pred_probs[picked], power, noise_t, p)
        kept = np.flatnonzero(p >= bar)
        end = filled + kept.size
        values[filled:end] = p[kept]
        rows[filled:end] = picked[kept]
        filled = end
    del levels
    return flags_from_top(stats, rows[:filled], values[:filled])


#: The per-example fields of :class:`PosteriorSummary`, in order.
SUMMARY_ROWS = ("p_mislabeled", "alternative", "p_alternative", "model_alternative")


@dataclass(frozen=True)
class PosteriorSummary:
    """What the audit needs from the posterior, without keeping its N x K rows."""

    p_mislabeled: FloatArray  # (N,) 1 - P(true = given)
    alternative: IntArray  # (N,) the most probable true class other than the given one
    p_alternative: FloatArray  # (N,) its posterior probability
    model_alternative: FloatArray  # (N,) pred_probs' probability of that class
    expected_counts: IntArray  # (K, K) [true j, given i]: sums of the posteriors, in units
    # of COUNT_UNIT (exact in any order, so every engine and chunking agrees)

    @property
    def expected_joint(self) -> FloatArray:
        """``[true j, given i]``: the sum of the posteriors of true j over rows labeled i."""
        joint: FloatArray = self.expected_counts / COUNT_UNIT
        return joint


def summarize(
    labels: IntArray, pred_probs: FloatArray, power: float, noise_channel: FloatArray
) -> PosteriorSummary:
    """One compiled pass computing :class:`PosteriorSummary`."""
    n, k = pred_probs.shape
    p_wrong, p_alt, model_alt = np.empty(n), np.empty(n), np.empty(n)
    alt = np.empty(n, dtype=np.int64)
    expected = np.zeros((k, k), dtype=np.int64)
    noise_t = np.ascontiguousarray(noise_channel.T)
    for rows, block in _blocks(pred_probs):
        shares = _kernels().summarize(
            block,
            labels[rows],
            *_scalars(block, power),
            noise_t,
            _bounds(block.shape[0], k),
            p_wrong[rows],
            alt[rows],
            p_alt[rows],
            model_alt[rows],
        )
        expected += shares.sum(axis=0)
    return PosteriorSummary(p_wrong, alt, p_alt, model_alt, _transposed(expected))
