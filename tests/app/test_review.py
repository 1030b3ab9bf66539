"""Decisions on an audit's queue: saved, resumed, checked, and turned into labels."""

from __future__ import annotations

import json

import numpy as np
import pytest

import labelaudit as la
from labelaudit.app import reviewed_labels
from labelaudit.app._review import Review, default_data, image_column
from labelaudit.exceptions import InvalidInputError

from .conftest import NAMES, save, write_audit

pd = pytest.importorskip("pandas")


def test_the_queue_is_the_flagged_examples_most_likely_wrong_first(audit_dir):
    review = Review.open(audit_dir)
    assert review.class_names == NAMES
    assert sorted(review.queue["example"]) == list(range(20))
    p = review.queue["p_mislabeled"].to_numpy()
    assert (p[:-1] >= p[1:]).all()
    first = review.items(0, 5)
    assert [item["position"] for item in first] == [0, 1, 2, 3, 4]
    assert first[0]["given_label"] == "dog" and first[0]["suggested_label"] == "cat"
    assert first[0]["text"] is None and first[0]["fields"] == []
    assert review.items(18, 50)[-1]["position"] == 19


def test_decisions_are_saved_and_resumed_the_last_one_winning(audit_dir):
    review = Review.open(audit_dir)
    review.decide(0, "relabel", "cat")
    review.decide(1, "keep")
    review.decide(2, "remove")
    review.decide(3, "relabel", "emu")
    review.decide(3, "relabel", "cat")  # changed mind
    review.decide(1, "clear")  # taken back
    again = Review.open(audit_dir)
    assert again.decisions == {0: ("relabel", "cat"), 2: ("remove", ""), 3: ("relabel", "cat")}
    log = pd.read_csv(audit_dir / "decisions.csv", keep_default_na=False)
    assert list(log.columns) == [
        "example",
        "given_label",
        "decision",
        "label",
        "decided_at",
        "reviewer",
    ]
    assert len(log) == 6 and set(log["given_label"]) == {"dog"}
    progress = again.progress()
    assert progress["n_reviewed"] == 3 and progress["n_relabel"] == 2
    assert progress["n_remove"] == 1 and progress["n_keep"] == 0 and progress["n_queue"] == 20
    expected = again.table["p_mislabeled"].iloc[[0, 2, 3]].sum()
    assert progress["expected_wrong"] == pytest.approx(expected)
    assert [item["decision"] for item in again.items(0, 20) if item["example"] == 3] == ["relabel"]


def test_the_reviewed_labels_apply_the_decisions(audit_dir):
    review = Review.open(audit_dir)
    review.decide(0, "relabel", "cat")
    review.decide(1, "keep")
    review.decide(2, "remove")
    labels = reviewed_labels(audit_dir)
    assert labels.index.name == "example" and len(labels) == 300
    assert list(labels["label"].iloc[:4]) == ["cat", "dog", "", "dog"]
    assert list(labels["decision"].iloc[:4]) == ["relabel", "keep", "remove", ""]
    assert (labels["given_label"].iloc[:4] == "dog").all()
    assert (labels["label"].iloc[4:] == labels["given_label"].iloc[4:]).all()


@pytest.mark.parametrize(
    ("example", "decision", "label", "match"),
    [
        (0, "accept", "cat", r"decision must be one of \['relabel', 'keep', 'remove', 'clear'\]"),
        (0, "relabel", "cow", r"one of the audit's 3 classes. Got 'cow'"),
        (0, "relabel", None, r"relabel needs the right class"),
        (0, "relabel", "dog", r"already labeled 'dog'; decide keep"),
        (300, "keep", None, r"example must be in \[0, 300\)"),
        ("x", "keep", None, r"example must be an integer. Got 'x'"),
        (2.7, "keep", None, r"example must be an integer. Got 2.7"),
        (True, "keep", None, r"example must be an integer. Got True"),
    ],
)
def test_bad_decisions_are_refused_and_not_saved(audit_dir, example, decision, label, match):
    review = Review.open(audit_dir)
    with pytest.raises(InvalidInputError, match=match):
        review.decide(example, decision, label)
    assert not (audit_dir / "decisions.csv").exists()


def test_decisions_of_another_audit_are_not_applied(audit_dir):
    Review.open(audit_dir).decide(5, "relabel", "cat")
    log = (audit_dir / "decisions.csv").read_text().replace(",dog,relabel", ",emu,relabel")
    (audit_dir / "decisions.csv").write_text(log)
    with pytest.raises(InvalidInputError, match=r"saved for another audit: example 5 was "):
        Review.open(audit_dir)


def test_a_damaged_decisions_file_names_its_line(audit_dir):
    Review.open(audit_dir).decide(5, "keep")
    with (audit_dir / "decisions.csv").open("a") as handle:
        handle.write("6,dog,maybe,,2026-01-01\n")
    with pytest.raises(InvalidInputError, match=r"decisions.csv, line 3: decision must be"):
        Review.open(audit_dir)


def test_a_decisions_file_saved_by_a_spreadsheet_is_read(audit_dir):
    Review.open(audit_dir).decide(5, "keep")
    text = (audit_dir / "decisions.csv").read_text()
    (audit_dir / "decisions.csv").write_text("\ufeff" + text.replace("\n", "\r\n"))
    assert Review.open(audit_dir).decisions == {5: ("keep", "")}
    (audit_dir / "decisions.csv").write_text("id,verdict\n5,keep\n")
    with pytest.raises(InvalidInputError, match=r"lacks the columns \['example', 'given_label'"):
        Review.open(audit_dir)


def test_folders_that_are_not_audits_are_refused(tmp_path):
    with pytest.raises(InvalidInputError, match="is not a folder"):
        Review.open(tmp_path / "nowhere")
    with pytest.raises(InvalidInputError, match=r"holds no issues\.parquet or issues\.csv"):
        Review.open(tmp_path)


def test_an_older_audit_without_class_names_takes_the_labels_seen(audit_dir):
    summary = json.loads((audit_dir / "summary.json").read_text())
    del summary["class_names"]
    (audit_dir / "summary.json").write_text(json.dumps(summary))
    assert Review.open(audit_dir).class_names == NAMES


def test_the_data_table_gives_text_images_and_fields(audit_dir, tmp_path):
    data = pd.DataFrame(
        {
            "review": [f"a long text about animal number {i}, and more" for i in range(300)],
            "photo": [f"img/{i}.png" for i in range(299)] + ["https://example.org/299.jpg"],
            "weight": [float(i) for i in range(299)] + [float("nan")],
        }
    )
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "7.png").write_bytes(b"\x89PNG")
    review = Review.open(audit_dir, data, tmp_path)
    assert (review.text_column, review.image_column) == ("review", "photo")
    item = next(i for i in review.items(0, 20) if i["example"] == 7)
    assert item["text"] == "a long text about animal number 7, and more"
    assert item["image"] == "image/7" and item["fields"] == [["weight", "7"]]
    assert review.image_path(7) == tmp_path / "img" / "7.png"
    assert review.image_path(8) is None  # no such file
    assert review.image_path(299) is None  # a URL: the browser loads it
    with pytest.raises(InvalidInputError, match="has 299 rows for the audit's 300 examples"):
        Review.open(audit_dir, data.iloc[:299])


def test_image_columns_hold_only_image_names():
    frame = pd.DataFrame({"a": ["x.png", None], "b": ["x.png", "y.txt"], "c": [1, 2]})
    assert image_column(frame) == "a"
    assert image_column(frame[["b", "c"]]) is None


def test_the_recorded_data_table_is_found_where_it_was_or_in_the_folder(tmp_path):
    out = tmp_path / "audit"
    write_audit(out, data_table="examples.csv")
    assert default_data(out) is None  # recorded, but not there
    (out / "examples.csv").write_text("x\n")
    assert default_data(out) == out / "examples.csv"
    write_audit(out, data_table=str(tmp_path / "t.csv"))
    (tmp_path / "t.csv").write_text("x\n")
    assert default_data(out) == tmp_path / "t.csv"


def test_an_audit_without_flags_has_nothing_to_review(tmp_path):
    labels = np.repeat([0, 1], 50)
    probs = np.eye(2)[labels] * 0.8 + 0.1
    save(la.audit(labels, probs), tmp_path)
    review = Review.open(tmp_path)
    assert review.items(0, 50) == [] and review.progress()["n_queue"] == 0
    assert review.class_names == ["0", "1"]


def test_the_spot_check_estimates_the_wrong_labels_missed(audit_dir):
    review = Review.open(audit_dir)
    spot = review.spot["example"].tolist()
    assert len(spot) == 200 == len(set(spot)) and min(spot) >= 20  # unflagged only
    assert Review.open(audit_dir).spot["example"].tolist() == spot  # the same on resuming
    assert spot != sorted(spot)  # in random order: any prefix is a random sample
    item = review.items(0, 1, spot=True)[0]
    assert (item["example"], item["kind"], item["reason"]) == (spot[0], "none", "")
    for example in spot[:8]:
        review.decide(example, "keep")
    other = next(name for name in NAMES if name != review.table["given_label"].iloc[spot[8]])
    review.decide(spot[8], "relabel", other)
    review.decide(spot[9], "remove")
    review.decide(next(e for e in range(20, 300) if e not in spot), "remove")  # not drawn
    review.decide(0, "keep")  # flagged
    progress = review.progress()
    assert progress["n_reviewed"] == 1 and progress["n_keep"] == 1
    assert (progress["n_spot_reviewed"], progress["n_spot_wrong"]) == (10, 2)
    assert progress["n_unflagged"] == 280 and progress["missed"] == pytest.approx(56)
    assert progress["missed_low"] < 56 < progress["missed_high"] < 280
    resumed = Review.open(audit_dir).progress()  # read back from decisions.csv
    assert resumed["missed"] == pytest.approx(56)
