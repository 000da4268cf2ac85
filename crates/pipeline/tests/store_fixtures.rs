//! The store's test fixtures (`crates/store/tests/data/<dev-id>.analysis.json`)
//! are what this pipeline makes of the dev transcripts
//! (`crates/signals/tests/dev/`, with its `trackers.toml`). The store tests
//! read them instead of running the analysis themselves, so the store depends
//! on the model alone; this test keeps them from drifting from the pipeline.
//!
//! After a deliberate change of the analysis, rewrite them with
//! `CALLSCOPE_BLESS=1 cargo test -p callscope-pipeline --test store_fixtures`
//! and review the diff.

use std::path::{Path, PathBuf};

use callscope_model::{CallAnalysis, CallMeta, Transcript};
use callscope_pipeline::Analyzer;
use callscope_signals::{SignalSettings, Trackers};

/// The dev transcripts the store tests use.
const DEV: &[&str] = &[
    "dev-01-crm-discovery",
    "dev-02-security-renewal-unhappy",
    "dev-03-logistics-negotiation",
    "dev-04-crm-followup-roofing",
    "dev-05-endpoint-expansion",
    "dev-06-freight-cold-call",
];

fn crates() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The analysis of one dev transcript, with fixed provenance (a release must
/// not change the fixtures) and no call metadata but its id (the store tests
/// set their own).
fn analysis(analyzer: &Analyzer, dev_id: &str) -> CallAnalysis {
    let path = crates().join(format!("signals/tests/dev/{dev_id}.transcript.json"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let transcript = Transcript::from_json_slice(&bytes).expect("valid dev transcript");
    let meta = CallMeta { call_id: dev_id.into(), ..CallMeta::default() };
    let mut analysis = analyzer.analyze_transcript(meta, transcript, None);
    analysis.provenance.pipeline_version = "test".into();
    analysis
}

#[test]
fn store_fixtures_are_what_the_pipeline_makes() {
    let toml = std::fs::read_to_string(crates().join("signals/tests/dev/trackers.toml")).expect("trackers");
    let (trackers, _) = Trackers::from_toml_str(&toml).expect("valid trackers");
    let analyzer = Analyzer::new(&trackers, SignalSettings::default());
    let bless = std::env::var("CALLSCOPE_BLESS").is_ok_and(|v| v == "1");
    let mut stale = Vec::new();
    for dev_id in DEV {
        let fresh = analysis(&analyzer, dev_id);
        let json = serde_json::to_string_pretty(&fresh).expect("json") + "\n";
        let path = crates().join(format!("store/tests/data/{dev_id}.analysis.json"));
        if bless {
            std::fs::write(&path, &json).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            continue;
        }
        let stored = std::fs::read_to_string(&path).unwrap_or_default();
        let parsed: Option<CallAnalysis> = serde_json::from_str(&stored).ok();
        if stored != json || parsed.as_ref() != Some(&fresh) {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "store fixtures differ from what the pipeline makes now:\n  {}\n\
         if the change of the analysis is deliberate, rewrite them with \
         `CALLSCOPE_BLESS=1 cargo test -p callscope-pipeline --test store_fixtures` and review the diff",
        stale.join("\n  ")
    );
}
