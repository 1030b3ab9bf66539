"""The report in headless Chromium (the ``browser`` fixture): no console errors, the key
sections and images present, a screenshot saved."""

from __future__ import annotations

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
