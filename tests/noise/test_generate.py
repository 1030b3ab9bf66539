"""Noise simulation: valid matrices with the asked trace and sparsity; exact flip counts."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from labelaudit import InvalidInputError
from labelaudit.noise import generate_noise_matrix, make_noisy_labels, simulate_crowd
from labelaudit.noise._generate import is_valid_noise_matrix


@st.composite
def matrix_settings(draw):
    k = draw(st.integers(2, 25))
    trace = draw(st.floats(1.0 + 0.15 * k, float(k)))
    prior = draw(st.none() | st.just("skewed"))
    if prior == "skewed":
        p = np.linspace(1.0, 2.0, k)
        prior = p / p.sum()
    return k, trace, draw(st.floats(0.0, 1.0)), prior, draw(st.integers(0, 2**31))


@settings(max_examples=80, deadline=None)
@given(params=matrix_settings())
def test_generated_matrices_are_valid(params):
    k, trace, frac_zero, prior, seed = params
    m = generate_noise_matrix(
        k, trace=trace, frac_zero_noise_rates=frac_zero, prior=prior, random_state=seed
    )
    assert m.shape == (k, k)
    assert_allclose(m.trace(), trace)
    assert_allclose(m.sum(axis=0), 1.0)
    assert (m >= 0).all() and (m <= 1).all()
    py = np.full(k, 1 / k) if prior is None else prior
    assert is_valid_noise_matrix(m, py)
    joint = m * py
    assert (joint.diagonal() > joint.sum(axis=1) * py).all()


@pytest.mark.parametrize(("k", "frac_zero"), [(5, 0.5), (10, 0.6), (20, 0.3)])
def test_sparsity_is_as_asked(k, frac_zero):
    m = generate_noise_matrix(k, trace=0.7 * k, frac_zero_noise_rates=frac_zero, random_state=1)
    off_diagonal_zeros = int((m == 0).sum())
    assert off_diagonal_zeros == int(k * (k - 1) * frac_zero)
    assert ((m > 0).sum(axis=0) >= 2).all()  # every noisy column keeps a noise rate


def test_same_seed_same_matrix_and_generators_accepted():
    a = generate_noise_matrix(6, trace=4.0, random_state=3)
    b = generate_noise_matrix(6, trace=4.0, random_state=3)
    assert_array_equal(a, b)
    c = generate_noise_matrix(6, trace=4.0, random_state=np.random.default_rng(3))
    assert_array_equal(a, c)


def test_no_global_random_state_is_used():
    np.random.seed(0)  # noqa: NPY002 - checking that the legacy global state is untouched
    before = np.random.get_state()[1].copy()  # noqa: NPY002
    generate_noise_matrix(6, trace=4.0, random_state=3)
    make_noisy_labels(np.arange(60) % 6, np.eye(6), random_state=3)
    assert_array_equal(np.random.get_state()[1], before)  # noqa: NPY002


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_classes": 1, "trace": 1.0}, r"n_classes must be an int >= 2\. Got 1"),
        ({"n_classes": 3, "trace": 1.0}, r"trace must be a number in \(1, n_classes\] = \(1, 3\]"),
        ({"n_classes": 3, "trace": 3.5}, r"trace must be a number in \(1, n_classes\]"),
        ({"n_classes": 3, "trace": 2, "frac_zero_noise_rates": 2}, r"must be a number in \[0, 1\]"),
        ({"n_classes": 3, "trace": 2, "prior": [0.5, 0.5]}, r"prior must hold 3 positive"),
        ({"n_classes": 3, "trace": 2, "random_state": "x"}, r"'random_state' parameter must be"),
        ({"n_classes": 3, "trace": 2, "random_state": -1}, r"'random_state' parameter must be"),
    ],
)
def test_generate_rejects_bad_arguments(kwargs, match):
    with pytest.raises(InvalidInputError, match=match):
        generate_noise_matrix(**kwargs)


@settings(max_examples=50, deadline=None)
@given(k=st.integers(2, 12), n=st.integers(20, 2000), seed=st.integers(0, 2**31))
def test_noisy_labels_flip_exact_counts(k, n, seed):
    rng = np.random.default_rng(seed)
    true = rng.integers(0, k, n)
    m = generate_noise_matrix(k, trace=0.75 * k + 0.25, random_state=rng)
    before = true.copy()
    noisy = make_noisy_labels(true, m, random_state=rng)
    assert_array_equal(true, before)  # input untouched
    counts = np.bincount(true, minlength=k)
    for i in range(k):
        for j in range(k):
            if i != j:
                expected = int(np.floor(m[i, j] * counts[j] + 1e-6))
                assert ((noisy == i) & (true == j)).sum() == expected


def test_noisy_labels_with_an_absent_class():
    """cleanlab's generator sizes its prior by the classes present; ours by the matrix."""
    true = np.repeat([0, 2], 50)  # class 1 absent
    m = np.array([[0.8, 0.0, 0.1], [0.2, 1.0, 0.1], [0.0, 0.0, 0.8]])
    noisy = make_noisy_labels(true, m, random_state=0)
    assert ((noisy == 1) & (true == 0)).sum() == 10
    assert ((noisy == 0) & (true == 2)).sum() == 5
    assert ((noisy == 1) & (true == 2)).sum() == 5


@pytest.mark.parametrize(
    ("true", "matrix", "match"),
    [
        ([0, 1], [[1.0, 0.5], [0.5, 0.5]], r"every column summing to 1"),
        ([0, 1], [[1.0, 0.0]], r"must be square"),
        ([0, 3], np.eye(2), r"\[0, 2\)\. Got 3 at position 1; noise_matrix is K x K"),
        ([0, 1], [[1.2, 0.0], [-0.2, 1.0]], r"non-negative"),
    ],
)
def test_make_noisy_labels_rejects_bad_arguments(true, matrix, match):
    with pytest.raises(InvalidInputError, match=match):
        make_noisy_labels(true, matrix)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"true_labels": ["a", "b"]}, r"encode string labels"),
        ({"true_labels": [0, 0, 0]}, r"at least 2 classes"),
        ({"n_good": -1}, r"'n_good' parameter must be an int >= 0"),
        ({"n_confusers": 1.5}, r"'n_confusers' parameter"),
        ({"labels_per_item": 0}, r"'labels_per_item' parameter must be an int >= 1"),
        ({"n_good": 1, "n_confusers": 0, "n_random": 0, "n_one_class": 0}, r"the crowd has 1"),
        ({"random_state": "seed"}, r"'random_state' parameter"),
    ],
)
def test_simulate_crowd_rejects_bad_arguments(kwargs, match):
    """Negative or fractional crowd sizes, one class, or more labels per item than
    annotators: each said plainly (they raised numpy errors or were silently capped)."""
    args = {"true_labels": np.arange(30) % 3, **kwargs}
    with pytest.raises(InvalidInputError, match=match):
        simulate_crowd(args.pop("true_labels"), **args)
