"""The compiled kernels and the NumPy reference give equal results."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

import labelaudit as la
import labelaudit.engines._inmemory as engine
from labelaudit._filter import FILTER_METHODS
from labelaudit._validation import row_stats
from labelaudit.core import _kernels, prune
from labelaudit.core.joint import calibrate, confident_flat
from labelaudit.core.prune import keep_at_least
from labelaudit.core.thresholds import TOLERANCE

from ..datasets import make_data

METHODS = list(FILTER_METHODS)


def results(labels, probs):
    est = la.estimate_noise(labels, probs)
    out = {
        "thresholds": la.confident_thresholds(labels, probs),
        "raw_joint": la.confident_joint(labels, probs, calibrate=False),
        "noise": est.noise_matrix,
        "prior": est.prior_true,
        "num": np.array(
            [
                la.num_label_issues(labels, probs, method=m)
                for m in ["off_diagonal", "off_diagonal_calibrated"]
            ]
        ),
        "rank": la.rank_label_issues(labels, probs),
        "scores_sc": la.label_quality_scores(labels, probs),
        "scores_nm": la.label_quality_scores(labels, probs, method="normalized_margin"),
        "adjusted": la.label_quality_scores(labels, probs, adjust_pred_probs=True),
    }
    for method in METHODS:
        out[method] = la.find_label_issues(labels, probs, method=method)
    out["cwe"] = la.label_quality_scores(labels, probs, method="confidence_weighted_entropy")
    return out


def assert_engines_agree(labels, probs, monkeypatch):
    warnings.simplefilter("ignore", la.FewExamplesWarning)
    compiled = results(labels, probs)
    with monkeypatch.context() as m:
        m.setattr(engine, "USE_KERNELS", False)
        reference = results(labels, probs)
    for key, value in reference.items():
        if key == "cwe":  # summed in another order: equal to rounding
            assert_allclose(compiled[key], value, rtol=1e-12, err_msg=key)
        else:
            assert_array_equal(compiled[key], value, err_msg=key)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    k=st.integers(2, 40),
    n=st.integers(20, 600),
    dtype=st.sampled_from([np.float32, np.float64]),
    noise=st.floats(0, 0.6),
    absent=st.integers(0, 2),
)
def test_kernels_equal_numpy_reference(seed, k, n, dtype, noise, absent):
    labels, probs = make_data(seed, n, k, dtype=dtype, noise=noise, absent=absent if k > 3 else 0)
    with pytest.MonkeyPatch.context() as mp:
        assert_engines_agree(labels, probs, mp)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernels_equal_reference_with_saturated_ties(dtype, monkeypatch):
    """Probabilities rounded to a coarse grid tie often at every cut."""
    labels, probs = make_data(4, 3000, 6, dtype=np.float64, noise=0.3, sharpness=1.0)
    probs = np.round(probs, 1)
    probs[:, 0] += 1 - probs.sum(axis=1)
    probs = np.abs(probs).astype(dtype)
    probs /= probs.sum(axis=1, keepdims=True)
    assert_engines_agree(labels, probs, monkeypatch)


@pytest.mark.parametrize("n", [1, 7, 8, 9, 127, 128, 129, 1000, 8193, 70001])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k", [3, _kernels.GATHER_MIN_CLASSES])  # grouped while checking, after
def test_streaming_pairwise_sum_equals_numpy(n, dtype, k):
    rng = np.random.default_rng(n)
    labels = rng.integers(0, k, n)
    probs = rng.random((n, k)).astype(dtype)
    probs /= probs.sum(axis=1, keepdims=True)
    for check in (True, False):  # the light pass (checks left to the joint's) sums alike
        sums, _, counts = _kernels.class_sums(labels, probs, *_kernels.bits_of(probs), 2, check)
        np.testing.assert_array_equal(counts, np.bincount(labels, minlength=k))
        for c in range(k):
            if counts[c]:
                assert sums[c] == np.add.reduce(probs[labels == c, c])


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.sampled_from([-np.inf, -0.5, 0.0, 0.25, 0.25, 1.0]), min_size=1, max_size=40),
    st.data(),
)
def test_largest_is_the_sorted_value(values, data):
    """The seeds' counting selection gives what a sort gives, ties and -inf included."""
    for dtype in (np.float32, np.float64):
        vals = np.array(values, dtype=dtype)
        m = data.draw(st.integers(0, vals.size - 1))
        assert _kernels._largest(vals, m) == np.sort(vals)[-1 - m]


def _pairwise_reference(n: int) -> list[int]:
    """NumPy's pairwise tree for n values, written as the recursion it is: leaves of at
    most 128 values, halves cut at a multiple of 8, then 0 (add the two partial sums)."""
    if n <= 128:
        return [n]
    half = n // 2 - (n // 2) % 8
    return [*_pairwise_reference(half), *_pairwise_reference(n - half), 0]


def test_pairwise_plan_equals_the_recursion():
    """The compiled plan (a walk with an explicit stack) lists the recursion's operations,
    class after class, with zero counts taking none."""
    counts = np.array([0, 1, 8, 128, 129, 136, 1000, 8193, 70001, 2**20 + 13, 0, 255])
    ops, start = _kernels.pairwise_plan(counts)
    for c, n in enumerate(counts.tolist()):
        assert ops[start[c] : start[c + 1]].tolist() == (_pairwise_reference(n) if n else [])
    assert start[-1] == ops.shape[0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernels_equal_reference_with_signed_zeros_and_tiny_negatives(dtype, monkeypatch):
    """Rows holding -0.0 or negatives within the accepted tolerance leave the kernels'
    vectorized path; a class whose labeled rows all give it 0 has a threshold of 0, so
    such values pass its cutoff and can be the confident guess."""
    labels, probs = make_data(5, 2000, 6, dtype=np.float64, noise=0.3)
    probs[labels == 5, 5] = 0.0
    rng = np.random.default_rng(0)
    rows = rng.choice(2000, 300, replace=False)
    probs[rows[:100], 5] = -0.0
    probs[rows[100:200], 5] = -1e-9
    probs[rows[200:], rng.integers(0, 6, 100)] = -0.0
    # rows where class 5's -0.0 / -1e-9 is the only value to pass its class's threshold
    probs[rows[:200], :5] = 0.2
    probs = (probs / probs.sum(axis=1, keepdims=True)).astype(dtype)  # keeps the signs
    assert np.signbit(probs).sum() == 300
    assert la.confident_thresholds(labels, probs)[:5].min() > 0.2
    assert_engines_agree(labels, probs, monkeypatch)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("argmax_rule", [False, True])
@pytest.mark.parametrize("floor", [0.0, 2e-6])
def test_confident_scan_equals_reference_for_any_cutoff(dtype, argmax_rule, floor):
    """The kernel's confident guess equals the NumPy reference on rows holding -0.0 or
    tiny negatives and on exact ties, both with thresholds floored as in use (2e-6: every
    cutoff above 0, the branch-free guess) and with cutoffs at or below 0 (the scalar
    guess)."""
    rng = np.random.default_rng(1)
    n, k = 3000, 7
    probs = np.round(rng.dirichlet(np.ones(k), n), 1)
    signs = rng.random((n, k)) < 0.1
    probs[signs & (probs == 0)] = -0.0
    probs[rng.random((n, k)) < 0.02] = -1e-9
    # rows where only classes 0 and 1 pass: -0.0 (first) ties with 0.0, or -1e-9 wins
    rest = [0.05, 0.15, 0.25, 0.45, 0.1]
    probs[:3] = [[-0.0, 0.0, *rest], [-1e-9, -0.0, *rest], [-0.0, -1e-9, *rest]]
    probs = probs.astype(dtype)
    labels = rng.integers(0, k, n)
    thresholds = np.array([floor, max(floor, 1e-6), 0.1, 0.2, 0.3, 0.5, 0.9], dtype=dtype)
    cutoff = thresholds - dtype(TOLERANCE)
    for j in (3, 4, 5):  # values exactly at a cutoff pass it
        probs[rng.choice(n, 200, replace=False), j] = cutoff[j]
    flat, off = confident_flat(labels, probs, thresholds, "argmax" if argmax_rule else "confident")
    bits, inf_bits = _kernels.bits_of(probs)
    rule = (cutoff, _kernels.cutoff_bits(cutoff, dtype), argmax_rule, np.zeros(0, dtype=np.int64))
    seeded = _kernels.confident_rows_seeded(labels, probs, bits, 2, *rule, dtype(TOLERANCE))
    for got_off, per_thread in (_kernels.confident_rows(labels, probs, bits, 2, *rule), seeded[:2]):
        assert_array_equal(per_thread.sum(axis=0), flat)
        assert_array_equal(got_off, off)
    got_off, per_thread, stats = _kernels.confident_rows_checked(
        labels, probs, bits, inf_bits, 2, *rule
    )
    assert_array_equal(per_thread.sum(axis=0), flat)
    assert_array_equal(got_off, off)
    assert engine.combine_stats(probs, stats) == engine.check_rows(probs)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_vectorized_plogp_matches_log(dtype):
    """The entropy kernel's own logarithm (fdlibm's polynomial on the bit pattern's
    mantissa) gives sum p * log(p) to rounding, over the whole range of probabilities:
    powers of two, values around sqrt(2) times a power of two, 1, the smallest normal
    values; zeros and subnormals count as 0."""
    rng = np.random.default_rng(2)
    tiny = np.finfo(dtype).tiny
    special = [1.0, 0.5, 0.25, 2.0**-20, 1 / np.sqrt(2), np.sqrt(2) / 2 * (1 + 1e-7)]
    special += [tiny, tiny * 3, 0.0, tiny / 4]
    values = np.concatenate([special, 10.0 ** rng.uniform(-37, 0, 20_000), rng.random(20_000)])
    values = values.astype(dtype)
    for row in values.reshape(-1, 10):
        expected = sum(float(p) * np.log(float(p)) for p in row if p >= tiny)
        got = _kernels._plogp_clean(row, _kernels.bits_of(row)[0])
        assert got == pytest.approx(expected, rel=1e-14, abs=1e-300)
        assert _kernels._plogp_exact(row) == pytest.approx(got, rel=1e-14, abs=1e-35)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("order", ["C", "F"])
def test_row_checks_by_blocks_equal_reference(dtype, order, monkeypatch):
    """Rows are checked in blocks of about 4096 values (a block with a sign bit anywhere
    is checked row by row): many blocks per thread, -0.0 in the first quarter's blocks
    only, the largest value and the row sum farthest from 1 each in one row of a clean
    block, every row's sum off 1 by a small amount; C and Fortran order."""
    n = 12_000  # 1024 rows per block at K = 4: six blocks per thread on two threads
    labels, probs = make_data(7, n, 4, dtype=np.float64, noise=0.2)
    rng = np.random.default_rng(7)
    probs *= 1 + rng.uniform(-1e-6, 1e-6, (n, 1))
    rows, cols = rng.choice(n // 4, 40, replace=False), rng.integers(0, 4, 40)
    probs[rows, (cols + 1) % 4] += probs[rows, cols]
    probs[rows, cols] = -0.0
    probs[n // 2 + 10] = [1 - 3e-7, 1e-7, 1e-7, 1e-7]
    probs[n // 4 + 100] *= 1 + 5e-6
    probs = np.asarray(probs.astype(dtype), order=order)
    stats = engine.check_rows(probs)
    assert stats == row_stats(probs)
    assert stats.worst_row == n // 4 + 100 and stats.high == probs[n // 2 + 10, 0]
    assert_engines_agree(labels, probs, monkeypatch)


BAD_VALUES = [np.nan, np.inf, -np.inf, -0.5, 1.5, 2e38]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bad", BAD_VALUES)
def test_row_checks_equal_reference(dtype, bad, monkeypatch):
    """Invalid values are reported with the same message (kind, row, value) by the
    kernels' row checks as by the NumPy reference, whichever function runs them."""
    labels, probs = make_data(6, 500, 4, dtype=dtype, noise=0.2)
    probs[300, 1] += probs[300, 0]  # a valid -0.0 nearby must not hide a negative
    probs[300, 0] = -0.0
    probs[321, 2] = bad
    probs[400, 1] = bad
    calls = [
        lambda: la.find_label_issues(labels, probs),
        lambda: la.confident_thresholds(labels, probs),
        lambda: la.label_quality_scores(labels, probs),
    ]
    for call in calls:
        with pytest.raises(la.InvalidInputError) as compiled:
            call()
        with monkeypatch.context() as m:
            m.setattr(engine, "USE_KERNELS", False)
            with pytest.raises(la.InvalidInputError) as reference:
                call()
        assert str(compiled.value) == str(reference.value)


def test_concurrent_calls_from_threads():
    """Several Python threads may call the compiled kernels at once (OpenMP / TBB layers)."""
    import threading

    import numba

    labels, probs = make_data(8, 2000, 5, dtype=np.float32, noise=0.2)
    expected = la.find_label_issues(labels, probs)
    if numba.threading_layer() == "workqueue":
        pytest.skip("numba's workqueue threading layer does not allow concurrent calls")
    results, errors = [], []

    def work():
        try:
            for _ in range(5):
                results.append(la.find_label_issues(labels, probs))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(results) == 20
    for flags in results:
        assert_array_equal(flags, expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernels_equal_reference_with_many_tied_cells(dtype, monkeypatch):
    """Sparse rows (most probabilities exactly 0) make many noise cells tie at their cut,
    several per class; the ties are broken together, as NumPy's argsort of each cell's
    margins alone would break them."""
    rng = np.random.default_rng(7)
    n, k = 3000, 60
    true = rng.integers(0, k, n)
    shape = np.full((n, k), 0.02)
    shape[np.arange(n), true] = 3.0
    probs = rng.standard_gamma(shape)
    probs[probs < 1e-3] = 0.0
    probs = (probs / probs.sum(axis=1, keepdims=True)).astype(dtype)
    labels = np.where(rng.random(n) < 0.2, rng.integers(0, k, n), true)
    counts = np.bincount(labels, minlength=k)
    prep = engine.prepare(labels, probs, k, "joint")
    joint = calibrate(prep.confident.joint, counts)
    start, cell_j, cell_m = engine.cells_of(keep_at_least(joint.T, 1, 1.0), counts > 1)
    heaps = _kernels.fill_heaps(
        labels,
        probs,
        prep.confident.off_diagonal,
        engine.index_like(n),
        2,
        counts,
        counts > 1,
        np.zeros(k, dtype=np.int64),
        start,
        cell_j,
        cell_m,
        np.full(cell_m.shape[0], -np.inf, dtype=dtype),
        engine.no_seeds(probs).groups,
        engine.no_seeds(probs).bound,
    )
    tied = _kernels.select_heaps(n, *heaps[4:], cell_m, start)[1]
    given = np.searchsorted(start, np.flatnonzero(tied), side="right") - 1
    assert np.bincount(given).max() >= 2  # several tied cells in one class
    assert_engines_agree(labels, probs, monkeypatch)


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.sampled_from([0.0, 0.25, 0.5, 1.0]) | st.floats(-1, 1), max_size=900),
    cap=st.integers(1, 300),
    floor=st.sampled_from([-np.inf, 0.0, 0.5]),
)
def test_stores_keep_the_largest_values_as_a_heap(values, cap, floor):
    """A selection store (a heap below _BUFFER_MIN entries, a buffer kept by partitions
    above) ends as a min-heap of the cap largest values offered above its floor."""
    vals = np.empty(_kernels._store_size(cap), dtype=np.float64)
    idx = np.empty(vals.shape[0], dtype=np.int32)
    size, bar = 0, floor
    for i, v in enumerate(values):
        if v > bar:
            size, bar = _kernels._offer(vals, idx, 0, size, cap, v, i, bar)
    size = _kernels._finish_store(vals, idx, 0, size, cap)
    offered = np.array([v for v in values if v > floor])
    assert_array_equal(np.sort(vals[:size]), np.sort(offered)[::-1][:cap][::-1])
    assert_array_equal(vals[:size], np.asarray(values)[idx[:size]])
    heap = vals[:size]
    children = np.arange(1, size)
    assert (heap[(children - 1) // 2] <= heap[children]).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rounded", [False, True])
def test_kernels_equal_reference_with_large_selections(dtype, rounded, monkeypatch):
    """Few classes and many rows: noise cells, classes and the low-score methods keep
    hundreds of rows each (buffered stores), with and without ties at the cuts."""
    labels, probs = make_data(11, 12000, 3, dtype=np.float64, noise=0.3)
    if rounded:
        probs = np.round(probs, 2)
        probs[:, 0] += 1 - probs.sum(axis=1)
        probs = np.abs(probs)
    probs = (probs / probs.sum(axis=1, keepdims=True)).astype(dtype)
    assert_engines_agree(labels, probs, monkeypatch)


def _pruned(labels, probs, options):
    return {
        (method, frac): la.find_label_issues(
            labels, probs, method=method, frac_noise=frac, **options
        )
        for method in ("prune_by_noise_rate", "prune_by_class", "both")
        for frac in (1.0, 0.4)
    }


def _on_grid(probs, grid):
    """Rows rounded to multiples of 1 / grid (0: unchanged), renormalized: margins tie."""
    if not grid:
        return probs
    probs = np.round(probs * grid) / grid
    probs[:, 0] += 1 - probs.sum(axis=1)
    probs = np.abs(probs)
    return probs / probs.sum(axis=1, keepdims=True)


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    k=st.integers(32, 70),
    n=st.integers(40, 900),
    dtype=st.sampled_from([np.float32, np.float64]),
    noise=st.floats(0, 0.7),
    grid=st.sampled_from([0, 10, 50]),
    n_keep=st.integers(1, 3),
)
def test_seeded_pruning_equals_the_reference(seed, k, n, dtype, noise, grid, n_keep):
    """The pruning pass with seeds from the joint's pass (bars from group maxima, rows
    skipped by their largest margin) flags what the unseeded pass and NumPy flag, also
    with probabilities on a coarse grid, where margins tie at every bar."""
    warnings.simplefilter("ignore", la.FewExamplesWarning)
    labels, probs = make_data(seed, n, k, dtype=np.float64, noise=noise, sharpness=1.5)
    probs = _on_grid(probs, grid).astype(dtype)
    options = {"min_examples_per_class": n_keep}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(engine, "SEED_ROWS", 0)  # seeds at any size (kept from 160,000 rows)
        prep = engine.prepare(labels, probs, k, "joint", frozenset({"prune"}))
        assert prep.seeds is not None and prep.seeds.bound.shape == (n,)
        seeded = _pruned(labels, probs, options)
        mp.setattr(engine, "SEED_CLASSES", (1, 0))  # no seeds
        assert engine.prepare(labels, probs, k, "joint", frozenset({"prune"})).seeds is None
        unseeded = _pruned(labels, probs, options)
        mp.setattr(engine, "USE_KERNELS", False)
        reference = _pruned(labels, probs, options)
    for key, flags in reference.items():
        assert_array_equal(seeded[key], flags, err_msg=str(key))
        assert_array_equal(unseeded[key], flags, err_msg=str(key))


def _sparse_classes(labels, probs, n_keep):
    """How many classes with noise cells the pruning pass reads sparsely (see
    SPARSE_ROW_BYTES)."""
    k = probs.shape[1]
    counts = np.bincount(labels, minlength=k)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        joint = calibrate(la.confident_joint(labels, probs), counts)
    start, _, _ = engine.cells_of(keep_at_least(joint.T, n_keep, 1.0), counts > max(n_keep, 1))
    cells = np.diff(start)
    fits = (cells + 1) * _kernels.SPARSE_ROW_BYTES <= k * probs.itemsize
    return int((fits & (cells > 0)).sum())


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    k=st.sampled_from([64, 128, 300]),
    dtype=st.sampled_from([np.float32, np.float64]),
    spread=st.integers(1, 4),
    grid=st.sampled_from([0, 20]),
    seeds=st.booleans(),
)
def test_sparse_row_reads_equal_the_reference(seed, k, dtype, spread, grid, seeds):
    """Classes with few noise cells for their row length have only those columns read by
    the pruning pass (with and without seeds); the flags are NumPy's, ties included."""
    warnings.simplefilter("ignore", la.FewExamplesWarning)
    rng = np.random.default_rng(seed)
    n = 8 * k
    _, probs = make_data(seed, n, k, dtype=np.float64, noise=0.0, sharpness=2.0)
    true = probs.argmax(axis=1)
    labels = true.copy()
    flip = rng.random(n) < 0.15  # each class confused with its next few classes only
    labels[flip] = (true[flip] + rng.integers(1, spread + 1, int(flip.sum()))) % k
    probs = _on_grid(probs, grid).astype(dtype)
    assert (
        _sparse_classes(labels, probs, 1) > 0 or k * probs.itemsize < 2 * _kernels.SPARSE_ROW_BYTES
    )
    options = {"min_examples_per_class": 1}
    with pytest.MonkeyPatch.context() as mp:
        if seeds:
            mp.setattr(engine, "SEED_ROWS", 0)
        compiled = _pruned(labels, probs, options)
        mp.setattr(engine, "USE_KERNELS", False)
        reference = _pruned(labels, probs, options)
    for key, flags in reference.items():
        assert_array_equal(compiled[key], flags, err_msg=str(key))


def test_seeds_are_kept_where_they_pay():
    """From 32 to 128 classes and when the group maxima are small beside pred_probs; only
    for the pruning methods."""
    n_threads = _kernels.n_threads()
    per_class = engine.SEED_ROWS * n_threads * _kernels.SEED_GROUPS
    assert engine.wants_seeds(per_class * 100, 100, n_threads)
    assert not engine.wants_seeds(per_class * 100 - 1, 100, n_threads)
    assert not engine.wants_seeds(10**9, 10, n_threads)
    assert not engine.wants_seeds(10**9, 1000, n_threads)
    from labelaudit._filter import needs_of

    assert [m for m in METHODS if "prune" in needs_of(m)] == ["prune_by_noise_rate", "both"]
    labels, probs = make_data(0, 300, 40, dtype=np.float32)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(engine, "SEED_ROWS", 0)
        assert engine.prepare(labels, probs, 40, "joint", frozenset({"prune"})).seeds is not None
        assert engine.prepare(labels, probs, 40, "joint", frozenset({"wins"})).seeds is None
        assert engine.prepare(labels, probs, 40, "joint").seeds is None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_seeds_argmax_filter_keeps_numpys_first_maximum_rule(dtype):
    """With seeds, the argmax post-filter compares each flagged row's boosted label with
    its largest other value; where the two are equal, NumPy's first-maximum rule (the
    label loses to an equal value before it, wins against one after it) decides."""
    rng = np.random.default_rng(0)
    n, k = 400, 40
    probs = rng.dirichlet(np.full(k, 0.3), n).astype(dtype)
    labels = rng.integers(0, k, n)
    head = dtype(TOLERANCE)
    for i in range(0, n, 2):  # the boosted label equals another value exactly
        lab = labels[i]
        other = (lab + (1 if i % 4 else -1)) % k  # after or before the label
        probs[i] = dtype(0.5) / (k - 2)
        probs[i, lab] = dtype(0.25)
        probs[i, other] = probs[i, lab] + head
        probs[i] /= probs[i].sum(dtype=np.float64)
        probs[i, other] = probs[i, lab] + head
    assert ((probs[np.arange(n), labels] + head) == probs.max(axis=1)).sum() >= n // 4
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(engine, "SEED_ROWS", 0)
        seeded = engine.prepare(labels, probs, k, "joint", frozenset({"prune"}))
    plain = engine.prepare(labels, probs, k, "joint")
    assert seeded.seeds is not None and plain.seeds is None
    flags = np.ones(n, dtype=bool)
    expected = prune.label_wins(labels, probs)
    assert_array_equal(engine.without_label_wins(seeded, flags), ~expected)
    assert_array_equal(engine.without_label_wins(plain, flags), ~expected)
