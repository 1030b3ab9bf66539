"""Parity with cleanlab 2.9.0: equal results, except for the two documented differences.

cleanlab's collision rule (issue 1248) is the only place where the math differs; the
``cleanlab_rule`` fixture swaps it in, and then every result must be *equal* (scores:
allclose) on random inputs. Separate tests pin down each documented difference.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

import labelaudit as la
import labelaudit.engines._inmemory
from labelaudit._filter import CLEANLAB_METHODS as FILTERS
from labelaudit.core.joint import confident_counts
from labelaudit.core.scores import SCORERS
from labelaudit.core.thresholds import class_thresholds

from .datasets import make_data

cl_count = pytest.importorskip("cleanlab.count")
cl_filter = pytest.importorskip("cleanlab.filter")
cl_rank = pytest.importorskip("cleanlab.rank")

FILTER_METHODS = list(FILTERS)
SCORE_METHODS = list(SCORERS)
DTYPES = [np.float16, np.float32, np.float64]


@pytest.fixture(autouse=True)
def _quiet() -> None:
    warnings.simplefilter("ignore")


def cl_issues(labels, probs, method, **kwargs):
    return cl_filter.find_label_issues(labels, probs, filter_by=method, n_jobs=1, **kwargs)


def has_collision_difference(labels, probs) -> bool:
    thresholds = class_thresholds(labels, probs, probs.shape[1])
    ours = confident_counts(labels, probs, thresholds).joint
    theirs = confident_counts(labels, probs, thresholds, collision="argmax").joint
    return not np.array_equal(ours, theirs)


def assert_noise_parity(labels, probs) -> None:
    est = la.estimate_noise(labels, probs)
    py, nm, inv, cj = cl_count.estimate_py_and_noise_matrices_from_probabilities(labels, probs)
    assert_array_equal(est.confident_joint, cj)
    assert_array_equal(est.joint, cl_count.estimate_joint(labels, probs))
    assert_array_equal(est.prior_true, py)
    assert_array_equal(est.prior_given, np.bincount(labels, minlength=probs.shape[1]) / len(labels))
    for ours, theirs in [(est.noise_matrix, nm), (est.inverse_noise_matrix, inv)]:
        empty = ~(theirs.sum(axis=0) > 0)  # documented difference (b): identity columns
        assert_array_equal(ours[:, ~empty], theirs[:, ~empty])
        assert_array_equal(ours[:, empty], np.eye(len(ours))[:, empty])


def assert_full_parity(labels, probs) -> None:
    """Every public function equals cleanlab's equivalent on these inputs."""
    assert_array_equal(
        la.confident_thresholds(labels, probs),
        cl_count.get_confident_thresholds(labels, probs).astype(np.float64),
    )
    for calibrate in (False, True):
        assert_array_equal(
            la.confident_joint(labels, probs, calibrate=calibrate),
            cl_count.compute_confident_joint(labels, probs, calibrate=calibrate),
        )
    assert_noise_parity(labels, probs)
    for method in ["off_diagonal", "off_diagonal_calibrated"]:
        assert la.num_label_issues(labels, probs, method=method) == cl_count.num_label_issues(
            labels, probs, estimation_method=method
        )
    for method in FILTER_METHODS:
        assert_array_equal(
            la.find_label_issues(labels, probs, method=method),
            cl_issues(labels, probs, method),
            err_msg=method,
        )
    for method in SCORE_METHODS:
        assert_allclose(
            la.label_quality_scores(labels, probs, method=method),
            cl_rank.get_label_quality_scores(labels, probs, method=method),
            rtol=1e-5,
            atol=1e-6,
            err_msg=method,
        )
    for rank_by in ["self_confidence", "normalized_margin"]:
        assert_array_equal(
            la.rank_label_issues(labels, probs, rank_by=rank_by),
            cl_issues(labels, probs, "prune_by_noise_rate", return_indices_ranked_by=rank_by),
        )


CASES = [
    pytest.param(
        k, dtype, imbalanced, absent, id=f"K{k}-{dtype.__name__}-imb{imbalanced}-abs{absent}"
    )
    for k, imbalanced, absent in [
        (2, False, 0),
        (3, True, 0),
        (10, False, 2),
        (10, True, 0),
        (37, True, 3),
        (100, False, 0),
        (200, True, 5),
    ]
    for dtype in DTYPES
]


@pytest.mark.usefixtures("cleanlab_rule")
@pytest.mark.parametrize(("k", "dtype", "imbalanced", "absent"), CASES)
def test_parity_seeded(k, dtype, imbalanced, absent):
    n = max(600, 12 * k)
    labels, probs = make_data(k + absent, n, k, dtype=dtype, imbalanced=imbalanced, absent=absent)
    assert_full_parity(labels, probs)


@st.composite
def datasets(draw, max_k=40):
    k = draw(st.integers(2, max_k))
    n = draw(st.integers(max(10, 2 * k), 400))
    return make_data(
        draw(st.integers(0, 2**31)),
        n,
        k,
        dtype=draw(st.sampled_from(DTYPES)),
        noise=draw(st.floats(0.0, 0.6)),
        imbalanced=draw(st.booleans()),
        absent=draw(st.integers(0, 3)) if k > 4 else 0,
        sharpness=draw(st.floats(0.5, 6.0)),
    )


@pytest.mark.usefixtures("cleanlab_rule")
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=datasets())
def test_parity_random(data):
    assert_full_parity(*data)


@settings(max_examples=30, deadline=None)
@given(data=datasets(max_k=8))
def test_parity_without_collisions_needs_no_patch(data):
    """With the paper's rule, results equal cleanlab's wherever no collision differs."""
    labels, probs = data
    assume(not has_collision_difference(labels, probs))
    assert_full_parity(labels, probs)


@pytest.mark.parametrize("method", ["prune_by_noise_rate", "prune_by_class", "both"])
@pytest.mark.parametrize(
    "options",
    [
        {"frac_noise": 0.5},
        {"frac_noise": 0.83},
        {"min_examples_per_class": 0},
        {"min_examples_per_class": 40},
        {"num_to_remove_per_class": "half"},
    ],
    ids=["frac0.5", "frac0.83", "min0", "min40", "remove"],
)
@pytest.mark.parametrize("dtype", DTYPES)
def test_prune_options_match_cleanlab_given_our_joint(method, options, dtype):
    """Options are applied exactly as cleanlab applies them, on our confident joint."""
    labels, probs = make_data(7, 1500, 12, dtype=dtype, noise=0.3, imbalanced=True)
    if options.get("num_to_remove_per_class") == "half":
        options = {"num_to_remove_per_class": np.bincount(labels, minlength=12) // 4}
    ours = la.find_label_issues(labels, probs, method=method, **options)
    joint = la.confident_joint(labels, probs)
    assert_array_equal(ours, cl_issues(labels, probs, method, confident_joint=joint, **options))


@pytest.mark.parametrize("k", [50, 60])
def test_collisions_match_cleanlab_given_our_joint(k):
    """Where collisions differ, our pruning equals cleanlab's run on our confident joint."""
    labels, probs = make_data(3, 3000, k, dtype=np.float32, noise=0.4, sharpness=2.0)
    assert has_collision_difference(labels, probs)
    joint = la.confident_joint(labels, probs)
    for method in ["prune_by_noise_rate", "prune_by_class", "both"]:
        assert_array_equal(
            la.find_label_issues(labels, probs, method=method),
            cl_issues(labels, probs, method, confident_joint=joint),
        )
    raw = la.confident_joint(labels, probs, calibrate=False)
    assert la.num_label_issues(
        labels, probs, method="off_diagonal_calibrated"
    ) == cl_count.num_label_issues(
        labels, probs, confident_joint=raw, estimation_method="off_diagonal_custom"
    )


def collision_example():
    """Issue 1248's situation: the last example passes the thresholds of classes 1 and 2
    but not of class 0, which is nonetheless its most probable class."""
    labels = np.array([0, 0, 1, 1, 2, 2, 1])
    probs = np.array(
        [
            [0.9, 0.05, 0.05],
            [0.9, 0.05, 0.05],
            [0.5, 0.3, 0.2],
            [0.5, 0.3, 0.2],
            [0.6, 0.2, 0.2],
            [0.6, 0.2, 0.2],
            [0.4, 0.35, 0.25],
        ]
    )
    return labels, probs


def test_collision_takes_argmax_among_confident_classes():
    labels, probs = collision_example()
    ours = la.confident_joint(labels, probs, calibrate=False)
    theirs = cl_count.compute_confident_joint(labels, probs, calibrate=False)
    # cleanlab counts the last example at (given 1, true 0); we count it as correctly labeled.
    assert theirs[1, 0] == ours[1, 0] + 1
    assert not la.find_label_issues(labels, probs, method="confident_learning")[6]
    assert cl_issues(labels, probs, "confident_learning")[6]


def test_collision_rule_with_explicit_thresholds():
    """The example of cleanlab issue 1248, counted with the thresholds it gives."""
    probs = np.array([[0.1, 0.2, 0.3, 0.4]])
    thresholds = np.array([0.01, 0.5, 0.01, 0.5])
    labels = np.array([2])
    ours = confident_counts(labels, probs, thresholds)
    assert ours.joint[2, 2] == 1 and not ours.off_diagonal[0]
    argmax = confident_counts(labels, probs, thresholds, collision="argmax")
    assert argmax.joint[2, 3] == 1 and argmax.off_diagonal[0]
    theirs = cl_count.compute_confident_joint(labels, probs, thresholds=thresholds, calibrate=False)
    assert_array_equal(argmax.joint, theirs)


@pytest.mark.parametrize("dtype", DTYPES)
def test_absent_class_noise_matrix_has_identity_column(dtype):
    """Documented difference (b): an empty class keeps a valid noise-matrix column."""
    labels, probs = make_data(11, 800, 6, dtype=dtype, absent=2)
    est = la.estimate_noise(labels, probs, n_classes=6)
    assert est.noise_matrix.shape == (6, 6)
    assert_allclose(est.noise_matrix.sum(axis=0), 1.0)
    assert_allclose(est.inverse_noise_matrix.sum(axis=0), 1.0)
    _, nm, _, _ = cl_count.estimate_py_and_noise_matrices_from_probabilities(labels, probs)
    assert (nm.sum(axis=0) == 0).any()  # cleanlab: a zero column
    assert_noise_parity(labels, probs)


@pytest.mark.parametrize("method", ["self_confidence", "normalized_margin"])
@pytest.mark.parametrize("adjust", [False, True])
def test_ensemble_scores_match_cleanlab(method, adjust):
    labels, p1 = make_data(5, 500, 4, sharpness=2.0)
    _, p2 = make_data(6, 500, 4, sharpness=4.0)
    ours = la.label_quality_scores(labels, [p1, p2], method=method, adjust_pred_probs=adjust)
    theirs = cl_rank.get_label_quality_ensemble_scores(
        labels, [p1, p2], method=method, adjust_pred_probs=adjust, verbose=False
    )
    assert_allclose(ours, theirs, rtol=1e-10)
    assert_allclose(
        la.label_quality_scores(
            labels, np.stack([p1, p2]), method=method, adjust_pred_probs=adjust
        ),
        theirs,
        rtol=1e-10,
    )


@pytest.mark.parametrize("method", ["self_confidence", "normalized_margin"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_adjusted_scores_match_cleanlab(method, dtype):
    labels, probs = make_data(9, 700, 8, dtype=dtype, imbalanced=True)
    assert_allclose(
        la.label_quality_scores(labels, probs, method=method, adjust_pred_probs=True),
        cl_rank.get_label_quality_scores(labels, probs, method=method, adjust_pred_probs=True),
        rtol=1e-5,
        atol=1e-6,
    )


def test_rank_by_entropy_matches_cleanlab_order():
    labels, probs = make_data(12, 900, 7)
    assert_array_equal(
        la.rank_label_issues(labels, probs, rank_by="confidence_weighted_entropy"),
        cl_issues(
            labels,
            probs,
            "prune_by_noise_rate",
            return_indices_ranked_by="confidence_weighted_entropy",
        ),
    )


@pytest.mark.usefixtures("cleanlab_rule")
@pytest.mark.parametrize("frac_noise", [1.0, 0.7, 0.3])
@pytest.mark.parametrize("n_keep", [1, 5])
@pytest.mark.parametrize(("k", "dtype"), [(4, np.float64), (30, np.float32), (120, np.float32)])
def test_parity_of_pruning_options(frac_noise, n_keep, k, dtype):
    """frac_noise and min_examples_per_class give cleanlab's flags for every pruning method
    (frac_noise = 1 takes a shortcut in keep_at_least)."""
    labels, probs = make_data(k, max(400, 15 * k), k, dtype=dtype, noise=0.3)
    for method in ("prune_by_noise_rate", "prune_by_class", "both"):
        options = {"frac_noise": frac_noise, "min_examples_per_class": n_keep}
        assert_array_equal(
            la.find_label_issues(labels, probs, method=method, **options),
            cl_issues(labels, probs, method, **options),
            err_msg=f"{method} {options}",
        )
