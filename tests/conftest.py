"""Shared fixtures."""

from __future__ import annotations

import pytest

import labelaudit.engines._inmemory


@pytest.fixture
def cleanlab_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    """Count the confident joint with cleanlab's collision rule (argmax over all classes)."""
    monkeypatch.setattr(labelaudit.engines._inmemory, "DEFAULT_COLLISION", "argmax")
