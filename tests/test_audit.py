"""labelaudit.audit: the tables, the verdicts, the reasons and the boundary checks."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose

import labelaudit as la
from labelaudit.core import posterior as cp
from labelaudit.exceptions import InvalidInputError
from labelaudit.report import render

NAMES = ["apple", "banana", "cherry"]


def confused_data(seed=0, n_per_class=300, k=3, rate=0.15, slips=0.01, boost=5.0):
    """A confident model; class 0 labeled 1 at ``rate`` (systematic) plus random slips."""
    rng = np.random.default_rng(seed)
    true = np.repeat(np.arange(k), n_per_class)
    logits = rng.normal(size=(true.size, k))
    logits[np.arange(true.size), true] += boost
    probs = np.exp(logits)
    probs /= probs.sum(axis=1, keepdims=True)
    labels = true.copy()
    zeros = np.flatnonzero(true == 0)
    labels[rng.choice(zeros, int(rate * zeros.size), replace=False)] = 1
    slip = rng.random(true.size) < slips
    labels[slip] = (true[slip] + rng.integers(1, k, int(slip.sum()))) % k
    return labels, probs, true


@pytest.fixture(scope="module")
def result():
    labels, probs, true = confused_data()
    return la.audit(labels, probs, class_names=NAMES), labels, probs, true


def test_issues_table(result):
    audit, labels, probs, _ = result
    issues = audit.issues
    assert list(issues.columns) == [
        "given_label",
        "suggested_label",
        "quality_score",
        "p_mislabeled",
        "is_issue",
        "kind",
        "reason",
    ]
    assert len(issues) == labels.size
    assert (issues.index == np.arange(labels.size)).all()
    assert list(issues["given_label"].cat.categories) == NAMES
    np.testing.assert_array_equal(issues["given_label"].cat.codes, labels)
    assert_allclose(issues["p_mislabeled"], la.mislabeled_probability(labels, probs))
    assert_allclose(issues["quality_score"], la.label_quality_scores(labels, probs))
    np.testing.assert_array_equal(issues["is_issue"], issues["p_mislabeled"] >= 0.5)
    assert audit.n_issues == int(issues["is_issue"].sum())
    assert_allclose(audit.health, 1 - issues["p_mislabeled"].mean())
    assert_allclose(audit.expected_errors, issues["p_mislabeled"].sum())


def test_unflagged_rows_are_cheap_and_flagged_rows_explained(result):
    issues = result[0].issues
    quiet = issues[~issues["is_issue"]]
    assert (quiet["kind"] == "none").all() and (quiet["reason"] == "").all()
    assert (quiet["suggested_label"] == quiet["given_label"]).all()
    flagged = issues[issues["is_issue"]]
    assert (flagged["kind"] != "none").all()
    assert (flagged["suggested_label"] != flagged["given_label"]).all()
    for _, row in flagged.iterrows():
        assert row["reason"].startswith(f"model gives {row['suggested_label']}")
        assert f"the label {row['given_label']} gets" in row["reason"]
        assert row["reason"].endswith(f"{row['kind']} error") or row["kind"] == "ambiguous"


def test_the_planted_confusion_is_systematic_and_the_slips_individual(result):
    audit, labels, _, true = result
    pairs = audit.class_pairs
    systematic = pairs[pairs["verdict"] == "systematic"]
    assert systematic[["true_label", "given_label"]].values.tolist() == [["apple", "banana"]]
    row = systematic.iloc[0]
    assert row["rate_low"] <= row["rate"] <= row["rate_high"]
    assert 0.10 <= row["rate"] <= 0.20
    assert row["action"].startswith("fix the guideline: apple is often labeled banana")
    issues = audit.issues
    planted = (true == 0) & (labels == 1)
    assert (issues.loc[planted & issues["is_issue"], "kind"] == "systematic").all()
    slips = (labels != true) & ~planted
    assert set(issues.loc[slips & issues["is_issue"], "kind"]) <= {"individual", "ambiguous"}
    # the errors are found and the clean labels left alone
    assert (issues["is_issue"] == (labels != true)).mean() > 0.97


def test_printed_summary_is_short_and_names_what_to_fix(result):
    audit, labels, _, _ = result
    text = repr(audit)
    lines = text.splitlines()
    assert lines[0] == f"<Audit of {labels.size} labels> {audit.headline()}"
    assert f"{audit.n_issues} flagged" in lines[0]
    assert lines[1] == "Systematic confusions (fix the guideline):"
    assert lines[2].startswith("  apple labeled banana: ")
    assert "fix the guideline: apple is often labeled banana" in lines[2]
    assert len(text) < 1000  # no table dumps
    html = audit._repr_html_()
    assert audit.headline() in html and "<li>apple labeled banana: " in html
    top = audit.ranked_issues().head(5)
    assert html.count("<tr") == len(top) + 1  # the five most likely wrong, and the header
    for position in top.index:
        assert f"<th>{position}</th>" in html


def test_summary_escapes_class_names_and_says_when_nothing_is_systematic():
    labels, probs, _ = confused_data(rate=0.0, slips=0.03)
    audit = la.audit(labels, probs, class_names=["<b>a", "b&c", "c"])
    assert "No systematic confusion" in repr(audit)
    html = audit._repr_html_()
    assert "No systematic confusion" in html
    assert "<b>a" not in html.replace("<b>Label health", "") and "&lt;b&gt;a" in html
    assert "b&c" not in html and "b&amp;c" in html


def test_class_pairs_table(result):
    pairs = result[0].class_pairs
    assert list(pairs.columns) == [
        "true_label",
        "given_label",
        "count",
        "n_flagged",
        "rate",
        "rate_low",
        "rate_high",
        "p_value",
        "verdict",
        "action",
    ]
    assert len(pairs) == 6  # K (K - 1)
    assert (pairs["true_label"] != pairs["given_label"]).all()
    assert list(pairs["verdict"].cat.categories) == ["systematic", "individual", "clean"]
    assert (pairs["verdict"].cat.codes.diff().dropna() >= 0).all()
    individual = pairs[pairs["verdict"] == "individual"]
    with_flags = individual[individual["n_flagged"] > 0]
    assert all(a.startswith("relabel the ") for a in with_flags["action"])
    assert (pairs.loc[pairs["verdict"] == "clean", "action"] == "").all()


def test_classes_table(result):
    audit, labels, _, _ = result
    classes = audit.classes
    assert list(classes["class_name"]) == NAMES
    np.testing.assert_array_equal(classes["n_given"], np.bincount(labels))
    assert_allclose(classes["n_estimated"].sum(), labels.size)
    assert_allclose(classes["expected_errors"].sum(), audit.expected_errors)
    assert classes["n_issues"].sum() == audit.n_issues
    assert_allclose(classes["threshold"], audit.noise.thresholds)


def test_audit_is_frozen(result):
    with pytest.raises(dataclasses.FrozenInstanceError):
        result[0].health = 1.0


def test_mutual_confusion_suggests_merging():
    rng = np.random.default_rng(1)
    true = np.repeat([0, 1, 2], 400)
    probs = np.full((1200, 3), 0.02)
    probs[np.arange(1200), true] = 0.96
    labels = true.copy()
    labels[rng.choice(400, 80, replace=False)] = 1
    labels[400 + rng.choice(400, 80, replace=False)] = 0
    pairs = la.audit(labels, probs).class_pairs
    systematic = pairs[pairs["verdict"] == "systematic"]
    assert len(systematic) == 2
    assert all("consider merging" in a for a in systematic["action"])


def test_a_wrong_label_with_no_clear_replacement_is_ambiguous():
    true = np.repeat([0, 1, 2], 100)
    probs = np.full((300, 3), 0.01)
    probs[np.arange(300), true] = 0.98
    labels = true.copy()
    probs[0] = [0.02, 0.49, 0.49]  # labeled 0; the model hesitates between 1 and 2
    result = la.audit(labels, probs)
    row = result.issues.loc[0]
    assert row["is_issue"] and row["kind"] == "ambiguous"
    assert "ambiguous" in row["reason"]


def test_columns_in_another_order_than_the_labels_warn():
    """A model whose classes_ are ordered differently from the label codes makes almost
    every label look wrong: the audit says so and how to reorder, and stays silent on
    the right order and on one heavily confused pair (a systematic confusion)."""
    labels, probs, _ = confused_data(k=4, rate=0.6)
    with warnings.catch_warnings():
        warnings.simplefilter("error", la.LabelauditWarning)
        la.audit(labels, probs)  # class 0 mostly labeled 1: no warning
    with pytest.warns(la.LabelauditWarning, match="columns may not be in the order") as caught:
        shifted = la.audit(labels, probs[:, [3, 0, 1, 2]], class_names=list("abcd"))
    assert "label a -> column b" in str(caught[0].message)  # label a's examples: column b
    assert shifted.health < 0.2
    assert shifted.warnings == (str(caught[0].message),)  # one warning: the order explains
    html = render(shifted)
    assert 'id="warnings"' in html and "columns may not be in the order" in html
    assert 'id="warnings"' not in render(la.audit(labels, probs))


def test_a_model_that_knows_nothing_warns():
    """Uniform pred_probs: every label is 2/3 likely wrong under the model, which says
    more about the model than the labels; the audit says so."""
    labels = np.arange(300) % 3
    with pytest.warns(la.LabelauditWarning, match="estimates that 67% of the labels are wrong"):
        result = la.audit(labels, np.full((300, 3), 1 / 3))
    assert result.health == pytest.approx(1 / 3)
    assert len(result.warnings) == 1 and "67% of the labels are wrong" in result.warnings[0]


def test_default_class_names_are_the_indices():
    labels, probs, _ = confused_data(seed=2, n_per_class=50)
    audit = la.audit(labels, probs)
    assert list(audit.issues["given_label"].cat.categories) == ["0", "1", "2"]
    assert list(audit.classes["class_name"]) == ["0", "1", "2"]


def test_class_names_from_a_frame_or_a_model():
    """class_names=df.columns (a pandas Index) was refused as not a sequence, and the
    annotators' class_names=Index failed on its truth value."""
    pd = pytest.importorskip("pandas")
    labels, probs, _ = confused_data(seed=2, n_per_class=50)
    frame = pd.DataFrame(probs, columns=["ant", "bee", "cat"])
    expected = la.audit(labels, probs, class_names=["ant", "bee", "cat"]).classes
    for names in (frame.columns, pd.Series(frame.columns), np.array(frame.columns), None):
        assert la.audit(labels, frame, class_names=names).classes.equals(expected)
    # by default a DataFrame's own column names, unless they are the default 0, 1, ...
    unnamed = la.audit(labels, pd.DataFrame(probs)).classes
    assert list(unnamed["class_name"]) == ["0", "1", "2"]
    crowd = la.noise.simulate_crowd(labels, labels_per_item=3, random_state=0)
    people = la.analyze_annotators(crowd.labels, class_names=frame.columns)
    assert list(people.confusion(0).columns) == ["ant", "bee", "cat"]
    people = la.analyze_annotators(crowd.labels, pred_probs=frame)
    assert list(people.confusion(0).columns) == ["ant", "bee", "cat"]


def test_inputs_are_not_modified():
    labels, probs, _ = confused_data(seed=3, n_per_class=50)
    labels_before, probs_before = labels.copy(), probs.copy()
    la.audit(labels, probs, class_names=NAMES)
    np.testing.assert_array_equal(labels, labels_before)
    np.testing.assert_array_equal(probs, probs_before)


def test_threshold_moves_the_flags():
    labels, probs, _ = confused_data(seed=4, n_per_class=100)
    loose = la.audit(labels, probs, threshold=0.1).n_issues
    strict = la.audit(labels, probs, threshold=0.9).n_issues
    assert loose >= la.audit(labels, probs).n_issues >= strict


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"class_names": ["a", "b"]}, "class_names must hold 3 distinct names"),
        ({"class_names": np.array([["a", "b", "c"]])}, "class_names must be a sequence of 3"),
        ({"class_names": ["a", "a", "b"]}, "3 distinct"),
        ({"class_names": "abc"}, "class_names must be a sequence of 3 names"),
        ({"threshold": 0.0}, "'threshold' parameter must be a number in \\(0, 1\\]"),
        ({"systematic_rate": 2}, "'systematic_rate' parameter"),
        ({"background_rate": -0.1}, "'background_rate' parameter"),
        ({"alpha": "0.05"}, "'alpha' parameter"),
    ],
)
def test_bad_options_get_clear_errors(kwargs, message):
    labels, probs, _ = confused_data(seed=5, n_per_class=10)
    with pytest.raises(InvalidInputError, match=message):
        la.audit(labels, probs, **kwargs)


def test_bad_inputs_get_the_usual_errors():
    with pytest.raises(InvalidInputError, match="same length"):
        la.audit([0, 1, 1], [[0.9, 0.1], [0.2, 0.8]])
    with pytest.raises(InvalidInputError, match="sum to 1"):
        la.audit([0, 1], [[0.9, 0.9], [0.2, 0.8]])


def test_verdict_precision_and_recall_on_planted_pairs():
    """Pairs planted at 10-30% over 1-2% background noise, a confident model: the
    systematic verdict finds the planted pairs and nothing else (10 seeds; the benchmark
    runs 20 seeds with trained models)."""
    tp = fp = fn = 0
    k = 6
    for seed in range(10):
        rng = np.random.default_rng(seed)
        true = rng.integers(0, k, 3000)
        noise = np.zeros((k, k))  # [true, given]
        off = np.flatnonzero(~np.eye(k, dtype=bool))
        noise.flat[off[rng.random(off.size) < 0.3]] = rng.uniform(0.01, 0.02)
        strong = rng.choice(off, 2, replace=False)
        noise.flat[strong] = rng.uniform(0.10, 0.30, 2)
        np.fill_diagonal(noise, 1 - noise.sum(axis=1))
        labels = la.noise.make_noisy_labels(true, noise.T, random_state=seed)
        logits = rng.normal(size=(true.size, k))
        logits[np.arange(true.size), true] += 4.0
        probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        pairs = la.audit(labels, probs).class_pairs
        called = {
            int(t) * k + int(g)
            for t, g in pairs.loc[
                pairs["verdict"] == "systematic", ["true_label", "given_label"]
            ].values.astype(int)
        }
        planted = set(strong.tolist())
        tp, fp, fn = (
            tp + len(called & planted),
            fp + len(called - planted),
            fn + len(planted - called),
        )
    assert tp / (tp + fp) >= 0.9
    assert tp / (tp + fn) >= 0.9


def test_posterior_method_of_find_and_count_matches_the_audit():
    labels, probs, _ = confused_data(seed=6, n_per_class=100)
    p = la.mislabeled_probability(labels, probs)
    flags = la.find_label_issues(labels, probs, method="posterior")
    np.testing.assert_array_equal(flags, cp.expected_f1_flags(p))
    assert flags[p >= 0.5].all()
    cut = float(p[flags].min())
    audited = la.audit(labels, probs, threshold=cut).issues["is_issue"]
    np.testing.assert_array_equal(flags, audited)
    assert la.num_label_issues(labels, probs, method="posterior") == round(p.sum())
    ranked = la.rank_label_issues(labels, probs, method="posterior")
    assert sorted(ranked.tolist()) == np.flatnonzero(flags).tolist()
    with pytest.raises(InvalidInputError, match="frac_noise works only"):
        la.find_label_issues(labels, probs, method="posterior", frac_noise=0.5)


def test_ranked_issues_break_ties_by_quality_score(result):
    ranked = result[0].ranked_issues()
    assert ranked["is_issue"].all() and len(ranked) == result[0].n_issues
    p = ranked["p_mislabeled"].to_numpy()
    q = ranked["quality_score"].to_numpy()
    assert (np.diff(p) <= 0).all()
    ties = np.diff(p) == 0
    assert (np.diff(q)[ties] >= 0).all()


def test_save_writes_the_folder_that_review_and_export_read(tmp_path):
    from labelaudit.app import create_app, reviewed_labels

    rng = np.random.default_rng(0)
    true = rng.integers(0, 3, 300)
    probs = np.full((300, 3), 0.05)
    probs[np.arange(300), true] = 0.9
    labels = true.copy()
    labels[:15] = (labels[:15] + 1) % 3
    result = la.audit(labels, probs, class_names=["ant", "bee", "cat"])
    folder = tmp_path / "new" / "audit"
    result.save(folder)
    assert sorted(p.name for p in folder.iterdir()) == [
        "issues.csv",
        "issues.parquet",
        "report.html",
        "summary.json",
    ]
    with pytest.raises(InvalidInputError, match=r"pass force=True to overwrite or choose"):
        result.save(folder)
    result.save(str(folder), force=True)
    client = create_app(folder).test_client()
    first = client.get("/api/items?count=1").json["items"][0]
    body = {"example": first["example"], "decision": "relabel", "label": first["suggested_label"]}
    assert client.post("/api/decisions", json=body).status_code == 200
    assert reviewed_labels(folder).loc[first["example"], "label"] == first["suggested_label"]


def test_string_labels_with_class_names():
    """A model's predict_proba as a DataFrame with its classes_ as columns, and labels as
    those class names (a list, a str or categorical Series), give the audit of the codes."""
    pd = pytest.importorskip("pandas")
    true = np.repeat([0, 1, 2], 50)
    probs = np.full((150, 3), 0.05)
    probs[np.arange(150), true] = 0.9
    labels = true.copy()
    labels[:5] = 1
    names = np.array(["emu", "cat", "dog"])  # column order, not sorted
    reference = la.audit(labels, probs, class_names=list(names)).issues
    frame = pd.DataFrame(probs, columns=names)
    for given in (
        list(names[labels]),
        pd.Series(names[labels], dtype="str"),
        pd.Series(pd.Categorical(names[labels], categories=["cat", "dog", "emu"])),
    ):
        pd.testing.assert_frame_equal(la.audit(given, frame).issues, reference)
    pd.testing.assert_frame_equal(
        la.audit(list(names[labels]), probs, class_names=names).issues, reference
    )
    with pytest.raises(InvalidInputError, match=r"labels hold \['fox'\], not among the 3"):
        la.audit([*names[labels][:-1], "fox"], frame)
    with pytest.raises(InvalidInputError, match=r"1 missing value\(s\) \(None or NaN\)"):
        la.audit(pd.Series([*names[labels][:-1], None], dtype="string"), frame)
    shuffled = pd.Series(names[labels]).sample(frac=1, random_state=0)
    with pytest.raises(InvalidInputError, match="same index labels in another order"):
        la.audit(shuffled, frame)
    with pytest.raises(InvalidInputError, match="audit takes string labels with class_names"):
        la.audit(list(names[labels]), probs)
