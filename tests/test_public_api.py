"""The public surface is explicit, and importing it stays light."""

from __future__ import annotations

import subprocess
import sys

import labelaudit
import labelaudit.noise


def test_all_is_pinned_and_sorted():
    assert labelaudit.__all__ == [
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
    assert labelaudit.noise.__all__ == [
        "Crowd",
        "generate_noise_matrix",
        "make_noisy_labels",
        "simulate_crowd",
    ]
    assert labelaudit.multilabel.__all__ == [
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
    for name in labelaudit.__all__:
        assert hasattr(labelaudit, name)
    from labelaudit import app

    assert app.__all__ == ["create_app", "reviewed_labels"]


def test_import_loads_no_heavy_dependency():
    code = (
        "import sys, labelaudit; "
        "heavy = [m for m in ('pandas', 'sklearn', 'scipy', 'dask', 'matplotlib', 'cleanlab', "
        "'flask') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_noise_estimate_to_frame():
    labels = [0, 0, 1, 1, 1]
    probs = [[0.9, 0.1], [0.2, 0.8], [0.1, 0.9], [0.3, 0.7], [0.2, 0.8]]
    frame = labelaudit.estimate_noise(labels, probs).to_frame()
    assert list(frame.columns) == [
        "given_label",
        "true_label",
        "count",
        "joint",
        "p_given_given_true",
        "p_true_given_given",
    ]
    assert len(frame) == 4
    assert frame["count"].sum() == 5
