"""Public: the calibrated probability that each given label is wrong."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from labelaudit._typing import Engine, FloatArray, IntArray, LabelsLike, ProbsLike
from labelaudit._validation import check_inputs, check_option
from labelaudit.core import posterior as core_posterior
from labelaudit.engines._inmemory import prepare


@dataclass(frozen=True)
class FittedPosterior:
    """Validated inputs with the fitted sharpness and noise channel of the posterior."""

    labels: IntArray
    pred_probs: FloatArray
    n_classes: int
    power: float
    channel: FloatArray


def fit_posterior(
    labels: IntArray, pred_probs: FloatArray, n_classes: int, *, checked: bool = False
) -> FittedPosterior:
    """Check pred_probs' rows (unless ``checked``), then fit the sharpness and the channel."""
    if not checked:
        prepare(labels, pred_probs, n_classes, "check")
    power = core_posterior.fit_power(labels, pred_probs, n_classes)
    noise = core_posterior.sharpened_channel(labels, pred_probs, n_classes, power)
    return FittedPosterior(labels, pred_probs, n_classes, power, noise)


def mislabeled_probability(
    labels: LabelsLike,
    pred_probs: ProbsLike,
    *,
    n_classes: int | None = None,
    engine: Engine = "auto",
) -> FloatArray:
    """The probability that each example's given label is wrong, calibrated.

    The true class is modeled as a sharpened version of ``pred_probs`` (one sharpness for
    the whole dataset, chosen by maximum likelihood of the given labels) and the given
    label as drawn through a class-level noise channel estimated from the same data; the
    result is ``1 - P(true = given | pred_probs, given)``. Its sum estimates the number of
    label errors. See ``docs/diagnosis.md`` for the model and its measured calibration.

    Parameters
    ----------
    labels : array-like of shape (n_samples,)
        Given labels, integers in ``[0, n_classes)``.
    pred_probs : array-like of shape (n_samples, n_classes)
        Out-of-sample predicted probabilities (for example from cross-validation).
    n_classes : int, optional
        Number of classes; defaults to the number of columns of ``pred_probs``.
    engine : {"auto", "numpy", "streaming", "dask"}, default="auto"
        How to read ``pred_probs``: in memory, in blocks from a file or chunk source, or on
        a Dask cluster; ``auto`` picks by input type (see ``docs/engines.md``). Results are
        equal whichever engine runs.

    Returns
    -------
    ndarray of shape (n_samples,), float64
        Values in [0, 1].

    Examples
    --------
    >>> import labelaudit
    >>> labels = [0, 0, 0, 0, 1, 1, 1, 1]
    >>> pred_probs = [[0.9, 0.1], [0.8, 0.2], [0.9, 0.1], [0.1, 0.9],
    ...               [0.2, 0.8], [0.1, 0.9], [0.3, 0.7], [0.2, 0.8]]
    >>> p = labelaudit.mislabeled_probability(labels, pred_probs)
    >>> int(p.argmax()), bool(p[3] > 0.5), bool(p[[0, 1, 2]].max() < 0.1)
    (3, True, True)
    """
    from labelaudit._inputs import ENGINES, kind_of, prepare_input

    chosen = check_option("engine", engine, ENGINES)
    if (kind_of(pred_probs) if chosen == "auto" else chosen) == "numpy":
        return probability_of(*check_inputs(labels, pred_probs, n_classes))
    prep = prepare_input(labels, pred_probs, n_classes, chosen, "check", frozenset({"sample"}))
    return prep.mislabeled_probability()


def probability_of(
    labels: IntArray, pred_probs: FloatArray, n_classes: int, *, checked: bool = False
) -> FloatArray:
    """:func:`mislabeled_probability` on validated inputs."""
    fit = fit_posterior(labels, pred_probs, n_classes, checked=checked)
    out: FloatArray = core_posterior.mislabeled_probability(
        fit.labels, fit.pred_probs, fit.power, fit.channel
    )
    return np.asarray(out, dtype=np.float64)
