#!/usr/bin/env python3
"""compare_stemmers.py: which way of reducing Finnish words matches a tracker's base form?

Reads stemmer_words.tsv (kind, base, form, label): inflected forms of the Finnish tracker terms of
tests/eval-fi (foreign brand names and native nouns, in the common cases, plurals, possessive
suffixes and clitics) and distractors (words that share letters with a term but are not a mention of
it). For every method it counts the forms that reduce to the same key as their base form (recall)
and the distractors that do (false matches), separately for brands and native nouns.

Methods:
  snowball     Snowball Finnish stemmer (PyPI snowballstemmer; the same algorithm as the Rust crate
               rust-stemmers): stem(form) == stem(base), both lower-cased
  voikko       Voikko morphological analysis (libvoikko + voikko-fi): base is one of the form's
               BASEFORMs (or shares one with the base's own analysis); unknown words give nothing
  suffix       base + optional connecting vowel (i/e) + one ending from a closed list of Finnish case,
               plural, possessive and clitic endings (ENDINGS below)
  suffix+alt   suffix, also from the base's alternative stems: -us/-ys/-os/-is -> -ukse/-uks (sopimus ->
               sopimuksen), a final vowel dropped, and the last geminate stop single (budjetti ->
               budjetin, käyttöönotto -> käyttöönoton)
  snowball|suffix+alt, voikko|suffix+alt  either of the two

    $PY tools/eval/finnish/compare_stemmers.py [--markdown] [--details] [--eval-set tests/eval-fi]

With --eval-set it also runs a tracker matcher built on each method over the reference transcripts of
the set (truth.json turns) with the set's trackers.toml, and scores the mentions against
expected_mentions (same canonical term and same start time): precision and recall per method.
"""
import glob
import json
import re
import itertools
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

CASES = ["", "n", "a", "ä", "ta", "tä", "ssa", "ssä", "sta", "stä", "lla", "llä", "lta", "ltä", "lle", "na", "nä",
         "ksi", "tta", "ttä", "ne", "en", "in", "an", "on", "un", "yn", "än", "ön", "seen", "siin", "hin", "han", "hen",
         "hon", "t", "ja", "jä", "ita", "itä", "issa", "issä", "ista", "istä", "iin", "ihin", "illa", "illä", "ilta",
         "iltä", "ille", "ina", "inä", "iksi", "ine", "den", "iden", "jen", "ien"]
POSSESSIVES = ["", "ni", "si", "mme", "nne", "nsa", "nsä", "an", "en", "än"]
CLITICS = ["", "kin", "ko", "kö", "kaan", "kään", "han", "hän", "pa", "pä", "kos", "kös"]
ENDINGS = {c + p + k for c, p, k in itertools.product(CASES, POSSESSIVES, CLITICS)}
CONNECTING = ["", "i", "e"]


def load():
    rows = []
    for line in open(os.path.join(HERE, "stemmer_words.tsv"), encoding="utf-8"):
        if line.startswith("#") or not line.strip():
            continue
        kind, base, form, label = line.rstrip("\n").split("\t")
        rows.append((kind, base, form, label))
    return rows


def suffix_match(base, form, stems):
    f = form.lower()
    for s in stems:
        if not f.startswith(s):
            continue
        rest = f[len(s):]
        for c in CONNECTING:
            if rest.startswith(c) and rest[len(c):] in ENDINGS:
                return True
    return False


def alt_stems(base):
    b = base.lower()
    out = {b}
    if b[-2:] in ("us", "ys", "os", "ös", "is"):
        out |= {b[:-1] + "ks", b[:-1] + "kse"}
    if b[-1] in "aeiouyäö":
        out.add(b[:-1])
    for s in list(out):
        for g in ("kk", "pp", "tt"):
            k = s.rfind(g)
            if k >= 0 and k >= len(s) - 4:
                out.add(s[:k] + g[0] + s[k + 2:])
    return out


def main():
    import snowballstemmer
    rows = load()
    sb = snowballstemmer.stemmer("finnish")
    try:
        import libvoikko
        vk = libvoikko.Voikko("fi")
        vversion = libvoikko.Voikko.getVersion()
    except Exception as e:   # no libvoikko / voikko-fi: the column is left out
        print(f"voikko unavailable: {e}", file=sys.stderr)
        vk, vversion = None, None

    def vkeys(w):
        return {a.get("BASEFORM", "").lower() for a in vk.analyze(w)} - {""}

    methods = {
        "snowball": lambda b, f: sb.stemWord(f.lower()) == sb.stemWord(b.lower()),
        "suffix": lambda b, f: suffix_match(b, f, [b.lower()]),
        "suffix+alt": lambda b, f: suffix_match(b, f, alt_stems(b)),
    }
    if vk:
        methods["voikko"] = lambda b, f: bool(vkeys(f) & ({b.lower()} | vkeys(b)))
    methods["snowball|suffix+alt"] = lambda b, f: methods["snowball"](b, f) or methods["suffix+alt"](b, f)
    if vk:
        methods["voikko|suffix+alt"] = lambda b, f: methods["voikko"](b, f) or methods["suffix+alt"](b, f)
    order = ["snowball", "voikko", "suffix", "suffix+alt", "snowball|suffix+alt", "voikko|suffix+alt"]
    order = [m for m in order if m in methods]

    kinds = ["brand", "native", "brand-heldout", "native-heldout", "distractor"]
    res = {m: {k: [0, 0] for k in kinds} for m in order}
    misses = {m: [] for m in order}
    for kind, base, form, label in rows:
        for m in order:
            hit = methods[m](base, form)
            res[m][kind][0] += hit
            res[m][kind][1] += 1
            if (hit and kind == "distractor") or (not hit and kind != "distractor"):
                misses[m].append(f"{form} ({base}, {label})")

    md = "--markdown" in sys.argv
    n = {k: sum(1 for r in rows if r[0] == k) for k in kinds}
    if md:
        print(f"| method | tracker brands ({n['brand']}) | tracker nouns ({n['native']}) | all tracker forms "
              f"({n['brand'] + n['native']}) | held-out brands ({n['brand-heldout']}) | held-out nouns "
              f"({n['native-heldout']}) | false matches ({n['distractor']} distractors) |")
        print("|---|---|---|---|---|---|---|")
    for m in order:
        r = res[m]
        tot = r["brand"][0] + r["native"][0], r["brand"][1] + r["native"][1]
        pct = lambda a, b: f"{a}/{b} ({100 * a / b:.1f} %)"
        cells = [pct(*r["brand"]), pct(*r["native"]), pct(*tot), pct(*r["brand-heldout"]), pct(*r["native-heldout"]),
                 f"{r['distractor'][0]}/{r['distractor'][1]}"]
        print(f"| {m} | " + " | ".join(cells) + " |" if md else f"{m:22s} " + "  ".join(cells))
    print()
    from importlib.metadata import version
    print(f"snowballstemmer {version('snowballstemmer')}; libvoikko {vversion} (Python binding {version('libvoikko')})")
    if "--details" in sys.argv:
        for m in order:
            print(f"\n{m}: {len(misses[m])} wrong: " + ", ".join(misses[m]))
    if "--eval-set" in sys.argv:
        eval_set(sys.argv[sys.argv.index("--eval-set") + 1], methods, order, md)
    if vk:
        vk.terminate()


def norm(t):
    return t.lower().strip(".,?!;:\"()[]{}“”‘’")


def eval_set(root, methods, order, md):
    import tomllib
    tr = tomllib.load(open(os.path.join(root, "trackers.toml"), "rb"))
    terms = []                                        # (words of the name or alias, canonical)
    for cat in ("competitor", "keyword"):
        for t in tr.get(cat, []):
            for a in [t["name"]] + t.get("aliases", []):
                terms.append(([norm(w) for w in a.split()], t["name"]))
    terms.sort(key=lambda x: -len(x[0]))
    truth = {}
    turns = []
    for f in sorted(glob.glob(os.path.join(root, "calls", "*", "truth.json"))):
        t = json.load(open(f))
        truth[t["call_id"]] = {(m["canonical"], round(m["start"], 3)) for m in t["expected_mentions"]}
        turns += [(t["call_id"], x["words_abs"]) for x in t["turns"]]
    if md:
        print("\n| method | mentions found | correct | precision | recall |\n|---|---|---|---|---|")
    for m in order:
        found = {cid: set() for cid in truth}
        for cid, words in turns:
            toks = [norm(w[0]) for w in words]
            i = 0
            while i < len(toks):
                hit = None
                for ws, canon in terms:
                    n = len(ws)
                    if i + n <= len(toks) and toks[i:i + n - 1] == ws[:-1] and \
                            (toks[i + n - 1] == ws[-1] or (re.search(r"\w", toks[i + n - 1]) and
                                                          methods[m](ws[-1], toks[i + n - 1]))):
                        hit = (n, canon)
                        break
                if hit:
                    found[cid].add((hit[1], round(words[i][1], 3)))
                    i += hit[0]
                else:
                    i += 1
        nf = sum(len(v) for v in found.values())
        nt = sum(len(v) for v in truth.values())
        ok = sum(len(found[c] & truth[c]) for c in truth)
        p, r = ok / nf if nf else 0.0, ok / nt
        print(f"| {m} | {nf} | {ok} | {p:.3f} | {r:.3f} |" if md else f"{m:22s} found {nf} correct {ok} of {nt}: P {p:.3f} R {r:.3f}")


if __name__ == "__main__":
    main()
