#!/usr/bin/env bash
# Builds callscope in release mode and installs it under a prefix, the way the
# Docker image does (deploy/Dockerfile runs this script).
#
#   tools/install.sh [PREFIX]          (default PREFIX: /opt/callscope)
#
# Two kinds of build:
# - portable (the default): whisper.cpp and ggml as shared libraries, and
#   ggml's CPU backend once per x86 instruction-set level (x86-64, SSE4.2, AVX,
#   AVX2, AVX-512, AVX-512 VNNI/BF16, AVX-VNNI, AMX, ...). At run time ggml
#   scores each module against the CPU and loads the best one, so one binary
#   runs the kernels a native build would on an AVX2 server, an AVX-512 one or
#   an AMX one. Installs PREFIX/bin/callscope and PREFIX/lib/callscope/ (the
#   libraries and the CPU modules; the binary finds them by a relative rpath,
#   ggml by a path compiled in, so PREFIX is fixed at build time).
# - native (GGML_NATIVE=ON in the environment): one static binary for this
#   machine's own instruction set, PREFIX/bin/callscope only. It may not start
#   on an older CPU (illegal instruction).
#
# Environment: GGML_NATIVE=ON for the native build; CARGO_TARGET_DIR (default
# target/install-portable or target/install-native, so that a portable build
# does not rebuild the development tree in target/).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX="${1:-/opt/callscope}"
case "$PREFIX" in
  /*) ;;
  *) echo "install.sh: PREFIX must be an absolute path (ggml's module directory is compiled in): $PREFIX" >&2; exit 2 ;;
esac
native="${GGML_NATIVE:-OFF}"
native="${native^^}"
cd "$ROOT"
mkdir -p "$PREFIX/bin"

if [ "$native" = ON ] || [ "$native" = 1 ] || [ "$native" = TRUE ]; then
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target/install-native}"
  echo "==> native build (this CPU's instruction set) into $CARGO_TARGET_DIR"
  GGML_NATIVE=ON cargo build --release --locked -p callscope
  install -m 0755 "$CARGO_TARGET_DIR/release/callscope" "$PREFIX/bin/callscope"
  echo "==> installed $PREFIX/bin/callscope (native: runs on CPUs with this one's instruction set)"
  exit 0
fi

lib="$PREFIX/lib/callscope"
mkdir -p "$lib"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target/install-portable}"
echo "==> portable build (ggml's CPU backend per instruction-set level, chosen at run time) into $CARGO_TARGET_DIR"
# The binary finds the libraries by a relative run path (crates/cli/build.rs).
# GGML_CPU_ALL_VARIANTS=OFF builds one module, at ggml's default level (AVX2,
# FMA, F16C): a quicker check of the portable build, as CI does. (ggml cannot
# build a module for the build machine's own instruction set: GGML_NATIVE does
# not go with modules.)
GGML_NATIVE=OFF GGML_BACKEND_DL=ON GGML_CPU_ALL_VARIANTS="${GGML_CPU_ALL_VARIANTS:-ON}" GGML_BACKEND_DIR="$lib" \
  cargo build --release --locked -p callscope

# The shared libraries the binary links (the CPU modules were installed in
# $lib by the build itself: GGML_BACKEND_DIR is their install directory too).
out="$(ls -td "$CARGO_TARGET_DIR"/release/build/whisper-rs-sys-*/out/lib | head -1)"
for name in libwhisper libggml libggml-base; do
  cp -a "$out/$name".so* "$lib/"
done
install -m 0755 "$CARGO_TARGET_DIR/release/callscope" "$PREFIX/bin/callscope"
modules=$(find "$lib" -name 'libggml-cpu*.so' | wc -l)
if [ "$modules" -eq 0 ]; then
  echo "install.sh: no CPU module (libggml-cpu*.so) in $lib: the build did not make them" >&2
  exit 1
fi
echo "==> installed $PREFIX/bin/callscope and $lib ($modules CPU modules)"
"$PREFIX/bin/callscope" --version
