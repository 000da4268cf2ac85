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
import struct, sys
import numpy as np
if len(sys.argv) != 4 or sys.argv[3] not in ('q4_0', 'q5_0', 'q8_0'):
    sys.exit(__doc__)
src, dst, kind = sys.argv[1:]
T = {'q4_0': (2, 2), 'q5_0': (6, 8), 'q8_0': (8, 7)}  # (ggml type, ftype)
ttype_q, ftype_q = T[kind]

def q4_0(rows):
    amax_idx = np.abs(rows).argmax(1); mx = rows[np.arange(len(rows)), amax_idx]
    d = mx / -8.0; idv = np.where(d != 0, 1.0 / np.where(d != 0, d, 1), 0)
    q = np.minimum(15, np.trunc(rows * idv[:, None] + 8.5)).astype(np.uint8)
    qs = (q[:, :16] | (q[:, 16:] << 4)).astype(np.uint8)
    b = np.empty(len(rows), dtype=[('d', '<f2'), ('qs', 'u1', 16)]); b['d'] = d.astype(np.float16); b['qs'] = qs
    return b.tobytes()

def q5_0(rows):
    amax_idx = np.abs(rows).argmax(1); mx = rows[np.arange(len(rows)), amax_idx]
    d = mx / -16.0; idv = np.where(d != 0, 1.0 / np.where(d != 0, d, 1), 0)
    q = np.minimum(31, np.trunc(rows * idv[:, None] + 16.5)).astype(np.uint32)
    lo, hi = q[:, :16], q[:, 16:]
    qs = ((lo & 0x0F) | ((hi & 0x0F) << 4)).astype(np.uint8)
    bits = np.arange(16, dtype=np.uint32)
    qh = (((lo & 0x10) >> 4) << bits).sum(1) | (((hi & 0x10) >> 4) << (bits + 16)).sum(1)
    b = np.empty(len(rows), dtype=[('d', '<f2'), ('qh', '<u4'), ('qs', 'u1', 16)]); b['d'] = d.astype(np.float16); b['qh'] = qh.astype(np.uint32); b['qs'] = qs
    return b.tobytes()

def q8_0(rows):
    d = np.abs(rows).max(1) / 127.0; inv = np.where(d > 0, 1.0 / np.where(d > 0, d, 1), 0)
    q = np.clip(np.rint(rows * inv[:, None]), -127, 127).astype(np.int8)
    b = np.empty(len(rows), dtype=[('d', '<f2'), ('qs', 'i1', 32)]); b['d'] = d.astype(np.float16); b['qs'] = q
    return b.tobytes()
Q = {'q4_0': q4_0, 'q5_0': q5_0, 'q8_0': q8_0}[kind]
buf = open(src, 'rb').read(); o = 0
def take(n):
    global o; r = buf[o:o+n]; o += n; return r
out = bytearray()
out += take(4)
hp = list(struct.unpack('<11i', take(44)))
if hp[10] % 1000 != 1:
    sys.exit(f'{src}: not an f16 ggml file (ftype {hp[10]})')
hp[10] = 2 * 1000 + ftype_q; out += struct.pack('<11i', *hp)
nm, nf = struct.unpack('<ii', take(8)); out += struct.pack('<ii', nm, nf) + take(4 * nm * nf)
nv = struct.unpack('<i', take(4))[0]; out += struct.pack('<i', nv)
for _ in range(nv):
    l = struct.unpack('<i', take(4))[0]; out += struct.pack('<i', l) + take(l)
nq = 0
while o < len(buf):
    nd, ln, tt = struct.unpack('<iii', take(12)); dims = struct.unpack('<' + 'i' * nd, take(4 * nd)); name = take(ln)
    n = int(np.prod(dims)); data = take(n * (4 if tt == 0 else 2))
    if tt == 1 and nd == 2 and dims[0] % 32 == 0:
        rows = np.frombuffer(data, np.float16).astype(np.float32).reshape(-1, 32)
        out += struct.pack('<iii', nd, ln, ttype_q) + struct.pack('<' + 'i' * nd, *dims) + name + Q(rows); nq += 1
    else:
        out += struct.pack('<iii', nd, ln, tt) + struct.pack('<' + 'i' * nd, *dims) + name + data
open(dst, 'wb').write(out); print(dst, nq, 'tensors quantized')
