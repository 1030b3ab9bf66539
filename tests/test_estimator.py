"""CleanClassifier: a well-behaved scikit-learn estimator that cleans before it fits."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import labelaudit as la
from labelaudit import CleanClassifier
from labelaudit.exceptions import LabelauditWarning


@parametrize_with_checks(
    [
        CleanClassifier(),
        CleanClassifier(LogisticRegression(max_iter=200), handling="reweight", cv=3),
    ]
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def noisy_digits():
    X, y = load_digits(return_X_y=True)
    noise = la.noise.generate_noise_matrix(10, trace=8.0, random_state=0)
    noisy = la.noise.make_noisy_labels(y, noise, random_state=0)
    return X / 16.0, y, noisy


def test_finds_the_planted_errors_and_records_them(noisy_digits):
    X, y, noisy = noisy_digits
    clf = CleanClassifier(random_state=0).fit(X, noisy)
    errors = noisy != y
    assert (clf.label_issues_ & errors).sum() > 0.7 * errors.sum()
    assert (clf.label_issues_ & ~errors).sum() < 0.05 * (~errors).sum()
    np.testing.assert_array_equal(clf.label_issues_, clf.p_mislabeled_ >= 0.5)
    assert clf.noise_estimate_.n_classes == 10
    np.testing.assert_array_equal(clf.classes_, np.arange(10))
    assert clf.predict_proba(X[:5]).shape == (5, 10)


def test_cleaning_helps_a_plain_model(noisy_digits):
    X, y, noisy = noisy_digits
    train, test = np.arange(0, 1400), np.arange(1400, len(y))
    plain = LogisticRegression(max_iter=1000).fit(X[train], noisy[train])
    clean = CleanClassifier(random_state=0).fit(X[train], noisy[train])
    assert clean.score(X[test], y[test]) > plain.score(X[test], y[test])


def test_reweight_uses_the_probability_of_a_right_label(noisy_digits):
    X, _, noisy = noisy_digits
    clf = CleanClassifier(handling="reweight", random_state=0).fit(X, noisy)
    assert clf.estimator_.coef_.shape == (10, 64)
    with pytest.raises(ValueError, match="accepts sample_weight"):
        CleanClassifier(KNeighborsClassifier(), handling="reweight").fit(X, noisy)


def test_reweight_routes_weights_into_pipelines_and_searches(noisy_digits):
    X, _, noisy = noisy_digits
    pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    search = GridSearchCV(pipe, {"logisticregression__C": [0.1, 1.0]}, cv=2)
    for final in (pipe, search):
        clf = CleanClassifier(final, handling="reweight", cv=3, random_state=0)
        assert clf.fit(X[:500], noisy[:500]).score(X[:500], noisy[:500]) > 0.5
    knn_pipe = make_pipeline(StandardScaler(), KNeighborsClassifier())
    with pytest.raises(ValueError, match="accepts sample_weight"):
        CleanClassifier(knn_pipe, handling="reweight", cv=3).fit(X[:300], noisy[:300])


def test_string_labels_a_separate_detector_and_a_pipeline(noisy_digits):
    X, _, noisy = noisy_digits
    names = np.array([f"digit {d}" for d in range(10)])[noisy]
    clf = CleanClassifier(
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
        detector=KNeighborsClassifier(10),
        random_state=0,
    ).fit(X, names)
    assert clf.classes_[0] == "digit 0"
    assert set(clf.predict(X[:20])) <= set(clf.classes_)


def test_works_inside_pipeline_and_grid_search(noisy_digits):
    X, _, noisy = noisy_digits
    pipe = make_pipeline(StandardScaler(), CleanClassifier(cv=3, random_state=0))
    search = GridSearchCV(pipe, {"cleanclassifier__threshold": [0.5, 0.9]}, cv=2)
    search.fit(X[:600], noisy[:600])
    assert search.best_params_["cleanclassifier__threshold"] in (0.5, 0.9)


def test_a_class_is_never_dropped_entirely():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    y = np.array([0] * 29 + [1] * 29 + [2, 2])  # class 2: two random points
    clf = CleanClassifier(cv=2).fit(X, y)
    assert list(clf.estimator_.classes_) == [0, 1, 2]


def test_too_little_data_to_cross_validate_fits_everything():
    X = np.arange(8.0).reshape(-1, 1)
    y = np.array([0, 0, 0, 0, 0, 0, 0, 1])
    with pytest.warns(LabelauditWarning, match="Too few examples per class"):
        clf = CleanClassifier().fit(X, y)
    assert not clf.label_issues_.any()


def test_every_class_smaller_than_the_folds_fits_everything():
    """Six examples of three classes, five stratified folds: scikit-learn's splitter
    refuses (no class has five members), so nothing is searched, as for a tiny class."""
    X = np.arange(6.0).reshape(-1, 1)
    y = np.array([0, 0, 1, 1, 2, 2])
    with pytest.warns(LabelauditWarning, match="Too few examples per class"):
        clf = CleanClassifier().fit(X, y)
    assert not clf.label_issues_.any()
    assert clf.predict(X).shape == (6,)


def test_missing_labels_are_an_error_naming_the_rows(noisy_digits):
    X, _, noisy = noisy_digits
    names = np.array([f"digit {v}" for v in noisy], dtype=object)
    names[[3, 8]] = None
    with pytest.raises(ValueError, match=r"2 missing label\(s\) \(None or NaN\), at rows \[3, 8\]"):
        CleanClassifier().fit(X, names)


@pytest.mark.parametrize(
    ("params", "message"),
    [({"handling": "delete"}, "'handling' parameter"), ({"threshold": 0}, "'threshold'")],
)
def test_bad_parameters(noisy_digits, params, message):
    X, _, noisy = noisy_digits
    with pytest.raises(ValueError, match=message):
        CleanClassifier(**params).fit(X, noisy)
