"""Latent estimates: the compiled steps equal the NumPy ones."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from labelaudit.core import latent


def random_joint(k: int, seed: int, empty: int) -> tuple[np.ndarray, np.ndarray]:
    """A calibrated-joint-like matrix: a heavy diagonal, sparse small counts elsewhere,
    ``empty`` classes never estimated (empty columns), and label counts to match."""
    rng = np.random.default_rng(seed)
    joint = rng.poisson(rng.random((k, k)) * 0.4 * (rng.random((k, k)) < 0.2))
    joint[np.arange(k), np.arange(k)] += rng.integers(1, 200, k)
    joint[:, rng.choice(k, empty, replace=False)] = 0
    counts = joint.sum(axis=1) + rng.integers(0, 3, k)
    return joint.astype(np.int64), counts


@pytest.mark.parametrize(
    ("k", "seed", "empty", "fortran"),
    [
        (128, 0, 0, False),
        (129, 1, 3, True),
        (257, 2, 0, False),
        (700, 3, 5, False),
        (1000, 4, 1, True),
    ],
)
def test_compiled_estimates_equal_numpy(k, seed, empty, fortran, monkeypatch):
    """Bit for bit, for sizes around the pairwise-sum leaves (128 values), with classes
    never estimated, and with the joint in either memory order."""
    joint, counts = random_joint(k, seed, empty)
    joint = np.asfortranarray(joint) if fortran else joint
    kept = joint.copy()
    compiled = latent.estimate_latent(joint, counts)
    monkeypatch.setattr(latent, "COMPILED_FROM", k + 1)
    reference = latent.estimate_latent(joint, counts)
    for ours, theirs in zip(compiled, reference, strict=True):
        assert_array_equal(ours, theirs)
    assert_array_equal(joint, kept)
    assert_allclose(compiled.noise_matrix.sum(axis=0), 1.0)
