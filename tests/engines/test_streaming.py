"""The streaming engine gives the in-memory engine's results exactly, in at most 3 passes."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_array_equal

import labelaudit as la
from labelaudit._filter import FILTER_METHODS
from labelaudit.io import iter_chunks, npy_chunks, parquet_chunks

from ..datasets import make_data

SCORES = ["self_confidence", "normalized_margin", "confidence_weighted_entropy"]


def results(labels, probs, engine):
    """Every public function's output, keyed by what was asked."""
    warnings.simplefilter("ignore", la.FewExamplesWarning)
    out = {
        f"find_{m}": la.find_label_issues(labels, probs, method=m, engine=engine)
        for m in FILTER_METHODS
    }
    out["rank"] = la.rank_label_issues(labels, probs, engine=engine)
    out["rank_cwe"] = la.rank_label_issues(
        labels, probs, method="both", rank_by="confidence_weighted_entropy", engine=engine
    )
    for m in SCORES:
        out[f"score_{m}"] = la.label_quality_scores(labels, probs, method=m, engine=engine)
    out["adjusted"] = la.label_quality_scores(
        labels, probs, method="normalized_margin", adjust_pred_probs=True, engine=engine
    )
    out["thresholds"] = la.confident_thresholds(labels, probs, engine=engine)
    out["raw_joint"] = la.confident_joint(labels, probs, calibrate=False, engine=engine)
    est = la.estimate_noise(labels, probs, engine=engine)
    out["noise"], out["inverse"] = est.noise_matrix, est.inverse_noise_matrix
    for m in ["off_diagonal", "off_diagonal_calibrated", "posterior"]:
        out[f"num_{m}"] = la.num_label_issues(labels, probs, method=m, engine=engine)
    out["p_mislabeled"] = la.mislabeled_probability(labels, probs, engine=engine)
    out["pruned"] = la.find_label_issues(
        labels, probs, frac_noise=0.5, min_examples_per_class=3, engine=engine
    )
    k = out["thresholds"].shape[0]
    out["removed"] = la.find_label_issues(
        labels, probs, method="both", num_to_remove_per_class=np.arange(k) % 3, engine=engine
    )
    out["n_classes"] = la.find_label_issues(labels, probs, n_classes=k, engine=engine)
    return out


def chunked(labels, probs, sizes):
    """A chunk factory cutting the data at the given sizes (0 = an empty chunk), then in
    blocks of the last size."""

    def factory():
        start = 0
        for size in sizes:
            yield labels[start : start + size], probs[start : start + size]
            start += size
        step = max(sizes[-1], 1)
        while start < len(labels):
            yield labels[start : start + step], probs[start : start + step]
            start += step

    return iter_chunks(factory)


def assert_same(expected, got):
    assert expected.keys() == got.keys()
    for key, value in expected.items():
        assert_array_equal(got[key], value, err_msg=key)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    k=st.integers(2, 12),
    n=st.integers(20, 400),
    dtype=st.sampled_from([np.float16, np.float32, np.float64]),
    noise=st.floats(0, 0.6),
    absent=st.integers(0, 2),
    sizes=st.lists(st.integers(0, 150), min_size=1, max_size=6),
)
def test_streaming_equals_numpy(seed, k, n, dtype, noise, absent, sizes):
    labels, probs = make_data(seed, n, k, dtype=dtype, noise=noise, absent=absent if k > 3 else 0)
    expected = results(labels, probs, "numpy")
    assert_same(expected, results(None, chunked(labels, probs, sizes), "streaming"))


def test_one_row_chunks_and_classes_missing_from_chunks():
    labels, probs = make_data(1, 300, 5, dtype=np.float32, noise=0.3)
    expected = results(labels, probs, "numpy")
    assert_same(expected, results(None, chunked(labels, probs, [1]), "streaming"))
    order = np.argsort(labels, kind="stable")  # each block then holds one or two classes
    sorted_expected = results(labels[order], probs[order], "numpy")
    got = results(None, chunked(labels[order], probs[order], [0, 7, 0, 60]), "streaming")
    assert_same(sorted_expected, got)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_posterior_flags_with_many_classes(dtype):
    """With K = 48 the in-memory engine keeps the N probabilities (one pass, see
    ``KEEP_P_SHARE``); the streaming engine's flags are the same."""
    labels, probs = make_data(3, 2000, 48, dtype=dtype, noise=0.3)
    flags = la.find_label_issues(labels, probs, method="posterior")
    assert 0 < flags.sum() < labels.size
    streamed = la.find_label_issues(None, chunked(labels, probs, [300]), method="posterior")
    assert_array_equal(streamed, flags)


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_ties_at_the_cut_are_broken_as_in_memory(dtype):
    """Probabilities on a coarse grid tie at every cut; a fourth pass breaks those ties."""
    labels, probs = make_data(4, 3000, 6, dtype=np.float64, noise=0.3, sharpness=1.0)
    probs = np.round(probs, 1)
    probs[:, 0] += 1 - probs.sum(axis=1)
    probs = np.abs(probs).astype(dtype)
    probs /= probs.sum(axis=1, keepdims=True)
    expected = results(labels, probs, "numpy")
    assert_same(expected, results(labels, probs, "streaming"))
    source, calls = counting(labels, probs)
    assert_array_equal(la.find_label_issues(None, source), expected["find_prune_by_noise_rate"])
    assert len(calls) == 4  # the tie-breaking pass


def counting(labels, probs, chunk=97):
    calls = []

    def factory():
        calls.append(1)
        for start in range(0, len(labels), chunk):
            yield labels[start : start + chunk], probs[start : start + chunk]

    return iter_chunks(factory), calls


@pytest.mark.parametrize(
    ("call", "passes"),
    [
        (lambda p: la.find_label_issues(None, p), 3),
        (lambda p: la.find_label_issues(None, p, method="prune_by_class"), 2),
        (lambda p: la.find_label_issues(None, p, method="confident_learning"), 2),
        (lambda p: la.find_label_issues(None, p, method="predicted_neq_given"), 1),
        (lambda p: la.find_label_issues(None, p, method="low_self_confidence"), 2),
        (lambda p: la.find_label_issues(None, p, method="posterior"), 3),
        (lambda p: la.rank_label_issues(None, p), 3),
        (lambda p: la.label_quality_scores(None, p), 1),
        (lambda p: la.label_quality_scores(None, p, adjust_pred_probs=True), 2),
        (lambda p: la.estimate_noise(None, p), 2),
        (lambda p: la.num_label_issues(None, p), 2),
        (lambda p: la.confident_thresholds(None, p), 1),
    ],
)
def test_passes_over_the_data(call, passes):
    labels, probs = make_data(2, 2000, 8, dtype=np.float32, noise=0.2)
    source, calls = counting(labels, probs)
    call(source)
    assert len(calls) == passes


def test_npy_files(tmp_path):
    labels, probs = make_data(5, 1000, 4, dtype=np.float32)
    np.save(tmp_path / "p.npy", probs)
    np.save(tmp_path / "y.npy", labels)
    expected = la.rank_label_issues(labels, probs)
    assert_array_equal(la.rank_label_issues(tmp_path / "y.npy", tmp_path / "p.npy"), expected)
    assert_array_equal(la.rank_label_issues(labels, str(tmp_path / "p.npy")), expected)
    source = npy_chunks(tmp_path / "p.npy", tmp_path / "y.npy", chunk_rows=33)
    assert_array_equal(la.rank_label_issues(None, source), expected)
    assert_array_equal(la.rank_label_issues(labels, tmp_path / "p.npy", engine="numpy"), expected)


def test_parquet_columns_and_list_column(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    labels, probs = make_data(6, 800, 3, dtype=np.float32)
    expected = la.rank_label_issues(labels, probs)
    columns = {"given": labels, **{f"p{j}": probs[:, j] for j in range(3)}, "note": labels}
    pq.write_table(pa.table(columns), tmp_path / "wide.parquet", row_group_size=100)
    source = parquet_chunks(
        tmp_path / "wide.parquet", label_column="given", prob_columns=["p0", "p1", "p2"]
    )
    assert_array_equal(la.rank_label_issues(None, source), expected)
    listed = pa.table({"label": labels, "probs": pa.array(list(probs))})
    pq.write_table(listed, tmp_path / "list.parquet", row_group_size=70)
    assert_array_equal(la.rank_label_issues(None, tmp_path / "list.parquet"), expected)
    with pytest.raises(la.exceptions.InvalidInputError, match="no column 'y'"):
        parquet_chunks(tmp_path / "wide.parquet", label_column="y")
    feather = pytest.importorskip("pyarrow.feather")
    feather.write_feather(listed, tmp_path / "list.arrow", chunksize=90)
    assert_array_equal(la.rank_label_issues(None, tmp_path / "list.arrow"), expected)
    (tmp_path / "parts").mkdir()
    for i, start in enumerate(range(0, 800, 300)):  # names sort in row order
        part = listed.slice(start, 300)
        pq.write_table(part, tmp_path / "parts" / f"part-{i:03d}.parquet")
    assert_array_equal(la.rank_label_issues(None, tmp_path / "parts"), expected)


def test_ensembles_of_streamed_models(tmp_path):
    labels, first = make_data(7, 500, 4, dtype=np.float32)
    _, second = make_data(8, 500, 4, dtype=np.float32)
    np.save(tmp_path / "a.npy", first)
    np.save(tmp_path / "b.npy", second)
    expected = la.label_quality_scores(labels, [first, second])
    got = la.label_quality_scores(labels, [tmp_path / "a.npy", tmp_path / "b.npy"])
    assert_array_equal(got, expected)


def bad(match):
    return pytest.raises(la.exceptions.InvalidInputError, match=match)


def test_errors_name_the_global_position():
    labels, probs = make_data(9, 200, 3)
    labels = labels.copy()
    labels[150] = 3
    with bad("Got 3 at position 150"):
        la.find_label_issues(None, chunked(labels, probs, [40]))
    labels[150] = 0
    wrong = probs.copy()
    wrong[170] *= 0.5
    numpy_error = pytest.raises(la.exceptions.InvalidInputError)
    with numpy_error as expected:
        la.find_label_issues(labels, wrong)
    with bad("Row 170 sums to") as got:
        la.find_label_issues(None, chunked(labels, wrong, [40]))
    assert str(got.value) == str(expected.value)


def test_bad_chunks_are_explained(tmp_path):
    labels, probs = make_data(10, 100, 3)

    def uneven():
        yield labels[:50], probs[:40]

    with bad("The chunk at row 0 has 50 labels and 40 rows"):
        la.find_label_issues(None, iter_chunks(uneven))

    def mixed():
        yield labels[:50], probs[:50]
        yield labels[50:], probs[50:].astype(np.float32)

    with bad("same dtype"):
        la.find_label_issues(None, iter_chunks(mixed))

    def narrower():
        yield labels[:50], probs[:50]
        yield labels[50:] % 2, probs[50:, :2] / probs[50:, :2].sum(axis=1, keepdims=True)

    with bad("same number of columns, one per class. Got 2, 3; give every chunk a column"):
        la.find_label_issues(None, iter_chunks(narrower))
    with bad("new iterable"):
        iter_chunks(iter([(labels, probs)]))
    listed = iter_chunks([(labels[:30], probs[:30]), (labels[30:], probs[30:])])
    assert_array_equal(la.find_label_issues(None, listed), la.find_label_issues(labels, probs))
    with bad("labels must be None"):
        la.find_label_issues(labels, iter_chunks(lambda: [(labels, probs)]))
    with bad("empty"):
        la.find_label_issues(None, iter_chunks(lambda: []))
    with bad("'engine' parameter must be one of"):
        la.find_label_issues(labels, probs, engine="spark")
    np.save(tmp_path / "f.npy", np.asfortranarray(probs))
    with bad("Fortran"):
        la.find_label_issues(labels, tmp_path / "f.npy")
    np.save(tmp_path / "i.npy", labels.reshape(-1, 1).repeat(3, axis=1))
    with bad("floating-point"):
        la.find_label_issues(labels, tmp_path / "i.npy")
    np.save(tmp_path / "p.npy", probs)
    with bad("same length"):
        la.find_label_issues(labels[:-1], tmp_path / "p.npy")
    with (tmp_path / "p.npy").open("r+b") as f:
        f.truncate(500)
    with bad("truncated"):
        la.find_label_issues(labels, tmp_path / "p.npy")
    with bad(".npy, Parquet or Arrow"):
        la.find_label_issues(labels, tmp_path / "p.csv")
    # numpy's "pickled data" message for a CSV of labels, a shape error for swapped inputs
    with bad("labels given as a path must be a .npy file"):
        la.find_label_issues(tmp_path / "labels.csv", probs)
    with bad("pass it as pred_probs, with labels=None"):
        la.find_label_issues(iter_chunks(lambda: [(labels, probs)]), None)


def assert_same_audit(expected, got):
    import pandas as pd

    for name in ("issues", "class_pairs", "classes"):
        pd.testing.assert_frame_equal(getattr(got, name), getattr(expected, name), obj=name)
    assert (got.health, got.power, got.background_rate) == (
        expected.health,
        expected.power,
        expected.background_rate,
    )
    assert_array_equal(got.noise.noise_matrix, expected.noise.noise_matrix)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_audit_streams(tmp_path, dtype):
    labels, probs = make_data(11, 1500, 5, dtype=dtype, noise=0.25)
    names = list("abcde")
    expected = la.audit(labels, probs, class_names=names)
    assert_same_audit(
        expected, la.audit(None, chunked(labels, probs, [1, 0, 333]), class_names=names)
    )
    np.save(tmp_path / "p.npy", probs)
    source, calls = counting(labels, probs)
    assert_same_audit(expected, la.audit(None, source, class_names=names))
    assert len(calls) == 4
