"""Label issues in multi-label data: each class a one-vs-rest binary problem."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import numpy as np

from labelaudit._count import noise_of, prepared
from labelaudit._filter import FILTER_METHODS, LOW_SCORE_METHODS, _filter, extent_of, needs_of
from labelaudit._rank import label_quality_scores as binary_scores
from labelaudit._results import NoiseEstimate, import_pandas
from labelaudit._typing import BoolArray, FilterMethod, FloatArray, IntArray, ScoreMethod
from labelaudit._validation import (
    check_class_names,
    check_count,
    check_flag,
    check_fraction,
    check_option,
    column_names,
)
from labelaudit.core.multilabel import AGGREGATORS, binary_problem
from labelaudit.core.scores import SCORERS
from labelaudit.exceptions import FewExamplesWarning, InvalidInputError
from labelaudit.multilabel._checks import as_class_probs, as_tags

if TYPE_CHECKING:
    import pandas as pd

Aggregator: TypeAlias = Literal["exponential_moving_average", "softmin", "min"]
#: The moving average's weight of each next score (cleanlab 2.9's default).
DEFAULT_ALPHA = 0.8
#: The filter options of functions that take none.
_DEFAULTS = {"frac_noise": 1.0, "min_examples_per_class": 1}


def _names(class_names: Any, pred_probs: Any, n_classes: int) -> list[str]:
    """The class names given, else a DataFrame's column names, else the positions."""
    if class_names is None:
        class_names = column_names(pred_probs)
    return check_class_names(class_names, n_classes)


def _checked(labels: Any, pred_probs: Any) -> tuple[BoolArray, FloatArray]:
    probs = as_class_probs(pred_probs)
    return as_tags(labels, *probs.shape), probs


def _per_class(
    tags: BoolArray,
    probs: FloatArray,
    method: FilterMethod,
    options: dict[str, Any],
    estimates: list[NoiseEstimate] | None = None,
) -> BoolArray:
    """Each class's binary flags (as :func:`labelaudit.find_label_issues` finds them),
    with the few-examples warnings of all classes in one; with ``estimates``, each
    class's noise estimate is appended to it from the same pass (a pruning ``method``)."""
    flags = np.zeros(tags.shape, dtype=bool)
    few = []
    for k in range(tags.shape[1]):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", FewExamplesWarning)
            labels_k, probs_k = binary_problem(tags[:, k], probs[:, k])
            prep = prepared(labels_k, probs_k, 2, extent_of(method), "numpy", needs_of(method))
            flags[:, k] = _filter(prep, method, {**options, "num_to_remove_per_class": None})
            if estimates is not None:
                estimates.append(noise_of(prep))
        for caught_warning in caught:
            if issubclass(caught_warning.category, FewExamplesWarning):
                few.append(k)
            else:  # not ours to merge: passed on as it came
                warnings.warn(caught_warning.message, stacklevel=_caller_level())
    if few:
        n, classes = options["min_examples_per_class"], sorted(set(few))
        warnings.warn(
            f"Classes {classes} are given to at most min_examples_per_class={n} examples, or "
            f"missing from at most {n}; their label issues are not pruned.",
            FewExamplesWarning,
            stacklevel=_caller_level(),
        )
    return flags


def _caller_level() -> int:
    """The ``stacklevel`` of the first caller outside labelaudit, seen from the function
    that calls this one (the public functions reach the warning at different depths)."""
    package = str(Path(__file__).parents[1])
    frame, level = sys._getframe(2), 2
    while frame.f_back is not None and frame.f_code.co_filename.startswith(package):
        frame, level = frame.f_back, level + 1
    return level


def _filter_options(
    method: FilterMethod, frac_noise: Any, min_examples_per_class: Any
) -> tuple[FilterMethod, dict[str, Any]]:
    method = check_option("method", method, FILTER_METHODS)
    frac = check_fraction("frac_noise", frac_noise)
    n_keep = check_count("min_examples_per_class", min_examples_per_class)
    return method, {"frac_noise": frac, "min_examples_per_class": n_keep}


def find_label_issues_per_class(
    labels: Any,
    pred_probs: Any,
    *,
    method: FilterMethod = "prune_by_noise_rate",
    frac_noise: float = 1.0,
    min_examples_per_class: int = 1,
) -> BoolArray:
    """Flag, for every example and class, whether that class's tag looks wrong: given but
    not true (a spurious tag), or true but not given (a missing one).

    Each class is a binary problem, tagged or not, with pred_probs ``[1 - p, p]``, and
    :func:`labelaudit.find_label_issues` flags its issues.

    Parameters
    ----------
    labels : array-like of shape (n_samples, n_classes), or a sequence of n_samples lists
        The given tags: an indicator matrix of 0/1 (a NumPy array, DataFrame or SciPy
        sparse matrix, as ``sklearn.preprocessing.MultiLabelBinarizer`` makes), or one
        list of class indices per example (``[[0, 2], [1], []]``, cleanlab's format).
    pred_probs : array-like of shape (n_samples, n_classes)
        Out-of-sample probability that each class applies (rows need not sum to 1), such
        as :func:`labelaudit.multilabel.cross_val_pred_probs` gives.
    method : str, default="prune_by_noise_rate"
        How each class's binary problem is filtered; see :func:`labelaudit.find_label_issues`.
    frac_noise : float in (0, 1], default=1.0
        Flag only this fraction of each estimated noise cell (pruning methods only).
    min_examples_per_class : int, default=1
        A class given to this many examples or fewer (or missing from this many or fewer)
        is not pruned; a :class:`~labelaudit.exceptions.FewExamplesWarning` names them.

    Returns
    -------
    ndarray of shape (n_samples, n_classes), bool
        True where the class's tag of the example looks wrong.

    Examples
    --------
    >>> import numpy as np
    >>> from labelaudit import multilabel
    >>> labels = [[0], [0], [0, 1], [1], [1], [0, 1]]
    >>> pred_probs = np.array([[0.9, 0.1], [0.8, 0.1], [0.9, 0.9],
    ...                        [0.1, 0.8], [0.9, 0.9], [0.9, 0.8]])
    >>> multilabel.find_label_issues_per_class(labels, pred_probs)
    array([[False, False],
           [False, False],
           [False, False],
           [False, False],
           [ True, False],
           [False, False]])
    """
    name, options = _filter_options(method, frac_noise, min_examples_per_class)
    tags, probs = _checked(labels, pred_probs)
    return _per_class(tags, probs, name, options)


def find_label_issues(
    labels: Any,
    pred_probs: Any,
    *,
    method: FilterMethod = "prune_by_noise_rate",
    frac_noise: float = 1.0,
    min_examples_per_class: int = 1,
) -> BoolArray:
    """Flag the examples whose set of labels looks wrong for at least one class.

    Parameters
    ----------
    labels, pred_probs, frac_noise, min_examples_per_class
        As in :func:`find_label_issues_per_class`.
    method : str, default="prune_by_noise_rate"
        As in :func:`find_label_issues_per_class`, except ``low_self_confidence`` and
        ``low_normalized_margin``, which flag the examples with the lowest
        :func:`label_quality_scores`, as many as ``confident_learning`` flags (in a binary
        problem the two scores are equal). Equal to cleanlab 2.9's
        ``multilabel_classification.filter.find_label_issues`` for every method it has.

    Returns
    -------
    ndarray of shape (n_samples,), bool
        True for the flagged examples.

    Examples
    --------
    >>> import numpy as np
    >>> from labelaudit import multilabel
    >>> labels = [[0], [0], [0, 1], [1], [1], [0, 1]]
    >>> pred_probs = np.array([[0.9, 0.1], [0.8, 0.1], [0.9, 0.9],
    ...                        [0.1, 0.8], [0.9, 0.9], [0.9, 0.8]])
    >>> multilabel.find_label_issues(labels, pred_probs)
    array([False, False, False, False,  True, False])
    """
    name, options = _filter_options(method, frac_noise, min_examples_per_class)
    if name in LOW_SCORE_METHODS and (frac_noise != 1.0 or options["min_examples_per_class"] != 1):
        raise InvalidInputError(
            f"frac_noise and min_examples_per_class do not apply to method={name!r}; leave "
            "them at their defaults or pick a pruning method."
        )
    tags, probs = _checked(labels, pred_probs)
    return _flag(tags, probs, name, options)


def _any_class(flags: BoolArray) -> BoolArray:
    """The examples with at least one class flagged."""
    result: BoolArray = np.count_nonzero(flags, axis=1) > 0
    return result


def _flag(
    tags: BoolArray, probs: FloatArray, method: FilterMethod, options: dict[str, Any]
) -> BoolArray:
    if method not in LOW_SCORE_METHODS:
        return _any_class(_per_class(tags, probs, method, options))
    mask = np.zeros(tags.shape[0], dtype=bool)
    mask[_lowest(tags, probs)] = True
    return mask


def _lowest(tags: BoolArray, probs: FloatArray) -> IntArray:
    """The examples a ``low_*`` method flags, lowest score first (NumPy's default sort,
    whose order of ties cleanlab's ranking follows)."""
    n_issues = int(_any_class(_per_class(tags, probs, "confident_learning", _DEFAULTS)).sum())
    order: IntArray = np.argsort(_default_scores(tags, probs, "self_confidence"))[:n_issues]
    return order


def rank_label_issues(
    labels: Any,
    pred_probs: Any,
    *,
    method: FilterMethod = "prune_by_noise_rate",
    rank_by: ScoreMethod = "self_confidence",
) -> IntArray:
    """The flagged examples' positions, most likely mislabeled first.

    Parameters
    ----------
    labels, pred_probs
        As in :func:`find_label_issues_per_class`.
    method : str, default="prune_by_noise_rate"
        Which examples to flag; see :func:`find_label_issues`.
    rank_by : {"self_confidence", "normalized_margin", "confidence_weighted_entropy"}
        The per-class score whose :func:`label_quality_scores` (default aggregation)
        orders the flagged examples, lowest first.

    Returns
    -------
    ndarray of shape (n_issues,), int64
        Positions of the flagged examples, lowest score first, ties in NumPy's default
        sort order: cleanlab 2.9's ranking, except with the ``low_*`` methods, where
        cleanlab orders the examples by the scores of others (see ``docs/cleanlab.md``).

    Examples
    --------
    >>> import numpy as np
    >>> from labelaudit import multilabel
    >>> labels = [[0], [], [0, 1], [1], [1], [0, 1]]
    >>> pred_probs = np.array([[0.9, 0.1], [0.8, 0.1], [0.9, 0.9],
    ...                        [0.1, 0.8], [0.9, 0.9], [0.9, 0.8]])
    >>> multilabel.rank_label_issues(labels, pred_probs)
    array([4, 1])
    """
    method = check_option("method", method, FILTER_METHODS)
    rank_by = check_option("rank_by", rank_by, SCORERS)
    tags, probs = _checked(labels, pred_probs)
    if method in LOW_SCORE_METHODS:
        flagged = _lowest(tags, probs)
    else:
        flagged = np.flatnonzero(_any_class(_per_class(tags, probs, method, _DEFAULTS)))
    if flagged.size == 0:
        return flagged
    # the scores of the flagged rows only: each row's score depends on that row alone
    ranked: IntArray = flagged[np.argsort(_default_scores(tags[flagged], probs[flagged], rank_by))]
    return ranked


def _class_scores(
    tags: BoolArray, probs: FloatArray, method: ScoreMethod, adjust: bool
) -> FloatArray:
    if method == "self_confidence" and not adjust:
        # the probability of the given side, p or 1 - p: what the binary score is, at once
        direct: FloatArray = np.where(tags, probs, 1 - probs).astype(np.float64)
        return direct
    scores = np.empty(tags.shape, dtype=np.float64)
    for k in range(tags.shape[1]):
        scores[:, k] = binary_scores(
            *binary_problem(tags[:, k], probs[:, k]), method=method, adjust_pred_probs=adjust
        )
    return scores


def _aggregate(scores: FloatArray, aggregator: str, parameter: float) -> FloatArray:
    return AGGREGATORS[aggregator](scores, parameter)


def _default_scores(tags: BoolArray, probs: FloatArray, method: ScoreMethod) -> FloatArray:
    """:func:`label_quality_scores` with its default aggregation, which the rankings use."""
    scores = _class_scores(tags, probs, method, False)
    return _aggregate(scores, "exponential_moving_average", DEFAULT_ALPHA)


def label_quality_scores_per_class(
    labels: Any,
    pred_probs: Any,
    *,
    method: ScoreMethod = "self_confidence",
    adjust_pred_probs: bool = False,
) -> FloatArray:
    """Score how likely each class's tag of each example is right; lower = more likely
    wrong.

    Parameters
    ----------
    labels, pred_probs
        As in :func:`find_label_issues_per_class`.
    method : {"self_confidence", "normalized_margin", "confidence_weighted_entropy"}
        The binary score of each class; see :func:`labelaudit.label_quality_scores`.
        ``self_confidence`` is ``p`` where the class is given and ``1 - p`` where not.
    adjust_pred_probs : bool, default=False
        Subtract each class's confidence thresholds first.

    Returns
    -------
    ndarray of shape (n_samples, n_classes), float64
        The scores.

    Examples
    --------
    >>> from labelaudit import multilabel
    >>> multilabel.label_quality_scores_per_class([[1], [0, 2]], [[0.1, 0.9, 0.1], [0.4, 0.1, 0.9]])
    array([[0.9, 0.9, 0.9],
           [0.4, 0.9, 0.9]])
    """
    method = check_option("method", method, SCORERS)
    adjust = check_flag("adjust_pred_probs", adjust_pred_probs)
    tags, probs = _checked(labels, pred_probs)
    return _class_scores(tags, probs, method, adjust)


def label_quality_scores(
    labels: Any,
    pred_probs: Any,
    *,
    method: ScoreMethod = "self_confidence",
    adjust_pred_probs: bool = False,
    aggregator: Aggregator = "exponential_moving_average",
    alpha: float = DEFAULT_ALPHA,
    temperature: float = 0.1,
) -> FloatArray:
    """Score how likely each example's whole set of labels is right; lower = more likely
    wrong. The per-class scores (:func:`label_quality_scores_per_class`) are combined so
    that the worst class weighs most.

    Parameters
    ----------
    labels, pred_probs, method, adjust_pred_probs
        As in :func:`label_quality_scores_per_class`.
    aggregator : {"exponential_moving_average", "softmin", "min"}
        ``exponential_moving_average``: an average of the scores from the largest to the
        smallest, each step weighing the next score by ``alpha`` (cleanlab 2.9's default,
        equal to it). ``softmin``: the scores weighted by the softmax of ``(1 - score) /
        temperature``. ``min``: the worst class's score.
    alpha : float in [0, 1], default=0.8
        The moving average's weight of each next (smaller) score.
    temperature : float > 0, default=0.1
        The softmin's temperature; lower is closer to the minimum.

    Returns
    -------
    ndarray of shape (n_samples,), float64
        The scores.

    Examples
    --------
    >>> from labelaudit import multilabel
    >>> multilabel.label_quality_scores([[1], [0, 2]], [[0.1, 0.9, 0.1], [0.4, 0.1, 0.9]])
    array([0.9, 0.5])
    """
    method = check_option("method", method, SCORERS)
    adjust = check_flag("adjust_pred_probs", adjust_pred_probs)
    aggregator = check_option("aggregator", aggregator, AGGREGATORS)
    parameter = _aggregator_parameter(aggregator, alpha, temperature)
    tags, probs = _checked(labels, pred_probs)
    return _aggregate(_class_scores(tags, probs, method, adjust), aggregator, parameter)


def _aggregator_parameter(aggregator: str, alpha: Any, temperature: Any) -> float:
    if aggregator == "exponential_moving_average":
        return check_fraction("alpha", alpha, low_open=False)
    if aggregator == "softmin":
        if (
            isinstance(temperature, bool)
            or not isinstance(temperature, int | float)
            or not temperature > 0
        ):
            raise InvalidInputError(
                f"The 'temperature' parameter must be a number > 0. Got {temperature!r} instead."
            )
        return float(temperature)
    return 0.0


def class_noise(labels: Any, pred_probs: Any, *, class_names: Any = None) -> pd.DataFrame:
    """How often each class's tag is missing or spurious: confident learning's noise
    estimate of each class's binary problem.

    A class whose tag is missing from (or wrongly added to) 10% or more of the examples
    is a systematic problem, to be fixed in the annotation guideline; a rate of 1-2% is
    individual slips, to be fixed example by example with :func:`find_label_issues`.

    Parameters
    ----------
    labels, pred_probs
        As in :func:`find_label_issues_per_class`.
    class_names : sequence of str, optional
        One name per column of pred_probs; by default a DataFrame's column names, else the
        column positions.

    Returns
    -------
    pandas.DataFrame
        One row per class: ``class_name``; ``n_tagged`` (examples given the class);
        ``n_estimated`` (examples it is estimated to apply to); ``missing_rate``
        P(not tagged | applies) and ``spurious_rate`` P(tagged | does not apply);
        ``n_missing`` and ``n_spurious``, the estimated numbers of such examples;
        ``n_flagged``, the examples :func:`find_label_issues_per_class` flags for the class.

    Examples
    --------
    >>> import numpy as np
    >>> from labelaudit import multilabel
    >>> labels = [[0], [0], [0, 1], [1], [1], [0, 1]]
    >>> pred_probs = np.array([[0.9, 0.1], [0.8, 0.1], [0.9, 0.9],
    ...                        [0.1, 0.8], [0.9, 0.9], [0.9, 0.8]])
    >>> multilabel.class_noise(labels, pred_probs)[["class_name", "n_tagged", "n_missing"]]
      class_name  n_tagged  n_missing
    0          0         4          1
    1          1         4          0
    """
    tags, probs = _checked(labels, pred_probs)
    names = _names(class_names, pred_probs, tags.shape[1])
    estimates: list[NoiseEstimate] = []
    flagged = _per_class(tags, probs, "prune_by_noise_rate", _DEFAULTS, estimates)
    rows = []
    for k, noise in enumerate(estimates):
        joint = noise.confident_joint  # [given, true], 0 = absent, 1 = present
        rows.append(
            {
                "class_name": names[k],
                "n_tagged": int(tags[:, k].sum()),
                "n_estimated": float(noise.prior_true[1] * tags.shape[0]),
                "missing_rate": float(noise.noise_matrix[0, 1]),
                "spurious_rate": float(noise.noise_matrix[1, 0]),
                "n_missing": int(joint[0, 1]),
                "n_spurious": int(joint[1, 0]),
                "n_flagged": int(flagged[:, k].sum()),
            }
        )
    return import_pandas().DataFrame(rows)
