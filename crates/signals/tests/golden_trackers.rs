//! Golden test of the tricky tracker matches: `tests/golden/{trackers.toml,
//! transcript.json}` → `expected_mentions.json` (written by hand; each entry
//! says which rule it exercises).

use std::path::Path;

use callscope_model::Transcript;
use callscope_signals::{TrackerMatcher, Trackers};
use serde_json::Value;

#[test]
fn tricky_matches() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let (trackers, warnings) =
        Trackers::from_toml_str(&std::fs::read_to_string(dir.join("trackers.toml")).expect("trackers"))
            .expect("valid");
    assert!(warnings.is_empty(), "{warnings:?}");
    let (matcher, warnings) = TrackerMatcher::new(&trackers);
    assert!(warnings.is_empty(), "{warnings:?}");
    let transcript =
        Transcript::from_json_slice(&std::fs::read(dir.join("transcript.json")).expect("transcript"))
            .expect("valid");
    let expected: Value =
        serde_json::from_slice(&std::fs::read(dir.join("expected_mentions.json")).expect("expected"))
            .expect("json");

    let words = callscope_kpi::sorted_words(&transcript);
    let got: Vec<(String, String, String)> = matcher
        .find(&transcript, &words, 4)
        .into_iter()
        .map(|m| (m.term, m.matched, m.role.as_str().to_owned()))
        .collect();
    let want: Vec<(String, String, String)> = expected["mentions"]
        .as_array()
        .expect("mentions")
        .iter()
        .map(|m| {
            let s = |k: &str| m[k].as_str().expect("string").to_owned();
            (s("term"), s("matched"), s("role"))
        })
        .collect();
    assert_eq!(got, want);
}
