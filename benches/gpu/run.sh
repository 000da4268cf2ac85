#!/usr/bin/env bash
# On the GPU machine (CUDA, cmake, gcc; no Rust): builds the whisper.cpp sources
# of whisper-rs-sys as shared libraries with CUDA, then runs callscope's
# transcription path (transcribe_set, from prepare.sh) on the GPU and on the
# CPU of the same machine, over the same calls. Results and transcripts go to
# $OUT (transcripts.tar: gpu/, cpu16/ for `callscope eval --transcripts`).
set -euo pipefail
cd "$(dirname "$0")"
OUT=${OUT:-/tmp/gpu-bench-out}
mkdir -p "$OUT"
W=/tmp/callscope-whisper
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/results.txt"
nproc | sed 's/^/CPU cores: /' | tee -a "$OUT/results.txt"
rm -rf "$W" && mkdir -p "$W" && tar -C "$W" -xJf whisper-src.tar.xz
start=$(date +%s)
# The flags whisper-rs-sys passes with its `cuda` feature, shared instead of
# static, for one architecture (Hopper: sm_90).
cmake -S "$W/whisper.cpp" -B "$W/build" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON \
    -DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 -DCMAKE_POSITION_INDEPENDENT_CODE=ON \
    -DGGML_LLAMAFILE=ON -DGGML_OPENMP=OFF -DWHISPER_BUILD_EXAMPLES=OFF -DWHISPER_BUILD_TESTS=OFF \
    > "$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log"; exit 1; }
cmake --build "$W/build" -j"$(nproc)" >> "$OUT/build.log" 2>&1 || { tail -40 "$OUT/build.log"; exit 1; }
echo "whisper.cpp CUDA build: $(( $(date +%s) - start )) s" | tee -a "$OUT/results.txt"
LD_LIBRARY_PATH=$PWD/lib:$(find "$W/build" -name 'lib*.so' -printf '%h\n' | sort -u | paste -sd:)
export LD_LIBRARY_PATH
ldd ./transcribe_set | grep -E "whisper|ggml" | tee -a "$OUT/results.txt"
ldd "$(find "$W/build" -name 'libggml-cuda.so' | head -1)" | grep -E "cuda|cublas" | tee -a "$OUT/results.txt"
M=ggml-tiny.en-q8_0.bin
mkdir -p "$OUT/t"
run() { echo "== $1" | tee -a "$OUT/results.txt"; shift; "$@" 2>>"$OUT/stderr.log" | tee -a "$OUT/results.txt"; }
run "GPU, 4 threads, pass 1 (warm-up)" ./transcribe_set $M eval "$OUT/t/gpu-warmup" --threads 4
# GPU use while pass 2 runs, sampled every 100 ms (proof that it ran there).
nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used --format=csv,noheader -lms 100 > "$OUT/smi.csv" &
SMI=$!
run "GPU, 4 threads, pass 2" ./transcribe_set $M eval "$OUT/t/gpu" --threads 4
kill $SMI 2>/dev/null || true
awk -F', ' '{u=$2+0; m=$3+0; if (u>mu) mu=u; if (m>mm) mm=m; if (u>0) busy++} END {printf "GPU during pass 2: %d samples, %d with utilization > 0, peak %d %%, peak memory %d MiB\n", NR, busy, mu, mm}' "$OUT/smi.csv" | tee -a "$OUT/results.txt" || true
run "CPU only, $(nproc) threads" ./transcribe_set $M eval "$OUT/t/cpu$(nproc)" --threads "$(nproc)" --cpu
run "CPU only, 2 threads" ./transcribe_set $M eval "$OUT/t/cpu2" --threads 2 --cpu
tar -C "$OUT/t" -cf "$OUT/transcripts.tar" . && rm -rf "$OUT/t"
