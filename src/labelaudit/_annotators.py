"""Public: consensus labels, annotator quality and spammers, from several annotators."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from labelaudit._results import import_pandas
from labelaudit._typing import FloatArray, IntArray
from labelaudit._validation import (
    as_pred_probs,
    check_class_names,
    check_count,
    check_fraction,
    check_option,
    check_row_stats,
    column_names,
    row_stats,
)
from labelaudit.core import crowd
from labelaudit.core.verdict import wilson
from labelaudit.exceptions import InvalidInputError

if TYPE_CHECKING:
    import pandas as pd

AnnotatorMethod = Literal["auto", "majority", "dawid_skene", "model"]
METHODS = ("auto", "majority", "dawid_skene", "model")
#: A confusion (true k labeled l by one annotator) worth naming: at least this rate...
CONFUSION_RATE = 0.3
#: ...and at least this many expected examples.
CONFUSION_COUNT = 3.0
#: Annotators that the notebook summary of an :class:`AnnotatorAudit` lists.
REPR_ROWS = 5


@dataclass(frozen=True)
class AnnotatorAudit:
    """The result of :func:`analyze_annotators`.

    Attributes
    ----------
    consensus : pandas.DataFrame
        Indexed by item: ``label`` (the consensus class), ``p_correct`` (its posterior
        probability), ``n_annotations``, ``agreement`` (share of the item's annotators who
        gave the consensus label).
    annotators : pandas.DataFrame
        Indexed by annotator: ``accuracy`` (expected, against the consensus posterior) with
        its 95% interval ``accuracy_low``, ``accuracy_high``; ``n_labels``; ``chance`` (the
        accuracy of labels independent of the truth with the same label frequencies);
        ``kappa`` = (accuracy - chance) / (1 - chance); ``is_spammer`` (kappa below
        ``spammer_kappa``); ``confusions`` (the pairs this annotator mixes up, e.g.
        ``"cat->dog 40%"``).
    method : str
        The method used.
    model_weight : float
        Weight of ``log(pred_probs)`` in the item priors (method "model"), else 0.
    spammer_kappa : float
        The kappa below which an annotator counted as a spammer.
    """

    consensus: pd.DataFrame
    annotators: pd.DataFrame
    method: str
    model_weight: float
    _confusion: FloatArray
    _class_names: list[str]
    spammer_kappa: float = 0.2

    def confusion(self, annotator: Any) -> pd.DataFrame:
        """One annotator's noise matrix: rows = true class, columns = label given,
        entries P(label | true)."""
        pd = import_pandas()
        names = list(self.annotators.index)
        if annotator not in names:
            raise InvalidInputError(f"Unknown annotator {annotator!r}; known: {names[:10]}...")
        matrix = self._confusion[names.index(annotator)]
        return pd.DataFrame(matrix, index=self._class_names, columns=self._class_names)

    def headline(self) -> str:
        """One sentence: how sure the consensus is, the annotators' accuracy and the
        spammers."""
        p_correct = self.consensus["p_correct"]
        accuracy = self.annotators["accuracy"]
        spammers = [str(name) for name in self.annotators.index[self.annotators["is_spammer"]]]
        if not spammers:
            spam = "no likely spammer"
        else:
            more = f" and {len(spammers) - REPR_ROWS} more" if len(spammers) > REPR_ROWS else ""
            noun = "spammer" if len(spammers) == 1 else "spammers"
            spam = f"{len(spammers)} likely {noun}: {', '.join(spammers[:REPR_ROWS])}{more}"
        return (
            f"{len(self.consensus)} items, {len(self.annotators)} annotators ({self.method}): "
            f"consensus labels {p_correct.mean():.1%} likely right on average, "
            f"{int((p_correct < 0.5).sum())} below 50%; annotator accuracy "
            f"{accuracy.min():.1%} to {accuracy.max():.1%}; {spam}."
        )

    def __repr__(self) -> str:
        return (
            f"<AnnotatorAudit> {self.headline()}\n"
            "Tables: .consensus, .annotators; .confusion(annotator) for one annotator's "
            "noise matrix."
        )

    def _repr_html_(self) -> str:
        """The same summary for notebooks, with the annotators of lowest kappa (those
        the command line lists first)."""
        from html import escape

        worst = self.annotators.sort_values("kappa").head(REPR_ROWS)
        columns = ["accuracy", "accuracy_low", "accuracy_high", "n_labels", "kappa"]
        table: str = worst[[*columns, "is_spammer", "confusions"]].to_html(
            float_format="{:.3f}".format, escape=True
        )
        return (
            f"<p><b>{escape(self.headline())}</b></p>"
            f"<p>Lowest kappa ({len(worst)} of {len(self.annotators)} annotators):</p>"
            f"{table}<p>Tables: <code>.consensus</code>, <code>.annotators</code>; "
            "<code>.confusion(annotator)</code> for one annotator's noise matrix.</p>"
        )


@dataclass(frozen=True)
class _Long:
    item: IntArray
    annotator: IntArray
    label: IntArray
    n_items: int
    annotator_names: list[Any]
    item_index: Any


def _from_wide(values: np.ndarray[Any, Any], columns: list[Any], index: Any) -> _Long:
    if values.ndim != 2:
        raise InvalidInputError(
            f"Wide annotations must be 2-D (items x annotators). Got shape {values.shape}."
        )
    as_float = values.astype(np.float64)
    present = np.isfinite(as_float) & (as_float >= 0)
    if np.any(present & (as_float != np.round(as_float))):
        raise InvalidInputError("Annotations must be integer class labels (or NaN / -1).")
    item, annotator = np.nonzero(present)
    label = as_float[item, annotator].astype(np.int64)
    return _Long(item, annotator, label, values.shape[0], columns, index)


def _from_long(frame: Any) -> _Long:
    pd = import_pandas()
    items = pd.unique(frame["item"])  # before dropping labels: an item may have none left
    numbered = frame["item"].dtype.kind in "iu" and len(items) > 0
    if numbered and items.min() == 0 and items.max() == len(items) - 1:
        items = np.sort(items)  # items 0..N-1: item i is row i (of pred_probs too)
    items = pd.Index(items)
    frame = frame.dropna(subset=["label"])
    annotators = pd.Index(pd.unique(frame["annotator"]))
    labels = frame["label"].to_numpy()
    if labels.dtype.kind not in "iuf" or np.any(labels != np.round(labels)) or np.any(labels < 0):
        raise InvalidInputError(
            "The 'label' column must hold integer class labels >= 0; encode string labels "
            "first (pandas.factorize)."
        )
    return _Long(
        items.get_indexer(frame["item"]),
        annotators.get_indexer(frame["annotator"]),
        labels.astype(np.int64),
        len(items),
        list(annotators),
        items,
    )


def as_long(annotations: Any) -> _Long:
    """Accept a wide N x M table (array or DataFrame) or a long (item, annotator, label)."""
    if hasattr(annotations, "columns"):
        if {"item", "annotator", "label"} <= set(annotations.columns):
            return _from_long(annotations)
        kinds = annotations.dtypes.map(lambda d: getattr(d, "kind", "O"))
        if not kinds.isin(list("iufb")).all():
            raise InvalidInputError(
                "A DataFrame of annotations is long if it has the columns 'item', "
                "'annotator' and 'label', else wide (items x annotators) with numeric "
                f"labels. Got columns {list(annotations.columns)[:10]}, not all numeric; "
                "rename the long columns, or encode string labels first (pandas.factorize)."
            )
        return _from_wide(
            annotations.to_numpy(dtype=np.float64), list(annotations.columns), annotations.index
        )
    values = np.asarray(annotations)
    if values.dtype.kind not in "iuf":
        raise InvalidInputError(
            f"annotations must be numbers (class labels, NaN or -1 when missing). Got dtype "
            f"{values.dtype}; encode string labels first."
        )
    return _from_wide(values, list(range(values.shape[1] if values.ndim == 2 else 0)), None)


def _checked_probs(pred_probs: Any, n_items: int) -> FloatArray:
    """pred_probs as float64, one valid row (finite, in [0, 1], sum 1) per item."""
    probs = as_pred_probs(pred_probs)
    if probs.shape[0] != n_items:
        raise InvalidInputError(
            f"pred_probs has {probs.shape[0]} rows for {n_items} annotated items."
        )
    check_row_stats(row_stats(probs), probs.dtype)
    return probs.astype(np.float64)


def _n_classes(n_classes: Any, probs: FloatArray | None, largest: int) -> int:
    """The number of classes: ``n_classes``, else pred_probs' columns, else the largest
    label + 1; checked against both."""
    if n_classes is not None:
        k = check_count("n_classes", n_classes, minimum=2)
        if probs is not None and probs.shape[1] != k:
            raise InvalidInputError(
                f"n_classes={k} but pred_probs has {probs.shape[1]} columns; give one column "
                "per class, or leave n_classes=None."
            )
    else:
        k = probs.shape[1] if probs is not None else largest + 1
    if largest >= k:
        source = f"n_classes={k}" if n_classes is not None else f"pred_probs has {k} columns"
        raise InvalidInputError(
            f"annotations hold label {largest} but {source}; labels must be in [0, {k})."
        )
    return k


def _confusion_text(confusion: FloatArray, truth: FloatArray, names: list[str]) -> str:
    """The pairs true k -> l with a high rate and enough expected examples."""
    off = confusion * (1 - np.eye(confusion.shape[0]))
    hits = np.argwhere((off >= CONFUSION_RATE) & (truth[:, None] * off >= CONFUSION_COUNT))
    return ", ".join(f"{names[k]}->{names[j]} {off[k, j]:.0%}" for k, j in hits)


def analyze_annotators(
    annotations: Any,
    *,
    pred_probs: Any = None,
    method: AnnotatorMethod = "auto",
    n_classes: int | None = None,
    class_names: list[str] | None = None,
    spammer_kappa: float = 0.2,
) -> AnnotatorAudit:
    """Consensus labels, annotator accuracy and spammers from several annotators' labels.

    Parameters
    ----------
    annotations : array or DataFrame
        Wide: N items x M annotators, class labels with NaN or -1 where an annotator did
        not label an item (DataFrame columns name the annotators). Long: a DataFrame with
        columns ``item``, ``annotator``, ``label``.
    pred_probs : array of shape (N, K), optional
        A model's out-of-sample probabilities per item: row ``i`` is the wide input's row
        ``i``; in long input, the item numbered ``i`` when the items are numbered 0..N-1,
        else the ``i``-th item to appear.
    method : {"auto", "majority", "dawid_skene", "model"}, default="auto"
        ``majority``: vote shares. ``dawid_skene``: EM over per-annotator confusion
        matrices. ``model``: Dawid-Skene with each item's prior multiplied by
        ``pred_probs ** w``, w chosen so that the model and the other labels best predict
        each held-out label. ``auto``: ``model`` with pred_probs, else ``dawid_skene``.
    n_classes : int, optional
        Number of classes (default: from pred_probs, else the largest label + 1).
    class_names : sequence of str, optional
        One name per class (a list, an array or a pandas Index), for the confusion tables;
        defaults to the column names of a pandas DataFrame of pred_probs.
    spammer_kappa : float in (0, 1], default=0.2
        An annotator whose kappa (accuracy above chance, scaled) is below this is a
        spammer: a random clicker and someone who clicks mostly one class both score near
        0, a systematic confuser who swaps a few classes scores high.

    Returns
    -------
    AnnotatorAudit
    """
    method = check_option("method", method, METHODS)
    cut = check_fraction("spammer_kappa", spammer_kappa)
    long = as_long(annotations)
    if long.label.size == 0:
        raise InvalidInputError(
            "annotations hold no label: every entry is missing (NaN or -1). Give at least one."
        )
    probs = None if pred_probs is None else _checked_probs(pred_probs, long.n_items)
    k = _n_classes(n_classes, probs, int(long.label.max()))
    names = check_class_names(column_names(pred_probs) if class_names is None else class_names, k)
    if method == "auto":
        method = "model" if probs is not None else "dawid_skene"
    if method == "model" and probs is None:
        raise InvalidInputError("method='model' needs pred_probs.")
    n_annotators = len(long.annotator_names)
    args = (long.item, long.annotator, long.label)
    weight = 0.0
    if method == "majority":
        posterior = crowd.majority_posterior(
            crowd.vote_counts(long.item, long.label, long.n_items, k)
        )
        confusion = crowd.confusions(*args, posterior, n_annotators)
    else:
        log_probs = None
        if method == "model":
            assert probs is not None
            log_probs = np.log(np.maximum(probs / probs.sum(axis=1, keepdims=True), 1e-12))
            weight = crowd.fit_model_weight(*args, long.n_items, n_annotators, log_probs)
            log_probs = weight * log_probs
        posterior, confusion = crowd.dawid_skene(*args, long.n_items, n_annotators, k, log_probs)
    return AnnotatorAudit(
        consensus=_consensus_frame(long, posterior, k),
        annotators=_annotator_frame(long, posterior, confusion, names, cut),
        method=method,
        model_weight=weight,
        _confusion=confusion,
        _class_names=names,
        spammer_kappa=cut,
    )


def _consensus_frame(long: _Long, posterior: FloatArray, k: int) -> Any:
    pd = import_pandas()
    label = posterior.argmax(axis=1)
    n_annotations = np.bincount(long.item, minlength=long.n_items)
    agree = np.bincount(
        long.item, weights=(long.label == label[long.item]).astype(float), minlength=long.n_items
    )
    return pd.DataFrame(
        {
            "label": label,
            "p_correct": posterior.max(axis=1),
            "n_annotations": n_annotations,
            "agreement": agree / np.maximum(n_annotations, 1),
        },
        index=long.item_index,
    )


def _annotator_frame(
    long: _Long, posterior: FloatArray, confusion: FloatArray, names: list[str], cut: float
) -> Any:
    pd = import_pandas()
    stats = crowd.annotator_stats(
        long.item, long.annotator, long.label, posterior, len(long.annotator_names)
    )
    low, high = wilson(stats["accuracy"] * stats["n_labels"], stats["n_labels"])
    truth = np.zeros((len(long.annotator_names), posterior.shape[1]))
    np.add.at(truth, long.annotator, posterior[long.item])
    return pd.DataFrame(
        {
            "accuracy": stats["accuracy"],
            "accuracy_low": low,
            "accuracy_high": high,
            "n_labels": stats["n_labels"].astype(np.int64),
            "chance": stats["chance"],
            "kappa": stats["kappa"],
            "is_spammer": stats["kappa"] < cut,
            "confusions": [
                _confusion_text(confusion[m], truth[m], names)
                for m in range(len(long.annotator_names))
            ],
        },
        index=pd.Index(long.annotator_names, name="annotator"),
    )
