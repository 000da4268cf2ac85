#!/usr/bin/env python3
"""Re-quantizes a whisper.cpp ggml f16 file (tools/models/fetch.sh's
ggml-MODEL.bin): every f16 2-D tensor whose rows split into blocks of 32
becomes ggml Q4_0, Q5_0 or Q8_0 with ggml's reference rounding; the rest is
copied. For comparing weight types (benches/README.md, "Weight types on
AVX-512"); `q8_0` gives the very file fetch.sh makes (byte for byte).

Usage: requant_ggml.py IN-f16.bin OUT.bin q4_0|q5_0|q8_0   (needs numpy)
Name the output ggml-MODEL-TYPE.bin: callscope picks whisper's word-timing
heads by the file name.
"""
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from convert_ct2_to_ggml import (GGML_QNT_VERSION, GGML_QNT_VERSION_FACTOR, GGML_TYPE_F16,  # noqa: E402
                                 GGML_TYPE_F32, quantize_q8_0)


def signed_max_scale(rows, levels):
    """ggml's Q4_0/Q5_0 scale: the value of largest magnitude over -levels, and its inverse (0 for a zero block)."""
    d = rows[np.arange(len(rows)), np.abs(rows).argmax(1)] / -levels
    inv = np.where(d != 0, 1.0 / np.where(d != 0, d, 1), 0)
    return d, inv


def quantize_q4_0(data):
    """ggml Q4_0: per 32 values one f16 scale and 32 unsigned 4-bit values, low halves first."""
    rows = data.reshape(-1, 32)
    d, inv = signed_max_scale(rows, 8.0)
    q = np.minimum(15, np.trunc(rows * inv[:, None] + 8.5)).astype(np.uint8)
    blocks = np.empty(len(rows), dtype=[("d", "<f2"), ("qs", "u1", 16)])
    blocks["d"] = d.astype(np.float16)
    blocks["qs"] = q[:, :16] | (q[:, 16:] << 4)
    return blocks.tobytes()


def quantize_q5_0(data):
    """ggml Q5_0: as Q4_0 with 5 bits, the fifth bits of the 32 values in one u32."""
    rows = data.reshape(-1, 32)
    d, inv = signed_max_scale(rows, 16.0)
    q = np.minimum(31, np.trunc(rows * inv[:, None] + 16.5)).astype(np.uint32)
    lo, hi = q[:, :16], q[:, 16:]
    bits = np.arange(16, dtype=np.uint32)
    blocks = np.empty(len(rows), dtype=[("d", "<f2"), ("qh", "<u4"), ("qs", "u1", 16)])
    blocks["d"] = d.astype(np.float16)
    blocks["qh"] = (((lo >> 4) & 1) << bits).sum(1) | (((hi >> 4) & 1) << (bits + 16)).sum(1)
    blocks["qs"] = (lo & 0x0F) | ((hi & 0x0F) << 4)
    return blocks.tobytes()


# name: (ggml tensor type, ggml file type, quantizer)
TYPES = {"q4_0": (2, 2, quantize_q4_0), "q5_0": (6, 8, quantize_q5_0), "q8_0": (8, 7, quantize_q8_0)}


def main():
    if len(sys.argv) != 4 or sys.argv[3] not in TYPES:
        sys.exit(__doc__)
    src, dst, kind = sys.argv[1:]
    tensor_type, file_type, quantize = TYPES[kind]
    with open(src, "rb") as f:
        buf = f.read()
    pos = 0

    def take(n):
        nonlocal pos
        pos += n
        return buf[pos - n:pos]

    out = bytearray(take(4))
    hparams = list(struct.unpack("<11i", take(44)))
    if hparams[10] % GGML_QNT_VERSION_FACTOR != 1:
        sys.exit(f"{src}: not an f16 ggml file (file type {hparams[10]})")
    hparams[10] = GGML_QNT_VERSION * GGML_QNT_VERSION_FACTOR + file_type
    out += struct.pack("<11i", *hparams)
    n_mel, n_fft = struct.unpack("<ii", take(8))
    out += struct.pack("<ii", n_mel, n_fft) + take(4 * n_mel * n_fft)
    n_vocab = struct.unpack("<i", take(4))[0]
    out += struct.pack("<i", n_vocab)
    for _ in range(n_vocab):
        n = struct.unpack("<i", take(4))[0]
        out += struct.pack("<i", n) + take(n)
    quantized = 0
    while pos < len(buf):
        n_dims, name_len, ttype = struct.unpack("<iii", take(12))
        dims = struct.unpack(f"<{n_dims}i", take(4 * n_dims))
        name = take(name_len)
        data = take(int(np.prod(dims)) * (4 if ttype == GGML_TYPE_F32 else 2))
        if ttype == GGML_TYPE_F16 and n_dims == 2 and dims[0] % 32 == 0:
            ttype, data = tensor_type, quantize(np.frombuffer(data, np.float16).astype(np.float32))
            quantized += 1
        out += struct.pack("<iii", n_dims, name_len, ttype) + struct.pack(f"<{n_dims}i", *dims) + name + data
    with open(dst, "wb") as f:
        f.write(out)
    print(f"{dst}: {quantized} tensors in {kind}")


if __name__ == "__main__":
    main()
