"""Synthetic label noise with cross-validated pred_probs, shared by the benchmarks."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from sklearn.datasets import load_digits, make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from labelaudit.noise import generate_noise_matrix, make_noisy_labels

NOISES = (0.1, 0.2, 0.4)
SPARSITIES = (0.0, 0.6)


@dataclass(frozen=True)
class NoisyCase:
    data: str
    setting: str
    seed: int
    labels: np.ndarray
    pred_probs: np.ndarray
    true_labels: np.ndarray


def base_datasets() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """scikit-learn's digits and make_classification with K = 5 and 10 (two clusters per
    class: logistic regression agrees with only 36-57% of the given labels there), and a
    separable make_classification (one cluster per class) where the model learns the
    classes, as confident learning assumes."""
    datasets = {"digits": load_digits(return_X_y=True)}
    for k in (5, 10):
        datasets[f"make_classification K={k}"] = make_classification(
            n_samples=3000, n_features=20, n_informative=12, n_classes=k, random_state=0
        )
    datasets["make_classification K=10 separable"] = separable(3000, random_state=0)
    return datasets


def separable(n_samples: int, random_state: int) -> tuple[np.ndarray, np.ndarray]:
    """make_classification with one well-separated cluster per class (K = 10)."""
    return make_classification(
        n_samples=n_samples,
        n_features=20,
        n_informative=15,
        n_classes=10,
        n_clusters_per_class=1,
        class_sep=2.0,
        random_state=random_state,
    )


def cv_pred_probs(X: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """5-fold out-of-sample probabilities of a scaled logistic regression."""
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    return cross_val_predict(model, X, labels, cv=5, method="predict_proba")


def noisy_cases(seeds: int) -> Iterator[NoisyCase]:
    """Every base dataset x noise level x sparsity x seed, noise from labelaudit.noise."""
    for name, (X, y) in base_datasets().items():
        k = int(y.max()) + 1
        for noise in NOISES:
            for sparsity in SPARSITIES:
                for seed in range(seeds):
                    rng = np.random.default_rng(seed)
                    m = generate_noise_matrix(
                        k, trace=k * (1 - noise), frac_zero_noise_rates=sparsity, random_state=rng
                    )
                    labels = make_noisy_labels(y, m, random_state=rng)
                    setting = f"noise={noise} sparsity={sparsity}"
                    yield NoisyCase(name, setting, seed, labels, cv_pred_probs(X, labels), y)
