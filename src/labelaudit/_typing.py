"""Type aliases shared across the package (options are ``Literal`` names)."""

from __future__ import annotations

import os
from typing import Any, Literal, TypeAlias

import numpy as np
import numpy.typing as npt

FilterMethod: TypeAlias = Literal[
    "prune_by_noise_rate",
    "prune_by_class",
    "both",
    "confident_learning",
    "predicted_neq_given",
    "low_self_confidence",
    "low_normalized_margin",
    "posterior",
]
ScoreMethod: TypeAlias = Literal[
    "self_confidence",
    "normalized_margin",
    "confidence_weighted_entropy",
]
Engine: TypeAlias = Literal["auto", "numpy", "streaming", "dask"]
CountMethod: TypeAlias = Literal["off_diagonal", "off_diagonal_calibrated", "posterior"]

FloatArray: TypeAlias = npt.NDArray[np.floating[Any]]
IntArray: TypeAlias = npt.NDArray[np.int64]
BoolArray: TypeAlias = npt.NDArray[np.bool_]

#: What users may pass as labels: anything ``numpy.asarray`` turns into a 1-D array, a
#: ``.npy`` path, a dask array, or None with a chunk source that carries its labels.
LabelsLike: TypeAlias = npt.ArrayLike | str | os.PathLike[str] | None
#: What users may pass as predicted probabilities: an array-like, a path to a ``.npy`` or
#: table file, a chunk source, a function returning chunks, or a dask array (the engines
#: check which; see ``_inputs.kind_of``).
ProbsLike: TypeAlias = Any
