#!/usr/bin/env python3
"""An independent reference implementation of KPI definitions v1, in Python.

It exists to cross-check `callscope-kpi` (Rust): the golden cases' expected.json
files under crates/kpi/tests/golden/ were produced by this script, written from the
issue text without looking at the Rust code, and every value was checked against
the hand calculation noted in the case's `note`. The six `dev-*` cases instead carry
the values of the project's held-out reference implementation (from
shared/eval-dev truth.json), and this script reproduces those exactly too.

Usage: kpi_v1_ref.py TRANSCRIPT.json   -> prints {"call_id", "kpi_version", "kpis"}
"""
import json
import sys

TURN_GAP = 2.0
BC_WORDS = 3
BC_SECS = 1.0


def kpis(t):
    roles = t["speakers"]
    words = [dict(w, role=roles[w["speaker"]]) for w in t["words"]]
    words.sort(key=lambda w: (w["start"], w["end"]))  # stable
    runs = []
    for w in words:
        if runs and runs[-1][-1]["role"] == w["role"]:
            runs[-1].append(w)
        else:
            runs.append([w])
    bc = set()
    for i in range(1, len(runs) - 1):
        r = runs[i]
        if (len(r) <= BC_WORDS and r[-1]["end"] - r[0]["start"] <= BC_SECS
                and runs[i - 1][0]["role"] == runs[i + 1][0]["role"] != r[0]["role"]):
            bc.add(i)
    turns = []
    for i, r in enumerate(runs):
        if i in bc:
            continue
        for w in r:
            if turns and turns[-1]["role"] == w["role"] and w["start"] - turns[-1]["end"] <= TURN_GAP:
                turns[-1]["end"] = max(turns[-1]["end"], w["end"])
                turns[-1]["q"] = turns[-1]["q"] or w["text"].rstrip().endswith("?")
            else:
                turns.append(dict(role=w["role"], start=w["start"], end=w["end"],
                                  q=w["text"].rstrip().endswith("?")))
    talk = {"seller": 0.0, "customer": 0.0}
    count = {"seller": 0, "customer": 0}
    for w in words:
        if w["role"] in talk:
            talk[w["role"]] += w["end"] - w["start"]
            count[w["role"]] += 1
    st, ct = talk["seller"], talk["customer"]
    if t.get("duration_s") is not None:
        dur = t["duration_s"]
    elif words:
        dur = max(w["end"] for w in words) - words[0]["start"]
    else:
        dur = 0.0
    switches = interruptions = 0
    pauses = []
    for a, b in zip(turns, turns[1:]):
        if a["role"] != b["role"]:
            switches += 1
            if b["start"] < a["end"]:
                interruptions += 1
            if a["role"] == "customer" and b["role"] == "seller" and b["start"] - a["end"] >= 0:
                pauses.append(b["start"] - a["end"])

    def longest(role):
        return max([x["end"] - x["start"] for x in turns if x["role"] == role], default=0.0)

    psum = 0.0
    for p in pauses:
        psum += p
    return {
        "seller_talk_s": st,
        "customer_talk_s": ct,
        "talk_ratio": st / (st + ct) if st + ct else None,
        "seller_wpm": count["seller"] / (st / 60) if st else None,
        "customer_wpm": count["customer"] / (ct / 60) if ct else None,
        "switches": switches,
        "switches_per_hour": switches / (dur / 3600) if dur else None,
        "avg_pause_s": psum / len(pauses) if pauses else None,
        "longest_customer_monologue_s": longest("customer"),
        "longest_seller_monologue_s": longest("seller"),
        "interruptions": interruptions,
        "seller_questions": sum(1 for x in turns if x["role"] == "seller" and x["q"]),
    }


if __name__ == "__main__":
    t = json.load(open(sys.argv[1]))
    print(json.dumps({"call_id": t.get("call_id"), "kpi_version": 1, "kpis": kpis(t)}, indent=1))
