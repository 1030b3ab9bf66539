"""Speed and memory of labelaudit vs cleanlab 2.9.0, side by side, on the same inputs.

    .venv/bin/python benchmarks/speed.py [--sizes 1e5x10,1e6x100] [--out results.json]

For every size (float32 pred_probs from a Dirichlet-style generator, ~10% label noise) and
every public function / find_label_issues method, each library runs in a fresh subprocess:
after a small warm-up call (imports, compiled kernels loaded from their cache) the peak
resident memory counter is reset, the call is timed (median of several runs) and its peak
extra memory (process high-water mark above the resident size before the call) is read.
labelaudit's time is also divided by the time of one ``pred_probs.sum()`` on the same array.

Flagged sets and rankings are compared with cleanlab's: with cleanlab's collision rule
swapped in they must be equal (the exit status is 1 otherwise); with the default rule the
number of differing examples (the documented collision difference) is reported.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from labelaudit._filter import FILTER_METHODS
from labelaudit.core.scores import SCORERS

SIZES = ["1e5x10", "1e6x10", "1e6x100", "1e5x1000", "1e7x10"]
FILTERS = list(FILTER_METHODS)
SCORES = list(SCORERS)
OPS = (
    ["confident_thresholds", "confident_joint", "estimate_noise"]
    + ["num_label_issues:off_diagonal", "num_label_issues:off_diagonal_calibrated"]
    + [f"label_quality_scores:{m}" for m in SCORES]
    + [f"find_label_issues:{m}" for m in FILTERS]
    + ["rank_label_issues"]
    + ["num_label_issues:posterior", "mislabeled_probability"]
)
#: find_label_issues methods cleanlab 2.9.0 has; the others are labelaudit's own (timed,
#: without a cleanlab column).
CLEANLAB_FILTERS = {
    "prune_by_noise_rate",
    "prune_by_class",
    "both",
    "confident_learning",
    "predicted_neq_given",
    "low_normalized_margin",
    "low_self_confidence",
}
OURS_ONLY = {f"find_label_issues:{m}" for m in FILTERS if m not in CLEANLAB_FILTERS} | {
    "num_label_issues:posterior",
    "mislabeled_probability",
}
EXACT = {
    op for op in OPS if op.startswith(("find_", "rank_", "num_", "confident_", "estimate"))
} - OURS_ONLY


def parse_size(size: str) -> tuple[int, int]:
    n, k = size.split("x")
    return int(float(n)), int(float(k))


#: Dirichlet weights of the generator: the true class gets TRUE_WEIGHT, the other classes
#: share OTHER_WEIGHT, so that the model's confidence (mean P(true) = 3 / 4.5 = 0.67) does
#: not depend on K.
TRUE_WEIGHT, OTHER_WEIGHT = 3.0, 1.5


def make_data(
    n: int, k: int, seed: int = 0, out: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Dirichlet rows with extra weight on the true class; 10% of labels flipped at random.
    ``out`` (for example a memory-mapped file) receives the rows, a block at a time."""
    rng = np.random.default_rng(seed)
    true = rng.integers(0, k, n)
    probs = np.empty((n, k), dtype=np.float32) if out is None else out
    step = max(1, 2_000_000 // k)
    for start in range(0, n, step):
        stop = min(n, start + step)
        shape = np.full((stop - start, k), OTHER_WEIGHT / (k - 1))
        shape[np.arange(stop - start), true[start:stop]] = TRUE_WEIGHT
        g = rng.standard_gamma(shape)
        probs[start:stop] = g / g.sum(axis=1, keepdims=True)
    labels = true.copy()
    flip = rng.random(n) < 0.1
    labels[flip] = (true[flip] + rng.integers(1, k, int(flip.sum()))) % k
    return labels, probs


# ----------------------------------------------------------------------------- worker side


def _status_kib(field: str) -> int:
    """A memory figure of this process from /proc/self/status (VmRSS, VmHWM), in KiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _reset_hwm() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _calls(lib: str) -> dict[str, Any]:
    """Each operation of a library as ``f(labels, probs, method)``."""
    if lib == "labelaudit":
        import labelaudit as la

        return {
            "confident_thresholds": lambda y, p, m: la.confident_thresholds(y, p),
            "confident_joint": lambda y, p, m: la.confident_joint(y, p),
            "estimate_noise": lambda y, p, m: la.estimate_noise(y, p),
            "num_label_issues": lambda y, p, m: la.num_label_issues(y, p, method=m),
            "label_quality_scores": lambda y, p, m: la.label_quality_scores(y, p, method=m),
            "find_label_issues": lambda y, p, m: la.find_label_issues(y, p, method=m),
            "rank_label_issues": lambda y, p, m: la.rank_label_issues(y, p),
            "mislabeled_probability": lambda y, p, m: la.mislabeled_probability(y, p),
        }
    from cleanlab import count, filter, rank

    return {
        "confident_thresholds": lambda y, p, m: count.get_confident_thresholds(y, p),
        "confident_joint": lambda y, p, m: count.compute_confident_joint(y, p),
        "estimate_noise": lambda y, p, m: count.estimate_py_and_noise_matrices_from_probabilities(
            y, p
        ),
        "num_label_issues": lambda y, p, m: count.num_label_issues(y, p, estimation_method=m),
        "label_quality_scores": lambda y, p, m: rank.get_label_quality_scores(y, p, method=m),
        "find_label_issues": lambda y, p, m: filter.find_label_issues(y, p, filter_by=m),
        "rank_label_issues": lambda y, p, m: filter.find_label_issues(
            y, p, return_indices_ranked_by="self_confidence"
        ),
    }


def _call(lib: str, op: str, labels: np.ndarray, probs: np.ndarray, rule: str = "paper") -> Any:
    name, _, method = op.partition(":")
    if lib == "labelaudit":
        import labelaudit.engines._inmemory as engine

        engine.DEFAULT_COLLISION = "argmax" if rule == "cleanlab" else "confident"
    return _calls(lib)[name](labels, probs, method)


def _arrays(result: Any) -> list[np.ndarray]:
    if isinstance(result, tuple):
        return [np.asarray(r) for r in result]
    if hasattr(result, "__dataclass_fields__"):
        return [getattr(result, f) for f in result.__dataclass_fields__]
    return [np.asarray(result)]


def _output_bytes(result: Any) -> int:
    """Bytes of all arrays a call returns (a NoiseEstimate's or cleanlab's tuple's too)."""
    return sum(a.nbytes for a in _arrays(result))


def _comparable(result: Any) -> np.ndarray:
    """The array compared between libraries (the noise matrix of noise estimates)."""
    if isinstance(result, tuple):
        return np.asarray(result[1])
    if hasattr(result, "noise_matrix"):
        return np.asarray(result.noise_matrix)
    return np.asarray(result)


def worker(args: argparse.Namespace) -> None:
    warnings.simplefilter("ignore")
    labels = np.load(Path(args.data) / "labels.npy")
    probs = np.load(Path(args.data) / "probs.npy")
    _call(args.lib, args.op, labels[:2000], probs[:2000])  # warm-up: imports, kernels
    sums = []
    for _ in range(5):
        t = time.perf_counter()
        probs.sum()
        sums.append(time.perf_counter() - t)
    before = _status_kib("VmRSS")
    reset = _reset_hwm()
    times = []
    result = None
    for _ in range(args.repeats):
        result = None
        t = time.perf_counter()
        result = _call(args.lib, args.op, labels, probs)
        times.append(time.perf_counter() - t)
        if not reset or sum(times) > 10.0:  # slow calls: fewer repeats, same median logic
            break
    peak = _status_kib("VmHWM") - before if reset else None
    if peak is not None:  # beyond the function's own outputs
        peak = max(0, peak - _output_bytes(result) // 1024)
    np.save(Path(args.save), _comparable(result))
    if args.lib == "labelaudit" and args.op in EXACT:
        np.save(
            Path(args.save + ".cleanlab_rule.npy"),
            _comparable(_call(args.lib, args.op, labels, probs, rule="cleanlab")),
        )
    print(
        json.dumps(
            {
                "times": times,
                "sum": float(np.median(sums)),
                "peak_extra_mib": None if peak is None else peak / 1024,
            }
        )
    )


# ----------------------------------------------------------------------------- parent side


def run_worker(data: Path, lib: str, op: str, repeats: int, save: Path) -> dict[str, Any]:
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        "--data",
        str(data),
        "--lib",
        lib,
        "--op",
        op,
        "--repeats",
        str(repeats),
        "--save",
        str(save),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def compare(op: str, ours: Path, theirs: Path) -> tuple[bool, str]:
    """(equal under cleanlab's collision rule, a note on the default rule)."""
    a, b = np.load(ours), np.load(theirs)
    if op not in EXACT:
        return bool(np.allclose(a, b, rtol=1e-5, atol=1e-6)), "allclose"
    same_rule = np.load(str(ours) + ".cleanlab_rule.npy")
    equal = same_rule.shape == b.shape and bool(np.array_equal(same_rule, b))
    if a.shape == b.shape and np.array_equal(a, b):
        return equal, "equal"
    if a.dtype == bool:
        return equal, f"{int((a != b).sum())} differ (collisions)"
    return equal, "differs (collisions)"


def import_time() -> float:
    code = "import time; t = time.perf_counter(); import labelaudit; print(time.perf_counter() - t)"
    runs = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(5)
    ]
    return float(np.median(runs))


def first_call_costs() -> dict[str, float]:
    """Time of the first find_label_issues call in a fresh process: with the on-disk cache
    of compiled kernels (the usual case), and with an empty cache (compilation)."""
    code = (
        "import time, numpy as np, labelaudit as la; rng = np.random.default_rng(0); "
        "p = rng.dirichlet(np.ones(5), 1000).astype(np.float32); y = rng.integers(0, 5, 1000); "
        "t = time.perf_counter(); la.find_label_issues(y, p); a = time.perf_counter() - t; "
        "t = time.perf_counter(); la.find_label_issues(y, p); print(a, time.perf_counter() - t)"
    )
    out = {}
    with tempfile.TemporaryDirectory() as cache:
        for label, env in [("cold cache", {"NUMBA_CACHE_DIR": cache}), ("warm cache", {})]:
            res = subprocess.run(
                [sys.executable, "-c", code],
                capture_output=True,
                text=True,
                check=True,
                env={**os.environ, **env},
            )
            first, second = map(float, res.stdout.split())
            out[label] = first
            out["second call"] = second
    return out


def machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        pass
    import numba

    import labelaudit

    return (
        f"{cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"NumPy {np.__version__}, numba {numba.__version__}, "
        f"labelaudit {labelaudit.__version__}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(SIZES))
    parser.add_argument("--ops", default=",".join(OPS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=None, help="also write the results as JSON here")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--lib", help=argparse.SUPPRESS)
    parser.add_argument("--op", help=argparse.SUPPRESS)
    parser.add_argument("--save", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return 0
    print(f"machine: {machine()}")
    print(f"import labelaudit: {import_time():.3f} s (median of 5 fresh interpreters)")
    print("first call: " + ", ".join(f"{k} {v:.2f} s" for k, v in first_call_costs().items()))
    rows, failures = [], []
    header = (
        f"{'size':9} {'operation':45} {'cleanlab s':>10} {'ours s':>8} {'speed-up':>8} "
        f"{'x sum':>6} {'cl MiB':>7} {'our MiB':>7} {'%probs':>6}  parity"
    )
    print(header)
    for size in args.sizes.split(","):
        n, k = parse_size(size)
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp)
            labels, probs = make_data(n, k)
            np.save(data / "labels.npy", labels)
            np.save(data / "probs.npy", probs)
            probs_mib = probs.nbytes / 2**20
            del labels, probs
            for op in args.ops.split(","):
                ours = run_worker(data, "labelaudit", op, args.repeats, data / "ours.npy")
                t_ours = float(np.median(ours["times"]))
                if op in OURS_ONLY:
                    theirs, t_cl, ok, note = {"peak_extra_mib": None}, float("nan"), True, "n/a"
                else:
                    theirs = run_worker(data, "cleanlab", op, args.repeats, data / "theirs.npy")
                    ok, note = compare(op, data / "ours.npy", data / "theirs.npy")
                    t_cl = float(np.median(theirs["times"]))
                row = {
                    "size": size,
                    "op": op,
                    "cleanlab_s": t_cl,
                    "labelaudit_s": t_ours,
                    "speedup": t_cl / t_ours,
                    "x_sum": t_ours / ours["sum"],
                    "cleanlab_peak_mib": theirs["peak_extra_mib"],
                    "labelaudit_peak_mib": ours["peak_extra_mib"],
                    "labelaudit_peak_pct": 100 * (ours["peak_extra_mib"] or 0) / probs_mib,
                    "parity": note,
                    "parity_ok": ok,
                }
                rows.append(row)
                if not ok:
                    failures.append(f"{size} {op}")
                print(
                    f"{size:9} {op:45} {t_cl:10.3f} {t_ours:8.3f} {row['speedup']:7.1f}x "
                    f"{row['x_sum']:6.1f} {theirs['peak_extra_mib'] or 0:7.0f} "
                    f"{ours['peak_extra_mib'] or 0:7.1f} {row['labelaudit_peak_pct']:5.1f}%  "
                    f"{note}{'' if ok else '  MISMATCH'}",
                    flush=True,
                )
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=1))
    if failures:
        print(
            "results differ from cleanlab's beyond the documented collision rule: "
            + ", ".join(failures)
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
