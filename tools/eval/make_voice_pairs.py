#!/usr/bin/env python3
"""make_voice_pairs.py: the calls of a synthesised evaluation set, spoken again by
two voices of the same sex, one set per voice pair.

    target/voices-venv/bin/python tools/eval/make_voice_pairs.py ../shared/eval-dev OUT
    callscope eval OUT --mono                      # one table per pair
    callscope eval OUT --mono --conditions ff-slt-hts-slt-cg

Mono diarization tells two people apart by their voices. The dev set pairs a
male and a female voice on five of its six calls, the easy case; real sales
calls are often two men or two women. This tool reruns the set's own generator
(`SRC/generate.py`, with `SRC/dialogues.json`) with the voices replaced, so the
truth (turn, pause and word times, KPIs, mentions) is made the same way as the
source's and matches the new audio exactly.

Only voices from Debian packages are used (flite and Festival), so nothing has
to come from a model hub:

    male    flite_rms (US), flite_awb (Scottish), festival_kal (US), festival_ked (US)
    female  festival_slt_hts and flite_slt: the same recorded speaker (CMU ARCTIC
            "slt") through two synthesisers, the hardest pair there is

Every pair of the same sex is made (seven), unless --pairs names some. In each
call the seller gets the pair's first voice and the customer the second. The
set's optional extra files (MP3, 8 kHz copies) are not made: `callscope eval`
reads `stereo16k.flac` and `mono16k.flac`.

Output: OUT/<pair>/ in the layout of the source set (calls/<id>/...), where
<pair> is e.g. `mm-rms-kal`, and OUT/pairs.json with the voices of each pair.
Deterministic: the voices are; a rerun gives the same files.

Needs numpy, scipy and soundfile (`tools/eval/requirements-voices.txt`), and
apt packages flite, festival, festvox-kallpc16k, festvox-kdlpc16k,
festvox-us-slt-hts. The expected KPIs are computed with tools/kpi_v1_ref.py.
"""
import argparse
import copy
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
KPI_REF = os.path.join(HERE, "..", "kpi_v1_ref.py")

# voice id (as the source generator names it) -> (sex, short name)
VOICES = {
    "flite_rms": ("m", "rms"),
    "flite_awb": ("m", "awb"),
    "festival_kal": ("m", "kal"),
    "festival_ked": ("m", "ked"),
    "festival_slt_hts": ("f", "slt-hts"),
    "flite_slt": ("f", "slt-cg"),
}
APT = "flite festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts"


def pair_name(a, b):
    sa, na = VOICES[a]
    return f"{sa}{VOICES[b][0]}-{na}-{VOICES[b][1]}"


def all_pairs():
    out = []
    for a, b in itertools.combinations(VOICES, 2):
        if VOICES[a][0] == VOICES[b][0]:
            out.append((a, b))
    return out


def parse_pairs(text):
    pairs = []
    for item in filter(None, text.split(",")):
        a, sep, b = item.partition("/")
        if not sep or a not in VOICES or b not in VOICES:
            sys.exit(f"--pairs: {item!r} is not VOICE/VOICE with voices from: {', '.join(VOICES)}")
        pairs.append((a, b))
    return pairs


def respoken(spec, seller_voice, customer_voice):
    """The spec with every call's seller and customer voices replaced."""
    out = copy.deepcopy(spec)
    for call in out["calls"]:
        roles = {s["role"] for s in call["speakers"].values()}
        if roles != {"seller", "customer"}:
            sys.exit(f"{call['call_id']}: only two-party seller/customer calls can be respoken (roles: {sorted(roles)})")
        for s in call["speakers"].values():
            s["voice"] = seller_voice if s["role"] == "seller" else customer_voice
        call["extra_files"] = []
    out.pop("real_calls", None)
    out.pop("real_speech", None)
    return out


def flatten_expected_kpis(set_dir):
    """tools/kpi_v1_ref.py prints {"call_id", "kpi_version", "kpis"}; the truth
    keeps the KPI object itself (as eval-dev and tools/eval/finnish do)."""
    calls = os.path.join(set_dir, "calls")
    for cid in sorted(os.listdir(calls)):
        p = os.path.join(calls, cid, "truth.json")
        truth = json.load(open(p))
        e = truth.get("expected_kpis_v1")
        if isinstance(e, dict) and "kpis" in e:
            truth["expected_kpis_v1"] = e["kpis"]
            with open(p, "w") as f:
                json.dump(truth, f, indent=1)


def check_tools():
    missing = [t for t in ("flite", "festival") if shutil.which(t) is None]
    if missing:
        sys.exit(f"missing {', '.join(missing)}: apt-get install {APT}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("src", help="a synthesised set with generate.py and dialogues.json (e.g. ../shared/eval-dev)")
    ap.add_argument("out", help="output folder (one subfolder per voice pair)")
    ap.add_argument("--pairs", default="", help="SELLER/CUSTOMER voice pairs, comma separated (default: every same-sex pair)")
    ap.add_argument("--only", default="", help="call ids, comma separated (default: all)")
    a = ap.parse_args()

    gen = os.path.join(a.src, "generate.py")
    spec_path = os.path.join(a.src, "dialogues.json")
    for p in (gen, spec_path):
        if not os.path.exists(p):
            sys.exit(f"{a.src}: no {os.path.basename(p)}: this tool respeaks a set made by its own generator")
    check_tools()
    spec = json.load(open(spec_path))
    pairs = parse_pairs(a.pairs) if a.pairs else all_pairs()
    os.makedirs(a.out, exist_ok=True)
    made = {}
    for i, (seller, customer) in enumerate(pairs, 1):
        name = pair_name(seller, customer)
        dest = os.path.join(a.out, name)
        print(f"[{i}/{len(pairs)}] {name}: seller {seller}, customer {customer}", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            sp = os.path.join(tmp, "dialogues.json")
            json.dump(respoken(spec, seller, customer), open(sp, "w"), indent=1)
            cmd = [sys.executable, gen, "--spec", sp, "--out", dest, "--kpi-ref", KPI_REF]
            if a.only:
                cmd += ["--only", a.only]
            r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if r.returncode != 0:
                sys.exit(f"{name}: the generator failed (exit {r.returncode}):\n{r.stdout[-4000:]}")
        flatten_expected_kpis(dest)
        made[name] = {"seller_voice": seller, "customer_voice": customer, "sex": VOICES[seller][0]}
    json.dump({"source": os.path.abspath(a.src), "pairs": made}, open(os.path.join(a.out, "pairs.json"), "w"), indent=1)
    print(f"{len(made)} voice pairs in {a.out}")


if __name__ == "__main__":
    main()
