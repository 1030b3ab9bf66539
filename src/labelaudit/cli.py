"""The ``labelaudit`` command: demo, audit, annotators, multilabel, export and review
(typer + rich).

Only this module talks to the terminal. Bad input ends with one line on stderr and exit
code 2; ``--fail-under`` ends with exit code 1 when the label health is too low.
"""

from __future__ import annotations

import functools
import json
import os
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import numpy as np
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from labelaudit._audit import NO_SYSTEMATIC
from labelaudit._cli_io import load_labels, parse_class_names
from labelaudit._folder import OUTPUTS, check_out_dir, summary_dict, write_outputs
from labelaudit.exceptions import LabelauditError, LabelauditWarning

app = typer.Typer(
    help="Find mislabeled examples and explain the label noise.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out_console = Console()
err_console = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])


class UsageError(LabelauditError):
    """Bad command-line input (exit code 2)."""


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    """labelaudit's warnings as one "Warning:" line on stderr, without Python's source
    location (they are about the data, not the code); others as Python shows them."""
    if issubclass(category, LabelauditWarning):
        err_console.print(
            f"[bold yellow]Warning:[/] {escape(str(message))}", highlight=False, soft_wrap=True
        )
    else:
        _python_show_warning(message, category, filename, lineno, file, line)


_python_show_warning = warnings.showwarning


def one_line_errors(func: F) -> F:
    """Turn expected failures into one line on stderr and exit code 2; show labelaudit's
    warnings as one line each."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with warnings.catch_warnings():
                warnings.showwarning = _show_warning
                return func(*args, **kwargs)
        except (LabelauditError, ValueError, OSError, KeyError, ImportError) as exc:
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            err_console.print(
                f"[bold red]Error:[/] {escape(message)}", highlight=False, soft_wrap=True
            )
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def _progress_callback(what: str) -> tuple[Any, Callable[[int, int], None]]:
    from rich.progress import Progress

    progress = Progress(console=err_console, transient=True)
    task = progress.add_task(what, total=None)

    def update(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total)

    return progress, update


def cross_validate(estimator: Any, X: Any, y: Any, folds: int, seed: int) -> np.ndarray[Any, Any]:
    """Out-of-sample probabilities with a progress bar."""
    from labelaudit import cross_val_pred_probs

    progress, update = _progress_callback("cross-validating")
    with progress:
        return cross_val_pred_probs(estimator, X, y, cv=folds, random_state=seed, callback=update)


def cross_validate_tags(X: Any, tags: Any, n_classes: int, folds: int, seed: int) -> Any:
    """Out-of-sample probabilities of each class, from the default model of ``X`` fitted
    one-vs-rest on the tags (lists of class indices or a 0/1 matrix), in shuffled folds,
    with a progress bar."""
    from labelaudit.io import default_model
    from labelaudit.multilabel import cross_val_pred_probs

    progress, update = _progress_callback(f"cross-validating {n_classes} one-vs-rest models")
    with progress:
        return cross_val_pred_probs(
            default_model(X),
            X,
            tags,
            n_classes=n_classes,
            cv=folds,
            random_state=seed,
            callback=update,
        )


@contextmanager
def working(what: str) -> Iterator[None]:
    """A spinner on stderr (on a terminal) while ``what`` runs, which says so when the
    kernels are about to be compiled (the first run after installing: a minute of silence
    otherwise looks like a hang)."""
    from labelaudit.engines._inmemory import kernels_need_compiling

    if kernels_need_compiling():
        what += " (first run: compiling kernels, up to a minute)"
    with err_console.status(what):
        yield


def print_summary(result: Any, top: int, extra: list[str] | None = None) -> None:
    """Health, systematic pairs with advice, and the top individual issues."""
    out_console.print(result.headline(), style="bold", markup=False)
    confusions = result.systematic_confusions()
    if confusions:
        out_console.print("[bold]Systematic confusions[/] (fix the guideline):")
        for line in confusions:
            out_console.print(f"  {line}", highlight=False, markup=False)
    else:
        out_console.print(NO_SYSTEMATIC)
    ranked = result.ranked_issues()
    if top and len(ranked):
        table = Table(title=f"Top {min(top, len(ranked))} issues")
        for column in ("#", "given", "suggested", "p_mislabeled", "kind", "reason"):
            table.add_column(column, overflow="fold")
        for index, row in ranked.head(top).iterrows():
            cells = (index, row["given_label"], row["suggested_label"], row["kind"], row["reason"])
            index, given, suggested, kind, reason = (escape(str(cell)) for cell in cells)
            table.add_row(index, given, suggested, f"{row['p_mislabeled']:.3f}", kind, reason)
        out_console.print(table)
    for line in extra or []:
        out_console.print(line, highlight=False)


@app.command()
@one_line_errors
def demo(
    out: Annotated[Path, typer.Option(help="Folder for the report and tables.")] = Path(
        "labelaudit-demo"
    ),
    force: Annotated[bool, typer.Option(help="Overwrite existing outputs.")] = False,
    top: Annotated[int, typer.Option(min=0, help="Issues to print.")] = 10,
) -> None:
    """Audit scikit-learn's digits with injected noise (15% of 1s labeled 7, 2% slips)."""
    from labelaudit._demo import EXAMPLES, run_demo, write_examples

    check_out_dir(out, force, (*OUTPUTS, EXAMPLES))
    demo_run = run_demo(cross_validate, working)
    found = demo_run.found
    extra = [
        f"Injected {demo_run.n_injected} errors ({demo_run.n_systematic} ones labeled 7, "
        f"{demo_run.n_injected - demo_run.n_systematic} random slips); flagged {found} of "
        f"them ({found / demo_run.n_injected:.0%}); {demo_run.result.n_issues - found} "
        "other flags are right labels that the model confidently disagrees with."
    ]
    print_summary(demo_run.result, top, extra)
    written = write_outputs(demo_run.result, out, demo_run.report, demo_run.summary)
    written += write_examples(out, demo_run.images)
    out_console.print(f"Wrote {', '.join(str(p) for p in written)}", highlight=False, markup=False)
    _print_review_hint("the flagged digits", out)


def _print_review_hint(what: str, out: Path) -> None:
    out_console.print(  # one line, to copy
        f"Review {what} in the browser: labelaudit review {out}",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )


@app.command()
@one_line_errors
def audit(
    labels: Annotated[
        Path | None, typer.Option(help="Given labels: .npy, .csv, .tsv or .parquet (one column).")
    ] = None,
    pred_probs: Annotated[
        Path | None, typer.Option(help="Out-of-sample probabilities (N x K): .npy/.csv/.parquet.")
    ] = None,
    table: Annotated[
        Path | None, typer.Option(help="A .csv/.parquet table of features and labels.")
    ] = None,
    label_column: Annotated[str | None, typer.Option(help="The label column of --table.")] = None,
    data: Annotated[
        Path | None,
        typer.Option(
            help="With --labels: a .csv/.parquet table, one row per example, whose rows the "
            "report shows beside the issues (with --table, that table's)."
        ),
    ] = None,
    class_names: Annotated[
        str | None,
        typer.Option(
            help="Class names in column order: comma-separated, or a file with one per line."
        ),
    ] = None,
    out: Annotated[Path, typer.Option(help="Folder for the outputs.")] = Path("labelaudit-out"),
    top: Annotated[int, typer.Option(min=0, help="Issues to print.")] = 10,
    engine: Annotated[
        str,
        typer.Option(help="auto or numpy (in memory), or streaming (reads a .npy in blocks)."),
    ] = "auto",
    folds: Annotated[int, typer.Option(min=2, help="Cross-validation folds for --table.")] = 5,
    seed: Annotated[int, typer.Option(help="Seed of the fold shuffling.")] = 0,
    fail_under: Annotated[
        float | None,
        typer.Option(
            min=0.0, max=1.0, help="Exit with code 1 if the label health (0-1) is below this."
        ),
    ] = None,
    force: Annotated[bool, typer.Option(help="Overwrite existing outputs.")] = False,
) -> None:
    """Audit labels: from --labels and --pred-probs, or from --table and --label-column."""
    from labelaudit import audit as run_audit
    from labelaudit._cli_io import (
        REPORT_TOP,
        StreamedFile,
        check_given_names,
        example_texts,
        load_named_pred_probs,
        load_table_inputs,
        match_columns,
        read_data_table,
        stream_pred_probs,
    )
    from labelaudit.report import render

    if engine not in ("auto", "numpy", "streaming"):
        raise UsageError(f"--engine must be auto, numpy or streaming. Got {engine!r}.")
    # pred_probs.npy is written (and so overwritten) only when a model is trained here
    outputs: tuple[str, ...] = (*OUTPUTS, "pred_probs.npy") if table is not None else OUTPUTS
    check_out_dir(out, force, outputs, inputs=(labels, pred_probs, table, data))
    metadata: dict[str, Any] = {}
    names: list[str] | None
    if table is not None:
        if labels is not None or pred_probs is not None:
            raise UsageError(
                "Give either --table with --label-column, or --labels with --pred-probs."
            )
        if label_column is None:
            raise UsageError("--table needs --label-column (the column with the given labels).")
        if engine == "streaming":
            raise UsageError(
                "--engine streaming reads a .npy of pred_probs in blocks; with --table the "
                "probabilities are computed in memory. Drop --engine."
            )
        if data is not None:
            raise UsageError("--data is for --labels; with --table the report shows its rows.")
        codes, names, values, X, model = load_table_inputs(table, label_column)
        given = parse_class_names(class_names, len(names))
        named = values.dtype.kind not in "biuf"  # else the names are the numbers, in order
        if given is not None and named:
            check_given_names(names, given, None)  # before the cross-validation
        # the labels as given sort as the codes do, and warnings name the classes
        probs: Any = cross_validate(model, X, values, folds, seed)
        if given is not None and named:  # the classes, and columns, in the order given
            probs = probs[:, [names.index(name) for name in given]]
            codes, names = match_columns(codes, names, given)
        metadata.update(
            table=str(table), label_column=label_column, model=repr(model), folds=folds, seed=seed
        )
    elif labels is not None and pred_probs is not None:
        codes, names = load_labels(labels)
        columns = None
        if engine == "streaming":
            probs = stream_pred_probs(pred_probs)
        else:
            probs, columns = load_named_pred_probs(pred_probs)
            codes, names = match_columns(codes, names, columns)
            text_files = {labels.suffix.lower(), pred_probs.suffix.lower()} & {".csv", ".tsv"}
            if abs(len(codes) - probs.shape[0]) == 1 and text_files:
                raise UsageError(
                    f"{labels} has {len(codes)} labels and {pred_probs} {probs.shape[0]} rows: "
                    "one off, as when a CSV without a header has its first row taken for one. "
                    "Add a header line (for example 'label') to the CSV that lacks it."
                )
        given = parse_class_names(class_names, probs.shape[1])
        if given is not None and names is not None:  # the names give the column order
            check_given_names(names, given, columns)
            codes, names = match_columns(codes, names, given)
        metadata.update(labels=str(labels), pred_probs=str(pred_probs))
        if data is not None:
            metadata["data"] = str(data)
    else:
        raise UsageError("Give --labels and --pred-probs, or --table and --label-column.")
    names = given or names or [str(i) for i in range(probs.shape[1])]
    rows = X if table is not None else None if data is None else read_data_table(data)
    if rows is not None and len(rows) != len(codes):
        raise UsageError(
            f"--data {data} has {len(rows)} rows for {len(codes)} labels; give one row per "
            "example, in the order of the labels."
        )
    with working(f"Auditing {len(codes):,} examples"):
        if isinstance(probs, StreamedFile):
            result = run_audit(codes, probs.path, class_names=names, engine="streaming")
            metadata["engine"] = "streaming (blocks of the .npy file)"
        else:
            result = run_audit(codes, probs, class_names=names)
            metadata["engine"] = "numpy (in memory)"
        texts = None if rows is None else example_texts(rows, result, REPORT_TOP)
        report = render(result, metadata=metadata, texts=texts, top=REPORT_TOP)
    shown = table if table is not None else data
    summary = summary_dict(result, metadata, None if shown is None else str(shown.resolve()))
    print_summary(result, top)
    written = write_outputs(
        result, out, report, summary, pred_probs=probs if table is not None else None
    )
    out_console.print(f"Wrote {', '.join(str(p) for p in written)}", highlight=False, markup=False)
    if result.n_issues:
        _print_review_hint(f"the {result.n_issues} flagged examples", out)
    if fail_under is not None and result.health < fail_under:
        err_console.print(f"Label health {result.health:.3f} is below --fail-under {fail_under}.")
        raise typer.Exit(1)


@app.command()
@one_line_errors
def annotators(
    annotations: Annotated[
        Path, typer.Argument(help="Wide .npy/.csv/.parquet (items x annotators) or long table.")
    ],
    pred_probs: Annotated[
        Path | None, typer.Option(help="A model's probabilities per item (.npy/.csv/.parquet).")
    ] = None,
    method: Annotated[str, typer.Option(help="auto, majority, dawid_skene or model.")] = "auto",
    class_names: Annotated[
        str | None,
        typer.Option(
            help="Class names in class order: comma-separated, or a file with one per line."
        ),
    ] = None,
    out: Annotated[Path, typer.Option(help="Folder for the outputs.")] = Path(
        "labelaudit-annotators"
    ),
    force: Annotated[bool, typer.Option(help="Overwrite existing outputs.")] = False,
) -> None:
    """Consensus labels, annotator accuracy, spammers and confusions."""
    from labelaudit import analyze_annotators
    from labelaudit._cli_io import (
        ANNOTATOR_OUTPUTS,
        check_given_names,
        load_annotations,
        load_named_pred_probs,
        match_annotation_columns,
    )
    from labelaudit.report import render_annotators

    check_out_dir(out, force, ANNOTATOR_OUTPUTS, inputs=(annotations, pred_probs))
    table, encoded = load_annotations(annotations)
    probs, columns = None, None
    if pred_probs is not None:
        probs, columns = load_named_pred_probs(pred_probs, table)
        table, encoded = match_annotation_columns(table, encoded, columns)
    given = parse_class_names(class_names, None if probs is None else probs.shape[1])
    if given is not None and encoded is not None:  # the names give the class order
        check_given_names(encoded, given, columns)
        table, encoded = match_annotation_columns(table, encoded, given)
    names = given or encoded
    if method not in ("auto", "majority", "dawid_skene", "model"):
        raise UsageError(f"--method must be auto, majority, dawid_skene or model. Got {method!r}.")
    result = analyze_annotators(
        table,
        pred_probs=probs,
        method=method,  # type: ignore[arg-type]
        n_classes=None if names is None else len(names),
        class_names=names,
    )
    metadata = {"annotations": str(annotations), "pred_probs": str(pred_probs or "none")}
    html = render_annotators(result, metadata=metadata)
    people = result.annotators
    out_console.print(result.headline(), highlight=False, markup=False)
    for name, row in people.sort_values("kappa").head(10).iterrows():
        flag = " SPAMMER" if row["is_spammer"] else ""
        out_console.print(
            f"  {name}: accuracy {row['accuracy']:.1%} on {row['n_labels']} labels, kappa "
            f"{row['kappa']:.2f}{flag} {row['confusions']}",
            highlight=False,
            markup=False,
        )
    out.mkdir(parents=True, exist_ok=True)
    (out / "annotators.html").write_text(html, encoding="utf-8")
    consensus = result.consensus.rename_axis("item")
    if names is not None:  # the class names, as the input or --class-names gave them
        consensus = consensus.assign(label=np.asarray(names, dtype=object)[consensus["label"]])
    consensus.to_csv(out / "consensus.csv")
    people.to_csv(out / "annotators.csv")
    summary = {
        "method": result.method,
        "model_weight": result.model_weight,
        "n_items": len(result.consensus),
        "spammers": [str(a) for a in people.index[people["is_spammer"]]],
        "mean_p_correct": float(result.consensus["p_correct"].mean()),
    }
    (out / "annotators.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    written = ", ".join(str(out / name) for name in ANNOTATOR_OUTPUTS)
    out_console.print(f"Wrote {written}", highlight=False, markup=False)


def _tag_inputs(
    labels: Path | None,
    pred_probs: Path | None,
    table: Path | None,
    label_columns: str | None,
    class_names: str | None,
    separator: str,
    folds: int,
    seed: int,
) -> tuple[Any, Any, list[str] | None, dict[str, Any]]:
    """The tags, probabilities, class names and metadata of ``labelaudit multilabel``:
    from --labels and --pred-probs, or from --table (a cross-validated model)."""
    from labelaudit._cli_io import load_named_pred_probs, load_table_tags, load_tags, match_tags

    metadata: dict[str, Any] = {"separator": separator}
    names: list[str] | None
    if table is not None:
        if labels is not None or pred_probs is not None:
            raise UsageError(
                "Give either --table with --label-columns, or --labels with --pred-probs."
            )
        if label_columns is None:
            raise UsageError("--table needs --label-columns (the columns with the given tags).")
        tag_columns = [column.strip() for column in label_columns.split(",")]
        tags, found, X = load_table_tags(table, tag_columns, separator)
        tags, names = match_tags(tags, found, parse_class_names(class_names, None), table)
        probs = cross_validate_tags(X, tags, len(names or found), folds, seed)
        metadata.update(table=table, label_columns=label_columns, folds=folds, seed=seed)
        source = table
    elif labels is not None and pred_probs is not None:
        tags, names = load_tags(labels, separator)
        probs, columns = load_named_pred_probs(pred_probs)
        order = parse_class_names(class_names, probs.shape[1]) or columns
        tags, names = match_tags(tags, names, order, labels)
        metadata.update(labels=labels, pred_probs=pred_probs)
        source = labels
    else:
        raise UsageError("Give --labels and --pred-probs, or --table and --label-columns.")
    if names is not None and len(names) != probs.shape[1]:
        raise UsageError(
            f"{source} names {len(names)} classes and the probabilities have {probs.shape[1]} "
            "columns; give every class, in column order, with --class-names."
        )
    return tags, probs, names, metadata


def _print_tag_summary(result: Any, top: int) -> None:
    """The multi-label audit's headline, systematic classes and top flagged tags."""
    from labelaudit.multilabel._audit import NO_SYSTEMATIC

    out_console.print(result.headline(), style="bold", markup=False)
    systematic = result.systematic_classes()
    if systematic:
        out_console.print("[bold]Systematic[/] (fix the guideline):")
        for line in systematic:
            out_console.print(f"  {line}", highlight=False, markup=False)
    else:
        out_console.print(NO_SYSTEMATIC)
    if top and result.n_issues:
        grid = Table(title=f"Top {min(top, result.n_issues)} flagged tags")
        for column in ("#", "class", "action", "p_mislabeled", "kind", "reason"):
            grid.add_column(column, overflow="fold")
        for row in result.issues.head(top).itertuples():
            cells = (row.example, row.class_name, row.action, row.kind, row.reason)
            example, name, action, kind, reason = (escape(str(cell)) for cell in cells)
            grid.add_row(example, name, action, f"{row.p_mislabeled:.3f}", kind, reason)
        out_console.print(grid)


@app.command()
@one_line_errors
def multilabel(
    labels: Annotated[
        Path | None,
        typer.Option(
            help="The given tags: a 0/1 matrix (.npy, or a table with one 0/1 column per "
            "class), or a table with one column of class names joined by --separator."
        ),
    ] = None,
    pred_probs: Annotated[
        Path | None,
        typer.Option(help="Probability that each class applies (.npy/.csv/.parquet), N x K."),
    ] = None,
    table: Annotated[
        Path | None,
        typer.Option(
            help="Instead of --labels and --pred-probs: a .csv/.parquet of features and tags; "
            "a cross-validated model gives the probabilities."
        ),
    ] = None,
    label_columns: Annotated[
        str | None,
        typer.Option(
            help="The tag columns of --table, comma-separated: one 0/1 column per class, or "
            "one column of class names joined by --separator."
        ),
    ] = None,
    folds: Annotated[int, typer.Option(min=2, help="Cross-validation folds for --table.")] = 5,
    seed: Annotated[int, typer.Option(help="Seed of the fold shuffling.")] = 0,
    separator: Annotated[str, typer.Option(help="What joins the tags of one cell.")] = ",",
    class_names: Annotated[
        str | None,
        typer.Option(
            help="Class names in column order: comma-separated, or a file with one per line."
        ),
    ] = None,
    out: Annotated[Path, typer.Option(help="Folder for the outputs.")] = Path(
        "labelaudit-multilabel"
    ),
    top: Annotated[int, typer.Option(min=0, help="Flagged tags to print.")] = 10,
    fail_under: Annotated[
        float | None,
        typer.Option(
            min=0.0, max=1.0, help="Exit with code 1 if the tag health (0-1) is below this."
        ),
    ] = None,
    force: Annotated[bool, typer.Option(help="Overwrite existing outputs.")] = False,
) -> None:
    """Audit multi-label data (several tags per example, or none): wrong tags to add or
    remove, and the classes annotators get wrong systematically."""
    from labelaudit._folder import MULTILABEL_OUTPUTS, write_multilabel
    from labelaudit.multilabel import audit as run_audit

    check_out_dir(out, force, MULTILABEL_OUTPUTS, inputs=(labels, pred_probs, table))
    tags, probs, names, metadata = _tag_inputs(
        labels, pred_probs, table, label_columns, class_names, separator, folds, seed
    )
    with working(f"Auditing the tags of {probs.shape[0]:,} examples"):
        result = run_audit(tags, probs, class_names=names)
    _print_tag_summary(result, top)
    shown = None if table is None else str(table.resolve())
    written = ", ".join(str(path) for path in write_multilabel(result, out, metadata, shown))
    out_console.print(f"Wrote {written}", highlight=False, markup=False)
    if len(result.examples):
        _print_review_hint(f"the {len(result.examples)} examples with flagged tags", out)
    if fail_under is not None and result.health < fail_under:
        err_console.print(f"Tag health {result.health:.3f} is below --fail-under {fail_under}.")
        raise typer.Exit(1)


@app.command()
@one_line_errors
def export(
    audit_dir: Annotated[
        Path, typer.Argument(help="A folder written by labelaudit audit, demo or multilabel.")
    ],
    format: Annotated[str, typer.Option(help="csv, jsonl or label-studio.")] = "csv",
    out: Annotated[Path | None, typer.Option(help="Output file (default: in AUDIT_DIR).")] = None,
    data: Annotated[
        Path | None,
        typer.Option(
            help="A .csv/.parquet table, one row per example in the audit's order, whose "
            "columns (text, image URLs...) go with each queued example."
        ),
    ] = None,
    include_reviewed: Annotated[
        bool,
        typer.Option(help="Keep the examples already decided on the review page (decisions.csv)."),
    ] = False,
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
) -> None:
    """Write a relabeling queue, most expected errors fixed per review first."""
    from labelaudit._export import (
        EXPORTERS,
        is_multilabel,
        queue_of,
        read_issue_table,
        read_tag_queue,
        with_data,
    )

    if format not in EXPORTERS:
        raise UsageError(f"--format must be one of {sorted(EXPORTERS)}. Got {format!r}.")
    suffix = {"csv": ".csv", "jsonl": ".jsonl", "label-studio": ".json"}[format]
    target = out or audit_dir / f"relabel_queue{suffix}"
    if target.is_dir():
        raise UsageError(f"--out {target} is a folder; give a file name.")
    if data is not None and target.resolve() == data.resolve():
        raise UsageError(f"--out {target} is the --data table; give another file name.")
    if target.exists() and not force:
        raise UsageError(f"{target} exists; pass --force to overwrite it.")
    if is_multilabel(audit_dir):
        queue, table = read_tag_queue(audit_dir), None
    else:
        table = read_issue_table(audit_dir)
        queue = queue_of(table)
    left_out = [] if include_reviewed else _reviewed(queue, audit_dir, table)
    queue = queue[~queue["example"].isin(left_out)]
    if data is not None:
        queue = with_data(queue, data)
    target.parent.mkdir(parents=True, exist_ok=True)  # as audit's --out folder is made
    EXPORTERS[format](queue, target)
    note = f" ({len(left_out)} decided on the review page left out; --include-reviewed keeps them)"
    out_console.print(
        f"Wrote {len(queue)} examples to {target}{note if left_out else ''}",
        highlight=False,
        markup=False,
    )


def _reviewed(queue: Any, audit_dir: Path, table: Any) -> list[int]:
    """The queued examples with a decision in ``audit_dir``'s decisions.csv (``table``:
    its issue table if already read, else None)."""
    from labelaudit.app._review import DECISIONS_FILE, Review

    if not (audit_dir / DECISIONS_FILE).exists():
        return []
    decided = Review.open(audit_dir, table=table).decisions
    return [int(e) for e in queue["example"] if int(e) in decided]


@app.command()
@one_line_errors
def review(
    audit_dir: Annotated[
        Path, typer.Argument(help="A folder written by labelaudit audit, demo or multilabel.")
    ],
    data: Annotated[
        Path | None,
        typer.Option(
            help="A .csv/.parquet table, one row per example in the audit's order, shown "
            "beside each example: text, images (a column of image paths or URLs), features. "
            "By default the table the audit recorded, if any."
        ),
    ] = None,
    images: Annotated[
        Path | None,
        typer.Option(help="A .npy of one image per example, (N, H, W) or (N, H, W, 3)."),
    ] = None,
    reviewer: Annotated[
        str | None,
        typer.Option(help="Name written beside each decision (default: your user name)."),
    ] = None,
    host: Annotated[str, typer.Option(help="Address to serve on (local only by default).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to serve on.")] = 8765,
    open_browser: Annotated[
        bool, typer.Option("--open/--no-open", help="Open the page in a web browser.")
    ] = True,
) -> None:
    """Review the flagged examples in the browser; decisions go to AUDIT_DIR/decisions.csv."""
    from labelaudit.app import create_app

    application = create_app(audit_dir, data=data, images=images, reviewer=reviewer)
    _check_recorded_data(audit_dir, data)
    if not os.access(audit_dir, os.W_OK):
        raise UsageError(f"{audit_dir} is not writable: the decisions could not be saved there.")
    server = _review_server(application, host, port)
    state = application.config["review"]
    name = "localhost" if host in ("127.0.0.1", "0.0.0.0") else f"[{host}]" if ":" in host else host
    url = f"http://{name}:{server.port}/"
    out_console.print(
        f"Reviewing the {len(state.queue)} {_queued(state)} of {audit_dir} at {url}\n"
        f"Decisions are saved to {state.path}; Ctrl+C stops the server.",
        highlight=False,
        markup=False,
    )
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    try:
        server.serve_forever()  # werkzeug's returns on Ctrl+C
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    line = _reviewed_line(state.progress(), "retagged" if state.multilabel else "relabeled")
    out_console.print(f"Stopped. {line}", highlight=False)


def _check_recorded_data(audit_dir: Path, data: Path | None) -> None:
    """Warn when the table the audit recorded is gone: the page then shows no examples."""
    from labelaudit.app._review import default_data, recorded_data

    recorded = recorded_data(audit_dir) if data is None else None
    if recorded is not None and default_data(audit_dir) is None:
        warnings.warn(
            f"The table of examples the audit recorded, {recorded}, is not there any more; "
            "the page shows no example data. Pass it with --data.",
            LabelauditWarning,
            stacklevel=2,
        )


def _review_server(application: Any, host: str, port: int) -> Any:
    """The server of the review page, with a warning when others can reach it."""
    import logging

    from labelaudit.app._server import LOOPBACK, serve

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    try:
        server = serve(application, host, port)
    except OSError as exc:
        raise UsageError(
            f"Cannot serve on {host}:{port} ({exc.strerror or exc}); pass another --port."
        ) from None
    if host not in LOOPBACK:
        err_console.print(
            f"[bold yellow]Warning:[/] serving on {escape(host)}: anyone who can reach this "
            "machine can see the examples and record decisions.",
            highlight=False,
            soft_wrap=True,
        )
    return server


def _queued(state: Any) -> str:
    return "examples with flagged tags" if state.multilabel else "flagged examples"


def _reviewed_line(progress: dict[str, Any], relabeled: str) -> str:
    return (
        f"{progress['n_reviewed']} of {progress['n_queue']} reviewed: {progress['n_relabel']} "
        f"{relabeled}, {progress['n_remove']} to remove, {progress['n_keep']} kept."
    )


def main() -> None:
    """Entry point of the ``labelaudit`` command."""
    app()
