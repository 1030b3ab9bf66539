"""render(audit) -> str: the report as one HTML document."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np

from labelaudit.exceptions import InvalidInputError
from labelaudit.report import _plots

if TYPE_CHECKING:
    from labelaudit._annotators import AnnotatorAudit
    from labelaudit._audit import Audit
    from labelaudit.multilabel import MultilabelAudit

#: At most this many class pairs are listed (all non-clean ones first).
MAX_PAIRS = 60
#: At most this many classes are listed (the worst error rates first).
MAX_CLASSES = 100
#: Text shown per example is cut to this many characters.
MAX_TEXT = 300


def _template(name: str = "report.html.j2") -> Any:
    from jinja2 import Environment, FunctionLoader, select_autoescape

    folder = resources.files("labelaudit.report") / "templates"
    env = Environment(
        loader=FunctionLoader(lambda name: (folder / name).read_text(encoding="utf-8")),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
    return env.get_template(name), (folder / "report.css").read_text("utf-8")


def _rate_matrix(audit: Audit) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    pairs = audit.class_pairs
    k = len(audit.classes)
    rates = np.zeros((k, k))
    systematic = np.zeros((k, k), dtype=bool)
    t = pairs["true_label"].cat.codes.to_numpy()
    g = pairs["given_label"].cat.codes.to_numpy()
    rates[t, g] = pairs["rate"].to_numpy()
    systematic[t, g] = (pairs["verdict"] == "systematic").to_numpy()
    np.fill_diagonal(rates, 1.0 - rates.sum(axis=1))
    return rates, systematic


def _top_issues(
    audit: Audit, top: int, images: Any, texts: Sequence[str] | None
) -> list[dict[str, Any]]:
    flagged = audit.ranked_issues()
    rows = []
    for index, row in flagged.head(top).iterrows():
        item = {key: row[key] for key in row.index}
        item["given_label"], item["suggested_label"] = (
            str(row["given_label"]),
            str(row["suggested_label"]),
        )
        item["kind"], item["index"] = str(row["kind"]), int(index)
        if images is not None:
            item["image"] = _plots.image_uri(images[int(index)])
        if texts is not None:
            item["text"] = str(texts[int(index)])[:MAX_TEXT]
        rows.append(item)
    return rows


def _check_extras(
    audit: Any, images: Any, texts: Any, true_labels: Any, top: Any
) -> tuple[Any, list[str] | None, Any, int]:
    """The optional inputs of :func:`render`, checked against the audit's examples."""
    from labelaudit._audit import Audit
    from labelaudit._validation import as_labels, check_count, check_images

    if not isinstance(audit, Audit):
        raise InvalidInputError(
            f"render takes the Audit that labelaudit.audit returns. Got {type(audit).__name__}."
        )
    n, k = len(audit.issues), len(audit.classes)
    top = check_count("top", top)
    if texts is not None:
        texts = [str(t) for t in texts]
        if len(texts) != n:
            raise InvalidInputError(
                f"texts has {len(texts)} entries for {n} examples; give one per example, in "
                "the order of the audit's labels."
            )
    if images is not None:
        images = check_images(images, n)
    if true_labels is not None:
        true_labels = as_labels(true_labels, n_classes=k, columns=f"the audit has {k} classes")
        if true_labels.shape[0] != n:
            raise InvalidInputError(
                f"true_labels has {true_labels.shape[0]} entries for {n} examples."
            )
    return images, texts, true_labels, top


def render(
    audit: Audit,
    *,
    title: str = "labelaudit report",
    metadata: Mapping[str, Any] | None = None,
    images: Any = None,
    texts: Sequence[str] | None = None,
    true_labels: Any = None,
    top: int = 50,
) -> str:
    """The audit as one self-contained HTML document (no network needed to view it).

    Parameters
    ----------
    audit : Audit
        The result of :func:`labelaudit.audit`.
    title : str
        Page title.
    metadata : mapping, optional
        Key/value pairs listed at the end (inputs, model, folds, seeds...).
    images : array of shape (n_samples, H, W) or (n_samples, H, W, 3), optional
        Thumbnails shown next to the top issues.
    texts : sequence of str, optional
        Text of each example, shown next to the top issues.
    true_labels : array-like of shape (n_samples,), optional
        Known true labels (as class positions): adds a reliability plot of p_mislabeled.
    top : int
        How many top issues to list.

    Returns
    -------
    str
        The HTML. Every string from the data (class names, reasons, texts, metadata) is
        escaped.
    """
    from labelaudit import __version__

    images, texts, true_labels, top = _check_extras(audit, images, texts, true_labels, top)
    template, css = _template()
    pairs = audit.class_pairs
    shown = pairs[pairs["verdict"] != "clean"].head(MAX_PAIRS)
    rates, systematic = _rate_matrix(audit)
    issues = audit.issues
    p = issues["p_mislabeled"].to_numpy()
    reliability = None
    if true_labels is not None:
        given = issues["given_label"].cat.codes.to_numpy()
        reliability = _plots.reliability(p, given != np.asarray(true_labels))
    classes = audit.classes.sort_values("error_rate", ascending=False, kind="stable")
    return str(
        template.render(
            title=title,
            css=css,
            version=__version__,
            n_examples=len(issues),
            n_classes=len(audit.classes),
            warnings=list(audit.warnings),
            health=audit.health,
            expected_errors=audit.expected_errors,
            n_issues=audit.n_issues,
            threshold=audit.threshold,
            background_rate=audit.background_rate,
            systematic=list(pairs[pairs["verdict"] == "systematic"].itertuples()),
            heatmap=_plots.noise_heatmap(
                rates, [str(c) for c in audit.classes["class_name"]], systematic
            ),
            pairs=list(shown.itertuples()),
            pairs_hidden=len(pairs) - len(shown),
            classes=list(classes.head(MAX_CLASSES).itertuples()),
            distributions=_plots.distributions(p, issues["quality_score"].to_numpy()),
            reliability=reliability,
            issues=_top_issues(audit, top, images, texts),
            has_images=images is not None,
            has_texts=texts is not None,
            metadata=[(str(k), str(v)) for k, v in (metadata or {}).items()],
        )
    )


#: How many of the lowest-kappa annotators get a confusion heatmap.
MAX_HEATMAPS = 4


def render_annotators(
    result: AnnotatorAudit,
    *,
    title: str = "labelaudit annotators",
    metadata: Mapping[str, Any] | None = None,
    spammer_kappa: float | None = None,
) -> str:
    """The annotator analysis as one self-contained HTML document: summary, the annotator
    table (lowest kappa first) and confusion heatmaps of the worst annotators.

    Parameters
    ----------
    result : AnnotatorAudit
        The result of :func:`labelaudit.analyze_annotators`.
    title : str
        Page title.
    metadata : mapping, optional
        Key/value pairs listed at the end.
    spammer_kappa : float, optional
        The spammer cut to state in the summary; by default the one the analysis used
        (``result.spammer_kappa``), which is what decided ``is_spammer``.

    Returns
    -------
    str
        The HTML; every string from the data is escaped.
    """
    from labelaudit import __version__
    from labelaudit._annotators import AnnotatorAudit

    if not isinstance(result, AnnotatorAudit):
        raise InvalidInputError(
            "render_annotators takes the AnnotatorAudit that labelaudit.analyze_annotators "
            f"returns. Got {type(result).__name__}."
        )
    if spammer_kappa is None:
        spammer_kappa = result.spammer_kappa
    template, css = _template("annotators.html.j2")
    table = result.annotators.sort_values("kappa", kind="stable")
    rows = [dict(row._asdict(), name=str(row.Index)) for row in table.itertuples()]
    heatmaps = [
        {
            "name": str(name),
            "uri": _plots.confusion_heatmap(
                result.confusion(name).to_numpy(),
                list(result.confusion(name).columns),
                f"annotator {name}",
            ),
        }
        for name in table.index[:MAX_HEATMAPS]
    ]
    consensus = result.consensus
    return str(
        template.render(
            title=title,
            css=css,
            version=__version__,
            n_items=len(consensus),
            n_annotators=len(table),
            method=result.method,
            mean_p_correct=float(consensus["p_correct"].mean()),
            mean_agreement=float(consensus["agreement"].mean()),
            n_spammers=int(table["is_spammer"].sum()),
            n_confusers=int(((table["confusions"] != "") & ~table["is_spammer"]).sum()),
            spammer_kappa=spammer_kappa,
            annotators=rows,
            heatmaps=heatmaps,
            metadata=[(str(k), str(v)) for k, v in (metadata or {}).items()],
        )
    )


def render_multilabel(
    result: MultilabelAudit,
    *,
    title: str = "labelaudit multi-label report",
    metadata: Mapping[str, Any] | None = None,
    top: int = 100,
) -> str:
    """The multi-label audit as one self-contained HTML document: summary and advice, the
    missing and spurious tag rates per class (a plot and a table, the worst classes first),
    the examples to fix (the queue) and the top flagged tags.

    Parameters
    ----------
    result : MultilabelAudit
        The result of :func:`labelaudit.multilabel.audit`.
    title : str
        Page title.
    metadata : mapping, optional
        Key/value pairs listed at the end.
    top : int
        How many examples and flagged tags to list.

    Returns
    -------
    str
        The HTML; every string from the data is escaped.
    """
    from labelaudit import __version__
    from labelaudit._validation import check_count
    from labelaudit.multilabel import MultilabelAudit

    if not isinstance(result, MultilabelAudit):
        raise InvalidInputError(
            "render_multilabel takes the MultilabelAudit that labelaudit.multilabel.audit "
            f"returns. Got {type(result).__name__}."
        )
    top = check_count("top", top)
    template, css = _template("multilabel.html.j2")
    classes = result.classes
    worst = np.maximum(classes["missing_rate"], classes["spurious_rate"]).to_numpy()
    ranked = classes.iloc[np.argsort(-worst, kind="stable")].head(MAX_CLASSES)
    plot = _plots.tag_rates(
        [str(name) for name in ranked["class_name"]],
        ranked["missing_rate"].to_numpy(),
        ranked["spurious_rate"].to_numpy(),
        result.systematic_rate,
    )
    return str(
        template.render(
            title=title,
            css=css,
            version=__version__,
            n_examples=result.p_mislabeled.shape[0],
            n_classes=len(classes),
            health=result.health,
            expected_errors=result.expected_errors,
            n_issues=result.n_issues,
            threshold=result.threshold,
            systematic=result.systematic_classes(),
            systematic_rate=result.systematic_rate,
            background_rate=result.background_rate,
            rates_plot=plot,
            classes=list(ranked.itertuples()),
            classes_hidden=len(classes) - len(ranked),
            issues=list(result.issues.head(top).itertuples()),
            queue=list(result.examples.head(top).itertuples()),
            n_queue=len(result.examples),
            metadata=[(str(k), str(v)) for k, v in (metadata or {}).items()],
        )
    )
