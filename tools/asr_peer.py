#!/usr/bin/env python3
"""The peer of callscope's transcription benchmark: faster-whisper on the same files.

For every call of an evaluation set (eval-dev layout), transcribes each channel of
stereo16k.flac with faster-whisper (CTranslate2) from the same CT2 weights that
tools/models/fetch.sh converts for callscope, with word timestamps and its Silero
VAD filter, and writes the words as a callscope transcript (seller channel from
truth.json), so `callscope eval DIR --transcripts OUT` scores both the same way.
Prints the real-time factor of each call.

The language: `--language CODE` for every call; `--language truth` (the default)
takes each call's truth.json `language` (English where it has none), as
`callscope eval` does; `--language auto` lets faster-whisper detect it per
channel and prints what it found.

Usage: asr_peer.py EVAL_DIR CT2_MODEL_DIR OUT_DIR [--compute-type int8|float32] [--beam-size 1]
                   [--threads 2] [--language truth|auto|CODE]
                   [--interleave CALLSCOPE_BIN --ggml MODEL.bin [--rounds 3]]

With --interleave, each call is transcribed by callscope (`CALLSCOPE_BIN eval
EVAL_DIR --only CALL --model MODEL.bin --json`, its own process, whisper
threads from CALLSCOPE__ASR__THREADS) and by faster-whisper (this process,
the model loaded once) back to back, the order swapped every round, so
that a host whose speed drifts over minutes slows both sides of a pair
alike. Model loading is outside both times. Prints each pair and the ratio
of the totals (callscope's speed over faster-whisper's).
"""
import argparse
import json
import os
import subprocess
import time

from faster_whisper import WhisperModel
from faster_whisper.audio import decode_audio


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("eval_dir")
    ap.add_argument("model_dir")
    ap.add_argument("out_dir")
    ap.add_argument("--compute-type", default="int8")
    ap.add_argument("--beam-size", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--language", default="truth", help="truth (each call's truth.json), auto, or a code (en, fi)")
    ap.add_argument("--interleave", metavar="CALLSCOPE_BIN", help="alternate with callscope, call by call")
    ap.add_argument("--ggml", help="callscope's model with --interleave")
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    if a.interleave and not a.ggml:
        ap.error("--interleave needs --ggml MODEL.bin")
    os.makedirs(a.out_dir, exist_ok=True)
    model = WhisperModel(a.model_dir, device="cpu", compute_type=a.compute_type, cpu_threads=a.threads)
    calls = sorted(os.listdir(os.path.join(a.eval_dir, "calls")))
    if a.interleave:
        interleave(a, model, calls)
        return
    total_audio = total_wall = 0.0
    for call in calls:
        out, duration, wall, detected = transcribe(a, model, call)
        total_audio += duration
        total_wall += wall
        json.dump(out, open(os.path.join(a.out_dir, f"{call}.json"), "w"))
        said = f", detected {' / '.join(detected)}" if detected else ""
        print(f"{call}: {duration:.1f} s audio in {wall:.2f} s = {duration / wall:.1f}x real time{said}")
    print(f"all: {total_audio:.1f} s audio in {total_wall:.2f} s = {total_audio / total_wall:.1f}x real time "
          f"(faster-whisper, {a.compute_type}, beam {a.beam_size}, {a.threads} threads)")


def transcribe(a, model, call):
    """One call, both channels: (callscope transcript, audio seconds, wall seconds, languages detected)."""
    d = os.path.join(a.eval_dir, "calls", call)
    truth = json.load(open(os.path.join(d, "truth.json")))
    seller = 1 if truth.get("seller_channel") == "right" else 0
    if a.language == "truth":
        language = truth.get("language", "en")
    else:
        language = None if a.language == "auto" else a.language
    detected = []
    t0 = time.perf_counter()
    channels = decode_audio(os.path.join(d, "stereo16k.flac"), sampling_rate=16000, split_stereo=True)
    words = []
    for ch, samples in enumerate(channels):
        label = "seller" if ch == seller else "customer"
        segments, info = model.transcribe(samples, language=language, beam_size=a.beam_size, word_timestamps=True,
                                          vad_filter=True, condition_on_previous_text=False)
        detected.append(f"{info.language} {info.language_probability:.2f}")
        for s in segments:
            for w in s.words or []:
                words.append({"text": w.word.strip(), "start": round(w.start, 3), "end": round(max(w.end, w.start), 3),
                              "speaker": label})
    wall = time.perf_counter() - t0
    duration = len(channels[0]) / 16000
    words.sort(key=lambda w: (w["start"], w["end"]))
    out = {"call_id": call, "duration_s": duration, "language": language or info.language,
           "speakers": {"seller": "seller", "customer": "customer"}, "words": words}
    return out, duration, wall, detected if language is None else []


def callscope(a, call):
    """callscope on one call: (audio seconds, wall seconds), from `eval --json`."""
    r = subprocess.run([a.interleave, "eval", a.eval_dir, "--only", call, "--model", a.ggml, "--json"],
                       capture_output=True, text=True, check=True)
    row = next(json.loads(line) for line in r.stdout.splitlines() if line.startswith("{"))
    return row["duration_s"], row["duration_s"] / row["realtime_factor"]


def interleave(a, model, calls):
    ours = theirs = audio = 0.0
    pairs = []
    for k in range(a.rounds):
        for call in calls:
            if k % 2 == 0:
                duration, t_ours = callscope(a, call)
                t_theirs = transcribe(a, model, call)[2]
            else:
                t_theirs = transcribe(a, model, call)[2]
                duration, t_ours = callscope(a, call)
            ours, theirs, audio = ours + t_ours, theirs + t_theirs, audio + duration
            pairs.append(t_theirs / t_ours)
            print(f"round {k + 1} {call}: {duration:.1f} s audio, callscope {t_ours:.2f} s ({duration / t_ours:.1f}x), "
                  f"faster-whisper {t_theirs:.2f} s ({duration / t_theirs:.1f}x), ratio {t_theirs / t_ours:.2f}",
                  flush=True)
    pairs.sort()
    print(f"all: {audio:.0f} s audio ({a.rounds} rounds): callscope {audio / ours:.1f}x, faster-whisper "
          f"{audio / theirs:.1f}x real time; ratio of the totals {theirs / ours:.2f}, median pair "
          f"{pairs[len(pairs) // 2]:.2f}, pairs {pairs[0]:.2f}-{pairs[-1]:.2f} "
          f"(faster-whisper {a.compute_type}, beam {a.beam_size}, {a.threads} threads)")


if __name__ == "__main__":
    main()
