"""Does cleaning the labels buy more accuracy than tuning the model?

    .venv/bin/python benchmarks/cleaning_vs_tuning.py [--seeds 5] [--jobs 2]

Datasets bundled with scikit-learn (digits, wine, breast_cancer) and make_classification
(K = 5 and 10, n = 2000). Training labels corrupted with labelaudit.noise at 10/20/40%
noise and sparsity 0/0.6; 30% of the rows held out with their clean labels. Test
accuracy of:

(a) base: StandardScaler + LogisticRegression on the noisy labels;
(b) searched: GridSearchCV (3 folds) over logistic regression (C in 0.1, 1, 10), a random
    forest (300 trees) and histogram gradient boosting, on the noisy labels;
(c) cleanlab 2.9.0 CleanLearning around the base model;
(d) labelaudit CleanClassifier around the base model (defaults: the base model detects,
    examples with p_mislabeled >= 0.5 are dropped, the base model is refitted);
(e) CleanClassifier around the search of (b), with (b)'s best model as the detector.

Every method sees the same noisy training labels per (dataset, noise, sparsity, seed).
"""

from __future__ import annotations

import argparse
import warnings
from typing import Any

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_digits, load_wine, make_classification
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import labelaudit as la
from labelaudit.noise import generate_noise_matrix, make_noisy_labels

METHODS = ("base", "searched", "cleanlab", "clean", "clean+searched")


def datasets() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    data = {
        "digits": load_digits(return_X_y=True),
        "wine": load_wine(return_X_y=True),
        "breast_cancer": load_breast_cancer(return_X_y=True),
    }
    for k in (5, 10):
        data[f"make_classification K={k}"] = make_classification(
            n_samples=2000, n_features=20, n_informative=12, n_classes=k, random_state=0
        )
    return data


def base_model() -> Pipeline:
    return Pipeline([("scale", StandardScaler()), ("model", LogisticRegression(max_iter=2000))])


def search(seed: int) -> GridSearchCV:
    grid = [
        {"model": [LogisticRegression(max_iter=2000)], "model__C": [0.1, 1.0, 10.0]},
        {"model": [RandomForestClassifier(300, random_state=seed)]},
        {"model": [HistGradientBoostingClassifier(random_state=seed)]},
    ]
    return GridSearchCV(base_model(), grid, cv=3)


def one_run(name: str, X: np.ndarray, y: np.ndarray, noise: float, sparsity: float, seed: int):
    from cleanlab.classification import CleanLearning

    warnings.simplefilter("ignore")
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, stratify=y, random_state=seed)
    k = int(y.max()) + 1
    prior = np.bincount(y_tr, minlength=k) / y_tr.size
    matrix = generate_noise_matrix(
        k,
        trace=k * (1 - noise),
        frac_zero_noise_rates=sparsity,
        prior=prior,
        random_state=seed,
    )
    noisy = make_noisy_labels(y_tr, matrix, random_state=seed)
    searched = search(seed).fit(X_tr, noisy)
    models: dict[str, Any] = {
        "base": base_model(),
        "searched": searched,
        # n_jobs=1: cleanlab's own process pool fails inside joblib's worker processes
        "cleanlab": CleanLearning(
            base_model(), seed=seed, verbose=False, find_label_issues_kwargs={"n_jobs": 1}
        ),
        "clean": la.CleanClassifier(base_model(), random_state=seed),
        "clean+searched": la.CleanClassifier(
            search(seed), detector=clone(searched.best_estimator_), random_state=seed
        ),
    }
    row: dict[str, Any] = {
        "data": name,
        "noise": noise,
        "sparsity": sparsity,
        "seed": seed,
        "actual_noise": float((noisy != y_tr).mean()),
        "best": type(searched.best_estimator_.named_steps["model"]).__name__,
    }
    for method, model in models.items():
        if method != "searched":
            model.fit(X_tr, noisy)
        row[method] = float((model.predict(X_te) == y_te).mean())
    return row


def summarize(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    groups: dict[tuple[str, float, float], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["data"], r["noise"], r["sparsity"]), []).append(r)
    out = []
    for (data, noise, sparsity), rs in groups.items():
        row: dict[str, Any] = {"data": data, "noise": noise, "sparsity": sparsity}
        for m in METHODS:
            row[m] = float(np.mean([r[m] for r in rs]))
        row["d>=c"] = row["clean"] >= row["cleanlab"]
        row["d>b"] = row["clean"] > row["searched"]
        row["e>b"] = row["clean+searched"] > row["searched"]
        out.append(row)
    return out


def print_table(rows: list[dict[str, Any]]) -> None:
    keys = list(rows[0])
    print("| " + " | ".join(keys) + " |")
    print("|" + "---|" * len(keys))
    for r in rows:
        print(
            "| "
            + " | ".join(f"{r[k]:.3f}" if isinstance(r[k], float) else str(r[k]) for k in keys)
            + " |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    tasks = [
        delayed(one_run)(name, X, y, noise, sparsity, seed)
        for name, (X, y) in datasets().items()
        for noise in (0.1, 0.2, 0.4)
        for sparsity in (0.0, 0.6)
        for seed in range(args.seeds)
    ]
    rows = Parallel(n_jobs=args.jobs, verbose=0)(tasks)
    table = summarize(rows)
    print(f"Test accuracy against clean labels, mean over {args.seeds} seeds\n")
    print_table(table)
    print(
        "\nMean over all settings: "
        + ", ".join(f"{m} {np.mean([r[m] for r in table]):.3f}" for m in METHODS)
    )
    heavy = [r for r in table if r["noise"] >= 0.2]
    d_mean, c_mean = (np.mean([r[m] for r in table]) for m in ("clean", "cleanlab"))
    print(
        f"(d) >= (c) on average: {d_mean >= c_mean}; "
        f"(d) > (b) in {sum(r['d>b'] for r in heavy)} of {len(heavy)} settings with >= 20% noise; "
        f"(e) > (b) in {sum(r['e>b'] for r in table)} of {len(table)} settings"
    )
    best = {}
    for r in rows:
        best[r["best"]] = best.get(r["best"], 0) + 1
    print(f"Model family chosen by the search: {best}")


if __name__ == "__main__":
    main()
