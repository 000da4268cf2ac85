#!/usr/bin/env python3
"""Nested out-of-fold check of the call rule (README.md, "The call rule on
the 548 calls").

For each of choose.py's five folds, the best cell of choose.py's grid
(recency x positive threshold x negative threshold) is chosen on the other
four folds' calls (ties: the cell nearest the shipped rule) and scored on the
held-out fold's calls; the sum is compared with the shipped rule on the same
out-of-fold line probabilities. No test split is read.

Usage (numpy, e.g. the venv of finetune_layer3.py):
  rule_nested.py OOF.npz [frozen|tuned|joint]
OOF.npz: written by finetune_layer3.py (OOF=...) over choose.CALLS (no EXTRA).
"""

import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "models"))
import choose as ch  # noqa: E402
import train_sentiment_head as t  # noqa: E402

def distance(rule):
    """How far a cell is from the shipped rule, each axis scaled to its range."""
    s = ch.SHIPPED
    return abs(rule[0] - s[0]) / 6 + abs(rule[1] - s[1]) / 0.2 + abs(rule[2] - s[2]) / 0.25


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    d = np.load(sys.argv[1])
    which = sys.argv[2] if len(sys.argv) == 3 else "tuned"
    lines, truth, fold = ch.folds(t.training_calls(ch.CALLS, False))
    if len(lines) != len(d[which]) or any(str(c) != x[2] for c, x in zip(d["calls"], lines)):
        sys.exit(f"{sys.argv[1]} does not hold choose.CALLS' lines in order (a run with EXTRA, or older CALLS?)")
    prob = d[which]
    by = ch.by_call(lines, prob)
    fold_of = {x[2]: k for x, k in zip(lines, fold)}
    right = {r: {c: ch.call_label(v, *r) == truth[c] for c, v in by.items()} for r in ch.GRID}
    nested, picks = 0, []
    for k in range(5):
        inner = {r: sum(ok for c, ok in right[r].items() if fold_of[c] != k) for r in ch.GRID}
        top = max(inner.values())
        pick = min((r for r in ch.GRID if inner[r] == top), key=distance)
        picks.append(pick)
        nested += sum(ok for c, ok in right[pick].items() if fold_of[c] == k)
    n, shipped = len(by), sum(right[ch.SHIPPED].values())
    best = max(ch.GRID, key=lambda r: (sum(right[r].values()), -distance(r)))
    print(f"{which}: lines {np.mean(prob.argmax(1) == d['y']):.3f}; {n} calls: the shipped rule {ch.SHIPPED} "
          f"{shipped} = {shipped / n:.3f}; nested {nested} = {nested / n:.3f}, the folds' picks {picks}; "
          f"the best cell on all {best}: {sum(right[best].values())}")


if __name__ == "__main__":
    main()
