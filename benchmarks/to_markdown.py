"""Turn benchmarks/speed.py's JSON results into the Markdown table of docs/benchmarks.md.

.venv/bin/python benchmarks/to_markdown.py results.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def num(value: float, fmt: str) -> str:
    """A number, or "-" where there is none (labelaudit-only methods: no cleanlab time)."""
    return "-" if value != value else format(value, fmt)


def main(path: str) -> None:
    rows = json.loads(Path(path).read_text())
    print(
        "| size | operation | cleanlab s | labelaudit s | speed-up | x one sum | "
        "cleanlab peak MiB | labelaudit peak MiB | % of pred_probs | vs cleanlab |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        print(
            f"| {r['size']} | {r['op']} | {num(r['cleanlab_s'], '.3f')} | "
            f"{r['labelaudit_s']:.3f} | "
            f"{num(r['speedup'], '.1f')}x | {r['x_sum']:.1f} | {r['cleanlab_peak_mib'] or 0:.0f} | "
            f"{r['labelaudit_peak_mib'] or 0:.1f} | {r['labelaudit_peak_pct']:.1f}% | "
            f"{r['parity']} |"
        )


if __name__ == "__main__":
    main(sys.argv[1])
