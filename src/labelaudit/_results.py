"""Result objects: frozen dataclasses whose arrays are read-only."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

import numpy as np

from labelaudit._typing import FloatArray, IntArray

if TYPE_CHECKING:
    import pandas as pd


def import_pandas() -> Any:
    """Import pandas lazily, with an install hint."""
    try:
        import pandas
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("This needs pandas: pip install pandas.") from exc
    return pandas


@dataclass(frozen=True)
class NoiseEstimate:
    """Confident-learning estimates of the label noise in a dataset of K classes.

    Attributes
    ----------
    confident_joint : ndarray of shape (K, K), int
        Calibrated confident joint: entry ``[i, j]`` counts examples labeled ``i`` whose
        true label is estimated to be ``j``. Row ``i`` sums to the number of examples
        labeled ``i``; the whole matrix sums to N.
    joint : ndarray of shape (K, K)
        ``confident_joint / N``: the estimated joint distribution P(given=i, true=j).
    noise_matrix : ndarray of shape (K, K)
        P(given=i | true=j) at ``[i, j]``; every column sums to 1. Its off-diagonal
        entries are the noise rates.
    inverse_noise_matrix : ndarray of shape (K, K)
        P(true=j | given=i) at ``[j, i]``; every column sums to 1.
    prior_true : ndarray of shape (K,)
        Estimated P(true=j).
    prior_given : ndarray of shape (K,)
        Observed P(given=i): the label frequencies.
    thresholds : ndarray of shape (K,)
        Per-class confidence thresholds used to count the joint.
    """

    confident_joint: IntArray
    joint: FloatArray
    noise_matrix: FloatArray
    inverse_noise_matrix: FloatArray
    prior_true: FloatArray
    prior_given: FloatArray
    thresholds: FloatArray

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray):
                value.setflags(write=False)

    @property
    def n_classes(self) -> int:
        """Number of classes K."""
        return int(self.confident_joint.shape[0])

    def to_frame(self) -> pd.DataFrame:
        """One row per (given, true) class pair with its count, joint and noise rates.

        Returns
        -------
        pandas.DataFrame
            Columns ``given_label``, ``true_label``, ``count``, ``joint``,
            ``p_given_given_true`` (the noise rate when labels differ) and
            ``p_true_given_given``.
        """
        pd = import_pandas()
        given, true = np.indices((self.n_classes, self.n_classes))
        return pd.DataFrame(
            {
                "given_label": given.ravel(),
                "true_label": true.ravel(),
                "count": self.confident_joint.ravel(),
                "joint": self.joint.ravel(),
                "p_given_given_true": self.noise_matrix.ravel(),
                "p_true_given_given": self.inverse_noise_matrix.T.ravel(),
            }
        )
