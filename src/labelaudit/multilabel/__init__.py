"""Label issues in multi-label data, where each example may have several classes or none.

Each class is a one-vs-rest binary problem (tagged or not, with pred_probs ``[1 - p, p]``),
audited by confident learning; the results are equal to cleanlab 2.9's
``multilabel_classification`` for every method and score it has.
"""

from labelaudit.multilabel._audit import MultilabelAudit, audit
from labelaudit.multilabel._crossval import cross_val_pred_probs
from labelaudit.multilabel._multilabel import (
    class_noise,
    find_label_issues,
    find_label_issues_per_class,
    label_quality_scores,
    label_quality_scores_per_class,
    rank_label_issues,
)

__all__ = [
    "MultilabelAudit",
    "audit",
    "class_noise",
    "cross_val_pred_probs",
    "find_label_issues",
    "find_label_issues_per_class",
    "label_quality_scores",
    "label_quality_scores_per_class",
    "rank_label_issues",
]
