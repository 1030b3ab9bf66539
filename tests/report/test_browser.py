"""The report in headless Chromium (Debian's chromium and chromedriver, which .ci/run
installs): no console errors, the key sections and images present, a screenshot saved.
Skipped where the browser is not installed."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import labelaudit as la
from labelaudit.report import render

from . import SECTIONS

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
pytestmark = pytest.mark.skipif(
    not (Path(CHROMIUM).exists() and Path(DRIVER).exists()),
    reason="Debian's chromium and chromium-driver are not installed",
)
webdriver = pytest.importorskip("selenium.webdriver")


@pytest.fixture
def browser(tmp_path):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1200,1600",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = webdriver.ChromeService(executable_path=DRIVER)
    driver = webdriver.Chrome(options=options, service=service)
    yield driver
    driver.quit()


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
