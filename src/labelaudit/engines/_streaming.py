"""The streaming and Dask engines: confident learning in at most three passes over blocks.

Pass 1 checks every block and keeps what is per row (labels, self-confidence, scores);
the thresholds follow from it. Pass 2 counts the confident joint against them. Pass 3
selects the examples to prune by noise rate (each noise cell's m largest margins, merged
across blocks). Pruning by class needs no pass of its own (it ranks self-confidences,
kept from pass 1). Memory: a block, the per-row vectors (a few bytes per example) and the
selections, never N x K. A fourth pass is made only when margins tie exactly at a cut;
it reads the tied classes' margins so that the tie is broken as NumPy's argsort breaks it.

The serial runner reads a :class:`~labelaudit.engines._sources.ChunkSource`; the Dask
runner maps :func:`~labelaudit.engines._passes.run_block` over a ``dask.array``'s row
blocks on the cluster and merges the (small) results on the client.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from labelaudit._typing import BoolArray, FloatArray, IntArray
from labelaudit._validation import check_row_stats
from labelaudit.core import posterior, prune
from labelaudit.core.joint import ConfidentCounts
from labelaudit.core.thresholds import thresholds_of
from labelaudit.engines import _inmemory as mem
from labelaudit.engines._passes import Accumulator, Cells, Plan, run_block
from labelaudit.engines._sources import ChunkSource
from labelaudit.exceptions import InvalidInputError


class Runner(Protocol):
    """Runs one pass over every block and merges the results."""

    def run(self, plan: Plan) -> dict[str, Any]:
        """Apply ``plan`` to every block; return the merged results."""
        ...


@dataclass(frozen=True)
class SerialRunner:
    """Reads the blocks of a source one after another, in this process."""

    source: ChunkSource

    def run(self, plan: Plan) -> dict[str, Any]:
        """Apply ``plan`` to every block; return the merged results."""
        acc = Accumulator(plan)
        for start, labels, probs in self.source.blocks():
            acc.add(run_block(start, labels, probs, acc.refine(plan)))
        return acc.finish()


@dataclass(frozen=True)
class DaskRunner:
    """Maps each pass over a dask array's row blocks (on the active scheduler, e.g. a
    ``dask.distributed`` cluster) and merges the per-block results on the client."""

    labels: Any
    pred_probs: Any

    def run(self, plan: Plan) -> dict[str, Any]:
        """Apply ``plan`` to every block; return the merged results.

        The selection pass runs in waves (see :func:`waves`), each starting from the
        floors the blocks before it set, so that later blocks send back few candidates.
        Other passes run in one wave.
        """
        import dask

        blocks = dask_blocks(self.labels, self.pred_probs)
        acc = Accumulator(plan)
        for wave in waves(len(blocks), plan.cells is not None):
            # One graph node for the plan: each worker fetches it once per wave.
            wave_plan = dask.delayed(acc.refine(plan), pure=True)
            tasks = [
                dask.delayed(run_block, pure=True)(start, labels, probs, wave_plan)
                for start, labels, probs in blocks[wave]
            ]
            for result in dask.compute(*tasks):
                acc.add(result)
        return acc.finish()


def waves(n_blocks: int, selecting: bool) -> list[slice]:
    """How the Dask runner groups blocks: all at once, or (``selecting``) one block per
    worker of the active client, then waves twice as large each time: each wave has
    seen about as many blocks before it as it holds, so it sends back about as many
    candidates as the first."""
    if not selecting:
        return [slice(0, n_blocks)]
    try:
        from distributed import get_client

        size = max(1, len(get_client().scheduler_info()["workers"]))
    except (ImportError, ValueError):
        size = os.cpu_count() or 1
    out, start = [], 0
    while start < n_blocks:
        out.append(slice(start, start + size))
        start += size
        size *= 2
    return out


def dask_blocks(labels: Any, pred_probs: Any) -> list[tuple[int, Any, Any]]:
    """(first row, labels, delayed pred_probs block) for each row block of a dask array
    (column chunks are merged first: a block holds whole rows)."""
    probs = pred_probs.rechunk({1: -1}) if pred_probs.ndim == 2 else pred_probs
    sizes = probs.chunks[0]
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    if is_dask(labels):
        labels = labels.rechunk((sizes,)).to_delayed().ravel()
        label_blocks = list(labels)
    else:
        label_blocks = [labels[a:b] for a, b in itertools.pairwise(starts.tolist())]
    prob_blocks = probs.to_delayed().ravel()
    return [
        (int(starts[i]), label_blocks[i], prob_blocks[i]) for i in range(len(sizes)) if sizes[i] > 0
    ]


def is_dask(value: Any) -> bool:
    """Whether ``value`` is a dask collection (without importing dask)."""
    return type(value).__module__.split(".")[0] == "dask"


@dataclass(frozen=True)
class StreamPrepared:
    """What the first passes learned; methods as ``_inmemory.Prepared``'s."""

    runner: Runner
    labels: IntArray
    n_classes: int
    counts: IntArray
    thresholds: FloatArray | None
    confident: ConfidentCounts | None
    rows: dict[str, Any]
    """Per-row results of the passes (and the posterior's fitting sample)."""

    def _plan(self, **fields: Any) -> Plan:
        return Plan(self.n_classes, kernels=mem.USE_KERNELS, **fields)

    def _rows(self, name: str) -> Any:
        if name not in self.rows:  # a method needs a statistic its prepare() did not ask for
            raise RuntimeError(f"the streaming engine did not compute {name!r}")
        return self.rows[name]

    def without_label_wins(self, flags: BoolArray) -> BoolArray:
        """``flags`` less the examples whose label wins with a 1e-6 head start."""
        return np.asarray(flags & ~self._rows("wins"))

    def argmax_differs(self) -> BoolArray:
        """Whether the most probable class differs from the given label."""
        differs: BoolArray = self._rows("argmax_differs")
        return differs

    def lowest(self, score: str, m: int) -> BoolArray:
        """The m examples with the lowest ``score``."""
        flags = np.zeros(self.labels.shape[0], dtype=bool)
        flags[prune.smallest(self._rows("low"), m)] = True
        return flags

    def ranking_scores(self, rows: IntArray, method: str) -> FloatArray:
        """Scores of ``rows`` in pred_probs' precision, to rank them by."""
        scores: FloatArray = self._rows("rank")[rows]
        return scores

    def prune_flags(
        self, prune_counts: IntArray, n_keep: int, *, by_class: bool, by_rate: bool
    ) -> tuple[BoolArray, BoolArray]:
        """Flags of prune_by_class (from pass 1) and prune_by_noise_rate (pass 3)."""
        nothing = np.zeros(self.labels.shape[0], dtype=bool)
        active = self.counts > max(n_keep, 1)
        start, true, m = mem.cells_of(prune_counts, active & by_rate)
        rate_flags = (
            self._by_rate(Cells(active, start, true, m)) if by_rate and m.shape[0] else nothing
        )
        if not by_class:
            return nothing, rate_flags
        # After pass 3, so that its block and these class lists are not in memory together.
        members = [
            rows.astype(np.int32) for rows in prune.class_members(self.labels, self.n_classes)
        ]
        return prune.prune_by_class(members, self._rows("sc"), prune_counts, n_keep), rate_flags

    def _by_rate(self, cells: Cells) -> BoolArray:
        # Merged by the accumulator: each cell's m + 1 largest, by cell, largest first.
        cell, value, row = self.runner.run(self._plan(cells=cells))["cells"]
        rank = np.arange(cell.shape[0]) - np.searchsorted(cell, cell)
        flags = np.zeros(self.labels.shape[0], dtype=bool)
        # A cell holding m + 1 margins ties at the cut when its (m+1)-th equals its m-th.
        at_cut = np.flatnonzero(rank == cells.m[cell])
        tied = np.unique(cell[at_cut][value[at_cut] == value[at_cut - 1]])
        chosen = (rank < cells.m[cell]) & ~np.isin(cell, tied)
        flags[row[chosen]] = True
        if tied.size:
            self._break_ties(cells, tied, flags)
        return flags

    def _break_ties(self, cells: Cells, tied: IntArray, flags: BoolArray) -> None:
        given = np.searchsorted(cells.start, tied, side="right") - 1
        pairs = tuple(zip(given.tolist(), cells.true[tied].tolist(), strict=True))
        margins = self.runner.run(self._plan(tied=pairs))["tied"]
        members = prune.class_members(self.labels, self.n_classes)  # once for all ties
        for (k, _), values, c in zip(pairs, margins, tied.tolist(), strict=True):
            flags[members[k][np.argsort(values)[: int(cells.m[c])]]] = True

    def _fitted(self) -> tuple[float, FloatArray]:
        """The posterior's sharpness (fitted on pass 1's sample) and noise channel (one
        more pass)."""
        sample = self._rows("sample")
        order = np.argsort(sample["rows"])
        power = posterior.fit_power_on(
            sample["labels"][order], sample["probs"][order], self.n_classes
        )
        counts = self.runner.run(self._plan(power=power))["channel"]
        return power, posterior.channel(counts / posterior.COUNT_UNIT)

    def mislabeled_probability(self) -> FloatArray:
        """The posterior probability that each label is wrong: two more passes (the noise
        channel, then the posterior)."""
        power, channel = self._fitted()
        p: FloatArray = self.runner.run(self._plan(power=power, channel=channel))["p"]
        return p

    def mislabeled_stats(self) -> posterior.CutStats:
        """The sum of the probabilities that labels are wrong (and what the expected-F1 cut
        needs of them)."""
        return posterior.cut_stats(self.mislabeled_probability())

    def mislabeled_flags(self) -> BoolArray:
        """The posterior method's flags."""
        return posterior.expected_f1_flags(self.mislabeled_probability())

    def posterior_summary(self) -> tuple[float, posterior.PosteriorSummary]:
        """The posterior's sharpness and what the audit needs of it (two more passes)."""
        power, channel = self._fitted()
        found = self.runner.run(self._plan(power=power, channel=channel, summary=True))
        return power, posterior.PosteriorSummary(
            p_mislabeled=found["p_mislabeled"],
            alternative=found["alternative"],
            p_alternative=found["p_alternative"],
            model_alternative=found["model_alternative"],
            expected_counts=found["expected_counts"],
        )

    def self_confidence(self) -> FloatArray:
        """Each example's probability of its given label (pred_probs' dtype)."""
        sc: FloatArray = self._rows("sc")
        return sc

    def adjusted_scores(self, method: str) -> FloatArray:
        """Scores of the threshold-adjusted probabilities (one more pass)."""
        plan = self._plan(thresholds=self.thresholds, adjusted=method)
        scores: FloatArray = self.runner.run(plan)["adjusted"]
        return scores

    def quality_scores(self) -> FloatArray:
        """The label quality scores computed in pass 1."""
        scores: FloatArray = self._rows("quality")
        return scores


def named(needs: frozenset[str], prefix: str) -> str | None:
    """The score a ``prefix:<score>`` entry of ``needs`` names, if any."""
    found = [n.split(":", 1)[1] for n in needs if n.startswith(prefix + ":")]
    return found[0] if found else None


def first_plan(n_classes: int | None, extent: mem.Extent, needs: frozenset[str]) -> Plan:
    """Pass 1: checks, labels, and the per-row statistics ``needs`` names."""
    return Plan(
        n_classes,
        kernels=mem.USE_KERNELS,
        check=True,
        self_confidence=extent != "check",
        quality=named(needs, "quality"),
        rank=named(needs, "rank"),
        predicted="predicted" in needs,
        accuracy="accuracy" in needs,
        sample="sample" in needs,
    )


def prepare_stream(
    runner: Runner, n_classes: int | None, extent: mem.Extent, needs: frozenset[str]
) -> StreamPrepared:
    """Run pass 1 (and pass 2 for extent "joint"); ``needs`` names extra statistics:
    ``wins``, ``predicted``, ``accuracy``, ``sample``, ``low:<score>``, ``rank:<score>``,
    ``quality:<score>``."""
    plan = first_plan(n_classes, extent, needs)
    first = runner.run(plan)
    if not first.get("n"):
        raise InvalidInputError("pred_probs is empty: there must be at least one example.")
    k, dtype = int(first["k"]), first["dtype"]
    check_row_stats(first["stats"], dtype)
    labels = first.pop("labels")
    counts = np.bincount(labels, minlength=k).astype(np.int64)
    thresholds = None if extent == "check" else thresholds_of(labels, first["sc"], k)
    confident = None
    if extent == "joint":
        second = runner.run(
            Plan(
                k,
                kernels=mem.USE_KERNELS,
                thresholds=thresholds,
                collision=mem.DEFAULT_COLLISION,
                wins="wins" in needs,
                low=named(needs, "low"),
            )
        )
        confident = ConfidentCounts(mem.finish_joint(second.pop("joint"), k), second.pop("off"))
        first.update(second)
    return StreamPrepared(runner, labels, k, counts, thresholds, confident, first)
