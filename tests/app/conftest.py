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


TAG_NAMES = ["red", "round", "small"]


def write_tag_audit(out):
    """A multi-label audit of 300 examples: 'red' left out on examples 0-19 and 'small'
    given wrongly to examples 20-29 (every other tag right, the model sure of it)."""
    from labelaudit import multilabel
    from labelaudit._folder import write_multilabel

    rng = np.random.default_rng(0)
    true = rng.random((300, 3)) < 0.4
    true[:20, 0] = True
    true[20:30, 2] = False
    given = true.copy()
    given[:20, 0] = False
    given[20:30, 2] = True
    probs = np.where(true, 0.97, 0.02)
    write_multilabel(multilabel.audit(given, probs, class_names=TAG_NAMES), out, {})
    return given


@pytest.fixture
def tag_audit_dir(tmp_path):
    out = tmp_path / "tags"
    write_tag_audit(out)
    return out
