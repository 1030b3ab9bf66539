"""labelaudit.multilabel: one binary problem per class, parity with cleanlab 2.9's
multilabel_classification, the input forms and their errors, and the per-class noise."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from labelaudit import multilabel as ml
from labelaudit.exceptions import FewExamplesWarning, InvalidInputError

pd = pytest.importorskip("pandas")

METHODS = [
    "prune_by_noise_rate",
    "prune_by_class",
    "both",
    "confident_learning",
    "predicted_neq_given",
    "low_self_confidence",
    "low_normalized_margin",
]
SCORES = ["self_confidence", "normalized_margin", "confidence_weighted_entropy"]


def tagged_data(seed=0, n=1500, k=5, missing=(0.2, 0, 0, 0, 0), slips=0.02, dtype=np.float32):
    """True tags, given tags (class c's tag dropped on ``missing[c]`` of the examples it
    applies to, plus random flips at rate ``slips``) and a model that knows the truth."""
    rng = np.random.default_rng(seed)
    true = rng.random((n, k)) < 0.3
    given = true.copy()
    for c, rate in enumerate(missing):
        given[:, c] &= ~(rng.random(n) < rate)
    given ^= rng.random((n, k)) < slips
    probs = np.clip(np.where(true, 0.75, 0.15) + rng.normal(0, 0.12, (n, k)), 0, 1)
    return true, given, probs.astype(dtype)


def index_lists(tags):
    return [np.flatnonzero(row).tolist() for row in tags]


@pytest.fixture(scope="module")
def data():
    return tagged_data()


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


class TestParity:
    cl_filter = pytest.importorskip("cleanlab.multilabel_classification.filter")
    cl_rank = pytest.importorskip("cleanlab.multilabel_classification.rank")

    @pytest.mark.parametrize("method", METHODS)
    def test_flags_and_per_class_flags(self, data, method):
        _, given, probs = data
        labels = index_lists(given)
        expected = self.cl_filter.find_label_issues(labels, probs, filter_by=method)
        assert expected.sum() > 20
        assert_array_equal(ml.find_label_issues(labels, probs, method=method), expected)
        per_class = self.cl_filter.find_multilabel_issues_per_class(labels, probs, filter_by=method)
        assert_array_equal(ml.find_label_issues_per_class(given, probs, method=method), per_class)

    @pytest.mark.parametrize("method", METHODS[:5])
    @pytest.mark.parametrize("rank_by", SCORES)
    def test_ranking(self, data, method, rank_by):
        _, given, probs = data
        labels = index_lists(given)
        expected = self.cl_filter.find_label_issues(
            labels, probs, filter_by=method, return_indices_ranked_by=rank_by
        )
        assert_array_equal(
            ml.rank_label_issues(labels, probs, method=method, rank_by=rank_by), expected
        )

    def test_low_score_ranking_is_by_the_flagged_examples_own_scores(self, data):
        # cleanlab 2.9 sorts the flagged positions (in score order) by the scores of the
        # flagged rows in position order: each position gets another example's score
        _, given, probs = data
        labels = index_lists(given)
        ranked = ml.rank_label_issues(labels, probs, method="low_self_confidence")
        scores = ml.label_quality_scores(labels, probs)
        assert set(ranked) == set(
            np.flatnonzero(ml.find_label_issues(labels, probs, method="low_self_confidence"))
        )
        assert (np.diff(scores[ranked]) >= 0).all()
        theirs = self.cl_filter.find_label_issues(
            labels,
            probs,
            filter_by="low_self_confidence",
            return_indices_ranked_by="self_confidence",
        )
        assert set(theirs) == set(ranked)
        assert (np.diff(scores[theirs]) < 0).any()

    @pytest.mark.parametrize(
        ("method", "adjust"),
        [(method, adjust) for method in SCORES for adjust in (False, True)][:-1],
    )  # not confidence_weighted_entropy with adjusted pred_probs: neither library has it
    def test_scores(self, data, method, adjust):
        _, given, probs = data
        labels = index_lists(given)
        kwargs = {"method": method, "adjust_pred_probs": adjust}
        per_class = self.cl_rank.get_label_quality_scores_per_class(labels, probs, **kwargs)
        ours = ml.label_quality_scores_per_class(labels, probs, **kwargs)
        expected = self.cl_rank.get_label_quality_scores(labels, probs, **kwargs)
        if method == "confidence_weighted_entropy":  # float32 entropies summed in another order
            assert_allclose(ours, per_class, rtol=1e-6)
            assert_allclose(ml.label_quality_scores(labels, probs, **kwargs), expected, rtol=1e-6)
        else:
            assert_array_equal(ours, per_class)
            assert_array_equal(ml.label_quality_scores(labels, probs, **kwargs), expected)

    @pytest.mark.parametrize(
        ("ours", "theirs"),
        [
            ({"alpha": 0.3}, {"method": "exponential_moving_average", "alpha": 0.3}),
            ({"aggregator": "softmin"}, {"method": "softmin"}),
            (
                {"aggregator": "softmin", "temperature": 0.5},
                {"method": "softmin", "temperature": 0.5},
            ),
        ],
    )
    def test_aggregators(self, data, ours, theirs):
        _, given, probs = data
        labels = index_lists(given)
        expected = self.cl_rank.get_label_quality_scores(labels, probs, aggregator_kwargs=theirs)
        assert_allclose(ml.label_quality_scores(labels, probs, **ours), expected, rtol=1e-12)

    def test_a_class_nobody_has(self, data):
        _, given, probs = data
        given = given.copy()
        given[:, 2] = False
        labels = index_lists(given)
        expected = self.cl_filter.find_multilabel_issues_per_class(labels, probs)
        assert_array_equal(ml.find_label_issues_per_class(given, probs), expected)


@pytest.mark.parametrize(
    ("seed", "n", "k", "rate", "dtype"),
    [
        (1, 300, 2, 0.5, np.float64),
        (2, 800, 8, 0.05, np.float32),
        (3, 500, 3, 0.9, np.float16),
        (4, 200, 6, 0.2, np.float64),
        (5, 1000, 1, 0.3, np.float32),
    ],
)
def test_parity_over_shapes_dtypes_and_tag_rates(seed, n, k, rate, dtype):
    """Equal to cleanlab on other sizes, float16/32/64, rare and common tags, one class,
    and probabilities rounded to two decimals (many ties)."""
    cl_filter = pytest.importorskip("cleanlab.multilabel_classification.filter")
    cl_rank = pytest.importorskip("cleanlab.multilabel_classification.rank")
    rng = np.random.default_rng(seed)
    true = rng.random((n, k)) < rate
    given = true ^ (rng.random((n, k)) < 0.08)
    probs = np.clip(np.where(true, 0.7, 0.2) + rng.normal(0, 0.2, (n, k)), 0, 1)
    probs = np.round(probs, 2).astype(dtype)
    lists = index_lists(given)
    scored = k > 1  # cleanlab's scorer refuses one class ("not in multi-label format")
    for method in METHODS if scored else METHODS[:5]:
        expected = cl_filter.find_label_issues(lists, probs, filter_by=method)
        assert_array_equal(ml.find_label_issues(given, probs, method=method), expected, method)
    if not scored:
        return
    for method in METHODS[:5]:
        expected = cl_filter.find_label_issues(
            lists, probs, filter_by=method, return_indices_ranked_by="self_confidence"
        )
        assert_array_equal(ml.rank_label_issues(given, probs, method=method), expected, method)
    assert_array_equal(
        ml.label_quality_scores(given, probs), cl_rank.get_label_quality_scores(lists, probs)
    )


def test_min_aggregator_is_the_worst_class(data):
    _, given, probs = data
    per_class = ml.label_quality_scores_per_class(given, probs)
    assert_array_equal(
        ml.label_quality_scores(given, probs, aggregator="min"), per_class.min(axis=1)
    )
    ema = ml.label_quality_scores(given, probs)
    assert (ema >= per_class.min(axis=1) - 1e-12).all() and (
        ema <= per_class.max(axis=1) + 1e-12
    ).all()


def test_the_planted_errors_are_found(data):
    true, given, probs = data
    wrong = given != true
    per_class = ml.find_label_issues_per_class(given, probs)
    precision = (per_class & wrong).sum() / per_class.sum()
    recall = (per_class & wrong).sum() / wrong.sum()
    assert precision > 0.8 and recall > 0.6
    flagged = ml.find_label_issues(given, probs)
    assert_array_equal(flagged, per_class.any(axis=1))
    # the examples with a wrong tag score lower than the others
    scores = ml.label_quality_scores(given, probs)
    assert scores[wrong.any(axis=1)].mean() < scores[~wrong.any(axis=1)].mean() - 0.2


def test_class_noise_names_the_class_whose_tag_is_forgotten(data):
    true, given, probs = data
    frame = ml.class_noise(given, pd.DataFrame(probs, columns=list("abcde")))
    assert list(frame.columns) == [
        "class_name",
        "n_tagged",
        "n_estimated",
        "missing_rate",
        "spurious_rate",
        "n_missing",
        "n_spurious",
        "n_flagged",
    ]
    assert list(frame["class_name"]) == list("abcde")
    assert_array_equal(frame["n_tagged"], given.sum(axis=0))
    truly_missing = (true & ~given).sum(axis=0) / true.sum(axis=0)
    assert abs(frame.loc[0, "missing_rate"] - truly_missing[0]) < 0.05
    assert frame.loc[0, "missing_rate"] > 0.15
    assert (frame.loc[1:, "missing_rate"] < 0.06).all()
    assert (frame["spurious_rate"] < 0.06).all()
    assert_array_equal(frame["n_flagged"], ml.find_label_issues_per_class(given, probs).sum(axis=0))
    assert abs(frame.loc[0, "n_estimated"] - true[:, 0].sum()) < 0.05 * true[:, 0].sum()
    named = ml.class_noise(given, probs, class_names=["v", "w", "x", "y", "z"])
    assert list(named["class_name"]) == list("vwxyz")


def test_every_form_of_labels_gives_the_same_flags(data):
    from scipy import sparse

    _, given, probs = data
    expected = ml.find_label_issues(given, probs)
    lists = index_lists(given)
    forms = [
        lists,
        [tuple(row) for row in lists],
        [np.array(row, dtype=np.int32) for row in lists],
        pd.Series(lists),
        given.astype(np.int8),
        given.astype(float),
        pd.DataFrame(given.astype(int)),
        sparse.csr_matrix(given),
    ]
    for labels in forms:
        assert_array_equal(ml.find_label_issues(labels, probs), expected)
    assert_array_equal(ml.find_label_issues(given, pd.DataFrame(probs)), expected)


def test_inputs_are_not_modified(data):
    _, given, probs = data
    labels, probs_copy, given_copy = index_lists(given), probs.copy(), given.copy()
    ml.find_label_issues(given, probs)
    ml.class_noise(labels, probs)
    ml.label_quality_scores(labels, probs, adjust_pred_probs=True)
    assert_array_equal(probs, probs_copy) and assert_array_equal(given, given_copy)
    assert labels == index_lists(given)


def test_a_rare_class_warns_once_by_name(data):
    _, given, probs = data
    given = given.copy()
    given[:, 3] = False
    given[0, 3] = True
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ml.find_label_issues(given, probs)
    few = [w for w in caught if issubclass(w.category, FewExamplesWarning)]
    assert len(few) == 1
    assert "Classes [3]" in str(few[0].message)
    assert few[0].filename == __file__
    for call in (
        lambda: ml.rank_label_issues(given, probs),
        lambda: ml.class_noise(given, probs),
    ):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            call()
        assert [w.filename for w in caught if issubclass(w.category, FewExamplesWarning)] == [
            __file__
        ]


PROBS = [[0.9, 0.1, 0.2], [0.2, 0.8, 0.1], [0.7, 0.6, 0.1]]


@pytest.mark.parametrize(
    ("labels", "probs", "message"),
    [
        ([[0], [1, 1], [0]], PROBS, r"labels\[1\] lists a class twice"),
        ([[0, 1, 0], [0, 1, 0], [1, 1, 0]], PROBS, r"labels\[0\] lists a class twice.*np.asarray"),
        ([[0], [3], []], PROBS, r"integers in \[0, 3\).*Got 3"),
        ([[0], ["cat"], []], PROBS, r"Got 'cat'.*MultiLabelBinarizer"),
        ([[0], [1.5], []], PROBS, r"Got 1.5"),
        ([[0], [True], []], PROBS, r"Got True"),
        ([0, 1, 0], PROBS, r"one list of class indices.*labelaudit.find_label_issues"),
        (np.array([0, 1, 0]), PROBS, r"shape \(3,\).*labelaudit.find_label_issues"),
        ([[0], [1]], PROBS, r"same length.*2 label sets and 3 rows"),
        (np.ones((3, 2)), PROBS, r"shape of pred_probs \(3, 3\)"),
        (np.full((3, 3), 2), PROBS, r"only 0 and 1"),
        (["0,1", "2", ""], PROBS, r"labels\[0\] is the string '0,1', not a list"),
        ("012", PROBS, r"not a string"),
        ([[0, 1, 0], [0, np.nan, 1], [1, 1, 0]], PROBS, r"class indices.*Got nan"),
        (np.array([[0, 1, 0], [0, np.nan, 1], [1, 1, 0]]), PROBS, r"missing.*row 1, column 1"),
        (
            pd.DataFrame([[0, 1, 0], [0, None, 1], [1, 1, 0]]).astype("Int64"),
            PROBS,
            r"1 missing value\(s\), the first at row 1, column 1; fill them with 0 or 1",
        ),
        ([[0], [1], []], [0.2, 0.3, 0.1], r"2-D of shape \(n_samples, n_classes\)"),
        ([[0], [1], []], [[2.0, -1, 0]] * 3, r"probabilities in \[0, 1\].*Got -1;.*sigmoid"),
        ([[0], [1], []], [[-5e-7, 0, 0.1], [0, 3, 0], [0, 0, 0]], r"Got 3;"),  # not the -5e-7
        ([[0], [1], []], [[np.nan, 0.1, 0.2]] * 3, r"finite. Row 0"),
        ([[0], [1], []], [["a", "b", "c"]] * 3, r"floating-point numbers"),
    ],
)
def test_bad_inputs_get_clear_errors(labels, probs, message):
    with pytest.raises(InvalidInputError, match=message):
        ml.find_label_issues(labels, probs)


@pytest.mark.parametrize(
    ("function", "kwargs", "message"),
    [
        (ml.find_label_issues, {"method": "nope"}, r"'method' parameter must be one of"),
        (ml.find_label_issues, {"frac_noise": 0}, r"'frac_noise' parameter"),
        (
            ml.find_label_issues,
            {"method": "low_self_confidence", "frac_noise": 0.5},
            r"do not apply to method='low_self_confidence'",
        ),
        (ml.rank_label_issues, {"rank_by": "nope"}, r"'rank_by' parameter must be one of"),
        (ml.label_quality_scores, {"aggregator": "mean"}, r"'aggregator' parameter must be one of"),
        (
            ml.label_quality_scores,
            {"alpha": 1.5},
            r"'alpha' parameter must be a number in \[0, 1\]",
        ),
        (ml.label_quality_scores, {"aggregator": "softmin", "temperature": 0}, r"'temperature'"),
        (ml.label_quality_scores_per_class, {"adjust_pred_probs": "yes"}, r"True or False"),
        (ml.class_noise, {"class_names": ["a"]}, r"class_names"),
    ],
)
def test_bad_options_get_clear_errors(function, kwargs, message):
    with pytest.raises(InvalidInputError, match=message):
        function([[0], [1], []], PROBS, **kwargs)


def test_nothing_flagged_ranks_nothing():
    labels = [[0], [1], [0], [1]]
    probs = [[0.9, 0.1], [0.1, 0.9], [0.8, 0.2], [0.2, 0.8]]
    assert not ml.find_label_issues(labels, probs).any()
    ranked = ml.rank_label_issues(labels, probs)
    assert ranked.shape == (0,) and ranked.dtype == np.int64


def test_other_warnings_of_the_binary_problems_pass_through(data, monkeypatch):
    from labelaudit.multilabel import _multilabel

    def warning_filter(prep, method, options):
        warnings.warn("something else", UserWarning, stacklevel=2)
        return np.zeros(prep.labels.shape[0], dtype=bool)

    monkeypatch.setattr(_multilabel, "_filter", warning_filter)
    _, given, probs = data
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ml.find_label_issues(given, probs)
    assert [str(w.message) for w in caught] == ["something else"] * given.shape[1]
    assert {w.filename for w in caught} == {__file__}


@pytest.fixture(scope="module")
def audited(data):
    true, given, probs = data
    return ml.audit(given, pd.DataFrame(probs, columns=list("abcde"))), true, given, probs


def test_audit_finds_the_forgotten_class_and_the_slips(audited):
    result, true, given, _ = audited
    classes = result.classes
    assert list(classes["class_name"]) == list("abcde")
    assert list(classes["missing_verdict"]) == ["systematic"] + ["individual"] * 4
    assert set(classes["spurious_verdict"]) == {"individual"}
    assert classes.loc[0, "action"] == "fix the guideline: annotators often leave out a"
    assert (classes.loc[1:, "action"] == "fix the flagged examples").all()
    truly_missing = (true & ~given).sum(axis=0) / true.sum(axis=0)
    assert abs(classes.loc[0, "missing_rate"] - truly_missing[0]) < 0.05
    assert (classes["missing_low"] <= classes["missing_rate"]).all()
    assert (classes["missing_rate"] <= classes["missing_high"]).all()
    assert_array_equal(classes["n_tagged"], given.sum(axis=0))
    assert result.systematic_classes() == [
        f"a: missing on {classes.loc[0, 'missing_rate']:.1%} of the examples it applies to"
    ]
    assert 0.5 * (given != true).sum() < result.expected_errors < 2 * (given != true).sum()


def test_audit_issues_are_the_flagged_tags_with_what_to_do(audited):
    result, true, given, probs = audited
    issues = result.issues
    assert list(issues.columns) == [
        "example",
        "class_name",
        "tagged",
        "p_class",
        "p_mislabeled",
        "action",
        "kind",
        "reason",
    ]
    flagged = result.p_mislabeled >= result.threshold
    assert len(issues) == result.n_issues == flagged.sum()
    assert (np.diff(issues["p_mislabeled"]) <= 0).all()
    rows, cols = issues["example"].to_numpy(), issues["class_name"].map("abcde".index).to_numpy()
    assert flagged[rows, cols].all()
    assert_array_equal(issues["tagged"], given[rows, cols])
    assert_array_equal(issues["action"], np.where(given[rows, cols], "remove", "add"))
    assert_allclose(issues["p_class"], probs[rows, cols])
    assert_array_equal(issues["kind"] == "systematic", (cols == 0) & ~given[rows, cols])
    assert ((given != true)[rows, cols]).mean() > 0.8
    first = issues.iloc[0]
    assert first["reason"].startswith(f"model gives {first['class_name']} {first['p_class']:.2f}")
    forgotten = issues[issues["kind"] == "systematic"].iloc[0]["reason"]
    assert "not tagged; a is missing on" in forgotten and forgotten.endswith(": systematic")


def test_audit_summary_health_and_read_only_probabilities(audited):
    result, *_ = audited
    assert result.health == pytest.approx(np.prod(1 - result.p_mislabeled, axis=1).mean())
    with pytest.raises(ValueError, match="read-only"):
        result.p_mislabeled[0, 0] = 0.5
    text = repr(result)
    assert text.splitlines()[0] == f"<MultilabelAudit> {result.headline()}"
    assert "Systematic (fix the guideline):\n  a: missing on" in text
    assert len(text) < 800
    html = result._repr_html_()
    assert result.headline() in html and "<li>a: missing on" in html
    assert html.count("<tr") == 1 + min(5, len(result.examples))  # header and the first five
    for example in result.examples["example"].head(5):
        assert f"<td>{example}</td>" in html


def test_audit_without_systematic_noise_and_options():
    _, given, probs = tagged_data(seed=3, missing=(0, 0, 0, 0, 0))
    result = ml.audit(given, probs, threshold=0.9)
    assert "No class is tagged wrongly systematically" in repr(result)
    assert "No class is tagged wrongly systematically" in result._repr_html_()
    assert set(result.classes["missing_verdict"]) <= {"individual", "clean"}
    assert (result.issues["p_mislabeled"] >= 0.9).all()
    assert list(result.classes["class_name"]) == ["0", "1", "2", "3", "4"]
    with pytest.raises(InvalidInputError, match="'threshold' parameter"):
        ml.audit(given, probs, threshold=0)
    with pytest.raises(InvalidInputError, match="'systematic_rate' parameter"):
        ml.audit(given, probs, systematic_rate=2)


def test_report_and_save(data, tmp_path):
    from labelaudit.report import render_multilabel

    _, given, probs = data
    names = ["<script>x</script>", "b&c", "$0-$50", "d", "e"]
    result = ml.audit(given, probs, class_names=names)
    html = render_multilabel(result, metadata={"model": "<i>svc</i>"}, top=7)
    for section in ("summary", "tag-rates", "classes", "queue", "issues", "metadata"):
        assert f'id="{section}"' in html
    assert "<script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    assert "b&c" not in html and "<i>svc</i>" not in html
    assert html.count('<td class="reason">') == 7
    queue = html.split('id="queue"')[1].split("</section>")[0]
    assert queue.count("<tr>") == 1 + min(7, len(result.examples))
    assert "&lt;script&gt;x&lt;/script&gt;: missing on" in html  # the advice names it
    assert html.count("data:image/png;base64,") == 1
    notebook = result._repr_html_()
    assert "<script>" not in notebook and "&lt;script&gt;x&lt;/script&gt;" in notebook
    with pytest.raises(InvalidInputError, match="takes the MultilabelAudit"):
        render_multilabel(object())
    with pytest.raises(InvalidInputError, match=r"must not contain '; '.*\['x; y'\]; rename"):
        ml.audit(given, probs, class_names=["a", "x; y", "c", "d", "e"])
    result.save(tmp_path / "folder")
    assert sorted(p.name for p in (tmp_path / "folder").iterdir()) == [
        "classes.csv",
        "queue.csv",
        "report.html",
        "summary.json",
        "tag_issues.csv",
        "tag_table.csv",
    ]
    queue = pd.read_csv(tmp_path / "folder" / "queue.csv", keep_default_na=False)
    assert list(queue["example"]) == list(result.examples["example"])
    # every example's tags: the queue's rows, and the given tags as suggested elsewhere
    every = pd.read_csv(tmp_path / "folder" / "tag_table.csv", keep_default_na=False)
    assert list(every["example"]) == list(range(len(given)))
    pd.testing.assert_frame_equal(
        every.set_index("example").loc[queue["example"]].reset_index(), queue
    )
    calm = every[every["n_flagged"] == 0]
    assert (calm["given_tags"] == calm["suggested_tags"]).all() and (calm["changes"] == "").all()
    assert (result.labels == np.asarray(given, dtype=bool)).all()
    assert not result.labels.flags.writeable
    assert len(pd.read_csv(tmp_path / "folder" / "tag_issues.csv")) == result.n_issues
    with pytest.raises(InvalidInputError, match="force=True"):
        result.save(tmp_path / "folder")
    result.save(tmp_path / "folder", force=True)


def test_a_generator_of_label_sets_is_read_once(data):
    _, given, probs = data
    lists = index_lists(given)
    expected = ml.find_label_issues(lists, probs)
    assert_array_equal(ml.find_label_issues((row for row in lists), probs), expected)


def test_the_queue_lists_each_example_once_with_its_suggested_tags(audited):
    result, _, given, _ = audited
    queue = result.examples
    flagged = result.p_mislabeled >= result.threshold
    assert list(queue.columns) == [
        "example",
        "given_tags",
        "suggested_tags",
        "changes",
        "n_flagged",
        "p_any_wrong",
    ]
    assert sorted(queue["example"]) == list(np.flatnonzero(flagged.any(axis=1)))
    assert (np.diff(queue["p_any_wrong"]) <= 0).all()
    names = np.array(list("abcde"))
    for row in queue.head(30).itertuples():
        i = row.example
        assert row.given_tags == "; ".join(names[given[i]])
        assert row.suggested_tags == "; ".join(names[given[i] ^ flagged[i]])
        expected = [
            "-" + n if given[i, c] else "+" + n for c, n in enumerate(names) if flagged[i, c]
        ]
        assert row.changes == "; ".join(expected)
        assert row.n_flagged == flagged[i].sum()
        assert row.p_any_wrong == pytest.approx(1 - np.prod(1 - result.p_mislabeled[i]))
    assert queue["n_flagged"].sum() == result.n_issues
