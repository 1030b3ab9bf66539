"""Bad input gets a clear error; good input of every accepted type works and is not modified."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal

import labelaudit as la
from labelaudit import InvalidInputError

from .datasets import make_data

PUBLIC = [
    lambda y, p, **kw: la.confident_thresholds(y, p, **kw),
    lambda y, p, **kw: la.confident_joint(y, p, **kw),
    lambda y, p, **kw: la.estimate_noise(y, p, **kw),
    lambda y, p, **kw: la.num_label_issues(y, p, **kw),
    lambda y, p, **kw: la.find_label_issues(y, p, **kw),
    lambda y, p, **kw: la.rank_label_issues(y, p, **kw),
    lambda y, p, **kw: la.label_quality_scores(y, p, **kw),
]
IDS = ["thresholds", "joint", "noise", "num", "find", "rank", "scores"]


@pytest.fixture
def data():
    return make_data(0, 200, 4)


@pytest.mark.parametrize("func", PUBLIC, ids=IDS)
@pytest.mark.parametrize(
    ("labels", "probs", "match"),
    [
        ([[0, 1], [1, 0]], [[0.5, 0.5]] * 2, r"labels must be 1-D.*Got shape \(2, 2\)"),
        ([[0], [1]], [[0.5, 0.5]] * 2, r"Flatten it with labels.ravel\(\)"),
        (["a", "b"], [[0.5, 0.5]] * 2, r"Got dtype <U1.*LabelEncoder"),
        ([0.0, 1.5], [[0.5, 0.5]] * 2, r"non-integer value 1.5 at position 1; give class"),
        ([0, np.nan], [[0.5, 0.5]] * 2, r"value nan at position 1; labels with missing"),
        ([0, -1], [[0.5, 0.5]] * 2, r"Got -1 at position 1; class indices start at 0"),
        ([1, 2, 1], [[0.5, 0.5]] * 3, r"Got 2 at position 1; .* numbered 1..2: subtract 1"),
        ([0, 2], [[0.5, 0.5]] * 2, r"\[0, 2\)\. Got 2 at position 1"),
        ([0, 1], [0.5, 0.5], r"must be 2-D.*column_stack"),
        ([0, 1], [[1.0], [1.0]], r"at least 2 columns.*Got 1 column"),
        ([0, 1, 1], [[0.5, 0.5]] * 2, r"same length\. Got 3 labels and 2 rows"),
        ([0, 1], [[0.5, np.nan], [0.5, 0.5]], r"must be finite\. Row 0"),
        ([0, 1], [[0.5, np.inf], [0.5, 0.5]], r"must be finite\. Row 0"),
        ([0, 1], [[1.5, -0.5], [0.5, 0.5]], r"probabilities in \[0, 1\]\. Got -0\.5.*softmax"),
        ([0, 1], [[60, 40], [50, 50]], r"Got 60, and row 0 sums to 100: if these are percent"),
        ([0, 1], [[3, 1], [0.5, 0.5]], r"Got 3; if these are logits or scores, apply a softmax"),
        ([0, 1], [[0.5, 0.4], [0.5, 0.5]], r"Row 0 sums to 0\.9, off by 0\.1; normalize"),
        ([], np.zeros((0, 2)), r"pred_probs is empty"),
        ([0, 1], [["a", "b"], ["c", "d"]], r"must hold floating-point numbers\. Got dtype <U1"),
    ],
)
def test_bad_inputs_raise_clear_errors(func, labels, probs, match):
    with pytest.raises(InvalidInputError, match=match):
        func(labels, probs)


@pytest.mark.parametrize("func", PUBLIC[1:6], ids=IDS[1:6])
@pytest.mark.parametrize(("k", "dtype"), [(400, np.float32), (200, np.float64), (20, np.float32)])
@pytest.mark.parametrize("bad", ["nan", "inf", "negative", "percent", "logit", "sum"])
def test_wide_rows_are_checked_in_the_joints_pass_alike(func, k, dtype, bad):
    """Rows long enough that the joint's pass checks them (the thresholds' pass then reads
    one value per row) give the error the thresholds' own check gives."""
    rng = np.random.default_rng(k)
    n = 3 * k
    probs = rng.dirichlet(np.full(k, 0.5), n)
    labels = np.arange(n) % k
    row = n // 2 + 1
    if bad == "nan":
        probs[row, 3] = np.nan
    elif bad == "inf":
        probs[row, 3] = np.inf
    elif bad == "negative":
        probs[row, :2] = [probs[row, 0] + 0.5, probs[row, 1] - 0.5]
    elif bad == "percent":
        probs = probs * 100
    elif bad == "logit":
        probs[row, 5] = 3.0
    else:
        probs[row] *= 0.9
    probs = probs.astype(dtype)
    with pytest.raises(InvalidInputError) as expected:
        la.confident_thresholds(labels, probs)
    with pytest.raises(InvalidInputError) as got:
        func(labels, probs)
    assert str(got.value) == str(expected.value)


def test_invalid_input_error_is_a_value_error():
    with pytest.raises(ValueError, match="labels must be 1-D"):
        la.find_label_issues([[0, 1]], [[0.5, 0.5]])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (
            {"method": "nope"},
            r"The 'method' parameter must be one of \['both', 'confident_learning', .*\]\. "
            r"Got 'nope' instead\.",
        ),
        ({"frac_noise": 0.0}, r"'frac_noise' parameter must be a number in \(0, 1\]\. Got 0\.0"),
        ({"frac_noise": 1.5}, r"'frac_noise' parameter must be a number in \(0, 1\]"),
        ({"frac_noise": "x"}, r"'frac_noise' parameter must be a number"),
        ({"method": "confident_learning", "frac_noise": 0.5}, r"frac_noise works only with"),
        ({"min_examples_per_class": -1}, r"'min_examples_per_class' parameter must be an int >= 0"),
        ({"min_examples_per_class": 1.5}, r"'min_examples_per_class' parameter must be an int"),
        ({"num_to_remove_per_class": [1, 2]}, r"must hold 4 non-negative integers"),
        ({"num_to_remove_per_class": [1, 2, -1, 0]}, r"must hold 4 non-negative integers"),
        (
            {"method": "predicted_neq_given", "num_to_remove_per_class": [1, 1, 1, 1]},
            r"num_to_remove_per_class works only with method in",
        ),
        ({"n_classes": 5}, r"n_classes=5 but pred_probs has 4 columns"),
        ({"n_classes": "4"}, r"'n_classes' parameter must be an int or None"),
    ],
)
def test_bad_options_of_find_label_issues(data, kwargs, match):
    with pytest.raises(InvalidInputError, match=match):
        la.find_label_issues(*data, **kwargs)


@pytest.mark.parametrize(
    ("func", "kwargs", "match"),
    [
        (la.num_label_issues, {"method": "x"}, r"'method' parameter must be one of \['off_diag"),
        (la.label_quality_scores, {"method": "x"}, r"must be one of \['confidence_weighted_ent"),
        (la.rank_label_issues, {"rank_by": "x"}, r"'rank_by' parameter must be one of"),
        (
            la.label_quality_scores,
            {"method": "confidence_weighted_entropy", "adjust_pred_probs": True},
            r"adjust_pred_probs=True is not available",
        ),
        # a string is truthy: "no" would have meant True
        (la.confident_joint, {"calibrate": "no"}, r"'calibrate' parameter must be True or"),
        (la.label_quality_scores, {"adjust_pred_probs": 0}, r"'adjust_pred_probs' parameter"),
    ],
)
def test_bad_options_elsewhere(data, func, kwargs, match):
    with pytest.raises(InvalidInputError, match=match):
        func(*data, **kwargs)


def test_ensemble_members_must_share_a_shape(data):
    labels, probs = data
    with pytest.raises(InvalidInputError, match="same length"):
        la.label_quality_scores(labels, [probs, probs[:10]])
    with pytest.raises(InvalidInputError, match=r"must be 2-D.*Got shape \(200,\)"):
        la.label_quality_scores(labels, [probs, probs[:, 0]])


def test_ensemble_errors_name_the_model(data):
    """A 3-D array is an ensemble: an (N, K, 1) array by mistake, or a bad member, gets an
    error that says so and which model is at fault."""
    labels, probs = data
    with pytest.raises(InvalidInputError, match=r"ensemble of 200 models.*model 0: .*columns"):
        la.label_quality_scores(labels, probs[:, :, None])
    with pytest.raises(InvalidInputError, match=r"ensemble of 2 models.*model 1: .*sum to 1"):
        la.label_quality_scores(labels, [probs, probs * 0.5])


def test_row_sum_tolerance_suits_float16():
    labels, probs = make_data(1, 2000, 100, dtype=np.float16)
    sums = probs.astype(np.float64).sum(axis=1)
    assert np.abs(sums - 1).max() > 1e-4  # float16 rounding is visible...
    la.find_label_issues(labels, probs)  # ...and accepted


@pytest.mark.parametrize("func", PUBLIC, ids=IDS)
def test_accepts_lists_series_and_all_float_widths(func, data):
    labels, probs = data
    expected = func(labels, probs.astype(np.float64))
    variants = [
        (labels.tolist(), probs.tolist()),
        (pd.Series(labels), pd.DataFrame(probs)),
        (labels.astype(np.int32), probs.astype(np.float64)),
        (labels.astype(np.float64), probs),
    ]
    for y, p in variants:
        result = func(y, p)
        if isinstance(result, la.NoiseEstimate):
            assert_array_equal(result.confident_joint, expected.confident_joint)
        else:
            assert_array_equal(result, expected)
    for dtype in (np.float16, np.float32):
        func(labels, probs.astype(dtype))


@pytest.mark.parametrize("func", PUBLIC, ids=IDS)
def test_pandas_inputs_in_another_row_order_are_refused(func, data):
    """Rows pair by position: a Series sorted or shuffled since pred_probs were made pairs
    other examples, silently. Same index labels in another order are an error; other
    indexes (a RangeIndex beside an id index) stay positional."""
    labels, probs = data
    frame = pd.DataFrame(probs, index=np.arange(len(labels)) * 3)
    series = pd.Series(labels, index=frame.index)
    shuffled = series.sample(frac=1, random_state=0)
    with pytest.raises(InvalidInputError, match="same index labels in another order"):
        func(shuffled, frame)
    aligned = func(shuffled, frame.loc[shuffled.index])
    expected = func(shuffled.to_numpy(), probs[np.argsort(np.argsort(shuffled.index))])
    if isinstance(aligned, la.NoiseEstimate):
        assert_array_equal(aligned.confident_joint, expected.confident_joint)
    else:
        assert_array_equal(aligned, expected)
    func(pd.Series(labels, index=np.arange(len(labels)) + 1000), pd.DataFrame(probs))


@pytest.mark.parametrize("func", PUBLIC, ids=IDS)
def test_inputs_are_never_modified(func):
    labels, probs = make_data(3, 300, 5, dtype=np.float32, noise=0.3)
    labels_before, probs_before = labels.copy(), probs.copy()
    func(labels, probs)
    assert_array_equal(labels, labels_before)
    assert_array_equal(probs, probs_before)
    labels.setflags(write=False)
    probs.setflags(write=False)
    func(labels, probs)  # read-only inputs work too


def test_ensemble_inputs_are_never_modified():
    labels, p1 = make_data(3, 300, 5)
    _, p2 = make_data(4, 300, 5)
    copies = [p1.copy(), p2.copy()]
    la.label_quality_scores(labels, [p1, p2], method="normalized_margin", adjust_pred_probs=True)
    assert_array_equal(p1, copies[0])
    assert_array_equal(p2, copies[1])


def test_noise_estimate_is_frozen(data):
    est = la.estimate_noise(*data)
    with pytest.raises(AttributeError):
        est.joint = None  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        est.noise_matrix[0, 0] = 1.0
