#!/usr/bin/env python3
"""Checks the JSON Schemas in schemas/ against the files that must (and must not) match.

- every sample transcript and every KPI golden input is valid against
  schemas/transcript.schema.json;
- transcripts the Rust parser rejects for shape reasons (an unknown role, a missing
  `words`, a negative time) are rejected by the schema too.
Run by .ci/run; needs the `jsonschema` package.
"""
import glob
import json
import os
import sys

import jsonschema

ROOT = os.path.join(os.path.dirname(__file__), "..")


def main():
    schema = json.load(open(os.path.join(ROOT, "schemas", "transcript.schema.json")))
    jsonschema.Draft202012Validator.check_schema(schema)
    v = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    good = sorted([p for p in glob.glob(os.path.join(ROOT, "samples", "transcripts", "*.json"))
                   if not p.endswith(".meta.json")]
                  + glob.glob(os.path.join(ROOT, "crates", "kpi", "tests", "golden", "*", "input.json")))
    failures = 0
    for path in good:
        errors = list(v.iter_errors(json.load(open(path))))
        for e in errors:
            print(f"{path}: {e.json_path}: {e.message}")
        failures += bool(errors)
    bad = {
        "unknown role": {"speakers": {"a": "agent"}, "words": []},
        "missing words": {"speakers": {}},
        "negative time": {"speakers": {"a": "seller"},
                          "words": [{"text": "x", "start": -1, "end": 1, "speaker": "a"}]},
        "word without speaker": {"speakers": {}, "words": [{"text": "x", "start": 0, "end": 1}]},
    }
    for name, doc in bad.items():
        if v.is_valid(doc):
            print(f"schema accepts a bad transcript: {name}")
            failures += 1
    failures += check_events(schema)
    print(f"schemas: {len(good)} valid files checked, {len(bad)} invalid ones rejected, {failures} failure(s)")
    return 1 if failures else 0


def check_events(transcript_schema):
    """The call-recorded event schema: sample events pass, known-bad ones fail."""
    from referencing import Registry, Resource
    schema = json.load(open(os.path.join(ROOT, "schemas", "kafka", "call-recorded.schema.json")))
    jsonschema.Draft202012Validator.check_schema(schema)
    registry = Registry().with_resource(
        "https://callscope.dev/schemas/transcript.schema.json", Resource.from_contents(transcript_schema))
    v = jsonschema.Draft202012Validator(schema, registry=registry, format_checker=jsonschema.FormatChecker())
    failures = 0
    samples = sorted(glob.glob(os.path.join(ROOT, "samples", "events", "*.json")))
    for path in samples:
        for e in v.iter_errors(json.load(open(path))):
            print(f"{path}: {e.json_path}: {e.message}")
            failures += 1
    base = {"schema_version": 1, "call_id": "c", "seller_id": "s"}
    bad = {
        "neither audio nor transcript": dict(base),
        "both": dict(base, audio={"uri": "file:///a"}, transcript={"speakers": {}, "words": []}),
        "unknown version": dict(base, schema_version=2, audio={"uri": "file:///a"}),
        "unknown field": dict(base, colour=1, audio={"uri": "file:///a"}),
        "ftp uri": dict(base, audio={"uri": "ftp://x/y"}),
        "bad transcript": dict(base, transcript={"speakers": {"a": "agent"}, "words": []}),
    }
    for name, doc in bad.items():
        if v.is_valid(doc):
            print(f"event schema accepts a bad event: {name}")
            failures += 1
    print(f"event schema: {len(samples)} sample events valid, {len(bad)} invalid ones rejected")
    return failures


if __name__ == "__main__":
    sys.exit(main())
