#!/usr/bin/env bash
# benches/worker_split.sh ASR_THREADS CPU_THREADS TAG [EVAL_DIR]
# The real worker (`callscope worker --source dir:... --once`, SQLite, tiny.en
# q8_0, release build) over the eval-dev stereo calls twice (12 calls, 1,046 s
# of audio), with whisper's threads per call and the calls at once given:
# prints the wall time, the peak RSS and how many calls were stored. Alternate
# the splits you compare (benches/README.md, "Ingest worker").
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
EVAL=${4:-$ROOT/../shared/eval-dev}
A=$1; C=$2; TAG=$3
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; flags: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx2|fma|avx512f|avx512_vnni|avx512_bf16|amx_int8)$' | xargs); load $(cut -d' ' -f1-3 /proc/loadavg)"
D=$(mktemp -d)
for r in 1 2; do for f in "$EVAL"/calls/*/stereo16k.flac; do n="call-$r-$(basename $(dirname $f))"; cp "$f" "$D/$n.flac"; printf '{"seller_id":"s-bench","started_at":"2026-10-06T09:30:00Z","channels":{"layout":"stereo","seller_channel":"left"}}' > "$D/$n.meta.json"; done; done
cd "$ROOT"
CALLSCOPE__STORE__SQLITE_PATH=$D/store.db CALLSCOPE__ASR__THREADS=$A CALLSCOPE__INGEST__CPU_THREADS=$C \
CALLSCOPE__ASR__MODEL=models/ggml-tiny.en-q8_0.bin CALLSCOPE__INGEST__METRICS_LISTEN= \
  /usr/bin/time -f "%e s wall, %M kB peak" target/release/callscope worker --source "dir:$D" --once > "$D/log" 2> "$D/err"
echo "$TAG asr.threads=$A cpu_threads=$C: $(tail -1 $D/err) stored=$(python3 -c "import sqlite3;print(sqlite3.connect('$D/store.db').execute('select count(*) from calls').fetchone()[0])" 2>&1) failed=$(ls $D/.callscope/failed 2>/dev/null | wc -l)"
rm -rf $D
