#!/usr/bin/env python3
"""Nested out-of-fold check of a learned call aggregator against the shipped
call rule (README.md, "A learned call aggregator, measured").

The shipped rule labels a call from one number, the recency-weighted mean of
its customer lines' scores, and two thresholds. This fits, instead, a small
three-class logistic regression over a few named features of the same line
scores (aggregator_features) and checks it nested over choose.py's five
folds: for each fold it is fitted on the other four folds' calls and scores
the held-out fold's calls; the sum is compared with the shipped rule on the
same out-of-fold line probabilities. No test split is read.

Usage (numpy, e.g. the venv of finetune_layer3.py):
  aggregator_nested.py OOF.npz [OOF.npz ...]
OOF.npz: written by finetune_layer3.py (OOF=...) over choose.CALLS (no EXTRA);
its `tuned` probabilities are used.
"""

import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "models"))
import choose as ch  # noqa: E402
import train_sentiment_head as t  # noqa: E402

L2 = 1.0  # fixed before the run; not tuned


def aggregator_features(turns):
    """The call's nine features from its customer turns [(text, p_pos, p_neu,
    p_neg)], over the turns the shipped rule reads, with its weights
    (choose.used_turns, choose.turn_weights)."""
    used = ch.used_turns(turns)
    score = np.array([p - q for _, p, _, q in used])
    label = np.array([int(np.argmax((p, u, q))) for _, p, u, q in used])
    weighted = np.array(ch.turn_weights(used, ch.SHIPPED[0]))
    plain = np.array(ch.turn_weights(used, 0.0))
    return np.array([
        np.sum(weighted * score) / np.sum(weighted),  # the rule's score
        np.sum(plain * score) / np.sum(plain),  # the mean, no recency
        score[-1],  # the last turn's
        score.max(),
        score.min(),
        np.mean(label == 0),  # the share of turns read positive
        np.mean(label == 2),  # the share read negative
        float(score.max() > 0.5 and score.min() < -0.5),  # a strong positive and a strong negative both
        np.log(len(used)),
    ])


def fit(x, y):
    """Multinomial logistic regression, features standardized, L2 on the
    weights, full-batch gradient descent (deterministic)."""
    mu, sd = x.mean(0), x.std(0) + 1e-9
    z = (x - mu) / sd
    w = np.zeros((z.shape[1], 3))
    b = np.zeros(3)
    onehot = np.eye(3)[y]
    for _ in range(3000):
        logits = z @ w + b
        p = np.exp(logits - logits.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        g = p - onehot
        w -= 0.1 * (z.T @ g / len(z) + L2 * w / len(z))
        b -= 0.1 * g.mean(0)
    return mu, sd, w, b


def predict(model, x):
    mu, sd, w, b = model
    return np.argmax(((x - mu) / sd) @ w + b, axis=1)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    lines, truth, fold = ch.folds(t.training_calls(ch.CALLS, False))
    fold_of = {x[2]: k for x, k in zip(lines, fold)}
    for path in sys.argv[1:]:
        d = np.load(path)
        prob = d["tuned"]
        if len(lines) != len(prob) or any(str(c) != x[2] for c, x in zip(d["calls"], lines)):
            sys.exit(f"{path} does not hold choose.CALLS' lines in order (a run with EXTRA, or older CALLS?)")
        turns = {}
        for (text, _, c, _, _), p in zip(lines, prob):
            turns.setdefault(c, []).append((text, p[0], p[1], p[2]))
        calls = sorted(turns)
        x = np.array([aggregator_features(turns[c]) for c in calls])
        y = np.array([truth[c] for c in calls])
        k_of = np.array([fold_of[c] for c in calls])
        shipped = sum(ch.call_label([(s, p - q) for s, p, _, q in turns[c]], *ch.SHIPPED) == truth[c] for c in calls)
        nested = np.zeros(len(calls), dtype=int)
        for k in range(5):
            model = fit(x[k_of != k], y[k_of != k])
            nested[k_of == k] = predict(model, x[k_of == k])
        right = int(np.sum(nested == y))
        conf = np.zeros((3, 3), dtype=int)
        for a, b in zip(y, nested):
            conf[a, b] += 1
        print(f"{os.path.basename(path)}: lines {np.mean(prob.argmax(1) == d['y']):.3f}; {len(calls)} calls: "
              f"the shipped rule {ch.SHIPPED} {shipped} = {shipped / len(calls):.3f}; the aggregator, nested, "
              f"{right} = {right / len(calls):.3f} ({right - shipped:+d}); its confusion (rows truth, "
              f"positive/neutral/negative): {conf.tolist()}")


if __name__ == "__main__":
    main()
