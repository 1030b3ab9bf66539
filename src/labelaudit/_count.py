"""Public counting functions: thresholds, the confident joint, noise estimates, issue counts."""

from __future__ import annotations

import numpy as np

from labelaudit._inputs import prepare_input
from labelaudit._results import NoiseEstimate
from labelaudit._typing import CountMethod, Engine, FloatArray, IntArray, LabelsLike, ProbsLike
from labelaudit._validation import check_flag, check_option
from labelaudit.core import joint as core_joint
from labelaudit.core.joint import TINY
from labelaudit.core.latent import estimate_latent
from labelaudit.engines._inmemory import Extent, Prepared, joint_of
from labelaudit.engines._streaming import StreamPrepared

COUNT_METHODS = ("off_diagonal", "off_diagonal_calibrated", "posterior")


#: What the streaming engines collect in their first passes for each counting method.
COUNT_NEEDS = {
    "off_diagonal": frozenset({"wins"}),
    "off_diagonal_calibrated": frozenset(),
    "posterior": frozenset({"sample"}),
}


def prepared(
    labels: LabelsLike,
    pred_probs: ProbsLike,
    n_classes: int | None,
    extent: Extent = "joint",
    engine: Engine = "auto",
    needs: frozenset[str] = frozenset(),
) -> Prepared | StreamPrepared:
    """Validate the inputs, choose the engine and run its first pass(es) over them."""
    return prepare_input(labels, pred_probs, n_classes, engine, extent, needs)


def confident_thresholds(
    labels: LabelsLike,
    pred_probs: ProbsLike,
    *,
    n_classes: int | None = None,
    engine: Engine = "auto",
) -> FloatArray:
    """Per-class confidence thresholds: the mean probability of class k among examples labeled k.

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
    ndarray of shape (n_classes,), float64
        The thresholds. A class absent from ``labels`` gets 2.0, which no probability passes.

    Examples
    --------
    >>> import labelaudit
    >>> labels = [0, 0, 1, 1]
    >>> pred_probs = [[0.9, 0.1], [0.7, 0.3], [0.2, 0.8], [0.6, 0.4]]
    >>> labelaudit.confident_thresholds(labels, pred_probs)
    array([0.8, 0.6])
    """
    thresholds = prepared(labels, pred_probs, n_classes, "thresholds", engine).thresholds
    assert thresholds is not None  # computed for extent "thresholds"
    return thresholds.astype(np.float64)


def confident_joint(
    labels: LabelsLike,
    pred_probs: ProbsLike,
    *,
    calibrate: bool = True,
    n_classes: int | None = None,
    engine: Engine = "auto",
) -> IntArray:
    """Count examples by given label (rows) and confidently estimated true label (columns).

    An example counts in column ``j`` when ``pred_probs[i, j]`` reaches class ``j``'s
    threshold; when several classes reach theirs, the most probable of those is taken.
    Examples that reach no threshold are not counted. Each diagonal cell is at least 1.

    Parameters
    ----------
    labels : array-like of shape (n_samples,)
        Given labels, integers in ``[0, n_classes)``.
    pred_probs : array-like of shape (n_samples, n_classes)
        Out-of-sample predicted probabilities.
    calibrate : bool, default=True
        Rescale each row to the number of examples with that label (and the total to N),
        rounding to integers while keeping the row totals.
    n_classes : int, optional
        Number of classes; defaults to the number of columns of ``pred_probs``.
    engine : {"auto", "numpy", "streaming", "dask"}, default="auto"
        How to read ``pred_probs``: in memory, in blocks from a file or chunk source, or on
        a Dask cluster; ``auto`` picks by input type (see ``docs/engines.md``). Results are
        equal whichever engine runs.

    Returns
    -------
    ndarray of shape (n_classes, n_classes), int64
        The confident joint.

    Examples
    --------
    >>> import labelaudit
    >>> labels = [0, 0, 0, 1, 1, 1]
    >>> pred_probs = [[0.9, 0.1], [0.8, 0.2], [0.1, 0.9],
    ...               [0.2, 0.8], [0.3, 0.7], [0.1, 0.9]]
    >>> labelaudit.confident_joint(labels, pred_probs, calibrate=False)
    array([[2, 1],
           [0, 2]])

    The example ``[0.3, 0.7]`` passes neither threshold (0.6 and 0.8), so it is not counted;
    calibration scales each row back to its number of labels:

    >>> labelaudit.confident_joint(labels, pred_probs)
    array([[2, 1],
           [0, 3]])
    """
    calibrate = check_flag("calibrate", calibrate)
    prep = prepared(labels, pred_probs, n_classes, "joint", engine)
    raw = joint_of(prep).joint
    return core_joint.calibrate(raw, prep.counts) if calibrate else raw


def estimate_noise(
    labels: LabelsLike,
    pred_probs: ProbsLike,
    *,
    n_classes: int | None = None,
    engine: Engine = "auto",
) -> NoiseEstimate:
    """Estimate the joint of given and true labels, the noise matrices and the priors.

    Parameters
    ----------
    labels : array-like of shape (n_samples,)
        Given labels, integers in ``[0, n_classes)``.
    pred_probs : array-like of shape (n_samples, n_classes)
        Out-of-sample predicted probabilities.
    n_classes : int, optional
        Number of classes; defaults to the number of columns of ``pred_probs``.
    engine : {"auto", "numpy", "streaming", "dask"}, default="auto"
        How to read ``pred_probs``: in memory, in blocks from a file or chunk source, or on
        a Dask cluster; ``auto`` picks by input type (see ``docs/engines.md``). Results are
        equal whichever engine runs.

    Returns
    -------
    NoiseEstimate
        The calibrated confident joint, the joint distribution, ``noise_matrix``
        P(given | true), ``inverse_noise_matrix`` P(true | given) and both priors.

    Examples
    --------
    >>> import labelaudit
    >>> labels = [0, 0, 0, 1, 1, 1]
    >>> pred_probs = [[0.9, 0.1], [0.8, 0.2], [0.1, 0.9],
    ...               [0.2, 0.8], [0.3, 0.7], [0.1, 0.9]]
    >>> est = labelaudit.estimate_noise(labels, pred_probs)
    >>> est.confident_joint
    array([[2, 1],
           [0, 3]])
    >>> est.noise_matrix.sum(axis=0)
    array([1., 1.])
    """
    return noise_of(prepared(labels, pred_probs, n_classes, "joint", engine))


def noise_of(prep: Prepared | StreamPrepared) -> NoiseEstimate:
    """:func:`estimate_noise` on prepared inputs."""
    calibrated = core_joint.calibrate(joint_of(prep).joint, prep.counts)
    latent = estimate_latent(calibrated, prep.counts)
    return NoiseEstimate(
        confident_joint=calibrated,
        joint=calibrated / np.clip(float(np.sum(calibrated)), TINY, None),
        noise_matrix=latent.noise_matrix,
        inverse_noise_matrix=latent.inverse_noise_matrix,
        prior_true=latent.prior_true,
        prior_given=prep.counts / float(prep.labels.shape[0]),
        thresholds=np.asarray(prep.thresholds, dtype=np.float64),
    )


def count_issues(prep: Prepared | StreamPrepared, method: str) -> int:
    """:func:`num_label_issues` on prepared inputs."""
    if method == "posterior":
        return int(np.rint(prep.mislabeled_stats().total))
    counted = joint_of(prep)
    if method == "off_diagonal":
        return int(np.count_nonzero(prep.without_label_wins(counted.off_diagonal)))
    calibrated = core_joint.calibrate(counted.joint, prep.counts)
    joint = calibrated / np.clip(float(np.sum(calibrated)), TINY, None)
    return int(np.rint((1.0 - joint.trace()) * prep.labels.shape[0]))


def num_label_issues(
    labels: LabelsLike,
    pred_probs: ProbsLike,
    *,
    method: CountMethod = "off_diagonal",
    n_classes: int | None = None,
    engine: Engine = "auto",
) -> int:
    """Estimate how many examples are mislabeled.

    Parameters
    ----------
    labels : array-like of shape (n_samples,)
        Given labels, integers in ``[0, n_classes)``.
    pred_probs : array-like of shape (n_samples, n_classes)
        Out-of-sample predicted probabilities.
    method : {"off_diagonal", "off_diagonal_calibrated", "posterior"}, default="off_diagonal"
        ``off_diagonal`` counts the examples off the diagonal of the confident joint
        (less those whose label is the model's argmax), the number flagged by
        ``find_label_issues(method="confident_learning")``. ``off_diagonal_calibrated``
        is N times the off-diagonal mass of the calibrated joint. ``posterior``: the sum of
        :func:`mislabeled_probability`, rounded (see ``docs/diagnosis.md``).
    n_classes : int, optional
        Number of classes; defaults to the number of columns of ``pred_probs``.
    engine : {"auto", "numpy", "streaming", "dask"}, default="auto"
        How to read ``pred_probs``: in memory, in blocks from a file or chunk source, or on
        a Dask cluster; ``auto`` picks by input type (see ``docs/engines.md``). Results are
        equal whichever engine runs.

    Returns
    -------
    int
        The estimated number of label issues.

    Examples
    --------
    >>> import labelaudit
    >>> labels = [0, 0, 0, 1, 1, 1]
    >>> pred_probs = [[0.9, 0.1], [0.8, 0.2], [0.1, 0.9],
    ...               [0.2, 0.8], [0.3, 0.7], [0.1, 0.9]]
    >>> labelaudit.num_label_issues(labels, pred_probs)
    1
    """
    method = check_option("method", method, COUNT_METHODS)
    extent: Extent = "check" if method == "posterior" else "joint"
    return count_issues(
        prepared(labels, pred_probs, n_classes, extent, engine, COUNT_NEEDS[method]), method
    )
