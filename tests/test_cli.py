"""The labelaudit command through typer's test runner: outputs, exit codes, clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import labelaudit as la
from labelaudit.cli import app

pd = pytest.importorskip("pandas")
runner = CliRunner()


def invoke(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result


def one_error_line(result):
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines[0].startswith("Error: ")
    return lines[0]


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    result = invoke("demo", "--out", out, "--top", 3)
    assert result.exit_code == 0, result.output
    return out, result.output


@pytest.fixture
def npy_inputs(tmp_path):
    rng = np.random.default_rng(0)
    true = np.repeat([0, 1, 2], 100)
    probs = np.full((300, 3), 0.05)
    probs[np.arange(300), true] = 0.9
    labels = true.copy()
    labels[:20] = 1
    np.save(tmp_path / "labels.npy", labels)
    np.save(tmp_path / "probs.npy", probs)
    return tmp_path, labels, probs, rng


@pytest.mark.parametrize(
    "command", [[], ["demo"], ["audit"], ["export"], ["annotators"], ["multilabel"], ["review"]]
)
def test_help_everywhere(command):
    result = invoke(*command, "--help")
    assert result.exit_code == 0
    assert "Usage" in result.output


def test_demo_prints_the_summary_and_writes_everything(demo_dir):
    out, output = demo_dir
    assert "Label health" in output
    assert "1 labeled 7" in output
    assert "Injected" in output and "flagged" in output
    for name in ("report.html", "issues.csv", "issues.parquet", "summary.json"):
        assert (out / name).stat().st_size > 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["systematic_pairs"][0]["true_label"] == "1"
    assert summary["systematic_pairs"][0]["given_label"] == "7"
    issues = pd.read_csv(out / "issues.csv")
    assert len(issues) == 1797


def test_outputs_are_not_overwritten_without_force(demo_dir):
    out, _ = demo_dir
    assert "--force" in one_error_line(invoke("demo", "--out", out))


def audit_npy_files(d, out):
    """The audit command on the npy_inputs files, classes named ant, bee, cat."""
    args = ["--labels", d / "labels.npy", "--pred-probs", d / "probs.npy"]
    return invoke("audit", *args, "--class-names", "ant,bee,cat", "--out", out)


def issue_tables(d, runs):
    """issues.csv of an audit per named set of arguments (each run in ``d / name``)."""
    tables = {}
    for name, args in runs.items():
        result = invoke("audit", *args, "--out", d / name)
        assert result.exit_code == 0, result.output
        tables[name] = pd.read_csv(d / name / "issues.csv")
    return tables


def test_audit_from_npy_files(npy_inputs):
    d, *_ = npy_inputs
    out = d / "out"
    result = audit_npy_files(d, out)
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_examples"] == 300 and summary["n_issues"] == 20
    assert summary["systematic_pairs"][0]["given_label"] == "bee"
    assert summary["class_names"] == ["ant", "bee", "cat"]
    assert f"Review the 20 flagged examples in the browser: labelaudit review {out}" in (
        result.output
    )
    issues = pd.read_parquet(out / "issues.parquet")
    assert issues["is_issue"].sum() == 20
    assert "ant" in (out / "report.html").read_text()


def test_fail_under_sets_exit_code_1(npy_inputs):
    d, *_ = npy_inputs
    args = ["audit", "--labels", d / "labels.npy", "--pred-probs", d / "probs.npy"]
    assert invoke(*args, "--out", d / "a", "--fail-under", 0.99).exit_code == 1
    assert invoke(*args, "--out", d / "b", "--fail-under", 0.5).exit_code == 0


@pytest.mark.parametrize(
    ("option", "value"), [("--top", -3), ("--folds", 1), ("--fail-under", 2), ("--fail-under", -1)]
)
def test_numeric_options_out_of_range_exit_2(npy_inputs, option, value):
    """--top -3 printed all but the last 3 issues, and a --fail-under above 1 failed every
    run: such values are refused before anything runs."""
    d = npy_inputs[0]
    args = ["--labels", d / "labels.npy", "--pred-probs", d / "probs.npy", "--out", d / "o"]
    result = invoke("audit", *args, option, value)
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '{option}'" in result.output
    assert not (d / "o").exists()


def test_warnings_are_one_line(npy_inputs):
    """labelaudit's warnings reach the terminal as one 'Warning:' line, not Python's
    file:line form."""
    d, _, probs, _ = npy_inputs
    np.save(d / "shifted.npy", probs[:, [1, 2, 0]])
    result = invoke(
        "audit", "--labels", d / "labels.npy", "--pred-probs", d / "shifted.npy", "--out", d / "o"
    )
    assert result.exit_code == 0, result.output
    assert "Warning: pred_probs' columns may not be in the order" in result.output
    assert "LabelauditWarning" not in result.output
    summary = json.loads((d / "o" / "summary.json").read_text())
    assert summary["warnings"][0].startswith("pred_probs' columns may not be in the order")


def test_headerless_csv_files_keep_their_first_row(npy_inputs):
    """numpy.savetxt writes no header: pandas took the first example for one, and the
    audit of two such files silently ran on N - 1 rows, every index shifted by one. A
    first line of numbers (probabilities in [0, 1], or one label) is now data; a header
    of class indices 0, 1, ..., K-1 is still a header."""
    d, labels, probs, _ = npy_inputs
    np.savetxt(d / "labels.csv", labels, fmt="%d")
    np.savetxt(d / "probs.csv", probs, delimiter=",")
    np.savetxt(d / "named.csv", probs, delimiter=",", header="0,1,2", comments="")
    bom = (d / "labels.csv").read_text().encode("utf-8-sig")  # as Excel saves it
    (d / "labels_bom.csv").write_bytes(bom)
    runs = {
        "bare": ("--labels", d / "labels.csv", "--pred-probs", d / "probs.csv"),
        "header": ("--labels", d / "labels.npy", "--pred-probs", d / "named.csv"),
        "npy": ("--labels", d / "labels.npy", "--pred-probs", d / "probs.npy"),
        "bom": ("--labels", d / "labels_bom.csv", "--pred-probs", d / "probs.csv"),
    }
    tables = issue_tables(d, runs)
    assert len(tables["bare"]) == len(labels)
    pd.testing.assert_frame_equal(tables["bare"], tables["npy"], check_exact=False)
    pd.testing.assert_frame_equal(tables["header"], tables["npy"], check_exact=False)
    pd.testing.assert_frame_equal(tables["bom"], tables["npy"], check_exact=False)
    np.save(d / "column.npy", labels.reshape(-1, 1))  # a column vector is one label per row
    column = issue_tables(d, {"column": ("--labels", d / "column.npy", *runs["npy"][2:])})
    pd.testing.assert_frame_equal(column["column"], tables["npy"])
    # string labels cannot tell a header from data: the error says what probably happened
    (d / "names.csv").write_text("".join(f"{'abc'[v]}\n" for v in labels))
    one_off = invoke("audit", "--labels", d / "names.csv", *runs["npy"][2:], "--out", d / "x")
    assert "one off, as when a CSV without a header" in one_error_line(one_off)


def test_missing_labels_and_blank_lines_are_errors_naming_the_rows(npy_inputs):
    """A blank line or an NA in a labels CSV became the class "nan", or pandas skipped the
    blank line and every later label moved up one row. Both now name the row; blank
    lines at the end of a file are still ignored."""
    d, labels, probs, _ = npy_inputs
    names = ["abc"[v] for v in labels]
    lines = ["label", *names]
    rest = ("--pred-probs", d / "probs.npy")
    cases = {
        "blank": [*lines[:11], "", *lines[11:]],
        "na": [*lines[:11], "NA", *lines[12:]],
        "numbers": ["label", *map(str, labels[:10]), "", *map(str, labels[11:])],
    }
    for name, content in cases.items():
        (d / f"{name}.csv").write_text("\n".join(content) + "\n")
        line = one_error_line(invoke("audit", "--labels", d / f"{name}.csv", *rest, "--out", d))
        assert "label(s) missing" in line and "row(s) [10]" in line, (name, line)
    (d / "half.csv").write_text("label\n0.5\n" + "\n".join(map(str, labels[1:])) + "\n")
    line = one_error_line(invoke("audit", "--labels", d / "half.csv", *rest, "--out", d))
    assert "row 0 holds 0.5, not a whole number" in line
    np.save(d / "nan.npy", np.where(np.arange(len(labels)) == 3, np.nan, labels))
    line = one_error_line(invoke("audit", "--labels", d / "nan.npy", *rest, "--out", d))
    assert "row(s) [3]" in line
    # blank lines at the end, as editors leave them, change nothing
    (d / "trail.csv").write_text("\n".join(lines) + "\n\n\n")
    (d / "plain.csv").write_text("\n".join(lines) + "\n")
    tables = issue_tables(
        d, {name: ("--labels", d / f"{name}.csv", *rest) for name in ("trail", "plain")}
    )
    assert len(tables["plain"]) == len(labels)
    pd.testing.assert_frame_equal(tables["trail"], tables["plain"])
    # a blank line in a pred_probs CSV is a row, not a shift of every later row
    rows = [",".join(map(str, r)) for r in probs]
    (d / "p.csv").write_text("\n".join(["a,b,c", *rows[:7], "", *rows[7:]]) + "\n")
    line = one_error_line(
        invoke("audit", "--labels", d / "labels.npy", "--pred-probs", d / "p.csv", "--out", d)
    )
    assert "row(s) [7]" in line and "blank line" in line


def test_pandas_index_columns_are_not_data(npy_inputs, crowd_files):
    """DataFrame.to_csv writes the index as a first, unnamed column. It was read as a
    probability column (then rejected as logits), or as one more annotator."""
    d, labels, probs, _ = npy_inputs
    pd.DataFrame(probs, columns=["x", "y", "z"]).to_csv(d / "p.csv")
    pd.Series(labels).to_csv(d / "l.csv")
    runs = {
        "indexed": ("--labels", d / "l.csv", "--pred-probs", d / "p.csv"),
        "npy": ("--labels", d / "labels.npy", "--pred-probs", d / "probs.npy"),
    }
    tables = issue_tables(d, runs)
    pd.testing.assert_frame_equal(tables["indexed"], tables["npy"])
    _, crowd = crowd_files
    pd.DataFrame(np.where(crowd.labels >= 0, crowd.labels, np.nan)).to_csv(d / "wide.csv")
    result = invoke("annotators", d / "wide.csv", "--out", d / "a")
    assert result.exit_code == 0, result.output
    people = pd.read_csv(d / "a" / "annotators.csv")
    assert len(people) == crowd.labels.shape[1]


def test_spaces_around_names_are_not_part_of_them(npy_inputs, tmp_path):
    """'a, cat' in a CSV reads as ' cat': the same class as 'cat', not another one; a
    blank annotation is missing, not a class."""
    d, labels, probs, _ = npy_inputs
    names = np.array(["ant", "bee", "cat"], dtype=object)[labels]
    spaced = [f" {n}" if i % 2 else f"{n} " for i, n in enumerate(names)]
    pd.DataFrame({"label": spaced}).to_csv(d / "spaced.csv", index=False)
    pd.DataFrame({"label": names}).to_csv(d / "plain.csv", index=False)
    pd.DataFrame(probs, columns=[" ant", "bee ", "cat"]).to_csv(d / "p.csv", index=False)
    runs = {
        name: ("--labels", d / f"{name}.csv", "--pred-probs", d / "p.csv")
        for name in ("spaced", "plain")
    }
    tables = issue_tables(d, runs)
    assert set(tables["spaced"]["given_label"]) == {"ant", "bee", "cat"}
    pd.testing.assert_frame_equal(tables["spaced"], tables["plain"])
    wide = pd.DataFrame({"w1": names, "w2": np.where(np.arange(len(names)) % 5, names, " ")})
    wide.assign(w1=wide["w1"] + " ").to_csv(tmp_path / "wide.csv", index=False)
    result = invoke("annotators", tmp_path / "wide.csv", "--out", tmp_path / "a")
    assert result.exit_code == 0, result.output
    consensus = pd.read_csv(tmp_path / "a" / "consensus.csv")
    assert set(consensus["label"]) == {"ant", "bee", "cat"}
    assert (consensus["n_annotations"][::5] == 1).all()


def test_one_table_for_labels_and_probabilities(npy_inputs):
    """A table of probability columns and a 'label' column, given as both --labels and
    --pred-probs: its label column was read as one more probability (then "logits")."""
    d, labels, probs, _ = npy_inputs
    both = pd.DataFrame(probs, columns=["p0", "p1", "p2"]).assign(label=labels)
    both.to_csv(d / "both.csv", index=False)
    both.to_parquet(d / "both.parquet")
    runs = {
        ext: ("--labels", d / f"both.{ext}", "--pred-probs", d / f"both.{ext}")
        for ext in ("csv", "parquet")
    }
    runs["npy"] = ("--labels", d / "labels.npy", "--pred-probs", d / "probs.npy")
    tables = issue_tables(d, runs)
    for name in ("csv", "parquet"):
        pd.testing.assert_frame_equal(tables[name], tables["npy"], check_exact=False)


def test_semicolon_and_tab_separated_files(npy_inputs):
    """Spreadsheets in locales with a decimal comma save CSV with semicolons: the whole
    line was one column ('every column must be a probability'), or with decimal commas
    a table of the wrong shape."""
    d, _, probs, _ = npy_inputs
    frame = pd.DataFrame(probs, columns=list("abc"))
    frame.to_csv(d / "semi.csv", sep=";", decimal=",", index=False)
    frame.to_csv(d / "semidot.csv", sep=";", index=False)
    frame.to_csv(d / "tab.csv", sep="\t", index=False)
    runs = {
        name: ("--labels", d / "labels.npy", "--pred-probs", d / f"{name}.csv")
        for name in ("semi", "semidot", "tab")
    }
    runs["npy"] = ("--labels", d / "labels.npy", "--pred-probs", d / "probs.npy")
    # .tsv files, with a header or without (as numpy.savetxt writes them)
    _, labels, _, _ = npy_inputs
    frame.to_csv(d / "p.tsv", sep="\t", index=False)
    np.savetxt(d / "bare.tsv", probs, delimiter="\t")
    np.savetxt(d / "labels.tsv", labels, fmt="%d")
    runs["tsv"] = ("--labels", d / "labels.tsv", "--pred-probs", d / "p.tsv")
    runs["bare_tsv"] = ("--labels", d / "labels.tsv", "--pred-probs", d / "bare.tsv")
    # without a header: its first row was taken for one, or split at the decimal commas
    frame.to_csv(d / "bare_semi.csv", sep=";", decimal=",", index=False, header=False)
    frame.to_csv(d / "bare_semidot.csv", sep=";", index=False, header=False)
    for name in ("bare_semi", "bare_semidot"):
        runs[name] = ("--labels", d / "labels.npy", "--pred-probs", d / f"{name}.csv")
    tables = issue_tables(d, runs)
    for name in ("semi", "semidot", "tab", "tsv", "bare_tsv", "bare_semi", "bare_semidot"):
        pd.testing.assert_frame_equal(tables[name], tables["npy"], check_exact=False)


def test_unreadable_tables_are_one_line_errors(npy_inputs):
    d, *_ = npy_inputs
    (d / "empty.csv").write_text("")
    (d / "ragged.csv").write_text("a,b\n1,2\n3,4,5,6\n")
    (d / "binary.csv").write_bytes(b"\xff\xfe\x00a\n")
    (d / "bad.parquet").write_bytes(b"PAR1 not parquet")
    for name in ("empty.csv", "ragged.csv", "bad.parquet"):
        result = invoke("audit", "--labels", d / name, "--pred-probs", d / "probs.npy")
        assert "is not a readable table" in one_error_line(result), name
    (d / "latin.csv").write_bytes("label\ncaf\u00e9\nth\u00e9\n".encode("cp1252"))
    for name in ("binary.csv", "latin.csv"):
        result = invoke("audit", "--labels", d / name, "--pred-probs", d / "probs.npy")
        assert "is not UTF-8 text" in one_error_line(result), name


def test_string_labels_follow_the_probability_columns_names(npy_inputs):
    """A table of pred_probs whose header names the classes (a model's classes_, in its
    own order) decides the class order of string labels; sorting them instead
    misaligned labels and columns."""
    d, labels, probs, _ = npy_inputs
    names = np.array(["ant", "bee", "cat"])
    pd.DataFrame({"label": names[labels]}).to_csv(d / "labels.csv", index=False)
    order = [2, 0, 1]  # columns cat, ant, bee
    pd.DataFrame(probs[:, order], columns=names[order]).to_csv(d / "probs.csv", index=False)
    named = invoke(
        "audit", "--labels", d / "labels.csv", "--pred-probs", d / "probs.csv", "--out", d / "named"
    )
    coded = audit_npy_files(d, d / "coded")
    assert named.exit_code == 0 and coded.exit_code == 0, named.output + coded.output
    assert "columns may not be in the order" not in named.output
    ours = pd.read_csv(d / "named" / "issues.csv")
    theirs = pd.read_csv(d / "coded" / "issues.csv")
    for column in ["given_label", "suggested_label", "is_issue"]:
        assert (ours[column] == theirs[column]).all(), column
    assert np.allclose(ours["p_mislabeled"], theirs["p_mislabeled"])


def test_audit_from_csv_and_parquet_with_string_labels(npy_inputs):
    d, labels, probs, _ = npy_inputs
    names = np.array(["ant", "bee", "cat"])[labels]
    pd.DataFrame({"label": names}).to_csv(d / "labels.csv", index=False)
    pd.DataFrame(probs, columns=["p_ant", "p_bee", "p_cat"]).to_parquet(d / "probs.parquet")
    result = invoke(
        "audit",
        "--labels",
        d / "labels.csv",
        "--pred-probs",
        d / "probs.parquet",
        "--out",
        d / "o",
    )
    assert result.exit_code == 0, result.output
    assert (
        json.loads((d / "o" / "summary.json").read_text())["systematic_pairs"][0]["given_label"]
        == "bee"
    )


def test_audit_from_a_feature_table(tmp_path):
    rng = np.random.default_rng(0)
    n = 300
    y = rng.integers(0, 3, n)
    frame = pd.DataFrame({"x1": rng.normal(size=n) + 3 * y, "x2": rng.normal(size=n)})
    frame["kind"] = np.array(["a", "b", "c"])[y]
    frame.loc[:9, "kind"] = "c"

    def audit_table(name):
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
        table = ["--table", tmp_path / f"{name}.csv", "--label-column", "kind"]
        return invoke("audit", *table, "--out", tmp_path / name, "--folds", 3)

    result = audit_table("o")
    assert result.exit_code == 0, result.output
    assert np.load(tmp_path / "o" / "pred_probs.npy").shape == (n, 3)
    # the report shows each listed issue's row (it showed only its position)
    first = pd.read_csv(tmp_path / "o" / "issues.csv").sort_values("p_mislabeled").iloc[-1]
    row = frame.iloc[int(first["example"])]
    assert f"x1={row['x1']:.4g}; x2={row['x2']:.4g}" in (tmp_path / "o" / "report.html").read_text()
    # a class rarer than the folds is named in the warning, not numbered
    frame.loc[:1, "kind"] = "rare"
    rare = audit_table("r")
    assert rare.exit_code == 0, rare.output
    assert "Warning: Classes ['rare'] have fewer examples than the 3 folds" in rare.output


def test_class_names_order_string_labels(npy_inputs):
    """--class-names name pred_probs' columns in order. With string labels they used to
    replace the sorted label names, so the label 'cat' was read against the column named
    'emu'. They now give the classes' order, and must name every label."""
    d, labels, _, _ = npy_inputs
    order = ["emu", "cat", "dog"]  # the model's column order: code 0 is "emu"
    pd.DataFrame({"label": np.array(order)[labels]}).to_csv(d / "names.csv", index=False)
    given = ("--class-names", ",".join(order))
    runs = {
        "codes": ("--labels", d / "labels.npy", "--pred-probs", d / "probs.npy", *given),
        "names": ("--labels", d / "names.csv", "--pred-probs", d / "probs.npy", *given),
    }
    runs["streamed"] = (*runs["names"], "--engine", "streaming")
    tables = issue_tables(d, runs)
    assert tables["codes"]["is_issue"].sum() == 20
    for name in ("names", "streamed"):
        pd.testing.assert_frame_equal(tables[name], tables["codes"], check_exact=False)
    names_run = runs["names"][:4]
    for names, message in [
        ("emu,cat,cow", "['dog'] are not among --class-names"),
        ("emu,,dog", "has an empty name"),
    ]:
        result = invoke("audit", *names_run, "--class-names", names, "--out", d / "x")
        assert message in one_error_line(result)
    # a names file as Windows Notepad saves it (byte-order mark), and one not in UTF-8
    (d / "names.txt").write_bytes("\n".join(order).encode("utf-8-sig"))
    result = invoke("audit", *names_run, "--class-names", d / "names.txt", "--out", d / "bom")
    assert result.exit_code == 0, result.output
    pd.testing.assert_frame_equal(pd.read_csv(d / "bom" / "issues.csv"), tables["codes"])
    (d / "latin.txt").write_bytes("caf\u00e9\ncat\ndog".encode("cp1252"))
    latin = invoke("audit", *names_run, "--class-names", d / "latin.txt", "--out", d / "x")
    assert "is not UTF-8 text" in one_error_line(latin)
    pd.DataFrame(np.load(d / "probs.npy"), columns=order).to_csv(d / "named.csv", index=False)
    header_run = ("--labels", d / "names.csv", "--pred-probs", d / "named.csv")
    clash = invoke("audit", *header_run, "--class-names", "cat,dog,emu", "--out", d / "x")
    assert "unlike pred_probs' header" in one_error_line(clash)


def test_feature_table_with_text_shows_the_text(tmp_path):
    rng = np.random.default_rng(0)
    good = ["works great, love it", "excellent value, would buy again", "great, does the job"]
    bad = ["arrived broken and late", "a waste of money, broke at once", "terrible, it broke"]
    y = rng.integers(0, 2, 240)
    words = [f"{(bad if v else good)[i % 3]} (order {i})" for i, v in enumerate(y)]
    labels = np.where(y == 1, "bad", "good")
    labels[:6] = np.where(y[:6] == 1, "good", "bad")  # six flipped
    pd.DataFrame({"review": words, "label": labels}).to_csv(tmp_path / "t.csv", index=False)
    table = ("--table", tmp_path / "t.csv", "--label-column", "label", "--folds", 3)
    result = invoke("audit", *table, "--out", tmp_path / "o")
    assert result.exit_code == 0, result.output
    issues = pd.read_csv(tmp_path / "o" / "issues.csv")
    flagged = issues.loc[issues["is_issue"], "example"].tolist()
    assert flagged and set(flagged) <= set(range(6))
    html = (tmp_path / "o" / "report.html").read_text()
    assert all(words[i] in html for i in flagged)


def test_feature_table_class_names(tmp_path):
    """Integer labels of a table sort as numbers (they sorted as text: '10' before '2',
    so --class-names named the wrong classes); string labels take the order of
    --class-names, the pred_probs columns too."""
    rng = np.random.default_rng(0)
    n, k = 480, 12
    y = np.arange(n) % k
    frame = pd.DataFrame({"x1": y + rng.normal(0, 0.1, n), "x2": rng.normal(size=n)})
    frame["label"] = y
    frame.to_csv(tmp_path / "ints.csv", index=False)
    names = [f"c{v}" for v in range(k)]
    frame.astype({"label": "category"}).to_parquet(tmp_path / "ints.parquet")
    for name in ("ints.csv", "ints.parquet"):  # plain integers, and integer categories
        table = ("--table", tmp_path / name, "--label-column", "label", "--folds", 3)
        out = tmp_path / name.replace(".", "_")
        result = invoke("audit", *table, "--class-names", ",".join(names), "--out", out)
        assert result.exit_code == 0 and "Warning" not in result.output, result.output
        issues = pd.read_csv(out / "issues.csv")
        assert (issues["given_label"] == [names[v] for v in y]).all()
    frame["label"] = np.array(["zeta", "alpha", "mid"])[y % 3]
    frame.to_csv(tmp_path / "names.csv", index=False)
    table = ("--table", tmp_path / "names.csv", "--label-column", "label", "--folds", 3)
    runs = {"sorted": (), "given": ("--class-names", "zeta,alpha,mid")}
    for name, extra in runs.items():
        result = invoke("audit", *table, *extra, "--out", tmp_path / name)
        assert result.exit_code == 0, result.output
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "sorted" / "issues.csv"),
        pd.read_csv(tmp_path / "given" / "issues.csv"),
    )
    probs = {name: np.load(tmp_path / name / "pred_probs.npy") for name in runs}
    assert np.allclose(probs["sorted"][:, [2, 0, 1]], probs["given"])


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("truncated", "not a readable .npy"),
        ("mismatched", "same length"),
        ("bad_columns", "every column must be a probability"),
        ("missing", "No such file"),
        ("names", "--class-names gives 2 names for 3 classes"),
        ("engine", "--engine must be auto, numpy or streaming"),
        ("no_inputs", "Give --labels and --pred-probs"),
        ("no_label_column", "--table needs --label-column"),
        ("table_streaming", "with --table the probabilities are computed in memory"),
        ("table_data", "--data is for --labels; with --table the report shows its rows"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(npy_inputs, setup, message):
    d, labels, probs, _ = npy_inputs
    lab, pp = d / "labels.npy", d / "probs.npy"
    extra: list = []
    if setup == "truncated":
        (d / "cut.npy").write_bytes(pp.read_bytes()[:200])
        pp = d / "cut.npy"
    elif setup == "mismatched":
        np.save(d / "short.npy", labels[:-1])
        lab = d / "short.npy"
    elif setup == "bad_columns":
        frame = pd.DataFrame(probs, columns=list("abc"))
        frame["note"] = "x"
        frame.to_csv(d / "p.csv", index=False)
        pp = d / "p.csv"
    elif setup == "missing":
        pp = d / "nope.npy"
    elif setup == "names":
        extra = ["--class-names", "a,b"]
    elif setup == "engine":
        extra = ["--engine", "dask"]
    args = ["audit", "--labels", lab, "--pred-probs", pp, "--out", d / "o", *extra]
    if setup == "no_inputs":
        args = ["audit", "--out", d / "o"]
    if setup == "no_label_column":
        args = ["audit", "--table", d / "t.csv", "--out", d / "o"]
    if setup == "table_streaming":
        args = ["audit", "--table", d / "t.csv", "--label-column", "y", "--engine", "streaming"]
    if setup == "table_data":
        args = ["audit", "--table", d / "t.csv", "--label-column", "y", "--data", d / "t.csv"]
    assert message in one_error_line(invoke(*args))


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "label-studio"])
def test_export_queue_most_likely_errors_first(demo_dir, fmt, tmp_path):
    out, _ = demo_dir
    target = tmp_path / "new" / f"queue.{fmt}"  # a missing folder is made, as for audit
    result = invoke("export", out, "--format", fmt, "--out", target)
    assert result.exit_code == 0, result.output
    if fmt == "csv":
        queue = pd.read_csv(target)
        p = queue["p_mislabeled"].to_numpy()
    elif fmt == "jsonl":
        rows = [json.loads(line) for line in target.read_text().splitlines()]
        p = np.array([r["p_mislabeled"] for r in rows])
        assert set(rows[0]) == {
            "example",
            "given_label",
            "suggested_label",
            "p_mislabeled",
            "kind",
            "reason",
        }
    else:
        tasks = json.loads(target.read_text())
        p = np.array([t["predictions"][0]["score"] for t in tasks])
        choice = tasks[0]["predictions"][0]["result"][0]["value"]["choices"][0]
        assert choice != tasks[0]["data"]["given_label"]
    assert len(p) > 50 and (np.diff(p) <= 0).all()
    assert "--force" in one_error_line(invoke("export", out, "--format", fmt, "--out", target))
    folder = invoke("export", out, "--format", fmt, "--out", tmp_path)
    assert "is a folder; give a file name" in one_error_line(folder)


def test_audit_and_export_with_the_data_of_each_example(tmp_path):
    """A queue of positions cannot be reviewed in Label Studio; --data adds each queued
    example's row (its text, say) to the task, and to the CSV and JSONL rows; given to
    audit, the report shows the rows of the issues it lists."""
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 50)
    probs = np.full((150, 3), 0.05)
    probs[np.arange(150), y] = 0.9
    labels = y.copy()
    labels[[3, 70]] = [1, 2]
    np.save(tmp_path / "labels.npy", labels)
    np.save(tmp_path / "probs.npy", probs)
    data = pd.DataFrame(
        {"text": [f"example {i}" for i in range(150)], "reason": "x", "weight": rng.random(150)}
    )
    data.loc[70, "weight"] = np.nan
    data.to_csv(tmp_path / "data.csv", index=False)
    args = ("--labels", tmp_path / "labels.npy", "--pred-probs", tmp_path / "probs.npy")
    assert invoke("audit", *args, "--out", tmp_path / "a").exit_code == 0
    for fmt in ("label-studio", "csv"):
        target = tmp_path / f"q.{fmt}"
        result = invoke(
            "export",
            tmp_path / "a",
            "--format",
            fmt,
            "--data",
            tmp_path / "data.csv",
            "--out",
            target,
        )
        assert result.exit_code == 0, result.output
    html = (tmp_path / "a" / "report.html").read_text()
    assert "example 3" not in html  # no --data at audit time: positions only
    with_rows = invoke("audit", *args, "--data", tmp_path / "data.csv", "--out", tmp_path / "b")
    assert with_rows.exit_code == 0, with_rows.output
    html = (tmp_path / "b" / "report.html").read_text()
    assert "text=example 3; reason=x" in html and "text=example 70" in html
    tasks = json.loads((tmp_path / "q.label-studio").read_text())
    assert sorted(t["data"]["example"] for t in tasks) == [3, 70]
    for task in tasks:
        i = task["data"]["example"]
        assert task["data"]["text"] == f"example {i}" and task["data"]["data_reason"] == "x"
        assert task["data"]["weight"] == (None if i == 70 else data.loc[i, "weight"])
    queue = pd.read_csv(tmp_path / "q.csv")
    assert (queue["text"] == [f"example {i}" for i in queue["example"]]).all()
    data.iloc[:-1].to_csv(tmp_path / "short.csv", index=False)
    short = invoke(
        "export", tmp_path / "a", "--data", tmp_path / "short.csv", "--out", tmp_path / "s.csv"
    )
    assert "has 149 rows for the audit's 150 examples" in one_error_line(short)
    short = invoke("audit", *args, "--data", tmp_path / "short.csv", "--out", tmp_path / "c")
    assert "has 149 rows for 150 labels" in one_error_line(short)


def test_export_errors(tmp_path):
    assert "no issues.parquet" in one_error_line(invoke("export", tmp_path))
    assert "--format must be one of" in one_error_line(
        invoke("export", tmp_path, "--format", "xml")
    )


def annotate(annotations, pred_probs, out):
    """The annotators command on a file of annotations with a model's pred_probs."""
    return invoke("annotators", annotations, "--pred-probs", pred_probs, "--out", out)


@pytest.fixture(scope="module")
def crowd_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("crowd")
    true = np.random.default_rng(0).integers(0, 5, 500)
    crowd = la.noise.simulate_crowd(true, labels_per_item=3, random_state=0)
    wide = np.where(crowd.labels >= 0, crowd.labels, np.nan)
    pd.DataFrame(wide, columns=[f"<b>w{j}</b>" for j in range(wide.shape[1])]).to_csv(
        d / "wide.csv", index=False
    )
    items, people = np.nonzero(crowd.labels >= 0)
    pd.DataFrame(
        {"item": items, "annotator": people, "label": crowd.labels[items, people]}
    ).to_parquet(d / "long.parquet")
    np.save(d / "wide.npy", crowd.labels)
    return d, crowd


@pytest.mark.parametrize("name", ["wide.csv", "long.parquet", "wide.npy"])
def test_annotators_command(crowd_files, name, tmp_path):
    d, crowd = crowd_files
    out = tmp_path / "ann"
    result = invoke("annotators", d / name, "--out", out, "--class-names", "a,b,c,d,e")
    assert result.exit_code == 0, result.output
    assert "spammers" in result.output
    summary = json.loads((out / "annotators.json").read_text())
    assert len(summary["spammers"]) == 6
    html = (out / "annotators.html").read_text()
    assert 'id="annotators"' in html and 'id="annotator-confusions"' in html
    assert "<b>w0</b>" not in html
    people = pd.read_csv(out / "annotators.csv")
    assert len(people) == len(crowd.kinds)
    assert len(pd.read_csv(out / "consensus.csv")) == 500
    assert "--force" in one_error_line(invoke("annotators", d / name, "--out", out))


@pytest.mark.parametrize("layout", ["wide", "long"])
def test_annotators_command_takes_string_labels(crowd_files, layout, tmp_path):
    """Labels given as names (as crowd tools export them) are encoded in sorted order
    and the names used throughout; the results equal those of the codes."""
    d, crowd = crowd_files
    names = np.array(["ant", "bee", "cat", "dog", "eel"], dtype=object)
    wide = pd.DataFrame(np.where(crowd.labels >= 0, names[crowd.labels], None))
    if layout == "wide":
        wide.to_csv(tmp_path / "named.csv", index=False)
    else:
        long = wide.stack().rename("label").rename_axis(["item", "annotator"]).reset_index()
        long.to_csv(tmp_path / "named.csv", index=False)
    named = invoke("annotators", tmp_path / "named.csv", "--out", tmp_path / "n")
    coded = invoke("annotators", d / "wide.npy", "--out", tmp_path / "c")
    assert named.exit_code == 0 and coded.exit_code == 0, named.output + coded.output
    by_name = pd.read_csv(tmp_path / "n" / "consensus.csv")
    by_code = pd.read_csv(tmp_path / "c" / "consensus.csv")
    assert set(by_name["label"]) <= set(names)
    assert (by_name["label"].to_numpy() == names[by_code["label"].to_numpy()]).all()
    assert np.allclose(by_name["p_correct"], by_code["p_correct"])
    # --class-names in another order order the classes; they no longer rename them
    given = invoke(
        "annotators",
        tmp_path / "named.csv",
        "--class-names",
        "eel,dog,cat,bee,ant",
        "--out",
        tmp_path / "g",
    )
    assert given.exit_code == 0, given.output
    by_given = pd.read_csv(tmp_path / "g" / "consensus.csv")
    assert (by_given["label"] == by_name["label"]).all()
    assert np.allclose(by_given["p_correct"], by_name["p_correct"])


def test_annotators_string_labels_follow_the_probability_columns_names(crowd_files, tmp_path):
    """With --pred-probs as a table whose header names the classes in another order, the
    class order is the header's (as for the audit command)."""
    d, crowd = crowd_files
    names = np.array(["ant", "bee", "cat", "dog", "eel"], dtype=object)
    true = np.array([np.bincount(r[r >= 0], minlength=5).argmax() for r in crowd.labels])
    probs = np.full((true.size, 5), 0.05)
    probs[np.arange(true.size), true] = 0.8
    np.save(tmp_path / "probs.npy", probs)
    order = [3, 1, 4, 0, 2]
    pd.DataFrame(probs[:, order], columns=names[order]).to_csv(tmp_path / "probs.csv", index=False)
    wide = pd.DataFrame(np.where(crowd.labels >= 0, names[crowd.labels], None))
    wide.to_csv(tmp_path / "named.csv", index=False)
    named = annotate(tmp_path / "named.csv", tmp_path / "probs.csv", tmp_path / "n")
    coded = annotate(d / "wide.npy", tmp_path / "probs.npy", tmp_path / "c")
    assert named.exit_code == 0 and coded.exit_code == 0, named.output + coded.output
    by_name = pd.read_csv(tmp_path / "n" / "consensus.csv")
    by_code = pd.read_csv(tmp_path / "c" / "consensus.csv")
    assert (by_name["label"].to_numpy() == names[by_code["label"].to_numpy()]).all()
    assert np.allclose(by_name["p_correct"], by_code["p_correct"])


def test_annotators_pred_probs_rows_found_by_item(crowd_files, tmp_path):
    """A long table with item ids and a pred_probs table with an 'item' column, each in
    its own order: the 'item' column was read as a probability; rows now go to their
    items by id."""
    d, crowd = crowd_files
    n = crowd.labels.shape[0]
    rng = np.random.default_rng(3)
    probs = rng.dirichlet(np.ones(5), n)
    np.save(tmp_path / "probs.npy", probs)
    ids = np.array([f"img_{i:04d}" for i in range(n)])
    items, people = np.nonzero(crowd.labels >= 0)
    long = pd.DataFrame(
        {"item": ids[items], "annotator": people, "label": crowd.labels[items, people]}
    )
    long.sample(frac=1, random_state=0).to_csv(tmp_path / "long.csv", index=False)
    table = pd.DataFrame(probs).assign(item=ids).sample(frac=1, random_state=1)
    table.to_csv(tmp_path / "p.csv", index=False)
    by_id = annotate(tmp_path / "long.csv", tmp_path / "p.csv", tmp_path / "i")
    by_row = annotate(d / "wide.npy", tmp_path / "probs.npy", tmp_path / "w")
    assert by_id.exit_code == 0 and by_row.exit_code == 0, by_id.output + by_row.output
    found = pd.read_csv(tmp_path / "i" / "consensus.csv").set_index("item").loc[ids]
    rows = pd.read_csv(tmp_path / "w" / "consensus.csv")
    assert np.allclose(found["p_correct"], rows["p_correct"])
    table.iloc[1:].to_csv(tmp_path / "short.csv", index=False)
    short = annotate(tmp_path / "long.csv", tmp_path / "short.csv", tmp_path / "s")
    assert "has no row for 1 annotated item(s)" in one_error_line(short)


def test_annotators_command_errors(crowd_files, tmp_path):
    d, _ = crowd_files
    bad = pd.DataFrame({"who": ["x", "y"], "what": [1, 2]})
    bad.to_csv(tmp_path / "bad.csv", index=False)
    assert "same kind of label in every annotator column" in one_error_line(
        invoke("annotators", tmp_path / "bad.csv", "--out", tmp_path / "o")
    )
    assert "--method must be" in one_error_line(
        invoke("annotators", d / "wide.npy", "--method", "vote", "--out", tmp_path / "o")
    )
    assert "needs pred_probs" in one_error_line(
        invoke("annotators", d / "wide.npy", "--method", "model", "--out", tmp_path / "o")
    )


def test_audit_streams_a_npy_file(npy_inputs):
    d, *_ = npy_inputs
    outputs = {}
    for engine in ("numpy", "streaming"):
        out = d / engine
        common = ["--labels", d / "labels.npy", "--pred-probs", d / "probs.npy"]
        result = invoke("audit", *common, "--engine", engine, "--out", out)
        assert result.exit_code == 0, result.output
        outputs[engine] = pd.read_parquet(out / "issues.parquet")
        summary = json.loads((out / "summary.json").read_text())
        assert summary["inputs"]["engine"].startswith(engine)
    pd.testing.assert_frame_equal(outputs["streaming"], outputs["numpy"])
    (d / "p.csv").write_text("a,b\n0.5,0.5\n")
    result = invoke(
        "audit",
        "--labels",
        d / "labels.npy",
        "--pred-probs",
        d / "p.csv",
        "--engine",
        "streaming",
        "--out",
        d / "x",
    )
    assert "--engine streaming reads pred_probs from a .npy file" in one_error_line(result)


class _Server:
    """A stand-in for the review server: returns at once, as werkzeug's does on Ctrl+C."""

    port = 8765

    def serve_forever(self):
        pass

    def server_close(self):
        pass


def test_review_serves_the_demo_with_its_digits(demo_dir, monkeypatch):
    """The demo writes each digit as a PNG and a table of them, recorded in summary.json, so
    that the review page shows the images without options."""
    from labelaudit.app import create_app

    out, output = demo_dir
    assert f"labelaudit review {out}" in output
    examples = pd.read_csv(out / "examples.csv")
    assert list(examples.columns) == ["image"] and len(examples) == 1797
    client = create_app(out).test_client()
    item = client.get("/api/items?start=0&count=1").json["items"][0]
    assert item["image"] == f"image/{item['example']}"
    assert client.get("/" + item["image"]).data.startswith(b"\x89PNG")
    served = []
    monkeypatch.setattr(
        "labelaudit.app._server.serve", lambda app, host, port: served.append(port) or _Server()
    )
    result = invoke("review", out, "--no-open", "--port", 9000)
    assert result.exit_code == 0, result.output
    assert served == [9000]
    assert "Reviewing the 93 flagged examples" in result.output.replace("\n", " ")
    assert "Stopped. 0 of 93 reviewed" in result.output
    assert "Warning" not in result.output
    shared = invoke("review", out, "--no-open", "--host", "0.0.0.0")
    assert "Warning: serving on 0.0.0.0: anyone who can reach this machine" in shared.output


def test_review_records_the_data_table_of_the_audit(npy_inputs, monkeypatch):
    d, _, _, _ = npy_inputs
    pd.DataFrame({"text": [f"the example numbered {i}" for i in range(300)]}).to_csv(
        d / "data.csv", index=False
    )
    args = ["--labels", d / "labels.npy", "--pred-probs", d / "probs.npy"]
    assert invoke("audit", *args, "--data", d / "data.csv", "--out", d / "a").exit_code == 0
    from labelaudit.app import create_app

    item = create_app(d / "a").test_client().get("/api/items?count=1").json["items"][0]
    assert item["text"] == f"the example numbered {item['example']}"
    (d / "data.csv").rename(d / "moved.csv")
    monkeypatch.setattr("labelaudit.app._server.serve", lambda *args: _Server())
    gone = invoke("review", d / "a", "--no-open")
    assert gone.exit_code == 0
    said = " ".join(gone.output.split())
    assert f"Warning: The table of examples the audit recorded, {d / 'data.csv'}, is not" in said


def test_review_without_flask_says_what_to_install(demo_dir, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "flask" else real(name, *a)
    )
    out, _ = demo_dir
    line = one_error_line(invoke("review", out, "--no-open"))
    assert line == "Error: The review page needs Flask: pip install 'labelaudit[app]'."


def test_review_errors(tmp_path, npy_inputs):
    assert "is not a folder" in one_error_line(invoke("review", tmp_path / "none", "--no-open"))
    assert "no issues.parquet" in one_error_line(invoke("review", tmp_path, "--no-open"))
    d, _, _, _ = npy_inputs
    args = ["--labels", d / "labels.npy", "--pred-probs", d / "probs.npy"]
    assert invoke("audit", *args, "--out", d / "a").exit_code == 0
    pd.DataFrame({"x": range(5)}).to_csv(d / "short.csv", index=False)
    short = invoke("review", d / "a", "--data", d / "short.csv", "--no-open")
    assert "has 5 rows for the audit's 300 examples" in one_error_line(short)
    missing = invoke("review", d / "a", "--images", d / "none.npy", "--no-open")
    assert "--images" in one_error_line(missing) and "does not exist" in one_error_line(missing)
    np.save(d / "flat.npy", np.zeros((300, 64)))
    flat = invoke("review", d / "a", "--images", d / "flat.npy", "--no-open")
    assert "images must have shape (300, H, W)" in one_error_line(flat)
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = invoke("review", d / "a", "--no-open", "--port", port)
    assert f"Cannot serve on 127.0.0.1:{port}" in one_error_line(busy)
    assert "pass another --port" in one_error_line(busy)


def test_export_leaves_out_what_the_review_page_decided(npy_inputs):
    from labelaudit.app._review import Review

    d, *_ = npy_inputs
    assert audit_npy_files(d, d / "a").exit_code == 0
    review = Review.open(d / "a")
    first, second = review.queue["example"].iloc[:2]
    review.decide(first, "keep")
    review.decide(second, "remove")
    result = invoke("export", d / "a", "--out", d / "q.csv")
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "Wrote 18 examples" in said and "(2 decided on the review page left out;" in said
    queue = pd.read_csv(d / "q.csv")
    assert len(queue) == 18 and not {first, second} & set(queue["example"])
    every = invoke("export", d / "a", "--out", d / "all.csv", "--include-reviewed")
    assert "Wrote 20 examples" in every.output and len(pd.read_csv(d / "all.csv")) == 20


def test_brackets_in_names_and_messages_are_printed_as_they_are(npy_inputs):
    """rich reads [word] as markup: a class named '[red]ant', a path or a hint with
    brackets lost them in the terminal."""
    d, *_ = npy_inputs
    args = ["--labels", d / "labels.npy", "--pred-probs", d / "probs.npy"]
    out = d / "out[1]"
    result = invoke("audit", *args, "--class-names", "[red]ant,bee,cat", "--out", out)
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "[red]ant labeled bee" in said and "│ [red]ant" in result.output
    assert f"{out}/report.html" in result.output.replace("\n", "")
    missing = invoke("audit", "--labels", d / "no[1].npy", "--pred-probs", d / "probs.npy")
    assert "no[1].npy" in one_error_line(missing)


@pytest.fixture
def tag_files(tmp_path):
    """Multi-label data in each form the command reads: class 'b' left out on 25% of
    the examples it applies to."""
    rng = np.random.default_rng(0)
    names = ["a", "b", "c"]
    true = rng.random((1200, 3)) < 0.35
    given = true.copy()
    given[:, 1] &= rng.random(1200) >= 0.25
    probs = np.clip(np.where(true, 0.85, 0.08) + rng.normal(0, 0.08, true.shape), 0, 1)
    np.save(tmp_path / "tags.npy", given.astype(np.int8))
    np.save(tmp_path / "probs.npy", probs)
    pd.DataFrame(given.astype(int), columns=names).to_csv(tmp_path / "tags.csv", index=False)
    pd.DataFrame(probs, columns=names).to_csv(tmp_path / "probs.csv", index=False)
    joined = ["|".join(n for n, g in zip(names, row, strict=True) if g) for row in given]
    pd.DataFrame({"tags": joined}).to_csv(tmp_path / "joined.csv", index=False)
    # the same classes in another column order
    pd.DataFrame(probs[:, ::-1], columns=names[::-1]).to_parquet(tmp_path / "reversed.parquet")
    return tmp_path, given, probs


@pytest.mark.parametrize(
    "inputs",
    [
        ["--labels", "tags.npy", "--pred-probs", "probs.npy", "--class-names", "a,b,c"],
        ["--labels", "tags.csv", "--pred-probs", "probs.csv"],
        ["--labels", "tags.csv", "--pred-probs", "reversed.parquet"],
        ["--labels", "joined.csv", "--separator", "|", "--pred-probs", "probs.npy"],
        ["--labels", "joined.csv", "--separator", "|", "--pred-probs", "reversed.parquet"],
    ],
)
def test_multilabel_command(tag_files, inputs, tmp_path):
    d, given, probs = tag_files
    args = [d / value if value.endswith(("npy", "csv", "parquet")) else value for value in inputs]
    out = tmp_path / "ml"
    result = invoke("multilabel", *args, "--out", out, "--top", 3)
    assert result.exit_code == 0, result.output
    assert "Systematic (fix the guideline):\n  b: missing on " in result.output
    assert "Top 3 flagged tags" in result.output
    expected = la.multilabel.audit(given, probs, class_names=["a", "b", "c"])
    # the classes in pred_probs' column order (or --class-names')
    classes = pd.read_csv(out / "classes.csv")
    reversed_probs = "reversed.parquet" in inputs
    assert list(classes["class_name"]) == (["c", "b", "a"] if reversed_probs else ["a", "b", "c"])
    classes = classes.set_index("class_name").loc[["a", "b", "c"]]
    assert list(classes["missing_verdict"]) == list(expected.classes["missing_verdict"])
    assert np.allclose(classes["missing_rate"], expected.classes["missing_rate"])
    issues = pd.read_csv(out / "tag_issues.csv")
    pairs = set(zip(issues["example"], issues["class_name"], strict=True))
    assert pairs == set(zip(expected.issues["example"], expected.issues["class_name"], strict=True))
    assert (np.diff(issues["p_mislabeled"]) <= 0).all()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_issues"] == expected.n_issues
    assert 'id="tag-rates"' in (out / "report.html").read_text()
    assert len(pd.read_csv(out / "queue.csv")) == len(expected.examples)
    assert summary["systematic"] == expected.systematic_classes()
    assert "--force" in one_error_line(invoke("multilabel", *args, "--out", out))


def test_multilabel_command_fails_under_and_errors(tag_files, tmp_path):
    d, _, _ = tag_files
    low = invoke(
        "multilabel", "--labels", d / "tags.csv", "--pred-probs", d / "probs.csv",
        "--out", tmp_path / "f", "--fail-under", 0.99, "--top", 0,
    )  # fmt: skip
    assert low.exit_code == 1 and "below --fail-under 0.99" in low.output
    cases = [
        (["--labels", d / "joined.csv", "--pred-probs", d / "probs.csv"], "not among the classes"),
        (
            ["--labels", d / "joined.csv", "--pred-probs", d / "probs.npy"],
            "names 7 classes and",
        ),  # without --separator '|', every combination is one class
        (
            ["--labels", d / "tags.csv", "--pred-probs", d / "probs.npy", "--class-names", "a,b,x"],
            "the classes ['a', 'b', 'c'] and pred_probs (or --class-names) ['a', 'b', 'x']",
        ),
        (["--labels", d / "probs.npy", "--pred-probs", d / "probs.npy"], "only 0 and 1"),
        (["--labels", d / "tags.npy", "--pred-probs", d / "tags.npy"], "2-D float array"),
    ]
    for args, message in cases:
        line = one_error_line(invoke("multilabel", *args, "--out", tmp_path / "e"))
        assert message in line, line


def test_outputs_never_overwrite_the_inputs_of_the_run(tag_files, npy_inputs):
    """Even with --force, an input named like an output in the --out folder is kept."""
    d, _, _ = tag_files
    (d / "queue.csv").write_bytes((d / "tags.csv").read_bytes())
    args = ["--labels", d / "queue.csv", "--pred-probs", d / "probs.csv", "--out", d, "--force"]
    line = one_error_line(invoke("multilabel", *args))
    assert f"{d / 'queue.csv'} is an input of this run" in line and "choose another --out" in line
    assert (d / "queue.csv").read_bytes() == (d / "tags.csv").read_bytes()
    n, _, _, _ = npy_inputs
    np.save(n / "issues.csv", np.load(n / "labels.npy"))  # an odd name, but the user's
    (n / "issues.csv.npy").rename(n / "issues.csv")
    args = ["--labels", n / "issues.csv", "--pred-probs", n / "probs.npy", "--out", n, "--force"]
    assert "is an input of this run" in one_error_line(invoke("audit", *args))
    assert np.load(n / "issues.csv").shape == (300,)  # kept
    (n / "issues.csv").unlink()
    assert invoke("audit", "--labels", n / "labels.npy", "--pred-probs", n / "probs.npy",
                  "--out", n / "a").exit_code == 0  # fmt: skip
    pd.DataFrame({"text": ["x"] * 300}).to_csv(n / "data.csv", index=False)
    line = one_error_line(
        invoke("export", n / "a", "--data", n / "data.csv", "--out", n / "data.csv", "--force")
    )
    assert "is the --data table" in line and len(pd.read_csv(n / "data.csv")) == 300
    # a model's pred_probs.npy from an earlier run: read, not written, by a --labels run
    np.save(n / "pred_probs.npy", np.load(n / "probs.npy"))
    again = invoke(
        "audit", "--labels", n / "labels.npy", "--pred-probs", n / "pred_probs.npy",
        "--out", n, "--force",
    )  # fmt: skip
    assert again.exit_code == 0, again.output


def test_multilabel_command_from_a_feature_table(tmp_path, monkeypatch):
    """--table: a cross-validated one-vs-rest model of the other columns gives pred_probs;
    the tags as 0/1 columns or as one joined column give the same audit."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 2))
    true = np.column_stack([X[:, 0] > 0, X[:, 1] > 0.5])
    given = true.copy()
    given[:, 0] &= rng.random(300) >= 0.2  # "a" left out on a fifth of its examples
    frame = pd.DataFrame(X, columns=["x0", "x1"])
    cols = frame.assign(a=given[:, 0].astype(int), b=given[:, 1].astype(int))
    cols.to_csv(tmp_path / "cols.csv", index=False)
    joined = ["|".join(n for n, g in zip("ab", row, strict=True) if g) for row in given]
    frame.assign(tags=joined).to_csv(tmp_path / "joined.csv", index=False)
    runs = [
        ["--table", tmp_path / "cols.csv", "--label-columns", "a,b"],
        ["--table", tmp_path / "joined.csv", "--label-columns", "tags", "--separator", "|"],
    ]
    found = []
    for i, args in enumerate(runs):
        out = tmp_path / f"o{i}"
        result = invoke("multilabel", *args, "--out", out, "--folds", 3, "--top", 0)
        assert result.exit_code == 0, result.output
        classes = pd.read_csv(out / "classes.csv")
        assert list(classes["class_name"]) == ["a", "b"]
        assert classes.loc[0, "missing_rate"] > 0.1 and classes.loc[1, "missing_rate"] < 0.05
        summary = json.loads((out / "summary.json").read_text())
        assert summary["inputs"]["folds"] == "3"
        assert summary["data_table"] == str(args[1].resolve())  # the review page shows it
        assert f"labelaudit review {out}" in " ".join(result.output.split())
        found.append(pd.read_csv(out / "tag_issues.csv"))
    assert found[0].equals(found[1])
    from labelaudit.app import create_app

    item = create_app(tmp_path / "o0").test_client().get("/api/items?count=1").json["items"][0]
    assert [field[0] for field in item["fields"]] == ["x0", "x1", "a", "b"]
    monkeypatch.setattr("labelaudit.app._server.serve", lambda *args: _Server())
    served = invoke("review", tmp_path / "o0", "--no-open")
    assert served.exit_code == 0, served.output
    n = len(pd.read_csv(tmp_path / "o0" / "queue.csv"))
    said = " ".join(served.output.split())
    assert f"Reviewing the {n} examples with flagged tags" in said
    assert f"Stopped. 0 of {n} reviewed: 0 retagged, 0 to remove, 0 kept." in said
    errors = [
        (["--table", tmp_path / "cols.csv"], "--table needs --label-columns"),
        (["--table", tmp_path / "cols.csv", "--label-columns", "a,zz"], "no column(s) ['zz']"),
        (
            ["--table", tmp_path / "cols.csv", "--label-columns", "a", "--labels", "x.npy"],
            "Give either --table",
        ),
        (["--pred-probs", tmp_path / "p.npy"], "Give --labels and --pred-probs, or --table"),
    ]
    for args, message in errors:
        line = one_error_line(invoke("multilabel", *args, "--out", tmp_path / "e"))
        assert message in line, line


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "label-studio"])
def test_export_of_a_multilabel_audit(tag_files, fmt, tmp_path):
    """The queue of a multi-label folder (one row per example) exports like a single-label
    one; Label Studio gets the suggested tags as a multiple-choice prediction."""
    d, given, _ = tag_files
    out = tmp_path / "ml"
    args = ("--labels", d / "tags.csv", "--pred-probs", d / "probs.csv", "--out", out)
    assert invoke("multilabel", *args, "--top", 0).exit_code == 0
    pd.DataFrame({"text": [f"item {i}" for i in range(len(given))]}).to_csv(
        tmp_path / "data.csv", index=False
    )
    target = tmp_path / f"q.{fmt}"
    result = invoke(
        "export", out, "--format", fmt, "--data", tmp_path / "data.csv", "--out", target
    )
    assert result.exit_code == 0, result.output
    queue = pd.read_csv(out / "queue.csv", keep_default_na=False)
    if fmt == "csv":
        rows = pd.read_csv(target, keep_default_na=False).to_dict("records")
    elif fmt == "jsonl":
        rows = [json.loads(line) for line in target.read_text().splitlines()]
    else:
        tasks = json.loads(target.read_text())
        rows = [t["data"] for t in tasks]
        for task, expected in zip(tasks, queue.itertuples(), strict=True):
            prediction = task["predictions"][0]
            assert prediction["result"][0]["value"]["choices"] == [
                t for t in expected.suggested_tags.split("; ") if t
            ]
            assert prediction["score"] == pytest.approx(expected.p_any_wrong)
    assert [r["example"] for r in rows] == list(queue["example"])
    assert all(r["text"] == f"item {r['example']}" for r in rows)
    assert all(r["given_tags"] == g for r, g in zip(rows, queue["given_tags"], strict=True))
    if fmt == "csv":  # once: examples decided on the review page are left out
        from labelaudit.app._review import Review

        decided = int(queue["example"].iloc[0])
        Review.open(out).decide(decided, "keep")
        result = invoke("export", out, "--out", target, "--force")
        assert "1 decided on the review page left out" in " ".join(result.output.split())
        left = pd.read_csv(target, keep_default_na=False)["example"].tolist()
        assert left == [e for e in queue["example"] if e != decided]


@pytest.mark.parametrize("cold", [True, False])
def test_the_spinner_says_when_the_kernels_compile(monkeypatch, cold):
    import io

    from rich.console import Console

    from labelaudit import cli
    from labelaudit.engines import _inmemory

    shown = io.StringIO()
    monkeypatch.setattr(cli, "err_console", Console(file=shown, force_terminal=True, width=200))
    monkeypatch.setattr(_inmemory, "kernels_need_compiling", lambda: cold)
    with cli.working("Auditing 5 examples"):
        pass
    assert "Auditing 5 examples" in shown.getvalue()
    assert ("first run: compiling kernels" in shown.getvalue()) is cold


def test_kernels_need_compiling_reads_numbas_cache(tmp_path):
    import os
    import subprocess
    import sys

    from labelaudit.engines._inmemory import kernels_need_compiling

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 60)
    la.audit(labels, 0.1 + 0.7 * np.eye(3)[labels])  # compiled or loaded
    assert not kernels_need_compiling()
    code = "from labelaudit.engines._inmemory import kernels_need_compiling as f; print(f())"
    empty = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert empty.stdout.strip() == "True"
