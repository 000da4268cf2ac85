#!/usr/bin/env python3
"""Writes the synthetic KPI golden cases: crates/kpi/tests/golden/<case>/{input,expected}.json.

Each case is a tiny transcript built to exercise one rule of the v1 definitions;
`note` says what the rule should produce, worked out by hand. expected.json is the
output of tools/kpi_v1_ref.py (an independent implementation); the script refuses
to write a case whose hand-stated facts (in `expect`) disagree with it.
The dev-* cases are copied from shared/eval-dev with the held-out reference values.

Usage: python3 tools/make_kpi_golden.py [SHARED_EVAL_DEV_DIR]
"""
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(__file__))
from kpi_v1_ref import kpis  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "crates", "kpi", "tests", "golden")
SC = {"S": "seller", "C": "customer"}


def tr(words, speakers=SC, **meta):
    return dict(meta, speakers=speakers,
                words=[{"text": x, "start": s, "end": e, "speaker": sp} for (sp, x, s, e) in words])


def seq(speaker, text, start, step=0.5, dur=0.5):
    """Consecutive words of one speaker: each `dur` long, starting every `step`."""
    return [(speaker, w, start + i * step, start + i * step + dur) for i, w in enumerate(text.split())]


CASES = {
    "overlap_interruption": dict(
        note="Customer starts at 1.75 while the seller's turn ends at 2.0: one switch, one "
             "interruption; no customer->seller pair, so avg pause is null.",
        t=tr(seq("S", "so then we ship", 0.0) + [("C", "wait", 1.75, 2.25)] + seq("C", "no stop please", 2.25, 0.5, 0.25)),
        expect=dict(switches=1, interruptions=1, avg_pause_s=None, longest_seller_monologue_s=2.0)),
    "backchannel_middle": dict(
        note="A 1-word customer 'mhm' (0.25 s) between two seller runs is a backchannel: one seller "
             "turn 0..4, no switch; its talk time still counts for the customer.",
        t=tr(seq("S", "we have a plan", 0.0) + [("C", "mhm", 2.0, 2.25)] + seq("S", "for your team", 2.5)),
        expect=dict(switches=0, longest_seller_monologue_s=4.0, customer_talk_s=0.25)),
    "backchannel_at_start": dict(
        note="The first run is never a backchannel: the 1-word seller 'hi' is its own turn -> 2 switches.",
        t=tr([("S", "hi", 0.0, 0.3)] + seq("C", "hello who is this", 0.5) + seq("S", "it is Ana", 3.0)),
        expect=dict(switches=2)),
    "backchannel_at_end": dict(
        note="The last run is never a backchannel: the trailing customer 'bye' is a turn -> 1 switch.",
        t=tr(seq("S", "thanks for your time", 0.0) + [("C", "bye", 2.1, 2.4)]),
        expect=dict(switches=1, avg_pause_s=None)),
    "same_speaker_long_pause": dict(
        note="Seller words 0..2, then a 3 s silence, then 5..7: two seller turns, no switch. A gap of "
             "exactly 2.0 s (7 -> 9) still joins the second turn, so its length is 5..10 = 5 s.",
        t=tr(seq("S", "let me check", 0.0, 0.75, 0.5) + seq("S", "okay I see", 5.0, 0.75, 0.5)
             + [("S", "yes", 9.0, 10.0)]),
        expect=dict(switches=0, longest_seller_monologue_s=5.0)),
    "one_speaker_only": dict(
        note="Seller only: talk ratio 1, customer wpm null, no switches, no pauses.",
        t=tr(seq("S", "this is a voicemail for Priya", 0.0)),
        expect=dict(talk_ratio=1.0, customer_wpm=None, switches=0, avg_pause_s=None)),
    "empty_no_duration": dict(
        note="No words and no duration_s: zeros, and null for every ratio.",
        t=tr([], call_id="empty-1"),
        expect=dict(talk_ratio=None, switches_per_hour=None, seller_talk_s=0.0)),
    "empty_with_duration": dict(
        note="No words but a 60 s recording: switches_per_hour is 0 (0 switches / 60 s), not null.",
        t=tr([], call_id="empty-2", duration_s=60.0),
        expect=dict(switches_per_hour=0.0, talk_ratio=None)),
    "all_other": dict(
        note="Only `other` speakers (an IVR and a colleague, one role): talk times 0, all ratios null, "
             "one turn, no switch.",
        t=tr(seq("I", "press one for sales", 0.0) + seq("X", "hi it is me", 2.5),
             speakers={"I": "other", "X": "other"}),
        expect=dict(talk_ratio=None, seller_wpm=None, switches=0)),
    "out_of_order_words": dict(
        note="The overlap_interruption call with its words shuffled: identical KPIs.",
        t=None,
        expect=dict(switches=1, interruptions=1)),
    "ties": dict(
        note="Seller 'a' 1.0-1.5 and customer 'b' 1.0-1.2 start together: sorting by (start, end) puts "
             "the customer first. Two words with identical times keep input order.",
        t=tr([("S", "so", 0.0, 0.5), ("S", "a", 1.0, 1.5), ("C", "b", 1.0, 1.2), ("C", "c", 1.5, 2.0),
              ("S", "x", 2.5, 3.0), ("C", "y", 2.5, 3.0), ("C", "z", 3.0, 3.5)]),
        expect=dict()),
    "questions": dict(
        note="Two seller turns with a '?' word count; a seller backchannel 'right?' is dropped from turns "
             "and does not count; customer questions never count.",
        t=tr(seq("S", "how many seats?", 0.0) + seq("C", "about forty I think", 2.0)
             + [("S", "right?", 4.6, 4.9)] + seq("C", "maybe fifty or so", 5.0)
             + seq("S", "and when do you renew?", 7.0) + seq("C", "why do you ask?", 10.0) + seq("S", "just curious", 12.5)),
        expect=dict(seller_questions=2)),
    "pauses": dict(
        note="Customer->seller gaps 0.5 and 1.5 (mean 1.0); a customer->seller overlap (-0.25) is an "
             "interruption and is left out of the mean.",
        t=tr(seq("S", "hello there how are you", 0.0) + seq("C", "fine thanks and you today", 3.0)
             + seq("S", "good to talk with you", 6.0) + seq("C", "likewise we are keen now", 9.0)
             + seq("S", "so let us start then", 13.0) + seq("C", "yes indeed go on please", 16.0)
             + seq("S", "great we will begin", 18.25)),
        expect=dict(avg_pause_s=1.0, interruptions=1)),
    "not_backchannel_too_many_words": dict(
        note="A 4-word customer run between seller runs is not a backchannel: 2 switches.",
        t=tr(seq("S", "we can do that", 0.0) + seq("C", "ok ok ok ok", 2.0, 0.2, 0.2) + seq("S", "next week", 3.0)),
        expect=dict(switches=2)),
    "not_backchannel_too_long": dict(
        note="A 2-word customer run lasting 1.25 s is not a backchannel: 2 switches.",
        t=tr(seq("S", "we can do that", 0.0) + seq("C", "sure thing", 2.0, 0.75, 0.5) + seq("S", "next week", 3.5)),
        expect=dict(switches=2)),
    "backchannel_limits_inclusive": dict(
        note="Exactly 3 words lasting exactly 1.0 s is still a backchannel: no switch.",
        t=tr(seq("S", "we can do that", 0.0) + seq("C", "yes yes yes", 2.0, 0.375, 0.25) + seq("S", "next week", 3.25)),
        expect=dict(switches=0)),
    "different_neighbours": dict(
        note="A short customer run between a seller run and an `other` run is not a backchannel; the "
             "`other` turn counts in switches: S, C, O = 2 switches.",
        t=tr(seq("S", "let me add my colleague", 0.0) + [("C", "sure", 2.6, 2.9)] + seq("O", "hello everyone here", 3.0),
             speakers={"S": "seller", "C": "customer", "O": "other"}),
        expect=dict(switches=2)),
    "duration_given": dict(
        note="duration_s = 1800 overrides the speech span: 2 switches -> 4 per hour.",
        t=tr(seq("S", "hi", 0.0) + seq("C", "hello there how are you", 1.0) + seq("S", "bye", 4.0), duration_s=1800.0,
             call_id="c-duration", seller_id="s-ana", started_at="2026-11-02T14:00:00Z"),
        expect=dict(switches_per_hour=4.0)),
}


def main():
    dev = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", "shared", "eval-dev")
    base = CASES["overlap_interruption"]["t"]
    shuffled = dict(base, words=list(base["words"]))
    random.Random(7).shuffle(shuffled["words"])
    CASES["out_of_order_words"]["t"] = shuffled
    for name, case in CASES.items():
        got = kpis(case["t"])
        for key, want in case["expect"].items():
            assert got[key] == want, (name, key, got[key], want)
        d = os.path.join(OUT, name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "input.json"), "w") as f:
            json.dump(case["t"], f, indent=1)
        with open(os.path.join(d, "expected.json"), "w") as f:
            json.dump({"note": case["note"], "call_id": case["t"].get("call_id"), "kpi_version": 1, "kpis": got}, f, indent=1)
    calls = os.path.join(dev, "calls")
    for call in sorted(os.listdir(calls)):
        truth = json.load(open(os.path.join(calls, call, "truth.json")))
        transcript = json.load(open(os.path.join(calls, call, "transcript.json")))
        assert kpis(transcript) == truth["expected_kpis_v1"], call
        d = os.path.join(OUT, call)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "input.json"), "w") as f:
            json.dump(transcript, f)
        with open(os.path.join(d, "expected.json"), "w") as f:
            json.dump({"note": "shared/eval-dev truth.json expected_kpis_v1 (held-out reference implementation)",
                       "call_id": transcript["call_id"], "kpi_version": 1, "kpis": truth["expected_kpis_v1"]}, f, indent=1)


if __name__ == "__main__":
    main()
