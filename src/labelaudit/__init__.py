"""labelaudit: find mislabeled examples and explain the label noise.

The core follows confident learning (Northcutt, Jiang & Chuang, JAIR 2021): per-class
confidence thresholds, the confident joint of given vs. true labels, the noise matrix,
then ranking and pruning of likely label errors. Importing this package loads NumPy only.
"""

from typing import TYPE_CHECKING

from labelaudit import io, multilabel, noise
from labelaudit._annotators import AnnotatorAudit, analyze_annotators
from labelaudit._audit import Audit, audit
from labelaudit._count import (
    confident_joint,
    confident_thresholds,
    estimate_noise,
    num_label_issues,
)
from labelaudit._crossval import cross_val_pred_probs
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

if TYPE_CHECKING:
    from labelaudit._estimator import CleanClassifier

__version__ = "0.1.0"

__all__ = [
    "AnnotatorAudit",
    "Audit",
    "CleanClassifier",
    "FewExamplesWarning",
    "InvalidInputError",
    "LabelauditError",
    "LabelauditWarning",
    "NoiseEstimate",
    "__version__",
    "analyze_annotators",
    "audit",
    "confident_joint",
    "confident_thresholds",
    "cross_val_pred_probs",
    "estimate_noise",
    "find_label_issues",
    "io",
    "label_quality_scores",
    "mislabeled_probability",
    "multilabel",
    "noise",
    "num_label_issues",
    "rank_label_issues",
]


def __getattr__(name: str) -> object:
    # CleanClassifier subclasses scikit-learn's base classes: load them only when asked.
    if name == "CleanClassifier":
        from labelaudit._estimator import CleanClassifier

        return CleanClassifier
    raise AttributeError(f"module 'labelaudit' has no attribute {name!r}")
