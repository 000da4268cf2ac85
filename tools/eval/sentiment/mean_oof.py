#!/usr/bin/env python3
"""Scores the mean of two or more runs' out-of-fold probabilities (what
`OOF=FILE finetune_layer3.py` writes; the fine-tuned layer's usual head) on
the train splits' customer lines and, with the shipped call rule, calls; and
each run alone (README.md, "The two readings together, measured").

Usage (numpy): mean_oof.py RUN1.npz RUN2.npz [...]
Every run must cover the same lines in choose.folds' order (no EXTRA).
"""

import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "models"))
import choose as ch  # noqa: E402
import train_sentiment_head as t  # noqa: E402


def score(lines, truth, y, prob):
    calls = np.mean([ch.call_label(v, *ch.SHIPPED) == truth[c] for c, v in ch.by_call(lines, prob).items()])
    return float(np.mean(prob.argmax(1) == y)), float(calls)


def main(paths):
    if len(paths) < 2:
        sys.exit(__doc__)
    lines, truth, _ = ch.folds(t.training_calls(ch.CALLS, False))
    runs = [np.load(p) for p in paths]
    y = np.array([label for _, label, _, _, _ in lines])
    for p, r in zip(paths, runs):
        if r["tuned"].shape != (len(lines), 3) or not np.array_equal(r["y"], y):
            sys.exit(f"error: {p} does not hold the train splits' {len(lines)} lines in choose.folds' order")
    for p, r in zip(paths, runs):
        got = score(lines, truth, y, r["tuned"])
        print(f"{os.path.basename(p)}: lines {got[0]:.3f}, calls {got[1]:.3f}")
    got = score(lines, truth, y, np.mean([r["tuned"] for r in runs], axis=0))
    print(f"mean of the {len(runs)}: lines {got[0]:.3f}, calls {got[1]:.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])
