"""Synthetic (labels, pred_probs) pairs for tests: noisy labels, imbalance, absent classes."""

from __future__ import annotations

import numpy as np


def make_data(
    seed: int,
    n: int,
    k: int,
    *,
    dtype: type = np.float64,
    noise: float = 0.2,
    imbalanced: bool = False,
    absent: int = 0,
    sharpness: float = 3.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Labels with ``noise`` of them flipped at random and softmax probabilities of a model
    that mostly prefers the true class. ``absent`` classes get no label (their examples are
    relabeled), though the model may still predict them."""
    rng = np.random.default_rng(seed)
    prior = rng.dirichlet(np.full(k, 0.7 if imbalanced else 20.0))
    true = rng.choice(k, size=n, p=prior)
    logits = rng.normal(size=(n, k))
    logits[np.arange(n), true] += sharpness * rng.random(n) * 2
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    labels = true.copy()
    flip = rng.random(n) < noise
    labels[flip] = rng.integers(0, k, size=int(flip.sum()))
    if absent:
        gone = rng.choice(k, size=min(absent, k - 2), replace=False)
        kept = np.setdiff1d(np.arange(k), gone)
        moved = np.isin(labels, gone)
        labels[moved] = rng.choice(kept, size=int(moved.sum()))
    if len(np.unique(labels)) < 2:  # at least two classes, as cleanlab requires
        labels[0], labels[1] = 0, 1
    return labels, probs.astype(dtype)
