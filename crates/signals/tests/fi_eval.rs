//! Signals against the ground truth of the Finnish set `tests/eval-fi` (six
//! synthetic calls; each call's reference transcript with `language: "fi"` and
//! its `truth.json`), with the Finnish trackers of `samples/trackers-fi.toml`.
//!
//! Prints precision/recall for mentions (52 of the 72 are inflected forms:
//! "Salesforcella", "HubSpotin", "sopimuksen", "alennusta"), seller questions
//! and action items; run with `--nocapture` to see them. Asserts the issue's
//! target for mentions (precision and recall ≥ 0.95: term, role, start within
//! 1 s), and that a Finnish call gets no sentiment from a model that does not
//! read Finnish.

use std::path::{Path, PathBuf};

use callscope_model::{CallSignals, Role, Transcript};
use callscope_signals::{SignalExtractor, SignalSettings, TrackerMatcher, Trackers};
use serde_json::Value;

mod common;
use common::{action_items_against_truth, add, match_count, pr, role};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Call {
    truth: Value,
    signals: CallSignals,
}

fn calls() -> Vec<Call> {
    let toml = std::fs::read_to_string(repo().join("samples/trackers-fi.toml")).expect("trackers-fi.toml");
    let (trackers, warnings) = Trackers::from_toml_str(&toml).expect("valid trackers");
    assert!(warnings.is_empty(), "{warnings:?}");
    let (matcher, warnings) = TrackerMatcher::new(&trackers);
    assert!(warnings.is_empty(), "{warnings:?}");
    let extractor = SignalExtractor::new(matcher, SignalSettings::default());
    let dir = repo().join("tests/eval-fi/calls");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/eval-fi/calls")
        .filter_map(|e| e.ok()?.file_name().to_str().map(str::to_owned))
        .collect();
    names.sort();
    assert_eq!(names.len(), 6);
    names
        .iter()
        .map(|name| {
            let read = |f: &str| std::fs::read(dir.join(name).join(f)).expect(f);
            let truth: Value = serde_json::from_slice(&read("truth.json")).expect("json");
            let transcript = Transcript::from_json_slice(&read("transcript.json")).expect("valid transcript");
            assert_eq!(transcript.language.map(|l| l.to_string()).as_deref(), Some("fi"), "{name}");
            Call { signals: extractor.extract(&transcript), truth }
        })
        .collect()
}

#[test]
fn finnish_set_quality() {
    let calls = calls();
    let (mut mentions, mut inflected, mut questions, mut actions) =
        ((0, 0, 0), (0, 0, 0), (0, 0, 0), (0, 0, 0));
    for call in &calls {
        let t = &call.truth;
        let id = t["call_id"].as_str().unwrap_or("?");
        let s = &call.signals;

        let expected = t["expected_mentions"].as_array().expect("mentions");
        let same = |p: &callscope_model::Mention, e: &Value| {
            e["canonical"].as_str() == Some(p.term.as_str())
                && role(&e["role"]) == p.role
                && (e["start"].as_f64().unwrap_or(f64::NAN) - p.start).abs() <= 1.0
        };
        let m = match_count(&s.mentions, expected, same);
        if m.0 != m.1 || m.0 != m.2 {
            let got: Vec<_> = s.mentions.iter().map(|x| (x.term.as_str(), x.start)).collect();
            eprintln!("{id}: mentions tp/pred/exp = {m:?}; predicted {got:?}");
        }
        mentions = add(mentions, m);
        let expected_inflected: Vec<_> =
            expected.iter().filter(|e| e["form"] == "inflected").cloned().collect();
        let found = expected_inflected.iter().filter(|e| s.mentions.iter().any(|p| same(p, e))).count();
        inflected = add(inflected, (found, found, expected_inflected.len()));

        let expected = t["expected_seller_questions"].as_array().expect("questions");
        let seller_q: Vec<_> = s.questions.iter().filter(|q| q.role == Role::Seller).collect();
        let q = match_count(&seller_q, expected, |p, e| {
            (e["start"].as_f64().unwrap_or(f64::NAN) - p.start).abs() <= 1.0
        });
        if q.0 != q.1 || q.0 != q.2 {
            eprintln!("{id}: seller questions tp/pred/exp = {q:?}");
        }
        questions = add(questions, q);

        actions = add(actions, action_items_against_truth(id, &s.action_items, t));

        // The default (English lexicon) model does not read Finnish: no numbers.
        assert!(s.sentiment.customer.is_none(), "{id}: sentiment for a language the model does not read");
    }
    let (mp, mr) = pr(mentions);
    let (_, ir) = pr(inflected);
    let (qp, qr) = pr(questions);
    let (ap, ar) = pr(actions);
    eprintln!("\nmentions:           precision {mp:.3} recall {mr:.3}  (tp/pred/exp {mentions:?})");
    eprintln!("inflected mentions: recall {ir:.3}  (found/expected {}/{})", inflected.0, inflected.2);
    eprintln!("seller questions:   precision {qp:.3} recall {qr:.3}  (tp/pred/exp {questions:?})");
    eprintln!("action items:       precision {ap:.3} recall {ar:.3}  (tp/pred/exp {actions:?})");

    assert!(mp >= 0.95 && mr >= 0.95, "mentions below target: precision {mp:.3}, recall {mr:.3}");
}
