#!/usr/bin/env python3
"""Summarises `callscope eval DIR --json` output (one JSON object per call, with
its `condition`) into the tables of docs/asr.md, and checks how well the
attribution confidence flags the calls whose KPIs are out of tolerance.

Usage: summarize.py EVAL.jsonl [--clean-wer 0.083] [--sweep]
Prints, per condition: calls, WER (over all reference words), calls within all
KPI tolerances, flagged calls; then the calibration: of the calls out of
tolerance, the share flagged; of the flagged calls, the share that were in
fact within tolerance. --sweep also prints those two shares for other
confidence thresholds (to choose the constants of diarize::stereo_confidence).
"""
import json
import sys
from collections import OrderedDict


def main():
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    rows = [json.loads(line) for line in open(args[0]) if line.strip().startswith("{")]
    by = OrderedDict()
    for r in rows:
        by.setdefault(r.get("condition") or "set", []).append(r)
    mono = any(r.get("mono") for r in rows)
    head = "| condition | calls | WER | within tolerances | flagged |"
    if mono:
        head += " mean DER | worst DER | speakers right |"
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for cond, calls in by.items():
        words = sum(c["reference_words"] for c in calls)
        wer = sum(c["wer"] * c["reference_words"] for c in calls) / max(words, 1)
        within = sum(c["within_tolerances"] for c in calls)
        flagged = sum(c["flagged"] for c in calls)
        line = f"| {cond} | {len(calls)} | {100 * wer:.1f} % | {within}/{len(calls)} | {flagged}/{len(calls)} |"
        if mono:
            ders = [c["mono"]["der"] for c in calls]
            right = sum(c["mono"]["speakers"][0] == c["mono"]["speakers"][1] for c in calls)
            line += f" {100 * sum(ders) / len(ders):.1f} % | {100 * max(ders):.1f} % | {right}/{len(calls)} |"
        print(line)
    bad = [r for r in rows if not r["within_tolerances"]]
    flagged = [r for r in rows if r["flagged"]]
    print()
    print(f"out of tolerance: {len(bad)} of {len(rows)} calls; flagged among them: "
          f"{sum(r['flagged'] for r in bad)}/{len(bad)}")
    print(f"flagged: {len(flagged)}; of those within tolerance after all: "
          f"{sum(r['within_tolerances'] for r in flagged)}/{len(flagged)}")
    if "--sweep" in args:
        print("\n| threshold | out of tolerance flagged | flagged but fine |")
        print("|---|---|---|")
        for t in [x / 20 for x in range(1, 20)]:
            f = [r for r in rows if (r.get("confidence") or 1.0) < t]
            caught = sum(1 for r in bad if (r.get("confidence") or 1.0) < t)
            fine = sum(r["within_tolerances"] for r in f)
            print(f"| {t:.2f} | {caught}/{len(bad)} | {fine}/{len(f)} |")


if __name__ == "__main__":
    main()
