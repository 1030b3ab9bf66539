"""Shared fixtures."""

from __future__ import annotations

import os

# OpenMP threads (numba's kernels, scikit-learn's gradient boosting) wait for work by
# spinning. With two test workers on two cores, each with its own OpenMP pools, the
# spinning threads starved the working ones: two feature-table tests run side by side
# took 37-147 s instead of 3 s. Waiting passively costs nothing here. Set before any
# OpenMP runtime is loaded (numba loads its pool on the first parallel call).
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

import pytest

import labelaudit.engines._inmemory


@pytest.fixture
def cleanlab_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    """Count the confident joint with cleanlab's collision rule (argmax over all classes)."""
    monkeypatch.setattr(labelaudit.engines._inmemory, "DEFAULT_COLLISION", "argmax")
