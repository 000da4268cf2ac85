#!/usr/bin/env python3
"""onset_check.py: checks the truth's word times against the audio, where a pause makes that possible.

After every pause of 120 ms or more between two words of a line, finds the energy onset in the
speaker's stereo channel (first 5 ms frame above a threshold after the first frame below it) and
compares it with the truth's start of the next word. Per voice: count, signed median, median and p90
of |onset - start|, and pauses with no frame below the threshold (no measurable silence).

    $PY tools/eval/finnish/onset_check.py tests/eval-fi [THRESHOLD_DB_BELOW_PEAK]
"""
import glob
import json
import os
import sys

import numpy as np
import soundfile as sf


def main():
    root = sys.argv[1]
    below = float(sys.argv[2]) if len(sys.argv) > 2 else 50.0
    per = {}
    for f in sorted(glob.glob(os.path.join(root, "calls", "*", "truth.json"))):
        t = json.load(open(f))
        x, sr = sf.read(os.path.join(os.path.dirname(f), "stereo16k.flac"))
        thr = t["generation"].get("output_peak_dbfs", -6.0) - below
        ch = {"seller": 0 if t["seller_channel"] == "left" else 1}
        ch["customer"] = 1 - ch["seller"]
        for tu in t["turns"]:
            y = x[:, ch[tu["role"]]]
            p = per.setdefault(tu["voice"], {"d": [], "none": 0})
            w = tu["words_abs"]
            for a, b in zip(w, w[1:]):
                if b[1] - a[2] < 0.12:
                    continue
                s0, s1 = int((a[2] - 0.05) * sr), int((b[1] + 0.3) * sr)
                seg = y[s0:s1]
                n = len(seg) // 80
                db = 20 * np.log10(np.sqrt((seg[:n * 80].reshape(n, 80) ** 2).mean(1)) + 1e-12)
                sil = np.where(db <= thr)[0]
                if not len(sil):
                    p["none"] += 1
                    continue
                sp = np.where((db > thr) & (np.arange(n) > sil[0]))[0]
                if len(sp):
                    p["d"].append(s0 / sr + sp[0] * 80 / sr - b[1])
    for v, p in sorted(per.items()):
        d = np.array(p["d"]) * 1000
        if len(d):
            print(f"{v}: n={len(d)}, signed median {np.median(d):+.0f} ms, |d| median {np.median(abs(d)):.0f} ms, "
                  f"p90 {np.percentile(abs(d), 90):.0f} ms; {p['none']} pauses with no frame {below:.0f} dB below peak")
        else:
            print(f"{v}: no measurable pause ({p['none']} pauses with no frame {below:.0f} dB below peak)")


if __name__ == "__main__":
    main()
