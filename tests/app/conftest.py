"""An audit folder to review: 300 examples of cat, dog and emu, the first 20 labeled dog."""

from __future__ import annotations

import numpy as np
import pytest

import labelaudit as la
from labelaudit._cli_io import write_outputs
from labelaudit.cli import summary_dict

NAMES = ["cat", "dog", "emu"]


def write_audit(out, data_table=None):
    true = np.repeat([0, 1, 2], 100)
    probs = np.full((300, 3), 0.05)
    probs[np.arange(300), true] = 0.9
    labels = true.copy()
    labels[:20] = 1
    result = la.audit(labels, probs, class_names=NAMES)
    write_outputs(result, out, "<html>report</html>", summary_dict(result, {}, data_table))
    return result


@pytest.fixture
def audit_dir(tmp_path):
    out = tmp_path / "audit"
    write_audit(out)
    return out
