"""Selection and rounding helpers of the core."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_array_equal

from labelaudit.core.joint import round_preserving_sum, round_rows
from labelaudit.core.prune import class_order, keep_at_least, smallest
from labelaudit.core.thresholds import label_order

values = hnp.arrays(
    dtype=st.sampled_from([np.float16, np.float32, np.float64]),
    shape=st.integers(1, 300),
    elements=st.sampled_from([0.0, 0.25, 0.5, 1.0]) | st.floats(0, 1, width=16),
)


@settings(max_examples=200, deadline=None)
@given(x=values, frac=st.floats(0, 1.2))
def test_smallest_equals_numpy_argsort_prefix(x, frac):
    m = int(frac * x.shape[0])
    expected = np.sort(np.argsort(x)[:m]) if m < x.shape[0] else np.arange(x.shape[0])
    assert_array_equal(np.sort(smallest(x, m)), expected)


@settings(max_examples=200, deadline=None)
@given(x=hnp.arrays(np.float64, st.integers(1, 50), elements=st.floats(0, 1e4)))
def test_round_preserving_sum_keeps_the_total(x):
    ints = round_preserving_sum(x)
    assert ints.sum() == np.round(x.sum())
    assert (np.abs(ints - x) < 1 + 1e-9).all()


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    shape=st.tuples(st.integers(1, 40), st.integers(1, 1200)),
    zeros=st.floats(0, 0.99),
    grid=st.sampled_from([0.0, 0.5, 0.25, 1 / 3]),
    fortran=st.booleans(),
)
def test_round_rows_equals_rounding_each_row(seed, shape, zeros, grid, fortran):
    """All rows at once give what round_preserving_sum gives row by row, also with many
    equal rounding errors (values on a grid, zeros) and rows stored in Fortran order."""
    rng = np.random.default_rng(seed)
    matrix = rng.random(shape) * rng.choice([1.0, 5.0, 300.0])
    if grid:
        matrix = np.round(matrix / grid) * grid
    matrix[rng.random(shape) < zeros] = 0.0
    matrix = np.asfortranarray(matrix) if fortran else matrix
    expected = np.stack([round_preserving_sum(row) for row in matrix])
    assert_array_equal(round_rows(matrix), expected)
    assert_array_equal(round_rows(matrix.astype(np.int64)), matrix.astype(np.int64))


@pytest.mark.parametrize("fortran", [False, True])
def test_round_rows_by_blocks_equals_rounding_each_row(fortran):
    """Rows are rounded a block of about 2 MB at a time, blocks shared between threads:
    700 rows of 1000 span three."""
    rng = np.random.default_rng(3)
    matrix = np.round(rng.random((700, 1000)) * 12) / 4
    matrix[rng.random(matrix.shape) < 0.9] = 0.0
    matrix = np.asfortranarray(matrix) if fortran else matrix
    expected = np.stack([round_preserving_sum(row) for row in matrix])
    assert_array_equal(round_rows(matrix), expected)


@pytest.mark.parametrize("n_classes", [1, 7, 1000, 70_000])
def test_label_order_is_the_stable_argsort(n_classes):
    """The radix sort of 16-bit labels gives the one stable order (classes in example
    order); above 65,535 classes the labels are sorted as they are."""
    labels = np.random.default_rng(n_classes).integers(0, n_classes, 50_000)
    expected = np.argsort(labels, kind="stable")
    assert_array_equal(label_order(labels, n_classes), expected)
    order, starts = class_order(labels, n_classes)
    assert_array_equal(order, expected)
    assert_array_equal(
        starts, np.concatenate([[0], np.cumsum(np.bincount(labels, minlength=n_classes))])
    )


def _keep_at_least_reference(prune_counts, n_keep, frac_noise):
    """keep_at_least as cleanlab's steps go, for every frac_noise (no shortcut)."""
    diagonal = prune_counts.diagonal()
    new_diagonal = np.maximum(diagonal, n_keep)
    n_noise_cells = np.maximum(np.count_nonzero(prune_counts, axis=0) - 1.0, 1.0)
    adjusted = prune_counts - (new_diagonal - diagonal) / n_noise_cells
    adjusted[adjusted < 0] = 0
    np.fill_diagonal(adjusted, new_diagonal)
    reduced = adjusted * frac_noise
    np.fill_diagonal(reduced, adjusted.diagonal())
    kept = adjusted.diagonal().copy()
    adjusted -= reduced
    np.fill_diagonal(reduced, kept + np.sum(adjusted, axis=0))
    return reduced.astype(np.int64, order="C")


@pytest.mark.parametrize("seed", range(20))
def test_keep_at_least_shortcut_equals_the_full_steps(seed):
    """With frac_noise = 1 only the columns whose diagonal is raised are computed; the
    counts equal the full steps', also for small diagonals and empty columns."""
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 60))
    joint = rng.integers(0, 12, (k, k)) * (rng.random((k, k)) < 0.3)
    np.fill_diagonal(joint, rng.integers(0, 9, k))
    for n_keep in (0, 1, 5, 20):
        expected = _keep_at_least_reference(joint.T, n_keep, 1.0)
        assert_array_equal(keep_at_least(joint.T, n_keep, 1.0), expected)
        assert_array_equal(
            keep_at_least(joint.T, n_keep, 0.5), _keep_at_least_reference(joint.T, n_keep, 0.5)
        )
