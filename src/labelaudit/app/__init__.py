"""The review page: go through an audit's relabeling queue in the browser, decide for
each flagged example, and get the corrected labels.

``labelaudit review AUDIT_DIR`` serves it locally; :func:`create_app` gives the Flask app
(to serve another way, or to test), :func:`reviewed_labels` the labels after the review.
Needs Flask (``pip install 'labelaudit[app]'``), imported only here.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from labelaudit.app._review import Review, default_data

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["create_app", "reviewed_labels"]


def _user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no user name in the environment or the password file
        return ""


def _open(audit_dir: str | Path, data: Any, images: Any) -> Review:
    from labelaudit.app._server import read_data, read_images

    folder = Path(audit_dir)
    if data is None and folder.is_dir():
        data = default_data(folder)
    if isinstance(images, str | Path):
        images = read_images(Path(images))
    if isinstance(data, str | Path):
        table, data_dir = read_data(Path(data))
        return Review.open(folder, table, data_dir, images)
    return Review.open(folder, data, images=images)


def create_app(
    audit_dir: str | Path, *, data: Any = None, images: Any = None, reviewer: str | None = None
) -> Any:
    """The review page of an audit folder, as a Flask app.

    Parameters
    ----------
    audit_dir : str or Path
        A folder written by ``labelaudit audit`` or ``labelaudit demo`` (its
        ``issues.parquet`` or ``issues.csv``), or by ``labelaudit multilabel`` (its
        ``tag_table.csv``; each example's tags are then decided). Decisions are appended to
        its ``decisions.csv``, and read back when the page is opened again.
    data : str, Path or pandas.DataFrame, optional
        A table with one row per example of the audit, in its order, shown beside each
        example: its text column, its images (a column of image file paths, relative to
        the table's folder, or URLs), and its other columns. By default the table recorded
        by the audit, if any.
    images : array of shape (n_samples, H, W) or (n_samples, H, W, 3), str or Path, optional
        One grayscale or RGB image per example, as for :func:`labelaudit.report.render`, or
        a ``.npy`` file of them (memory-mapped); shown instead of a table's image column.
    reviewer : str, optional
        The name written beside each decision in ``decisions.csv``; by default the user
        name of this process.

    Returns
    -------
    flask.Flask
        The app; ``app.run()`` serves it, ``app.test_client()`` tests it.

    Examples
    --------
    >>> from labelaudit.app import create_app
    >>> create_app("labelaudit-out").run(port=8765)  # doctest: +SKIP
    """
    from labelaudit.app._server import build_app

    review = _open(audit_dir, data, images)
    review.reviewer = _user() if reviewer is None else str(reviewer)
    return build_app(review)


def reviewed_labels(audit_dir: str | Path) -> pd.DataFrame:
    """Every example's label after the review saved in ``audit_dir``.

    Parameters
    ----------
    audit_dir : str or Path
        The audit folder holding ``decisions.csv``.

    Returns
    -------
    pandas.DataFrame
        One row per example (index ``example``), labels as text (the class names):
        ``given_label``; ``label``, the given label unless a reviewer relabeled the
        example, and empty for examples to remove; and ``decision`` (relabel, keep,
        remove, or empty when not reviewed). For a multi-label audit ``given_tags`` and
        ``tags`` (class names joined by ``"; "``; empty for no tag and for examples to
        remove, which ``decision`` tells apart) stand for the two labels.

    Examples
    --------
    >>> from labelaudit.app import reviewed_labels
    >>> labels = reviewed_labels("labelaudit-out")  # doctest: +SKIP
    >>> keep = labels[labels["label"] != ""]  # doctest: +SKIP
    """
    labels: pd.DataFrame = Review.open(Path(audit_dir)).labels().rename_axis("example")
    return labels
