"""Compile the kernels for one dtype into numba's on-disk cache before the tests run, and
check what was compiled.

``make unit`` runs this once per dtype, both at once, before the parallel test run: on a
fresh clone the cache is empty, and without it each test worker compiled the same
kernels for itself (on this 2-core machine 13 minutes of tests, 4 of them with a warm
cache). The test workers then load the kernels from the cache, while a user's first
process runs them as just compiled, and the two can differ (a kernel that wrote the array
it read once gave wrong values only when freshly compiled). So this process, which
compiled them, also checks them: cleanlab's answers on two datasets, and the posterior's
passes against its NumPy statement. On a fresh clone (CI) that checks fresh compiles.
Usage: ``python tests/warm_kernels.py float32``.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import get_args

import numpy as np
from numpy.testing import assert_allclose

import labelaudit as la
import labelaudit.engines._inmemory as engine
from labelaudit._typing import CountMethod, FilterMethod, ScoreMethod
from labelaudit.core import posterior as cp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests package


def warm(dtype: str) -> None:
    warnings.simplefilter("ignore")  # random labels: the audit rightly says most are wrong
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 5, 3000)
    for order in ("C", "F"):
        probs = np.asarray(rng.dirichlet(np.ones(5), 3000).astype(dtype), order=order)
        for method in get_args(FilterMethod):
            la.find_label_issues(labels, probs, method=method)
        for score in get_args(ScoreMethod):
            la.label_quality_scores(labels, probs, method=score)
            la.rank_label_issues(labels, probs, rank_by=score)
        for score in ("self_confidence", "normalized_margin"):
            la.label_quality_scores(labels, probs, method=score, adjust_pred_probs=True)
        for count in get_args(CountMethod):
            la.num_label_issues(labels, probs, method=count)
        la.estimate_noise(labels, probs)
        la.mislabeled_probability(labels, probs)
        la.audit(labels, probs)
    if dtype == "float64":  # the latent steps from 128 classes on (float64 for any input)
        many = rng.integers(0, 130, 3000)
        la.estimate_noise(many, rng.dirichlet(np.ones(130), 3000))


def check(dtype: str) -> None:
    """The kernels as compiled by this process give the reference answers (warnings are
    off since :func:`warm`: both libraries note tiny classes)."""
    from tests.datasets import make_data
    from tests.test_parity import assert_full_parity

    before = engine.DEFAULT_COLLISION
    engine.DEFAULT_COLLISION = "argmax"  # cleanlab's collision rule, as in the parity tests
    try:
        for seed, k, absent in [(1, 5, 0), (2, 12, 2)]:
            labels, probs = make_data(seed, 900, k, dtype=np.dtype(dtype).type, absent=absent)
            assert_full_parity(labels, probs)
    finally:
        engine.DEFAULT_COLLISION = before
    labels, probs = make_data(3, 900, 5, dtype=np.dtype(dtype).type)
    ref = probs.astype(np.float64)
    tol = 1e-12 if dtype == "float64" else 2e-6
    for power in (0.5, 2.5):
        noise = cp.channel(cp.channel_counts(labels, probs, 5, power) / cp.COUNT_UNIT)
        post = cp.posterior(labels, ref, power, noise)
        p = cp.mislabeled_probability(labels, probs, power, noise)
        assert_allclose(p, 1 - post[np.arange(labels.size), labels], atol=tol)


if __name__ == "__main__":
    warm(sys.argv[1])
    check(sys.argv[1])
