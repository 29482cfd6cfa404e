"""Summarises a four-variant comparison: reads DIR/<variant>-s<seed>/summary.json (train.py's
output) and prints the markdown table of docs/results.md: per variant the seeds, the mean and
the spread (sample standard deviation, min..max) of the final validation loss, the mean wall
time, and the share of the BitNet-to-FP16 gap that HGF recovers.

    compare.py out/compare
"""

from __future__ import annotations

import glob
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hgf_model import VARIANTS  # noqa: E402


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: compare.py DIR", file=sys.stderr)
        sys.exit(2)
    runs: dict[str, list[dict]] = {v: [] for v in VARIANTS}
    for path in sorted(glob.glob(os.path.join(argv[0], "*", "summary.json"))):
        with open(path) as f:
            s = json.load(f)
        runs[s["variant"]].append(s)
    if not any(runs.values()):
        print(f"compare.py: no */summary.json under {argv[0]}", file=sys.stderr)
        sys.exit(2)
    means = {}
    print("| variant | seeds | steps | val loss mean | spread (sd; min..max) | wall time per run |")
    print("|---|---|---|---|---|---|")
    for v in VARIANTS:
        rs = runs[v]
        if not rs:
            print(f"| `{v}` | none | | | | |")
            continue
        losses = [r["val_loss"] for r in rs]
        means[v] = statistics.fmean(losses)
        sd = statistics.stdev(losses) if len(losses) > 1 else float("nan")
        seeds = ", ".join(str(r["seed"]) for r in sorted(rs, key=lambda r: r["seed"]))
        steps = ", ".join(sorted({str(r["steps"]) for r in rs}))
        wall = statistics.fmean(r["wall_seconds"] for r in rs)
        spread = f"{sd:.4f}; {min(losses):.4f}..{max(losses):.4f}" if len(losses) > 1 else "one run"
        print(f"| `{v}` | {seeds} | {steps} | {means[v]:.4f} | {spread} | {wall:.0f} s |")
    if all(k in means for k in ("fp16", "bitnet", "hgf")):
        gap = means["bitnet"] - means["fp16"]
        if gap:
            share = (means["bitnet"] - means["hgf"]) / gap
            print(f"\nBitNet-to-FP16 gap {gap:.4f}; HGF recovers {100 * share:.1f}% of it "
                  "((bitnet - hgf) / (bitnet - fp16), on the means).")


if __name__ == "__main__":
    main()
