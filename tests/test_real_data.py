"""Parity with cleanlab 2.9.0 on real, human-verified datasets (../shared/data).

These pred_probs come from real models: many probabilities are saturated at 0 or 1 and
tie, which exercises the tie rules. Skipped when the data folder is absent.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

import labelaudit as la

from .test_parity import assert_full_parity

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FILES = sorted(DATA.glob("*.npz")) if DATA.is_dir() else []
WITH_PROBS = [f for f in FILES if "pred_probs" in np.load(f).files]

pytestmark = pytest.mark.skipif(not WITH_PROBS, reason=f"no benchmark data in {DATA}")

cl_rank = pytest.importorskip("cleanlab.rank")


@pytest.fixture(autouse=True)
def _quiet():
    warnings.simplefilter("ignore")


@pytest.mark.usefixtures("cleanlab_rule")
@pytest.mark.parametrize("path", WITH_PROBS, ids=[f.stem for f in WITH_PROBS])
def test_parity_on_real_pred_probs(path):
    data = np.load(path)
    assert_full_parity(data["labels"], data["pred_probs"])


@pytest.mark.parametrize(
    "path",
    [f for f in WITH_PROBS if "pred_probs_all" in np.load(f).files],
    ids=lambda f: f.stem,
)
def test_ensemble_scores_on_real_models(path):
    data = np.load(path)
    members = list(data["pred_probs_all"])
    assert_allclose(
        la.label_quality_scores(data["labels"], members),
        cl_rank.get_label_quality_ensemble_scores(data["labels"], members, verbose=False),
        rtol=1e-6,
    )
