#!/usr/bin/env bash
# Cross-checks the Python Snowball Finnish stemmer (snowballstemmer, used by compare_stemmers.py)
# against the Rust crate rust-stemmers (the one callscope links) on every word of stemmer_words.tsv.
# Builds a throw-away crate in a temp folder (offline: rust-stemmers must be in the cargo cache,
# which it is once the workspace has been built).
#   PY=/path/to/venv/bin/python bash tools/eval/finnish/rust_stem_check.sh
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
PY=${PY:-python3}
VER=${RUST_STEMMERS_VERSION:-1.2.0}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/src"
cat > "$TMP/Cargo.toml" <<TOML
[package]
name = "stemcheck"
version = "0.0.0"
edition = "2021"
[dependencies]
rust-stemmers = "=$VER"
TOML
cat > "$TMP/src/main.rs" <<'RS'
use std::io::BufRead;
fn main() {
    let st = rust_stemmers::Stemmer::create(rust_stemmers::Algorithm::Finnish);
    for line in std::io::stdin().lock().lines() {
        let w = line.unwrap();
        println!("{}\t{}", w, st.stem(&w));
    }
}
RS
cargo build -q --offline -j 1 --manifest-path "$TMP/Cargo.toml"
grep -v '^#' "$HERE/stemmer_words.tsv" | cut -f2,3 | tr '\t' '\n' | "$PY" -c 'import sys; print("\n".join(sorted({l.strip().lower() for l in sys.stdin if l.strip()})))' \
  | "$TMP/target/debug/stemcheck" > "$TMP/rust.tsv"
"$PY" - "$TMP/rust.tsv" "$VER" <<'PY'
import sys
from importlib.metadata import version
import snowballstemmer
st = snowballstemmer.stemmer("finnish")
n = d = 0
for line in open(sys.argv[1], encoding="utf-8"):
    w, r = line.rstrip("\n").split("\t")
    n += 1
    p = st.stemWord(w)
    if p != r:
        d += 1
        print(f"differ: {w}: rust-stemmers {r!r}, snowballstemmer {p!r}")
print(f"{n} words, {d} differ (rust-stemmers {sys.argv[2]}, snowballstemmer {version('snowballstemmer')})")
PY
