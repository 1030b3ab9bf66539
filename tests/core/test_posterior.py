"""The posterior model behind p_mislabeled: its pieces and its basic properties."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

import labelaudit as la
from labelaudit.core import posterior as cp


def noisy_model_data(seed: int, n: int, k: int, noise: float, boost: float = 4.0):
    """A model that prefers the true class (no knowledge of the labels) and labels with
    ``noise`` of them moved to another class at random."""
    rng = np.random.default_rng(seed)
    true = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k))
    logits[np.arange(n), true] += boost
    probs = np.exp(logits)
    probs /= probs.sum(axis=1, keepdims=True)
    labels = true.copy()
    flip = rng.random(n) < noise
    labels[flip] = (true[flip] + rng.integers(1, k, int(flip.sum()))) % k
    return labels, probs, true


def fitted(labels, probs):
    k = probs.shape[1]
    power = cp.fit_power(labels, probs, k)
    return power, cp.sharpened_channel(labels, probs, k, power)


def test_sharpen_is_a_renormalized_power():
    probs = np.array([[0.5, 0.3, 0.2], [0.1, 0.1, 0.8]])
    expected = probs**2 / (probs**2).sum(axis=1, keepdims=True)
    assert_allclose(cp.sharpen(probs, 2.0), expected)
    assert_allclose(cp.sharpen(probs, 1.0), probs)


def test_sharpen_handles_zero_probabilities():
    q = cp.sharpen(np.array([[0.0, 1.0], [0.0, 0.0 + 1e-300]]), 3.0)
    assert np.isfinite(q).all()
    assert_allclose(q.sum(axis=1), 1.0)


def test_channel_counts_and_channel():
    labels = np.array([0, 0, 1, 2])
    probs = np.array([[0.7, 0.2, 0.1], [0.5, 0.3, 0.2], [0.1, 0.8, 0.1], [0.2, 0.1, 0.7]])
    counts = cp.channel_counts(labels, probs, 3, 2.0) / cp.COUNT_UNIT
    q = cp.sharpen(probs, 2.0)
    expected = np.zeros((3, 3))
    for row, label in zip(q, labels, strict=True):
        expected[:, label] += row
    assert_allclose(counts, expected, atol=1e-9)
    noise = cp.channel(counts)
    assert_allclose(noise.sum(axis=1), 1.0)
    # a class nobody is estimated to belong to keeps its own label
    assert_allclose(cp.channel(np.zeros((2, 2))), np.eye(2))


def test_posterior_rows_are_distributions():
    labels, probs, _ = noisy_model_data(0, 500, 4, 0.2)
    power, noise = fitted(labels, probs)
    post = cp.posterior(labels, probs, power, noise)
    assert_allclose(post.sum(axis=1), 1.0)
    assert (post >= 0).all()
    assert cp.POWER_RANGE[0] <= power <= cp.POWER_RANGE[1]


@pytest.mark.parametrize(("k", "noise"), [(3, 0.1), (3, 0.3), (10, 0.1), (10, 0.3)])
def test_sum_estimates_the_number_of_errors(k, noise):
    labels, probs, true = noisy_model_data(1, 4000, k, noise, boost=5.0)
    power, noise_channel = fitted(labels, probs)
    p = cp.mislabeled_probability(labels, probs, power, noise_channel)
    n_errors = int((labels != true).sum())
    assert abs(p.sum() - n_errors) <= 0.1 * n_errors
    # and it separates the errors: they get more than 0.5, the others less
    assert ((p >= 0.5) == (labels != true)).mean() > 0.97


def test_relabeling_the_classes_permutes_nothing_else():
    labels, probs, _ = noisy_model_data(2, 600, 5, 0.2)
    perm = np.array([3, 0, 4, 1, 2])  # class c becomes perm[c]
    probs2 = np.empty_like(probs)
    probs2[:, perm] = probs
    p1 = cp.mislabeled_probability(labels, probs, *fitted(labels, probs))
    p2 = cp.mislabeled_probability(perm[labels], probs2, *fitted(perm[labels], probs2))
    assert_allclose(p1, p2, atol=1e-6)


def test_summary_agrees_with_the_posterior():
    labels, probs, _ = noisy_model_data(3, 800, 4, 0.25)
    power, noise = fitted(labels, probs)
    post = cp.posterior(labels, probs, power, noise)
    summary = cp.summarize(labels, probs, power, noise)
    rows = np.arange(labels.size)
    assert_allclose(summary.p_mislabeled, 1 - post[rows, labels], atol=1e-12)
    others = post.copy()
    others[rows, labels] = -1
    assert_array_equal_ints(summary.alternative, others.argmax(axis=1))
    assert (summary.alternative != labels).all()
    expected = np.zeros((4, 4))
    np.add.at(expected.T, labels, post)
    assert_allclose(summary.expected_joint, expected)
    # the off-diagonal mass of the expected joint is the expected number of errors
    assert_allclose(
        summary.expected_joint.sum() - np.trace(summary.expected_joint), summary.p_mislabeled.sum()
    )


def assert_array_equal_ints(a, b):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_fit_uses_a_fixed_sample_of_large_inputs(monkeypatch):
    monkeypatch.setattr(cp, "FIT_ROWS", 300)
    monkeypatch.setattr(cp, "MIN_FIT_ROWS", 300)
    labels, probs, _ = noisy_model_data(4, 1000, 3, 0.2)
    rows = cp.fit_rows(1000, 3)
    assert rows is not None and rows.size == 300 and (np.diff(rows) > 0).all()
    assert cp.fit_power(labels, probs, 3) == cp.fit_power(labels, probs, 3)
    assert cp.fit_rows(200, 3) is None
    # Selected block by block: the same rows as the 300 smallest keys of all rows.
    for n in (301, 1000, 1234):
        keys = cp.sample_keys(np.arange(n, dtype=np.int64))
        np.testing.assert_array_equal(cp.fit_rows(n, 3), np.sort(np.argsort(keys)[:300]))
    # And the fit reads only those rows (and their labels).
    picked = cp.fit_rows(1000, 3)
    assert cp.fit_power(labels, probs, 3) == cp.fit_power_on(labels[picked], probs[picked], 3)


def test_float32_and_float64_agree():
    labels, probs, _ = noisy_model_data(5, 1000, 6, 0.2)
    p64 = cp.mislabeled_probability(labels, probs, *fitted(labels, probs))
    p32 = probs.astype(np.float32)
    assert_allclose(cp.mislabeled_probability(labels, p32, *fitted(labels, p32)), p64, atol=2e-3)


def expected_f1(p, flags):
    return 2 * p[flags].sum() / (flags.sum() + p.sum())


@pytest.mark.parametrize("seed", range(5))
def test_expected_f1_flags_are_the_best_top_set(seed):
    rng = np.random.default_rng(seed)
    p = rng.beta(0.3, 1.5, size=300)
    p[:20] = np.round(p[:20], 1)  # ties
    flags = cp.expected_f1_flags(p)
    # An upper set of p, holding every example above 0.5 (F1 <= 1 puts the cut at most 0.5).
    assert p[flags].min() > p[~flags].max()
    assert flags[p > 0.5].all()
    # No top-k set (cut anywhere, ties kept together) expects a higher F1.
    best = max(expected_f1(p, p >= t) for t in np.unique(p))
    assert expected_f1(p, flags) == pytest.approx(best, rel=1e-12)
    # The cut is where p falls to half the F1 reached.
    assert p[flags].min() >= expected_f1(p, flags) / 2 - 1e-12


def test_expected_f1_flags_edge_cases():
    assert cp.expected_f1_flags(np.zeros(0)).shape == (0,)
    assert not cp.expected_f1_flags(np.zeros(4)).any()
    assert cp.expected_f1_flags(np.array([0.0, 1.0, 0.0])).tolist() == [False, True, False]
    # A 0.4 beside three 0.6s raises the expected F1 (2 * 2.2 / 6.2 > 2 * 1.8 / 5.2) ...
    flags = cp.expected_f1_flags(np.array([0.6, 0.6, 0.6, 0.4, 0.0]))
    assert flags.tolist() == [True, True, True, True, False]
    # ... a 0.3 beside one certain error does not (2 * 1.3 / 3.3 < 2 * 1 / 2.3).
    assert cp.expected_f1_flags(np.array([1.0, 0.3, 0.0])).tolist() == [True, False, False]


def test_expected_f1_flags_nothing_when_errors_are_improbable():
    """Flagging nothing expects F1 = P(no error) ~ exp(-sum p): on data with about one
    expected error spread thinly, no example is flagged (the threshold rule alone flagged
    the top of them, F1 / 2 being tiny too), while a likely error still is."""
    thin = np.full(1000, 1e-3)
    assert not cp.expected_f1_flags(thin).any()
    assert not cp.expected_f1_flags(np.array([0.3])).any()  # 2 * 0.3 / 1.3 < exp(-0.3)
    with_error = np.concatenate([thin, [0.9]])
    assert cp.expected_f1_flags(with_error).tolist() == [False] * 1000 + [True]
    # With many expected errors exp(-sum p) is negligible: the threshold rule's cut.
    many = np.concatenate([np.full(50, 0.8), np.full(950, 0.01)])
    assert cp.expected_f1_flags(many).sum() == 50


@pytest.mark.parametrize("engine", ["numpy", "streaming"])
def test_posterior_flags_nothing_on_clean_labels(engine):
    """Labels equal to a confident model's argmax: every p_mislabeled is below 1%, their
    sum about 1.6; the posterior method flagged the 19 largest before the no-flag option."""
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.full(3, 0.2), 20_000)
    labels = probs.argmax(axis=1)
    assert la.mislabeled_probability(labels, probs).max() < 0.01
    assert not la.find_label_issues(labels, probs, method="posterior", engine=engine).any()


def numpy_log_likelihood(labels, probs, power):
    """The model's mean log-likelihood, stated in NumPy (N x K temporaries)."""
    q = cp.sharpen(probs.astype(np.float64), power)
    counts = np.zeros((probs.shape[1],) * 2)
    np.add.at(counts.T, labels, q)
    noise = cp.channel(counts)
    return np.log((q * noise[:, labels].T).sum(axis=1)).mean()


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("power", [0.2, 1.0, 3.7, 20.0])
def test_compiled_passes_equal_the_numpy_model(dtype, order, power):
    labels, probs, _ = noisy_model_data(6, 700, 7, 0.25, boost=6.0)
    probs[:40, 3] = 0.0  # zeros are floored before the logs
    probs /= probs.sum(axis=1, keepdims=True)
    probs = np.asarray(probs.astype(dtype), order=order)
    ref = probs.astype(np.float64)
    # float64 rows are computed in float64, the others in float32
    tol = 1e-12 if dtype == np.float64 else 2e-6
    counts = cp.channel_counts(labels, probs, 7, power) / cp.COUNT_UNIT
    expected = np.zeros((7, 7))
    np.add.at(expected.T, labels, cp.sharpen(ref, power))
    assert_allclose(counts, expected, atol=tol * labels.size)
    noise = cp.channel(counts)
    post = cp.posterior(labels, ref, power, noise)
    rows = np.arange(labels.size)
    p = cp.mislabeled_probability(labels, probs, power, noise)
    assert_allclose(p, 1 - post[rows, labels], atol=tol)
    summary = cp.summarize(labels, probs, power, noise)
    assert_allclose(summary.p_mislabeled, p, atol=1e-15)
    others = post.copy()
    others[rows, labels] = -1
    assert_allclose(summary.p_alternative, others.max(axis=1), atol=tol)
    best = others.argmax(axis=1)
    top2 = np.sort(others, axis=1)[:, -2:]
    # no near tie, and a posterior above the terms the passes skip (and float32's range)
    clear = (top2[:, 0] < top2[:, 1] * (1 - 1e3 * tol)) & (top2[:, 1] > 1e-9)
    np.testing.assert_array_equal(summary.alternative[clear], best[clear])
    np.testing.assert_array_equal(summary.model_alternative, probs[rows, summary.alternative])
    ll = cp.mean_log_likelihood(labels, ref, 7, power)
    assert_allclose(ll, numpy_log_likelihood(labels, ref, power), rtol=1e3 * tol)


def test_skipped_terms_are_recomputed_where_they_matter():
    # Class 2 never gives label 0 and class 1 gives it only rarely; a row labeled 0 whose
    # model puts almost everything on class 2 is explained by the tiny terms alone.
    noise = np.array([[1.0, 0.0, 0.0], [1e-30, 1.0 - 1e-30, 0.0], [0.0, 0.5, 0.5]])
    probs = np.array([[1e-25, 1e-12, 1.0 - 1e-12], [0.2, 0.3, 0.5]])
    labels = np.array([0, 0])
    for power in (1.0, 3.0):
        post = cp.posterior(labels, probs, power, noise)
        p = cp.mislabeled_probability(labels, probs, power, noise)
        assert_allclose(p, 1 - post[:, 0], atol=1e-12)
        summary = cp.summarize(labels, probs, power, noise)
        assert_allclose(summary.p_mislabeled, p, atol=1e-15)
        np.testing.assert_array_equal(summary.alternative, [1, 1])


def test_compiled_passes_do_not_depend_on_the_threads():
    numba = pytest.importorskip("numba")
    labels, probs, _ = noisy_model_data(7, 5000, 5, 0.2)
    before = numba.get_num_threads()
    results = []
    try:
        for threads in (1, before):
            numba.set_num_threads(threads)
            power = cp.fit_power(labels, probs, 5)
            counts = cp.channel_counts(labels, probs, 5, power)
            summary = cp.summarize(labels, probs, power, cp.channel(counts / cp.COUNT_UNIT))
            results.append((power, counts, summary.expected_counts))
    finally:
        numba.set_num_threads(before)
    assert results[0][0] == results[1][0]
    np.testing.assert_array_equal(results[0][1], results[1][1])
    np.testing.assert_array_equal(results[0][2], results[1][2])


@pytest.mark.parametrize("keep", [0.0, 1.0])  # two passes, or p kept (one pass)
@pytest.mark.parametrize("chunk", [7, 64, 1 << 16])
def test_flags_without_keeping_p_equal_the_flags_of_p(monkeypatch, chunk, keep):
    monkeypatch.setattr(cp, "CUT_CHUNK", chunk)
    monkeypatch.setattr(cp, "KEEP_P_SHARE", keep)
    labels, probs, _ = noisy_model_data(8, 3000, 5, 0.15, boost=3.0)
    power, noise = fitted(labels, probs)
    p = cp.mislabeled_probability(labels, probs, power, noise)
    expected = cp.expected_f1_flags(p)
    assert 0 < expected.sum() < labels.size
    np.testing.assert_array_equal(cp.mislabeled_flags(labels, probs, power, noise), expected)
    stats = cp.mislabeled_stats(labels, probs, power, noise)
    assert stats == cp.cut_stats(p) == cp.CutStats().add(p)
    assert abs(stats.total - p.sum()) < 1e-9 * labels.size
