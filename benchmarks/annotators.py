"""Several annotators: consensus accuracy and spammer detection.

    .venv/bin/python benchmarks/annotators.py [--data ../shared/data] [--seeds 5]

(a) CIFAR-10N (``annotator_labels``: three human labels per image, with pred_probs and
the clean labels): consensus accuracy of majority vote, crowd-kit's DawidSkene, cleanlab
2.9.0's multiannotator consensus, the model's argmax alone, and labelaudit's Dawid-Skene
and model-assisted consensus; for labelaudit also mean p_correct and its ECE.
(b) Synthetic crowds (``labelaudit.noise.simulate_crowd``, K = 10, 300 or 1,000 items, 20
good annotators at 55-95%, 4 systematic confusers, 3 random and 3 one-class spammers) at
2, 3 and 5 labels per item (300 items x 2 = 20 labels per annotator on average):
spammer precision / recall / F1, confusers called spammers, and the mean absolute error
of the good annotators' estimated accuracy.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from diagnosis import ece, print_table

import labelaudit as la

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def peers(annotations: np.ndarray, probs: np.ndarray) -> dict[str, np.ndarray]:
    """Consensus labels of the other tools."""
    import pandas as pd
    from cleanlab.multiannotator import get_label_quality_multiannotator
    from crowdkit.aggregation import DawidSkene

    items, workers = np.nonzero(annotations >= 0)
    long = pd.DataFrame({"task": items, "worker": workers, "label": annotations[items, workers]})
    crowdkit = DawidSkene(n_iter=100).fit_predict(long).sort_index().to_numpy()
    frame = pd.DataFrame(np.where(annotations >= 0, annotations, np.nan))
    cleanlab = get_label_quality_multiannotator(frame, probs, verbose=False)
    return {
        "crowd-kit DawidSkene": crowdkit,
        "cleanlab multiannotator": cleanlab["label_quality"]["consensus_label"].to_numpy(),
        "model argmax": probs.argmax(axis=1),
    }


def cifar_rows(data_dir: Path) -> list[dict[str, Any]]:
    rows = []
    for stem in ("cifar10n_aggre", "cifar10n_worst"):
        path = data_dir / f"{stem}.npz"
        if not path.exists():
            continue
        d = np.load(path)
        annotations = d["annotator_labels"].astype(np.int64)
        probs = d["pred_probs"].astype(np.float64)
        probs /= probs.sum(axis=1, keepdims=True)
        true = d["true_labels"]
        results: dict[str, tuple[np.ndarray, np.ndarray | None]] = {}
        for method in ("majority", "dawid_skene", "model"):
            start = time.perf_counter()
            out = la.analyze_annotators(
                annotations, pred_probs=probs if method == "model" else None, method=method
            )
            results[f"labelaudit {method}"] = (
                out.consensus["label"].to_numpy(),
                out.consensus["p_correct"].to_numpy(),
            )
            print(f"  {stem} {method}: {time.perf_counter() - start:.1f} s", flush=True)
        for name, labels in peers(annotations, probs).items():
            results[name] = (labels, None)
        for name, (labels, p_correct) in results.items():
            right = labels == true
            row: dict[str, Any] = {"data": stem, "method": name, "accuracy": float(right.mean())}
            row["mean_p_correct"] = "" if p_correct is None else float(p_correct.mean())
            row["ece_p_correct"] = "" if p_correct is None else ece(p_correct, right)
            rows.append(row)
    return rows


def crowd_rows(seeds: int) -> list[dict[str, Any]]:
    rows = []
    for n_items, per_item in ((300, 2), (1000, 2), (1000, 3), (1000, 5)):
        tp = fp = fn = confusers = 0
        errors = []
        min_labels = np.inf
        for seed in range(seeds):
            true = np.random.default_rng(seed).integers(0, 10, n_items)
            crowd = la.noise.simulate_crowd(true, labels_per_item=per_item, random_state=seed)
            result = la.analyze_annotators(crowd.labels)
            kinds = np.array(crowd.kinds)
            spam = np.isin(kinds, ["random", "one_class"])
            called = result.annotators["is_spammer"].to_numpy()
            tp, fp, fn = (
                tp + (called & spam).sum(),
                fp + (called & ~spam).sum(),
                fn + (~called & spam).sum(),
            )
            confusers += int(called[kinds == "confuser"].sum())
            good = kinds == "good"
            errors.append(
                np.abs(result.annotators["accuracy"].to_numpy()[good] - crowd.accuracy[good])
            )
            min_labels = min(min_labels, result.annotators["n_labels"].min())
        precision, recall = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
        rows.append(
            {
                "items": n_items,
                "labels_per_item": per_item,
                "min_labels_per_annotator": int(min_labels),
                "spammer_precision": precision,
                "spammer_recall": recall,
                "spammer_f1": 2 * precision * recall / max(precision + recall, 1e-12),
                "confusers_called_spammers": confusers,
                "accuracy_mae": float(np.concatenate(errors).mean()),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    if args.data.is_dir():
        print_table("CIFAR-10N consensus", cifar_rows(args.data))
    print_table(f"Synthetic crowds ({args.seeds} seeds each)", crowd_rows(args.seeds))


if __name__ == "__main__":
    main()
