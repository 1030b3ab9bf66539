"""labelaudit: find mislabeled examples and explain the label noise.

The core follows confident learning (Northcutt, Jiang & Chuang, JAIR 2021): per-class
confidence thresholds, the confident joint of given vs. true labels, the noise matrix,
then ranking and pruning of likely label errors. Importing this package loads NumPy only.
"""

from labelaudit import noise
from labelaudit._audit import Audit, audit
from labelaudit._count import (
    confident_joint,
    confident_thresholds,
    estimate_noise,
    num_label_issues,
)
from labelaudit._filter import find_label_issues, rank_label_issues
from labelaudit._probability import mislabeled_probability
from labelaudit._rank import label_quality_scores
from labelaudit._results import NoiseEstimate
from labelaudit.exceptions import (
    FewExamplesWarning,
    InvalidInputError,
    LabelauditError,
    LabelauditWarning,
)

__version__ = "0.1.0"

__all__ = [
    "Audit",
    "FewExamplesWarning",
    "InvalidInputError",
    "LabelauditError",
    "LabelauditWarning",
    "NoiseEstimate",
    "__version__",
    "audit",
    "confident_joint",
    "confident_thresholds",
    "estimate_noise",
    "find_label_issues",
    "label_quality_scores",
    "mislabeled_probability",
    "noise",
    "num_label_issues",
    "rank_label_issues",
]
