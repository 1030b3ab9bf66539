"""Simulated label noise with known truth: noise matrices and noisy labels."""

from __future__ import annotations

from typing import Any

import numpy as np

from labelaudit._typing import FloatArray, IntArray
from labelaudit._validation import as_generator, as_labels, check_fraction
from labelaudit.exceptions import InvalidInputError

#: Tries before giving up on drawing a valid noise matrix.
MAX_TRIES = 2_000
#: Draws are made this many times at each Dirichlet concentration before it doubles.
TRIES_PER_CONCENTRATION = 20
#: How far matrix sums may stray from 1 through rounding.
SUM_TOLERANCE = 1e-6


def is_valid_noise_matrix(noise_matrix: FloatArray, prior: FloatArray) -> bool:
    """True when every class is more likely to keep its label than chance would give.

    That is ``P(given=i, true=i) > P(given=i) * P(true=i)`` for every class i, the
    condition under which confident learning can identify the noise.
    """
    joint = noise_matrix * prior
    given = joint.sum(axis=1)
    return bool(np.all(joint.diagonal() > given * prior))


def _cap_sum(
    rng: np.random.Generator, n: int, total: float, cap: float, alpha: float
) -> FloatArray:
    """``n`` non-negative values summing to ``total``, none above ``cap`` (total <= n * cap)."""
    values = rng.dirichlet(np.full(n, alpha)) * total
    for _ in range(n):
        over = values > cap
        if not over.any():
            break
        excess = float(np.sum(values[over] - cap))
        values[over] = cap
        room = cap - values
        values += excess * room / room.sum()
    return np.minimum(values, cap)


def _zeros_per_column(
    rng: np.random.Generator, noisy: IntArray, k: int, frac_zero: float
) -> IntArray:
    """How many off-diagonal zeros each column gets; a noisy column keeps one non-zero."""
    zeros = np.full(k, k - 1, dtype=np.int64)
    zeros[noisy] = 0
    wanted = int(k * (k - 1) * frac_zero) - (k - noisy.size) * (k - 1)
    slots = np.repeat(noisy, k - 2)  # each noisy column can lose up to K-2 of its K-1 cells
    if wanted > 0 and slots.size:
        picked = rng.choice(slots.size, size=min(wanted, slots.size), replace=False)
        zeros += np.bincount(slots[picked], minlength=k)
    return zeros


def _draw(
    rng: np.random.Generator, k: int, trace: float, frac_zero: float, alpha: float
) -> FloatArray:
    """One random matrix; a larger Dirichlet concentration ``alpha`` spreads noise more evenly."""
    diagonal = 1.0 - _cap_sum(rng, k, k - trace, 1.0, alpha)
    matrix = np.diag(diagonal)
    noisy = np.flatnonzero(diagonal < 1.0)
    zeros = _zeros_per_column(rng, noisy, k, frac_zero)
    for col in noisy:
        others = np.delete(np.arange(k), col)
        rows = rng.choice(others, size=k - 1 - zeros[col], replace=False)
        matrix[rows, col] = rng.dirichlet(np.full(rows.size, alpha)) * (1.0 - diagonal[col])
    return matrix


def _check_prior(prior: Any, k: int) -> FloatArray:
    if prior is None:
        return np.full(k, 1.0 / k)
    arr = np.asarray(prior, dtype=np.float64)
    if arr.shape != (k,) or (arr <= 0).any() or abs(arr.sum() - 1) > SUM_TOLERANCE:
        raise InvalidInputError(
            f"prior must hold {k} positive probabilities summing to 1 (P(true=k) per class). "
            f"Got {prior!r}."
        )
    return arr


def generate_noise_matrix(
    n_classes: int,
    *,
    trace: float,
    frac_zero_noise_rates: float = 0.0,
    prior: Any = None,
    random_state: int | np.random.Generator | None = None,
) -> FloatArray:
    """Draw a random valid noise matrix P(given=i | true=j) with a given trace.

    Parameters
    ----------
    n_classes : int
        Number of classes K (at least 2).
    trace : float
        Sum of the diagonal, in (1, K]: K means no noise, lower means more noise (the
        average fraction of correct labels is ``trace / K``).
    frac_zero_noise_rates : float in [0, 1], default=0.0
        Fraction of the off-diagonal cells that are exactly zero (sparse noise).
    prior : array-like of shape (K,), optional
        P(true=k), used for the validity check; uniform by default.
    random_state : int, numpy Generator or None
        Seed or generator; a global seed is never used.

    Returns
    -------
    ndarray of shape (K, K)
        Columns sum to 1 and ``P(given=i, true=i) > P(given=i) P(true=i)`` for every i.

    Notes
    -----
    Noise is first spread with flat Dirichlet draws (the most varied matrices). When
    such draws keep failing the validity condition (low traces, many classes), later
    draws spread noise progressively more evenly, so a valid matrix is always found for
    a uniform prior.

    Examples
    --------
    >>> from labelaudit.noise import generate_noise_matrix
    >>> m = generate_noise_matrix(3, trace=2.4, random_state=0)
    >>> bool(abs(m.trace() - 2.4) < 1e-9), m.sum(axis=0).round(9).tolist()
    (True, [1.0, 1.0, 1.0])
    """
    if isinstance(n_classes, bool) or not isinstance(n_classes, int | np.integer) or n_classes < 2:
        raise InvalidInputError(f"n_classes must be an int >= 2. Got {n_classes!r}.")
    k = int(n_classes)
    if not isinstance(trace, int | float | np.number) or not 1.0 < float(trace) <= k:
        raise InvalidInputError(
            f"trace must be a number in (1, n_classes] = (1, {k}]; a trace of 1 or less "
            f"cannot give a valid noise matrix. Got {trace!r}."
        )
    frac_zero = check_fraction("frac_zero_noise_rates", frac_zero_noise_rates, low_open=False)
    py = _check_prior(prior, k)
    rng = as_generator(random_state)
    for attempt in range(MAX_TRIES):
        # Start from the most varied matrices (flat Dirichlet); if those keep failing the
        # validity condition, draw progressively more even ones, which satisfy it.
        alpha = 2.0 ** min(attempt // TRIES_PER_CONCENTRATION, 40)
        matrix = _draw(rng, k, float(trace), frac_zero, alpha)
        if is_valid_noise_matrix(matrix, py):
            return matrix
    raise InvalidInputError(  # pragma: no cover - only for extreme traces and priors
        f"No valid noise matrix found in {MAX_TRIES} tries for K={k}, trace={trace}; "
        "raise the trace or make the prior less skewed."
    )


def _check_noise_matrix(noise_matrix: Any) -> FloatArray:
    m = np.asarray(noise_matrix, dtype=np.float64)
    if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] < 2:
        raise InvalidInputError(
            f"noise_matrix must be square of shape (K, K) with K >= 2. Got shape {m.shape}."
        )
    if not np.isfinite(m).all() or (m < 0).any() or np.abs(m.sum(axis=0) - 1).max() > SUM_TOLERANCE:
        raise InvalidInputError(
            "noise_matrix must hold P(given=i | true=j) at [i, j]: non-negative, every column "
            "summing to 1. Use labelaudit.noise.generate_noise_matrix to draw one."
        )
    return m


def make_noisy_labels(
    true_labels: Any,
    noise_matrix: Any,
    *,
    random_state: int | np.random.Generator | None = None,
) -> IntArray:
    """Flip labels so that exactly ``floor(noise_matrix[i, j] * n_j)`` of the ``n_j``
    examples of true class j get label i, for every i != j.

    Parameters
    ----------
    true_labels : array-like of shape (n_samples,)
        The true labels, integers in ``[0, K)``; classes may be absent.
    noise_matrix : array-like of shape (K, K)
        P(given=i | true=j) at ``[i, j]``; columns sum to 1.
    random_state : int, numpy Generator or None
        Seed or generator; a global seed is never used.

    Returns
    -------
    ndarray of shape (n_samples,), int64
        The noisy labels (a new array; ``true_labels`` is not modified).

    Examples
    --------
    >>> import numpy as np
    >>> from labelaudit.noise import make_noisy_labels
    >>> y = np.repeat([0, 1], 10)
    >>> noisy = make_noisy_labels(y, [[0.8, 0.0], [0.2, 1.0]], random_state=0)
    >>> int((noisy[:10] == 1).sum()), int((noisy[10:] == 0).sum())
    (2, 0)
    """
    m = _check_noise_matrix(noise_matrix)
    k = m.shape[0]
    labels = as_labels(true_labels, n_classes=k, columns="noise_matrix is K x K for K classes")
    rng = as_generator(random_state)
    noisy = labels.copy()
    per_class = np.bincount(labels, minlength=k)
    flips = np.floor(m * per_class + SUM_TOLERANCE).astype(np.int64)
    np.fill_diagonal(flips, 0)
    for j in np.flatnonzero(flips.sum(axis=0)):
        members = np.flatnonzero(labels == j)
        new = np.repeat(np.arange(k), flips[:, j])
        noisy[rng.choice(members, size=new.size, replace=False)] = new
    return noisy
