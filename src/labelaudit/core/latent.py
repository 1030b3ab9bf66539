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
#: From this many classes the consistency iterations run compiled (equal results; at
#: K = 1000 about 0.1 s in NumPy).
COMPILED_FROM = 128


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
    prior_given: FloatArray, noise_diagonal: FloatArray, inverse_diagonal: FloatArray
) -> FloatArray:
    # P(true=k) = P(true=k | given=k) / P(given=k | true=k) * P(given=k)
    ratio = inverse_diagonal / np.clip(noise_diagonal, TINY, None)
    return rescale_clipped(ratio * prior_given, PRIOR_FLOOR, 1.0)


def _converge(prior_given: FloatArray, latent: Latent) -> Latent:
    """Make the three estimates agree with each other (fixed-point iterations)."""
    prior, noise, inverse = latent
    for _ in range(3):
        for _ in range(5):
            inverse = _inverse_from_noise(prior, noise, prior_given)
            prior = _prior_from_counts(prior_given, noise.diagonal(), inverse.diagonal())
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
    calibrated_joint = np.ascontiguousarray(calibrated_joint)  # one order of summation
    prior_given = label_counts / float(label_counts.sum())
    if prior_given.shape[0] >= COMPILED_FROM:
        return _estimate_latent_compiled(calibrated_joint, prior_given)
    noise = calibrated_joint / np.clip(calibrated_joint.sum(axis=0).astype(float), TINY, None)
    inverse = calibrated_joint.T / np.clip(calibrated_joint.sum(axis=1).astype(float), TINY, None)
    prior = _prior_from_counts(prior_given, noise.diagonal(), inverse.diagonal())
    latent = _converge(
        prior_given, Latent(prior, clip_noise_rates(noise), clip_noise_rates(inverse))
    )
    return Latent(
        rescale_clipped(latent.prior_true, CONVERGED_PRIOR_FLOOR, 1.0),
        _identity_empty_columns(clip_noise_rates(latent.noise_matrix)),
        _identity_empty_columns(clip_noise_rates(latent.inverse_noise_matrix)),
    )


def _estimate_latent_compiled(calibrated_joint: IntArray, prior_given: FloatArray) -> Latent:
    """:func:`estimate_latent` with each ``clip_noise_rates`` step one compiled pass
    (:mod:`labelaudit.core._latent_kernels`); the results are equal."""
    from labelaudit.core import _latent_kernels as kernels
    from labelaudit.core._kernels import pairwise_plan

    k = prior_given.shape[0]
    ops, _ = pairwise_plan(np.array([k]))
    ones = np.ones(k)

    def inverse_of(
        a: FloatArray, scale: FloatArray, floor: FloatArray, out: FloatArray
    ) -> FloatArray:
        """Written into ``out`` transposed, so that the result has NumPy's layout."""
        kernels.rates_transposed(a, scale, floor, MAX_NOISE_RATE, TINY, ops, out)
        return out.T

    def noise_of(
        a: FloatArray, scale: FloatArray, floor: FloatArray, out: FloatArray
    ) -> FloatArray:
        kernels.rates(a, scale, floor, MAX_NOISE_RATE, TINY, out)
        return out

    # Three K x K buffers and no other K x K array: a fresh one costs page faults (at
    # K = 1000 about as much as a step). ``noise`` and ``inverse`` (stored transposed) are
    # rewritten by every step; ``work`` holds the joint, then the final noise matrix, and
    # the final inverse goes into ``noise``. A step never writes the array it reads.
    work = calibrated_joint.astype(np.float64)
    noise = np.empty((k, k))
    inverse = np.empty((k, k)).T
    true_counts = np.clip(calibrated_joint.sum(axis=0).astype(float), TINY, None)
    given_counts = np.clip(calibrated_joint.sum(axis=1).astype(float), TINY, None)
    diagonal = calibrated_joint.diagonal()
    prior = _prior_from_counts(prior_given, diagonal / true_counts, diagonal / given_counts)
    noise_of(work, ones, true_counts, noise)
    given_floor = np.clip(prior_given, TINY, None)
    for _ in range(3):
        for _ in range(5):
            inverse_of(noise, prior, given_floor, inverse.T)
            prior = _prior_from_counts(prior_given, noise.diagonal(), inverse.diagonal())
        noise_of(inverse.T, prior_given, np.clip(prior, TINY, None), noise)
    final_noise = noise_of(noise, ones, ones, work)
    return Latent(
        rescale_clipped(prior, CONVERGED_PRIOR_FLOOR, 1.0),
        _identity_empty_columns(final_noise),
        _identity_empty_columns(inverse_of(inverse.T, ones, ones, noise)),
    )
