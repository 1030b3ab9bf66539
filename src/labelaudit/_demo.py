"""The demo: scikit-learn's digits with realistic injected noise, audited end to end."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

#: 15% of the 1s are labeled 7 (a systematic confusion), 2% of all labels slip at random.
SYSTEMATIC_RATE = 0.15
SLIP_RATE = 0.02
SEED = 0
FOLDS = 5


@dataclass(frozen=True)
class DemoRun:
    result: Any
    report: str
    summary: dict[str, Any]
    n_injected: int
    n_systematic: int
    found: int
    images: np.ndarray[Any, Any]  # the 8x8 digits, for the review page


def inject_noise(y: np.ndarray[Any, Any], rng: np.random.Generator) -> np.ndarray[Any, Any]:
    """The demo's noisy labels: 15% of the 1s become 7, then 2% random slips elsewhere."""
    noisy = y.copy()
    ones = np.flatnonzero(y == 1)
    noisy[rng.choice(ones, round(SYSTEMATIC_RATE * ones.size), replace=False)] = 7
    slip = (rng.random(y.size) < SLIP_RATE) & (noisy == y)
    noisy[slip] = (y[slip] + rng.integers(1, 10, int(slip.sum()))) % 10
    return noisy


def run_demo(
    cross_validate: Callable[..., Any], working: Callable[[str], AbstractContextManager[None]]
) -> DemoRun:
    """Inject the noise, cross-validate a logistic regression, audit, render (``working``:
    what shows that the audit runs)."""
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression

    from labelaudit import audit
    from labelaudit._folder import summary_dict
    from labelaudit.report import render

    digits = load_digits()
    y = digits.target
    noisy = inject_noise(y, np.random.default_rng(SEED))
    model = LogisticRegression(max_iter=1000)
    probs = cross_validate(model, digits.data / 16.0, noisy, FOLDS, SEED)
    with working(f"Auditing {len(y):,} digits"):
        result = audit(noisy, probs, class_names=[str(d) for d in range(10)])
    injected = noisy != y
    metadata = {
        "data": "scikit-learn digits (1,797 8x8 images), bundled",
        "noise": f"{SYSTEMATIC_RATE:.0%} of the 1s labeled 7, {SLIP_RATE:.0%} random slips",
        "model": "LogisticRegression(max_iter=1000) on pixels / 16",
        "folds": FOLDS,
        "seed": SEED,
    }
    report = render(
        result,
        title="labelaudit demo: digits with injected label noise",
        metadata=metadata,
        images=digits.images,
        true_labels=y,
    )
    return DemoRun(
        result=result,
        report=report,
        summary=summary_dict(result, metadata, data_table=EXAMPLES),
        n_injected=int(injected.sum()),
        n_systematic=int(((y == 1) & (noisy == 7)).sum()),
        found=int((result.issues["is_issue"].to_numpy() & injected).sum()),
        images=digits.images,
    )


#: The demo's table of examples (one image path per digit), for ``labelaudit review``.
EXAMPLES = "examples.csv"


def write_examples(out: Path, images: np.ndarray[Any, Any]) -> list[Path]:
    """Each digit as ``out/images/NNNN.png`` and ``out/examples.csv`` listing them."""
    from matplotlib.image import imsave

    from labelaudit._results import import_pandas

    folder = out / "images"
    folder.mkdir(parents=True, exist_ok=True)
    names = [f"images/{i:04d}.png" for i in range(len(images))]
    for name, image in zip(names, images, strict=True):
        imsave(out / name, image, cmap="gray_r", vmin=0, vmax=16)
    import_pandas().DataFrame({"image": names}).to_csv(out / EXAMPLES, index=False)
    return [out / EXAMPLES, folder]
