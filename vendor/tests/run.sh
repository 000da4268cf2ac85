#!/usr/bin/env bash
# Builds the vendored ggml (whisper.cpp's copy, with callscope's patches) and runs ggml_kernels.c:
# the patched matrix products against a double-precision reference (see that file).
#
#   vendor/tests/run.sh [native|avx2]
#
# native (the default): the flags callscope's release build uses (GGML_NATIVE, llamafile, no
# OpenMP), so this CPU's kernels: on AVX-512 with VNNI the short-k F32 product and the VNNI Q8_0
# kernels. avx2: the same sources built for the AVX2 level (FMA, F16C, no AVX-512), the kernels an
# AVX2 CPU runs, on any CPU that has AVX2. Builds in target/ggml-kernels-LEVEL.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
level="${1:-native}"
src="$root/vendor/whisper-rs-sys/whisper.cpp"
build="$root/target/ggml-kernels-$level"
case "$level" in
  native) flags=(-DGGML_NATIVE=ON) ;;
  avx2) flags=(-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON) ;;
  *) echo "usage: $0 [native|avx2]" >&2; exit 2 ;;
esac
command -v cmake >/dev/null || { echo "run.sh: cmake is needed" >&2; exit 1; }
mkdir -p "$build"
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DGGML_LLAMAFILE=ON -DGGML_OPENMP=OFF \
  -DBUILD_SHARED_LIBS=OFF -DWHISPER_BUILD_EXAMPLES=OFF -DWHISPER_BUILD_TESTS=OFF "${flags[@]}" >"$build.cmake.log" 2>&1 \
  || { echo "run.sh: cmake failed, see $build.cmake.log" >&2; exit 1; }
cmake --build "$build" --target ggml -j"$(nproc)" >"$build.build.log" 2>&1 || { echo "run.sh: build failed, see $build.build.log" >&2; exit 1; }
cc -O2 -std=c11 -Wall -Wextra -c "$here/ggml_kernels.c" -I"$src/ggml/include" -o "$build/ggml_kernels.o"
c++ -o "$build/ggml_kernels" "$build/ggml_kernels.o" "$build/ggml/src/libggml.a" "$build/ggml/src/libggml-cpu.a" \
  "$build/ggml/src/libggml-base.a" -lpthread -lm
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); build: $level;" \
  "flags: $(grep -m1 '^flags' /proc/cpuinfo | grep -o -w -E 'avx2|fma|f16c|avx512f|avx512bw|avx512_vnni|amx_int8' | sort -u | tr '\n' ' ')"
"$build/ggml_kernels"
