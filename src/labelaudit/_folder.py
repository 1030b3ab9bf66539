"""The audit folder: what ``labelaudit audit --out``, :meth:`Audit.save` and the demo
write, and what ``labelaudit export`` and ``labelaudit review`` read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from labelaudit.exceptions import InvalidInputError

#: The files an audit folder holds.
OUTPUTS = ("report.html", "issues.csv", "issues.parquet", "summary.json")


def check_out_dir(
    out: Path,
    force: bool,
    names: tuple[str, ...] = (*OUTPUTS, "pred_probs.npy"),
    options: tuple[str, str] = ("--force", "--out"),
    inputs: tuple[Path | None, ...] = (),
) -> None:
    """Refuse to overwrite an earlier run's files unless ``force``, and the run's own
    ``inputs`` even with it; ``options`` name the overwrite switch and the folder in the
    messages."""
    if out.exists() and not out.is_dir():
        raise InvalidInputError(f"{options[1]} {out} is a file; give a folder.")
    given = {path.resolve() for path in inputs if path is not None}
    for name in names:
        if (out / name).resolve() in given:
            raise InvalidInputError(
                f"{out / name} is an input of this run, and the outputs would overwrite it; "
                f"choose another {options[1]} (or rename the input)."
            )
    clashes = [name for name in names if (out / name).exists()]
    if clashes and not force:
        raise InvalidInputError(
            f"{out} already holds {', '.join(clashes)}; pass {options[0]} to overwrite or "
            f"choose another {options[1]}."
        )


def summary_dict(
    result: Any, metadata: dict[str, Any], data_table: str | None = None
) -> dict[str, Any]:
    """What summary.json holds; ``data_table`` is the table of examples the review page
    shows (a path, or a file name in the audit folder)."""
    from labelaudit import __version__

    pairs = result.class_pairs
    systematic = pairs[pairs["verdict"] == "systematic"]
    return {
        "labelaudit_version": __version__,
        "n_examples": len(result.issues),
        "n_classes": len(result.classes),
        "class_names": [str(name) for name in result.classes["class_name"]],
        "health": result.health,
        "expected_errors": result.expected_errors,
        "n_issues": result.n_issues,
        "background_rate": result.background_rate,
        "warnings": list(result.warnings),
        "systematic_pairs": [
            {
                "true_label": str(r.true_label),
                "given_label": str(r.given_label),
                "rate": float(r.rate),
                "count": float(r.count),
                "action": r.action,
            }
            for r in systematic.itertuples()
        ],
        "inputs": {k: str(v) for k, v in metadata.items()},
        "data_table": data_table,
    }


def write_outputs(
    result: Any,
    out: Path,
    report: str,
    summary: dict[str, Any],
    pred_probs: np.ndarray[Any, Any] | None = None,
) -> list[Path]:
    """Write the report, the issue table (CSV and Parquet) and the summary."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / name for name in OUTPUTS]
    paths[0].write_text(report, encoding="utf-8")
    table = result.issues.rename_axis("example")
    table.to_csv(paths[1])
    table.to_parquet(paths[2])
    paths[3].write_text(json.dumps(summary, indent=2), encoding="utf-8")
    if pred_probs is not None:
        np.save(out / "pred_probs.npy", pred_probs)
        paths.append(out / "pred_probs.npy")
    return paths


def save_audit(audit: Any, out: Path, force: bool) -> None:
    """The audit folder of an :class:`Audit` made in Python, with its report."""
    from labelaudit.report import render

    check_out_dir(out, force, OUTPUTS, ("force=True", "folder"))
    write_outputs(audit, out, render(audit), summary_dict(audit, {}))


#: The files a multi-label audit folder holds.
MULTILABEL_OUTPUTS = (
    "report.html",
    "queue.csv",
    "tag_issues.csv",
    "classes.csv",
    "summary.json",
    "tag_table.csv",
)


def write_multilabel(
    result: Any, out: Path, metadata: dict[str, Any], data_table: str | None = None
) -> list[Path]:
    """The folder of a :class:`~labelaudit.multilabel.MultilabelAudit`: its report, the
    queue, the flagged tags, the classes, the summary and every example's tags (the
    caller checked ``out``); ``data_table`` as for :func:`summary_dict`."""
    from labelaudit import __version__
    from labelaudit.report import render_multilabel

    out.mkdir(parents=True, exist_ok=True)
    paths = [out / name for name in MULTILABEL_OUTPUTS]
    paths[0].write_text(render_multilabel(result, metadata=metadata), encoding="utf-8")
    result.examples.to_csv(paths[1], index=False)
    result.issues.to_csv(paths[2], index=False)
    result.classes.to_csv(paths[3], index=False)
    summary = {
        "labelaudit_version": __version__,
        "n_examples": int(result.p_mislabeled.shape[0]),
        "class_names": [str(name) for name in result.classes["class_name"]],
        "health": result.health,
        "expected_errors": result.expected_errors,
        "n_issues": result.n_issues,
        "background_rate": result.background_rate,
        "systematic": result.systematic_classes(),
        "inputs": {k: str(v) for k, v in metadata.items()},
        "data_table": data_table,
    }
    paths[4].write_text(json.dumps(summary, indent=2), encoding="utf-8")
    result.tag_table().to_csv(paths[5], index=False)
    return paths
