#!/usr/bin/env python3
"""The Python peer of the signals benchmark (benches/signals.rs), on the same input.

What a Python team would typically write: vaderSentiment's SentimentIntensityAnalyzer
on every sentence, and one compiled regular expression of all tracker names and
aliases (word-bounded, case-insensitive) run over each speaker's text. It does less
than callscope-signals (no stemming, no spacing-insensitive matching, no questions,
action items or keywords), so the ratio flatters the peer.

Usage:
  cargo run --release -p callscope-benches --bin bench-data -- call realistic 60 > /tmp/call.json
  cargo run --release -p callscope-benches --bin bench-data -- trackers 500 > /tmp/trackers.toml
  python3 tools/signals_peer.py /tmp/call.json /tmp/trackers.toml
"""
import json
import re
import sys
import time
import tomllib

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer


def main():
    call = json.load(open(sys.argv[1]))
    trackers = tomllib.load(open(sys.argv[2], "rb"))
    terms = [(t["name"], [t["name"]] + t.get("aliases", []))
             for kind in ("competitor", "keyword") for t in trackers.get(kind, [])]
    alias_to_term = {a.lower(): name for name, aliases in terms for a in aliases}
    pattern = re.compile(r"\b(" + "|".join(sorted(map(re.escape, alias_to_term), key=len, reverse=True)) + r")\b",
                         re.IGNORECASE)
    analyzer = SentimentIntensityAnalyzer()
    words = sorted(call["words"], key=lambda w: (w["start"], w["end"]))

    def run():
        by_speaker = {}
        for w in words:
            by_speaker.setdefault(w["speaker"], []).append(w["text"])
        mentions = [(m.group(0), sp) for sp, ws in by_speaker.items() for m in pattern.finditer(" ".join(ws))]
        sentences, current = [], []
        for w in words:
            current.append(w["text"])
            if w["text"].endswith((".", "?", "!")):
                sentences.append(" ".join(current))
                current = []
        scores = [analyzer.polarity_scores(s)["compound"] for s in sentences]
        return mentions, scores

    run()
    n = 5
    t0 = time.perf_counter()
    for _ in range(n):
        mentions, scores = run()
    dt = (time.perf_counter() - t0) / n
    print(f"{len(words)} words, {len(terms)} terms: {len(mentions)} mentions, {len(scores)} sentences; "
          f"{dt * 1000:.1f} ms per call (mean of {n})")


if __name__ == "__main__":
    main()
