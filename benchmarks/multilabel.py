"""Multi-label data: labelaudit.multilabel against cleanlab 2.9.0's multilabel_classification.

    .venv/bin/python benchmarks/multilabel.py [--sizes 1e5x10,1e5x100,1e6x10] [--repeats 3]

(a) Speed: median time of each function, both libraries on the same inputs in one process
(labels as index lists, cleanlab's format; labelaudit also from a 0/1 indicator matrix),
and whether the results are equal (scores: allclose). Exits 1 if any flag set or ranking
differs. audit and class_noise (no cleanlab counterpart) are timed too. (b) Quality on synthetic
tags at several noise settings: precision and recall of the flagged tags (find_label_issues
and audit, whose expected count is compared with the truth), and class_noise's estimated
missing / spurious rates against the true ones for the class whose tag is planted missing
and for the others.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
from diagnosis import print_table

from labelaudit import multilabel as ml


def tagged(n: int, k: int, seed: int, missing: float, slips: float, sharp: float = 0.12) -> tuple:
    """True tags (each class applies with probability 0.2), given tags (class 0's tag
    dropped on ``missing`` of its examples, every tag flipped at rate ``slips``) and
    float32 probabilities of a model that knows the truth up to noise ``sharp``."""
    rng = np.random.default_rng(seed)
    true = rng.random((n, k)) < 0.2
    given = true.copy()
    given[:, 0] &= ~(rng.random(n) < missing)
    given ^= rng.random((n, k)) < slips
    probs = np.clip(np.where(true, 0.75, 0.15) + rng.normal(0, sharp, (n, k)), 0, 1)
    return true, given, probs.astype(np.float32)


def median_time(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), result


def speed_rows(sizes: list[tuple[int, int]], repeats: int) -> tuple[list[dict[str, Any]], bool]:
    from cleanlab.multilabel_classification import filter as cl_filter
    from cleanlab.multilabel_classification import rank as cl_rank

    rows, all_equal = [], True
    for n, k in sizes:
        _, given, probs = tagged(n, k, 0, missing=0.15, slips=0.02)
        lists = [np.flatnonzero(row).tolist() for row in given]
        ml.find_label_issues(given[:100], probs[:100])  # compile before timing
        ranked = {"return_indices_ranked_by": "self_confidence"}
        cases = [  # name, cleanlab's function and options, ours
            ("find_label_issues", cl_filter.find_label_issues, {}, ml.find_label_issues),
            (
                "find_label_issues_per_class",
                cl_filter.find_multilabel_issues_per_class,
                {},
                ml.find_label_issues_per_class,
            ),
            ("rank_label_issues", cl_filter.find_label_issues, ranked, ml.rank_label_issues),
            ("label_quality_scores", cl_rank.get_label_quality_scores, {}, ml.label_quality_scores),
        ]
        for name, cl_function, options, function in cases:
            theirs = partial(cl_function, lists, probs, **options)
            ours_lists, ours_matrix = (
                partial(function, lists, probs),
                partial(function, given, probs),
            )
            t_cl, expected = median_time(theirs, repeats)
            t_lists, got = median_time(ours_lists, repeats)
            t_matrix, _ = median_time(ours_matrix, repeats)
            same = (
                np.allclose(got, expected, rtol=1e-9)
                if name == "label_quality_scores"
                else np.array_equal(got, expected)
            )
            all_equal &= bool(same)
            rows.append(
                {
                    "size": f"{n:.0e}x{k}".replace("e+0", "e"),
                    "function": name,
                    "cleanlab s": round(t_cl, 3),
                    "ours s (lists)": round(t_lists, 3),
                    "ours s (0/1 matrix)": round(t_matrix, 3),
                    "speed-up (lists)": f"{t_cl / t_lists:.1f}x",
                    "speed-up (matrix)": f"{t_cl / t_matrix:.1f}x",
                    "equal": "equal" if same else "DIFFERENT",
                }
            )
        for name, function in [
            ("audit (ours only)", ml.audit),
            ("class_noise (ours only)", ml.class_noise),
        ]:
            t_matrix, _ = median_time(partial(function, given, probs), repeats)
            rows.append(
                {
                    "size": f"{n:.0e}x{k}".replace("e+0", "e"),
                    "function": name,
                    "cleanlab s": "-",
                    "ours s (lists)": "-",
                    "ours s (0/1 matrix)": round(t_matrix, 3),
                    "speed-up (lists)": "-",
                    "speed-up (matrix)": "-",
                    "equal": "n/a",
                }
            )
    return rows, all_equal


def quality_rows(seeds: int) -> list[dict[str, Any]]:
    rows = []
    for missing, slips, sharp in [(0.15, 0.01, 0.12), (0.3, 0.02, 0.12), (0.15, 0.01, 0.2)]:
        found: dict[str, list[float]] = {}
        for seed in range(seeds):
            true, given, probs = tagged(20_000, 10, seed, missing, slips, sharp)
            wrong = given != true
            flags = ml.find_label_issues_per_class(given, probs)
            noise = ml.class_noise(given, probs)
            audited = ml.audit(given, probs)
            audit_flags = audited.p_mislabeled >= audited.threshold
            truly_missing = (true & ~given).sum(axis=0) / true.sum(axis=0)
            truly_spurious = (~true & given).sum(axis=0) / (~true).sum(axis=0)
            values = {
                "precision": (flags & wrong).sum() / max(flags.sum(), 1),
                "recall": (flags & wrong).sum() / wrong.sum(),
                "audit precision": (audit_flags & wrong).sum() / max(audit_flags.sum(), 1),
                "audit recall": (audit_flags & wrong).sum() / wrong.sum(),
                "audit sum p / true": audited.expected_errors / wrong.sum(),
                "class 0 missing: true": truly_missing[0],
                "class 0 missing: est.": noise["missing_rate"][0],
                "others missing: true": truly_missing[1:].mean(),
                "others missing: est.": noise["missing_rate"][1:].mean(),
                "spurious: true": truly_spurious.mean(),
                "spurious: est.": noise["spurious_rate"].mean(),
            }
            for key, value in values.items():
                found.setdefault(key, []).append(float(value))
        rows.append(
            {"setting": f"missing={missing} slips={slips} model noise={sharp}"}
            | {key: float(np.mean(v)) for key, v in found.items()}
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1e5x10,1e5x100,1e6x10")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    sizes = [tuple(int(float(v)) for v in size.split("x")) for size in args.sizes.split(",")]
    rows, all_equal = speed_rows(sizes, args.repeats)  # type: ignore[arg-type]
    print_table("Speed (median of the repeats, one process)", rows)
    print_table(
        f"Quality, 20,000 examples x 10 classes (mean of {args.seeds} seeds)",
        quality_rows(args.seeds),
    )
    if not all_equal:
        print("\nSome results differ from cleanlab's.")
        sys.exit(1)


if __name__ == "__main__":
    main()
