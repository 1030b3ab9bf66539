"""cross_val_pred_probs: out-of-sample, any estimator and input kind, clear errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.svm import SVC

import labelaudit as la
from labelaudit.exceptions import FewExamplesWarning, InvalidInputError


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


def test_rows_are_distributions_in_sorted_class_order(iris):
    X, y = iris
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    probs = la.cross_val_pred_probs(LogisticRegression(max_iter=500), X, names)
    assert probs.shape == (150, 3)
    assert_allclose(probs.sum(axis=1), 1.0)
    # column k is np.unique(names)[k]: the model mostly agrees with the labels
    assert (probs.argmax(axis=1) == y).mean() > 0.9


def test_predictions_are_out_of_sample():
    # a 1-nearest-neighbour model predicts its own training label with certainty;
    # out of sample, duplicated points are predicted by their twin in another fold
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    y = rng.integers(0, 2, 60)
    probs = la.cross_val_pred_probs(KNeighborsClassifier(1), X, y, random_state=0)
    assert (probs.argmax(axis=1) != y).any()
    in_sample = KNeighborsClassifier(1).fit(X, y).predict_proba(X)
    assert (in_sample.argmax(axis=1) == y).all()


def test_sparse_and_dataframe_inputs(iris):
    pd = pytest.importorskip("pandas")
    X, y = iris
    dense = la.cross_val_pred_probs(LogisticRegression(max_iter=500), X, y)
    sparse = la.cross_val_pred_probs(LogisticRegression(max_iter=500), sp.csr_matrix(X), y)
    frame = la.cross_val_pred_probs(
        LogisticRegression(max_iter=500), pd.DataFrame(X, columns=list("abcd")), pd.Series(y)
    )
    assert_allclose(sparse, dense, atol=1e-4)
    assert_allclose(frame, dense)


def test_parallel_folds_equal_serial_ones_and_callback_counts(iris):
    X, y = iris
    seen = []
    serial = la.cross_val_pred_probs(LogisticRegression(max_iter=500), X, y, random_state=1)
    parallel = la.cross_val_pred_probs(
        LogisticRegression(max_iter=500),
        X,
        y,
        n_jobs=2,
        random_state=1,
        callback=lambda done, total: seen.append((done, total)),
    )
    assert_allclose(parallel, serial)
    assert seen == [(i, 5) for i in range(1, 6)]


def test_random_state_shuffles_reproducibly(iris):
    X, y = iris
    a = la.cross_val_pred_probs(LogisticRegression(max_iter=500), X, y, random_state=3)
    b = la.cross_val_pred_probs(LogisticRegression(max_iter=500), X, y, random_state=3)
    c = la.cross_val_pred_probs(LogisticRegression(max_iter=500), X, y)
    assert_allclose(a, b)
    assert not np.allclose(a, c)


def test_rare_classes_warn_and_get_zero_where_unseen():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(41, 3))
    y = np.array([0] * 20 + [1] * 20 + [2])
    with (
        pytest.warns(FewExamplesWarning, match=r"Classes \[2\] have fewer examples"),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("error", UserWarning)  # scikit-learn's own is not repeated
        warnings.simplefilter("always", FewExamplesWarning)
        probs = la.cross_val_pred_probs(LogisticRegression(), X, y)
    assert_allclose(probs.sum(axis=1), 1.0)
    # the fold holding the only example of class 2 trained without it
    assert probs[40, 2] == 0
    assert (probs[:40, 2] > 0).sum() >= 30


def test_the_wrapper_the_error_names_gives_probabilities(iris):
    from sklearn.calibration import CalibratedClassifierCV

    X, y = iris
    probs = la.cross_val_pred_probs(CalibratedClassifierCV(SVC()), X, y)
    assert probs.shape == (150, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)


def test_the_estimator_passed_is_not_fitted(iris):
    X, y = iris
    model = LogisticRegression(max_iter=500)
    la.cross_val_pred_probs(model, X, y)
    assert not hasattr(model, "coef_")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"estimator": SVC()}, r"must have predict_proba.*CalibratedClassifierCV\(SVC\(\)\)"),
        ({"y": np.zeros(10)}, "same number of rows"),
        ({"cv": 1}, "'cv' parameter must be an int >= 2"),
        ({"cv": "five"}, "'cv' parameter must be an int >= 2 or a scikit-learn splitter"),
        ({"cv": 151}, "cv=151 folds need at least 151 examples. Got 150"),
        # scikit-learn's splitter error, and a broadcasting error for one class
        ({"cv": 60}, "cv=60 stratified folds need a class with at least 60 examples; the lar"),
        ({"y": np.full(150, 7)}, "y holds a single class"),
        ({"y": np.zeros((150, 2))}, r"y must be 1-D.*labelaudit.multilabel.cross_val_pred_probs"),
        ({"y": np.zeros((150, 1))}, r"y must be 1-D.*\(150, 1\)\.$"),
        ({"y": np.linspace(0, 1, 150)}, "Unknown label type"),
        # a None among string labels raised numpy's TypeError from sorting them
        ({"y": np.array(["a", None, "b"] * 50, dtype=object)}, r"missing label\(s\) .*\[1, 4, 7"),
        ({"y": np.where(np.arange(150) == 9, np.nan, np.arange(150) % 3)}, r"rows \[9\]"),
    ],
)
def test_bad_inputs(iris, kwargs, message):
    X, y = iris
    args = {"estimator": LogisticRegression(), "X": X, "y": y, **kwargs}
    with pytest.raises(InvalidInputError, match=message):
        la.cross_val_pred_probs(args.pop("estimator"), args.pop("X"), args.pop("y"), **args)


def test_folds_run_on_a_dask_cluster(iris):
    distributed = pytest.importorskip("distributed")
    from joblib import parallel_config

    X, y = iris
    serial = la.cross_val_pred_probs(LogisticRegression(max_iter=500), X, y, random_state=0)
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True) as cluster,
        distributed.Client(cluster) as client,
        parallel_config(backend="dask"),
    ):
        on_cluster = la.cross_val_pred_probs(
            LogisticRegression(max_iter=500), X, y, n_jobs=-1, random_state=0
        )
        assert len(client.scheduler_info()["workers"]) == 2
    assert_allclose(on_cluster, serial)
