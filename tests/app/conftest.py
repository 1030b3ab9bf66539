"""An audit folder to review: 300 examples of cat, dog and emu, the first 20 labeled dog."""

from __future__ import annotations

import numpy as np
import pytest

import labelaudit as la
from labelaudit._folder import summary_dict, write_outputs

NAMES = ["cat", "dog", "emu"]


def save(result, out, data_table=None):
    """An audit folder as labelaudit audit writes it."""
    write_outputs(result, out, "<html>report</html>", summary_dict(result, {}, data_table))


def write_audit(out, data_table=None, dogs_as_emu=0):
    """Cats 0-19 labeled dog, and the first ``dogs_as_emu`` dogs labeled emu."""
    true = np.repeat([0, 1, 2], 100)
    probs = np.full((300, 3), 0.05)
    probs[np.arange(300), true] = 0.9
    labels = true.copy()
    labels[:20] = 1
    labels[100 : 100 + dogs_as_emu] = 2
    save(la.audit(labels, probs, class_names=NAMES), out, data_table)


@pytest.fixture
def audit_dir(tmp_path):
    out = tmp_path / "audit"
    write_audit(out)
    return out
