"""Compile the kernels for one dtype into numba's on-disk cache before the tests run.

``make unit`` runs this once per dtype, both at once, before the parallel test run: on a
fresh clone the cache is empty, and without it each test worker compiled the same
kernels for itself (on this 2-core machine 13 minutes of tests, 4 of them with a warm
cache). Usage: ``python tests/warm_kernels.py float32``.
"""

from __future__ import annotations

import sys
from typing import get_args

import numpy as np

import labelaudit as la
from labelaudit._typing import CountMethod, FilterMethod, ScoreMethod


def warm(dtype: str) -> None:
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


if __name__ == "__main__":
    warm(sys.argv[1])
