"""The report's figures, drawn by matplotlib (Agg) and embedded as base64 PNG."""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def figure_uri(fig: Any) -> str:
    """A ``data:`` URI of the figure as PNG; the figure is closed."""
    plt = _pyplot()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def image_png(image: np.ndarray[Any, Any]) -> bytes:
    """A small grayscale or RGB image (H, W[, 3]) as PNG bytes, grayscale drawn dark on
    light (gray_r)."""
    from matplotlib.image import imsave

    buf = io.BytesIO()
    array = np.asarray(image)
    if array.dtype != np.uint8:  # uint8 RGB stays 0-255; floats are scaled per image
        array = array.astype(np.float64)
    imsave(buf, array, cmap="gray_r", format="png")
    return buf.getvalue()


def image_uri(image: np.ndarray[Any, Any]) -> str:
    """:func:`image_png` as a ``data:`` URI."""
    return "data:image/png;base64," + base64.b64encode(image_png(image)).decode("ascii")


def literal(text: str) -> str:
    """Text that matplotlib draws as written: a pair of ``$`` would start math mode, so a
    class named ``$0-$50`` came out as ``0 - 50``."""
    return str(text).replace("$", r"\$")


def label_cells(
    ax: Any, matrix: np.ndarray[Any, Any], names: list[str], minimum: float, dark_above: float
) -> None:
    """Class names on both axes, and each cell's value (as a percentage) where it is at
    least ``minimum``, in white on cells darker than ``dark_above``."""
    k = len(names)
    shown = [literal(name) for name in names]
    ax.set_xticks(range(k), shown, rotation=90)
    ax.set_yticks(range(k), shown)
    for t, g in zip(*np.nonzero(matrix >= minimum), strict=True):
        color = "white" if matrix[t, g] > dark_above else "black"
        ax.text(g, t, f"{matrix[t, g]:.0%}", ha="center", va="center", fontsize=7, color=color)


def noise_heatmap(rates: np.ndarray[Any, Any], names: list[str], systematic: Any) -> str:
    """P(given | true) with the diagonal greyed out and systematic cells outlined."""
    plt = _pyplot()
    k = len(names)
    size = min(12.0, 2.0 + 0.45 * k)
    fig, ax = plt.subplots(figsize=(size, size * 0.85))
    off = np.where(np.eye(k, dtype=bool), np.nan, rates)
    vmax = max(0.02, float(np.nanmax(off)) if k > 1 else 0.02)
    im = ax.imshow(off, cmap="Reds", vmin=0.0, vmax=vmax)
    ax.imshow(np.where(np.eye(k, dtype=bool), 1.0, np.nan), cmap="Greys", vmin=0, vmax=4)
    fig.colorbar(im, ax=ax, label="P(given label | true label)", shrink=0.8)
    if k <= 30:
        off_diagonal = np.where(np.eye(k, dtype=bool), 0.0, rates)
        label_cells(ax, off_diagonal, names, minimum=0.005, dark_above=0.6 * vmax)
    for t, g in zip(*np.nonzero(systematic), strict=True):
        ax.add_patch(plt.Rectangle((g - 0.5, t - 0.5), 1, 1, fill=False, ec="navy", lw=2))
    ax.set_xlabel("given label")
    ax.set_ylabel("true label (estimated)")
    ax.set_title("Label noise: off-diagonal rates (systematic pairs outlined)")
    return figure_uri(fig)


def distributions(p_mislabeled: np.ndarray[Any, Any], scores: np.ndarray[Any, Any]) -> str:
    """Histograms of p_mislabeled and of the quality scores."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
    axes[0].hist(p_mislabeled, bins=40, range=(0, 1), color="#b33", log=True)
    axes[0].set_xlabel("p_mislabeled")
    axes[0].set_ylabel("examples (log scale)")
    axes[1].hist(scores, bins=40, range=(0, 1), color="#357", log=True)
    axes[1].set_xlabel("quality score (self-confidence)")
    fig.suptitle("Distributions")
    return figure_uri(fig)


def reliability(p_mislabeled: np.ndarray[Any, Any], is_error: np.ndarray[Any, Any]) -> str:
    """Observed error rate per bin of p_mislabeled, against the diagonal."""
    plt = _pyplot()
    bins = np.minimum((p_mislabeled * 10).astype(int), 9)
    centers, observed, sizes = [], [], []
    for b in range(10):
        inside = bins == b
        if inside.any():
            centers.append(float(p_mislabeled[inside].mean()))
            observed.append(float(is_error[inside].mean()))
            sizes.append(int(inside.sum()))
    fig, ax = plt.subplots(figsize=(4.5, 4.2))
    ax.plot([0, 1], [0, 1], ls="--", color="grey", label="perfect calibration")
    ax.scatter(
        centers,
        observed,
        s=[20 + 80 * np.log10(1 + s) for s in sizes],
        color="#b33",
        label="bins (size ~ log count)",
    )
    ax.set_xlabel("mean p_mislabeled in bin")
    ax.set_ylabel("share of true label errors")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title("Reliability (ground truth known)")
    return figure_uri(fig)


def confusion_heatmap(matrix: np.ndarray[Any, Any], names: list[str], title: str) -> str:
    """One annotator's P(label | true) with the cell values written in."""
    plt = _pyplot()
    k = len(names)
    size = min(8.0, 2.0 + 0.35 * k)
    fig, ax = plt.subplots(figsize=(size, size * 0.85))
    im = ax.imshow(matrix, cmap="Blues", vmin=0.0, vmax=1.0)
    fig.colorbar(im, ax=ax, label="P(label given | true label)", shrink=0.8)
    if k <= 20:
        label_cells(ax, matrix, names, minimum=0.1, dark_above=0.6)
    ax.set_xlabel("label given")
    ax.set_ylabel("true label (consensus)")
    ax.set_title(literal(title))
    return figure_uri(fig)


def tag_rates(
    names: list[str], missing: np.ndarray[Any, Any], spurious: np.ndarray[Any, Any], cut: float
) -> str:
    """Each class's missing and spurious tag rates as paired horizontal bars, with a line
    at the systematic rate ``cut``."""
    plt = _pyplot()
    k = len(names)
    fig, ax = plt.subplots(figsize=(7, 1.2 + 0.32 * k))
    rows = np.arange(k)
    ax.barh(rows - 0.2, missing, height=0.4, color="#b33", label="missing: not tagged, applies")
    ax.barh(rows + 0.2, spurious, height=0.4, color="#e08a00", label="spurious: tagged, does not")
    ax.axvline(cut, color="#444", linestyle="--", linewidth=1)
    ax.set_yticks(rows, [literal(name) for name in names])
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda value, _: f"{value:.0%}"))
    ax.set_xlim(
        0,
        max(
            cut * 1.5,
            float(np.max(missing, initial=0)) * 1.1,
            float(np.max(spurious, initial=0)) * 1.1,
        ),
    )
    ax.legend(loc="lower right", fontsize=8)
    return figure_uri(fig)
