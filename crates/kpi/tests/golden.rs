//! Golden cases: `tests/golden/<case>/input.json` → `expected.json`.
//!
//! The synthetic cases each isolate one rule of the v1 definitions (see each
//! case's `note`); their expected values come from an independent Python
//! implementation (`tools/kpi_v1_ref.py`, regenerate with
//! `tools/make_kpi_golden.py`). The `dev-*` cases are the sample calls of the
//! eval set with the values of the held-out reference implementation. Values must
//! match exactly: the definitions are arithmetic on the input, in a fixed order.

use std::path::Path;

use callscope_model::Transcript;
use serde_json::Value;

#[test]
fn golden_cases_match_exactly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut cases: Vec<_> = std::fs::read_dir(&root)
        .expect("tests/golden exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 12, "expected at least 12 golden cases, found {}", cases.len());

    let mut failures = Vec::new();
    for case in &cases {
        let name = case.file_name().and_then(|n| n.to_str()).unwrap_or("?").to_owned();
        let input = std::fs::read(case.join("input.json")).expect("input.json");
        let expected: Value =
            serde_json::from_slice(&std::fs::read(case.join("expected.json")).expect("expected.json"))
                .expect("expected.json is JSON");
        let transcript = Transcript::from_json_slice(&input)
            .unwrap_or_else(|e| panic!("{name}: input.json is not a valid transcript: {e}"));
        let actual = serde_json::to_value(callscope_kpi::report(&transcript)).expect("serializable");

        for key in ["call_id", "kpi_version"] {
            if actual[key] != expected[key] {
                failures.push(format!("{name}: {key}: got {}, want {}", actual[key], expected[key]));
            }
        }
        let want = expected["kpis"].as_object().expect("expected.kpis is an object");
        assert!(!want.is_empty(), "{name}: expected.kpis is empty");
        for (key, want) in want {
            let got = &actual["kpis"][key];
            if got != want {
                failures.push(format!("{name}: kpis.{key}: got {got}, want {want}"));
            }
        }
    }
    assert!(failures.is_empty(), "{} mismatch(es):\n{}", failures.len(), failures.join("\n"));
}
