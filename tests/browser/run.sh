#!/usr/bin/env bash
# Starts `callscope serve` on 127.0.0.1 with the sample calls (samples/transcripts
# and the generated months of samples/team-calls) in a fresh SQLite
# store, and runs the browser tests against it. Needs /usr/bin/chromium and npm.
# Usage: tests/browser/run.sh [SCREENSHOT_DIR]   (default target/screenshots)
# ONLY="part of a test name" runs just the matching tests.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BIN=${CALLSCOPE_BIN:-$ROOT/target/debug/callscope}
SHOTS=${1:-$ROOT/target/screenshots}
PORT=${CALLSCOPE_BROWSER_PORT:-18480}
TMP=$(mktemp -d)
cat >"$TMP/config.toml" <<CONF
[store]
sqlite_path = "$TMP/callscope.db"
[signals]
trackers = "$ROOT/samples/trackers.toml"
[app]
listen = "127.0.0.1:$PORT"
directory = "$ROOT/samples/users.toml"
dev_login = true
audio_root = "$ROOT/samples/audio"
CONF
"$BIN" --config "$TMP/config.toml" import --transcript samples/transcripts samples/team-calls samples/transcripts-fi >"$TMP/import.log" 2>&1 \
  || { cat "$TMP/import.log"; exit 1; }
tail -1 "$TMP/import.log"
"$BIN" --config "$TMP/config.toml" serve >"$TMP/serve.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; rm -rf "$TMP"' EXIT
for _ in $(seq 1 50); do curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null || { cat "$TMP/serve.log"; exit 1; }
if [ ! -d tests/browser/node_modules/playwright-core ]; then
  (cd tests/browser && npm ci --no-audit --no-fund --silent)
fi
CALLSCOPE_URL="http://127.0.0.1:$PORT" SCREENSHOT_DIR="$SHOTS" node tests/browser/app.test.mjs
