#!/usr/bin/env python3
"""check.py: checks a generated Finnish set (tests/eval-fi) against its own truth.

    $PY tools/eval/finnish/check.py tests/eval-fi [--kpi-ref tools/kpi_v1_ref.py]

For every call: each audio file decodes to exactly duration_s; the words of transcript.json are sorted, inside
[0, duration_s] and inside their turn; roles are seller/customer; in stereo16k.flac every turn is at least 60 dB
louder on its own channel than on the other where nobody else talks; every expected mention's term is a word
(or words) of its turn; the KPI reference re-run on transcript.json equals expected_kpis_v1. Exits 1 on any failure.
"""
import json
import os
import subprocess
import sys

import numpy as np
import soundfile as sf


def main():
    root = sys.argv[1]
    kref = sys.argv[sys.argv.index("--kpi-ref") + 1] if "--kpi-ref" in sys.argv else None
    idx = json.load(open(os.path.join(root, "index.json")))
    bad = []
    for c in idx["calls"]:
        d = os.path.join(root, "calls", c["call_id"])
        tr = json.load(open(os.path.join(d, "transcript.json")))
        t = json.load(open(os.path.join(d, "truth.json")))
        dur = t["duration_s"]
        for f in c["files"]:
            info = sf.info(os.path.join(d, f))
            if abs(info.frames / info.samplerate - dur) > 0.001:
                bad.append(f"{c['call_id']}/{f}: {info.frames / info.samplerate} s != {dur}")
        ws = tr["words"]
        if any((a["start"], a["end"]) > (b["start"], b["end"]) for a, b in zip(ws, ws[1:])):
            bad.append(f"{c['call_id']}: words not sorted")
        if any(w["start"] < 0 or w["end"] > dur or w["end"] < w["start"] for w in ws):
            bad.append(f"{c['call_id']}: a word outside [0, duration]")
        if set(tr["speakers"].values()) != {"seller", "customer"}:
            bad.append(f"{c['call_id']}: roles {tr['speakers']}")
        for turn in t["turns"]:
            if any(a < turn["start"] - 1e-6 or b > turn["end"] + 1e-6 for _, a, b in turn["words_abs"]):
                bad.append(f"{c['call_id']}: turn {turn['turn']} has a word outside it")
        for m in t["expected_mentions"]:
            turn = next(x for x in t["turns"] if x["turn"] == m["turn"] and x["kind"] == "turn")
            words = " ".join(w[0].strip(".,?!;:") for w in turn["words_abs"])
            if m["term"] not in words:
                bad.append(f"{c['call_id']}: mention {m['term']!r} not in turn {m['turn']}")
        x, sr = sf.read(os.path.join(d, "stereo16k.flac"), dtype="float64")
        ch = {"seller": 0 if t["seller_channel"] == "left" else 1}
        ch["customer"] = 1 - ch["seller"]
        for turn in t["turns"]:
            others = [o for o in t["turns"] if o is not turn and o["role"] != turn["role"]
                      and o["start"] < turn["end"] and o["end"] > turn["start"]]
            if others:
                continue
            a, b = int(turn["start"] * sr), int(turn["end"] * sr)
            own = np.sqrt((x[a:b, ch[turn["role"]]] ** 2).mean())
            other = np.sqrt((x[a:b, 1 - ch[turn["role"]]] ** 2).mean())
            if other > 0 and 20 * np.log10(own / other) < 60:
                bad.append(f"{c['call_id']}: turn {turn['turn']} leaks to the other channel")
        if kref:
            out = json.loads(subprocess.run([sys.executable, kref, os.path.join(d, "transcript.json")], check=True,
                                            stdout=subprocess.PIPE, text=True).stdout)
            if out["kpis"] != t["expected_kpis_v1"]:
                bad.append(f"{c['call_id']}: KPI reference re-run differs")
        print(f"{c['call_id']}: {dur} s, {len(ws)} words, {len(t['expected_mentions'])} mentions, "
              f"{len(t['expected_seller_questions'])} seller questions, {len(t['expected_action_items'])} action items, "
              f"customer {t['expected_call_sentiment']}")
    for b in bad:
        print("FAIL", b)
    print(f"{len(idx['calls']) - len({b.split(':')[0].split('/')[0] for b in bad})} passed, "
          f"{len({b.split(':')[0].split('/')[0] for b in bad})} failed")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
