"""Compiled kernels (numba) for the in-memory engine: a few passes over pred_probs, no
N x K temporaries. Imported lazily, only for float32 and float64 input; float16 input and
the reference results use the NumPy functions of the other core modules.

Every kernel reproduces the floating-point operations of the NumPy reference exactly
(same dtype, same order), so results are equal, not just close. Work is split between
threads either by row blocks or, where the order of the rows within a class matters, by
class: each thread then scans all rows and handles those whose label it owns.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

# ---------------------------------------------------------------------------------------
# A prefetch hint (LLVM's llvm.prefetch; numba has none): asks the CPU to start loading
# the cache line of ``arr[i, j]`` while other work goes on. It changes no result. Rows
# picked out of order wait on memory for each row otherwise: at 1e6 x 100 the pruning
# pass, which reads 16% of the rows, took 28-29 ms without and 15 ms with it.
# ---------------------------------------------------------------------------------------


def _prefetch(typingctx: Any, arr: Any, row: Any, col: Any) -> Any:
    """Typing and code of :data:`prefetch`."""
    sig = types.void(arr, row, col)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        arr_type = signature.args[0]
        arr = context.make_array(arr_type)(context, builder, args[0])
        where = [  # as intp; with the array's strides: any memory order
            context.cast(builder, args[n], signature.args[n], types.intp) for n in (1, 2)
        ]
        ptr = cgutils.get_item_pointer(  # type: ignore[no-untyped-call]
            context, builder, arr_type, arr, where, wraparound=False
        )
        byte_ptr = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fn_type = ir.FunctionType(ir.VoidType(), [byte_ptr, i32, i32, i32])
        fn = cgutils.get_or_insert_function(  # type: ignore[no-untyped-call]
            builder.module, fn_type, "llvm.prefetch.p0i8"
        )
        # read, keep in every cache level, data (not instructions)
        builder.call(
            fn,
            [builder.bitcast(ptr, byte_ptr), i32(0), i32(3), i32(1)],
        )
        return context.get_dummy_value()

    return sig, codegen


#: ``prefetch(arr, i, j)``: hint that ``arr[i, j]`` (a 2-D array, indices in bounds) will be
#: read soon.
prefetch: Any = intrinsic(_prefetch)

#: 0 typed as int64. numba compiles a helper once per argument type, and a literal 0 or -1
#: passed to one is a type of its own, as is prange's index (unsigned): each added a
#: version of the helper, seconds of a fresh install's first call (hence also the
#: ``_int64`` casts of prange indices passed on). Both are typed ``Any``: mypy would not
#: take a NumPy integer for the ``int`` the helpers are annotated with.
_ZERO: Any = np.int64(0)
_int64: Any = np.int64

#: How many rows ahead kernels that read scattered rows prefetch them (4 to 16 rows took
#: the same time in the pruning pass at 1e6 x 100).
PREFETCH_ROWS = 8


@njit(cache=True, inline="always")
def prefetch_row(probs: Any, i: int, line: int) -> None:
    """Prefetch every cache line of row ``i`` of ``probs`` (C order), ``line`` values
    per cache line (``max(1, 64 // probs.itemsize)``, worked out once by the caller)."""
    for j in range(0, probs.shape[1], line):
        prefetch(probs, i, j)


# ---------------------------------------------------------------------------------------
# Exact class sums: NumPy's pairwise summation of each class's values, grouped by class.
#
# np.add.reduce over a contiguous 1-D array of n floats sums blocks of at most 128 values
# with 8 accumulators and adds the blocks up along a binary tree whose shape depends on n
# only. The tree is compiled into a list of operations (a leaf of L values, or "add the
# two partial sums on top of the stack"), run over the class's values in data order.
# ---------------------------------------------------------------------------------------

_BLOCK = 128  # NumPy's PW_BLOCKSIZE
_MAX_DEPTH = 64  # stack depth needed for any n < 2**63
COMBINE = 0  # operation code: add the two partial sums on top of the stack


@njit(cache=True)
def _write_plan(counts: Any, ops: Any, start: Any) -> int:
    """Write the operations for each count into ``ops`` (if it is long enough; pass an
    empty array to count them) and where each count's begin into ``start``; return how
    many there are. A depth-first walk of the tree with an explicit stack: each node is
    its size, or COMBINE once both halves are written."""
    stack = np.empty(4 * _MAX_DEPTH, dtype=np.int64)
    pos = 0
    for c in range(counts.shape[0]):
        start[c] = pos
        h = 0
        if counts[c] > 0:
            stack[0] = counts[c]
            h = 1
        while h:
            h -= 1
            n = stack[h]
            if n == COMBINE or n <= _BLOCK:
                if pos < ops.shape[0]:
                    ops[pos] = n
                pos += 1
                continue
            half = n // 2
            half -= half % 8
            stack[h] = COMBINE  # popped after both halves, the first half first
            stack[h + 1] = n - half
            stack[h + 2] = half
            h += 3
    start[counts.shape[0]] = pos
    return pos


def pairwise_plan(
    counts: np.ndarray[Any, Any],
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Operations (CSR layout: ``ops[start[k]:start[k + 1]]``) summing ``counts[k]`` values."""
    plan: tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]] = _plan_of(
        np.asarray(counts, dtype=np.int64)
    )
    return plan


@njit(cache=True, inline="always")
def _leaf_sum(buf: Any, n: int) -> Any:
    """NumPy's pairwise sum of a leaf of n <= 128 values: 8 accumulators over the largest
    multiple of 8, folded as ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7)), then the
    remaining values one by one; below 8 values, a plain sum from 0."""
    if n < 8:
        res = buf.dtype.type(0)
        for i in range(n):
            res += buf[i]
        return res
    r0, r1, r2, r3 = buf[0], buf[1], buf[2], buf[3]
    r4, r5, r6, r7 = buf[4], buf[5], buf[6], buf[7]
    stop = n - n % 8
    for i in range(8, stop, 8):
        r0 += buf[i]
        r1 += buf[i + 1]
        r2 += buf[i + 2]
        r3 += buf[i + 3]
        r4 += buf[i + 4]
        r5 += buf[i + 5]
        r6 += buf[i + 6]
        r7 += buf[i + 7]
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    for i in range(stop, n):
        res += buf[i]
    return res


@njit(cache=True)
def _pairwise_sum(values: Any, begin: int, ops: Any, op_begin: int, op_end: int) -> Any:
    """Run the operations ``ops[op_begin:op_end]`` over ``values[begin:]``."""
    stack = np.empty(_MAX_DEPTH, dtype=values.dtype)
    h = 0
    pos = begin
    for op in range(op_begin, op_end):
        if ops[op] == COMBINE:
            stack[h - 2] = stack[h - 2] + stack[h - 1]
            h -= 1
        else:
            stack[h] = _leaf_sum(values[pos : pos + ops[op]], ops[op])
            pos += ops[op]
            h += 1
    return stack[0] if h else values.dtype.type(0)


@njit(cache=True)
def _plan_of(counts: Any) -> Any:
    """:func:`pairwise_plan` of ``counts`` (int64), callable from compiled code."""
    start = np.empty(counts.shape[0] + 1, dtype=np.int64)
    ops = np.empty(_write_plan(counts, np.empty(0, dtype=np.int64), start), dtype=np.int64)
    _write_plan(counts, ops, start)
    return ops, start


@njit(cache=True)
def _class_starts(pos: Any) -> Any:
    """Turn per-thread class counts ``pos`` into where each thread's run of each class
    starts in the grouped values (classes in order, threads in order within a class);
    return the classes' counts."""
    n_threads, k = pos.shape
    counts = np.zeros(k, dtype=np.int64)
    total = 0
    for c in range(k):
        for t in range(n_threads):
            size = pos[t, c]
            pos[t, c] = total
            total += size
            counts[c] += size
    return counts


#: From this many classes class_sums gathers each row's own value in data order while it
#: checks the rows, and groups those values by class in a second, light pass; with fewer,
#: it groups them in the checking pass. At 1e6 x 100 the grouping writes, scattered among
#: the classes, cost 3.6 ms of 12 in the checking pass and 1.3 ms as a pass of their own;
#: with few classes a row is short and the extra array of one value per row (4-8 bytes
#: against the row's K values) costs too much memory.
GATHER_MIN_CLASSES = 32


@njit(cache=True, parallel=True, nogil=True)
def class_sums(
    labels: Any, probs: Any, bits: Any, inf_bits: Any, n_threads: int, check: bool
) -> Any:
    """Per class k, the sum of ``probs[i, k]`` over rows labeled k, in NumPy's pairwise
    order and precision: the values are grouped by class in data order (a counting sort
    by row blocks), then each class is summed. With ``check``, the rows are checked in
    the same pass (statistics as ``check_rows``'), so the sums and the checks cost one
    read of pred_probs; without, only each row's own value is read (the joint's pass
    then checks the rows, see :func:`confident_rows`) and the statistics are those of
    no rows. Returns the sums, the checks' statistics and the classes' counts."""
    n = labels.shape[0]
    k = probs.shape[1]
    step = (n + n_threads - 1) // n_threads
    gather = k >= GATHER_MIN_CLASSES or not check
    pos = np.zeros((n_threads, k), dtype=np.int64)
    if not gather:  # where each block's rows of class c go, before the checking pass
        for t in prange(n_threads):
            for i in range(t * step, min(n, (t + 1) * step)):
                pos[t, labels[i]] += 1
        counts = _class_starts(pos)
    own = np.empty(n if gather else 0, dtype=probs.dtype)
    grouped = np.empty(n, dtype=probs.dtype)
    stats = np.empty((n_threads, 5))
    block = _block_rows(k)
    for t in prange(n_threads):
        state = _start_checks(probs, inf_bits)
        stop = min(n, (t + 1) * step)
        for b0 in range(t * step, stop, block):
            b1 = min(stop, b0 + block)
            if check:
                state, _ = _check_block(probs, bits, inf_bits, b0, b1, state)
            for i in range(b0, b1):
                lab = labels[i]
                if gather:
                    own[i] = probs[i, lab]
                else:
                    grouped[pos[t, lab]] = probs[i, lab]
                pos[t, lab] += 1
        _store_checks(stats, _int64(t), state, bits, probs)
    if gather:
        counts = _class_starts(pos)
        for t in prange(n_threads):
            mine = pos[t].copy()
            for i in range(t * step, min(n, (t + 1) * step)):
                lab = labels[i]
                grouped[mine[lab]] = own[i]
                mine[lab] += 1
    ops, start = _plan_of(counts)
    sums = np.empty(k, dtype=probs.dtype)
    begin = np.cumsum(counts) - counts
    for c in prange(k):
        sums[c] = _pairwise_sum(grouped, begin[c], ops, start[c], start[c + 1])
    return sums, stats, counts


# ---------------------------------------------------------------------------------------
# Row checks. A row whose values all have a clear sign bit and finite exponent (every
# value finite and >= +0, as in any valid input) is checked with integer min/max of its
# bit patterns, which order such floats as the floats themselves, and a reassociated sum;
# both vectorize. Any other row takes the exact scalar path (NaN-aware min/max).
# ---------------------------------------------------------------------------------------

#: Reassociation only: NaN and inf keep their meaning.
_SUM_MATH = {"reassoc", "contract", "nsz"}

#: Integer type of each float type's bit pattern, and the pattern of +inf.
BIT_VIEWS = {np.dtype(np.float32): np.int32, np.dtype(np.float64): np.int64}
_INF_BITS = {np.dtype(np.float32): 0x7F800000, np.dtype(np.float64): 0x7FF0000000000000}


def bits_of(probs: Any) -> tuple[Any, Any]:
    """pred_probs' bit patterns (a view, no copy) and the pattern of +inf, as the row
    kernels take them."""
    kind = BIT_VIEWS[probs.dtype]
    return probs.view(kind), kind(_INF_BITS[probs.dtype])


# Not inlined: numba's inline="always" compiles the body with the caller's flags, which
# would drop the reassociation that lets the sum vectorize. One function for every clean
# row, so that a row's sum does not depend on which path checked it.
@njit(cache=True, fastmath=_SUM_MATH)
def _total_and_range(row: Any, bits: Any) -> Any:
    """A row's sum (reassociated, float64) and the smallest and largest of its patterns."""
    total = 0.0
    low = bits[0]
    high = bits[0]
    for j in range(row.shape[0]):
        total += row[j]
        low = min(low, bits[j])
        high = max(high, bits[j])
    return total, low, high


@njit(cache=True, inline="always")
def _bit_range(bits: Any) -> Any:
    low = bits[0]
    high = bits[0]
    for j in range(bits.shape[0]):
        low = min(low, bits[j])
        high = max(high, bits[j])
    return low, high


@njit(cache=True, inline="always")
def _exact_row(row: Any) -> Any:
    """Sum (in order, float64), smallest and largest value of a row, NaN-aware."""
    total = 0.0
    low = row[0]
    high = row[0]
    for j in range(row.shape[0]):
        v = row[j]
        total += v
        low = min(low, v)
        high = max(high, v)
    return total, low, high


@njit(cache=True, inline="always")
def _as_float(pattern: Any, bits: Any, probs: Any) -> Any:
    """The value of a bit pattern (``bits``' and ``probs``' dtypes give the types)."""
    tmp = np.empty(1, dtype=bits.dtype)
    tmp[0] = pattern
    return tmp.view(probs.dtype)[0]


@njit(cache=True, inline="always")
def _clean_range(low_bits: Any, high_bits: Any, inf_bits: Any) -> Any:
    """Whether values whose patterns lie in [low_bits, high_bits] are all finite and >= +0."""
    return low_bits >= 0 and high_bits < inf_bits


@njit(cache=True, inline="always")
def _note_total(total: Any, i: int, worst: Any, worst_row: int, bad_row: int) -> Any:
    """The checks' (worst, worst_row, bad_row) after row i, whose sum is ``total``."""
    if not np.isfinite(total):
        if bad_row < 0:
            bad_row = i
    elif abs(total - 1.0) > worst:
        worst = abs(total - 1.0)
        worst_row = i
    return worst, worst_row, bad_row


@njit(cache=True)
def _check_row(row: Any, bits: Any, inf_bits: Any, i: int, state: Any) -> Any:
    """Update the row-check state with row i; also return whether the row is clean.

    The state: (low, high, low_bits, high_bits, worst, worst_row, bad_row), the smallest
    and largest value of the rows checked exactly, the same as bit patterns over the clean
    rows, the largest distance of a row sum from 1, that row, and the first row whose sum
    is not finite."""
    low, high, low_bits, high_bits, worst, worst_row, bad_row = state
    total, b_low, b_high = _total_and_range(row, bits)
    clean = _clean_range(b_low, b_high, inf_bits)
    if clean:
        low_bits = min(low_bits, b_low)
        high_bits = max(high_bits, b_high)
    else:
        total, r_low, r_high = _exact_row(row)
        low = min(low, r_low)
        high = max(high, r_high)
    worst, worst_row, bad_row = _note_total(total, i, worst, worst_row, bad_row)
    return (low, high, low_bits, high_bits, worst, worst_row, bad_row), clean


@njit(cache=True)
def _start_checks(probs: Any, inf_bits: Any) -> Any:
    zero = inf_bits - inf_bits
    none = np.int64(-1)  # typed as int64, not as the literal -1 (see _ZERO)
    return (probs.dtype.type(np.inf), probs.dtype.type(-np.inf), inf_bits, zero, 0.0, none, none)


#: Rows are checked in blocks of about this many values: each row's sum and the range of
#: its bit patterns are taken in one vectorized loop, and the block's rows are taken as
#: checked if the range of the whole block is clean; otherwise they are checked again one
#: at a time by _check_row. Per-row calls of _check_row cost more than the checks
#: themselves for short rows (1e7 x 10: 193 ms per-row, 80 ms by blocks). Reading each
#: row once (the range and the sum in one loop), rather than the block's range first and
#: the sums after, took 35 instead of 52 ms at 1e7 x 10 and 22 instead of 27 ms at
#: 1e6 x 100.
_BLOCK_VALUES = 4096


@njit(cache=True)
def _block_rows(k: int) -> int:
    return max(1, _BLOCK_VALUES // k)


@njit(cache=True)
def _check_block(probs: Any, bits: Any, inf_bits: Any, b0: int, b1: int, state: Any) -> Any:
    """Update the row-check state with rows b0:b1, in order; also return whether every
    one of them is clean (see _check_row)."""
    low, high, all_low, all_high, worst, worst_row, bad_row = state
    block_low = bits[b0, 0]
    block_high = bits[b0, 0]
    block_worst, block_row, block_bad = worst, worst_row, bad_row
    for i in range(b0, b1):
        total, row_low, row_high = _total_and_range(probs[i], bits[i])
        block_low = min(block_low, row_low)
        block_high = max(block_high, row_high)
        block_worst, block_row, block_bad = _note_total(total, i, block_worst, block_row, block_bad)
    if not _clean_range(block_low, block_high, inf_bits):
        for i in range(b0, b1):
            state, _ = _check_row(probs[i], bits[i], inf_bits, i, state)
        return state, False
    all_low = min(all_low, block_low)
    all_high = max(all_high, block_high)
    return (low, high, all_low, all_high, block_worst, block_row, block_bad), True


@njit(cache=True, inline="always")
def _is_clean(bits: Any, inf_bits: Any) -> Any:
    low, high = _bit_range(bits)
    return _clean_range(low, high, inf_bits)


@njit(cache=True)
def _store_checks(stats: Any, t: int, state: Any, bits: Any, probs: Any) -> None:
    """Per-thread statistics as ``combine_stats`` reads them: smallest and largest value,
    largest distance of a row sum from 1, its row, first non-finite row (-1 for none)."""
    low, high, low_bits, high_bits, worst, worst_row, bad_row = state
    stats[t, 0] = min(np.float64(low), np.float64(_as_float(low_bits, bits, probs)))
    stats[t, 1] = max(np.float64(high), np.float64(_as_float(high_bits, bits, probs)))
    stats[t, 2] = worst
    stats[t, 3] = worst_row
    stats[t, 4] = bad_row


# ---------------------------------------------------------------------------------------
# The confident guess: the most probable class among those with p >= cutoff.
# ---------------------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _confident_guess(row: Any, cutoff: Any, argmax_rule: bool) -> int:
    """The most probable class among those with ``p >= cutoff`` (-1 if none; the first
    on ties); with ``argmax_rule`` and two or more such classes, the argmax over all
    classes. Scalar; any values."""
    best = -np.inf
    guess = -1
    if not argmax_rule:
        for j in range(row.shape[0]):
            v = row[j]
            if v >= cutoff[j] and v > best:
                best = v
                guess = j
        return guess
    n_pass = 0
    top = -np.inf
    arg = -1
    for j in range(row.shape[0]):
        v = row[j]
        if v >= cutoff[j]:
            n_pass += 1
            if v > best:
                best = v
                guess = j
        if v > top:
            top = v
            arg = j
    return arg if n_pass > 1 else guess


def cutoff_bits(cutoff: Any, dtype: Any) -> Any:
    """Bit patterns of the smallest values of ``dtype`` at or above each cutoff: for a
    value v >= +0 of that dtype, ``v >= cutoff`` exactly when ``bits(v) >= pattern``
    (also for float64 cutoffs of float32 values, and for cutoffs at or below 0)."""
    dtype = np.dtype(dtype)
    rounded = cutoff.astype(dtype)
    low = rounded < cutoff
    rounded[low] = np.nextafter(rounded[low], dtype.type(np.inf))
    return rounded.view(BIT_VIEWS[dtype])


@njit(cache=True, inline="always")
def _guess_key(pattern: Any, j: int, k: int, cut: Any) -> Any:
    """Column j's key for the one-reduction guess of 32-bit patterns: its pattern above
    ``K - j`` (so that the largest key is the largest pattern's first column), or -1
    below its cutoff's pattern ``cut``."""
    key = (np.int64(pattern) << 32) | np.int64(k - j)
    return key if pattern >= cut else np.int64(-1)


@njit(cache=True, inline="always")
def _key_class(best: Any, k: int) -> int:
    """The column of the largest :func:`_guess_key` (-1 if no column passed)."""
    return int(k - (best & 0xFFFFFFFF)) if best >= 0 else -1


@njit(cache=True, inline="always")
def _clean_guess(bits: Any, cut: Any) -> int:
    """``_confident_guess`` without the argmax rule, from bit patterns (``cut``: those of
    :func:`cutoff_bits`), in two branch-free integer reductions: the largest pattern among
    passing classes, then the first passing class holding it. Exact for rows without NaN
    if every cutoff is above 0 (a value below +0 then passes neither test).

    32-bit patterns take one reduction instead: the largest of ``pattern << 32 | (K - j)``
    over the passing classes j, the largest pattern and among its holders the first class
    (at 1e6 x 100 float32 the joint's pass took 9 ms instead of 18)."""
    k = bits.shape[0]
    if bits.itemsize == 4:
        best = np.int64(-1)
        for j in range(k):
            best = max(best, _guess_key(bits[j], j, k, cut[j]))
        return _key_class(best, k)
    none = bits.dtype.type(-1)
    top = none
    for j in range(k):
        b = bits[j]
        top = max(top, b if b >= cut[j] else none)
    if top < 0:
        return -1
    first = np.int32(k)
    for j in range(k):
        first = min(first, np.int32(j) if bits[j] == top and top >= cut[j] else np.int32(k))
    return int(first)


@njit(cache=True, parallel=True, nogil=True)
def check_rows(probs: Any, bits: Any, inf_bits: Any, n_threads: int) -> Any:
    """The row checks by row blocks (``bits``: pred_probs' bit patterns, see
    :func:`bits_of`): a (threads, 5) array, see ``_store_checks``."""
    n, k = probs.shape
    stats = np.empty((n_threads, 5))
    step = (n + n_threads - 1) // n_threads
    block = _block_rows(k)
    for t in prange(n_threads):
        state = _start_checks(probs, inf_bits)
        stop = min(n, (t + 1) * step)
        for b0 in range(t * step, stop, block):
            state, _ = _check_block(probs, bits, inf_bits, b0, min(stop, b0 + block), state)
        _store_checks(stats, _int64(t), state, bits, probs)
    return stats


#: Seeds of the pruning pass (confident_rows_seeded, fill_heaps): each thread splits each
#: class's rows off the diagonal round-robin into this many groups.
SEED_GROUPS = 16


#: Every fast-math flag but "ninf": the group maxima start at -inf.
_SEED_MATH = {"nnan", "nsz", "arcp", "contract", "afn", "reassoc"}


@njit(cache=True, fastmath=_SEED_MATH, inline="always")
def _seed_group(slot: Any, row: Any, own: Any) -> None:
    """``slot[j] = max(slot[j], row[j] - own)``: a group's largest margins (no NaN)."""
    for j in range(row.shape[0]):
        slot[j] = max(slot[j], row[j] - own)


@njit(cache=True, inline="always")
def _clean_guess_top(bits: Any, cut: Any, lab: int) -> Any:
    """:func:`_clean_guess` of 32-bit patterns and :func:`_top_other` in one loop."""
    k = bits.shape[0]
    best = np.int64(-1)
    top = bits[0] - bits[0]
    for j in range(k):
        best = max(best, _guess_key(bits[j], j, k, cut[j]))
        top = max(top, bits[j] & bits.dtype.type(-(j != lab)))
    return _key_class(best, k), top


@njit(cache=True, inline="always")
def _count_rows(
    labels: Any,
    probs: Any,
    bits: Any,
    cutoff: Any,
    cut: Any,
    argmax_rule: bool,
    fast: bool,
    start: int,
    stop: int,
    counts: Any,
    off: Any,
) -> None:
    """Count rows start:stop into the flat joint ``counts``; mark those off its diagonal."""
    k = probs.shape[1]
    for i in range(start, stop):
        if fast:
            guess = _clean_guess(bits[i], cut)
        else:
            guess = _confident_guess(probs[i], cutoff, argmax_rule)
        if guess >= 0:
            lab = labels[i]
            counts[guess * k + lab] += 1
            off[i] = guess != lab


@njit(cache=True, parallel=True, nogil=True)
def confident_rows(
    labels: Any,
    probs: Any,
    bits: Any,
    n_threads: int,
    cutoff: Any,
    cut: Any,
    argmax_rule: bool,
    count_like: Any,
) -> Any:
    """The confident joint of checked rows (no NaN) by row blocks, counted per thread as
    flat (true * K + given) arrays of ``count_like``'s dtype, and the rows counted off its
    diagonal. With every cutoff above 0 (thresholds are floored at 2e-6) no value below +0
    passes, so the branch-free ``_clean_guess`` (on ``cut``, the cutoffs' patterns) is
    exact for every row; otherwise, and with the argmax rule, the scalar guess runs."""
    n, k = probs.shape
    off = np.zeros(n, dtype=np.bool_)
    counts = np.zeros((n_threads, k * k), dtype=count_like.dtype)
    fast = cutoff.min() > 0 and not argmax_rule
    step = (n + n_threads - 1) // n_threads
    for t in prange(n_threads):
        stop = min(n, (t + 1) * step)
        _count_rows(
            labels, probs, bits, cutoff, cut, argmax_rule, fast, t * step, stop, counts[t], off
        )
    return off, counts


# A kernel of its own: the checks in confident_rows' loop, behind a flag, slowed its
# unchecked runs from 49 to 65 ms at 1e7 x 10 (and numba.literally, to compile the flag
# away, made every call re-dispatch).
@njit(cache=True, parallel=True, nogil=True)
def confident_rows_checked(
    labels: Any,
    probs: Any,
    bits: Any,
    inf_bits: Any,
    n_threads: int,
    cutoff: Any,
    cut: Any,
    argmax_rule: bool,
    count_like: Any,
) -> Any:
    """:func:`confident_rows` of rows not yet checked, checked in the same pass by row
    blocks: also returns the checks' statistics (as ``check_rows``'). Rows that fail the
    checks get some guess; the counts are only used once the checks pass."""
    n, k = probs.shape
    off = np.zeros(n, dtype=np.bool_)
    counts = np.zeros((n_threads, k * k), dtype=count_like.dtype)
    stats = np.empty((n_threads, 5))
    fast = cutoff.min() > 0 and not argmax_rule
    step = (n + n_threads - 1) // n_threads
    block = _block_rows(k)
    for t in prange(n_threads):
        state = _start_checks(probs, inf_bits)
        stop = min(n, (t + 1) * step)
        for b0 in range(t * step, stop, block):
            b1 = min(stop, b0 + block)
            state, _ = _check_block(probs, bits, inf_bits, b0, b1, state)
            _count_rows(labels, probs, bits, cutoff, cut, argmax_rule, fast, b0, b1, counts[t], off)
        _store_checks(stats, _int64(t), state, bits, probs)
    return off, counts, stats


#: What the seeded joint's pass notes of each row for the argmax post-filter: the label,
#: given the head start, is below the row's largest other value, above it, or equal to it
#: (NumPy's first-maximum rule then decides, see :func:`drop_label_wins`).
LABEL_BELOW, LABEL_ABOVE, LABEL_EQUAL = 0, 1, 2


@njit(cache=True, parallel=True, nogil=True)
def confident_rows_seeded(
    labels: Any,
    probs: Any,
    bits: Any,
    n_threads: int,
    cutoff: Any,
    cut: Any,
    argmax_rule: bool,
    count_like: Any,
    head: Any,
) -> Any:
    """:func:`confident_rows`, and the pruning pass's seeds: per thread, class and group
    of that class's rows whose guess is not their label, the largest margin
    ``P(j) - P(label)`` for every column j (``groups``, threads x K x SEED_GROUPS x K),
    each row's largest value in the other columns less its own (``bound``, its largest
    margin), and how its label given a ``head`` start compares with that value (``beats``,
    LABEL_BELOW, LABEL_ABOVE or LABEL_EQUAL). A loop of its own:
    sharing ``confident_rows``' loop, behind a flag, slowed that one by half at 1e7 x 10."""
    n, k = probs.shape
    off = np.zeros(n, dtype=np.bool_)
    counts = np.zeros((n_threads, k * k), dtype=count_like.dtype)
    groups = np.full((n_threads, k, SEED_GROUPS, k), -np.inf, dtype=probs.dtype)
    bound = np.empty(n, dtype=probs.dtype)
    top_bits = bound.view(bits.dtype)  # the top's pattern, read back as its value
    beats = np.empty(n, dtype=np.int8)
    seen = np.zeros((n_threads, k), dtype=np.int64)
    fast = cutoff.min() > 0 and not argmax_rule
    joint = fast and bits.itemsize == 4
    step = (n + n_threads - 1) // n_threads
    for t in prange(n_threads):
        for i in range(t * step, min(n, (t + 1) * step)):
            lab = labels[i]
            if joint:
                guess, top = _clean_guess_top(bits[i], cut, lab)
            else:
                if fast:
                    guess = _clean_guess(bits[i], cut)
                else:
                    guess = _confident_guess(probs[i], cutoff, argmax_rule)
                top = _top_other(bits[i], lab)
            if guess >= 0:
                counts[t, guess * k + lab] += 1
                off[i] = guess != lab
            row = probs[i]
            own = row[lab]
            if guess != lab:
                g = seen[t, lab] % SEED_GROUPS
                seen[t, lab] += 1
                _seed_group(groups[t, lab, g], row, own)
            top_bits[i] = top
            value = bound[i]
            bound[i] = value - own
            boosted = own + head
            beats[i] = (
                LABEL_ABOVE
                if boosted > value
                else (LABEL_EQUAL if boosted == value else LABEL_BELOW)
            )
    return off, counts, groups, bound, beats


@njit(cache=True, parallel=True, nogil=True)
def label_wins(labels: Any, probs: Any, rows: Any, head: Any) -> Any:
    """For the given (checked) rows: is the label the argmax once given a ``head`` start
    (NumPy's first-maximum rule)? Only flagged rows need it, so it is not part of the full
    scan."""
    k = probs.shape[1]
    line = max(1, 64 // probs.itemsize)
    wins = np.zeros(rows.shape[0], dtype=np.bool_)
    for r in prange(rows.shape[0]):
        if r + PREFETCH_ROWS < rows.shape[0]:  # scattered rows: see fill_heaps
            prefetch_row(probs, rows[r + PREFETCH_ROWS], line)
        row = probs[rows[r]]
        lab = labels[rows[r]]
        boosted = row[lab] + head
        wins[r] = boosted > _clean_max(row, _ZERO, lab) and boosted >= _clean_max(row, lab + 1, k)
    return wins


@njit(cache=True, parallel=True, nogil=True)
def drop_label_wins(
    labels: Any, probs: Any, flags: Any, beats: Any, head: Any, n_threads: int
) -> Any:
    """``flags`` less the rows whose label wins (as :func:`label_wins`), from ``beats``
    (see :func:`confident_rows_seeded`): only a flagged row whose boosted label equals its
    largest other value is read, for NumPy's first-maximum rule."""
    n, k = probs.shape
    kept = np.empty(n, dtype=np.bool_)
    step = (n + n_threads - 1) // n_threads
    for t in prange(n_threads):
        for i in range(t * step, min(n, (t + 1) * step)):
            kept[i] = flags[i] and beats[i] != LABEL_ABOVE
            if kept[i] and beats[i] == LABEL_EQUAL:
                lab = labels[i]
                row = probs[i]
                boosted = row[lab] + head
                kept[i] = not (
                    boosted > _clean_max(row, _ZERO, lab) and boosted >= _clean_max(row, lab + 1, k)
                )
    return kept


@njit(cache=True, parallel=True, nogil=True)
def gather(probs: Any, rows: Any, cols: Any) -> Any:
    """``probs[rows, cols]`` (equal-length index arrays, in bounds), each value prefetched
    a few ahead: scattered reads that NumPy's fancy indexing makes one after another
    (1e5 of them: 1.7 ms there, 0.3 ms here)."""
    n = rows.shape[0]
    out = np.empty(n, dtype=probs.dtype)
    for r in prange(n):
        if r + PREFETCH_ROWS < n:
            prefetch(probs, rows[r + PREFETCH_ROWS], cols[r + PREFETCH_ROWS])
        out[r] = probs[rows[r], cols[r]]
    return out


@njit(cache=True, parallel=True, nogil=True)
def scan_scores(
    labels: Any,
    probs: Any,
    bits: Any,
    inf_bits: Any,
    n_threads: int,
    method: int,
    floor: Any,
    out: Any,
) -> Any:
    """The row checks (as ``check_rows``) and each row's score in the same pass:
    0 self-confidence, 1 normalized margin, 2 confidence-weighted entropy."""
    n, k = probs.shape
    one = probs.dtype.type(1)
    two = probs.dtype.type(2)
    stats = np.empty((n_threads, 5))
    step = (n + n_threads - 1) // n_threads
    block = _block_rows(k)
    for t in prange(n_threads):
        state = _start_checks(probs, inf_bits)
        # One pattern at a time read back as a float (a view made once per thread).
        pattern = np.empty(1, dtype=bits.dtype)
        value = pattern.view(probs.dtype)
        stop = min(n, (t + 1) * step)
        for b0 in range(t * step, stop, block):
            b1 = min(stop, b0 + block)
            state, all_clean = _check_block(probs, bits, inf_bits, b0, b1, state)
            for i in range(b0, b1):
                row = probs[i]
                clean = all_clean or _is_clean(bits[i], inf_bits)
                lab = labels[i]
                if method == 2:
                    plogp = _plogp_clean(row, bits[i]) if clean else _plogp_exact(row)
                    out[i] = _weighted_entropy(row, lab, floor, plogp)
                elif method == 1 and clean and k > 1:
                    pattern[0] = _top_other(bits[i], lab)
                    out[i] = (row[lab] - value[0] + one) / two
                else:
                    out[i] = _score(probs, i, lab, method, one, two)
        _store_checks(stats, _int64(t), state, bits, probs)
    return stats


@njit(cache=True, inline="always")
def _top_other(bits: Any, lab: int) -> Any:
    """The largest bit pattern of a clean row (see _check_row) outside column ``lab``:
    the pattern of its largest other value (non-negative floats order as their patterns;
    +0.0's pattern is 0, the smallest). Column ``lab`` is masked to 0 by a bitwise and
    (a conditional expression here measured twice as slow: it did not vectorize)."""
    top = bits[0] - bits[0]
    for j in range(bits.shape[0]):
        top = max(top, bits[j] & bits.dtype.type(-(j != lab)))
    return top


def n_threads() -> int:
    """Threads the kernels use (numba's setting, e.g. NUMBA_NUM_THREADS)."""
    return int(numba.get_num_threads())


# ---------------------------------------------------------------------------------------
# Selection: keep the ``cap`` largest values seen in a min-heap (root = smallest kept).
# With cap = m + 1, the root is the (m+1)-th largest value: if it is smaller than the
# m-th, the m largest are unique; if equal, values tie at the cut and the caller breaks
# the tie as NumPy's argsort does.
# ---------------------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _heap_push(vals: Any, idx: Any, base: int, size: int, cap: int, v: Any, i: int) -> int:
    """Offer (v, i) to the heap stored at vals[base:base+cap]; return its new size."""
    if size < cap:
        pos = size
        size += 1
        while pos > 0:
            parent = (pos - 1) // 2
            if vals[base + parent] <= v:
                break
            vals[base + pos] = vals[base + parent]
            idx[base + pos] = idx[base + parent]
            pos = parent
        vals[base + pos] = v
        idx[base + pos] = i
        return size
    if not v > vals[base]:
        return size
    _sift_down(vals, idx, base, size, 0, v, i)
    return size


@njit(cache=True, inline="always")
def _sift_down(vals: Any, idx: Any, base: int, size: int, pos: int, v: Any, i: int) -> None:
    """Place (v, i) at heap position ``pos`` (whose entry it replaces), moving smaller
    children up until the min-heap order holds below it."""
    while True:
        child = 2 * pos + 1
        if child >= size:
            break
        if child + 1 < size and vals[base + child + 1] < vals[base + child]:
            child += 1
        if vals[base + child] >= v:
            break
        vals[base + pos] = vals[base + child]
        idx[base + pos] = idx[base + child]
        pos = child
    vals[base + pos] = v
    idx[base + pos] = i


@njit(cache=True, inline="always")
def _heap_select(vals: Any, idx: Any, base: int, size: int, m: int, flags: Any) -> bool:
    """Flag the m largest of a full heap of m + 1 (or of all, if it holds at most m);
    return False, flagging nothing, when values tie at the cut."""
    if size <= m:
        for s in range(size):
            flags[idx[base + s]] = True
        return True
    if m == 0:
        return True
    second = vals[base + 1]
    if size > 2 and vals[base + 2] < second:
        second = vals[base + 2]
    if second == vals[base]:
        return False
    for s in range(1, size):
        flags[idx[base + s]] = True
    return True


# A store of capacity ``cap`` (m + 1) holding at least _BUFFER_MIN entries is a buffer of
# 1.5 cap: values are appended, and when it is full a partition keeps the cap largest
# (amortized constant time per value, against a heap's log(cap) scattered moves: at
# 1e7 x 10, where noise cells keep about 11,000 rows, the pruning pass took half the
# time). Smaller stores are heaps, cheaper for a few entries. Either way only values
# above the store's bar (the smallest kept once full, -inf before) are offered, and
# :func:`_finish_store` leaves a heap of the cap largest, as :func:`_heap_select` reads.
_BUFFER_MIN = 64


@njit(cache=True, inline="always")
def _store_size(cap: int) -> int:
    return cap + cap // 2 if cap >= _BUFFER_MIN else cap


@njit(cache=True)
def _bases(caps: Any) -> Any:
    """Where each store starts (and, last, the total size), for the given capacities."""
    base = np.zeros(caps.shape[0] + 1, dtype=np.int64)
    for h in range(caps.shape[0]):
        base[h + 1] = base[h] + _store_size(caps[h])
    return base


@njit(cache=True, inline="always")
def _swap(vals: Any, idx: Any, a: int, b: int) -> None:
    v = vals[a]
    vals[a] = vals[b]
    vals[b] = v
    x = idx[a]
    idx[a] = idx[b]
    idx[b] = x


# Inlined: an opaque call anywhere in a scanning loop kept the loop's loads from being
# hoisted, which cost the heap-only case (1e6 x 100) about 10% of the pruning pass.
@njit(cache=True, inline="always")
def _keep_largest(vals: Any, idx: Any, base: int, size: int, keep: int) -> Any:
    """Reorder ``vals[base:base + size]`` (with ``idx``) so that its first ``keep``
    entries are the ``keep`` largest (a quickselect, median-of-three pivots, Hoare
    partitions, which split runs of equal values evenly); return the smallest of them."""
    lo = base
    hi = base + size - 1
    target = base + keep - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if vals[mid] > vals[lo]:  # order lo >= mid >= hi
            _swap(vals, idx, mid, lo)
        if vals[hi] > vals[lo]:
            _swap(vals, idx, hi, lo)
        if vals[hi] > vals[mid]:
            _swap(vals, idx, hi, mid)
        pivot = vals[mid]
        i = lo
        j = hi
        while i <= j:
            while vals[i] > pivot:
                i += 1
            while vals[j] < pivot:
                j -= 1
            if i <= j:
                _swap(vals, idx, i, j)
                i += 1
                j -= 1
        # now [lo, j] >= pivot, [i, hi] <= pivot, and what lies between equals it
        if target <= j:
            hi = j
        elif target >= i:
            lo = i
        else:
            break
    low = vals[base]
    for s in range(base + 1, base + keep):
        low = min(low, vals[s])
    return low


@njit(cache=True)
def _heapify(vals: Any, idx: Any, base: int, size: int) -> None:
    """Make ``vals[base:base + size]`` a min-heap (with ``idx``)."""
    for top in range(size // 2 - 1, -1, -1):
        _sift_down(vals, idx, base, size, top, vals[base + top], idx[base + top])


@njit(cache=True, inline="always")
def _offer(vals: Any, idx: Any, base: int, size: int, cap: int, v: Any, i: int, bar: Any) -> Any:
    """Offer (v, i), v > bar, to the store of capacity ``cap`` at ``base`` holding
    ``size`` entries; return its new size and bar."""
    if cap < _BUFFER_MIN:
        size = _heap_push(vals, idx, base, size, cap, v, i)
        return size, vals[base] if size == cap else bar
    vals[base + size] = v
    idx[base + size] = i
    size += 1
    if size == _store_size(cap):
        bar = _keep_largest(vals, idx, base, size, cap)
        size = cap
    return size, bar


@njit(cache=True, inline="always")
def _finish_store(vals: Any, idx: Any, base: int, size: int, cap: int) -> int:
    """Leave a heap of the (at most ``cap``) largest entries of a store; return its size."""
    if cap < _BUFFER_MIN:
        return size
    if size > cap:
        _keep_largest(vals, idx, base, size, cap)
        size = cap
    _heapify(vals, idx, base, size)
    return size


@njit(cache=True, inline="always")
def _any_above(row: Any, own: Any, bars: Any) -> bool:
    """Whether some ``row[j] - own`` exceeds ``bars[j]`` (a branch-free, vectorizable loop)."""
    hits = 0
    for j in range(row.shape[0]):
        hits += (row[j] - own) > bars[j]
    return hits > 0


@njit(cache=True)  # a call per noise cell (inlined, it made fill_heaps slow to compile)
def _merge_stores(
    vals: Any, idx: Any, size: Any, base: Any, cap: int, h: int, n_threads: int, stride: int
) -> None:
    """Offer the entries of store h of threads 1.. to thread 0's store h, and leave there
    a heap of the ``cap`` largest of them all."""
    b0 = base[h]
    s0 = size[0, h]
    bar = vals[b0] if cap < _BUFFER_MIN and s0 == cap else vals.dtype.type(-np.inf)
    for t in range(1, n_threads):
        off = t * stride + b0
        for s in range(size[t, h]):
            if vals[off + s] > bar:
                s0, bar = _offer(vals, idx, b0, s0, cap, vals[off + s], idx[off + s], bar)
    size[0, h] = _finish_store(vals, idx, b0, s0, cap)


# fill_heaps' merge runs as an ordinary function called once per class, and each store's
# merge as a call: inlined into the prange body, they made numba take 34-43 s to compile
# the kernel (most of a fresh install's first call). The scanning loop stays in the body:
# as a function called once per thread it ran 20% slower at 1e7 x 10.
@njit(cache=True)
def _merge_class(
    c: int,
    active: Any,
    class_m: Any,
    class_cap: Any,
    class_base: Any,
    class_vals: Any,
    class_idx: Any,
    class_size: Any,
    class_stride: int,
    cell_start: Any,
    cell_cap: Any,
    cell_base: Any,
    cell_vals: Any,
    cell_idx: Any,
    cell_size: Any,
    cell_stride: int,
    n_threads: int,
) -> None:
    """Merge the threads' stores of class c and of its cells into thread 0's."""
    if not active[c]:
        return
    if class_m[c] > 0:
        _merge_stores(
            class_vals, class_idx, class_size, class_base, class_cap[c], c, n_threads, class_stride
        )
    for cell in range(cell_start[c], cell_start[c + 1]):
        _merge_stores(
            cell_vals, cell_idx, cell_size, cell_base, cell_cap[cell], cell, n_threads, cell_stride
        )


@njit(cache=True)
def _largest(vals: Any, m: int) -> Any:
    """The (m+1)-th largest of ``vals`` (no NaN), counting equal values apart: what
    ``np.sort(vals)[-1 - m]`` gives, for a few dozen values, without the sort (numba's
    took 1.5 s to compile)."""
    for a in range(vals.shape[0]):
        above = 0
        equal = 0
        for b in range(vals.shape[0]):
            above += vals[b] > vals[a]
            equal += vals[b] == vals[a]
        if above <= m < above + equal:
            return vals[a]
    return vals[0]  # not reached for 0 <= m < len(vals)


@njit(cache=True, parallel=True)
def _seed_bars(
    cell_bar: Any, low: Any, groups: Any, cell_start: Any, cell_j: Any, cell_m: Any
) -> None:
    """Raise each cell's bar to just below the (m+1)-th largest of its group maxima (see
    :func:`fill_heaps`), and set each class's smallest bar."""
    k = cell_start.shape[0] - 1
    n_threads, _, n_groups, _ = groups.shape
    for c in prange(k):
        vals = np.empty(n_threads * n_groups, dtype=groups.dtype)
        smallest = groups.dtype.type(np.inf)
        for cell in range(cell_start[c], cell_start[c + 1]):
            j = cell_j[cell]
            m = cell_m[cell]
            if m < vals.shape[0]:
                for t in range(n_threads):
                    for g in range(n_groups):
                        vals[t * n_groups + g] = groups[t, c, g, j]
                reached = _largest(vals, m)  # m + 1 distinct rows reach it
                if reached > -np.inf:
                    below = np.nextafter(reached, groups.dtype.type(-np.inf))
                    cell_bar[cell] = max(cell_bar[cell], below)
            smallest = min(smallest, cell_bar[cell])
        low[c] = smallest


#: A class's rows are read sparsely (only its noise cells' columns, each a cache line at
#: a random place in the row) when (cells + 1) x this many bytes fit in a row; otherwise
#: the whole row is read and compared with a row of bars (a vectorized loop over data
#: the prefetcher streams). Measured (pruning pass, 2 threads): at 1e5 x 1000 float32
#: with 7 cells per class, 9.7 ms sparse against 20-23 ms whole; at 1e6 x 300 with one
#: cell per class 38 against 83 ms; at 1e6 x 100 with one cell per class, whole rows
#: were faster when every row had to be read (31 against 36 ms) and slower when the
#: seeds let most rows be skipped (21.5 against 18 ms).
SPARSE_ROW_BYTES = 256


@njit(cache=True)
def _rows_to_read(
    lo: int,
    hi: int,
    labels: Any,
    active: Any,
    class_m: Any,
    first: Any,
    bound: Any,
    low: Any,
    seeded: bool,
    index_like: Any,
) -> Any:
    """The rows lo:hi the pruning pass reads in its first phase, in order: with seeds,
    those whose class selects by class or whose largest margin passes its class's
    smallest bar; without, those marked ``first``; in active classes only. With seeds
    (32 classes or more) the list is written into room for every row (4-8 bytes per row
    of 32 values or more); without, where rows may be short, the rows are counted first.
    Each row index is stored before it is known whether it is wanted (no branch on it)."""
    size = hi - lo
    if not seeded:
        size = 0
        for i in range(lo, hi):
            size += first[i] and active[labels[i]]
    rows = np.empty(size + 1, dtype=index_like.dtype)  # + 1: the last store may be unwanted
    count = 0
    for i in range(lo, hi):
        lab = labels[i]
        rows[count] = i
        if seeded:
            count += active[lab] and (class_m[lab] > 0 or bound[i] > low[lab])
        else:
            count += first[i] and active[lab]
    return rows[:count]


@njit(cache=True, inline="always")
def _prefetch_row(
    probs: Any, i: int, lab: int, line: int, dense: Any, cell_start: Any, cell_j: Any
) -> None:
    """Prefetch what the pruning pass will read of row i: the whole row for a class read
    whole (``line`` values per cache line), its own value and its cells' values for one
    read sparsely."""
    if dense[lab] >= 0:
        prefetch_row(probs, i, line)
        return
    prefetch(probs, i, lab)
    for cell in range(cell_start[lab], cell_start[lab + 1]):
        prefetch(probs, i, cell_j[cell])


@njit(cache=True, parallel=True, nogil=True)
def fill_heaps(
    labels: Any,
    probs: Any,
    first: Any,
    index_like: Any,
    n_threads: int,
    counts: Any,
    active: Any,
    class_m: Any,
    cell_start: Any,
    cell_j: Any,
    cell_m: Any,
    floor: Any,
    groups: Any,
    bound: Any,
) -> Any:
    """Pruning by class and by noise rate in one pass over pred_probs (row blocks).

    For given class k (if ``active[k]``): the ``class_m[k]`` examples with the lowest
    P(k), and for each cell c in ``cell_start[k]:cell_start[k+1]`` the ``cell_m[c]``
    examples with the largest margin P(cell_j[c]) - P(k). Each thread keeps its own
    stores of the m + 1 best (at most ``counts[k]``; heaps or buffers, see ``_offer``);
    they are merged per class into thread 0's, which are returned as heaps: values (-P(k)
    for classes, the margin for cells), row indices, sizes and where each heap starts.
    :func:`select_heaps` flags.

    ``floor[c]`` (-inf for none) is a margin that cell c's (m+1)-th largest is known to
    reach from rows seen elsewhere (the streaming engine's earlier blocks): only larger
    margins are offered, which changes no selection and keeps the heaps nearly empty.

    The selection does not depend on the order rows are offered in, so each thread offers
    the rows marked ``first`` (likely issues, e.g. off the confident joint's diagonal)
    before the others: the heaps then fill with their final values early and later rows
    are dismissed by one comparison. Row indices are stored with ``index_like``'s dtype
    (int32 when N allows, halving the heaps).

    With seeds from :func:`confident_rows_seeded` (``groups`` not empty, and ``bound``),
    each cell's bar starts just below the (m+1)-th largest of its group maxima: m + 1
    distinct rows reach it, so it is valid, and it is close to the final bar. The rows
    then go in data order (``first`` is not used), and a row whose ``bound`` (its largest
    margin) is at most its class's smallest starting bar is not read: none of its margins
    could be offered.

    A class with few cells for its row length (see ``SPARSE_ROW_BYTES``) has only its
    cells' columns read, in cell order (cells are sorted by column, as the whole-row scan
    offers them).
    """
    n, k = probs.shape
    n_cells = cell_j.shape[0]
    cell_given = np.empty(n_cells, dtype=np.int64)
    class_cap = np.zeros(k, dtype=np.int64)  # a loop: np.where took 1 s more to compile
    for c in range(k):
        cell_given[cell_start[c] : cell_start[c + 1]] = c
        if class_m[c] > 0:
            class_cap[c] = min(class_m[c] + 1, counts[c])
    cell_cap = np.minimum(cell_m + 1, counts[cell_given])
    class_base = _bases(class_cap)
    cell_base = _bases(cell_cap)
    class_stride = class_base[k]
    cell_stride = cell_base[n_cells]
    class_vals = np.empty(n_threads * class_stride, dtype=probs.dtype)
    class_idx = np.empty(n_threads * class_stride, dtype=index_like.dtype)
    cell_vals = np.empty(n_threads * cell_stride, dtype=probs.dtype)
    cell_idx = np.empty(n_threads * cell_stride, dtype=index_like.dtype)
    class_size = np.zeros((n_threads, k), dtype=np.int64)
    cell_size = np.zeros((n_threads, n_cells), dtype=np.int64)
    step = (n + n_threads - 1) // n_threads
    # The margin a row must beat to enter a cell's store (see _offer; it only decides what
    # is offered, never what is kept), so that most margins are dismissed by one
    # comparison; class_bar likewise for -P(k). One table for all threads, each raising
    # an entry to its own store's bar: a full store's smallest value is at most the
    # cell's (m+1)-th largest over all rows, so any thread may dismiss what does not beat
    # it, and the merged stores still hold the m + 1 largest (ties at the cut included:
    # the store that set the bar keeps m + 1 values at or above it). A thread may read a
    # stale entry (it is then lower, still valid). Sharing cut the offers at 1e6 x 100
    # from 1.21 to 1.03 million and the pass by 3-8% at the benchmark's sizes.
    cell_bar = floor.copy()
    class_bar = np.full(k, -np.inf, dtype=probs.dtype)
    seeded = groups.shape[1] > 0
    low = np.full(k, -np.inf, dtype=probs.dtype)  # each class's smallest seeded bar
    if seeded:
        _seed_bars(cell_bar, low, groups, cell_start, cell_j, cell_m)
    # Classes read whole rows (see SPARSE_ROW_BYTES) keep their bars as a row of a dense
    # table, bar[dense[given], true] (+inf where there is no cell), and cell_of maps its
    # entries to cells; the other classes use cell_bar.
    dense = np.full(k, -1, dtype=np.int64)
    n_dense = 0
    row_bytes = k * probs.itemsize
    for c in range(k):
        if (cell_start[c + 1] - cell_start[c] + 1) * SPARSE_ROW_BYTES > row_bytes:
            dense[c] = n_dense
            n_dense += 1
    bar = np.full((n_dense, k), np.inf, dtype=probs.dtype)
    cell_of = np.full((n_dense, k), -1, dtype=np.int64)
    for cell in range(n_cells):
        d = dense[cell_given[cell]]
        if d >= 0:
            bar[d, cell_j[cell]] = cell_bar[cell]
            cell_of[d, cell_j[cell]] = cell
    line = max(1, 64 // probs.itemsize)  # values per cache line (in C order)
    for t in prange(n_threads):
        c_off = t * class_stride
        p_off = t * cell_stride
        lo = t * step
        hi = min(n, (t + 1) * step)
        # The first phase reads rows picked out of order (with seeds, all it reads): they
        # are listed first, so that each can be prefetched a few rows ahead.
        picked = _rows_to_read(
            lo, hi, labels, active, class_m, first, bound, low, seeded, index_like
        )
        for phase in range(1 if seeded else 2):  # rows marked first, then the others
            listed = phase == 0
            for r in range(picked.shape[0] if listed else hi - lo):
                i = picked[r] if listed else lo + r
                if listed and r + PREFETCH_ROWS < picked.shape[0]:
                    ahead = picked[r + PREFETCH_ROWS]
                    _prefetch_row(probs, ahead, labels[ahead], line, dense, cell_start, cell_j)
                elif not listed and i + PREFETCH_ROWS < hi:
                    # rows in order stream on their own, but not the scattered values
                    # of sparsely read ones (1e5 x 1000: 10 -> 5.6 ms)
                    ahead = i + PREFETCH_ROWS
                    if dense[labels[ahead]] < 0:
                        _prefetch_row(probs, ahead, labels[ahead], line, dense, cell_start, cell_j)
                if not listed and first[i]:
                    continue
                lab = labels[i]
                if not active[lab]:
                    continue
                row = probs[i]
                own = row[lab]
                if class_m[lab] > 0 and -own > class_bar[lab]:
                    class_size[t, lab], raised = _offer(
                        class_vals,
                        class_idx,
                        c_off + class_base[lab],
                        class_size[t, lab],
                        class_cap[lab],
                        -own,
                        i,
                        class_bar[lab],
                    )
                    if raised > class_bar[lab]:
                        class_bar[lab] = raised
                if seeded and not bound[i] > low[lab]:
                    continue
                d = dense[lab]
                if d < 0:
                    for cell in range(cell_start[lab], cell_start[lab + 1]):
                        margin = row[cell_j[cell]] - own
                        if margin > cell_bar[cell]:
                            cell_size[t, cell], raised = _offer(
                                cell_vals,
                                cell_idx,
                                p_off + cell_base[cell],
                                cell_size[t, cell],
                                cell_cap[cell],
                                margin,
                                i,
                                cell_bar[cell],
                            )
                            if raised > cell_bar[cell]:
                                cell_bar[cell] = raised
                    continue
                bars = bar[d]
                if not _any_above(row, own, bars):
                    continue
                for j in range(k):
                    margin = row[j] - own
                    if margin > bars[j]:
                        cell = cell_of[d, j]
                        cell_size[t, cell], raised = _offer(
                            cell_vals,
                            cell_idx,
                            p_off + cell_base[cell],
                            cell_size[t, cell],
                            cell_cap[cell],
                            margin,
                            i,
                            bars[j],
                        )
                        if raised > bars[j]:
                            bars[j] = raised
    for c in prange(k):  # classes own disjoint stores
        _merge_class(
            _int64(c),  # prange's index is unsigned: one compiled version, not two
            active,
            class_m,
            class_cap,
            class_base,
            class_vals,
            class_idx,
            class_size,
            class_stride,
            cell_start,
            cell_cap,
            cell_base,
            cell_vals,
            cell_idx,
            cell_size,
            cell_stride,
            n_threads,
        )
    return (
        class_vals[:class_stride],
        class_idx[:class_stride],
        class_size[0].copy(),
        class_base,
        cell_vals[:cell_stride],
        cell_idx[:cell_stride],
        cell_size[0].copy(),
        cell_base,
    )


@njit(cache=True, parallel=True, nogil=True)
def select_heaps(n: int, vals: Any, idx: Any, size: Any, base: Any, m: Any, group: Any) -> Any:
    """Flag the ``m[h]`` best entries of each merged heap h (see :func:`fill_heaps`).
    Heaps ``group[c]:group[c + 1]`` belong to class c (classes flag disjoint rows, so
    they run in parallel). Returns the flags and, per heap, whether values tie at the cut
    (then nothing of that heap is flagged and the caller breaks the tie)."""
    flags = np.zeros(n, dtype=np.bool_)
    tie = np.zeros(m.shape[0], dtype=np.bool_)
    for c in prange(group.shape[0] - 1):
        for h in range(group[c], group[c + 1]):
            if size[h] > 0:
                tie[h] = not _heap_select(vals, idx, base[h], size[h], m[h], flags)
    return flags, tie


# ---------------------------------------------------------------------------------------
# Scores.
# ---------------------------------------------------------------------------------------


#: For rows without NaN: lets the maximum vectorize (the sign of a zero maximum may be
#: either, which no score below can tell apart: x - 0.0 == x - -0.0).
_MAX_MATH = {"nnan", "nsz"}


@njit(cache=True, fastmath=_MAX_MATH)  # not inlined, as _total_and_range
def _clean_max(row: Any, start: int, stop: int) -> Any:
    """Largest of ``row[start:stop]`` (-inf if empty) for a row without NaN."""
    top = row.dtype.type(-np.inf)
    for j in range(start, stop):
        top = max(top, row[j])
    return top


@njit(cache=True, inline="always")
def _score(probs: Any, i: int, lab: int, method: int, one: Any, two: Any) -> Any:
    """0: self-confidence; 1: normalized margin, in pred_probs' precision. Rows holding
    NaN get meaningless scores: callers check the rows (and reject such input)."""
    row = probs[i]
    own = row[lab]
    if method == 0:
        return own
    other = max(_clean_max(row, _ZERO, lab), _clean_max(row, lab + 1, row.shape[0]))
    return (own - other + one) / two


@njit(cache=True, parallel=True, nogil=True)
def lowest_scores(
    labels: Any, probs: Any, m: int, method: int, index_like: Any, n_threads: int
) -> Any:
    """Flag the m rows with the lowest scores (threads keep the m + 1 lowest of their row
    block in stores, see ``_offer``, merged afterwards). Returns the flags and False if
    values tie at the cut (then nothing is flagged and the caller breaks the tie)."""
    n = probs.shape[0]
    one = probs.dtype.type(1)
    two = probs.dtype.type(2)
    cap = min(m + 1, n)
    stride = _store_size(cap)
    vals = np.empty(n_threads * stride, dtype=probs.dtype)
    idx = np.empty(n_threads * stride, dtype=index_like.dtype)
    size = np.zeros((n_threads, 1), dtype=np.int64)
    base = np.zeros(1, dtype=np.int64)
    step = (n + n_threads - 1) // n_threads
    for t in prange(n_threads):
        s = 0
        bar = probs.dtype.type(-np.inf)
        for i in range(t * step, min(n, (t + 1) * step)):
            v = -_score(probs, i, labels[i], method, one, two)
            if v > bar:
                s, bar = _offer(vals, idx, t * stride, s, cap, v, i, bar)
        size[t, 0] = s
    _merge_stores(vals, idx, size, base, cap, _ZERO, n_threads, stride)
    flags = np.zeros(n, dtype=np.bool_)
    return flags, _heap_select(vals, idx, 0, size[0, 0], m, flags)


@njit(cache=True)
def _weighted_entropy(row: Any, lab: int, floor: Any, plogp: Any) -> Any:
    """Confidence-weighted entropy of a row from ``plogp`` (the sum of p * log(p)):
    h = entropy / log(K) in float64, s = the label's probability floored at ``floor`` (in
    pred_probs' dtype), then ``log(1 + h / s) / max(h / s, floor)``."""
    ratio = (-plogp / np.log(row.shape[0])) / max(row[lab], floor)
    return np.log(ratio + 1) / max(ratio, 1e-6)


@njit(cache=True)
def _plogp_exact(row: Any) -> Any:
    """Sum of p * log(p) over the row's values p > 0, in float64 and in order."""
    total = 0.0
    for j in range(row.shape[0]):
        p = np.float64(row[j])
        if p > 0:
            total += p * np.log(p)
    return total


# fdlibm's log (e_log.c): log(1 + f) = f - hfsq + s * (hfsq + R(s^2)), s = f / (2 + f),
# with R a minimax polynomial; error below 1 ulp.
_LG1 = 6.666666666666735130e-01
_LG2 = 3.999999999940941908e-01
_LG3 = 2.857142874366239149e-01
_LG4 = 2.222219843214978396e-01
_LG5 = 1.818357216161805012e-01
_LG6 = 1.531383769920937332e-01
_LG7 = 1.479819860511658591e-01
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_SQRT2 = 1.4142135623730951


# Not inlined, as _total_and_range; NumPy's error model: no zero-division check (2 + f >= 1.29)
# to branch out of the loop, which would keep it from vectorizing.
@njit(cache=True, fastmath=_SUM_MATH, error_model="numpy")
def _plogp_clean(row: Any, bits: Any) -> Any:
    """``_plogp_exact`` of a clean row (see _check_row), vectorizable: the exponent and
    mantissa of each value are read from its bit pattern, the logarithm of the mantissa
    is fdlibm's polynomial (no call to log), and subnormal values (below 1.2e-38) count as
    0, as zeros do (their terms are under 1e-36)."""
    # Integer constants of the patterns' own type: with Python ints, float32 patterns
    # were widened to int64, whose conversion to float64 AVX2 lacks (1.6x slower).
    t = bits.dtype.type
    if bits.itemsize == 4:
        shift, mask, bias, scale = t(23), t(0x7FFFFF), t(127), 2.0**-23
    else:
        shift, mask, bias, scale = t(52), t(0xFFFFFFFFFFFFF), t(1023), 2.0**-52
    total = 0.0
    for j in range(row.shape[0]):
        b = bits[j]
        raw = b >> shift
        m = 1.0 + np.float64(b & mask) * scale  # row[j] = m * 2**(raw - bias), m in [1, 2)
        e = np.float64(raw - bias)
        big = m > _SQRT2
        m = m * 0.5 if big else m
        e = e + 1.0 if big else e
        f = m - 1.0
        s = f / (2.0 + f)
        z = s * s
        w = z * z
        r = z * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7))) + w * (_LG2 + w * (_LG4 + w * _LG6))
        hfsq = 0.5 * f * f
        log_p = e * _LN2_HI - ((hfsq - (s * (hfsq + r) + e * _LN2_LO)) - f)
        total += np.float64(row[j]) * log_p if raw > 0 else 0.0
    return total


@njit(cache=True, parallel=True, nogil=True)
def argmax_differs(labels: Any, probs: Any, bits: Any) -> Any:
    """Whether each row's argmax (first maximum, as NumPy) differs from its label, for
    checked rows (finite, at least -1e-6, summing to 1: the maximum is positive, so bit
    patterns, with negatives below every positive, find it without branches)."""
    n, k = probs.shape
    out = np.zeros(n, dtype=np.bool_)
    for i in prange(n):
        row = bits[i]
        top = row[0]
        for j in range(k):
            top = max(top, row[j])
        first = k
        for j in range(k):
            first = min(first, j if row[j] == top else k)
        out[i] = first != labels[i]
    return out
