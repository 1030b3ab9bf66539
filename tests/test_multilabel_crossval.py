"""multilabel.cross_val_pred_probs: one-vs-rest, out of sample, either tag form, clear errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn.datasets import make_multilabel_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict
from sklearn.multiclass import OneVsRestClassifier
from sklearn.neighbors import KNeighborsClassifier
from sklearn.svm import SVC

from labelaudit import multilabel
from labelaudit.exceptions import FewExamplesWarning, InvalidInputError


@pytest.fixture(scope="module")
def tagged():
    X, Y = make_multilabel_classification(n_samples=240, n_features=10, n_classes=4, random_state=0)
    return X, Y


def _lists(Y):
    return [np.flatnonzero(row).tolist() for row in Y]


def test_equal_to_scikit_learns_one_vs_rest_in_the_same_folds(tagged):
    X, Y = tagged
    probs = multilabel.cross_val_pred_probs(LogisticRegression(), X, Y)
    expected = cross_val_predict(
        OneVsRestClassifier(LogisticRegression()), X, Y, cv=KFold(5), method="predict_proba"
    )
    assert probs.shape == (240, 4)
    assert probs.dtype == np.float64
    assert_allclose(probs, expected)
    # the model mostly agrees with the tags, and rows need not sum to 1
    assert ((probs > 0.5) == Y.astype(bool)).mean() > 0.7
    assert not np.allclose(probs.sum(axis=1), 1.0)


def test_every_form_of_the_tags_gives_the_same_probabilities(tagged):
    pd = pytest.importorskip("pandas")
    X, Y = tagged
    model = LogisticRegression()
    matrix = multilabel.cross_val_pred_probs(model, X, Y)
    for labels, n_classes in [
        (_lists(Y), 4),
        ((tuple(row) for row in _lists(Y)), 4),  # a generator, read once
        (Y.astype(bool), None),
        (sp.csr_matrix(Y), None),
        (pd.DataFrame(Y, columns=list("abcd")), 4),
    ]:
        probs = multilabel.cross_val_pred_probs(model, X, labels, n_classes=n_classes)
        assert_allclose(probs, matrix)


def test_predictions_are_out_of_sample():
    # a 1-nearest-neighbour model reproduces its training tags; out of sample it cannot
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 2))
    Y = rng.integers(0, 2, (80, 3))
    probs = multilabel.cross_val_pred_probs(KNeighborsClassifier(1), X, Y, random_state=0)
    assert ((probs > 0.5) != Y).any()
    in_sample = OneVsRestClassifier(KNeighborsClassifier(1)).fit(X, Y).predict_proba(X)
    assert ((in_sample > 0.5) == Y).all()


def test_a_one_vs_rest_model_is_used_as_given(tagged):
    X, Y = tagged
    wrapped = multilabel.cross_val_pred_probs(OneVsRestClassifier(LogisticRegression(C=0.05)), X, Y)
    bare = multilabel.cross_val_pred_probs(LogisticRegression(C=0.05), X, Y)
    assert_allclose(wrapped, bare)


def test_parallel_folds_shuffling_and_callback(tagged):
    X, Y = tagged
    calls = []
    serial = multilabel.cross_val_pred_probs(LogisticRegression(), X, Y, random_state=3)
    parallel = multilabel.cross_val_pred_probs(
        LogisticRegression(),
        X,
        Y,
        n_jobs=2,
        random_state=3,
        callback=lambda done, total: calls.append((done, total)),
    )
    assert_allclose(parallel, serial)
    assert calls == [(i, 5) for i in range(1, 6)]
    assert not np.allclose(serial, multilabel.cross_val_pred_probs(LogisticRegression(), X, Y))
    splits = KFold(4, shuffle=True, random_state=1)
    assert_allclose(
        multilabel.cross_val_pred_probs(LogisticRegression(), X, Y, cv=splits),
        cross_val_predict(
            OneVsRestClassifier(LogisticRegression()), X, Y, cv=splits, method="predict_proba"
        ),
    )


def test_classes_one_sided_in_a_training_fold_warn_and_get_a_constant():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    Y = np.column_stack([rng.integers(0, 2, 50), np.zeros(50, int), np.ones(50, int)])
    Y[0, 1] = 1  # class 1 tagged once: the fold holding it trains without the tag
    with (
        pytest.warns(FewExamplesWarning, match=r"Classes \[1, 2\] are tagged on too few"),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("error", UserWarning)  # scikit-learn's own is not repeated
        warnings.simplefilter("always", FewExamplesWarning)
        probs = multilabel.cross_val_pred_probs(LogisticRegression(), X, Y)
    assert probs[0, 1] == 0  # so its one tag looks wrong
    assert_allclose(probs[:, 2], 1.0)


def test_one_class(tagged):
    X, Y = tagged
    probs = multilabel.cross_val_pred_probs(LogisticRegression(), X, Y[:, :1])
    assert probs.shape == (240, 1)
    assert_allclose(probs[:, 0], multilabel.cross_val_pred_probs(LogisticRegression(), X, Y)[:, 0])


def test_the_estimator_and_the_tags_passed_are_not_changed(tagged):
    X, Y = tagged
    model = LogisticRegression()
    lists = _lists(Y)
    before = [list(row) for row in lists]
    multilabel.cross_val_pred_probs(model, X, lists, n_classes=4)
    assert not hasattr(model, "coef_")
    assert lists == before


def test_planted_tag_errors_are_found_with_the_audit():
    from sklearn.datasets import make_blobs

    # six well-separated groups; each class tags some of them, so tags follow X
    X, group = make_blobs(n_samples=600, centers=6, n_features=5, random_state=1)
    true = np.column_stack([np.isin(group, g) for g in ([0, 1, 2], [1, 3], [4, 5])]).astype(int)
    given = true.copy()
    flipped = np.random.default_rng(0).choice(600, 30, replace=False)
    given[flipped, 0] = 1 - given[flipped, 0]
    probs = multilabel.cross_val_pred_probs(KNeighborsClassifier(15), X, given, random_state=0)
    per_class = multilabel.find_label_issues_per_class(given, probs)
    wrong = given != true
    assert (per_class & wrong).sum() >= 0.8 * wrong.sum()
    assert (per_class & wrong).sum() >= 0.8 * per_class.sum()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"labels": "lists"}, r"lists of class indices need n_classes"),
        ({"n_classes": 5}, r"indicator matrix, has 4 columns and n_classes is 5"),
        ({"labels": "lists", "n_classes": 0}, r"n_classes must be an integer >= 1. Got 0"),
        ({"labels": "lists", "n_classes": 2.0}, r"n_classes must be an integer >= 1"),
        ({"labels": "lists", "n_classes": 3}, r"integers in \[0, 3\) \(n_classes is 3\)\. Got 3"),
        ({"X": np.zeros((10, 2))}, "X and labels must have the same number of rows. Got 10"),
        ({"estimator": SVC()}, r"must have predict_proba.*CalibratedClassifierCV\(SVC\(\)\)"),
        ({"cv": 1}, "'cv' parameter must be an int >= 2"),
        ({"cv": 241}, "cv=241 folds need at least 241 examples. Got 240"),
        ({"cv": StratifiedKFold(3)}, "cannot split multi-label tags"),
        ({"labels": np.full((240, 4), 2)}, "must hold only 0 and 1"),
    ],
)
def test_bad_inputs(tagged, kwargs, message):
    X, Y = tagged
    args = {"estimator": LogisticRegression(), "X": X, "labels": Y, **kwargs}
    if isinstance(args["labels"], str):
        args["labels"] = _lists(Y)
    with pytest.raises(InvalidInputError, match=message):
        multilabel.cross_val_pred_probs(
            args.pop("estimator"), args.pop("X"), args.pop("labels"), **args
        )
