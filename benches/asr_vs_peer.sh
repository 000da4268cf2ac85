#!/usr/bin/env bash
# callscope's transcription against faster-whisper on the same calls and the
# same CT2 weights, run alternately (this VM's timings drift, so each round runs
# both back to back). Prints the machine, then one line per run with the WER of
# both sides (the same scorer: `callscope eval --transcripts` for the peer) and
# their real-time factors; benches/README.md records them.
#
# Usage: benches/asr_vs_peer.sh EVAL_DIR CT2_TINY_EN_DIR [CT2_BASE_DIR] [ROUNDS]
#        benches/asr_vs_peer.sh --language fi EVAL_DIR CT2_BASE_DIR [ROUNDS]
#   The first form is English: tiny.en, then base. With --language (a set whose
#   truth.json says that language, e.g. tests/eval-fi) only the multilingual
#   base runs: callscope with base q8_0 and base f16 (the truth's language picks
#   the language on both sides), faster-whisper with int8.
#   THREADS (default 2): whisper's threads on both sides; CALLSCOPE: the binary
#   (default target/release/callscope); KEEP: a folder that keeps each run's
#   full output (per-call WER and KPIs) and the peer's transcripts.
#   PEER_ISA (e.g. AVX2): caps faster-whisper at that instruction set
#   (CTranslate2's CT2_FORCE_CPU_ISA, and the same cap for the MKL and oneDNN
#   it ships), to compare the two as on a CPU of that level; pin callscope's
#   portable build (tools/install.sh) to the same level with GGML_BACKEND_DIR
#   naming a folder that holds only that ggml CPU module (benches/README.md,
#   "One build for every x86 CPU").
#   INTERLEAVE=1: instead of whole-set rounds, alternate call by call
#   (`tools/asr_peer.py --interleave`: callscope, then faster-whisper with its
#   model loaded once, the order swapped each round), so that a host whose
#   speed drifts over minutes slows both sides of each pair alike; prints each
#   pair, then the ratio of the totals and the median pair. Speed only (the
#   WER of both sides is the same as in the whole-set rounds).
#   needs: target/release/callscope (cargo build --release), models/ from
#   tools/models/fetch.sh tiny.en (and base), and a Python with
#   faster-whisper==1.2.1 as $PYTHON (default python3).
set -euo pipefail
cd "$(dirname "$0")/.."
LANGUAGE=
if [ "${1:-}" = --language ]; then LANGUAGE=$2; shift 2; fi
PY=${PYTHON:-python3}
THREADS=${THREADS:-2}
CS=${CALLSCOPE:-target/release/callscope}
export CALLSCOPE__ASR__THREADS=$THREADS
OUT=$(mktemp -d)
trap '[ ! -s "$OUT/kernels" ] || echo "callscope ran whisper.cpp on $(cat "$OUT/kernels")"; rm -rf "$OUT"' EXIT
# "AMD EPYC" alone names no generation (Zen 1 and Zen 3 VMs both say so): the family and model do.
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), family $(lscpu | sed -n 's/^CPU family: *//p') model $(lscpu | sed -n 's/^Model: *//p'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "flags: $(grep -m1 -o -w -E 'avx2|fma|f16c|avx512f|avx512vl|avx512_vnni|avx512_bf16|amx_tile' /proc/cpuinfo | sort -u | tr '\n' ' ')"
echo "callscope: $CS; threads: $THREADS; faster-whisper $("$PY" -c 'import faster_whisper; print(faster_whisper.__version__)')" \
    "${PEER_ISA:+(capped at $PEER_ISA)}${GGML_BACKEND_DIR:+; ggml CPU modules from $GGML_BACKEND_DIR: $(cd "$GGML_BACKEND_DIR" && ls libggml-cpu-*.so | tr '\n' ' ')}"
rtf() { sed -n 's/.*real-time factor \([0-9.]*x\).*/\1/p; s/.* = \([0-9.]*x\) real time (faster.*/\1/p'; }
wer() { sed -n 's/^overall WER \([0-9.]*%\).*/\1/p'; }
keep() { if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP" && tee "$KEEP/$1.txt"; else cat; fi; }
# callscope on EVAL (run name $1, then eval options): "WER, RTF".
ours() {
    local name=$1 r; shift
    r=$("$CS" eval "$EVAL" "$@" 2>&1 | keep "$name")
    sed -n 's/.*; whisper\.cpp on \(.*\))$/\1/p' <<<"$r" | tail -1 > "$OUT/kernels"
    echo "WER $(wer <<<"$r"), $(rtf <<<"$r")"
}
# Runs a command with faster-whisper's instruction set capped at $PEER_ISA, if set.
peer_isa() {
    if [ -n "${PEER_ISA:-}" ]; then
        CT2_FORCE_CPU_ISA=$PEER_ISA MKL_ENABLE_INSTRUCTIONS=$PEER_ISA ONEDNN_MAX_CPU_ISA=$PEER_ISA "$@"
    else
        "$@"
    fi
}
# faster-whisper from CT2 dir $1 into $OUT/$2 (run name $2), scored by callscope: "WER, RTF".
peer() {
    local r; r=$(peer_isa "$PY" tools/asr_peer.py "$EVAL" "$1" "$OUT/$2" --compute-type int8 --threads "$THREADS" 2>&1 | keep "$2")
    [ -z "${KEEP:-}" ] || cp -r "$OUT/$2" "$KEEP/$2-transcripts"
    echo "WER $("$CS" eval "$EVAL" --transcripts "$OUT/$2" 2>&1 | keep "$2-scored" | wer), $(rtf <<<"$r")"
}
if [ -n "$LANGUAGE" ]; then
    EVAL=$1 BASE=$2 ROUNDS=${3:-3}
    grep -q "\"language\": *\"$LANGUAGE\"" "$EVAL"/calls/*/truth.json ||
        { echo "error: $EVAL: no truth.json says \"language\": \"$LANGUAGE\"" >&2; exit 2; }
    for i in $(seq "$ROUNDS"); do
        echo "round $i ($LANGUAGE): callscope base q8_0 $(ours "cs-base-q8_0-$i" --model models/ggml-base-q8_0.bin);" \
            "faster-whisper base int8 $(peer "$BASE" "fw-base-int8-$i");" \
            "callscope base f16 $(ours "cs-base-f16-$i" --model models/ggml-base.bin)"
    done
    exit 0
fi
EVAL=$1 TINY=$2 BASE=${3:-} ROUNDS=${4:-3}
# Call by call against faster-whisper from CT2 dir $1, callscope with ggml model $2.
interleaved() {
    echo "interleaved, call by call: callscope $2 against faster-whisper $1 int8"
    peer_isa "$PY" tools/asr_peer.py "$EVAL" "$1" "$OUT/interleaved" --compute-type int8 --threads "$THREADS" \
        --interleave "$CS" --ggml "$2" --rounds "$ROUNDS"
}
if [ -n "${INTERLEAVE:-}" ]; then
    interleaved "$TINY" models/ggml-tiny.en-q8_0.bin
    [ -z "$BASE" ] || interleaved "$BASE" models/ggml-base-q8_0.bin
    exit 0
fi
for i in $(seq "$ROUNDS"); do
    echo "round $i: callscope tiny.en q8_0 $(ours "cs-tiny.en-q8_0-$i");" \
        "faster-whisper tiny.en int8 $(peer "$TINY" "fw-tiny.en-int8-$i")"
done
[ -n "$BASE" ] || exit 0
for i in $(seq "$ROUNDS"); do
    echo "round $i: callscope base q8_0 $(ours "cs-base-q8_0-$i" --model models/ggml-base-q8_0.bin);" \
        "faster-whisper base int8 $(peer "$BASE" "fw-base-int8-$i")"
done
