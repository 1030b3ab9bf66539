"""Simulated crowds: good annotators, systematic confusers and spammers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from labelaudit._typing import IntArray
from labelaudit._validation import as_generator, as_labels, check_count
from labelaudit.exceptions import InvalidInputError


@dataclass(frozen=True)
class Crowd:
    """A simulated crowd. ``labels`` is wide (items x annotators, -1 = not labeled)."""

    labels: IntArray
    kinds: list[str]
    accuracy: np.ndarray[Any, Any]


def _answer(
    kind: str,
    truth: IntArray,
    k: int,
    acc: float,
    rng: np.random.Generator,
    swap: IntArray,
    favorite: int,
) -> IntArray:
    if kind == "random":
        return rng.integers(0, k, truth.size)
    if kind == "one_class":
        out = rng.integers(0, k, truth.size)
        return np.where(rng.random(truth.size) < 0.8, favorite, out)
    wrong = (truth + rng.integers(1, k, truth.size)) % k
    out = np.where(rng.random(truth.size) < acc, truth, wrong)
    return swap[out] if kind == "confuser" else out


def simulate_crowd(
    true_labels: Any,
    *,
    n_good: int = 20,
    n_confusers: int = 4,
    n_random: int = 3,
    n_one_class: int = 3,
    labels_per_item: int = 3,
    random_state: int | np.random.Generator | None = None,
) -> Crowd:
    """Label every item by ``labels_per_item`` annotators drawn at random.

    Good annotators are right with a probability drawn from [0.55, 0.95], else pick
    another class at random; confusers are right 90% of the time except that a few class
    pairs (one per five classes) are swapped; ``random`` spammers click uniformly;
    ``one_class`` spammers click one class 80% of the time and at random otherwise.

    Parameters
    ----------
    true_labels : array-like of shape (n_items,)
        The true class of every item, integers in ``[0, K)`` with K >= 2.
    n_good, n_confusers, n_random, n_one_class : int >= 0
        How many annotators of each kind the crowd has (20, 4, 3 and 3 by default).
    labels_per_item : int >= 1, default=3
        Annotators per item, drawn at random without repeats; at most the crowd's size.
    random_state : int, numpy.random.Generator or None
        Seed or generator of every random draw.

    Returns
    -------
    Crowd
        ``labels``: wide (items x annotators, -1 where an annotator did not label the
        item), as :func:`labelaudit.analyze_annotators` takes it; ``kinds``: each
        annotator's kind (``good``, ``confuser``, ``random``, ``one_class``);
        ``accuracy``: each annotator's chance of a right label before swaps (0.9 for
        everyone but the good annotators, whose is drawn).
    """
    truth = as_labels(true_labels)
    k = int(truth.max()) + 1
    if k < 2:
        raise InvalidInputError(
            f"true_labels must hold at least 2 classes (labels 0 and 1 or more). Got only {k}."
        )
    sizes = {
        kind: check_count(f"n_{name}", value)
        for kind, name, value in [
            ("good", "good", n_good),
            ("confuser", "confusers", n_confusers),
            ("random", "random", n_random),
            ("one_class", "one_class", n_one_class),
        ]
    }
    kinds = [kind for kind, size in sizes.items() for _ in range(size)]
    m = len(kinds)
    if not 1 <= check_count("labels_per_item", labels_per_item, minimum=1) <= m:
        raise InvalidInputError(
            f"labels_per_item={labels_per_item} needs at least that many annotators; the "
            f"crowd has {m}. Add annotators (n_good, ...) or lower labels_per_item."
        )
    rng = as_generator(random_state)
    accuracy = np.where(np.array(kinds) == "good", rng.uniform(0.55, 0.95, m), 0.9)
    labels = np.full((truth.size, m), -1, dtype=np.int64)
    chosen = np.argsort(rng.random((truth.size, m)), axis=1)[:, :labels_per_item]
    for j, kind in enumerate(kinds):
        rows = np.flatnonzero((chosen == j).any(axis=1))
        swap = np.arange(k)
        pairs = rng.choice(k, 2 * max(1, k // 5), replace=False).reshape(-1, 2)
        swap[pairs[:, 0]], swap[pairs[:, 1]] = pairs[:, 1], pairs[:, 0]
        labels[rows, j] = _answer(
            kind, truth[rows], k, accuracy[j], rng, swap, int(rng.integers(k))
        )
    return Crowd(labels, kinds, accuracy)
