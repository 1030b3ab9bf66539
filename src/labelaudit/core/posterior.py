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

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from labelaudit._typing import BoolArray, FloatArray, IntArray
from labelaudit.core._chunks import row_slices
from labelaudit.core._search import golden_max
from labelaudit.core.thresholds import label_order

#: Probabilities below this are treated as this before taking logs.
LOG_FLOOR = 1e-30
#: Search interval of the sharpness, and the number of golden-section steps (the interval
#: shrinks to 1.7e-4 of its log-width: a relative precision of about 0.1% on the power).
POWER_RANGE = (0.2, 20.0)
_SEARCH_STEPS = 18
#: The sharpness is chosen on a sample of rows drawn with a fixed seed: at most FIT_ROWS
#: rows and FIT_CELLS probabilities, but never fewer than MIN_FIT_ROWS rows.
FIT_ROWS = 100_000
FIT_CELLS = 10_000_000
MIN_FIT_ROWS = 10_000


def log_probs(pred_probs: FloatArray, rows: IntArray | None = None) -> FloatArray:
    """``log(pred_probs[rows])`` (all rows if None) floored at :data:`LOG_FLOOR`, in float64
    for float64 input and float32 otherwise (enough for probabilities, half the memory
    traffic). Computed one chunk of rows at a time into the result, so the only array of
    the result's size is the result (no gathered copy of the rows, no temporaries)."""
    dtype = np.float64 if pred_probs.dtype == np.float64 else np.float32
    n = pred_probs.shape[0] if rows is None else rows.shape[0]
    out: FloatArray = np.empty((n, pred_probs.shape[1]), dtype=dtype)
    for part in row_slices(n, pred_probs.shape[1], pred_probs.itemsize):
        chunk = pred_probs[part] if rows is None else pred_probs[rows[part]]
        np.maximum(chunk, dtype(LOG_FLOOR), out=out[part], dtype=dtype)
        np.log(out[part], out=out[part])
    return out


def sharpen_log(logp: FloatArray, power: float) -> FloatArray:
    """Rows of ``exp(power * logp)``, normalized to sum to 1."""
    z = logp * logp.dtype.type(power)
    z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


def sharpen(pred_probs: FloatArray, power: float) -> FloatArray:
    """Rows of ``pred_probs ** power``, renormalized (computed in log space)."""
    return sharpen_log(log_probs(pred_probs), power)


def add_joint_counts(labels: IntArray, weights: npt.NDArray[Any], out: npt.NDArray[Any]) -> None:
    """Add to ``out[j, i]`` the sum of ``weights[:, j]`` over the examples labeled ``i``."""
    order = label_order(labels, out.shape[1])
    present, starts = np.unique(labels[order], return_index=True)
    out[:, present] += np.add.reduceat(weights[order], starts, axis=0).T


def channel(counts: FloatArray) -> FloatArray:
    """Row-normalize ``counts`` into ``P(given | true)``; an empty row keeps its label."""
    totals = counts.sum(axis=1, keepdims=True)
    eye = np.eye(counts.shape[0])
    return np.where(totals > 0, counts / np.where(totals > 0, totals, 1.0), eye)


#: Channel counts are summed as integers in units of 2**-32: integer sums do not depend
#: on the order rows are added in, so every engine and chunking gives the same channel.
COUNT_UNIT = 2.0**32


def channel_counts(
    labels: IntArray, pred_probs: FloatArray, n_classes: int, power: float
) -> IntArray:
    """``[true j, given i]`` sums of :func:`sharpen` ``(pred_probs, power)`` in units of
    :data:`COUNT_UNIT` (int64, exact in any order; fine to about 2e9 rows)."""
    counts = np.zeros((n_classes, n_classes), dtype=np.int64)
    n, k = pred_probs.shape
    for rows in row_slices(n, k, pred_probs.itemsize):
        weights = np.rint(sharpen(pred_probs[rows], power) * COUNT_UNIT).astype(np.int64)
        add_joint_counts(labels[rows], weights, counts)
    return counts


def sharpened_channel(
    labels: IntArray, pred_probs: FloatArray, n_classes: int, power: float
) -> FloatArray:
    """The noise channel of :func:`sharpen` ``(pred_probs, power)``, one chunk at a time."""
    return channel(channel_counts(labels, pred_probs, n_classes, power) / COUNT_UNIT)


def posterior(
    labels: IntArray, pred_probs: FloatArray, power: float, noise_channel: FloatArray
) -> FloatArray:
    """``P(true j | pred_probs, given label)`` for each row (in memory: pass a chunk)."""
    post = sharpen(pred_probs, power) * noise_channel[:, labels].T
    post /= post.sum(axis=1, keepdims=True)
    return post


def mean_log_likelihood(labels: IntArray, logp: FloatArray, n_classes: int, power: float) -> float:
    """Mean log-probability of the given labels under sharpness ``power`` (``logp`` from
    :func:`log_probs`; two chunked passes: the channel, then the likelihood)."""
    n, k = logp.shape
    slices = list(row_slices(n, k, logp.itemsize))
    counts = np.zeros((n_classes, n_classes))
    for rows in slices:
        add_joint_counts(labels[rows], sharpen_log(logp[rows], power), counts)
    noise = channel(counts)
    total = 0.0
    for rows in slices:
        q = sharpen_log(logp[rows], power)
        total += float(np.log(np.einsum("nj,jn->n", q, noise[:, labels[rows]])).sum())
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
    """The sharpness that maximizes :func:`mean_log_likelihood`: a golden-section search
    over ``log(power)`` in :data:`POWER_RANGE`, on the rows of :func:`fit_rows`."""
    rows = fit_rows(*pred_probs.shape)
    sampled = labels if rows is None else labels[rows]
    return fit_power_to(sampled, log_probs(pred_probs, rows), n_classes)


def fit_power_on(labels: IntArray, pred_probs: FloatArray, n_classes: int) -> float:
    """:func:`fit_power` on rows already sampled."""
    return fit_power_to(labels, log_probs(pred_probs), n_classes)


def fit_power_to(labels: IntArray, logp: FloatArray, n_classes: int) -> float:
    """:func:`fit_power` on the sampled rows' :func:`log_probs`."""

    def score(log_power: float) -> float:
        return mean_log_likelihood(labels, logp, n_classes, float(np.exp(log_power)))

    lo, hi = np.log(POWER_RANGE[0]), np.log(POWER_RANGE[1])
    return float(np.exp(golden_max(score, float(lo), float(hi), _SEARCH_STEPS)))


def mislabeled_probability(
    labels: IntArray, pred_probs: FloatArray, power: float, noise_channel: FloatArray
) -> FloatArray:
    """``1 - P(true = given | ...)`` for every row, computed one chunk at a time."""
    n, k = pred_probs.shape
    out = np.empty(n)
    for rows in row_slices(n, k, pred_probs.itemsize):
        post = posterior(labels[rows], pred_probs[rows], power, noise_channel)
        out[rows] = 1.0 - post[np.arange(post.shape[0]), labels[rows]]
    clipped: FloatArray = np.clip(out, 0.0, 1.0, out=out)  # in place: N values, not 2N
    return clipped


def expected_f1_flags(p_mislabeled: FloatArray) -> BoolArray:
    """The examples to flag so that the expected F1 of the flags is largest.

    If ``p`` are calibrated probabilities of error, flagging a set S gives on average
    ``sum(p[S])`` true flags out of ``|S|`` flags and ``sum(p)`` errors, so its F1 is about
    ``F(S) = 2 sum(p[S]) / (|S| + sum(p))``. Adding an example raises F exactly when its
    ``p`` exceeds ``F / 2``, so the best set is the examples with the largest ``p``, cut
    where ``p`` falls to half the F1 reached (the threshold rule of Lipton, Elkan and
    Naryanaswamy, 2014). Ties at the cut are flagged together; nothing is flagged when
    every ``p`` is 0.

    Only the top of ``p`` is sorted: each added example moves F towards ``2 p``, so the
    best cut has ``p >= F_best / 2``, which is at least half the F of any set tried (the
    largest ``p`` alone, or every ``p >= 0.5``); below that, F only falls.
    """
    total = float(p_mislabeled.sum())
    if not p_mislabeled.size or total <= 0:
        return np.zeros(p_mislabeled.shape, dtype=bool)
    half = p_mislabeled >= 0.5
    tried = max(
        2.0 * float(p_mislabeled.max()) / (1.0 + total),
        2.0 * float(p_mislabeled[half].sum()) / (int(half.sum()) + total),
    )
    top = np.sort(p_mislabeled[p_mislabeled >= tried / 2 * (1 - 1e-9)])[::-1]
    expected_f1 = 2.0 * np.cumsum(top) / (np.arange(1, top.size + 1) + total)
    flags: BoolArray = p_mislabeled >= top[int(np.argmax(expected_f1))]
    return flags


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
    """One chunked pass computing :class:`PosteriorSummary`."""
    n, k = pred_probs.shape
    p_wrong, p_alt, model_alt = np.empty(n), np.empty(n), np.empty(n)
    alt = np.empty(n, dtype=np.int64)
    expected = np.zeros((k, k), dtype=np.int64)
    for rows in row_slices(n, k, pred_probs.itemsize):
        labs = labels[rows]
        post = posterior(labs, pred_probs[rows], power, noise_channel)
        add_joint_counts(labs, np.rint(post * COUNT_UNIT).astype(np.int64), expected)
        r = np.arange(post.shape[0])
        p_wrong[rows] = 1.0 - post[r, labs]
        post[r, labs] = -1.0
        alt[rows] = post.argmax(axis=1)
        p_alt[rows] = post[r, alt[rows]]
        model_alt[rows] = pred_probs[rows][r, alt[rows]]
    return PosteriorSummary(
        np.clip(p_wrong, 0.0, 1.0), alt, np.clip(p_alt, 0.0, 1.0), model_alt, expected
    )
