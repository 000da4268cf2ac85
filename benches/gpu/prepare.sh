#!/usr/bin/env bash
# Prepares target/gpu-bench/ for a GPU machine that has CUDA, cmake and gcc but
# no Rust toolchain, so that callscope's own transcription path runs there:
#
#   whisper-src.tar.xz  the whisper.cpp sources whisper-rs-sys 0.15 builds
#                       (CPU and CUDA backends; other backends left out)
#   transcribe_set      crates/pipeline/examples/transcribe_set.rs: decoding,
#                       VAD, whisper through whisper-rs, channel attribution.
#                       Linked here against a *shared* CPU build of those sources
#                       (whisper-rs-sys with benches/gpu/dylib_build.rs); run.sh
#                       builds the same sources with CUDA there and runs it
#                       against them: same header and ABI, another backend.
#   ggml-tiny.en-q8_0.bin, eval/calls/<call>/{stereo16k.flac,truth.json}
#   lib/                libopus
#   run.sh
#
# Usage: benches/gpu/prepare.sh [EVAL_DIR [CALLS]]   (defaults ../shared/eval-dev, 6)
# Then, on the GPU machine: OUT=/some/dir bash target/gpu-bench/run.sh
# and here: callscope eval EVAL_DIR --transcripts <OUT>/gpu (from transcripts.tar).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
EVAL=${1:-../shared/eval-dev}
CALLS=${2:-6}
G=$ROOT/target/gpu-bench
cargo fetch --locked >/dev/null
REG=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/whisper-rs-sys-0.15.0 | head -1)
VERSION=$(sed -n 's/^project("whisper.cpp" VERSION \([0-9.]*\))/\1/p' "$REG/whisper.cpp/CMakeLists.txt")
rm -rf "$G" && mkdir -p "$G/src" "$G/eval/calls"

echo "== whisper.cpp $VERSION sources"
cp -r "$REG/whisper.cpp" "$G/src/whisper.cpp"
for b in vulkan sycl metal opencl cann hip musa webgpu zdnn zendnn hexagon rpc blas; do
    rm -rf "$G/src/whisper.cpp/ggml/src/ggml-$b"
done
tar -C "$G/src" -cJf "$G/whisper-src.tar.xz" whisper.cpp

echo "== shared CPU build to link against (here)"
cmake -S "$G/src/whisper.cpp" -B "$G/cpu" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON \
    -DGGML_LLAMAFILE=ON -DGGML_OPENMP=OFF -DWHISPER_BUILD_EXAMPLES=OFF -DWHISPER_BUILD_TESTS=OFF >/dev/null
cmake --build "$G/cpu" -j"$(nproc)" >"$ROOT/target/gpu-bench-cpu-build.log" 2>&1 || { tail -30 "$ROOT/target/gpu-bench-cpu-build.log"; exit 1; }
LIBS=$(find "$G/cpu" -name 'lib*.so' -printf '%h\n' | sort -u | paste -sd:)

echo "== whisper-rs-sys linking those libraries, and transcribe_set"
cp -r "$REG" "$G/whisper-rs-sys" && rm -rf "$G/whisper-rs-sys/whisper.cpp"
cp benches/gpu/dylib_build.rs "$G/whisper-rs-sys/build.rs"
python3 - "$G/whisper-rs-sys/Cargo.toml" <<'PY'
import re, sys
p = sys.argv[1]
s = open(p).read()
# The copied crate builds nothing: drop its build-time dependencies.
s = re.sub(r"\n\[build-dependencies[^\n]*\](?:\n(?!\[)[^\n]*)*", "\n", s)
open(p, "w").write(s)
PY
mkdir -p "$G/ws"
cat > "$G/ws/Cargo.toml" <<TOML
[package]
name = "callscope-gpu-bench"
version = "0.0.0"
edition = "2024"
publish = false

[[bin]]
name = "transcribe_set"
path = "$ROOT/crates/pipeline/examples/transcribe_set.rs"

[dependencies]
callscope-asr = { path = "$ROOT/crates/asr" }
callscope-audio = { path = "$ROOT/crates/audio" }
callscope-model = { path = "$ROOT/crates/model" }
callscope-pipeline = { path = "$ROOT/crates/pipeline" }
callscope-signals = { path = "$ROOT/crates/signals" }
serde_json = "1"

[patch.crates-io]
whisper-rs-sys = { path = "../whisper-rs-sys" }

[profile.release]
strip = true

[workspace]
TOML
cp Cargo.lock "$G/ws/Cargo.lock"
CALLSCOPE_WHISPER_LIB_DIR=$LIBS CALLSCOPE_WHISPER_CPP_VERSION=$VERSION LD_LIBRARY_PATH=$LIBS \
    cargo build -q --release --manifest-path "$G/ws/Cargo.toml" --target-dir "$ROOT/target/gpu-bench-target"
cp "$ROOT/target/gpu-bench-target/release/transcribe_set" "$G/"

echo "== model and calls"
[ -f models/ggml-tiny.en-q8_0.bin ] || tools/models/fetch.sh tiny.en
cp models/ggml-tiny.en-q8_0.bin "$G/"
for d in $(ls -d "$EVAL"/calls/*/ | sort | head -n "$CALLS"); do
    n=$(basename "$d")
    mkdir -p "$G/eval/calls/$n"
    cp "$d/stereo16k.flac" "$d/truth.json" "$G/eval/calls/$n/"
done
cp benches/gpu/run.sh "$G/"
# Shared libraries the binary needs besides whisper.cpp's (libopus), which a
# bare GPU machine may not have.
mkdir -p "$G/lib"
ldd "$G/transcribe_set" | awk '/libopus/ {print $3}' | xargs -r -I{} cp -L {} "$G/lib/"

echo "== check here, CPU, against the shared CPU build"
LD_LIBRARY_PATH=$LIBS "$G/transcribe_set" "$G/ggml-tiny.en-q8_0.bin" "$G/eval" "$ROOT/target/gpu-bench-check" --cpu | tail -1
rm -rf "$G/src" "$G/cpu" "$G/ws" "$G/whisper-rs-sys"
du -sh "$G"
