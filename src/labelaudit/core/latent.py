"""Latent estimates from a calibrated confident joint: priors and the two noise matrices.

Notation: ``noise[i, j] = P(given=i | true=j)`` (columns sum to 1) and
``inverse[j, i] = P(true=j | given=i)`` (columns sum to 1, indexed [true, given]).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from labelaudit._typing import FloatArray, IntArray
from labelaudit.core.joint import TINY

#: Largest off-diagonal noise rate kept; the rest of the column mass stays on the diagonal.
MAX_NOISE_RATE = 0.9999
#: Floor of an estimated true-class prior.
PRIOR_FLOOR = 1e-6
#: Floor of the prior after the consistency iterations.
CONVERGED_PRIOR_FLOOR = 1e-5


class Latent(NamedTuple):
    """Latent estimates of confident learning."""

    prior_true: FloatArray
    noise_matrix: FloatArray
    inverse_noise_matrix: FloatArray


def clip_noise_rates(matrix: FloatArray) -> FloatArray:
    """Clip off-diagonal rates to [0, MAX_NOISE_RATE], keep the diagonal, renormalize columns."""
    clipped: FloatArray = np.clip(matrix, 0.0, MAX_NOISE_RATE)
    np.fill_diagonal(clipped, matrix.diagonal())
    normalized: FloatArray = clipped / np.clip(clipped.sum(axis=0), TINY, None)
    return normalized


def rescale_clipped(values: FloatArray, low: float, total: float) -> FloatArray:
    """Clip ``values`` to [low, 1] and rescale them to sum to ``total``."""
    clipped = np.clip(values, low, 1.0)
    return clipped * total / np.clip(np.sum(clipped), TINY, None)


def _inverse_from_noise(
    prior_true: FloatArray, noise: FloatArray, prior_given: FloatArray
) -> FloatArray:
    joint = noise * prior_true
    return clip_noise_rates(joint.T / np.clip(prior_given, TINY, None))


def _noise_from_inverse(
    prior_given: FloatArray, inverse: FloatArray, prior_true: FloatArray
) -> FloatArray:
    joint = (inverse * prior_given).T
    return clip_noise_rates(joint / np.clip(prior_true, TINY, None))


def _prior_from_counts(
    prior_given: FloatArray, noise: FloatArray, inverse: FloatArray
) -> FloatArray:
    # P(true=k) = P(true=k | given=k) / P(given=k | true=k) * P(given=k)
    ratio = inverse.diagonal() / np.clip(noise.diagonal(), TINY, None)
    return rescale_clipped(ratio * prior_given, PRIOR_FLOOR, 1.0)


def _converge(prior_given: FloatArray, latent: Latent) -> Latent:
    """Make the three estimates agree with each other (fixed-point iterations)."""
    prior, noise, inverse = latent
    for _ in range(3):
        for _ in range(5):
            inverse = _inverse_from_noise(prior, noise, prior_given)
            prior = _prior_from_counts(prior_given, noise, inverse)
        noise = _noise_from_inverse(prior_given, inverse, prior)
    return Latent(prior, noise, inverse)


def _identity_empty_columns(matrix: FloatArray) -> FloatArray:
    """Give a column with no mass (a class never seen) the identity column, so columns sum to 1."""
    empty = ~(matrix.sum(axis=0) > 0)
    if empty.any():
        matrix = matrix.copy()
        matrix[:, empty] = 0.0
        matrix[empty, empty] = 1.0
    return matrix


def estimate_latent(calibrated_joint: IntArray, label_counts: IntArray) -> Latent:
    """Priors and noise matrices from a calibrated confident joint (rows = given label)."""
    prior_given = label_counts / float(label_counts.sum())
    noise = calibrated_joint / np.clip(calibrated_joint.sum(axis=0).astype(float), TINY, None)
    inverse = calibrated_joint.T / np.clip(calibrated_joint.sum(axis=1).astype(float), TINY, None)
    prior = _prior_from_counts(prior_given, noise, inverse)
    latent = _converge(
        prior_given, Latent(prior, clip_noise_rates(noise), clip_noise_rates(inverse))
    )
    return Latent(
        rescale_clipped(latent.prior_true, CONVERGED_PRIOR_FLOOR, 1.0),
        _identity_empty_columns(clip_noise_rates(latent.noise_matrix)),
        _identity_empty_columns(clip_noise_rates(latent.inverse_noise_matrix)),
    )
