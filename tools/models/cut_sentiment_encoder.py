#!/usr/bin/env python3
"""Makes callscope's sentiment encoder from all-MiniLM-L6-v2 (int8 ONNX):
its first LAYERS transformer layers, with int8 matrix products.

- **A middle layer.** The sentiment head reads the mean of the third layer's
  token states, not the last layer's: all-MiniLM-L6-v2's last layers are
  trained for sentence similarity and wash out stance. On the train split of
  tools/eval/sentiment, out of fold, a head on layer 3 read 80 % of customer
  lines right, one on layer 6 73 % (docs/signals.md, "Which layer"). Half the
  layers is also half the time.
- **int8 products.** The source stores its weights as int8 with a scale and
  dequantizes them in the graph, so ONNX Runtime multiplies in float32. Here
  the weights are dequantized once (int8 x scale, exact in float32) and the
  weight products re-quantized per output channel (7 bits, below) for ONNX
  Runtime's dynamic int8 kernels (VNNI on CPUs that have it), about 2.5x faster
  at the same accuracy on that split. Products of two activations (attention)
  stay float32.

The output is named `last_hidden_state`, as the whole model's is. The result
is the same bytes on every machine for the same onnx, onnxruntime and numpy
(fetch_sentiment.sh pins its sha256).

Usage: cut_sentiment_encoder.py SOURCE.onnx LAYERS OUT.onnx
(needs numpy, onnx and onnxruntime: the converter venv of fetch_diarize.sh)
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


def main():
    logging.getLogger().setLevel(logging.ERROR)  # quantize_dynamic's advice on pre-processing
    source, layers, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    model = onnx.load(source)
    norms = [n.output[0] for n in model.graph.node if n.op_type == "LayerNormalization"]
    # One LayerNorm after the embeddings, then two per layer (attention, output).
    if len(norms) != 13:
        sys.exit(f"{source}: expected all-MiniLM-L6-v2 (13 LayerNorms), found {len(norms)}")
    if not 1 <= layers <= 6:
        sys.exit(f"LAYERS must be 1..6, not {layers}")
    cut = norms[2 * layers]
    with tempfile.TemporaryDirectory() as tmp:
        part_path, float_path = os.path.join(tmp, "part.onnx"), os.path.join(tmp, "float.onnx")
        utils.extract_model(source, part_path, [i.name for i in model.graph.input], [cut])
        part = onnx.load(part_path)
        part.graph.node.append(helper.make_node("Identity", [cut], ["last_hidden_state"], name="callscope_output"))
        part.graph.output[0].name = "last_hidden_state"
        n = fold_dequantization(part)
        onnx.save(part, float_path)
        inits = {i.name for i in part.graph.initializer}
        products = [x.name for x in part.graph.node if x.op_type == "MatMul" and x.input[1] in inits]
        # reduce_range: 7-bit weights, so that CPUs without VNNI (whose u8 x s8
        # kernel adds pairs in 16 bits and can saturate) compute the same
        # integers as CPUs with it.
        quantize_dynamic(float_path, out, weight_type=QuantType.QInt8, per_channel=True, reduce_range=True,
                         nodes_to_quantize=products)
    final = onnx.load(out)
    final.doc_string = (f"all-MiniLM-L6-v2, first {layers} of 6 layers, int8 weight products "
                        "(callscope tools/models/cut_sentiment_encoder.py)")
    onnx.checker.check_model(final)
    onnx.save(final, out)
    print(f"{out}: {layers} layers, {n} weights dequantized, {len(products)} products in int8", file=sys.stderr)


if __name__ == "__main__":
    main()
