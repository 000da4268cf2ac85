#!/usr/bin/env python3
"""Builds degraded copies of an evaluation set: noise, telephone codecs, leak, level, reverb.

The eval-dev calls were synthesised with digital silence between words; real
calls have noise, narrow-band codecs, echo of the other party (leak) and
channels at different levels. This tool makes, from any set in the eval-dev
layout, one evaluation set per condition, which `callscope eval OUT_DIR`
(and `--mono`) scores set by set:

    OUT_DIR/<condition>/calls/<id>/stereo16k.flac   16 kHz stereo, 16-bit FLAC
    OUT_DIR/<condition>/calls/<id>/mono16k.flac     16 kHz mono mix, 16-bit FLAC
    OUT_DIR/<condition>/calls/<id>/transcript.json  copied unchanged
    OUT_DIR/<condition>/calls/<id>/truth.json       copied unchanged
    OUT_DIR/conditions.json   every condition built: family, parameters, per-call notes
    OUT_DIR/README.md         how it was made (commands, seed, versions)

Nothing moves in time: every file has exactly the source's length, and the
codec delays are measured by cross-correlation and compensated, so the truth's
times hold for every condition.

Usage:
    degrade.py SRC_SET OUT_DIR [--conditions NAME,...] [--only ID,...]
               [--seed N] [--hum-hz 50] [--verify] [--list]

    --conditions   condition names, family names (clean, noise, white, pink,
                   brown, babble, hum, phone, leak, level, reverb, realistic,
                   all) or shell patterns (`*-snr10`); default: all
    --only         only these calls (the babble of a call still comes from all
                   the other calls of SRC_SET)
    --seed         base seed (default 0); every noise, babble pick, phase and
                   room is drawn from a seed made of it, the condition, the
                   call and the channel, so a call's files do not depend on
                   which other calls or conditions are built in the same run
    --verify       after building, decode every file and check it: length and
                   rate, SNR of the noise conditions (target +-0.5 dB), time
                   alignment of the others (cross-correlation lag 0 +-1
                   sample); exits 1 if a check fails
    --list         print the conditions and families, and exit

Per channel, in this order: level change, reverberation, leak (the other
channel's signal, delayed and attenuated), additive noise, telephone band +
codec. The mono mix is the sum of the two channels after level, reverb and leak
(the source's mono16k.flac is the plain sum of its channels, unscaled), then
its own noise at the condition's SNR relative to the mix, then the codec.

SNR: the speech level is the active speech level, the mean power of the 20 ms
frames (320 samples, not overlapping) whose RMS is above -50 dBFS (full scale
= 1.0, so a full-scale sine is -3 dBFS), measured on the channel's own speech
before the leak is added (on the mix, leak included, for mono); the noise
level is the mean power of the noise over the whole call. SNR = 10 log10 of
their ratio.

Needs numpy and PyAV (FFmpeg with pcm_mulaw, pcm_alaw, libopencore_amrnb,
libopus and flac, as the PyPI wheels of av have): tools/eval/requirements.txt.
"""
import argparse
import fnmatch
import hashlib
import io
import json
import os
import shutil
import sys
import time

import av
import numpy as np

RATE = 16_000
FRAME = 320  # 20 ms at 16 kHz: the frame of the active speech level
ACTIVE_DBFS = -50.0
SNRS = (30, 20, 10, 5)
NOISE_KINDS = ("white", "pink", "brown", "babble", "hum")
BABBLE_VOICES = 4  # tracks (one speaker's channel of another call each) summed into a babble
BABBLE_MAX_GAP_S = 0.2  # silences longer than this in a babble track are shortened to it
HUM_HARMONICS = ((1, 1.0), (2, 0.5), (3, 0.3), (5, 0.15))  # (multiple of the mains frequency, amplitude)
LOW_CUT_HZ = 20.0  # pink and brown noise have no power below this
REVERB_DRR_DB = 6.0  # direct-to-reverberant energy ratio of the synthetic room
MAX_LAG = 2000  # samples at 16 kHz searched for a codec's delay (125 ms)
CODEC_HEADROOM = 0.9  # peak allowed into the band filter and codec
OUT_PEAK = 0.999  # peak allowed in a written file

CODECS = {
    "ulaw": dict(encoder="pcm_mulaw", container="wav", bit_rate=None, options={},
                 words="G.711 mu-law, 64 kbit/s"),
    "alaw": dict(encoder="pcm_alaw", container="wav", bit_rate=None, options={},
                 words="G.711 A-law, 64 kbit/s"),
    "amr": dict(encoder="libopencore_amrnb", container="amr", bit_rate=12200, options={},
                words="AMR-NB 12.2 kbit/s (mode MR122, the GSM-EFR rate; 3GPP mobile codec), no DTX"),
    "amr-low": dict(encoder="libopencore_amrnb", container="amr", bit_rate=4750, options={},
                    words="AMR-NB 4.75 kbit/s (mode MR475, the lowest AMR-NB rate), no DTX"),
    "opus8k": dict(encoder="libopus", container="ogg", bit_rate=8000, options={"application": "voip"},
                   words="Opus 8 kbit/s target (libopus, VBR, application voip, 20 ms frames, 8 kHz input)"),
    "opus12k": dict(encoder="libopus", container="ogg", bit_rate=12000, options={"application": "voip"},
                    words="Opus 12 kbit/s target (libopus, VBR, application voip, 20 ms frames, 8 kHz input)"),
}
BAND_WORDS = ("band-limited to 300-3400 Hz (zero-phase FFT mask, raised-cosine edges 200-300 Hz and "
              "3400-3800 Hz), resampled to 8 kHz (libswresample), encoded and decoded, resampled back to 16 kHz, "
              "delay measured by cross-correlation against the codec's input and compensated")


def _conditions():
    """Every condition, in build order: name -> spec."""
    c = {"clean": dict(family="clean", words="the source's files, copied byte for byte (a same-run baseline)")}
    kind_words = {
        "white": "white Gaussian noise",
        "pink": f"pink noise (power 1/f, none below {LOW_CUT_HZ:.0f} Hz)",
        "brown": f"brown noise (power 1/f^2, none below {LOW_CUT_HZ:.0f} Hz)",
        "babble": (f"babble ({BABBLE_VOICES} speakers of other calls of the set, one channel each, from "
                   f"{BABBLE_VOICES} different calls where possible, voices other than this call's where "
                   f"enough, silences over {BABBLE_MAX_GAP_S * 1000:.0f} ms shortened, each at the same "
                   "active level, random offsets, looped to the call's length; never this call's lines)"),
        "hum": "mains hum (fundamental with decaying harmonics at 2, 3 and 5 times it, random phases)",
    }
    for kind in NOISE_KINDS:
        for snr in SNRS:
            c[f"{kind}-snr{snr}"] = dict(
                family="noise", kind=kind, noise=dict(kind=kind, snr=snr),
                words=f"{kind_words[kind]} at SNR {snr} dB, independent noise in each channel and in the mono mix")
    for codec in CODECS:
        c[f"phone-{codec}"] = dict(family="phone", codec=codec,
                                   words=f"telephone channel (300-3400 Hz, 8 kHz) with {CODECS[codec]['words']}")
    # The range (-30 to -18 dB), then strong leak beyond it: one recorder measured a leak only
    # 3.2 dB under the original at about 3 ms (../shared/design/REAL_CALLS.md); not target conditions.
    for db, ms in ((30, 20), (24, 80), (18, 200), (12, 20), (6, 3), (3, 3)):
        c[f"leak-{db}db-{ms}ms"] = dict(
            family="leak", leak=dict(db=-db, ms=ms),
            words=f"echo of the other party: each channel gets the other channel's clean signal delayed "
                  f"{ms} ms and attenuated {db} dB added")
    for role in ("seller", "customer"):
        c[f"level-{role}-15db"] = dict(family="level", level={role: -15.0},
                                       words=f"the {role}'s channel 15 dB quieter (the other unchanged)")
    c["reverb"] = dict(family="reverb", reverb=dict(rt60=0.3, drr_db=REVERB_DRR_DB),
                       words=f"light room reverberation: synthetic impulse response, direct path then an "
                             f"exponentially decaying Gaussian tail from 2.5 ms on, RT60 0.3 s, "
                             f"direct-to-reverberant ratio +{REVERB_DRR_DB:.0f} dB, a different response per "
                             "channel; the output is scaled back to the input's active speech level")
    c["realistic"] = dict(family="realistic", leak=dict(db=-24, ms=60), noise=dict(kind="pink", snr=20),
                          codec="ulaw",
                          words="leak -24 dB at 60 ms, then pink noise at SNR 20 dB, then the telephone channel "
                                "with G.711 mu-law (the project's target: SNR >= 10 dB with codecs and leak)")
    c["realistic-hard"] = dict(family="realistic", leak=dict(db=-18, ms=120), noise=dict(kind="babble", snr=10),
                               codec="amr",
                               words="leak -18 dB at 120 ms, then babble at SNR 10 dB, then the telephone "
                                     "channel with AMR-NB 12.2 kbit/s")
    return c


CONDITIONS = _conditions()
FAMILIES = {
    "all": list(CONDITIONS),
    "clean": ["clean"],
    "noise": [n for n, s in CONDITIONS.items() if s["family"] == "noise"],
    **{k: [n for n, s in CONDITIONS.items() if s.get("kind") == k] for k in NOISE_KINDS},
    "phone": [n for n, s in CONDITIONS.items() if s["family"] == "phone"],
    "leak": [n for n, s in CONDITIONS.items() if s["family"] == "leak"],
    "level": [n for n, s in CONDITIONS.items() if s["family"] == "level"],
    "realistic": [n for n, s in CONDITIONS.items() if s["family"] == "realistic"],
}


def die(msg):
    sys.exit(f"degrade.py: error: {msg}")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- audio files
def read_audio(path):
    """(rate, samples as float64 of shape (channels, n) in [-1, 1))."""
    try:
        with av.open(path) as f:
            if not f.streams.audio:
                die(f"{path}: no audio stream")
            stream = f.streams.audio[0]
            channels = stream.codec_context.channels
            chunks = []
            for frame in f.decode(stream):
                data = frame.to_ndarray()
                chunks.append(data.reshape(-1, channels).T if frame.format.is_packed else data)
            rate = stream.rate
    except av.error.FFmpegError as e:
        die(f"{path}: cannot decode: {e}")
    if not chunks:
        die(f"{path}: no audio")
    data = np.concatenate(chunks, axis=1)
    if data.dtype.kind in "iu":
        data = data.astype(np.float64) / float(np.iinfo(data.dtype).max + 1)
    return rate, data.astype(np.float64)


def write_flac(path, x):
    """x: (channels, n) float in [-1, 1) -> 16-bit FLAC (scale 32768, rounded)."""
    x = np.atleast_2d(x)
    pcm = np.clip(np.round(x * 32768.0), -32768, 32767).astype(np.int16)
    layout = "mono" if pcm.shape[0] == 1 else "stereo"
    with av.open(path, "w", format="flac") as f:
        stream = f.add_stream("flac", rate=RATE, layout=layout)
        frame = av.AudioFrame.from_ndarray(pcm.T.reshape(1, -1), format="s16", layout=layout)
        frame.rate = RATE
        for packet in stream.encode(frame):
            f.mux(packet)
        for packet in stream.encode(None):
            f.mux(packet)


# ----------------------------------------------------------------------------- levels and noises
def frame_powers(x):
    n = len(x) // FRAME * FRAME
    return np.mean(x[:n].reshape(-1, FRAME) ** 2, axis=1)


def active_level(x):
    """Mean power of the 20 ms frames whose RMS is above -50 dBFS (0.0 if none)."""
    p = frame_powers(x)
    active = p > 10 ** (ACTIVE_DBFS / 10)
    return float(p[active].mean()) if active.any() else 0.0


def db(p):
    return 10 * np.log10(p) if p > 0 else float("-inf")


def rng_for(seed, *keys):
    """A generator seeded by the base seed and the keys (condition, call, channel, purpose)."""
    digest = hashlib.sha256("/".join(map(str, keys)).encode()).digest()
    return np.random.default_rng(np.random.SeedSequence([seed, int.from_bytes(digest[:8], "little")]))


def fft_len(n):
    return 1 << int(np.ceil(np.log2(max(n, 2))))


def unit_power(x):
    p = np.mean(x ** 2)
    return x / np.sqrt(p) if p > 0 else x


def colored_noise(rng, n, exponent):
    """Gaussian noise with power spectral density 1/f^exponent above LOW_CUT_HZ, unit power."""
    if exponent == 0:
        return unit_power(rng.standard_normal(n))
    m = fft_len(n)
    spec = np.fft.rfft(rng.standard_normal(m))
    f = np.fft.rfftfreq(m, 1 / RATE)
    shape = np.zeros_like(f)
    above = f >= LOW_CUT_HZ
    shape[above] = (f[above] / LOW_CUT_HZ) ** (-exponent / 2)
    return unit_power(np.fft.irfft(spec * shape, m)[:n])


def hum(rng, n, hz):
    t = np.arange(n) / RATE
    x = sum(a * np.sin(2 * np.pi * k * hz * t + rng.uniform(0, 2 * np.pi)) for k, a in HUM_HARMONICS)
    return unit_power(x)


def compress_gaps(x):
    """Shortens every run of inactive 20 ms frames to at most BABBLE_MAX_GAP_S."""
    p = frame_powers(x)
    active = p > 10 ** (ACTIVE_DBFS / 10)
    keep = np.zeros(len(p), bool)
    max_run = int(round(BABBLE_MAX_GAP_S * RATE / FRAME))
    run = 0
    for i, a in enumerate(active):
        run = 0 if a else run + 1
        keep[i] = a or run <= max_run
    frames = x[: len(p) * FRAME].reshape(-1, FRAME)[keep]
    return frames.reshape(-1)


class BabblePool:
    """One speaker's channel per track, from every call of the source set, loaded once."""

    def __init__(self, src_calls):
        self.src_calls = src_calls
        self.tracks = None

    def load(self):
        if self.tracks is None:
            self.tracks = []
            for call_id, d in self.src_calls:
                _, x = read_audio(os.path.join(d, "stereo16k.flac"))
                voices = channel_voices(d)
                for ch, name in enumerate(("left", "right")):
                    t = compress_gaps(x[ch])
                    level = active_level(t)
                    if level > 0:
                        self.tracks.append(dict(call=call_id, channel=name, voice=voices.get(ch),
                                                audio=(t / np.sqrt(level)).astype(np.float32)))
        return self.tracks

    def babble(self, rng, n, call_id, own_voices):
        tracks = [t for t in self.load() if t["call"] != call_id]
        other_voices = [t for t in tracks if t["voice"] is None or t["voice"] not in own_voices]
        if len({t["call"] for t in other_voices}) >= 3:
            tracks = other_voices
        order = [tracks[i] for i in rng.permutation(len(tracks))]
        picked, calls = [], set()
        for t in order:  # one track per other call first, then any
            if len(picked) < BABBLE_VOICES and t["call"] not in calls:
                picked.append(t)
                calls.add(t["call"])
        for t in order:
            if len(picked) < BABBLE_VOICES and t not in picked:
                picked.append(t)
        if len(picked) < 3:
            die(f"babble for {call_id}: the source set has {len(picked)} speaker channels in other calls, needs 3")
        x = np.zeros(n)
        used = []
        for t in picked:
            a = t["audio"].astype(np.float64)
            off = int(rng.integers(len(a)))
            x += np.resize(np.roll(a, -off), n)
            used.append(f"{t['call']}/{t['channel']}@{off / RATE:.2f}s")
        return unit_power(x), used


def channel_voices(call_dir):
    """Channel index -> voice name, from truth.json speakers (if it says)."""
    try:
        truth = json.load(open(os.path.join(call_dir, "truth.json")))
    except (OSError, ValueError):
        return {}
    out = {}
    for s in (truth.get("speakers") or {}).values():
        if isinstance(s, dict) and isinstance(s.get("channel"), int) and s.get("voice"):
            out[s["channel"]] = s["voice"]
    return out


# ----------------------------------------------------------------------------- channel effects
def delayed(x, samples):
    return np.concatenate([np.zeros(samples), x[: len(x) - samples]])


def room_ir(rng, rt60, drr_db):
    m = int(1.2 * rt60 * RATE)
    t = np.arange(m) / RATE
    tail = rng.standard_normal(m) * 10 ** (-3 * t / rt60)  # amplitude -60 dB at rt60
    tail[: int(0.0025 * RATE)] = 0.0
    tail *= np.sqrt(1.0 / (10 ** (drr_db / 10) * np.sum(tail ** 2)))
    tail[0] = 1.0  # the direct path, undelayed: the truth's times hold
    return tail


def reverberate(x, rng, rt60, drr_db):
    h = room_ir(rng, rt60, drr_db)
    m = fft_len(len(x) + len(h))
    y = np.fft.irfft(np.fft.rfft(x, m) * np.fft.rfft(h, m), m)[: len(x)]
    before, after = active_level(x), active_level(y)
    return y * np.sqrt(before / after) if after > 0 else y


def band_limit(x):
    """Zero-phase 300-3400 Hz telephone band: FFT mask with raised-cosine edges."""
    m = fft_len(len(x) + 4096)
    f = np.fft.rfftfreq(m, 1 / RATE)
    mask = np.zeros_like(f)
    mask[(f >= 300) & (f <= 3400)] = 1.0
    lo = (f > 200) & (f < 300)
    mask[lo] = 0.5 - 0.5 * np.cos(np.pi * (f[lo] - 200) / 100)
    hi = (f > 3400) & (f < 3800)
    mask[hi] = 0.5 + 0.5 * np.cos(np.pi * (f[hi] - 3400) / 400)
    return np.fft.irfft(np.fft.rfft(x, m) * mask, m)[: len(x)]


def resample(x, rate_in, rate_out):
    """libswresample (PyAV), float mono; exact length len(x) * rate_out / rate_in."""
    r = av.AudioResampler(format="flt", layout="mono", rate=rate_out)
    frame = av.AudioFrame.from_ndarray(x.astype(np.float32).reshape(1, -1), format="flt", layout="mono")
    frame.rate = rate_in
    frame.pts = 0
    out = [f.to_ndarray().reshape(-1) for f in r.resample(frame) + r.resample(None)]
    y = np.concatenate(out).astype(np.float64) if out else np.zeros(0)
    return fit(y, int(round(len(x) * rate_out / rate_in)))


def fit(y, n):
    return y[:n] if len(y) >= n else np.concatenate([y, np.zeros(n - len(y))])


def codec_roundtrip(x8, codec):
    """8 kHz float -> encoded in an in-memory container -> decoded; (samples, decoder rate, clipped)."""
    spec = CODECS[codec]
    pcm = np.round(x8 * 32768.0)
    clipped = int(np.count_nonzero((pcm > 32767) | (pcm < -32768)))
    pcm = np.clip(pcm, -32768, 32767).astype(np.int16)
    buf = io.BytesIO()
    with av.open(buf, "w", format=spec["container"]) as c:
        s = c.add_stream(spec["encoder"], rate=8000, layout="mono")
        if spec["bit_rate"]:
            s.codec_context.bit_rate = spec["bit_rate"]
        if spec["options"]:
            s.codec_context.options = dict(spec["options"])
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.rate = 8000
        frame.pts = 0
        for p in s.encode(frame):
            c.mux(p)
        for p in s.encode(None):
            c.mux(p)
    buf.seek(0)
    with av.open(buf) as c:  # the demuxer applies Opus's pre-skip
        s = c.streams.audio[0]
        out = []
        for f in c.decode(s):
            d = f.to_ndarray().reshape(-1)
            out.append(d.astype(np.float64) / 32768.0 if d.dtype == np.int16 else d.astype(np.float64))
        return np.concatenate(out), s.rate, clipped


def xcorr_lag(y, x, max_lag=MAX_LAG):
    """The lag (samples) by which y is late against x: argmax of their cross-correlation."""
    if not np.any(x) or not np.any(y):
        return 0
    m = fft_len(len(x) + len(y))
    c = np.fft.irfft(np.fft.rfft(y, m) * np.conj(np.fft.rfft(x, m)), m)
    c = np.concatenate([c[-max_lag:], c[: max_lag + 1]])
    return int(np.argmax(c)) - max_lag


def shift(y, lag):
    """Moves y lag samples earlier (later if negative), same length."""
    if lag > 0:
        return np.concatenate([y[lag:], np.zeros(lag)])
    if lag < 0:
        return np.concatenate([np.zeros(-lag), y[: len(y) + lag]])
    return y


def telephone(x, codec):
    """Band, 8 kHz, codec, 16 kHz, delay compensated: (y, lag, clipped samples at the encoder)."""
    b = band_limit(x)
    d, rate, clipped = codec_roundtrip(resample(b, RATE, 8000), codec)
    y = resample(d, rate, RATE) if rate != RATE else fit(d, len(x))
    y = fit(y, len(x))
    lag = xcorr_lag(y, b)
    return shift(y, lag), lag, clipped


# ----------------------------------------------------------------------------- one condition, one call
def render(name, call, seed, hum_hz, pool, noise=True, codec=True):
    """The condition's signals for a call: dict left/right/mono (float) plus notes for conditions.json.

    noise=False or codec=False leave those steps out (what --verify measures against)."""
    spec = CONDITIONS[name]
    src = call["stereo"]
    n = src.shape[1]
    seller_ch = 1 if call["seller_right"] else 0
    chans = [src[0].copy(), src[1].copy()]
    notes = {}
    for role, gain_db in spec.get("level", {}).items():
        ch = seller_ch if role == "seller" else 1 - seller_ch
        chans[ch] = chans[ch] * 10 ** (gain_db / 20)
    if "reverb" in spec:
        r = spec["reverb"]
        chans = [reverberate(chans[i], rng_for(seed, name, call["id"], ch, "room"), r["rt60"], r["drr_db"])
                 for i, ch in enumerate(("left", "right"))]
    own = [c.copy() for c in chans]  # each channel's own speech: the SNR reference
    if "leak" in spec:
        a = 10 ** (spec["leak"]["db"] / 20)
        d = int(round(spec["leak"]["ms"] * RATE / 1000))
        chans = [own[0] + a * delayed(own[1], d), own[1] + a * delayed(own[0], d)]
    mix = chans[0] + chans[1]
    sig = {"left": chans[0], "right": chans[1], "mono": mix}
    refs = {"left": own[0], "right": own[1], "mono": mix}
    if noise and "noise" in spec:
        kind, snr = spec["noise"]["kind"], spec["noise"]["snr"]
        babble_used = {}
        for ch in ("left", "right", "mono"):
            rng = rng_for(seed, name, call["id"], ch, "noise")
            if kind == "white":
                z = colored_noise(rng, n, 0)
            elif kind == "pink":
                z = colored_noise(rng, n, 1)
            elif kind == "brown":
                z = colored_noise(rng, n, 2)
            elif kind == "hum":
                z = hum(rng, n, hum_hz)
            else:
                z, babble_used[ch] = pool.babble(rng, n, call["id"], call["voices"])
            level = active_level(refs[ch])
            if level == 0:
                log(f"  warning: {call['id']} {ch}: no speech above {ACTIVE_DBFS:.0f} dBFS, no noise added")
                continue
            sig[ch] = sig[ch] + z * np.sqrt(level / 10 ** (snr / 10))
        if babble_used:
            notes["babble_sources"] = babble_used
    if codec and "codec" in spec:
        peak = max(np.max(np.abs(v)) for v in sig.values())
        if peak > CODEC_HEADROOM:
            g = CODEC_HEADROOM / peak
            sig = {k: v * g for k, v in sig.items()}
            notes["gain_before_codec_db"] = round(float(db(g * g)), 4)
        lags, clipped = {}, 0
        for ch in ("left", "right", "mono"):
            sig[ch], lags[ch], c = telephone(sig[ch], spec["codec"])
            clipped += c
        notes["codec_delay_samples"] = lags
        if clipped:
            notes["codec_input_clipped_samples"] = clipped
    return sig, notes


def scale_for_files(sig, notes):
    """Scales the stereo file (both channels alike) and the mono file down where they would clip."""
    for key, chans in (("stereo", ("left", "right")), ("mono", ("mono",))):
        peak = max(np.max(np.abs(sig[c])) for c in chans)
        if peak > OUT_PEAK:
            g = OUT_PEAK / peak
            for c in chans:
                sig[c] = sig[c] * g
            notes[f"{key}_scaled_db"] = round(float(db(g * g)), 4)
    return sig, notes


# ----------------------------------------------------------------------------- the source set
def load_source(src):
    calls_dir = os.path.join(src, "calls")
    if not os.path.isdir(calls_dir):
        die(f"{src}: not an evaluation set (no calls/ folder)")
    ids = sorted(e for e in os.listdir(calls_dir) if os.path.isdir(os.path.join(calls_dir, e)))
    if not ids:
        die(f"{calls_dir}: no calls")
    calls = []
    for call_id in ids:
        d = os.path.join(calls_dir, call_id)
        for f in ("stereo16k.flac", "truth.json"):
            if not os.path.isfile(os.path.join(d, f)):
                die(f"{d}: no {f} (each call needs stereo16k.flac and truth.json)")
        probe(os.path.join(d, "stereo16k.flac"), 2)
        if os.path.isfile(os.path.join(d, "mono16k.flac")):
            probe(os.path.join(d, "mono16k.flac"), 1)
        calls.append((call_id, d))
    return calls


def probe(path, channels):
    """Checks a file's header (16 kHz, the channel count) before anything is built."""
    try:
        with av.open(path) as f:
            if not f.streams.audio:
                die(f"{path}: no audio stream")
            s = f.streams.audio[0]
            rate, got = s.rate, s.codec_context.channels
    except av.error.FFmpegError as e:
        die(f"{path}: cannot read: {e}")
    if not rate or not got:
        die(f"{path}: not an audio file (no sample rate or channels)")
    if rate != RATE or got != channels:
        kind = "stereo" if channels == 2 else "mono"
        die(f"{path}: expected 16 kHz {kind}, got {rate} Hz, {got} channel(s)")


def load_call(call_id, d):
    path = os.path.join(d, "stereo16k.flac")
    rate, x = read_audio(path)
    if rate != RATE or x.shape[0] != 2:
        die(f"{path}: expected 16 kHz stereo, got {rate} Hz, {x.shape[0]} channel(s)")
    mono = os.path.join(d, "mono16k.flac")
    if os.path.isfile(mono):
        mrate, m = read_audio(mono)
        if mrate != RATE or m.shape[0] != 1 or m.shape[1] != x.shape[1]:
            die(f"{mono}: expected 16 kHz mono of {x.shape[1]} samples like stereo16k.flac, "
                f"got {mrate} Hz, {m.shape[0]} channel(s), {m.shape[1]} samples")
    try:
        truth = json.load(open(os.path.join(d, "truth.json")))
    except ValueError as e:
        die(f"{d}/truth.json: {e}")
    sc = truth.get("seller_channel") or "left"
    if sc not in ("left", "right"):
        die(f"{d}/truth.json: seller_channel {sc!r}, expected left or right")
    return dict(id=call_id, dir=d, stereo=x, seller_right=sc == "right",
                has_mono=os.path.isfile(mono), voices=set(channel_voices(d).values()))


# ----------------------------------------------------------------------------- command line
def select_conditions(text):
    if not text:
        return list(CONDITIONS)
    wanted = set()
    for item in (t.strip() for t in text.split(",")):
        if not item:
            continue
        if item in CONDITIONS:
            wanted.add(item)
        elif item in FAMILIES:
            wanted.update(FAMILIES[item])
        elif any(ch in item for ch in "*?[") and fnmatch.filter(CONDITIONS, item):
            wanted.update(fnmatch.filter(CONDITIONS, item))
        else:
            die(f"unknown condition {item!r}.\n  conditions: {', '.join(CONDITIONS)}\n"
                f"  families: {', '.join(FAMILIES)}\n  (or a shell pattern such as '*-snr10')")
    return [c for c in CONDITIONS if c in wanted]


def describe(name, hum_hz):
    spec = CONDITIONS[name]
    words = spec["words"]
    if spec.get("kind") == "hum":
        words = words.replace("mains hum (", f"mains hum at {hum_hz:g} Hz (")
    params = {k: v for k, v in spec.items() if k not in ("words", "family", "kind")}
    if spec.get("kind") == "hum":
        params["noise"] = dict(params["noise"], mains_hz=hum_hz,
                               harmonics_hz=[k * hum_hz for k, _ in HUM_HARMONICS],
                               amplitudes=[a for _, a in HUM_HARMONICS])
    if "codec" in spec:
        c = CODECS[spec["codec"]]
        params["codec"] = dict(name=spec["codec"], encoder=c["encoder"], bit_rate=c["bit_rate"],
                               options=c["options"], container=c["container"], band_hz=[300, 3400],
                               codec_rate=8000, chain=BAND_WORDS)
    return dict(name=name, family=spec["family"], description=words, parameters=params)


def versions():
    ff = getattr(av, "ffmpeg_version_info", None) or ".".join(map(str, av.library_versions.get("libavcodec", ())))
    return {"python": sys.version.split()[0], "numpy": np.__version__, "av": av.__version__,
            "ffmpeg": ff}


SNR_DEFINITION = (
    "SNR = 10 log10(S / N). S, the active speech level: the mean power of the 20 ms frames (320 samples at "
    "16 kHz, not overlapping) whose RMS is above -50 dBFS (full scale = 1.0), measured per channel on the "
    "channel's own speech before the leak is added (after a level change or reverb), and for the mono file "
    "on the mix before noise (leak included). N: the mean power of the added noise over the whole call. "
    "Each stereo channel and the mono mix get their own independent noise.")


def write_record(out, record):
    with open(os.path.join(out, "conditions.json"), "w") as f:
        json.dump(record, f, indent=1, sort_keys=False)
        f.write("\n")
    lines = [
        "# Degraded evaluation sets",
        "",
        f"Made by `tools/eval/degrade.py` from `{record['source']}` (seed {record['seed']}, "
        f"mains hum {record['hum_hz']:g} Hz), with:",
        "",
        "```sh",
        *record["commands"],
        "```",
        "",
        "Each folder `<condition>/` is an evaluation set (`calls/<id>/stereo16k.flac`, `mono16k.flac`, and the "
        "source's `transcript.json` and `truth.json` unchanged): `callscope eval THIS_FOLDER` scores them all, "
        "`--conditions a,b` some. Every file has the source's exact length; codec delays are compensated, so "
        "the truth's times hold. The same command gives byte-identical files on the same machine and library "
        "versions.",
        "",
        f"Versions: {', '.join(f'{k} {v}' for k, v in record['versions'].items())}.",
        "",
        "## Conditions",
        "",
        "| condition | family | calls | what |",
        "|---|---|---|---|",
    ]
    for c in record["conditions"]:
        lines.append(f"| `{c['name']}` | {c['family']} | {len(c['calls'])} | {c['description']} |")
    lines += [
        "",
        "Stereo: per channel, level change, reverb, leak, noise, codec (in that order, as the condition has them). "
        "Mono: the sum of the two channels after level, reverb and leak (unscaled, as the source's mono), then "
        "its own noise, then the codec. A file that would clip is scaled down as a whole (both channels alike); "
        "`conditions.json` notes it per call (`stereo_scaled_db`, `mono_scaled_db`, `gain_before_codec_db`).",
        "",
        "## SNR",
        "",
        SNR_DEFINITION,
        "",
    ]
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write("\n".join(lines))


def load_record(out, src, seed, hum_hz):
    """The record of earlier runs into OUT_DIR (merged with this one), or a new one."""
    path = os.path.join(out, "conditions.json")
    fresh = {"tool": "tools/eval/degrade.py", "source": src, "seed": seed, "hum_hz": hum_hz,
             "versions": versions(), "snr_definition": SNR_DEFINITION, "commands": [], "conditions": []}
    if not os.path.isfile(path):
        return fresh
    try:
        old = json.load(open(path))
    except ValueError:
        die(f"{path}: not JSON; use an empty OUT_DIR")
    for key in ("source", "seed", "hum_hz"):
        if old.get(key) != fresh[key]:
            die(f"{out} was built with {key} {old.get(key)!r}, this run has {fresh[key]!r}: use another OUT_DIR "
                "(or delete it)")
    fresh["commands"] = old.get("commands", [])
    fresh["conditions"] = old.get("conditions", [])
    return fresh


def merge(record, name, hum_hz, call_notes):
    entries = {c["name"]: c for c in record["conditions"]}
    entry = describe(name, hum_hz)
    calls = dict(entries.get(name, {}).get("calls", {}))
    calls.update(call_notes)
    entry["calls"] = {k: calls[k] for k in sorted(calls)}
    entries[name] = entry
    record["conditions"] = [entries[c] for c in CONDITIONS if c in entries]


# ----------------------------------------------------------------------------- verification
def verify(out, names, calls, seed, hum_hz, pool):
    """Decodes every built file and checks length, rate, SNR and alignment; returns the failures."""
    failures = []
    record = json.load(open(os.path.join(out, "conditions.json")))
    notes_of = {c["name"]: c["calls"] for c in record["conditions"]}
    log("verify: condition / call: SNR (dB, target) or alignment lag (samples), left right mono")
    for name in names:
        spec = CONDITIONS[name]
        for call in calls:
            d = os.path.join(out, name, "calls", call["id"])
            n = call["stereo"].shape[1]
            got = {}
            for fname, chans in (("stereo16k.flac", 2), ("mono16k.flac", 1)):
                rate, x = read_audio(os.path.join(d, fname))
                if rate != RATE or x.shape != (chans, n):
                    failures.append(f"{name}/{call['id']}/{fname}: {rate} Hz, shape {x.shape}, "
                                    f"expected {RATE} Hz, ({chans}, {n})")
                    continue
                got.update({"left": x[0], "right": x[1]} if chans == 2 else {"mono": x[0]})
            for fname in ("transcript.json", "truth.json"):
                a, b = os.path.join(d, fname), os.path.join(call["dir"], fname)
                if os.path.isfile(b) and open(a, "rb").read() != open(b, "rb").read():
                    failures.append(f"{name}/{call['id']}/{fname}: differs from the source")
            if len(got) < 3:
                continue
            notes = notes_of.get(name, {}).get(call["id"], {})
            if name == "clean":
                same = all(open(os.path.join(d, f), "rb").read() == open(os.path.join(call["dir"], f), "rb").read()
                           for f in ("stereo16k.flac", "mono16k.flac") if call["has_mono"])
                log(f"  {name:16} {call['id']}: byte-identical to the source: {same}")
                if not same:
                    failures.append(f"{name}/{call['id']}: not a copy of the source")
                continue
            gains = {"left": notes.get("stereo_scaled_db", 0.0), "right": notes.get("stereo_scaled_db", 0.0),
                     "mono": notes.get("mono_scaled_db", 0.0)}
            if "noise" in spec and "codec" not in spec:
                clean, _ = render(name, call, seed, hum_hz, pool, noise=False)  # no level/reverb/leak here:
                snr = spec["noise"]["snr"]  # each channel's own speech and the mix are the references
                meas = {}
                for ch in ("left", "right", "mono"):
                    y = got[ch] / 10 ** (gains[ch] / 20)
                    meas[ch] = db(active_level(clean[ch])) - db(np.mean((y - clean[ch]) ** 2))
                    if abs(meas[ch] - snr) > 0.5:
                        failures.append(f"{name}/{call['id']}/{ch}: SNR {meas[ch]:.2f} dB, target {snr}")
                log(f"  {name:16} {call['id']}: SNR {meas['left']:6.2f} {meas['right']:6.2f} "
                    f"{meas['mono']:6.2f} (target {snr})")
            else:
                src = {"left": call["stereo"][0], "right": call["stereo"][1],
                       "mono": call["stereo"][0] + call["stereo"][1]}
                lags = {ch: xcorr_lag(got[ch], src[ch]) for ch in ("left", "right", "mono")}
                levels = {ch: db(active_level(got[ch])) - db(active_level(src[ch])) for ch in lags}
                bad = [ch for ch, lag in lags.items() if abs(lag) > 1]
                for ch in bad:
                    failures.append(f"{name}/{call['id']}/{ch}: lag {lags[ch]} samples against the source")
                delays = notes.get("codec_delay_samples")
                extra = f", codec delay compensated {delays}" if delays else ""
                log(f"  {name:16} {call['id']}: lag {lags['left']:+d} {lags['right']:+d} {lags['mono']:+d}; "
                    f"active level vs source {levels['left']:+.1f} {levels['right']:+.1f} {levels['mono']:+.1f} dB"
                    f"{extra}")
    return failures


# ----------------------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 epilog="Conditions: " + ", ".join(CONDITIONS) + ". Families: " + ", ".join(FAMILIES))
    ap.add_argument("src", nargs="?", metavar="SRC_SET")
    ap.add_argument("out", nargs="?", metavar="OUT_DIR")
    ap.add_argument("--conditions", default="", help="names, families or patterns, comma-separated [default: all]")
    ap.add_argument("--only", default="", help="only these calls (comma-separated ids)")
    ap.add_argument("--seed", type=int, default=0, help="base seed [default: 0]")
    ap.add_argument("--hum-hz", type=float, default=50.0, help="mains frequency of the hum conditions [default: 50]")
    ap.add_argument("--verify", action="store_true", help="check every built file after building")
    ap.add_argument("--list", action="store_true", help="print the conditions and families, and exit")
    a = ap.parse_args()
    if a.list:
        for name in CONDITIONS:
            print(f"{name:18} {CONDITIONS[name]['family']:10} {describe(name, a.hum_hz)['description']}")
        print("\nfamilies: " + "; ".join(f"{k} ({len(v)})" for k, v in FAMILIES.items()))
        return
    if not a.src or not a.out:
        ap.error("SRC_SET and OUT_DIR are required")
    if not 0 < a.hum_hz < 1000:
        die(f"--hum-hz {a.hum_hz}: expected a mains frequency such as 50 or 60")
    if a.seed < 0:
        die("--seed must be >= 0")
    names = select_conditions(a.conditions)
    src_calls = load_source(a.src)
    ids = [c for c, _ in src_calls]
    only = [o.strip() for o in a.only.split(",") if o.strip()]
    unknown = [o for o in only if o not in ids]
    if unknown:
        die(f"--only: no call {', '.join(unknown)} in {a.src} (there are: {', '.join(ids)})")
    selected = [(c, d) for c, d in src_calls if not only or c in only]
    if os.path.abspath(a.out) == os.path.abspath(a.src) or os.path.isdir(os.path.join(a.out, "calls")):
        die(f"{a.out}: OUT_DIR must not be the source set nor an evaluation set itself")
    os.makedirs(a.out, exist_ok=True)
    record = load_record(a.out, a.src, a.seed, a.hum_hz)
    command = " ".join(["tools/eval/degrade.py", a.src, a.out]
                       + ([f"--conditions {a.conditions}"] if a.conditions else [])
                       + ([f"--only {a.only}"] if a.only else [])
                       + [f"--seed {a.seed}"] + ([f"--hum-hz {a.hum_hz:g}"] if a.hum_hz != 50 else []))
    if command not in record["commands"]:
        record["commands"].append(command)
    pool = BabblePool(src_calls)
    log(f"degrade.py: {len(names)} condition(s) x {len(selected)} call(s) from {a.src} into {a.out} (seed {a.seed})")
    t_all = time.time()
    calls = []
    notes = {name: {} for name in names}
    for call_id, d in selected:
        call = load_call(call_id, d)
        calls.append(call)
        t_call = time.time()
        for i, name in enumerate(names, 1):
            t0 = time.time()
            dst = os.path.join(a.out, name, "calls", call_id)
            os.makedirs(dst, exist_ok=True)
            for f in ("transcript.json", "truth.json"):
                if os.path.isfile(os.path.join(d, f)):
                    shutil.copyfile(os.path.join(d, f), os.path.join(dst, f))
            if name == "clean":
                shutil.copyfile(os.path.join(d, "stereo16k.flac"), os.path.join(dst, "stereo16k.flac"))
                if call["has_mono"]:
                    shutil.copyfile(os.path.join(d, "mono16k.flac"), os.path.join(dst, "mono16k.flac"))
                    note = {}
                else:
                    write_flac(os.path.join(dst, "mono16k.flac"), call["stereo"].sum(axis=0))
                    note = {"mono": "the source has no mono16k.flac: the sum of its channels"}
            else:
                sig, note = scale_for_files(*render(name, call, a.seed, a.hum_hz, pool))
                write_flac(os.path.join(dst, "stereo16k.flac"), np.stack([sig["left"], sig["right"]]))
                write_flac(os.path.join(dst, "mono16k.flac"), sig["mono"])
            notes[name][call_id] = note
            extra = "".join(f", {k} {v}" for k, v in note.items() if k != "babble_sources")
            log(f"[{i}/{len(names)}] {name:16} {call_id}: {time.time() - t0:.1f} s{extra}")
        log(f"{call_id}: {len(names)} condition(s) in {time.time() - t_call:.1f} s")
    for name in names:
        merge(record, name, a.hum_hz, notes[name])
    write_record(a.out, record)
    log(f"done in {time.time() - t_all:.1f} s: {a.out}/conditions.json, {a.out}/README.md")
    if a.verify:
        failures = verify(a.out, names, calls, a.seed, a.hum_hz, pool)
        for f in failures:
            log(f"FAIL {f}")
        log(f"verify: {'all checks passed' if not failures else f'{len(failures)} failure(s)'}")
        if failures:
            sys.exit(1)


if __name__ == "__main__":
    main()
