"""Detection quality on human-verified label errors: labelaudit vs cleanlab 2.9.0.

    .venv/bin/python benchmarks/quality.py [--data ../shared/data] [--seeds 3] [--methods]

For every file of the data folder that has pred_probs (see its README), both libraries'
defaults: precision, recall and F1 of ``find_label_issues``; AUROC and AUPRC of
``label_quality_scores`` (lower score = more likely an error); the estimated number of
errors (``num_label_issues``, both estimators) against the true number. For the
labelerrors_* files also the human-checked-only scope (only the examples shown to the
reviewers; the others were never checked). For files with several models
(``pred_probs_all``): each model and the ensemble (accuracy-weighted scores; flags and
counts from the models' mean pred_probs). Then synthetic noise
(``labelaudit.noise``) at 10/20/40% and sparsity 0/0.6 on scikit-learn's digits and on
``make_classification`` (K = 5 and 10) with 5-fold cross-validated logistic regression.

``--methods`` prints instead the F1 of every ``find_label_issues`` method of labelaudit on
the same cases (real files with their ``pred_probs``; for the labelerrors_* files also
among the human-checked examples only), to show which kind of rule each kind of noise
favours.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from _synthetic import noisy_cases
from sklearn.metrics import average_precision_score, roc_auc_score

import labelaudit as la
from labelaudit._filter import FILTER_METHODS

#: cleanlab's defaults, labelaudit's defaults, and labelaudit's posterior method
#: (flags: find_label_issues(method="posterior"); scores: p_mislabeled; count: its sum).
LIBS = ("cleanlab", "labelaudit", "labelaudit posterior")
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def detection(labels: np.ndarray, probs: Any, is_error: np.ndarray, lib: str) -> dict[str, float]:
    """Quality of one library's defaults on one (labels, pred_probs) pair."""
    from cleanlab import count, filter, rank

    ensemble = isinstance(probs, list)
    # find_label_issues takes one model: an ensemble is filtered on its mean pred_probs.
    single = np.mean(probs, axis=0) if ensemble else probs
    if lib == "labelaudit posterior":
        scores = -la.mislabeled_probability(labels, single)
        flags = la.find_label_issues(labels, single, method="posterior")
        est = est_cal = la.num_label_issues(labels, single, method="posterior")
    elif lib == "labelaudit":
        scores = la.label_quality_scores(labels, probs)
        flags = la.find_label_issues(labels, single)
        est = la.num_label_issues(labels, single)
        est_cal = la.num_label_issues(labels, single, method="off_diagonal_calibrated")
    else:
        scores = (
            rank.get_label_quality_ensemble_scores(labels, probs, verbose=False)
            if ensemble
            else rank.get_label_quality_scores(labels, probs)
        )
        flags = filter.find_label_issues(labels, single, n_jobs=1)
        est = count.num_label_issues(labels, single)
        est_cal = count.num_label_issues(
            labels, single, estimation_method="off_diagonal_calibrated"
        )
    tp = int((flags & is_error).sum())
    precision = tp / max(1, int(flags.sum()))
    recall = tp / max(1, int(is_error.sum()))
    return {
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / max(1e-12, precision + recall),
        "auroc": float(roc_auc_score(is_error, -scores)),
        "auprc": float(average_precision_score(is_error, -scores)),
        "n_true": int(is_error.sum()),
        "n_est": int(est),
        "n_est_calibrated": int(est_cal),
    }


def scoped_auc(
    labels: np.ndarray, probs: np.ndarray, is_error: np.ndarray, keep: np.ndarray, lib: str
) -> float:
    """AUROC among the human-checked examples only."""
    from cleanlab import rank

    if lib == "labelaudit posterior":
        scores = -la.mislabeled_probability(labels, probs)
    elif lib == "labelaudit":
        scores = la.label_quality_scores(labels, probs)
    else:
        scores = rank.get_label_quality_scores(labels, probs)
    return float(roc_auc_score(is_error[keep], -scores[keep]))


def real_rows(data_dir: Path) -> list[dict[str, Any]]:
    rows = []
    for path in sorted(data_dir.glob("*.npz")):
        d = np.load(path)
        if "pred_probs" not in d.files:
            continue
        labels, is_error = d["labels"], d["is_error"]
        cases: list[tuple[str, Any]] = [("pred_probs", d["pred_probs"])]
        if "pred_probs_all" in d.files:
            names = [str(m) for m in d["model_names"]]
            cases = [(name, p) for name, p in zip(names, d["pred_probs_all"], strict=True)]
            cases.append(("ensemble", list(d["pred_probs_all"])))
        for model, probs in cases:
            for lib in LIBS:
                row = {"data": path.stem, "model": model, "lib": lib}
                row.update(detection(labels, probs, is_error, lib))
                if "is_candidate" in d.files:
                    row["auroc_checked"] = scoped_auc(
                        labels, probs, is_error, d["is_candidate"], lib
                    )
                rows.append(row)
    return rows


def synthetic_rows(seeds: int) -> list[dict[str, Any]]:
    rows = []
    for case in noisy_cases(seeds):
        for lib in LIBS:
            row = {"data": case.data, "model": case.setting, "seed": case.seed, "lib": lib}
            is_error = case.labels != case.true_labels
            row.update(detection(case.labels, case.pred_probs, is_error, lib))
            rows.append(row)
    return rows


def method_f1(
    labels: np.ndarray, probs: np.ndarray, is_error: np.ndarray, keep: Any
) -> dict[str, Any]:
    """F1 of each find_label_issues method (and among the rows ``keep``, if given)."""
    from sklearn.metrics import f1_score

    row: dict[str, Any] = {}
    for method in FILTER_METHODS:
        flags = la.find_label_issues(labels, probs, method=method)
        row[method] = float(f1_score(is_error, flags))
        if keep is not None:
            row[f"{method} checked"] = float(f1_score(is_error[keep], flags[keep]))
    return row


def method_rows(data_dir: Path, seeds: int) -> list[dict[str, Any]]:
    """:func:`method_f1` on each real file (its ``pred_probs``) and synthetic setting
    (mean over seeds)."""
    rows = []
    if data_dir.is_dir():
        for path in sorted(data_dir.glob("*.npz")):
            d = np.load(path)
            if "pred_probs" in d.files:
                keep = d["is_candidate"] if "is_candidate" in d.files else None
                f1 = method_f1(d["labels"], d["pred_probs"], d["is_error"], keep)
                rows.append({"data": path.stem, "model": "pred_probs", **f1})
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for case in noisy_cases(seeds):
        f1 = method_f1(case.labels, case.pred_probs, case.labels != case.true_labels, None)
        groups.setdefault((case.data, case.setting), []).append(f1)
    for (data, setting), found in groups.items():
        rows.append(
            {
                "data": data,
                "model": setting,
                **{m: float(np.mean([f[m] for f in found])) for m in found[0]},
            }
        )
    return rows


def print_methods(rows: list[dict[str, Any]]) -> None:
    """One row per case, one column per method: F1, and 'full / checked' where scoped."""
    print("| data | model | " + " | ".join(FILTER_METHODS) + " |")
    print("|" + "---|" * (2 + len(FILTER_METHODS)))
    for r in rows:
        cells = [
            f"{r[m]:.3f}" + (f" / {r[m + ' checked']:.3f}" if m + " checked" in r else "")
            for m in FILTER_METHODS
        ]
        print(f"| {r['data']} | {r['model']} | " + " | ".join(cells) + " |")


def print_table(rows: list[dict[str, Any]], keys: list[str]) -> None:
    cols = ["precision", "recall", "f1", "auroc", "auprc", "n_true", "n_est", "n_est_calibrated"]
    if any("auroc_checked" in r for r in rows):
        cols.append("auroc_checked")
    print("| " + " | ".join(keys + cols) + " |")
    print("|" + "---|" * (len(keys) + len(cols)))
    for r in rows:
        vals = [str(r[k]) for k in keys]
        for c in cols:
            v = r.get(c, "")
            vals.append(f"{v:.3f}" if isinstance(v, float) else str(v))
        print("| " + " | ".join(vals) + " |")


def mean_over_seeds(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["data"], r["model"], r["lib"]), []).append(r)
    out = []
    for (data, model, lib), rs in groups.items():
        row: dict[str, Any] = {"data": data, "model": model, "lib": lib}
        for key in ("precision", "recall", "f1", "auroc", "auprc"):
            row[key] = float(np.mean([r[key] for r in rs]))
        for key in ("n_true", "n_est", "n_est_calibrated"):
            row[key] = round(float(np.mean([r[key] for r in rs])))
        out.append(row)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--methods", action="store_true", help="F1 of every method instead")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    if args.methods:
        print_methods(method_rows(args.data, args.seeds))
        return
    if args.data.is_dir():
        print(f"## Human-verified label errors ({args.data})\n")
        print_table(real_rows(args.data), ["data", "model", "lib"])
    else:
        print(f"(no data folder at {args.data}: real-data rows skipped)")
    print(f"\n## Synthetic noise (mean over {args.seeds} seeds)\n")
    print_table(mean_over_seeds(synthetic_rows(args.seeds)), ["data", "model", "lib"])


if __name__ == "__main__":
    main()
