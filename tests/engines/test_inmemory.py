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
from labelaudit.core import _kernels

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
def test_streaming_pairwise_sum_equals_numpy(n, dtype):
    rng = np.random.default_rng(n)
    labels = rng.integers(0, 3, n)
    probs = rng.random((n, 3)).astype(dtype)
    probs /= probs.sum(axis=1, keepdims=True)
    counts = np.bincount(labels, minlength=3)
    ops, start = _kernels.pairwise_plan(counts)
    owner = np.array([0, 1, 0])
    sums = _kernels.class_sums(labels, probs, owner, 2, ops, start)
    for c in range(3):
        if counts[c]:
            assert sums[c] == np.add.reduce(probs[labels == c, c])


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
