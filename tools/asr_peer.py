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
"""
import argparse
import json
import os
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
    a = ap.parse_args()
    os.makedirs(a.out_dir, exist_ok=True)
    model = WhisperModel(a.model_dir, device="cpu", compute_type=a.compute_type, cpu_threads=a.threads)
    calls = sorted(os.listdir(os.path.join(a.eval_dir, "calls")))
    total_audio = total_wall = 0.0
    for call in calls:
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
        total_audio += duration
        total_wall += wall
        words.sort(key=lambda w: (w["start"], w["end"]))
        out = {"call_id": call, "duration_s": duration, "language": language or info.language,
               "speakers": {"seller": "seller", "customer": "customer"}, "words": words}
        json.dump(out, open(os.path.join(a.out_dir, f"{call}.json"), "w"))
        said = f", detected {' / '.join(detected)}" if language is None else ""
        print(f"{call}: {duration:.1f} s audio in {wall:.2f} s = {duration / wall:.1f}x real time{said}")
    print(f"all: {total_audio:.1f} s audio in {total_wall:.2f} s = {total_audio / total_wall:.1f}x real time "
          f"(faster-whisper, {a.compute_type}, beam {a.beam_size}, {a.threads} threads)")


if __name__ == "__main__":
    main()
