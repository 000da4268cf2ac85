#!/usr/bin/env python3
"""Makes callscope's sentiment encoder from all-MiniLM-L6-v2 (int8 ONNX):
its first LAYERS transformer layers, with int8 matrix products, as a small
pre-fused graph.

- **A middle layer.** The sentiment head reads the mean of the third layer's
  token states, not the last layer's: all-MiniLM-L6-v2's last layers are
  trained for sentence similarity and wash out stance. On the train split of
  tools/eval/sentiment, out of fold, a head on layer 3 read 80 % of customer
  lines right, one on layer 6 73 % (docs/signals.md, "Which layer"). Half the
  layers is also half the time. The shipped model (the seventh) keeps two
  layers, the second fine-tuned: as many lines as three, two thirds of the
  time (docs/signals.md, "The seventh model: two layers").
- **int8 products.** The source stores its weights as int8 with a scale and
  dequantizes them in the graph, so ONNX Runtime multiplies in float32. Here
  the weights are dequantized once (int8 x scale, exact in float32) and the
  weight products re-quantized per output channel (7 bits, below) for ONNX
  Runtime's dynamic int8 kernels (VNNI on CPUs that have it), about 2.5x faster
  at the same accuracy on that split. Products of two activations (attention)
  stay float32.
- **One fused node per step.** The source's layers are a PyTorch export: the
  attention is ~40 small nodes (reshapes, transposes, a boolean mask built
  with Where/GatherND) that ONNX Runtime does not fuse, and they took more time
  than the products. The layers are rebuilt here from the same weights with
  ONNX Runtime's CPU contrib ops: `Attention` (query, key and value in one
  product, then `QAttention` in int8), `DynamicQuantizeMatMul` with its bias,
  `BiasGelu` (exact erf GELU, as BERT's) and `Sum` + `LayerNormalization` for
  each residual. `Sum`, not `Add`: ONNX Runtime's own fusion turns Add +
  LayerNormalization into `SkipLayerNormalization`, whose CPU kernel (1.32) is
  slower than the two nodes (a quarter of the encoder's time, measured). The
  embeddings are the source's nodes as they are. Pooled outputs equal the
  unfused int8 graph's within 1e-6 (checked below); the encoder is ~1.7x
  faster (benches/README.md, "Customer sentiment").

The output is named `last_hidden_state`, as the whole model's is. The result
is the same bytes on every machine for the same onnx, onnxruntime and numpy
(fetch_sentiment.sh pins its sha256).

Usage: cut_sentiment_encoder.py SOURCE.onnx LAYERS OUT.onnx [LAST.npz]
(needs numpy, onnx and onnxruntime: the converter venv of fetch_diarize.sh).
LAST.npz, when given, replaces layers' weights with fine-tuned ones
(tools/eval/sentiment/finetune_layer3.py --export; its keys are
`layerN.ROLE`, ROLE one of layer_weights' roles, or bare roles for the last
layer); the int8 graph is then checked against the float32 graph of the
same weights instead of the source's.
"""

import logging
import os
import sys
import tempfile

import numpy as np
import onnx
from onnx import helper, numpy_helper, utils
from onnxruntime.quantization import QuantType, quantize_dynamic


def fold_dequantization(model):
    """Replaces `Mul(Cast(W_q), W_scale)` on int8 initializers by the float32
    product where a matrix product reads it (the embedding tables stay int8)."""
    inits = {i.name: i for i in model.graph.initializer}
    weights = {n.input[1] for n in model.graph.node if n.op_type == "MatMul"}
    casts = {}
    nodes, folded = [], []
    for n in model.graph.node:
        if n.op_type == "Cast" and n.input[0] in inits and inits[n.input[0]].data_type == onnx.TensorProto.INT8:
            casts[n.output[0]] = n.input[0]
        if n.op_type == "Mul" and n.input[0] in casts and n.input[1] in inits and n.output[0] in weights:
            q = numpy_helper.to_array(inits[casts[n.input[0]]]).astype(np.float32)
            scale = numpy_helper.to_array(inits[n.input[1]]).astype(np.float32)
            folded.append(numpy_helper.from_array((q * scale).astype(np.float32), n.output[0]))
            continue
        nodes.append(n)
    # Casts whose product was folded are no longer read.
    read = {i for n in nodes for i in n.input}
    nodes = [n for n in nodes if not (n.op_type == "Cast" and n.output[0] in casts and n.output[0] not in read)]
    used = {i for n in nodes for i in n.input}
    kept = [i for i in model.graph.initializer if i.name in used]
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    del model.graph.initializer[:]
    model.graph.initializer.extend(kept + folded)
    return len(folded)


def layer_weights(model, layers):
    """Each layer's weights by role, found by the named bias each product's
    output is added to (`inner.encoder.layer.{l}.attention.self.query.bias`, ...)."""
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    readers = {}
    for n in model.graph.node:
        for i in n.input:
            readers.setdefault(i, []).append(n)
    by_bias = {}
    for n in model.graph.node:
        if n.op_type == "MatMul" and n.input[1] in inits:
            (add,) = readers[n.output[0]]
            bias = [i for i in add.input if i in inits]
            if add.op_type != "Add" or len(bias) != 1:
                sys.exit(f"unexpected graph: {n.output[0]} is not a product plus a named bias")
            by_bias[bias[0]] = inits[n.input[1]]
    roles = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
             "o": "attention.output.dense", "w1": "intermediate.dense", "w2": "output.dense"}
    out = []
    for l in range(layers):
        p = f"inner.encoder.layer.{l}."
        w = {r: by_bias[f"{p}{name}.bias"] for r, name in roles.items()}
        w.update({f"{r}_bias": inits[f"{p}{name}.bias"] for r, name in roles.items()})
        for ln in ("attention.output.LayerNorm", "output.LayerNorm"):
            w[f"{ln}.weight"], w[f"{ln}.bias"] = inits[f"{p}{ln}.weight"], inits[f"{p}{ln}.bias"]
        out.append(w)
    return out


def fused_layers(embeddings, weights, epsilon):
    """The encoder layers on the embeddings' output `layer_norm`, as contrib
    ops (float32 weights; quantize_dynamic makes the products int8)."""
    g = embeddings.graph
    nodes = [helper.make_node("Cast", ["attention_mask"], ["mask_i32"], to=onnx.TensorProto.INT32)]

    def init(name, a):
        g.initializer.append(numpy_helper.from_array(a.astype(np.float32), name))
        return name

    x = "layer_norm"
    for l, w in enumerate(weights):
        L = f"layer{l}."
        qkv = init(L + "qkv", np.concatenate([w["q"], w["k"], w["v"]], axis=1))
        qkv_bias = init(L + "qkv_bias", np.concatenate([w["q_bias"], w["k_bias"], w["v_bias"]]))
        out = "last_hidden_state" if l == len(weights) - 1 else L + "out"
        nodes += [
            helper.make_node("Attention", [x, qkv, qkv_bias, "mask_i32"], [L + "context"],
                             domain="com.microsoft", num_heads=12, name=L + "attention"),
            helper.make_node("MatMul", [L + "context", init(L + "o", w["o"])], [L + "o_out"], name=L + "o"),
            helper.make_node("Add", [L + "o_out", init(L + "o_bias", w["o_bias"])], [L + "o_biased"]),
            helper.make_node("Sum", [L + "o_biased", x], [L + "residual1"]),
            helper.make_node("LayerNormalization", [L + "residual1",
                                                    init(L + "norm1.weight", w["attention.output.LayerNorm.weight"]),
                                                    init(L + "norm1.bias", w["attention.output.LayerNorm.bias"])],
                             [L + "h"], axis=-1, epsilon=epsilon),
            helper.make_node("MatMul", [L + "h", init(L + "w1", w["w1"])], [L + "w1_out"], name=L + "w1"),
            helper.make_node("BiasGelu", [L + "w1_out", init(L + "w1_bias", w["w1_bias"])], [L + "gelu"],
                             domain="com.microsoft"),
            helper.make_node("MatMul", [L + "gelu", init(L + "w2", w["w2"])], [L + "w2_out"], name=L + "w2"),
            helper.make_node("Add", [L + "w2_out", init(L + "w2_bias", w["w2_bias"])], [L + "w2_biased"]),
            helper.make_node("Sum", [L + "w2_biased", L + "h"], [L + "residual2"]),
            helper.make_node("LayerNormalization", [L + "residual2",
                                                    init(L + "norm2.weight", w["output.LayerNorm.weight"]),
                                                    init(L + "norm2.bias", w["output.LayerNorm.bias"])],
                             [out], axis=-1, epsilon=epsilon),
        ]
        x = out
    g.node.extend(nodes)
    del g.output[:]
    g.output.append(helper.make_tensor_value_info("last_hidden_state", onnx.TensorProto.FLOAT, ["batch", "tokens", 384]))
    embeddings.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return embeddings


def fuse_dynamic_products(model):
    """quantize_dynamic writes each int8 product as DynamicQuantizeLinear ->
    MatMulInteger -> Cast -> Mul(scales) [-> Add(bias)]; ONNX Runtime fuses
    that only at the level that also makes SkipLayerNormalization, so it is
    fused here: one `DynamicQuantizeMatMul` with the weight scales and bias."""
    nodes = list(model.graph.node)
    inits = {i.name for i in model.graph.initializer}
    producer = {o: n for n in nodes for o in n.output}
    readers = {}
    for n in nodes:
        for i in n.input:
            readers.setdefault(i, []).append(n)
    gone, fused = set(), {}
    for n in nodes:
        if n.op_type != "MatMulInteger":
            continue
        x_q, w_q, _, w_zero = n.input
        (cast,) = readers[n.output[0]]
        (scale,) = readers[cast.output[0]]
        scales = producer[[i for i in scale.input if i != cast.output[0]][0]]
        (w_scale,) = [i for i in scales.input if i in inits]
        inputs, y = [producer[x_q].input[0], w_q, w_scale, w_zero], scale.output[0]
        after = readers.get(y, [])
        if len(after) == 1 and after[0].op_type == "Add" and after[0].input[1] in inits:
            inputs.append(after[0].input[1])
            y = after[0].output[0]
            gone.add(id(after[0]))
        gone |= {id(n), id(cast), id(scale), id(scales)}
        fused[id(n)] = helper.make_node("DynamicQuantizeMatMul", inputs, [y], domain="com.microsoft", name=n.name)
    kept = [fused.get(id(n), n) for n in nodes if id(n) in fused or id(n) not in gone]
    read = {i for n in kept for i in n.input}
    kept = [n for n in kept if n.op_type != "DynamicQuantizeLinear" or any(o in read for o in n.output)]
    del model.graph.node[:]
    model.graph.node.extend(kept)
    return len(fused)


def replace_layers(weights, path):
    """Puts fine-tuned weights in place of the source's: keys `layerN.ROLE`
    (N from 1) replace layer N's, unprefixed keys (`ROLE`, an older export
    of the last layer alone) the last layer's. Every tuned layer must come
    whole."""
    tuned = {}
    with np.load(path) as f:
        for key in f.files:
            head, _, role = key.partition(".")
            if head.startswith("layer") and head[5:].isdigit():
                tuned.setdefault(int(head[5:]), {})[role] = f[key]
            else:
                tuned.setdefault(len(weights), {})[key] = f[key]
    for n, w in sorted(tuned.items()):
        if not 1 <= n <= len(weights):
            sys.exit(f"{path}: has layer {n}, the cut has layers 1..{len(weights)}")
        if set(w) != set(weights[n - 1]):
            sys.exit(f"{path}: layer {n}: expected the keys {sorted(weights[n - 1])}, found {sorted(w)}")
        for k, a in w.items():
            if a.shape != weights[n - 1][k].shape:
                sys.exit(f"{path}: layer {n}: {k} is {a.shape}, not {weights[n - 1][k].shape}")
            weights[n - 1][k] = a.astype(np.float32)


def pooled(path, ids, mask):
    import onnxruntime as ort

    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    h = session.run(["last_hidden_state"], {"input_ids": ids, "attention_mask": mask,
                                            "token_type_ids": np.zeros_like(ids)})[0]
    v = (h * mask[..., None]).sum(1)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def main():
    logging.getLogger().setLevel(logging.ERROR)  # quantize_dynamic's advice on pre-processing
    source, layers, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    last = sys.argv[4] if len(sys.argv) > 4 else None
    model = onnx.load(source)
    norms = [n for n in model.graph.node if n.op_type == "LayerNormalization"]
    # One LayerNorm after the embeddings, then two per layer (attention, output).
    if len(norms) != 13 or norms[0].output[0] != "layer_norm":
        sys.exit(f"{source}: expected all-MiniLM-L6-v2 (13 LayerNorms), found {len(norms)}")
    if not 1 <= layers <= 6:
        sys.exit(f"LAYERS must be 1..6, not {layers}")
    (epsilon,) = [a.f for a in norms[0].attribute if a.name == "epsilon"]
    inputs = [i.name for i in model.graph.input]
    with tempfile.TemporaryDirectory() as tmp:
        part_path, float_path = os.path.join(tmp, "part.onnx"), os.path.join(tmp, "float.onnx")
        emb_path, fused_path = os.path.join(tmp, "embeddings.onnx"), os.path.join(tmp, "fused.onnx")
        quant_path = os.path.join(tmp, "quantized.onnx")
        # The source's first LAYERS layers, float32 weights: the reference.
        utils.extract_model(source, part_path, inputs, [norms[2 * layers].output[0]])
        part = onnx.load(part_path)
        if part.graph.output[0].name != "last_hidden_state":  # (it is, cut after the sixth layer)
            part.graph.node.append(helper.make_node("Identity", [part.graph.output[0].name], ["last_hidden_state"]))
            part.graph.output[0].name = "last_hidden_state"
        n = fold_dequantization(part)
        onnx.save(part, float_path)
        weights = layer_weights(part, layers)
        if last:
            replace_layers(weights, last)
        # The embeddings as they are, then the layers rebuilt.
        utils.extract_model(float_path, emb_path, inputs, ["layer_norm"])
        embeddings = onnx.load(emb_path)
        if [i.name for i in embeddings.graph.input] != inputs:
            sys.exit(f"unexpected graph: the embeddings do not read all of {inputs}")
        onnx.save(fused_layers(embeddings, weights, epsilon), fused_path)
        # reduce_range: 7-bit weights, so that CPUs without VNNI (whose u8 x s8
        # kernel adds pairs in 16 bits and can saturate) compute the same
        # integers as CPUs with it.
        quantize_dynamic(fused_path, quant_path, weight_type=QuantType.QInt8, per_channel=True, reduce_range=True,
                         op_types_to_quantize=["MatMul", "Attention"],
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
        final = onnx.load(quant_path)
        products = fuse_dynamic_products(final)
        final.doc_string = (f"all-MiniLM-L6-v2, first {layers} of 6 layers, int8 weight products, fused "
                            "(callscope tools/models/cut_sentiment_encoder.py)")
        onnx.checker.check_model(final)
        onnx.save(final, out)
        # The rebuilt graph must compute what the source's layers compute.
        rng = np.random.default_rng(0)
        ids = rng.integers(1000, 30000, (8, 24))
        mask = (np.arange(24)[None, :] < rng.integers(4, 25, (8, 1))).astype(np.int64)
        reference = fused_path if last else float_path
        cos = (pooled(out, ids, mask) * pooled(reference, ids, mask)).sum(1)
        if cos.min() < 0.98:
            sys.exit(f"the fused int8 encoder drifted from the source's layers (cosine {cos.min():.4f})")
    print(f"{out}: {layers} layers, {n} weights dequantized, {products} int8 products and {layers} int8 "
          f"attentions, pooled cosine to float32 {cos.min():.4f}", file=sys.stderr)


if __name__ == "__main__":
    main()
