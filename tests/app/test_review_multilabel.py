"""Reviewing a multi-label audit: one example at a time, its tags standing for a label."""

from __future__ import annotations

import pytest

from labelaudit.app import create_app, reviewed_labels
from labelaudit.app._review import Review
from labelaudit.exceptions import InvalidInputError

from .conftest import TAG_NAMES, write_tag_audit

pd = pytest.importorskip("pandas")


def test_the_queue_is_the_examples_with_flagged_tags(tag_audit_dir):
    review = Review.open(tag_audit_dir)
    assert review.multilabel and review.class_names == TAG_NAMES
    queue = pd.read_csv(tag_audit_dir / "queue.csv", keep_default_na=False)
    assert list(review.queue["example"]) == list(queue["example"])
    assert sorted(review.queue["example"]) == list(range(30))
    item = next(i for i in review.items(0, 30) if i["example"] == 25)
    given = queue.set_index("example").loc[25]
    assert item["given_label"] == given["given_tags"] and "small" in item["given_label"]
    assert item["suggested_label"] == given["suggested_tags"] and item["changes"] == "-small"
    assert item["reason"].startswith("-small: ") and item["kind"] in ("systematic", "individual")
    assert item["p_mislabeled"] == pytest.approx(given["p_any_wrong"])
    assert review.pairs() == [{"change": "+red", "n": 20}, {"change": "-small", "n": 10}]
    assert {i["example"] for i in review.items(0, 50, change="-small")} == set(range(20, 30))
    spot = review.items(0, 500, spot=True)
    assert len(spot) == 200 and all(i["example"] >= 30 and i["changes"] == "" for i in spot)


def test_tags_are_decided_saved_and_turned_into_labels(tag_audit_dir):
    review = Review.open(tag_audit_dir)
    given = review.table["given_label"]
    review.decide(0, "relabel", ["small", "red"])  # any order: saved in class order
    review.decide(1, "keep")
    review.decide(2, "remove")
    review.decide(3, "relabel", [])  # no tag applies
    review.decide(40, "relabel", "red; round")  # a spot check, as decisions.csv holds it
    again = Review.open(tag_audit_dir)
    assert again.decisions[0] == ("relabel", "red; small")
    assert again.decisions[3] == ("relabel", "")
    assert again.decisions[40] == ("relabel", "red; round")
    progress = again.progress()
    assert (progress["n_reviewed"], progress["n_relabel"], progress["n_keep"]) == (4, 2, 1)
    assert progress["n_spot_reviewed"] == 1 and progress["n_spot_wrong"] == 1
    labels = reviewed_labels(tag_audit_dir)
    assert list(labels.columns) == ["given_tags", "tags", "decision"] and len(labels) == 300
    assert labels.loc[0, "tags"] == "red; small" and labels.loc[0, "given_tags"] == given[0]
    assert labels.loc[1, "tags"] == given[1] and labels.loc[1, "decision"] == "keep"
    assert labels.loc[2, "tags"] == "" and labels.loc[2, "decision"] == "remove"
    assert labels.loc[3, "tags"] == "" and labels.loc[3, "decision"] == "relabel"
    assert labels.loc[99, "tags"] == given[99] and labels.loc[99, "decision"] == ""
    # the reviewed tags can be audited again (labelaudit multilabel --labels ... --separator ';')
    from labelaudit._cli_io import load_tags

    labels.to_csv(tag_audit_dir / "reviewed.csv")
    tags, names = load_tags(tag_audit_dir / "reviewed.csv", ";")
    assert tags[0] == ["red", "small"] and tags[3] == [] and names == TAG_NAMES


@pytest.mark.parametrize(
    ("label", "match"),
    [
        (["red", "blue"], r"unknown classes \['blue'\]"),
        (["red", "red"], "a class given twice"),
        ([1], r"unknown classes \[1\]"),
        (None, r"Got None \(unknown classes \[None\]\)"),
    ],
)
def test_bad_tags_are_refused(tag_audit_dir, label, match):
    review = Review.open(tag_audit_dir)
    with pytest.raises(InvalidInputError, match=match):
        review.decide(0, "relabel", label)
    assert review.decisions == {}


def test_the_given_tags_again_are_a_keep(tag_audit_dir):
    review = Review.open(tag_audit_dir)
    given = [tag for tag in review.table["given_label"].iloc[0].split("; ") if tag]
    with pytest.raises(InvalidInputError, match=r"already tagged .*decide keep instead"):
        review.decide(0, "relabel", given[::-1])


def test_without_a_summary_the_classes_are_the_tags_seen(tag_audit_dir):
    (tag_audit_dir / "summary.json").unlink()
    assert Review.open(tag_audit_dir).class_names == sorted(TAG_NAMES)


def test_a_folder_written_before_the_review_took_tags_says_what_to_do(tmp_path):
    write_tag_audit(tmp_path)
    (tmp_path / "tag_table.csv").unlink()
    with pytest.raises(
        InvalidInputError, match=r"tag_table.csv is missing.*labelaudit multilabel again"
    ):
        Review.open(tmp_path)


def test_the_server_takes_tags_as_a_list(tag_audit_dir):
    pytest.importorskip("flask")
    client = create_app(tag_audit_dir).test_client()
    page = client.get("/").get_data(as_text=True)
    assert '"multilabel": true' in page
    assert client.get("/api/pairs").json["pairs"][0] == {"change": "+red", "n": 20}
    items = client.get("/api/items?change=-small&count=3").json["items"]
    assert [i["changes"] for i in items] == ["-small"] * 3
    every = ["small", "round", "red"]  # differs from the given tags: "red" is left out
    answer = client.post(
        "/api/decisions", json={"example": 5, "decision": "relabel", "label": every}
    )
    assert answer.status_code == 200 and answer.json["n_relabel"] == 1
    bad = client.post("/api/decisions", json={"example": 5, "decision": "relabel", "label": [3]})
    assert bad.status_code == 400 and "unknown classes [3]" in bad.json["error"]
    assert Review.open(tag_audit_dir).decisions == {5: ("relabel", "red; round; small")}
