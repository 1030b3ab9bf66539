"""Why some targets of the detection-quality issue conflict: two measurements.

    .venv/bin/python benchmarks/quality_limits.py [--data ../shared/data] [--seeds 3]

1. The labelerrors_* files: how many examples their reviewers were shown (``is_candidate``)
   against how many cleanlab 2.9.0's default ``find_label_issues`` flags, and how many of
   each rule's flags fall outside the reviewed set. Outside it every flag counts as a false
   positive in the full scope, whatever the example's label.
2. The synthetic datasets with no label noise at all, then 10/20/40% noise: the true number
   of errors against every estimator's count (cleanlab's two, labelaudit's posterior, and
   the number of examples whose argmax is not the given label), with how often the model
   agrees with the clean labels. Where the model is weak, the counts measure the model's
   mistakes, not the labels'.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from _synthetic import NOISES, base_datasets, cv_pred_probs

import labelaudit as la
from labelaudit.noise import generate_noise_matrix, make_noisy_labels

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def reviewed_rows(data_dir: Path) -> list[dict[str, Any]]:
    """Flags of each rule on each labelerrors_* file, inside and outside the reviewed set."""
    from cleanlab.filter import find_label_issues as cleanlab_find

    rows = []
    for path in sorted(data_dir.glob("labelerrors_*.npz")):
        d = np.load(path)
        labels, probs, reviewed = d["labels"], d["pred_probs"], d["is_candidate"]
        cleanlab_flags = cleanlab_find(labels, probs)
        posterior = la.find_label_issues(labels, probs, method="posterior")
        rows.append(
            {
                "data": path.stem,
                "n": labels.size,
                "reviewed": int(reviewed.sum()),
                "errors": int(d["is_error"].sum()),
                "cleanlab_flags": int(cleanlab_flags.sum()),
                "cleanlab_outside": int((cleanlab_flags & ~reviewed).sum()),
                "posterior_flags": int(posterior.sum()),
                "posterior_outside": int((posterior & ~reviewed).sum()),
            }
        )
    return rows


def counts(labels: np.ndarray, probs: np.ndarray) -> dict[str, float]:
    """Each estimator's number of label errors."""
    return {
        "off_diagonal": la.num_label_issues(labels, probs),
        "calibrated": la.num_label_issues(labels, probs, method="off_diagonal_calibrated"),
        "posterior": la.num_label_issues(labels, probs, method="posterior"),
        "argmax": int((probs.argmax(axis=1) != labels).sum()),
    }


def noise_rows(seeds: int) -> list[dict[str, Any]]:
    """Counts against the truth at 0, 10, 20 and 40% noise (mean over seeds)."""
    rows = []
    for name, (X, y) in base_datasets().items():
        k = int(y.max()) + 1
        for noise in (0.0, *NOISES):
            found = []
            for seed in range(seeds):
                rng = np.random.default_rng(seed)
                labels = y
                if noise:
                    m = generate_noise_matrix(k, trace=k * (1 - noise), random_state=rng)
                    labels = make_noisy_labels(y, m, random_state=rng)
                probs = cv_pred_probs(X, labels)
                found.append(
                    {
                        "true": int((labels != y).sum()),
                        "model_vs_clean": float((probs.argmax(axis=1) == y).mean()),
                        **counts(labels, probs),
                    }
                )
            mean = {key: float(np.mean([f[key] for f in found])) for key in found[0]}
            rows.append({"data": name, "noise": noise, **mean})
    return rows


#: Columns printed as fractions; every other number is a count.
FRACTIONS = frozenset({"noise", "model_vs_clean"})


def print_table(rows: list[dict[str, Any]]) -> None:
    keys = list(rows[0])
    print("| " + " | ".join(keys) + " |")
    print("|" + "---|" * len(keys))
    for row in rows:
        cells = [
            f"{v:.2f}" if key in FRACTIONS else f"{v:.0f}" if isinstance(v, float) else str(v)
            for key, v in row.items()
        ]
        print("| " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    if args.data.is_dir():
        print(f"## Reviewed examples of the labelerrors files ({args.data})\n")
        print_table(reviewed_rows(args.data))
    else:
        print(f"(no data folder at {args.data}: the labelerrors table is skipped)")
    print(f"\n## Counts against the truth, synthetic noise (mean over {args.seeds} seeds)\n")
    print_table(noise_rows(args.seeds))


if __name__ == "__main__":
    main()
