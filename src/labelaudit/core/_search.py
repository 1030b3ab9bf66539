"""One-dimensional maximization used to fit the scalar parameters of the models."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def golden_max(score: Callable[[float], float], lo: float, hi: float, steps: int) -> float:
    """The midpoint of the bracket left after ``steps`` golden-section steps on ``[lo, hi]``
    (``score`` is assumed unimodal there; each step shrinks the bracket by 0.618)."""
    golden = (np.sqrt(5.0) - 1.0) / 2.0
    a, b = hi - golden * (hi - lo), lo + golden * (hi - lo)
    score_a, score_b = score(a), score(b)
    for _ in range(steps):
        if score_a >= score_b:
            hi, b, score_b = b, a, score_a
            a = hi - golden * (hi - lo)
            score_a = score(a)
        else:
            lo, a, score_a = a, b, score_b
            b = lo + golden * (hi - lo)
            score_b = score(b)
    return float((lo + hi) / 2.0)
