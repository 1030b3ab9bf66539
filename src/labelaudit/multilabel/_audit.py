"""Diagnosis of multi-label data: which tags are wrong, how sure we are, why, and which
classes annotators get wrong systematically."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from labelaudit._probability import mislabeled_probability
from labelaudit._results import import_pandas
from labelaudit._summary import REPR_ROWS, Summary
from labelaudit._typing import BoolArray, FloatArray
from labelaudit._validation import check_fraction
from labelaudit.core.multilabel import binary_problem, tag_noise
from labelaudit.core.verdict import PairStats
from labelaudit.exceptions import InvalidInputError
from labelaudit.multilabel._multilabel import _checked, _names

if TYPE_CHECKING:
    import pandas as pd

#: What joins an example's tags in the tables (given, suggested, changes).
TAG_SEPARATOR = "; "
#: The two ways a tag can be wrong, in the order of tag_noise's columns.
DIRECTIONS = ("missing", "spurious")
NO_SYSTEMATIC = "No class is tagged wrongly systematically: the errors are slips."


@dataclass(frozen=True)
class MultilabelAudit:
    """The result of :func:`audit`. Read ``docs/multilabel.md`` for every column.

    Attributes
    ----------
    issues : pandas.DataFrame
        One row per flagged tag, most likely wrong first: ``example`` (position),
        ``class_name``, ``tagged`` (whether the class was given), ``p_class`` (the model's
        probability that the class applies), ``p_mislabeled``, ``action`` (``add`` or
        ``remove`` the tag), ``kind`` (``systematic`` or ``individual``) and ``reason``.
    classes : pandas.DataFrame
        One row per class: ``class_name``, ``n_tagged``, ``n_estimated`` (expected
        number of examples it applies to), then for ``missing`` (P(not tagged | applies))
        and ``spurious`` (P(tagged | does not apply)) each: the expected number of such
        tags (``n_missing``), the rate with its 95% interval (``missing_rate``,
        ``missing_low``, ``missing_high``) and the verdict (``missing_verdict``:
        ``systematic``, ``individual`` or ``clean``); ``n_flagged``; ``action``.
    examples : pandas.DataFrame
        The relabeling queue: one row per example with a flagged tag, the most likely
        wrong first: ``example``, ``given_tags`` and ``suggested_tags`` (class names
        joined by ``"; "``, the flagged tags added or removed), ``changes`` (``+name`` to
        add, ``-name`` to remove), ``n_flagged`` and ``p_any_wrong``, the probability that
        at least one of the example's tags is wrong, ``1 - prod(1 - p_mislabeled)``.
    p_mislabeled : ndarray of shape (n_samples, n_classes)
        Every tag's calibrated probability of being wrong (read-only).
    labels : ndarray of shape (n_samples, n_classes), bool
        The given tags (read-only); ``labels ^ (p_mislabeled >= threshold)`` are the
        suggested ones.
    health : float
        Estimated share of examples whose tags are all right: the mean over examples of
        the product of ``1 - p_mislabeled``.
    background_rate : float
        The rate of scattered slips that the systematic test compares against.
    threshold : float
        The ``p_mislabeled`` at or above which a tag is flagged.
    systematic_rate : float
        The rate from which a class's missing or spurious tags can be systematic.
    """

    issues: pd.DataFrame
    classes: pd.DataFrame
    examples: pd.DataFrame
    p_mislabeled: FloatArray
    labels: BoolArray
    health: float
    background_rate: float
    threshold: float
    systematic_rate: float

    def __post_init__(self) -> None:
        self.p_mislabeled.setflags(write=False)
        self.labels.setflags(write=False)

    @property
    def n_issues(self) -> int:
        """Number of flagged tags."""
        return len(self.issues)

    @property
    def expected_errors(self) -> float:
        """Estimated number of wrong tags: the sum of ``p_mislabeled``."""
        return float(self.p_mislabeled.sum())

    def headline(self) -> str:
        """One sentence: the health, the expected and the flagged number of wrong tags."""
        n, k = self.p_mislabeled.shape
        return (
            f"Tag health {self.health:.1%} (examples with every tag right): about "
            f"{self.expected_errors:.0f} wrong tags expected among {n} examples x {k} "
            f"classes; {self.n_issues} flagged."
        )

    def tag_table(self) -> pd.DataFrame:
        """Every example's row of :attr:`examples` (the queue's columns), in example order;
        an example with no flagged tag has its given tags as suggested and no changes."""
        names = [str(name) for name in self.classes["class_name"]]
        flagged = self.p_mislabeled >= self.threshold
        return _tag_rows(names, self.labels, self.p_mislabeled, flagged, None)

    def save(self, folder: str | Path, *, force: bool = False) -> None:
        """Write the folder that ``labelaudit multilabel --out`` writes: ``report.html``,
        ``queue.csv`` (:attr:`examples`), ``tag_table.csv`` (:meth:`tag_table`, which the
        review page reads), ``tag_issues.csv``, ``classes.csv`` and ``summary.json``.

        Parameters
        ----------
        folder : str or Path
            Made if missing.
        force : bool, default=False
            Overwrite the files of an earlier audit; without it they are an error.
        """
        from labelaudit._folder import MULTILABEL_OUTPUTS, check_out_dir, write_multilabel

        check_out_dir(Path(folder), force, MULTILABEL_OUTPUTS, ("force=True", "folder"))
        write_multilabel(self, Path(folder), {})

    def systematic_classes(self) -> list[str]:
        """One line per class whose tag is systematically missing or spurious."""
        lines = []
        for row in self.classes.itertuples():
            for direction in DIRECTIONS:
                if getattr(row, f"{direction}_verdict") == "systematic":
                    rate = getattr(row, f"{direction}_rate")
                    lines.append(f"{row.class_name}: {_rate_text(direction, rate)}")
        return lines

    def _summary(self) -> Summary:
        top = self.examples.head(REPR_ROWS)
        return Summary(
            title="<MultilabelAudit>",
            headline=self.headline(),
            heading="Systematic (fix the guideline):",
            advice=self.systematic_classes(),
            none=NO_SYSTEMATIC,
            more_in=".classes",
            tables="Tables: .examples (the queue), .issues (flagged tags), .classes; "
            ".p_mislabeled for every tag.",
            tables_html="Tables: <code>.examples</code> (the queue), <code>.issues</code> "
            "(flagged tags), <code>.classes</code>; <code>.save(folder)</code> writes the "
            "report.",
            top=top,
            top_caption=f"Most likely wrong ({len(top)} of {len(self.examples)} examples):",
            top_index=False,
        )

    def __repr__(self) -> str:
        return self._summary().text()

    def _repr_html_(self) -> str:
        """The same summary for notebooks, with the first examples of the queue."""
        return self._summary().html()


def _rate_text(direction: str, rate: float) -> str:
    if direction == "missing":
        return f"missing on {rate:.1%} of the examples it applies to"
    return f"given to {rate:.1%} of the examples it does not apply to"


def _verdicts(noise: PairStats) -> np.ndarray[Any, Any]:
    """'systematic', 'individual' or 'clean' for every (class, direction)."""
    return np.where(noise.systematic, "systematic", np.where(noise.clean, "clean", "individual"))


def _class_action(name: str, verdicts: np.ndarray[Any, Any]) -> str:
    missing, spurious = verdicts
    if missing == "systematic" and spurious == "systematic":
        return f"fix the guideline: when does {name} apply? It is both left out and given wrongly"
    if missing == "systematic":
        return f"fix the guideline: annotators often leave out {name}"
    if spurious == "systematic":
        return f"fix the guideline: annotators often give {name} where it does not apply"
    if "individual" in (missing, spurious):
        return "fix the flagged examples"
    return "nothing to fix"


def _classes_frame(
    names: list[str], tags: Any, noise: PairStats, verdicts: Any, flagged: Any
) -> pd.DataFrame:
    columns: dict[str, Any] = {
        "class_name": names,
        "n_tagged": tags.sum(axis=0),
        "n_estimated": noise.n_true[:, 0],
    }
    for d, direction in enumerate(DIRECTIONS):
        columns[f"n_{direction}"] = noise.count[:, d]
        columns[f"{direction}_rate"] = noise.rate[:, d]
        columns[f"{direction}_low"] = noise.rate_low[:, d]
        columns[f"{direction}_high"] = noise.rate_high[:, d]
        columns[f"{direction}_verdict"] = verdicts[:, d]
    columns["n_flagged"] = flagged.sum(axis=0)
    columns["action"] = [_class_action(name, v) for name, v in zip(names, verdicts, strict=True)]
    frame: pd.DataFrame = import_pandas().DataFrame(columns)
    return frame


def _issues_frame(
    names: list[str],
    tags: Any,
    probs: Any,
    p_wrong: Any,
    flagged: Any,
    noise: PairStats,
    verdicts: Any,
) -> pd.DataFrame:
    rows, classes = np.nonzero(flagged)
    given = tags[rows, classes]
    direction = given.astype(np.int64)  # tagged: spurious (1); not tagged: missing (0)
    kind = np.where(verdicts[classes, direction] == "systematic", "systematic", "individual")
    p_class = probs[rows, classes].astype(np.float64)
    reasons = [
        f"model gives {names[c]} {p:.2f}; "
        + ("tagged" if g else "not tagged")
        + f"; {names[c]} is {_rate_text(DIRECTIONS[d], noise.rate[c, d])}"
        + (": systematic" if k == "systematic" else "")
        for c, p, g, d, k in zip(classes, p_class, given, direction, kind, strict=True)
    ]
    frame: pd.DataFrame = import_pandas().DataFrame(
        {
            "example": rows,
            "class_name": np.asarray(names, dtype=object)[classes],
            "tagged": given,
            "p_class": p_class,
            "p_mislabeled": p_wrong[rows, classes],
            "action": np.where(given, "remove", "add"),
            "kind": kind,
            "reason": reasons,
        }
    )
    order = np.lexsort((classes, rows, -frame["p_mislabeled"].to_numpy()))
    return frame.iloc[order].reset_index(drop=True)


def _examples_frame(names: list[str], tags: Any, p_wrong: Any, flagged: Any) -> pd.DataFrame:
    """The queue: the examples with a flagged tag, most likely wrong first."""
    frame = _tag_rows(names, tags, p_wrong, flagged, np.flatnonzero(flagged.any(axis=1)))
    order = np.lexsort((frame["example"].to_numpy(), -frame["p_any_wrong"].to_numpy()))
    return frame.iloc[order].reset_index(drop=True)


def _row_strings(codes: Any, tokens: list[list[str]]) -> Any:
    """One string per row of ``codes`` (N x K small ints): the ``tokens[v - 1][c]`` of its
    non-zero entries v, joined by :data:`TAG_SEPARATOR`. Each distinct row is joined once
    (rows repeat: at most 2**K tag sets, far fewer in practice)."""
    codes = np.ascontiguousarray(codes, dtype=np.int8)
    keys = codes.view(np.dtype((np.void, codes.shape[1]))).ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    joined = [
        TAG_SEPARATOR.join(tokens[codes[i, c] - 1][c] for c in np.flatnonzero(codes[i]))
        for i in first
    ]
    return np.asarray(joined, dtype=object)[inverse.ravel()]


def _tag_rows(names: list[str], tags: Any, p_wrong: Any, flagged: Any, rows: Any) -> pd.DataFrame:
    """The queue's columns for the examples ``rows`` (None: all), in that order."""
    rows = np.arange(tags.shape[0]) if rows is None else rows
    given, flags = tags[rows], flagged[rows]
    frame: pd.DataFrame = import_pandas().DataFrame(
        {
            "example": rows,
            "given_tags": _row_strings(given, [names]),
            "suggested_tags": _row_strings(given ^ flags, [names]),
            # 1: a tag to add, 2: a tag to remove
            "changes": _row_strings(
                flags * (1 + given), [["+" + n for n in names], ["-" + n for n in names]]
            ),
            "n_flagged": flags.sum(axis=1),
            "p_any_wrong": 1 - np.prod(1 - p_wrong[rows], axis=1),
        }
    )
    return frame


def audit(
    labels: Any,
    pred_probs: Any,
    *,
    class_names: Any = None,
    threshold: float = 0.5,
    systematic_rate: float = 0.10,
    alpha: float = 0.05,
) -> MultilabelAudit:
    """Diagnose the tags of multi-label data: each tag's calibrated probability of being
    wrong, the tags to add or remove with a reason, and for each class whether its tag
    is left out or given wrongly systematically (fix the guideline) or by individual
    slips (fix the examples).

    Each class is a binary problem (tagged or not, pred_probs ``[1 - p, p]``) whose
    :func:`labelaudit.mislabeled_probability` gives every tag's probability of being wrong.

    Parameters
    ----------
    labels, pred_probs
        As in :func:`find_label_issues_per_class`.
    class_names : sequence of str, optional
        One name per column of pred_probs; by default a DataFrame's column names, else the
        column positions.
    threshold : float in (0, 1], default=0.5
        Flag the tags whose ``p_mislabeled`` is at least this.
    systematic_rate : float in (0, 1], default=0.10
        A class whose tag is missing (or spurious) at this rate or more, significantly
        above the background of slips, is systematic.
    alpha : float in (0, 1], default=0.05
        Significance level of that test (Bonferroni-corrected over the 2K directions).

    Returns
    -------
    MultilabelAudit

    Examples
    --------
    >>> import numpy as np
    >>> from labelaudit import multilabel
    >>> rng = np.random.default_rng(0)
    >>> true = rng.random((2000, 3)) < 0.3
    >>> given = true & ~((rng.random(2000) < 0.3)[:, None] & [True, False, False])
    >>> pred_probs = np.clip(np.where(true, 0.8, 0.1) + rng.normal(0, 0.1, true.shape), 0, 1)
    >>> result = multilabel.audit(given, pred_probs, class_names=["cat", "dog", "fox"])
    >>> result.systematic_classes()
    ['cat: missing on 31.5% of the examples it applies to']
    """
    threshold = check_fraction("threshold", threshold)
    systematic_rate = check_fraction("systematic_rate", systematic_rate)
    alpha = check_fraction("alpha", alpha)
    tags, probs = _checked(labels, pred_probs)
    names = _names(class_names, pred_probs, tags.shape[1])
    joined = [name for name in names if TAG_SEPARATOR in name]
    if joined:
        raise InvalidInputError(
            f"class names must not contain {TAG_SEPARATOR!r}, which joins an example's tags "
            f"in the audit's tables. Got {joined[:3]}; rename those classes."
        )
    p_wrong = np.column_stack(
        [
            mislabeled_probability(*binary_problem(tags[:, k], probs[:, k]))
            for k in range(tags.shape[1])
        ]
    )
    noise = tag_noise(tags, p_wrong, systematic_rate, alpha)
    verdicts = _verdicts(noise)
    flagged = p_wrong >= threshold
    return MultilabelAudit(
        issues=_issues_frame(names, tags, probs, p_wrong, flagged, noise, verdicts),
        classes=_classes_frame(names, tags, noise, verdicts, flagged),
        examples=_examples_frame(names, tags, p_wrong, flagged),
        p_mislabeled=p_wrong,
        labels=tags,
        health=float(np.prod(1 - p_wrong, axis=1).mean()),
        background_rate=noise.background,
        threshold=threshold,
        systematic_rate=systematic_rate,
    )
