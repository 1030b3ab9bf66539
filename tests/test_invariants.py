"""Properties that hold for every input, and recovery of known synthetic noise."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

import labelaudit as la
from labelaudit.noise import generate_noise_matrix, make_noisy_labels

from .datasets import make_data


@st.composite
def datasets(draw):
    k = draw(st.integers(2, 30))
    return make_data(
        draw(st.integers(0, 2**31)),
        draw(st.integers(max(10, 2 * k), 300)),
        k,
        dtype=draw(st.sampled_from([np.float16, np.float32, np.float64])),
        noise=draw(st.floats(0.0, 0.7)),
        imbalanced=draw(st.booleans()),
        absent=draw(st.integers(0, 2)) if k > 3 else 0,
        sharpness=draw(st.floats(0.3, 6.0)),
    )


@pytest.fixture(autouse=True)
def _quiet():
    warnings.simplefilter("ignore", la.FewExamplesWarning)


@settings(max_examples=60, deadline=None)
@given(data=datasets())
def test_noise_estimate_is_consistent(data):
    labels, probs = data
    k = probs.shape[1]
    counts = np.bincount(labels, minlength=k)
    est = la.estimate_noise(labels, probs)
    assert_array_equal(est.confident_joint.sum(axis=1), counts)
    assert est.confident_joint.sum() == len(labels)
    assert (est.confident_joint >= 0).all()
    assert_allclose(est.joint.sum(), 1.0)
    assert_allclose(est.noise_matrix.sum(axis=0), 1.0)
    assert_allclose(est.inverse_noise_matrix.sum(axis=0), 1.0)
    assert_allclose(est.prior_true.sum(), 1.0)
    assert_allclose(est.prior_given, counts / len(labels))
    assert ((est.noise_matrix >= 0) & (est.noise_matrix <= 1)).all()
    assert_array_equal(la.confident_joint(labels, probs), est.confident_joint)


@settings(max_examples=60, deadline=None)
@given(data=datasets())
def test_filters_relate_as_documented(data):
    labels, probs = data
    by_class = la.find_label_issues(labels, probs, method="prune_by_class")
    by_rate = la.find_label_issues(labels, probs, method="prune_by_noise_rate")
    assert_array_equal(la.find_label_issues(labels, probs, method="both"), by_class & by_rate)
    n_issues = la.num_label_issues(labels, probs)
    assert la.find_label_issues(labels, probs, method="confident_learning").sum() == n_issues
    for method in ["low_self_confidence", "low_normalized_margin"]:
        assert la.find_label_issues(labels, probs, method=method).sum() == n_issues
    wins = probs.argmax(axis=1) == labels
    for flags in (by_class, by_rate):
        assert not (flags & wins).any()  # an example whose label is the argmax is kept


@settings(max_examples=40, deadline=None)
@given(data=datasets(), rank_by=st.sampled_from(["self_confidence", "normalized_margin"]))
def test_ranking_orders_the_flagged_examples(data, rank_by):
    labels, probs = data
    ranked = la.rank_label_issues(labels, probs, rank_by=rank_by)
    assert_array_equal(np.sort(ranked), np.flatnonzero(la.find_label_issues(labels, probs)))
    scores = la.label_quality_scores(labels, probs, method=rank_by)[ranked]
    assert (np.diff(scores) >= 0).all()


@settings(max_examples=40, deadline=None)
@given(data=datasets())
def test_scores_are_in_unit_interval(data):
    labels, probs = data
    for method in ["self_confidence", "normalized_margin"]:
        scores = la.label_quality_scores(labels, probs, method=method)
        assert scores.dtype == np.float64
        assert ((scores >= -1e-6) & (scores <= 1 + 1e-6)).all()
    cwe = la.label_quality_scores(labels, probs, method="confidence_weighted_entropy")
    assert np.isfinite(cwe).all()


@pytest.mark.parametrize("frac_zero", [0.0, 0.6])
@pytest.mark.parametrize("trace_frac", [0.8, 0.6])
def test_planted_noise_is_recovered(frac_zero, trace_frac):
    """With a model that knows the true class, the estimated noise matrix is close to the
    planted one. Confident learning underestimates rates near 50% (a true class whose
    examples are almost as often labeled as another class), hence the wider tolerance for
    heavy or concentrated noise."""
    atol = 0.03 if (trace_frac, frac_zero) == (0.8, 0.0) else 0.08
    rng = np.random.default_rng(5)
    k, n = 5, 20_000
    true = rng.integers(0, k, n)
    planted = generate_noise_matrix(
        k, trace=trace_frac * k, frac_zero_noise_rates=frac_zero, random_state=rng
    )
    labels = make_noisy_labels(true, planted, random_state=rng)
    logits = rng.normal(size=(n, k))
    logits[np.arange(n), true] += 4.0
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    est = la.estimate_noise(labels, probs)
    assert_allclose(est.noise_matrix, planted, atol=atol)
    actual_errors = int((labels != true).sum())
    assert (
        abs(la.num_label_issues(labels, probs, method="off_diagonal_calibrated") - actual_errors)
        < 0.1 * actual_errors
    )
    flags = la.find_label_issues(labels, probs)
    precision = (labels != true)[flags].mean()
    recall = flags[labels != true].mean()
    assert precision > 0.9 and recall > 0.8
