"""Selection and rounding helpers of the core."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_array_equal

from labelaudit.core.joint import round_preserving_sum
from labelaudit.core.prune import smallest

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
