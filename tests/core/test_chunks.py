"""Row chunking never changes a result: chunk boundaries are invisible."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal

import labelaudit as la
import labelaudit.core._chunks
import labelaudit.engines._inmemory

from ..datasets import make_data


def results(labels, probs):
    return {
        "joint": la.confident_joint(labels, probs, calibrate=False),
        "noise": la.estimate_noise(labels, probs).noise_matrix,
        "margin": la.label_quality_scores(labels, probs, method="normalized_margin"),
        "adjusted": la.label_quality_scores(labels, probs, adjust_pred_probs=True),
        "issues": la.find_label_issues(labels, probs),
        "low": la.find_label_issues(labels, probs, method="low_normalized_margin"),
        "rank": la.rank_label_issues(labels, probs, rank_by="normalized_margin"),
    }


@pytest.mark.parametrize("chunk_bytes", [1, 40, 1000])
def test_results_do_not_depend_on_chunk_size(monkeypatch, chunk_bytes):
    warnings.simplefilter("ignore", la.FewExamplesWarning)
    monkeypatch.setattr(labelaudit.engines._inmemory, "USE_KERNELS", False)  # chunked path
    labels, probs = make_data(2, 517, 6, dtype=np.float32, noise=0.3)
    expected = results(labels, probs)
    monkeypatch.setattr(labelaudit.core._chunks, "CHUNK_BYTES", chunk_bytes)
    got = results(labels, probs)
    for key, value in expected.items():
        assert_array_equal(got[key], value, err_msg=key)


def test_row_slices_cover_all_rows_once():
    slices = list(labelaudit.core._chunks.row_slices(10, 3, 8))
    covered = np.concatenate([np.arange(10)[s] for s in slices])
    assert_array_equal(covered, np.arange(10))
