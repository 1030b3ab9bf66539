"""The report in headless Chromium (the ``browser`` fixture): no console errors, the key
sections and images present, a screenshot saved."""

from __future__ import annotations

import re

import numpy as np

import labelaudit as la
from labelaudit.report import render

from . import SECTIONS


def test_report_renders_without_errors(browser, tmp_path):
    from sklearn.datasets import load_digits

    digits = load_digits()
    rng = np.random.default_rng(0)
    labels = digits.target.copy()
    flip = rng.random(labels.size) < 0.05
    labels[flip] = (labels[flip] + 1) % 10
    probs = np.full((labels.size, 10), 0.01)
    probs[np.arange(labels.size), digits.target] = 0.91
    result = la.audit(labels, probs)
    page = tmp_path / "report.html"
    page.write_text(
        render(result, images=digits.images, true_labels=digits.target, metadata={"data": "digits"})
    )
    browser.get(page.as_uri())
    ids = [e.get_attribute("id") for e in browser.find_elements("css selector", "section")]
    assert ids == SECTIONS
    images = browser.find_elements("css selector", "img")
    assert len(images) > 10
    assert all(browser.execute_script("return arguments[0].naturalWidth", i) > 0 for i in images)
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []
    shot = tmp_path / "report.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000


def test_multilabel_report_renders_without_errors(browser, tmp_path):
    from labelaudit import multilabel
    from labelaudit.report import render_multilabel

    rng = np.random.default_rng(0)
    true = rng.random((1000, 4)) < 0.3
    given = true.copy()
    given[:, 2] &= rng.random(1000) >= 0.2
    probs = np.clip(np.where(true, 0.8, 0.1) + rng.normal(0, 0.1, true.shape), 0, 1)
    result = multilabel.audit(given, probs, class_names=["cat", "dog", "<b>fox</b>", "$1"])
    page = tmp_path / "multilabel.html"
    page.write_text(render_multilabel(result, metadata={"data": "synthetic"}))
    browser.get(page.as_uri())
    ids = [e.get_attribute("id") for e in browser.find_elements("css selector", "section")]
    assert ids == ["summary", "tag-rates", "classes", "queue", "issues", "metadata"]
    (plot,) = browser.find_elements("css selector", "img")
    assert browser.execute_script("return arguments[0].naturalWidth", plot) > 100
    advice = browser.find_element("css selector", "#summary li").text
    assert advice.startswith("<b>fox</b>: missing on")  # shown as text, not markup
    assert browser.find_elements("css selector", "#summary b") == []
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
    assert not re.search(r'(src|href)="(https?:)?//', page.read_text())  # self-contained
