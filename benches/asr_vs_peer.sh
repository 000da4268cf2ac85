#!/usr/bin/env bash
# callscope's transcription against faster-whisper on the same calls and the
# same CT2 weights, run alternately (this VM's timings drift, so each round runs
# both back to back). Prints one line per run; benches/README.md records them.
#
# Usage: benches/asr_vs_peer.sh EVAL_DIR CT2_TINY_EN_DIR [CT2_BASE_DIR] [ROUNDS]
#   needs: target/release/callscope (cargo build --release), models/ from
#   tools/models/fetch.sh tiny.en (and base), and a Python with
#   faster-whisper==1.2.1 as $PYTHON (default python3).
set -euo pipefail
cd "$(dirname "$0")/.."
EVAL=$1 TINY=$2 BASE=${3:-} ROUNDS=${4:-3}
PY=${PYTHON:-python3}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
rtf() { sed -n 's/.*real-time factor \([0-9.]*x\).*/\1/p; s/.* = \([0-9.]*x\) real time (faster.*/\1/p'; }
for i in $(seq "$ROUNDS"); do
    echo "round $i: callscope tiny.en q8_0 $(target/release/callscope eval "$EVAL" 2>&1 | rtf)," \
        "faster-whisper tiny.en int8 $("$PY" tools/asr_peer.py "$EVAL" "$TINY" "$OUT/t" --compute-type int8 2>&1 | rtf)"
done
[ -n "$BASE" ] || exit 0
for i in $(seq "$ROUNDS"); do
    echo "round $i: callscope base q8_0 $(target/release/callscope eval "$EVAL" --model models/ggml-base-q8_0.bin 2>&1 | rtf)," \
        "faster-whisper base int8 $("$PY" tools/asr_peer.py "$EVAL" "$BASE" "$OUT/b" --compute-type int8 2>&1 | rtf)"
done
