"""Public diagnosis: which labels are wrong, how sure we are, why, and what to fix."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from labelaudit._count import noise_of, prepared
from labelaudit._results import NoiseEstimate, import_pandas
from labelaudit._summary import REPR_ROWS, Summary
from labelaudit._typing import BoolArray, Engine, FloatArray, IntArray, LabelsLike, ProbsLike
from labelaudit._validation import (
    check_class_names,
    check_fraction,
    column_names,
    labels_by_name,
)
from labelaudit.core import posterior as core_posterior
from labelaudit.core.verdict import PairStats, pair_stats
from labelaudit.exceptions import LabelauditWarning

if TYPE_CHECKING:
    import pandas as pd

KINDS = ("none", "individual", "systematic", "ambiguous")
NO_SYSTEMATIC = "No systematic confusion: the errors are individual slips."


@dataclass(frozen=True)
class Audit:
    """The result of :func:`audit`. Read ``docs/diagnosis.md`` for every column.

    Attributes
    ----------
    issues : pandas.DataFrame
        One row per example (index = position): ``given_label``, ``suggested_label``,
        ``quality_score``, ``p_mislabeled``, ``is_issue``, ``kind`` (``none``,
        ``individual``, ``systematic`` or ``ambiguous``) and ``reason`` (empty when not
        flagged).
    class_pairs : pandas.DataFrame
        One row per off-diagonal (true, given) class pair: ``true_label``, ``given_label``,
        ``count`` (expected number of examples), ``n_flagged``, ``rate`` = P(given | true)
        with its 95% interval ``rate_low``, ``rate_high``, ``p_value`` against the
        background rate, ``verdict`` (``systematic``, ``individual``, ``clean``) and
        ``action``. Sorted by verdict, then count.
    classes : pandas.DataFrame
        One row per class: ``class_name``, ``n_given``, ``n_estimated`` (expected number of
        examples truly of the class), ``expected_errors`` among those labeled with it,
        ``error_rate``, ``n_issues``, ``threshold`` (confident-learning threshold),
        ``mean_quality_score``.
    health : float
        Estimated share of correct labels, ``1 - mean(p_mislabeled)``, in [0, 1].
    noise : NoiseEstimate
        Confident learning's noise estimate of the same data, for reference.
    background_rate : float
        The scattered-noise rate the systematic test compares against.
    power : float
        The fitted sharpness of the posterior (see :func:`mislabeled_probability`).
    threshold : float
        The ``p_mislabeled`` at or above which an example is flagged.
    warnings : tuple of str
        What the audit also issued as :class:`LabelauditWarning`: pred_probs' columns that
        look reordered, or a health so low that the flags more likely reflect the model.
        The report shows them first.
    """

    issues: pd.DataFrame
    class_pairs: pd.DataFrame
    classes: pd.DataFrame
    health: float
    noise: NoiseEstimate
    background_rate: float
    power: float
    threshold: float
    warnings: tuple[str, ...] = ()

    @property
    def n_issues(self) -> int:
        """Number of flagged examples."""
        return int(self.issues["is_issue"].sum())

    def ranked_issues(self) -> pd.DataFrame:
        """The flagged rows of :attr:`issues`, most likely wrong first (ties, common at
        ``p_mislabeled`` = 1, broken by the lower quality score, then by position)."""
        return rank_flagged(self.issues)

    @property
    def expected_errors(self) -> float:
        """Estimated number of wrong labels: the sum of ``p_mislabeled``."""
        return float(self.issues["p_mislabeled"].sum())

    def save(self, folder: str | Path, *, force: bool = False) -> None:
        """Write the audit folder that ``labelaudit audit --out`` writes: ``report.html``,
        ``issues.csv``, ``issues.parquet`` and ``summary.json``.

        ``labelaudit review FOLDER`` (or :func:`labelaudit.app.create_app`) then reviews
        the flagged examples, and ``labelaudit export FOLDER`` writes a relabeling queue.

        Parameters
        ----------
        folder : str or Path
            Made if missing.
        force : bool, default=False
            Overwrite the files of an earlier audit; without it they are an error.

        Examples
        --------
        >>> import labelaudit
        >>> result = labelaudit.audit(labels, pred_probs)  # doctest: +SKIP
        >>> result.save("audit-folder")  # doctest: +SKIP
        """
        from labelaudit._folder import save_audit

        save_audit(self, Path(folder), force)

    def headline(self) -> str:
        """One sentence: the label health, the expected and the flagged number of wrong
        labels (the first line the command line prints)."""
        return (
            f"Label health {self.health:.1%}: about {self.expected_errors:.0f} wrong labels "
            f"expected among {len(self.issues)}; {self.n_issues} flagged."
        )

    def systematic_confusions(self) -> list[str]:
        """One line per class pair judged systematic, largest first: how often the true
        class is given the other label, and what to do about it."""
        pairs = self.class_pairs
        return [
            f"{row.true_label} labeled {row.given_label}: {row.rate:.1%} of {row.true_label} "
            f"({row.count:.0f} examples): {row.action}"
            for row in pairs[pairs["verdict"] == "systematic"].itertuples()
        ]

    def _summary(self) -> Summary:
        columns = ["given_label", "suggested_label", "p_mislabeled", "kind", "reason"]
        top = self.ranked_issues().head(REPR_ROWS)[columns]
        return Summary(
            title=f"<Audit of {len(self.issues)} labels>",
            headline=self.headline(),
            heading="Systematic confusions (fix the guideline):",
            advice=self.systematic_confusions(),
            none=NO_SYSTEMATIC,
            more_in=".class_pairs",
            tables="Tables: .issues, .ranked_issues(), .class_pairs, .classes; "
            ".save(folder) writes the report and the review page's folder.",
            tables_html="Tables: <code>.issues</code>, <code>.ranked_issues()</code>, "
            "<code>.class_pairs</code>, <code>.classes</code>; <code>.save(folder)</code> "
            "writes the report and the review page's folder.",
            top=top,
            top_caption=f"Most likely wrong ({len(top)} of {self.n_issues} flagged):",
            warnings=list(self.warnings),
        )

    def __repr__(self) -> str:
        return self._summary().text()

    def _repr_html_(self) -> str:
        """The same summary for notebooks, with the top flagged examples as a table."""
        return self._summary().html()


def rank_flagged(issues: pd.DataFrame) -> pd.DataFrame:
    """Flagged rows by decreasing ``p_mislabeled``, then increasing ``quality_score``."""
    flagged = issues[issues["is_issue"].astype(bool)]
    order = np.lexsort(
        (
            np.arange(len(flagged)),
            flagged["quality_score"].to_numpy(),
            -flagged["p_mislabeled"].to_numpy(),
        )
    )
    return flagged.iloc[order]


@dataclass(frozen=True)
class _Context:
    """Everything the tables are built from."""

    labels: IntArray
    summary: core_posterior.PosteriorSummary
    pairs: PairStats
    names: list[str]
    thresholds: FloatArray
    scores: FloatArray
    flagged: BoolArray
    suggested: IntArray
    kinds: IntArray


#: Warn that pred_probs' columns may be in another order than the labels' classes when
#: some relabeling of the columns puts at least this many times as many confidently
#: counted examples on their label as the order given does.
PERMUTED_FACTOR = 2.0


def permuted_columns(confident_joint: IntArray, names: list[str]) -> str | None:
    """A warning if the confident joint (rows: given label, columns: the class pred_probs
    is confident of) is concentrated on a permutation other than its diagonal, else None:
    a model whose ``classes_`` are ordered differently from the labels' codes makes almost
    every label look wrong, and everything computed from it is then meaningless."""
    joint = np.asarray(confident_joint, dtype=np.float64)
    total, agree = joint.sum(), np.trace(joint)
    if agree * PERMUTED_FACTOR > total:  # no relabeling can do PERMUTED_FACTOR times better
        return None
    from scipy.optimize import linear_sum_assignment

    given, column = linear_sum_assignment(joint, maximize=True)
    best = joint[given, column].sum()
    if best < PERMUTED_FACTOR * agree:
        return None
    moved = [(int(g), int(c)) for g, c in zip(given, column, strict=True) if g != c]
    shown = ", ".join(f"label {names[g]} -> column {names[c]}" for g, c in moved[:5])
    more = f" and {len(moved) - 5} more" if len(moved) > 5 else ""
    return (
        f"pred_probs' columns may not be in the order of the labels' classes: {agree / total:.0%} "
        f"of the confidently predicted examples agree with their label, {best / total:.0%} would "
        f"if the columns were reordered ({shown}{more}). Check that column k of pred_probs is "
        "the probability of label k (for example the model's classes_ against the label "
        "encoding); otherwise the flags mostly reflect the mismatch."
    )


#: Below this health (estimated share of right labels) the audit warns that its flags
#: more likely reflect the model than the labels.
LOW_HEALTH = 0.5


def low_health(health: float) -> str | None:
    """A warning if the health is below :data:`LOW_HEALTH`, else None."""
    if health >= LOW_HEALTH:
        return None
    return (
        f"The audit estimates that {1 - health:.0%} of the labels are wrong. Labels that "
        "noisy are rare; more often pred_probs are not out-of-sample predictions of a model "
        "that learned the task (a weak or untrained model, or probabilities that ignore the "
        "input). Check the model's accuracy on held-out data before acting on the flags."
    )


def _kinds(
    pairs: PairStats,
    summary: core_posterior.PosteriorSummary,
    labels: IntArray,
    flagged: BoolArray,
) -> IntArray:
    """Index into :data:`KINDS` for every example."""
    systematic = pairs.systematic[summary.alternative, labels]
    kinds = np.where(systematic, KINDS.index("systematic"), KINDS.index("individual"))
    kinds = np.where(summary.p_alternative < 0.5, KINDS.index("ambiguous"), kinds)
    return np.where(flagged, kinds, KINDS.index("none")).astype(np.int64)


def _reasons(ctx: _Context, rows: IntArray) -> list[str]:
    """One sentence per example of ``rows`` saying why it is flagged. What depends on
    the classes only (names, threshold, pair rate, kind) is written once per class or
    pair (at 1e6 x 100 with 1e5 flags the issues table took 0.6 s with every part
    formatted per row, 0.4 s this way)."""
    names, summary = ctx.names, ctx.summary
    given = ctx.labels[rows]
    alt = summary.alternative[rows]
    p_given = ctx.scores[rows]
    below = p_given < ctx.thresholds[given]
    threshold = [
        f"{name}'s threshold {t:.2f}"
        for name, t in zip(names, ctx.thresholds.tolist(), strict=True)
    ]
    tails: dict[tuple[int, int, int], str] = {}
    ambiguous = KINDS.index("ambiguous")
    out = []
    for g, a, pg, pa, low, kind, p_alt in zip(
        given.tolist(),
        alt.tolist(),
        p_given.tolist(),
        summary.model_alternative[rows].tolist(),
        below.tolist(),
        ctx.kinds[rows].tolist(),
        summary.p_alternative[rows].tolist(),
        strict=True,
    ):
        head = (
            f"model gives {names[a]} {pa:.2f}; the label {names[g]} gets {pg:.2f}, "
            f"{'below' if low else 'at or above'} {threshold[g]}"
        )
        if kind == ambiguous:
            out.append(
                f"{head}; no other class is clear (best {names[a]}, {p_alt:.0%} likely): "
                "ambiguous, review or remove"
            )
            continue
        tail = tails.get((a, g, kind))
        if tail is None:
            rate = ctx.pairs.rate[a, g]
            tail = f"; {names[a]} labeled {names[g]}: {rate:.1%} of {names[a]}: {KINDS[kind]} error"
            tails[(a, g, kind)] = tail
        out.append(head + tail)
    return out


def _issues_frame(ctx: _Context) -> pd.DataFrame:
    pd = import_pandas()
    labels = ctx.labels
    reasons = np.full(labels.shape[0], "", dtype=object)
    flagged = np.flatnonzero(ctx.flagged)
    reasons[flagged] = _reasons(ctx, flagged)

    def named(codes: IntArray) -> Any:
        return pd.Categorical.from_codes(codes, categories=ctx.names)

    return pd.DataFrame(
        {
            "given_label": named(labels),
            "suggested_label": named(ctx.suggested),
            "quality_score": ctx.scores,
            "p_mislabeled": ctx.summary.p_mislabeled,
            "is_issue": ctx.flagged,
            "kind": pd.Categorical.from_codes(ctx.kinds, categories=list(KINDS)),
            "reason": reasons,
        }
    )


def _action(ctx: _Context, true: int, given: int, n_flagged: int) -> str:
    names, pairs = ctx.names, ctx.pairs
    if pairs.systematic[true, given]:
        advice = f"fix the guideline: {names[true]} is often labeled {names[given]}"
        if pairs.systematic[given, true]:
            advice += f"; consider merging {names[true]} and {names[given]}"
        return advice
    if pairs.clean[true, given]:
        return ""
    if n_flagged == 0:
        return "no single example is confidently wrong; spot-check"
    return f"relabel the {n_flagged} flagged example" + ("s" if n_flagged > 1 else "")


def _actions(ctx: _Context, true: IntArray, given: IntArray, n_flagged: IntArray) -> Any:
    """The action of every listed pair; clean pairs (most of them when K is large) get ""."""
    actions = np.full(true.shape[0], "", dtype=object)
    for row in np.flatnonzero(~ctx.pairs.clean[true, given]):
        t, g = int(true[row]), int(given[row])
        actions[row] = _action(ctx, t, g, int(n_flagged[t, g]))
    return actions


#: The verdicts of a class pair, in the order the pairs table lists them.
VERDICTS = ["systematic", "individual", "clean"]


def _pairs_frame(ctx: _Context) -> pd.DataFrame:
    pd = import_pandas()
    k, pairs = len(ctx.names), ctx.pairs
    true, given = np.nonzero(~np.eye(k, dtype=bool))
    n_flagged = np.zeros((k, k), dtype=np.int64)
    np.add.at(n_flagged, (ctx.suggested[ctx.flagged], ctx.labels[ctx.flagged]), 1)
    # codes into VERDICTS (a categorical from 1e6 strings took 0.7 s at K = 1000)
    verdict = np.where(pairs.systematic, 0, np.where(pairs.clean, 2, 1))[true, given]
    frame = pd.DataFrame(
        {
            "true_label": pd.Categorical.from_codes(true, categories=ctx.names),
            "given_label": pd.Categorical.from_codes(given, categories=ctx.names),
            "count": pairs.count[true, given],
            "n_flagged": n_flagged[true, given],
            "rate": pairs.rate[true, given],
            "rate_low": pairs.rate_low[true, given],
            "rate_high": pairs.rate_high[true, given],
            "p_value": pairs.p_value[true, given],
            "verdict": pd.Categorical.from_codes(verdict, categories=VERDICTS),
            "action": _actions(ctx, true, given, n_flagged),
        }
    )
    order = np.lexsort((-frame["count"].to_numpy(), frame["verdict"].cat.codes.to_numpy()))
    return frame.iloc[order].reset_index(drop=True)


def _classes_frame(ctx: _Context) -> pd.DataFrame:
    pd = import_pandas()
    k, labels = len(ctx.names), ctx.labels
    joint = ctx.summary.expected_joint
    n_given = np.bincount(labels, minlength=k)
    expected_errors = joint.sum(axis=0) - np.diag(joint)
    score_sums = np.bincount(labels, weights=ctx.scores, minlength=k)
    return pd.DataFrame(
        {
            "class_name": ctx.names,
            "n_given": n_given,
            "n_estimated": joint.sum(axis=1),
            "expected_errors": expected_errors,
            "error_rate": expected_errors / np.maximum(n_given, 1),
            "n_issues": np.bincount(labels[ctx.flagged], minlength=k),
            "threshold": ctx.thresholds,
            "mean_quality_score": score_sums / np.maximum(n_given, 1),
        }
    )


def audit(
    labels: LabelsLike,
    pred_probs: ProbsLike,
    *,
    class_names: Sequence[str] | None = None,
    threshold: float = 0.5,
    systematic_rate: float = 0.10,
    background_rate: float | None = None,
    alpha: float = 0.05,
    n_classes: int | None = None,
    engine: Engine = "auto",
) -> Audit:
    """Diagnose the labels: per-example probabilities, suggestions and reasons, and per
    class pair a verdict of systematic confusion or individual errors.

    Parameters
    ----------
    labels : array-like of shape (n_samples,)
        Given labels, integers in ``[0, n_classes)``, or class names (strings, or a
        pandas Categorical of them) when the class names are known.
    pred_probs : array-like of shape (n_samples, n_classes)
        Out-of-sample predicted probabilities (for example from cross-validation).
    class_names : sequence of str, optional
        One name per column of ``pred_probs`` (a model's ``classes_``); defaults to the
        column names of a pandas DataFrame of pred_probs, else "0", "1", ...
    threshold : float in (0, 1], default=0.5
        Flag an example when ``p_mislabeled`` reaches this (0.5 flags the examples more
        likely wrong than right).
    systematic_rate : float in (0, 1], default=0.10
        A (true, given) pair is systematic when its rate P(given | true) is at least this
        and significantly above the background rate.
    background_rate : float in (0, 1], optional
        The rate of scattered noise to test against; by default the pooled rate of the
        pairs below ``systematic_rate`` (typically 1-2% per pair or less).
    alpha : float in (0, 1], default=0.05
        Family-wise level of the binomial tests (Bonferroni over the K(K-1) pairs).
    n_classes : int, optional
        Number of classes; defaults to the number of columns of ``pred_probs``.
    engine : {"auto", "numpy", "streaming", "dask"}, default="auto"
        How to read ``pred_probs`` (see ``docs/engines.md``); streamed or on Dask, the
        audit takes four passes and never holds pred_probs, only per-example columns.

    Returns
    -------
    Audit

    Examples
    --------
    >>> import numpy as np, labelaudit
    >>> rng = np.random.default_rng(0)
    >>> true = np.repeat([0, 1, 2], 200)
    >>> pred_probs = np.full((600, 3), 0.05)
    >>> pred_probs[np.arange(600), true] = 0.9
    >>> labels = true.copy()
    >>> labels[:30] = 1  # 15% of class 0 labeled 1: a systematic confusion
    >>> labels[[250, 450]] = [2, 0]  # two slips
    >>> result = labelaudit.audit(labels, pred_probs, class_names=["cat", "dog", "fox"])
    >>> result.n_issues
    32
    >>> pairs = result.class_pairs
    >>> pairs.loc[pairs["verdict"] == "systematic", ["true_label", "given_label"]].values.tolist()
    [['cat', 'dog']]
    >>> str(result.issues.loc[450, "kind"]), str(result.issues.loc[450, "suggested_label"])
    ('individual', 'fox')
    """
    cut = check_fraction("threshold", threshold)
    rate = check_fraction("systematic_rate", systematic_rate)
    background = (
        None if background_rate is None else check_fraction("background_rate", background_rate)
    )
    level = check_fraction("alpha", alpha)
    given_names = column_names(pred_probs) if class_names is None else class_names
    labels = labels_by_name(labels, given_names)
    prep = prepared(labels, pred_probs, n_classes, "joint", engine, frozenset({"sample"}))
    names = check_class_names(given_names, prep.n_classes)
    noise = noise_of(prep)
    power, summary = prep.posterior_summary()
    health = float(1.0 - summary.p_mislabeled.mean())
    # reordered columns also explain a low health: one warning is enough
    note = permuted_columns(noise.confident_joint, names) or low_health(health)
    notes = () if note is None else (note,)
    for message in notes:
        warnings.warn(message, LabelauditWarning, stacklevel=2)
    pairs = pair_stats(summary.expected_joint, rate, background, level)
    flagged = summary.p_mislabeled >= cut
    labs = prep.labels
    ctx = _Context(
        labels=labs,
        summary=summary,
        pairs=pairs,
        names=names,
        thresholds=np.asarray(noise.thresholds, dtype=np.float64),
        scores=np.asarray(prep.self_confidence(), dtype=np.float64),
        flagged=flagged,
        suggested=np.where(flagged, summary.alternative, labs),
        kinds=_kinds(pairs, summary, labs, flagged),
    )
    return Audit(
        issues=_issues_frame(ctx),
        class_pairs=_pairs_frame(ctx),
        classes=_classes_frame(ctx),
        health=health,
        noise=noise,
        background_rate=pairs.background,
        power=power,
        threshold=cut,
        warnings=notes,
    )
