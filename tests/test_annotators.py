"""analyze_annotators: consensus, annotator quality, spammers, input forms and errors."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

import labelaudit as la
from labelaudit.exceptions import InvalidInputError

pd = pytest.importorskip("pandas")


@pytest.fixture(scope="module")
def crowd():
    true = np.random.default_rng(0).integers(0, 6, 900)
    return true, la.noise.simulate_crowd(true, labels_per_item=3, random_state=1)


@pytest.fixture(scope="module")
def result(crowd):
    return la.analyze_annotators(crowd[1].labels)


def test_consensus_beats_the_majority_vote(crowd, result):
    true, sim = crowd
    consensus = result.consensus
    assert list(consensus.columns) == ["label", "p_correct", "n_annotations", "agreement"]
    majority = la.analyze_annotators(sim.labels, method="majority").consensus["label"]
    ds_acc = (consensus["label"].to_numpy() == true).mean()
    assert ds_acc > (majority.to_numpy() == true).mean()
    # p_correct ranks: right consensus labels get more than wrong ones (its calibration is
    # a known gap: Dawid-Skene is over-confident, see docs/annotators.md)
    right = consensus["label"].to_numpy() == true
    assert consensus["p_correct"][right].mean() > consensus["p_correct"][~right].mean() + 0.05
    assert (consensus["n_annotations"] == 3).all()


def test_spammers_are_found_and_confusers_spared(crowd, result):
    _, sim = crowd
    annotators = result.annotators
    kinds = np.array(sim.kinds)
    np.testing.assert_array_equal(annotators["is_spammer"], np.isin(kinds, ["random", "one_class"]))
    confusers = annotators[kinds == "confuser"]
    assert all(text.count("->") >= 2 for text in confusers["confusions"])
    good = annotators[kinds == "good"]
    error = np.abs(good["accuracy"].to_numpy() - sim.accuracy[kinds == "good"])
    assert error.mean() < 0.07 and error.max() < 0.2
    assert (annotators["accuracy_low"] <= annotators["accuracy"]).all()
    assert (annotators["accuracy"] <= annotators["accuracy_high"]).all()


def test_printed_summary_names_the_spammers(crowd, result):
    _, sim = crowd
    spammers = [str(a) for a in result.annotators.index[result.annotators["is_spammer"]]]
    assert spammers
    text = repr(result)
    assert text.startswith(f"<AnnotatorAudit> {len(sim.labels)} items, ")
    assert f"likely spammer{'s' if len(spammers) > 1 else ''}: " in text
    assert ", ".join(spammers[:5]) in text
    assert len(text) < 600
    html = result._repr_html_()
    worst = result.annotators.sort_values("kappa").head(5)
    assert html.count("<tr") == len(worst) + 2  # two header rows: columns and index name
    assert result.headline() in html


def test_confusion_of_one_annotator(result):
    matrix = result.confusion(0)
    assert matrix.shape == (6, 6)
    assert_allclose(matrix.sum(axis=1), 1.0)
    with pytest.raises(InvalidInputError, match="Unknown annotator"):
        result.confusion("nobody")


def test_a_model_helps_and_its_weight_is_fitted(crowd, result):
    true, sim = crowd
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(true.size, 6))
    logits[np.arange(true.size), true] += 3
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assisted = la.analyze_annotators(sim.labels, pred_probs=probs)
    assert assisted.method == "model" and assisted.model_weight > 0
    acc = (assisted.consensus["label"].to_numpy() == true).mean()
    assert acc > (result.consensus["label"].to_numpy() == true).mean()


def test_long_and_wide_dataframes_agree(crowd, result):
    _, sim = crowd
    wide = pd.DataFrame(
        np.where(sim.labels >= 0, sim.labels, np.nan),
        columns=[f"w{j}" for j in range(sim.labels.shape[1])],
    )
    from_wide = la.analyze_annotators(wide)
    assert list(from_wide.annotators.index[:2]) == ["w0", "w1"]
    items, annotators = np.nonzero(sim.labels >= 0)
    long = pd.DataFrame(
        {"item": items, "annotator": annotators, "label": sim.labels[items, annotators]}
    )
    from_long = la.analyze_annotators(long)
    assert_allclose(
        from_long.consensus["p_correct"].to_numpy(),
        result.consensus["p_correct"].to_numpy(),
        atol=1e-9,
    )
    assert_allclose(
        from_wide.annotators["kappa"].to_numpy(), result.annotators["kappa"].to_numpy(), atol=1e-9
    )


def test_numbered_items_of_a_long_table_are_pred_probs_rows(crowd):
    """Items numbered 0..N-1 in a long table (exported sorted by annotator, say) were
    taken in order of first appearance, so pred_probs' rows went to other items. Item i
    is now row i, also when all its labels are missing."""
    true, sim = crowd
    probs = np.full((true.size, 6), 0.04)
    probs[np.arange(true.size), true] = 0.8
    items, people = np.nonzero(sim.labels >= 0)
    long = pd.DataFrame({"item": items, "annotator": people, "label": sim.labels[items, people]})
    by_annotator = long.sort_values(["annotator", "item"], ascending=[True, False])
    wide = la.analyze_annotators(sim.labels, pred_probs=probs)
    shuffled = la.analyze_annotators(by_annotator, pred_probs=probs)
    assert list(shuffled.consensus.index) == list(range(true.size))
    assert_allclose(shuffled.consensus["p_correct"], wide.consensus["p_correct"], atol=1e-9)
    unlabeled = by_annotator.assign(label=np.where(by_annotator["item"] == 7, np.nan, 1.0))
    kept = la.analyze_annotators(unlabeled, pred_probs=probs).consensus
    assert len(kept) == true.size and kept.loc[7, "n_annotations"] == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"annotations": np.array([["a", "b"]])}, "encode string labels"),
        ({"annotations": np.array([[0.5, 1]])}, "integer class labels"),
        ({"annotations": np.array([0, 1, 2])}, "must be 2-D"),
        ({"annotations": np.array([[0, 1]]), "method": "model"}, "needs pred_probs"),
        ({"annotations": np.array([[0, 1]]), "method": "vote"}, "'method' parameter"),
        ({"annotations": np.array([[0, 5]]), "n_classes": 3}, r"label 5 but n_classes=3"),
        ({"annotations": np.array([[0, 1]]), "pred_probs": np.full((2, 2), 0.5)}, "2 rows for 1"),
        # pred_probs' values are checked like everywhere else
        ({"annotations": np.array([[0, 1]]), "pred_probs": [[np.nan, 1.0]]}, "must be finite"),
        ({"annotations": np.array([[0, 1]]), "pred_probs": [[0.9, 0.9]]}, "must sum to 1"),
        ({"annotations": np.array([[0, 2]]), "pred_probs": [[0.5, 0.5]]}, "pred_probs has 2 col"),
        ({"annotations": np.array([[0, 1]]), "n_classes": 2.5}, "'n_classes' parameter"),
        ({"annotations": np.array([[0, 1]]), "n_classes": 0}, "'n_classes' parameter"),
        ({"annotations": [[0, 1]], "n_classes": 3, "pred_probs": [[0.5, 0.5]]}, "n_classes=3 but"),
        ({"annotations": np.array([[0, 1]]), "class_names": ["a"]}, "1 names for 2 classes"),
        ({"annotations": np.full((3, 2), np.nan)}, "annotations hold no label"),
        ({"annotations": pd.DataFrame({"who": ["a"], "label": [0]})}, "long if it has the col"),
        (
            {"annotations": pd.DataFrame({"item": [0], "annotator": ["a"], "label": ["cat"]})},
            "encode string labels",
        ),
    ],
)
def test_bad_inputs(kwargs, message):
    with pytest.raises(InvalidInputError, match=message):
        la.analyze_annotators(**kwargs)
