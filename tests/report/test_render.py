"""render(audit): one self-contained, escaped HTML document with the key sections."""

from __future__ import annotations

import re

import numpy as np
import pytest

import labelaudit as la
from labelaudit.report import render

from . import SECTIONS

EVIL = "<script>alert('x')</script>"


@pytest.fixture(scope="module")
def audit():
    rng = np.random.default_rng(0)
    true = np.repeat([0, 1, 2], 100)
    probs = np.full((300, 3), 0.05)
    probs[np.arange(300), true] = 0.9
    labels = true.copy()
    labels[:20] = 1
    labels[150] = 2
    names = ["cat", EVIL, "dog & co"]
    return la.audit(labels, probs, class_names=names), true, rng


def test_sections_and_embedded_plots(audit):
    result, true, _ = audit
    html = render(result, true_labels=true, metadata={"model": "LogisticRegression"})
    for section in SECTIONS:
        assert f'id="{section}"' in html
    images = re.findall(r'<img[^>]*src="([^"]+)"', html)
    assert len(images) == 3  # heatmap, distributions, reliability
    assert all(src.startswith("data:image/png;base64,") for src in images)
    assert len(re.findall(r'<img[^>]*src="', render(result))) == 2
    assert 'id="metadata"' not in render(result)  # no empty Metadata heading


def test_nothing_is_fetched_from_the_network(audit):
    html = render(audit[0])
    assert not re.search(r'(src|href)="(https?:)?//', html)


def test_every_user_string_is_escaped(audit):
    result, _, _ = audit
    html = render(
        result,
        title=EVIL,
        metadata={EVIL: EVIL},
        texts=[EVIL] * len(result.issues),
    )
    assert EVIL not in html
    assert "&lt;script&gt;" in html
    assert "dog &amp; co" in html


def test_thumbnails_and_texts_for_the_top_issues(audit):
    result, _, rng = audit
    images = rng.random((300, 8, 8))
    html = render(result, images=images, texts=[f"text {i}" for i in range(300)], top=5)
    assert len(re.findall(r'class="thumb"', html)) == 5
    assert "text 150" in html or "text 0" in html


def test_rgb_thumbnails_as_uint8():
    """Photos usually come as uint8 RGB; matplotlib refused them once made float
    ("RGB values must be in the [0,1] range")."""
    labels = np.arange(90) % 3
    probs = np.full((90, 3), 0.05)
    probs[np.arange(90), (labels + (np.arange(90) < 9)) % 3] = 0.9
    result = la.audit(labels, probs)
    photos = np.random.default_rng(1).integers(0, 256, (90, 6, 6, 3), dtype=np.uint8)
    html = render(result, images=photos, top=3)
    assert len(re.findall(r'class="thumb"', html)) == 3


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"texts": ["x"] * 10}, r"texts has 10 entries for 300 examples"),
        ({"images": np.zeros((10, 8, 8))}, r"images must have shape \(300, H, W\)"),
        ({"images": np.zeros((300, 8))}, r"Got shape \(300, 8\)"),
        ({"true_labels": [0, 1]}, r"true_labels has 2 entries for 300 examples"),
        ({"true_labels": np.full(300, 5)}, r"the audit has 3 classes"),
        ({"top": -1}, r"'top' parameter must be an int >= 0"),
    ],
)
def test_bad_extras_are_explained(audit, kwargs, match):
    """They raised IndexError or numpy broadcasting errors from inside the report."""
    with pytest.raises(la.InvalidInputError, match=match):
        render(audit[0], **kwargs)
    with pytest.raises(la.InvalidInputError, match=r"takes the Audit that labelaudit\.audit"):
        render(audit[0].issues)


def test_annotator_page_is_escaped_and_has_heatmaps():
    from labelaudit.report import render_annotators

    true = np.random.default_rng(0).integers(0, 4, 300)
    crowd = la.noise.simulate_crowd(true, labels_per_item=3, random_state=0)
    pd = pytest.importorskip("pandas")
    wide = pd.DataFrame(
        np.where(crowd.labels >= 0, crowd.labels, np.nan),
        columns=[f"{EVIL}{j}" for j in range(crowd.labels.shape[1])],
    )
    html = render_annotators(la.analyze_annotators(wide), metadata={"file": EVIL})
    assert EVIL not in html and "&lt;script&gt;" in html
    assert len(re.findall(r'<img[^>]*src="data:image/png;base64,', html)) == 4
    for section in ("annotator-summary", "annotators", "annotator-confusions", "metadata"):
        assert f'id="{section}"' in html


def test_annotator_page_states_the_spammer_cut_the_analysis_used():
    """The page said "kappa < 0.2" whatever cut decided is_spammer, unless told again."""
    from labelaudit.report import render_annotators

    true = np.random.default_rng(0).integers(0, 4, 300)
    crowd = la.noise.simulate_crowd(true, labels_per_item=3, random_state=0)
    result = la.analyze_annotators(crowd.labels, spammer_kappa=0.35)
    assert result.spammer_kappa == 0.35
    assert "spammers (kappa &lt; 0.35)" in render_annotators(result)
    with pytest.raises(la.InvalidInputError, match="takes the AnnotatorAudit"):
        render_annotators(result.annotators)


def test_class_names_with_dollars_are_drawn_as_written():
    """matplotlib reads text between two $ as math: '$0-$50' was drawn as '0 - 50'."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from labelaudit.report import _plots

    names = ["$0-$50", "$50-$100"]
    fig, ax = plt.subplots()
    _plots.label_cells(ax, np.zeros((2, 2)), names, minimum=1.0, dark_above=1.0)
    shown = [t.get_text() for t in ax.get_xticklabels()]
    plt.close(fig)
    assert shown == [r"\$0-\$50", r"\$50-\$100"]  # an escaped $ is drawn as a $
