#!/usr/bin/env bash
set -u
cd "$(dirname "$0")"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
start=$(date +%s)
cmake -S . -B build -DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF > "$OUT/cmake.log" 2>&1 || { tail -30 "$OUT/cmake.log"; exit 1; }
cmake --build build -j 16 --target bench > "$OUT/build.log" 2>&1 || { tail -40 "$OUT/build.log"; exit 1; }
echo "build: $(( $(date +%s) - start )) s"
F="dev06.ch0.s16 dev06.ch1.s16"
./build/bench ggml-tiny.en-q8_0.bin 1 4 $F | tee -a "$OUT/results.txt"
./build/bench ggml-tiny.en-q8_0.bin 0 2 $F | tee -a "$OUT/results.txt"
./build/bench ggml-tiny.en-q8_0.bin 0 16 $F | tee -a "$OUT/results.txt"
