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
    elif is_multilabel(audit_dir):
        raise InvalidInputError(
            f"{audit_dir} holds a multi-label audit (queue.csv, tag_table.csv), not the issue "
            "table of labelaudit audit."
        )
    else:
        raise InvalidInputError(
            f"{audit_dir} holds no issues.parquet or issues.csv; run labelaudit audit first."
        )
    missing = [c for c in [*COLUMNS[1:], "is_issue", "quality_score"] if c not in table.columns]
    if missing:
        raise InvalidInputError(f"{audit_dir}: the issue table lacks the columns {missing}.")
    return table.rename_axis("example")


#: The columns of a multi-label folder's queue.csv (MultilabelAudit.examples).
TAG_COLUMNS = ["example", "given_tags", "suggested_tags", "changes", "n_flagged", "p_any_wrong"]


def is_multilabel(audit_dir: Path) -> bool:
    """Whether ``audit_dir`` was written by a multi-label audit (it has the tag queue)."""
    return (audit_dir / "queue.csv").exists() and (audit_dir / "tag_issues.csv").exists()


def read_tag_file(path: Path, columns: list[str]) -> Any:
    """One table of a multi-label folder (text kept as written), checked for ``columns``."""
    if not path.is_file():
        raise InvalidInputError(
            f"{path} is missing from the multi-label audit folder; run labelaudit multilabel "
            "again to write it."
        )
    table = import_pandas().read_csv(path, keep_default_na=False)
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise InvalidInputError(f"{path} lacks the columns {missing}.")
    return table


def read_tag_queue(audit_dir: Path) -> Any:
    """A multi-label folder's queue, with the number of examples audited (for
    :func:`with_data`'s check) from its summary.json."""
    queue = read_tag_file(audit_dir / "queue.csv", TAG_COLUMNS)
    try:
        summary = json.loads((audit_dir / "summary.json").read_text(encoding="utf-8"))
        queue.attrs["n_examples"] = int(summary["n_examples"])
    except (OSError, ValueError, KeyError) as exc:
        raise InvalidInputError(
            f"{audit_dir}: summary.json is missing or unreadable ({exc}); run the audit again."
        ) from None
    return queue


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
    taken = {*COLUMNS, *TAG_COLUMNS}
    rows.columns = [f"data_{c}" if c in taken else str(c) for c in rows.columns]
    return queue.reset_index(drop=True).join(rows)


def to_csv(queue: Any, path: Path) -> None:
    queue.to_csv(path, index=False)


def _plain(value: Any) -> Any:
    """A JSON value: NumPy scalars as Python ones, missing values as null (JSON has no NaN)."""
    value = value.item() if hasattr(value, "item") else value
    return None if isinstance(value, float) and value != value else value


def _records(queue: Any) -> list[dict[str, Any]]:
    labels = {c: str for c in ("given_label", "suggested_label") if c in queue.columns}
    return [
        {key: _plain(value) for key, value in row.items()}
        for row in queue.astype(labels).to_dict("records")
    ]


def to_jsonl(queue: Any, path: Path) -> None:
    with path.open("w", encoding="utf-8") as f:
        for record in _records(queue):
            f.write(json.dumps(record) + "\n")


def _suggestion(record: dict[str, Any]) -> tuple[list[str], Any]:
    """The suggested choices of a queue row and its score: one label, or a multi-label
    row's suggested tags (``"; "``-joined) for a ``choice="multiple"`` config."""
    if "suggested_tags" in record:
        from labelaudit.multilabel._audit import TAG_SEPARATOR

        tags = [tag for tag in str(record["suggested_tags"]).split(TAG_SEPARATOR) if tag]
        return tags, record["p_any_wrong"]
    return [record["suggested_label"]], record["p_mislabeled"]


def to_label_studio(queue: Any, path: Path) -> None:
    """Label Studio import JSON: one task per example, the suggestion as a prediction for a
    ``<Choices name="label" toName="example">`` labeling config (with
    ``choice="multiple"`` for a multi-label queue)."""
    from labelaudit import __version__

    hidden = {"suggested_label", "p_mislabeled", "suggested_tags", "p_any_wrong"}
    tasks = []
    for r in _records(queue):
        choices, score = _suggestion(r)
        result = {
            "from_name": "label",
            "to_name": "example",
            "type": "choices",
            "value": {"choices": choices},
        }
        tasks.append(
            {
                "data": {k: v for k, v in r.items() if k not in hidden},
                "predictions": [
                    {
                        "model_version": f"labelaudit {__version__}",
                        "score": score,
                        "result": [result],
                    }
                ],
            }
        )
    path.write_text(json.dumps(tasks, indent=1), encoding="utf-8")


EXPORTERS: dict[str, Callable[[Any, Path], None]] = {
    "csv": to_csv,
    "jsonl": to_jsonl,
    "label-studio": to_label_studio,
}
