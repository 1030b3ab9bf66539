"""Shared fixtures."""

from __future__ import annotations

import os

# OpenMP threads (numba's kernels, scikit-learn's gradient boosting) wait for work by
# spinning. With two test workers on two cores, each with its own OpenMP pools, the
# spinning threads starved the working ones: two feature-table tests run side by side
# took 37-147 s instead of 3 s. Waiting passively costs nothing here. Set before any
# OpenMP runtime is loaded (numba loads its pool on the first parallel call).
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

import shutil
from pathlib import Path

import pytest

import labelaudit.engines._inmemory

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture
def cleanlab_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    """Count the confident joint with cleanlab's collision rule (argmax over all classes)."""
    monkeypatch.setattr(labelaudit.engines._inmemory, "DEFAULT_COLLISION", "argmax")


@pytest.fixture
def browser(tmp_path):
    """Headless Chromium (Debian's chromium and chromedriver, which .ci/run installs) with
    its console log kept; skips where the browser is not installed."""
    if not (Path(CHROMIUM).exists() and Path(DRIVER).exists()):
        pytest.skip("Debian's chromium and chromium-driver are not installed")
    webdriver = pytest.importorskip("selenium.webdriver")
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
