"""A review of an audit's relabeling queue: the flagged examples, most likely wrong first,
and what a reviewer decided for each.

Decisions are appended to ``decisions.csv`` in the audit folder, one line per click, so a
review can stop and resume, several sittings add up, and nothing decided is lost; the
last line of an example is its decision. A decision is one of

- ``relabel``: the given label is wrong; ``label`` is the right class;
- ``keep``: the given label is right (the flag was a false alarm);
- ``remove``: no class fits (an unusable, ambiguous or out-of-scope example);
- ``clear``: take the example's decision back.

A multi-label audit (``labelaudit multilabel``) is reviewed the same way, one example at
a time: its tags, joined by ``"; "``, stand where a label stands, and ``relabel`` gives
the example's right tags (possibly none).
"""

from __future__ import annotations

import csv
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from labelaudit._export import (
    COLUMNS,
    TAG_COLUMNS,
    is_multilabel,
    read_issue_table,
    read_tag_file,
)
from labelaudit._results import import_pandas
from labelaudit.core.verdict import wilson
from labelaudit.exceptions import InvalidInputError
from labelaudit.multilabel._audit import TAG_SEPARATOR

DECISIONS: tuple[str, ...] = ("relabel", "keep", "remove", "clear")
DECISIONS_FILE = "decisions.csv"
DECISION_COLUMNS = ("example", "given_label", "decision", "label", "decided_at", "reviewer")
#: Unflagged examples drawn for the spot check, and the draw's seed (the same on resuming).
SPOT_CHECK = 200
SPOT_SEED = 0
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".svg")
#: The columns of a multi-label folder's tag_issues.csv that the review reads.
TAG_ISSUE_COLUMNS = ["example", "class_name", "action", "kind", "reason"]


def _summary(audit_dir: Path) -> dict[str, Any]:
    path = audit_dir / "summary.json"
    if not path.exists():
        return {}
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{path} is not the JSON that labelaudit audit writes.") from exc
    return summary if isinstance(summary, dict) else {}


def _class_names(summary: dict[str, Any], table: Any, multilabel: bool = False) -> list[str]:
    """The audit's classes in column order (summary.json), else the labels (or tags)
    seen, sorted."""
    names = summary.get("class_names")
    if isinstance(names, list) and names:
        return [str(name) for name in names]
    seen = set(table["given_label"].astype(str)) | set(table["suggested_label"].astype(str))
    if multilabel:
        seen = {tag for tags in seen for tag in tags.split(TAG_SEPARATOR) if tag}
    return sorted(seen, key=lambda s: (0, int(s), "") if s.isdigit() else (1, 0, s))


def recorded_data(audit_dir: Path) -> str | None:
    """The table of examples the audit recorded in summary.json (``data_table``), if any."""
    recorded = _summary(audit_dir).get("data_table")
    return recorded if isinstance(recorded, str) and recorded else None


def default_data(audit_dir: Path) -> Path | None:
    """The table the audit recorded when it still exists: as written, or by its name
    inside the audit folder."""
    recorded = recorded_data(audit_dir)
    if recorded is None:
        return None
    for path in (Path(recorded), audit_dir / recorded):
        if path.is_file():
            return path
    return None


def image_column(data: Any) -> str | None:
    """The first column whose values are all image file names or URLs (or missing)."""
    for name in data.columns:
        values = data[name].dropna()
        if values.empty or not all(isinstance(v, str) for v in values):
            continue
        if values.str.lower().str.endswith(IMAGE_SUFFIXES).all():
            return str(name)
    return None


def read_tag_table(audit_dir: Path) -> Any:
    """A multi-label folder as an issue table, one row per example: the given and
    suggested tags as the labels, ``p_any_wrong`` as ``p_mislabeled``, the changes, and
    each flagged tag's reason (one line each); an example is systematic if one of its
    flagged tags is."""
    pd = import_pandas()
    tags = read_tag_file(audit_dir / "tag_table.csv", TAG_COLUMNS)
    if not np.array_equal(tags["example"].to_numpy(), np.arange(len(tags))):
        raise InvalidInputError(
            f"{audit_dir / 'tag_table.csv'} must list the examples 0, 1, 2... in order, as "
            "labelaudit multilabel writes it."
        )
    issues = read_tag_file(audit_dir / "tag_issues.csv", TAG_ISSUE_COLUMNS).astype(
        {"class_name": str, "reason": str, "kind": str}
    )
    sign = np.where(issues["action"] == "add", "+", "-")
    by_example = issues.assign(
        line=sign + issues["class_name"] + ": " + issues["reason"],
        systematic=issues["kind"] == "systematic",
    ).groupby("example")
    flagged = tags["n_flagged"].to_numpy() > 0
    systematic = by_example["systematic"].any().reindex(tags.index, fill_value=False)
    p = tags["p_any_wrong"].to_numpy(dtype=float)
    return pd.DataFrame(
        {
            "given_label": tags["given_tags"].astype(str),
            "suggested_label": tags["suggested_tags"].astype(str),
            "p_mislabeled": p,
            "kind": np.where(
                flagged, np.where(systematic.to_numpy(), "systematic", "individual"), "none"
            ),
            "reason": by_example["line"].agg("\n".join).reindex(tags.index, fill_value=""),
            "is_issue": flagged,
            "quality_score": 1 - p,
            "changes": tags["changes"].astype(str),
        }
    ).rename_axis("example")


def _queue_rows(rows: Any) -> Any:
    """Queue rows with the labels as text and a reason (empty when not flagged); a
    multi-label queue keeps its changes."""
    rows = rows[[*COLUMNS, *(["changes"] if "changes" in rows.columns else [])]]
    rows = rows.reset_index(drop=True)
    return rows.assign(reason=rows["reason"].fillna("")).astype(
        {"given_label": str, "suggested_label": str, "reason": str}
    )


def _spot_check(table: Any) -> Any:
    """:data:`SPOT_CHECK` unflagged examples drawn at random: any prefix of them is a random
    sample, for estimating how many wrong labels the audit did not flag."""
    unflagged = np.flatnonzero(~table["is_issue"].to_numpy(dtype=bool))
    drawn = np.random.default_rng(SPOT_SEED).permutation(unflagged)[:SPOT_CHECK]
    return _queue_rows(table.iloc[drawn].reset_index())


def _when() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class Review:
    """An audit folder's queue and the decisions made on it (thread-safe)."""

    audit_dir: Path
    table: Any  # the issue table, one row per example
    queue: Any  # the flagged examples, most likely wrong first
    spot: Any  # a random sample of the unflagged examples, in random order
    class_names: list[str]
    data: Any = None
    data_dir: Path | None = None
    text_column: str | None = None
    image_column: str | None = None
    images: Any = None  # an array of one image per example, instead of image files
    reviewer: str = ""  # written beside each decision
    multilabel: bool = False  # tags ("; "-joined) stand where labels stand
    decisions: dict[int, tuple[str, str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def open(
        cls,
        audit_dir: Path,
        data: Any = None,
        data_dir: Path | None = None,
        images: Any = None,
        table: Any = None,
    ) -> Review:
        """Read the audit folder and the decisions saved in it; ``data`` is a table with one
        row per example of the audit, in its order, ``images`` an array of their images,
        ``table`` the folder's issue table if it was read already."""
        if not audit_dir.is_dir():
            raise InvalidInputError(
                f"{audit_dir} is not a folder; give the --out folder of labelaudit audit."
            )
        multilabel = is_multilabel(audit_dir)
        if table is None:
            table = read_tag_table(audit_dir) if multilabel else read_issue_table(audit_dir)
        if data is not None and len(data) != len(table):
            raise InvalidInputError(
                f"The data table has {len(data)} rows for the audit's {len(table)} examples; "
                "give the table the audit was run on, one row per example in the same order."
            )
        from labelaudit._audit import rank_flagged
        from labelaudit._validation import check_images
        from labelaudit.io import text_column

        review = cls(
            audit_dir=audit_dir,
            table=table,
            queue=_queue_rows(rank_flagged(table.reset_index())),
            spot=_spot_check(table),
            class_names=_class_names(_summary(audit_dir), table, multilabel),
            data=data,
            data_dir=data_dir,
            text_column=None if data is None else text_column(data),
            image_column=None if data is None else image_column(data),
            images=None if images is None else check_images(images, len(table)),
            multilabel=multilabel,
        )
        review.decisions = review._read_decisions()
        return review

    @property
    def path(self) -> Path:
        return self.audit_dir / DECISIONS_FILE

    def _read_decisions(self) -> dict[int, tuple[str, str]]:
        if not self.path.exists():
            return {}
        with self.path.open(newline="", encoding="utf-8-sig") as handle:  # also as Excel saves
            reader = csv.DictReader(handle)
            rows = list(reader)
        missing = [c for c in DECISION_COLUMNS[:4] if c not in (reader.fieldnames or [])]
        if missing:
            raise InvalidInputError(
                f"{self.path} lacks the columns {missing}: it is not the file the review page "
                "writes. Move it away to start a new review."
            )
        decisions: dict[int, tuple[str, str]] = {}
        for line, row in enumerate(rows, start=2):
            try:
                example, decision, label = self.check(
                    row.get("example"), row.get("decision"), row.get("label")
                )
            except InvalidInputError as exc:
                raise InvalidInputError(f"{self.path}, line {line}: {exc}") from None
            given = str(self.table["given_label"].iloc[example])
            if row.get("given_label") != given:
                raise InvalidInputError(
                    f"{self.path} was saved for another audit: example {example} was labeled "
                    f"{row.get('given_label')!r} there and {given!r} here. Move it away to "
                    "start a new review of this audit."
                )
            if decision == "clear":
                decisions.pop(example, None)
            else:
                decisions[example] = (decision, label)
        return decisions

    def check(self, example: Any, decision: Any, label: Any) -> tuple[int, str, str]:
        """A decision as (example, decision, label), or an error saying what is wrong."""
        try:  # an int from the page, digits from decisions.csv; never a bool or a float
            if isinstance(example, bool) or not isinstance(example, int | str):
                raise TypeError
            index = int(example)
        except (TypeError, ValueError):
            raise InvalidInputError(f"example must be an integer. Got {example!r}.") from None
        if not 0 <= index < len(self.table):
            raise InvalidInputError(
                f"example must be in [0, {len(self.table)}) for this audit. Got {index}."
            )
        if decision not in DECISIONS:
            raise InvalidInputError(f"decision must be one of {list(DECISIONS)}. Got {decision!r}.")
        if decision == "relabel" and self.multilabel:
            label = self._tag_set(label)
        label = "" if label is None else str(label)
        if decision == "relabel" and not self.multilabel and label not in self.class_names:
            raise InvalidInputError(
                f"relabel needs the right class, one of the audit's {len(self.class_names)} "
                f"classes. Got {label!r}."
            )
        given = str(self.table["given_label"].iloc[index])
        if decision == "relabel" and label == given:
            what = "tagged" if self.multilabel else "labeled"
            raise InvalidInputError(
                f"example {index} is already {what} {given!r}; decide keep instead."
            )
        return index, decision, label if decision == "relabel" else ""

    def _tag_set(self, label: Any) -> str:
        """A relabel's tags, given as a list of class names (the page) or joined by "; "
        (decisions.csv), as the audit's tables write them: joined, in class order."""
        if isinstance(label, str):
            tags: list[Any] = [tag for tag in label.split(TAG_SEPARATOR) if tag]
        else:
            tags = list(label) if isinstance(label, list | tuple) else [label]
        unknown = [tag for tag in tags if not isinstance(tag, str) or tag not in self.class_names]
        if unknown or len(set(tags)) != len(tags):
            problem = f"unknown classes {unknown}" if unknown else "a class given twice"
            raise InvalidInputError(
                f"relabel needs the right tags: a list of the audit's {len(self.class_names)} "
                f"classes, each at most once (none for no tag). Got {label!r} ({problem})."
            )
        return TAG_SEPARATOR.join(name for name in self.class_names if name in tags)

    def decide(self, example: Any, decision: Any, label: Any = None) -> None:
        """Check a decision, append it to decisions.csv, and apply it."""
        index, decision, label = self.check(example, decision, label)
        given = str(self.table["given_label"].iloc[index])
        row = [index, given, decision, label, _when(), self.reviewer]
        with self._lock:
            new = not self.path.exists()
            with self.path.open("a", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                if new:
                    writer.writerow(DECISION_COLUMNS)
                writer.writerow(row)
            if decision == "clear":
                self.decisions.pop(index, None)
            else:
                self.decisions[index] = (decision, label)

    def progress(self) -> dict[str, Any]:
        """How far the review is. Of the flagged examples: the decisions, and
        ``expected_wrong``, the sum of p_mislabeled over those reviewed (the audit's
        expectation). Of the spot check: the wrong labels found among the unflagged
        examples reviewed, and the estimate of those missed among all unflagged examples,
        ``missed`` with its 95% (Wilson) interval ``missed_low`` to ``missed_high``."""
        with self._lock:
            decided = dict(self.decisions)
        flagged = self.table["is_issue"].to_numpy(dtype=bool)
        spot = set(self.spot["example"].tolist())
        counts = {name: 0 for name in DECISIONS[:3]}
        spot_counts = dict(counts)
        for example, (decision, _) in decided.items():
            if flagged[example]:
                counts[decision] += 1
            elif example in spot:
                spot_counts[decision] += 1
        reviewed = [example for example in decided if flagged[example]]
        p = self.table["p_mislabeled"].to_numpy()
        return {
            "n_queue": len(self.queue),
            "n_reviewed": len(reviewed),
            **{f"n_{name}": count for name, count in counts.items()},
            "expected_wrong": float(p[reviewed].sum()) if reviewed else 0.0,
            **self._missed(spot_counts, int((~flagged).sum())),
        }

    def _missed(self, counts: dict[str, int], n_unflagged: int) -> dict[str, Any]:
        checked = sum(counts.values())
        wrong = checked - counts["keep"]
        low, high = wilson(np.array([float(wrong)]), np.array([float(checked)]))
        return {
            "n_spot": len(self.spot),
            "n_spot_reviewed": checked,
            "n_spot_wrong": wrong,
            "n_unflagged": n_unflagged,
            "missed": wrong / checked * n_unflagged if checked else None,
            "missed_low": float(low[0]) * n_unflagged,
            "missed_high": float(high[0]) * n_unflagged,
        }

    def labels(self) -> Any:
        """Every example's label after the review: ``label`` is the given one unless the
        reviewer relabeled it, and empty for examples to remove. A multi-label review's
        columns are ``given_tags`` and ``tags``."""
        pd = import_pandas()
        given = self.table["given_label"].astype(str)
        label = given.copy()
        decision = pd.Series("", index=given.index, dtype=object)
        with self._lock:
            decided = dict(self.decisions)
        for example, (what, new) in decided.items():
            decision.iloc[example] = what
            if what != "keep":
                label.iloc[example] = new  # the right class, or "" to remove
        names = ("given_tags", "tags") if self.multilabel else ("given_label", "label")
        return pd.DataFrame({names[0]: given, names[1]: label, "decision": decision})

    def pairs(self) -> list[dict[str, Any]]:
        """The queue's (given, suggested) label pairs, most examples first; for a
        multi-label queue its changes (``+name``, ``-name``) instead, with how many
        examples each is suggested for."""
        if self.multilabel:
            changes = self.queue["changes"].str.split(TAG_SEPARATOR).explode()
            counts = changes.value_counts(sort=False).sort_values(ascending=False, kind="stable")
            return [{"change": str(change), "n": int(n)} for change, n in counts.items()]
        counts = self.queue.groupby(["given_label", "suggested_label"], sort=False).size()
        return [
            {"given_label": given, "suggested_label": suggested, "n": int(n)}
            for (given, suggested), n in counts.sort_values(ascending=False, kind="stable").items()
        ]

    def items(
        self,
        start: int,
        count: int,
        pair: tuple[str, str] | None = None,
        spot: bool = False,
        change: str | None = None,
    ) -> list[dict[str, Any]]:
        """Queue positions [start, start + count) as plain dicts for the page; with
        ``pair``, positions among the examples given ``pair[0]`` and suggested ``pair[1]``;
        with ``change`` (multi-label), among those suggested that change; with ``spot``,
        positions in the spot check instead of the queue."""
        queue = self.spot if spot else self.queue
        if pair is not None:
            queue = queue[(queue["given_label"] == pair[0]) & (queue["suggested_label"] == pair[1])]
        if change is not None and "changes" in queue.columns:
            queue = queue[queue["changes"].str.split(TAG_SEPARATOR).apply(lambda c: change in c)]
        rows = queue.iloc[start : start + count].to_dict("records")
        with self._lock:
            decided = dict(self.decisions)
        return [
            self._item(position, row, decided.get(int(row["example"]), ("", "")))
            for position, row in enumerate(rows, start=start)
        ]

    def _item(self, position: int, row: dict[str, Any], decided: tuple[str, str]) -> dict[str, Any]:
        example = int(row["example"])
        return {
            "position": position,
            "example": example,
            **{key: row[key] for key in ("given_label", "suggested_label", "reason")},
            "kind": str(row["kind"]),
            "p_mislabeled": float(row["p_mislabeled"]),
            "changes": str(row.get("changes", "")),
            "decision": decided[0],
            "label": decided[1],
            **self._data_fields(example),
        }

    def _data_fields(self, example: int) -> dict[str, Any]:
        """The example's row: its text, its image's address, and its other columns."""
        from labelaudit._cli_io import short_value

        src = None if self.images is None else f"image/{example}"
        if self.data is None:
            return {"text": None, "image": src, "fields": []}
        row = self.data.iloc[example]
        text, image = self.text_column, self.image_column
        if src is None and image is not None and isinstance(row[image], str):
            value = row[image]
            src = value if value.startswith(("http://", "https://")) else f"image/{example}"
        fields = [
            [str(c), short_value(v)]
            for c, v in row.items()
            if c not in (text, image) and not (isinstance(v, float) and v != v)
        ]
        return {"text": None if text is None else str(row[text]), "image": src, "fields": fields}

    def image_png(self, example: int) -> bytes | None:
        """The PNG of ``example``'s image from the ``images`` array, if one was given."""
        if self.images is None or not 0 <= example < len(self.images):
            return None
        from labelaudit.report._plots import image_png

        return image_png(self.images[example])

    def image_path(self, example: int) -> Path | None:
        """The local image file of ``example``, from the data table's image column."""
        if self.image_column is None or not 0 <= example < len(self.data):
            return None
        value = self.data[self.image_column].iloc[example]
        if not isinstance(value, str) or value.startswith(("http://", "https://")):
            return None
        path = Path(value)
        if not path.is_absolute() and self.data_dir is not None:
            path = self.data_dir / path
        return path if path.is_file() else None
