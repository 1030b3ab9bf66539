"""Quick start: plant label noise in a real dataset, then let labelaudit find it.

Run with ``.venv/bin/python examples/quickstart.py`` (after ``make demo`` or ``make test``
has set up ``.venv``). Uses scikit-learn's bundled digits images (no download): a
logistic regression gives out-of-sample probabilities by 5-fold cross-validation, 12% of
the labels are corrupted with a known noise matrix, and labelaudit estimates the noise
and flags the corrupted examples.
"""

from __future__ import annotations

import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import labelaudit
from labelaudit.noise import generate_noise_matrix, make_noisy_labels


def main() -> None:
    rng = np.random.default_rng(0)
    X, true_labels = load_digits(return_X_y=True)
    k = 10
    planted = generate_noise_matrix(k, trace=0.88 * k, frac_zero_noise_rates=0.8, random_state=rng)
    labels = make_noisy_labels(true_labels, planted, random_state=rng)
    is_error = labels != true_labels

    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    pred_probs = cross_val_predict(model, X, labels, cv=5, method="predict_proba")

    noise = labelaudit.estimate_noise(labels, pred_probs)
    issues = labelaudit.find_label_issues(labels, pred_probs)
    ranked = labelaudit.rank_label_issues(labels, pred_probs)
    found = int((issues & is_error).sum())

    print(f"digits: {len(labels)} images, {k} classes, {is_error.sum()} labels corrupted")
    print(f"estimated number of label issues: {labelaudit.num_label_issues(labels, pred_probs)}")
    print(
        f"flagged {issues.sum()} examples: {found} are real errors "
        f"(precision {found / max(1, issues.sum()):.2f}, recall {found / is_error.sum():.2f})"
    )
    print("\nlargest noise rates P(given=i | true=j): estimated vs planted")
    off = np.argwhere(~np.eye(k, dtype=bool))
    order = np.argsort(-noise.noise_matrix[off[:, 0], off[:, 1]])[:5]
    for i, j in off[order]:
        print(
            f"  true {j} labeled {i}: {noise.noise_matrix[i, j]:.3f} (planted {planted[i, j]:.3f})"
        )
    print("\nten most likely label errors (position: given label -> model's guess)")
    for idx in ranked[:10]:
        verdict = "real error" if is_error[idx] else "label was right"
        guess = int(pred_probs[idx].argmax())
        print(f"  #{idx}: {labels[idx]} -> {guess}  ({verdict})")


if __name__ == "__main__":
    main()
