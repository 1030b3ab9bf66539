"""Memory and time of the engines on a pred_probs file larger than we want in memory.

    .venv/bin/python benchmarks/engines.py [--size 1e7x100] [--dir /tmp/la-engines]
        [--ops find,rank,noise,scores[,audit]] [--engines numpy,streaming,dask1,dask2]

Writes ``p.npy`` (float32, Dirichlet-style rows, 10% label noise, as benchmarks/speed.py)
and ``y.npy`` into ``--dir`` once, then runs each operation with each engine in a fresh
subprocess: labelaudit's function is given the *paths* (the streaming engine reads the file
in blocks; ``numpy`` loads it whole first, and that load is timed too; ``daskN`` starts a
``LocalCluster`` of N worker processes sharing the machine's 2 cores and gives the path to
the Dask engine, whose blocks read their own rows). Reported per run: wall time, the peak
anonymous memory of the process (RssAnon sampled every 2 ms, and VmHWM, the peak resident
size including mapped code, which bounds it from above), as both MiB and a fraction of the
file's size, and whether the result equals the numpy engine's (the exit status is 1 if not).
For Dask, the client's memory is reported (workers hold one block each).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
from speed import make_data

OPS = ["find", "rank", "noise", "scores"]
ENGINES = ["numpy", "streaming", "dask1", "dask2"]


def write_data(folder: Path, n: int, k: int) -> None:
    """Write p.npy and y.npy (speed.py's data) a block at a time, never N x K in memory."""
    folder.mkdir(parents=True, exist_ok=True)
    if (folder / "p.npy").exists() and np.load(folder / "p.npy", mmap_mode="r").shape == (n, k):
        return
    probs = np.lib.format.open_memmap(folder / "p.npy", "w+", np.float32, (n, k))
    labels, _ = make_data(n, k, out=probs)
    probs.flush()
    del probs
    np.save(folder / "y.npy", labels)


# ----------------------------------------------------------------------------- worker side


def status_mib(field: str) -> float:
    """A figure of /proc/self/status (RssAnon, VmHWM), in MiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


class PeakSampler:
    """Sample RssAnon in a background thread; keep the maximum."""

    def __init__(self) -> None:
        self.peak = status_mib("RssAnon")
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.done.wait(0.002):
            self.peak = max(self.peak, status_mib("RssAnon"))

    def __enter__(self) -> PeakSampler:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join()
        self.peak = max(self.peak, status_mib("RssAnon"))


def call(op: str, labels: Any, probs: Any, engine: str) -> Any:
    import labelaudit as la

    if op == "find":
        return la.find_label_issues(labels, probs, engine=engine)
    if op == "rank":
        return la.rank_label_issues(labels, probs, engine=engine)
    if op == "noise":
        return la.estimate_noise(labels, probs, engine=engine).noise_matrix
    if op == "audit":  # not in the default --ops: the per-example table is large
        return la.audit(labels, probs, engine=engine).issues["p_mislabeled"].to_numpy()
    return la.label_quality_scores(labels, probs, engine=engine)


def worker(args: argparse.Namespace) -> None:
    import labelaudit as la

    folder = Path(args.dir)
    rng = np.random.default_rng(0)  # warm-up: imports and compiled kernels from the cache
    small = rng.dirichlet(np.ones(5), 2000).astype(np.float32)
    la.find_label_issues(rng.integers(0, 5, 2000), small, engine="streaming")
    la.label_quality_scores(rng.integers(0, 5, 2000), small)
    client = None
    if args.engine.startswith("dask"):
        from dask.distributed import Client, LocalCluster

        workers = int(args.engine[4:])
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=max(1, 2 // workers),
            processes=True,
            dashboard_address=":0",
        )
        client = Client(cluster)
    base = status_mib("RssAnon")
    start = time.perf_counter()
    with PeakSampler() as peak:
        if args.engine == "numpy":
            labels, probs = np.load(folder / "y.npy"), np.load(folder / "p.npy")
            loaded = time.perf_counter() - start
            result = call(args.op, labels, probs, "numpy")
        else:
            loaded = 0.0
            engine = "dask" if args.engine.startswith("dask") else "streaming"
            result = call(args.op, folder / "y.npy", folder / "p.npy", engine)
    seconds = time.perf_counter() - start
    np.save(Path(args.save), np.asarray(result))
    out = {
        "seconds": seconds,
        "load_seconds": loaded,
        "rss_anon_peak_mib": peak.peak,
        "rss_anon_before_mib": base,
        "vm_hwm_mib": status_mib("VmHWM"),
    }
    if client is not None:
        client.close()
    print(json.dumps(out))


# ----------------------------------------------------------------------------- driver side


def run(folder: Path, op: str, engine: str) -> dict[str, Any]:
    save = folder / f"result-{op}-{engine}.npy"
    cmd = [sys.executable, __file__, "--worker", "--dir", str(folder), "--op", op]
    cmd += ["--engine", engine, "--save", str(save)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{op}/{engine} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1e7x100")
    parser.add_argument("--dir", default="/tmp/la-engines")
    parser.add_argument("--ops", default=",".join(OPS))
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--worker", action="store_true")
    parser.add_argument("--op")
    parser.add_argument("--engine")
    parser.add_argument("--save")
    parser.add_argument("--out", help="also write the results as JSON here")
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return 0
    n, k = (int(float(v)) for v in args.size.split("x"))
    folder = Path(args.dir)
    write_data(folder, n, k)
    size_mib = os.path.getsize(folder / "p.npy") / 2**20
    print(f"pred_probs: {n} x {k} float32, {size_mib:.0f} MiB on disk ({folder / 'p.npy'})")
    print(
        f"{'op':<7}{'engine':<11}{'seconds':>9}{'vs numpy':>10}{'RssAnon MiB':>13}"
        f"{'of file':>9}{'VmHWM MiB':>11}  equal"
    )
    rows, ok = [], True
    for op in args.ops.split(","):
        timings: dict[str, float] = {}
        for stale in folder.glob(f"result-{op}-*.npy"):
            stale.unlink()
        for engine in args.engines.split(","):
            r = run(folder, op, engine)
            timings[engine] = r["seconds"]
            reference = folder / f"result-{op}-numpy.npy"
            got = np.load(folder / f"result-{op}-{engine}.npy")
            equal = bool(np.array_equal(np.load(reference), got)) if reference.exists() else None
            ok &= equal is not False
            ratio = r["seconds"] / timings["numpy"] if "numpy" in timings else float("nan")
            print(
                f"{op:<7}{engine:<11}{r['seconds']:>9.1f}{ratio:>10.2f}"
                f"{r['rss_anon_peak_mib']:>13.0f}{r['rss_anon_peak_mib'] / size_mib:>9.1%}"
                f"{r['vm_hwm_mib']:>11.0f}  {equal}"
            )
            rows.append({"op": op, "engine": engine, "equal": equal, **r})
    if args.out:
        Path(args.out).write_text(json.dumps({"size": args.size, "rows": rows}, indent=1))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
