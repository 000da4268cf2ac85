#!/usr/bin/env python3
"""Checks that two `callscope analyze --format json` outputs of one call read the same.

The same words (text, speaker, start and end to the centisecond) and the same
KPIs. CI runs it on the static build's and the portable build's analysis of one
call: both run the same kernels on the CI machine, so any difference is a build
or loading fault, not rounding.

Usage: same_words.py A.json B.json
"""
import json
import sys


def load(path):
    with open(path) as f:
        doc = json.load(f)
    words = [(w["text"], w["speaker"], round(w["start"], 2), round(w["end"], 2)) for w in doc["transcript"]["words"]]
    return words, doc["kpis"]


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    (wa, ka), (wb, kb) = load(sys.argv[1]), load(sys.argv[2])
    if not wa:
        sys.exit(f"{sys.argv[1]}: no words: nothing to compare")
    for i, (a, b) in enumerate(zip(wa, wb)):
        if a != b:
            sys.exit(f"word {i} differs: {a} against {b}")
    if len(wa) != len(wb):
        sys.exit(f"{len(wa)} words against {len(wb)}")
    if ka != kb:
        diff = {k: (ka.get(k), kb.get(k)) for k in sorted(set(ka) | set(kb)) if ka.get(k) != kb.get(k)}
        sys.exit(f"the KPIs differ: {diff}")
    print(f"the same {len(wa)} words and KPIs")


if __name__ == "__main__":
    main()
