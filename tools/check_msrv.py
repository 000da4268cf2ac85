#!/usr/bin/env python3
"""Checks that the workspace's `rust-version` (Cargo.toml) is at least the
`rust-version` every locked dependency declares (from `cargo metadata`), so the
declared minimum is not a promise the dependencies break. Run by .ci/run.

What it cannot see: a newer language or library feature used by callscope's own
code; that needs a build with the old toolchain, which CI does not install.
"""
import json
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def version(v):
    return tuple(int(x) for x in v.split("."))


def main():
    declared = tomllib.load(open(ROOT / "Cargo.toml", "rb"))["workspace"]["package"]["rust-version"]
    meta = json.loads(subprocess.run(["cargo", "metadata", "--format-version", "1", "--locked"], cwd=ROOT,
                                     capture_output=True, text=True, check=True).stdout)
    workspace = set(meta["workspace_members"])
    needs = sorted(((version(p["rust_version"]), p["name"], p["version"]) for p in meta["packages"]
                    if p.get("rust_version") and p["id"] not in workspace), reverse=True)
    top = [n for n in needs if n[0] == needs[0][0]]
    print(f"rust-version {declared}; locked dependencies need at least "
          f"{'.'.join(map(str, needs[0][0]))} ({', '.join(f'{n} {v}' for _, n, v in top)})")
    if version(declared) < needs[0][0]:
        print(f"FAIL: rust-version {declared} in Cargo.toml is below what the dependencies need")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
