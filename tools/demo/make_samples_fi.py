#!/usr/bin/env python3
"""Makes the demo's two Finnish sample calls from the Finnish evaluation set.

Takes `fi-01-crm-discovery` and `fi-02-crm-negotiation` from tests/eval-fi (stereo, seller
Aino Virtanen `s-aino` on the left channel), raises them to the English samples' level
(-6 dBFS peak) and writes them as Ogg/Opus with a NAME.meta.json sidecar, like
tools/demo/make_samples.py does for the English calls. Their transcripts and truth stay in
tests/eval-fi (same call audio, so the set's truth applies: word times, mentions, questions).

Needs the Python packages soundfile and numpy. The Opus files differ from run to run in
their Ogg stream serial numbers (libsndfile picks them at random); the audio is the same.

    python3 tools/demo/make_samples_fi.py [tests/eval-fi] [samples/calls-fi]
"""
import json
import os
import sys

import numpy as np
import soundfile as sf

# (eval call, demo name, outcome, customer)
CALLS = [
    ("fi-01-crm-discovery", "demo-fi-01-aino-discovery", "won", "Kiinteistöhuolto Nieminen"),
    ("fi-02-crm-negotiation", "demo-fi-02-aino-negotiation", "open", "Tilitoimisto Lahtinen"),
]


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else "tests/eval-fi"
    out = sys.argv[2] if len(sys.argv) > 2 else "samples/calls-fi"
    os.makedirs(out, exist_ok=True)
    for call_id, name, outcome, customer in CALLS:
        d = os.path.join(src, "calls", call_id)
        truth = json.load(open(os.path.join(d, "truth.json")))
        assert truth["seller_channel"] == "left"
        x, sr = sf.read(os.path.join(d, "stereo16k.flac"), dtype="float32")
        x = x * (0.5 / float(np.abs(x).max()))
        path = os.path.join(out, f"{name}.opus")
        sf.write(path, x, sr, format="OGG", subtype="OPUS")
        meta = {
            "seller_id": truth["seller_id"],
            "language": truth["language"],
            "team": "fi-crm",
            "started_at": truth["started_at"],
            "direction": "outbound",
            "outcome": outcome,
            "customer": customer,
            "channels": {"layout": "stereo", "seller_channel": "left"},
        }
        with open(os.path.join(out, f"{name}.meta.json"), "w") as f:
            json.dump(meta, f, indent=1, ensure_ascii=False)
            f.write("\n")
        print(f"{path}: {len(x) / sr:.1f} s, {os.path.getsize(path) // 1024} KiB (from {call_id})")


if __name__ == "__main__":
    main()
