#!/usr/bin/env python3
"""Checks that two `callscope analyze --format json` outputs of one call read the same.

CI runs it on the static build's and the portable build's analysis of one call.
The two may run different kernels (the portable build checked in CI has one
CPU module, at the AVX2 level; the static build is compiled for the machine),
and float sums in another order move word edges now and then (an edge snaps
to the speech frames, so a slightly different score can move it by a few
frames), so "the same" is: the same words and speakers (at most 2 % of them
differing), 90 % of the matched words with start and end within 0.1 s and
all within 0.5 s, and the KPIs within what moved edges can change (talk ratio
0.02, switches 1). A build that loads
the wrong library, no CPU module or garbage weights fails all of it.

Usage: same_words.py A.json B.json
"""
import difflib
import json
import sys

MAX_WORDS_OFF = 0.02
NEAR_S = 0.1
MIN_NEAR = 0.9
MAX_EDGE_S = 0.5
KPI_TOLERANCE = {"talk_ratio": 0.02, "switches": 1}


def load(path):
    with open(path) as f:
        doc = json.load(f)
    return doc["transcript"]["words"], doc["kpis"]


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    (wa, ka), (wb, kb) = load(sys.argv[1]), load(sys.argv[2])
    if not wa:
        sys.exit(f"{sys.argv[1]}: no words: nothing to compare")
    ta = [(w["text"], w["speaker"]) for w in wa]
    tb = [(w["text"], w["speaker"]) for w in wb]
    matcher = difflib.SequenceMatcher(a=ta, b=tb, autojunk=False)
    matched = near = 0
    worst_edge = 0.0
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            a, b = wa[block.a + k], wb[block.b + k]
            edge = max(abs(a["start"] - b["start"]), abs(a["end"] - b["end"]))
            worst_edge = max(worst_edge, edge)
            matched += 1
            near += edge <= NEAR_S
    failures = []
    off = 1.0 - matched / max(len(wa), len(wb))
    if off > MAX_WORDS_OFF:
        failures.append(f"{off:.1%} of the words differ (at most {MAX_WORDS_OFF:.0%})")
    if near < MIN_NEAR * matched:
        failures.append(f"only {near} of {matched} words within {NEAR_S} s (at least {MIN_NEAR:.0%})")
    if worst_edge > MAX_EDGE_S:
        failures.append(f"a word edge moved {worst_edge:.2f} s (at most {MAX_EDGE_S} s)")
    for key, tolerance in KPI_TOLERANCE.items():
        a, b = ka.get(key), kb.get(key)
        if (a is None) != (b is None) or (a is not None and abs(a - b) > tolerance):
            failures.append(f"KPI {key}: {a} against {b} (tolerance {tolerance})")
    summary = (f"{len(wa)} and {len(wb)} words, {matched} the same ({near} within {NEAR_S} s, "
               f"the largest edge move {worst_edge:.2f} s)")
    if failures:
        sys.exit(f"the two analyses differ: {'; '.join(failures)}. {summary}")
    print(f"the same call: {summary}; KPIs within tolerance")


if __name__ == "__main__":
    main()
