#!/usr/bin/env python3
"""How often do two annotators agree on the calls #19's targets are judged on?
(README.md, "How often do two annotators agree?")

  agreement.py blind BLIND_DIR KEY.json
      Writes BLIND_DIR/calls.jsonl: eval-dev and the test splits `test`,
      test-8 and test-9 with each line's role and text only (no label, no
      scenario, no call id, no set), the calls shuffled (seed 20261206) under
      opaque ids b001...; customer lines numbered from 1. KEY.json maps the ids
      back to the calls and holds the original labels: keep it where the
      annotators cannot read it.

  agreement.py blind --train BLIND_DIR KEY.json
      The same for the train splits' 308 calls (choose.CALLS; needs numpy).

  agreement.py score KEY.json DUMP.jsonl LABELS.jsonl...
      Agreement between the original labels (A) and each LABELS file (B, C,
      ...; one line per call: {"id", "call_label", "line_labels", "arguable"}),
      and between the LABELS files, as the share of calls and of customer
      lines and as Cohen's kappa; then each model's labels against
      each annotator and against the majority of all of them (a call or line
      with no majority takes A's label), for each model in the dump (the
      neural model and the lexicon). DUMP.jsonl is what
      `SENTIMENT_DUMP=DUMP.jsonl cargo test --release -p callscope-signals
      --test sentiment_eval` writes (it appends: start from an empty file).

  agreement.py gold
      The shipped call rule (choose.call_label) fed with the original line
      labels (+1, 0, -1) instead of a model's scores: how many calls a perfect
      line reader would get right with it, on the train splits and on each
      test split. Needs numpy (choose.py imports it).

Standard library only, but for `gold`. Nothing here changes a label: the
targets stay judged on the original ones.
"""

import json
import os
import random
import re
import sys
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
# eval-dev sits beside the repository (../shared/eval-dev), or where EVAL_DEV says.
DIALOGUES = os.path.join(os.environ.get("EVAL_DEV") or os.path.join(HERE, "..", "..", "..", "..", "shared", "eval-dev"),
                         "dialogues.json")
LABELS = ("positive", "neutral", "negative")
# The test splits read here and the files that hold them (as sentiment_eval names them).
SPLITS = [("test", ["calls.jsonl"]), ("test-8", ["calls-10a.jsonl", "calls-10b.jsonl", "calls-10c.jsonl"]),
          ("test-9", ["calls-12a.jsonl", "calls-12b.jsonl", "calls-12c.jsonl"])]
SETS = ["eval-dev", "test", "test-8", "test-9", "train"]


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def sentiment_set(name, paths, split):
    """The calls of `split` in our sentiment set's files, as {set: name,
    call_id, call_label, lines: [{role, text, label}]} (seller lines' label None)."""
    return [{"set": name, "call_id": c["call_id"], "call_label": c["call_label"],
             "lines": [{"role": x["role"], "text": x["text"], "label": x.get("label")} for x in c["lines"]]}
            for p in paths for c in read_jsonl(p) if c["split"] == split]


def test_calls():
    """The test splits' calls, as sentiment_set gives them: (split name, calls) each."""
    return [(name, sentiment_set(name, [os.path.join(HERE, f) for f in files], "test")) for name, files in SPLITS]


def source_calls(dialogues):
    """Every call to label: the test splits' and eval-dev's, in sentiment_set's form."""
    calls = [c for _, cs in test_calls() for c in cs]
    with open(dialogues, encoding="utf-8") as f:
        dev = json.load(f)
    for c in dev["calls"]:
        roles = {k: v["role"] for k, v in c["speakers"].items()}
        calls.append({"set": "eval-dev", "call_id": c["call_id"], "call_label": c["customer_sentiment"],
                      "lines": [{"role": roles[x["speaker"]], "text": x["text"],
                                 "label": x["sentiment"] if roles[x["speaker"]] == "customer" else None}
                                for x in c["lines"]]})
    return calls


def train_calls():
    """The train splits' calls (choose.CALLS), in sentiment_set's form."""
    sys.path.insert(0, HERE)
    import choose  # noqa: E402 (numpy, onnxruntime)

    return sentiment_set("train", choose.CALLS, "train")


def blind(out_dir, key_path, train=False, dialogues=DIALOGUES):
    calls = train_calls() if train else source_calls(dialogues)
    random.Random(20261206).shuffle(calls)
    os.makedirs(out_dir, exist_ok=True)
    key = []
    with open(os.path.join(out_dir, "calls.jsonl"), "w", encoding="utf-8") as out:
        for i, c in enumerate(calls):
            bid = f"b{i + 1:03d}"
            lines, n = [], 0
            for x in c["lines"]:
                if x["role"] == "customer":
                    n += 1
                    lines.append({"role": "customer", "n": n, "text": x["text"]})
                else:
                    lines.append({"role": "seller", "text": x["text"]})
            out.write(json.dumps({"id": bid, "lines": lines}) + "\n")
            key.append({"id": bid, "set": c["set"], "call_id": c["call_id"], "call_label": c["call_label"],
                        "line_labels": [x["label"] for x in c["lines"] if x["role"] == "customer"]})
    with open(key_path, "w", encoding="utf-8") as f:
        json.dump(key, f, indent=0)
    print(f"{len(calls)} calls {dict(Counter(c['set'] for c in calls))}, "
          f"{sum(len(k['line_labels']) for k in key)} customer lines")


def kappa(pairs):
    """Cohen's kappa of (a, b) label pairs."""
    n = len(pairs)
    if n == 0:
        return float("nan")
    observed = sum(a == b for a, b in pairs) / n
    ca, cb = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    expected = sum(ca[k] * cb[k] for k in LABELS) / (n * n)
    return (observed - expected) / (1 - expected) if expected < 1 else float("nan")


def fmt(pairs):
    if not pairs:
        return "—"
    right = sum(a == b for a, b in pairs)
    return f"{right}/{len(pairs)} = {100 * right / len(pairs):.1f} % (κ {kappa(pairs):.2f})"


def majority(labels):
    """The label most of `labels` give; the first's where none has a majority."""
    top, count = Counter(labels).most_common(1)[0]
    return top if count * 2 > len(labels) else labels[0]


def score(key_path, dump_path, label_paths):
    with open(key_path, encoding="utf-8") as f:
        key = {k["id"]: k for k in json.load(f)}
    # A reader is named by its file (labels-D.jsonl: D), or B, C, ... in order.
    names = ["A"] + [m.group(1) if (m := re.fullmatch(r"labels-(\w+)\.jsonl", os.path.basename(path)))
                     else chr(ord("B") + i) for i, path in enumerate(label_paths)]
    # labels[name][id] = (call label, [line labels])
    labels = {"A": {i: (k["call_label"], k["line_labels"]) for i, k in key.items()}}
    arguable = {}
    for name, path in zip(names[1:], label_paths):
        rows = {r["id"]: r for r in read_jsonl(path)}
        missing = set(key) - set(rows)
        if missing:
            sys.exit(f"error: {path} has no label for {len(missing)} calls, e.g. {sorted(missing)[0]}")
        for i, r in rows.items():
            want = len(key[i]["line_labels"])
            if len(r["line_labels"]) != want or r["call_label"] not in LABELS \
                    or any(x not in LABELS for x in r["line_labels"]):
                sys.exit(f"error: {path}: call {i} has {len(r['line_labels'])} line labels "
                         f"(want {want}) or a label outside {LABELS}")
        labels[name] = {i: (r["call_label"], r["line_labels"]) for i, r in rows.items()}
        arguable[name] = {i for i, r in rows.items() if r.get("arguable")}
    models = {}
    by_call = {(k["set"], k["call_id"]): i for i, k in key.items()}
    for row in read_jsonl(dump_path):
        i = by_call.get((row["split"], row["call_id"]))
        if i is not None:
            models.setdefault(row["model"], {})[i] = (row["got"], row["lines"])
    for name, got in models.items():
        if len(got) != len(key):
            sys.exit(f"error: {dump_path} holds {len(got)} of the {len(key)} calls for {name}; "
                     "run sentiment_eval with SENTIMENT_DUMP into an empty file")
    if not models:
        sys.exit(f"error: {dump_path} holds none of the calls")
    labels["majority"] = {}
    for i in key:
        call = majority([labels[n][i][0] for n in names])
        lines = [majority([labels[n][i][1][j] for n in names]) for j in range(len(key[i]["line_labels"]))]
        labels["majority"][i] = (call, lines)
    labels.update(models)

    def pairs(x, y, ids, lines):
        out = []
        for i in ids:
            if lines:
                gx, gy = labels[x][i][1], labels[y][i][1]
                if len(gx) == len(gy):  # eval-dev: the model's lines are the truth file's turns
                    out.extend(zip(gx, gy))
            else:
                out.append((labels[x][i][0], labels[y][i][0]))
        return out

    sets = [x for x in SETS if any(k["set"] == x for k in key.values())]
    comparisons = [(x, y) for a, x in enumerate(names) for y in names[a + 1:]]
    comparisons += [(m, x) for m in models for x in names + ["majority"]]
    for what, lines in (("calls", False), ("customer lines", True)):
        print(f"\n{what}: share that agree (Cohen's κ)\n")
        print("| pair | " + " | ".join(sets) + " | all |")
        print("|---" * (len(sets) + 2) + "|")
        for x, y in comparisons:
            cells = [fmt(pairs(x, y, [i for i in key if key[i]["set"] == s], lines)) for s in sets]
            print(f"| {x}–{y} | " + " | ".join(cells) + f" | {fmt(pairs(x, y, list(key), lines))} |")
    print("\nmarked arguable:", {n: len(a) for n, a in arguable.items()})
    for m in models:
        print(f"\ncalls where {m} and A differ (A's label, the others' (* arguable), the model's):")
        for i in sorted(key, key=lambda i: (key[i]["set"], key[i]["call_id"])):
            if labels[m][i][0] != labels["A"][i][0]:
                others = " ".join(f"{n}={labels[n][i][0]}{'*' if i in arguable.get(n, ()) else ''}"
                                  for n in names[1:])
                print(f"  {key[i]['set']:8} {key[i]['call_id']:30} A={labels['A'][i][0]:8} {others}  "
                      f"model={labels[m][i][0]}")


def gold():
    sys.path.insert(0, HERE)
    import choose  # noqa: E402 (numpy, onnxruntime)

    value = {"positive": 1.0, "neutral": 0.0, "negative": -1.0}
    for name, calls in [("train", train_calls())] + test_calls():
        right = sum(LABELS[choose.call_label([(x["text"], value[x["label"]]) for x in c["lines"]
                                              if x["role"] == "customer"], *choose.SHIPPED)] == c["call_label"]
                    for c in calls)
        print(f"{name}: the shipped rule on the original line labels reads {right}/{len(calls)} calls right")


def main(argv):
    if len(argv) == 3 and argv[0] == "blind":
        blind(argv[1], argv[2])
    elif len(argv) == 4 and argv[:2] == ["blind", "--train"]:
        blind(argv[2], argv[3], train=True)
    elif len(argv) >= 4 and argv[0] == "score":
        score(argv[1], argv[2], argv[3:])
    elif argv == ["gold"]:
        gold()
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
