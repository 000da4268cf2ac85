#!/usr/bin/env bash
# Prepares target/gpu-bench/ for a GPU machine without a Rust toolchain: the
# whisper.cpp sources that whisper-rs-sys 0.15 builds (from the cargo registry),
# the tiny.en q8_0 model, the two channels of a sample call as raw 16 kHz PCM,
# and the C++ driver (bench.cpp). Then, on the GPU machine: bash target/gpu-bench/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo fetch --locked >/dev/null
SRC=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/whisper-rs-sys-0.15.0/whisper.cpp | head -1)
rm -rf target/gpu-bench && mkdir -p target/gpu-bench
cp -r "$SRC" target/gpu-bench/whisper.cpp
cp benches/gpu/bench.cpp benches/gpu/CMakeLists.txt benches/gpu/run.sh target/gpu-bench/
[ -f models/ggml-tiny.en-q8_0.bin ] || tools/models/fetch.sh tiny.en
cp models/ggml-tiny.en-q8_0.bin target/gpu-bench/
cargo run -q --release -p callscope-audio --example dump_pcm -- crates/audio/tests/data/dev-06-stereo16k.flac target/gpu-bench/dev06
du -sh target/gpu-bench
