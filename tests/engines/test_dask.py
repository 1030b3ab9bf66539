"""The Dask engine, on a real cluster of two worker processes, equals the in-memory one."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_array_equal

import labelaudit as la

from ..datasets import make_data
from .test_streaming import assert_same, results

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            # Two cores shared with the test runner: one compiled-kernel thread per worker.
            env={"NUMBA_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE"},
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


#: Row blocks of the property test, at most.
MAX_ROW_BLOCKS = 40


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 2**31),
    k=st.integers(2, 9),
    n=st.integers(30, 400),
    dtype=st.sampled_from([np.float16, np.float32, np.float64]),
    rows=st.integers(1, 200),
    cols=st.integers(1, 9),
)
def test_dask_equals_numpy(client, seed, k, n, dtype, rows, cols):
    labels, probs = make_data(seed, n, k, dtype=dtype, noise=0.3)
    expected = results(labels, probs, "numpy")
    # At most MAX_ROW_BLOCKS row blocks: each is a task in every pass of some 20 calls, and
    # 400 one-row blocks took minutes (one CI run's tests 11 min instead of 5-7). One-row
    # blocks are still drawn for the smaller n, and streamed in test_streaming.
    rows = max(rows, -(-n // MAX_ROW_BLOCKS))
    blocks = da.from_array(probs, chunks=(rows, cols))  # column chunks are merged
    assert_same(expected, results(labels, blocks, "auto"))
    assert len(client.scheduler_info()["workers"]) == 2


def test_dask_labels_uneven_and_empty_blocks(client):
    labels, probs = make_data(3, 500, 5, dtype=np.float32, noise=0.2)
    parts = [probs[:0], probs[:1], probs[1:200], probs[200:200], probs[200:]]
    blocks = da.concatenate([da.from_array(p, chunks=(max(len(p), 1), 5)) for p in parts])
    dask_labels = da.from_array(labels, chunks=123)
    assert_array_equal(
        la.rank_label_issues(dask_labels, blocks), la.rank_label_issues(labels, probs)
    )
    assert_array_equal(
        la.find_label_issues(labels, probs, method="posterior"),
        la.find_label_issues(dask_labels, blocks, method="posterior"),
    )


def test_dask_engine_on_npy_and_arrays(client, tmp_path):
    labels, probs = make_data(4, 700, 6, dtype=np.float32, noise=0.2)
    np.save(tmp_path / "p.npy", probs)
    expected = la.find_label_issues(labels, probs)
    assert_array_equal(la.find_label_issues(labels, tmp_path / "p.npy", engine="dask"), expected)
    assert_array_equal(la.find_label_issues(labels, probs, engine="dask"), expected)
    blocks = da.from_array(probs, chunks=(100, 6))
    assert_array_equal(la.find_label_issues(labels, blocks, engine="streaming"), expected)
    assert_array_equal(la.find_label_issues(labels, blocks, engine="numpy"), expected)


def test_dask_errors_are_clear(client):
    labels, probs = make_data(5, 300, 3)
    wrong = probs.copy()
    wrong[250] = np.nan
    with pytest.raises(la.exceptions.InvalidInputError, match="Row 250 contains NaN"):
        la.find_label_issues(labels, da.from_array(wrong, chunks=(100, 3)))
    with pytest.raises(la.exceptions.InvalidInputError, match="same length"):
        la.find_label_issues(labels[:-1], da.from_array(probs, chunks=(100, 3)))
    dd = pytest.importorskip("dask.dataframe")
    frame = dd.from_array(probs, chunksize=100)
    with pytest.raises(la.exceptions.InvalidInputError, match="to_dask_array"):
        la.find_label_issues(labels, frame)
    with pytest.raises(la.exceptions.InvalidInputError, match="engine='streaming'"):
        la.find_label_issues(None, la.io.iter_chunks(lambda: [(labels, probs)]), engine="dask")


def test_dask_audit(client):
    from .test_streaming import assert_same_audit

    labels, probs = make_data(6, 900, 4, dtype=np.float32, noise=0.3)
    expected = la.audit(labels, probs)
    assert_same_audit(expected, la.audit(labels, da.from_array(probs, chunks=(200, 4))))
