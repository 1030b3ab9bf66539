"""labelaudit.io: tables and embeddings in, a fitting default model out."""

from __future__ import annotations

import numpy as np
import pytest

import labelaudit as la
from labelaudit.exceptions import InvalidInputError

pd = pytest.importorskip("pandas")


@pytest.fixture
def frame():
    rng = np.random.default_rng(0)
    n = 200
    return pd.DataFrame(
        {
            "age": rng.normal(40, 10, n),
            "city": rng.choice(["oslo", "lima", "pune"], n),
            "review": [
                "arrived broken and late, a waste of money" if i % 2 else "works great, love it"
                for i in range(n)
            ],
            "label": np.where(np.arange(n) % 2 == 1, "bad", "good"),
        }
    )


def test_read_table_from_frame_csv_and_parquet(frame, tmp_path):
    X, y = la.io.read_table(frame, label_column="label")
    assert list(X.columns) == ["age", "city", "review"]
    assert list(y[:2]) == ["good", "bad"]
    assert "label" in frame.columns  # the input is not modified
    frame.to_csv(tmp_path / "t.csv", index=False)
    frame.to_csv(tmp_path / "t.tsv", sep="\t", index=False)
    frame.to_parquet(tmp_path / "t.parquet")
    for name in ("t.csv", "t.tsv", "t.parquet"):
        X2, y2 = la.io.read_table(tmp_path / name, label_column="label")
        assert X2.shape == X.shape and (y2 == y).all()


def test_read_table_errors(frame, tmp_path):
    with pytest.raises(InvalidInputError, match="no column 'target'"):
        la.io.read_table(frame, label_column="target")
    with pytest.raises(InvalidInputError, match=r"must be \.csv, \.tsv or \.parquet"):
        la.io.read_table(tmp_path / "t.xlsx", label_column="label")
    with pytest.raises(InvalidInputError, match=r"No such file: .*nope\.csv"):
        la.io.read_table(tmp_path / "nope.csv", label_column="label")
    holes = frame.copy()
    holes.loc[3, "label"] = None
    with pytest.raises(InvalidInputError, match=r"missing values \(rows \[3\]"):
        la.io.read_table(holes, label_column="label")
    with pytest.raises(InvalidInputError, match="no feature columns"):
        la.io.read_table(frame[["label"]], label_column="label")


def test_read_table_keeps_one_row_per_line(frame, tmp_path):
    """pandas drops blank lines, so a blank line in the middle of a CSV moved every later
    row up one: it is now a row with a missing label (an error naming it), while blank
    lines at the end of the file are ignored; unreadable files are our error."""
    text = frame.to_csv(index=False).splitlines()
    (tmp_path / "trail.csv").write_text("\n".join(text) + "\n\n\n")
    _, y = la.io.read_table(tmp_path / "trail.csv", label_column="label")
    assert len(y) == len(frame) and (y == frame["label"]).all()
    (tmp_path / "blank.csv").write_text("\n".join([*text[:6], "", *text[6:]]) + "\n")
    with pytest.raises(InvalidInputError, match=r"missing values \(rows \[5\], counting"):
        la.io.read_table(tmp_path / "blank.csv", label_column="label")
    frame.to_csv(tmp_path / "indexed.csv")  # pandas' index is not a feature
    X, _ = la.io.read_table(tmp_path / "indexed.csv", label_column="label")
    assert list(X.columns) == ["age", "city", "review"]
    blank = frame.assign(label=frame["label"].where(frame.index != 4, "  "))
    with pytest.raises(InvalidInputError, match=r"missing values \(rows \[4\]"):
        la.io.read_table(blank, label_column="label")  # a blank label is not a class
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(InvalidInputError, match="is not a readable table"):
        la.io.read_table(tmp_path / "empty.csv", label_column="label")


def test_read_embeddings(tmp_path):
    np.save(tmp_path / "e.npy", np.ones((5, 3), dtype=np.float32))
    assert la.io.read_embeddings(tmp_path / "e.npy").shape == (5, 3)
    np.save(tmp_path / "v.npy", np.ones(5))
    with pytest.raises(InvalidInputError, match="2-D numeric array"):
        la.io.read_embeddings(tmp_path / "v.npy")
    (tmp_path / "bad.npy").write_bytes((tmp_path / "e.npy").read_bytes()[:90])
    with pytest.raises(InvalidInputError, match="Cannot read"):
        la.io.read_embeddings(tmp_path / "bad.npy")


def test_short_texts_are_text_and_repeated_phrases_categories():
    """Titles of a few words are free text (one-hot encoding of 20 categories reduced
    them to noise: a 3-class set of 5-word texts got 35% label health); a category of
    several words, which repeats, is not."""
    rng = np.random.default_rng(0)
    words = {"sport": ["ball", "goal", "team"], "tech": ["code", "chip", "data"]}
    frame = pd.DataFrame(
        {
            "title": [
                " ".join(rng.choice(words["sport" if i % 2 else "tech"], 4)) for i in range(200)
            ],
            "city": rng.choice(["new york city", "san jose costa", "la paz bolivia"], 200),
        }
    )
    assert frame["title"].str.len().mean() < la.io.TEXT_MIN_CHARS
    assert la.io.text_column(frame) == "title"
    assert la.io.text_column(frame[["city"]]) is None


def test_default_model_per_kind_of_data(frame):
    X, y = la.io.read_table(frame, label_column="label")
    assert la.io.text_column(X) == "review"
    text_model = la.io.default_model(X)
    assert type(text_model.steps[-1][1]).__name__ == "LogisticRegression"
    tabular = la.io.default_model(X[["age", "city"]])
    assert type(tabular.steps[-1][1]).__name__ == "HistGradientBoostingClassifier"
    embeddings = la.io.default_model(np.zeros((3, 4)))
    assert type(embeddings.steps[-1][1]).__name__ == "LogisticRegression"
    X = X.copy()
    X.loc[0, "review"] = None
    X.loc[1, "age"] = np.nan
    probs = la.cross_val_pred_probs(text_model, X, y)
    assert (probs.argmax(axis=1) == (y == "good").to_numpy()).mean() > 0.95


def test_default_model_takes_mixed_and_empty_columns(frame, recwarn):
    """A column of numbers and text (as spreadsheets give) failed in the one-hot encoder
    with a TypeError; an all-empty column warned in every fold."""
    X, y = la.io.read_table(frame, label_column="label")
    X = X[["age", "city"]].assign(
        code=[7 if i % 2 else "b7" for i in range(len(X))],
        kind=pd.Categorical(np.where(np.arange(len(X)) % 3, "x", None)),
        empty=np.nan,
    )
    probs = la.cross_val_pred_probs(la.io.default_model(X), X, y)
    assert probs.shape == (len(X), 2) and np.isfinite(probs).all()
    assert not [w for w in recwarn if "without any observed values" in str(w.message)]


@pytest.mark.parametrize(
    ("first_lines", "dialect"),
    [
        ("a,b\n0.5,0.5\n", {}),
        ("a;b\n0,5;0,5\n", {"sep": ";", "decimal": ","}),
        ("a;b\n0.5;0.5\n", {"sep": ";", "decimal": "."}),
        ("0,9;0,1\n0,2;0,8\n", {"sep": ";", "decimal": ","}),  # no header
        ("0.9;1e-3\n", {"sep": ";", "decimal": "."}),
        ("-1,5e3\t2\n", {"sep": "\t", "decimal": ","}),
        ("text;notes,label\nx;y,1\n", {}),  # a comma in a name: a comma CSV
        ("3\n4\n", {}),
    ],
)
def test_csv_dialect(tmp_path, first_lines, dialect):
    from labelaudit.io import csv_dialect

    path = tmp_path / "t.csv"
    path.write_text(first_lines)
    assert csv_dialect(path) == dialect
