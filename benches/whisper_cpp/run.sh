#!/usr/bin/env bash
# Builds a whisper.cpp source tree (the vendored one unless SRC is given) with the flags callscope's
# release build uses (native, llamafile, no OpenMP) and runs driver.c on one channel of a call.
#
#   benches/whisper_cpp/run.sh MODEL AUDIO CHANNEL [THREADS] [REPEATS] [DTW_PRESET]
#   SRC=/path/to/other/whisper.cpp benches/whisper_cpp/run.sh ...   # the same for another tree
#
# DTW_PRESET is whisper.cpp's alignment-heads preset (3: tiny.en, 6: base; whisper.h). Prints the
# CPU, then driver.c's line: best time, encoder window, decoder step, and a hash of the output.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
[ $# -ge 3 ] || { sed -n 2,9p "$0"; exit 2; }
model="$1" audio="$2" channel="$3" threads="${4:-1}" reps="${5:-4}" preset="${6:-3}"
src="${SRC:-$root/vendor/whisper-rs-sys/whisper.cpp}"
build="$root/target/whisper-cpp-driver/$(echo "$src" | md5sum | cut -c1-8)"
mkdir -p "$build"
command -v cmake >/dev/null || { echo "run.sh: cmake is needed" >&2; exit 1; }
command -v sox >/dev/null || { echo "run.sh: sox is needed (to read the audio)" >&2; exit 1; }
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DGGML_LLAMAFILE=ON -DGGML_NATIVE=ON \
  -DGGML_OPENMP=OFF -DBUILD_SHARED_LIBS=OFF -DWHISPER_BUILD_EXAMPLES=OFF -DWHISPER_BUILD_TESTS=OFF >"$build.cmake.log" 2>&1 \
  || { echo "run.sh: cmake failed, see $build.cmake.log" >&2; exit 1; }
cmake --build "$build" -j"$(nproc)" >"$build.build.log" 2>&1 || { echo "run.sh: build failed, see $build.build.log" >&2; exit 1; }
cc -O2 -c "$here/driver.c" -I"$src/include" -I"$src/ggml/include" -o "$build/driver.o"
c++ -o "$build/driver" "$build/driver.o" "$build/src/libwhisper.a" "$build/ggml/src/libggml.a" \
  "$build/ggml/src/libggml-cpu.a" "$build/ggml/src/libggml-base.a" -lpthread -lm
raw="$build/channel-$channel.raw"
sox "$audio" -t f32 -r 16000 "$raw" remix "$channel"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); flags: $(grep -m1 '^flags' /proc/cpuinfo | grep -o 'avx[^ ]*\|fma\|f16c\|amx[^ ]*' | sort -u | tr '\n' ' ')"
"$build/driver" "$model" "$raw" "$threads" "$reps" "$preset" 2>/dev/null
