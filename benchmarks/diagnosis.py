"""Diagnosis quality: calibration of p_mislabeled, verdicts and suggested labels.

    .venv/bin/python benchmarks/diagnosis.py [--data ../shared/data] [--seeds 2] [--pairs-seeds 20]

1. Calibration on the fully human-verified files (and the labelerrors_* files, whose
   unchecked examples count as correct): expected calibration error (15 equal-width bins)
   of ``p_mislabeled`` and its sum against the true number of errors, next to two
   references: 1 - self-confidence read as a probability, and the plain Bayes posterior
   P(true | given) proportional to pred_probs[true] * noise_matrix[given, true] through
   confident learning's estimated noise matrix.
2. The suggested label among the flagged examples against the true label, next to the
   argmax of pred_probs (CIFAR-10N, roman_numeral: files whose true labels are known).
3. CIFAR-10N: the pairs called systematic next to the pairs whose true rate
   P(given | true), counted from the clean labels, is at least 10%.
4. Synthetic noise (labelaudit.noise, 5-fold logistic regression) on digits and
   make_classification: ECE and sum ratio per noise level.
5. Planted confusions: 3 pairs at 10-30% over background pairs at 1-2%, over
   ``--pairs-seeds`` seeds: pair-level precision and recall of the systematic verdict.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from _synthetic import cv_pred_probs, noisy_cases, separable
from sklearn.datasets import load_digits

import labelaudit as la

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
VERIFIED = ("cifar10n_aggre", "cifar10n_worst", "roman_numeral", "cifar10h_cifar10test")


def ece(prob: np.ndarray, outcome: np.ndarray, bins: int = 15) -> float:
    """Expected calibration error with equal-width bins."""
    which = np.minimum((prob * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            total += inside.mean() * abs(prob[inside].mean() - outcome[inside].mean())
    return float(total)


def bayes_reference(labels: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """1 - P(true = given) with P(true j | given i) proportional to p_j * noise[i, j]."""
    noise = np.asarray(la.estimate_noise(labels, probs).noise_matrix, dtype=np.float64)
    post = probs.astype(np.float64) * noise[labels, :]
    totals = post.sum(axis=1, keepdims=True)
    post = np.divide(post, totals, out=np.zeros_like(post), where=totals > 0)
    return 1.0 - post[np.arange(labels.size), labels]


def calibration_rows(data_dir: Path) -> list[dict[str, Any]]:
    rows = []
    for path in sorted(data_dir.glob("*.npz")):
        d = np.load(path)
        if "pred_probs" not in d.files:
            continue
        labels, probs, err = d["labels"], d["pred_probs"], d["is_error"].astype(float)
        start = time.perf_counter()
        p = la.mislabeled_probability(labels, probs)
        seconds = time.perf_counter() - start
        self_conf = 1.0 - probs[np.arange(labels.size), labels].astype(np.float64)
        bayes = bayes_reference(labels, probs)
        rows.append(
            {
                "data": path.stem + ("" if path.stem in VERIFIED else " (unchecked = correct)"),
                "ece": ece(p, err),
                "ece_1-self_conf": ece(self_conf, err),
                "ece_bayes": ece(bayes, err),
                "n_true": int(err.sum()),
                "sum_p": float(p.sum()),
                "sum/true": float(p.sum() / max(err.sum(), 1)),
                "sum_bayes/true": float(bayes.sum() / max(err.sum(), 1)),
                "seconds": seconds,
            }
        )
    return rows


def suggestion_rows(data_dir: Path) -> list[dict[str, Any]]:
    rows = []
    for stem in ("cifar10n_aggre", "cifar10n_worst", "roman_numeral"):
        path = data_dir / f"{stem}.npz"
        if not path.exists():
            continue
        d = np.load(path)
        labels, probs, true = d["labels"], d["pred_probs"], d["true_labels"]
        issues = la.audit(labels, probs).issues
        flagged = issues["is_issue"].to_numpy()
        known = flagged & (true >= 0)
        suggested = issues["suggested_label"].cat.codes.to_numpy()
        rows.append(
            {
                "data": stem,
                "flagged": int(flagged.sum()),
                "with_true_label": int(known.sum()),
                "acc_suggested": float((suggested[known] == true[known]).mean()),
                "acc_argmax": float((probs.argmax(axis=1)[known] == true[known]).mean()),
            }
        )
    return rows


def true_rates(labels: np.ndarray, true: np.ndarray, k: int) -> np.ndarray:
    counts = np.zeros((k, k))
    np.add.at(counts, (true, labels), 1)
    return counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)


def cifar_pair_rows(data_dir: Path) -> list[dict[str, Any]]:
    rows = []
    for stem in ("cifar10n_aggre", "cifar10n_worst"):
        path = data_dir / f"{stem}.npz"
        if not path.exists():
            continue
        d = np.load(path)
        labels, probs, true = d["labels"], d["pred_probs"], d["true_labels"]
        names = [str(c) for c in d["class_names"]]
        result = la.audit(labels, probs, class_names=names)
        pairs = result.class_pairs
        called = pairs[pairs["verdict"] == "systematic"]
        rates = true_rates(labels, true, len(names))
        strong = [
            (names[t], names[g], rates[t, g])
            for t in range(len(names))
            for g in range(len(names))
            if t != g and rates[t, g] >= 0.10
        ]
        estimated = {(str(r.true_label), str(r.given_label)): r.rate for r in pairs.itertuples()}
        rows.append(
            {
                "data": stem,
                "called_systematic": ", ".join(
                    f"{r.true_label}->{r.given_label} {r.rate:.1%} (true "
                    f"{rates[names.index(str(r.true_label)), names.index(str(r.given_label))]:.1%})"
                    for r in called.itertuples()
                )
                or "none",
                "true_rate_at_least_10%": ", ".join(
                    f"{t}->{g} {r:.1%} (est. {estimated[(t, g)]:.1%})" for t, g, r in strong
                )
                or "none",
                "background": result.background_rate,
            }
        )
    return rows


def synthetic_rows(seeds: int) -> list[dict[str, Any]]:
    groups: dict[tuple[str, float], list[tuple[float, float]]] = {}
    for case in noisy_cases(seeds):
        err = (case.labels != case.true_labels).astype(float)
        p = la.mislabeled_probability(case.labels, case.pred_probs)
        noise = float(case.setting.split()[0].split("=")[1])
        groups.setdefault((case.data, noise), []).append((ece(p, err), p.sum() / err.sum()))
    return [
        {
            "data": data,
            "noise": noise,
            "runs": len(v),
            "ece": float(np.mean([e for e, _ in v])),
            "sum/true": float(np.mean([r for _, r in v])),
            "sum/true min": float(min(r for _, r in v)),
            "sum/true max": float(max(r for _, r in v)),
        }
        for (data, noise), v in groups.items()
    ]


def planted_noise(rng: np.random.Generator, k: int) -> tuple[np.ndarray, set[tuple[int, int]]]:
    """P(given | true) at [true, given]: 30% of the pairs at 1-2%, 3 pairs at 10-30%."""
    rates = np.zeros((k, k))
    pairs = [(t, g) for t in range(k) for g in range(k) if t != g]
    for t, g in pairs:
        if rng.random() < 0.3:
            rates[t, g] = rng.uniform(0.01, 0.02)
    strong = {pairs[i] for i in rng.choice(len(pairs), 3, replace=False)}
    for t, g in strong:
        rates[t, g] = rng.uniform(0.10, 0.30)
    np.fill_diagonal(rates, 1.0 - rates.sum(axis=1))
    return rates, strong


def verdict_rows(seeds: int) -> list[dict[str, Any]]:
    digits = load_digits(return_X_y=True)
    rows = []
    for data in ("make_classification K=10 (n=5000)", "digits"):
        tp = fp = fn = 0
        for seed in range(seeds):
            rng = np.random.default_rng(seed)
            X, y = digits if data == "digits" else separable(5000, random_state=seed)
            rates, strong = planted_noise(rng, 10)
            labels = la.noise.make_noisy_labels(y, rates.T, random_state=seed)
            pairs = la.audit(labels, cv_pred_probs(X, labels)).class_pairs
            sys_pairs = pairs[pairs["verdict"] == "systematic"]
            called = {
                (int(t), int(g))
                for t, g in zip(sys_pairs.true_label, sys_pairs.given_label, strict=True)
            }
            tp, fp, fn = (
                tp + len(called & strong),
                fp + len(called - strong),
                fn + len(strong - called),
            )
        rows.append(
            {
                "data": data,
                "seeds": seeds,
                "planted": tp + fn,
                "called": tp + fp,
                "precision": tp / max(tp + fp, 1),
                "recall": tp / max(tp + fn, 1),
            }
        )
    return rows


def print_table(title: str, rows: list[dict[str, Any]]) -> None:
    print(f"\n### {title}\n")
    if not rows:
        print("(no rows)")
        return
    keys = list(rows[0])
    print("| " + " | ".join(keys) + " |")
    print("|" + "---|" * len(keys))
    for r in rows:
        vals = [f"{r[k]:.3f}" if isinstance(r[k], float) else str(r[k]) for k in keys]
        print("| " + " | ".join(vals) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--pairs-seeds", type=int, default=20)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    if args.data.is_dir():
        print_table("Calibration of p_mislabeled", calibration_rows(args.data))
        print_table("Suggested label among the flagged examples", suggestion_rows(args.data))
        print_table("CIFAR-10N: systematic pairs vs true rates >= 10%", cifar_pair_rows(args.data))
    else:
        print(f"(no data folder at {args.data}: real-data tables skipped)")
    print_table(f"Synthetic noise ({args.seeds} seeds x 2 sparsities)", synthetic_rows(args.seeds))
    print_table("Systematic verdict on planted confusions", verdict_rows(args.pairs_seeds))


if __name__ == "__main__":
    main()
