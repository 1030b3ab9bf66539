"""Latent estimates from a calibrated confident joint: priors and the two noise matrices.

Notation: ``noise[i, j] = P(given=i | true=j)`` (columns sum to 1) and
``inverse[j, i] = P(true=j | given=i)`` (columns sum to 1, indexed [true, given]).
"""

from __future__ import annotations

from collections.abc import Callable
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
#: From this many classes the steps of the estimates run compiled (equal results; at
#: K = 1000 the NumPy steps took about 0.1 s).
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


class _Steps(NamedTuple):
    """The two steps of the estimates, each a :func:`clip_noise_rates` of a scaled matrix:
    ``inverse(a, scale, floor, out)`` is that of ``(a * scale).T / floor`` (the inverse
    noise matrix from the noise matrix ``a``), ``noise(a, scale, floor, out)`` that of
    ``(a.T * scale).T / floor`` (the noise matrix from the transposed inverse ``a``).
    ``out`` is a K x K buffer the step may write its result into (the compiled steps
    do; it is never ``a``)."""

    inverse: Callable[[FloatArray, FloatArray, FloatArray, FloatArray], FloatArray]
    noise: Callable[[FloatArray, FloatArray, FloatArray, FloatArray], FloatArray]


#: The steps in NumPy (the reference; they ignore ``out``).
_NUMPY_STEPS = _Steps(
    inverse=lambda a, scale, floor, out: clip_noise_rates((a * scale).T / floor),
    noise=lambda a, scale, floor, out: clip_noise_rates((a.T * scale).T / floor),
)


def _compiled_steps(k: int) -> _Steps:
    """The steps as one compiled pass each (:mod:`labelaudit.core._latent_kernels`), with
    NumPy's operations and order of summation: equal results. The inverse is written
    into ``out`` transposed, so that the result has NumPy's layout for it."""
    from labelaudit.core import _latent_kernels as kernels
    from labelaudit.core._kernels import pairwise_plan

    ops, _ = pairwise_plan(np.array([k]))

    def inverse(a: FloatArray, scale: FloatArray, floor: FloatArray, out: FloatArray) -> FloatArray:
        kernels.rates_transposed(a, scale, floor, MAX_NOISE_RATE, TINY, ops, out)
        return out.T

    def noise(a: FloatArray, scale: FloatArray, floor: FloatArray, out: FloatArray) -> FloatArray:
        kernels.rates(a, scale, floor, MAX_NOISE_RATE, TINY, out)
        return out

    return _Steps(inverse, noise)


def _prior_from_counts(
    prior_given: FloatArray, noise_diagonal: FloatArray, inverse_diagonal: FloatArray
) -> FloatArray:
    # P(true=k) = P(true=k | given=k) / P(given=k | true=k) * P(given=k)
    ratio = inverse_diagonal / np.clip(noise_diagonal, TINY, None)
    return rescale_clipped(ratio * prior_given, PRIOR_FLOOR, 1.0)


def _identity_empty_columns(matrix: FloatArray) -> FloatArray:
    """Give a column with no mass (a class never seen) the identity column, so columns sum to 1."""
    empty = ~(matrix.sum(axis=0) > 0)
    if empty.any():
        matrix = matrix.copy()
        matrix[:, empty] = 0.0
        matrix[empty, empty] = 1.0
    return matrix


def estimate_latent(calibrated_joint: IntArray, label_counts: IntArray) -> Latent:
    """Priors and noise matrices from a calibrated confident joint (rows = given label),
    made to agree with each other by fixed-point iterations.

    From :data:`COMPILED_FROM` classes on, each step is one compiled pass into three K x K
    buffers and no other K x K array: a fresh one costs page faults (at K = 1000 about as
    much as a step). ``noise`` and ``inverse`` (stored transposed) are rewritten by every
    step; ``work`` holds the joint, then the final noise matrix, and the final inverse
    goes into ``noise``. The NumPy steps ignore the buffers.
    """
    calibrated_joint = np.ascontiguousarray(calibrated_joint)  # one order of summation
    k = calibrated_joint.shape[0]
    steps = _compiled_steps(k) if k >= COMPILED_FROM else _NUMPY_STEPS
    prior_given = label_counts / float(label_counts.sum())
    given_floor = np.clip(prior_given, TINY, None)
    ones = np.ones(k)
    work = calibrated_joint.astype(np.float64)
    noise_buffer, inverse_buffer = np.empty((k, k)), np.empty((k, k))

    true_counts = np.clip(calibrated_joint.sum(axis=0).astype(float), TINY, None)
    given_counts = np.clip(calibrated_joint.sum(axis=1).astype(float), TINY, None)
    diagonal = calibrated_joint.diagonal()
    prior = _prior_from_counts(prior_given, diagonal / true_counts, diagonal / given_counts)
    noise = steps.noise(work, ones, true_counts, noise_buffer)
    for _ in range(3):
        for _ in range(5):
            inverse = steps.inverse(noise, prior, given_floor, inverse_buffer)
            prior = _prior_from_counts(prior_given, noise.diagonal(), inverse.diagonal())
        noise = steps.noise(inverse.T, prior_given, np.clip(prior, TINY, None), noise_buffer)
    final_noise = steps.noise(noise, ones, ones, work)
    return Latent(
        rescale_clipped(prior, CONVERGED_PRIOR_FLOOR, 1.0),
        _identity_empty_columns(final_noise),
        _identity_empty_columns(steps.inverse(inverse.T, ones, ones, noise_buffer)),
    )
