"""Relabeling queues from an audit folder: CSV, JSONL and Label Studio tasks.

The queue holds the flagged examples, most likely wrong first: reviewing an example with
``p_mislabeled = p`` fixes ``p`` errors on average, so this order fixes the most errors
per review (ties, common at p = 1, go to the lower quality score).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from labelaudit._results import import_pandas
from labelaudit.exceptions import InvalidInputError

COLUMNS = ["example", "given_label", "suggested_label", "p_mislabeled", "kind", "reason"]


def read_issue_table(audit_dir: Path) -> Any:
    """``audit_dir``'s issue table, one row per example (index ``example``)."""
    pd = import_pandas()
    parquet, csv = audit_dir / "issues.parquet", audit_dir / "issues.csv"
    if parquet.exists():
        table = pd.read_parquet(parquet)
    elif csv.exists():
        table = pd.read_csv(csv, index_col="example", keep_default_na=False)
    else:
        raise InvalidInputError(
            f"{audit_dir} holds no issues.parquet or issues.csv; run labelaudit audit first."
        )
    missing = [c for c in [*COLUMNS[1:], "is_issue", "quality_score"] if c not in table.columns]
    if missing:
        raise InvalidInputError(f"{audit_dir}: the issue table lacks the columns {missing}.")
    return table.rename_axis("example")


def queue_of(table: Any) -> Any:
    """The flagged rows of an issue table (:func:`read_issue_table`), sorted by
    p_mislabeled."""
    from labelaudit._audit import rank_flagged

    queue = rank_flagged(table.reset_index())[COLUMNS]
    queue.attrs["n_examples"] = len(table)  # for with_data's check
    return queue


def with_data(queue: Any, path: Path) -> Any:
    """The queue with the columns of the table at ``path`` (one row per example of the
    audit, in its order) for each queued example; a column named like one of the queue's
    gets a ``data_`` prefix."""
    from labelaudit._cli_io import read_data_table

    data = read_data_table(path)
    n = queue.attrs["n_examples"]
    if len(data) != n:
        raise InvalidInputError(
            f"--data {path} has {len(data)} rows for the audit's {n} examples; give the table "
            "the audit was run on, one row per example in the same order."
        )
    rows = data.iloc[queue["example"].to_numpy()].reset_index(drop=True)
    rows.columns = [f"data_{c}" if c in COLUMNS else str(c) for c in rows.columns]
    return queue.reset_index(drop=True).join(rows)


def to_csv(queue: Any, path: Path) -> None:
    queue.to_csv(path, index=False)


def _plain(value: Any) -> Any:
    """A JSON value: NumPy scalars as Python ones, missing values as null (JSON has no NaN)."""
    value = value.item() if hasattr(value, "item") else value
    return None if isinstance(value, float) and value != value else value


def _records(queue: Any) -> list[dict[str, Any]]:
    return [
        {key: _plain(value) for key, value in row.items()}
        for row in queue.astype({"given_label": str, "suggested_label": str}).to_dict("records")
    ]


def to_jsonl(queue: Any, path: Path) -> None:
    with path.open("w", encoding="utf-8") as f:
        for record in _records(queue):
            f.write(json.dumps(record) + "\n")


def to_label_studio(queue: Any, path: Path) -> None:
    """Label Studio import JSON: one task per example, the suggestion as a prediction for a
    ``<Choices name="label" toName="example">`` labeling config."""
    from labelaudit import __version__

    tasks = [
        {
            "data": {k: v for k, v in r.items() if k not in ("suggested_label", "p_mislabeled")},
            "predictions": [
                {
                    "model_version": f"labelaudit {__version__}",
                    "score": r["p_mislabeled"],
                    "result": [
                        {
                            "from_name": "label",
                            "to_name": "example",
                            "type": "choices",
                            "value": {"choices": [r["suggested_label"]]},
                        }
                    ],
                }
            ],
        }
        for r in _records(queue)
    ]
    path.write_text(json.dumps(tasks, indent=1), encoding="utf-8")


EXPORTERS: dict[str, Callable[[Any, Path], None]] = {
    "csv": to_csv,
    "jsonl": to_jsonl,
    "label-studio": to_label_studio,
}
