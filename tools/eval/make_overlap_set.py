#!/usr/bin/env python3
"""Builds an evaluation set with overlapped speech from one with stereo calls.

The eval-dev calls have three short overlaps in all, too few to measure an
overlap detector on. Here each call's customer channel is moved SHIFT seconds
earlier before the two channels are mixed to mono: every customer turn that
followed a seller turn by less than SHIFT now starts while the seller is still
talking (an interruption of SHIFT minus the original gap), and the truth moves
with it exactly: the customer's turns, words and backchannels are shifted, the
overlaps are recomputed from the turns, and the expected KPIs are recomputed by
the reference implementation of KPI definitions v1 (tools/kpi_v1_ref.py).

Usage: make_overlap_set.py SRC_SET OUT_SET [--shift 1.2]

SRC_SET/calls/<id>/ must hold stereo16k.flac, transcript.json and truth.json
(../shared/eval-dev does). OUT_SET/calls/<id>/ gets mono16k.flac,
transcript.json and truth.json, which `callscope eval OUT_SET --mono` reads.
Needs numpy and PyAV (both come with faster-whisper).
"""
import argparse
import json
import os
import sys

import av
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from kpi_v1_ref import kpis  # noqa: E402

RATE = 16_000


def read_stereo(path):
    with av.open(path) as f:
        stream = f.streams.audio[0]
        if stream.rate != RATE or stream.channels != 2:
            sys.exit(f"{path}: expected 16 kHz stereo, got {stream.rate} Hz, {stream.channels} channels")
        chunks = []
        for frame in f.decode(stream):
            data = frame.to_ndarray()
            # Packed (interleaved) samples come as one row; planar as one row per channel.
            chunks.append(data.reshape(-1, 2).T if frame.format.is_packed else data)
    data = np.concatenate(chunks, axis=1)
    if data.dtype != np.float32:
        data = data.astype(np.float32) / float(np.iinfo(data.dtype).max + 1)
    return data[0], data[1]


def write_flac(path, samples):
    pcm = (np.clip(samples, -1.0, 1.0) * 32767.0).astype(np.int16)
    with av.open(path, "w", format="flac") as f:
        stream = f.add_stream("flac", rate=RATE, layout="mono")
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.rate = RATE
        for packet in stream.encode(frame):
            f.mux(packet)
        for packet in stream.encode(None):
            f.mux(packet)


def shifted(x, shift_s):
    n = int(round(shift_s * RATE))
    return np.concatenate([x[n:], np.zeros(n, dtype=x.dtype)])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src")
    ap.add_argument("out")
    ap.add_argument("--shift", type=float, default=1.2, help="seconds the customer moves earlier")
    a = ap.parse_args()
    calls = sorted(os.listdir(os.path.join(a.src, "calls")))
    for call in calls:
        src = os.path.join(a.src, "calls", call)
        truth = json.load(open(os.path.join(src, "truth.json")))
        transcript = json.load(open(os.path.join(src, "transcript.json")))
        left, right = read_stereo(os.path.join(src, "stereo16k.flac"))
        seller_right = truth.get("seller_channel") == "right"
        seller, customer = (right, left) if seller_right else (left, right)
        mono = seller + shifted(customer, a.shift)
        roles = transcript["speakers"]

        def move(item, role):
            if role != "customer":
                return item
            item = dict(item)
            for k in ("start", "end"):
                item[k] = round(item[k] - a.shift, 3)
            return item

        transcript["words"] = sorted(
            (move(w, roles[w["speaker"]]) for w in transcript["words"]), key=lambda w: (w["start"], w["end"])
        )
        turns = [move(t, t["role"]) for t in truth["turns"]]
        backchannels = [move(b, roles[b["speaker"]]) for b in truth.get("backchannels", [])]
        spans = sorted({(t["start"], t["end"], t["speaker"]) for t in turns + backchannels})
        overlaps = []
        for i, (s1, e1, k1) in enumerate(spans):
            for s2, e2, k2 in spans[i + 1 :]:
                if s2 >= e1:
                    break
                if k1 != k2:
                    overlaps.append({"start": s2, "end": min(e1, e2), "duration": round(min(e1, e2) - s2, 3)})
        truth.update(
            turns=turns,
            backchannels=backchannels,
            overlaps=overlaps,
            pauses=[],
            seller_channel=None,
            channel_layout={"type": "mono"},
            expected_kpis_v1=kpis(transcript),
            synthetic_overlap={"source": call, "customer_shift_s": a.shift},
        )
        out = os.path.join(a.out, "calls", call)
        os.makedirs(out, exist_ok=True)
        write_flac(os.path.join(out, "mono16k.flac"), mono)
        json.dump(transcript, open(os.path.join(out, "transcript.json"), "w"), indent=1)
        json.dump(truth, open(os.path.join(out, "truth.json"), "w"), indent=1)
        total = sum(o["duration"] for o in overlaps)
        print(f"{call}: {len(overlaps)} overlaps, {total:.1f} s of overlapped speech", file=sys.stderr)


if __name__ == "__main__":
    main()
