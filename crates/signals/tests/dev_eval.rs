//! Signals against the ground truth of the six eval-dev calls (copied into
//! `tests/dev/`: each call's reference transcript and a slim `truth.json`).
//!
//! Prints precision/recall for mentions, seller questions and action items, and
//! accuracy with confusion tables for sentiment; run with `--nocapture` to see
//! them (`docs/signals.md` records the figures). Asserts the target for
//! mentions (precision and recall ≥ 0.95: term, role, start within 1 s).

use std::path::{Path, PathBuf};

use callscope_model::{CallSignals, Role, SentimentLabel, Transcript};
use callscope_signals::{SignalExtractor, SignalSettings, TrackerMatcher, Trackers};
use serde_json::Value;

mod common;
use common::{action_items_against_truth, add, confusion_table, match_count, pr, role};

fn dev_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dev")
}

struct Call {
    truth: Value,
    signals: CallSignals,
}

fn calls() -> Vec<Call> {
    let dir = dev_dir();
    let toml = std::fs::read_to_string(dir.join("trackers.toml")).expect("trackers.toml");
    let (trackers, warnings) = Trackers::from_toml_str(&toml).expect("valid trackers");
    assert!(warnings.is_empty(), "{warnings:?}");
    let (matcher, warnings) = TrackerMatcher::new(&trackers);
    assert!(warnings.is_empty(), "{warnings:?}");
    let extractor = SignalExtractor::new(matcher, SignalSettings::default());
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/dev")
        .filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".truth.json").map(str::to_owned))
        .collect();
    names.sort();
    assert_eq!(names.len(), 6);
    names
        .iter()
        .map(|name| {
            let truth: Value = serde_json::from_slice(
                &std::fs::read(dir.join(format!("{name}.truth.json"))).expect("truth"),
            )
            .expect("json");
            let transcript = Transcript::from_json_slice(
                &std::fs::read(dir.join(format!("{name}.transcript.json"))).expect("t"),
            )
            .expect("valid transcript");
            Call { signals: extractor.extract(&transcript), truth }
        })
        .collect()
}

fn label(v: &Value) -> SentimentLabel {
    match v.as_str() {
        Some("positive") => SentimentLabel::Positive,
        Some("negative") => SentimentLabel::Negative,
        _ => SentimentLabel::Neutral,
    }
}

#[test]
fn dev_set_quality() {
    let calls = calls();
    let (mut mentions, mut questions, mut actions) = ((0, 0, 0), (0, 0, 0), (0, 0, 0));
    let mut call_sentiment = Vec::new();
    let mut line_sentiment = Vec::new();
    let mut customer_line_sentiment = Vec::new();
    let extractor =
        SignalExtractor::new(TrackerMatcher::new(&Trackers::default()).0, SignalSettings::default());
    for call in &calls {
        let t = &call.truth;
        let id = t["call_id"].as_str().unwrap_or("?");
        let s = &call.signals;

        let expected = t["expected_mentions"].as_array().expect("mentions");
        let m = match_count(&s.mentions, expected, |p, e| {
            e["canonical"].as_str() == Some(p.term.as_str())
                && role(&e["role"]) == p.role
                && (e["start"].as_f64().unwrap_or(f64::NAN) - p.start).abs() <= 1.0
        });
        if m.0 != m.1 || m.0 != m.2 {
            eprintln!("{id}: mentions tp/pred/exp = {m:?}");
        }
        mentions = add(mentions, m);

        let expected = t["expected_seller_questions"].as_array().expect("questions");
        let seller_q: Vec<_> = s.questions.iter().filter(|q| q.role == Role::Seller).collect();
        questions = add(
            questions,
            match_count(&seller_q, expected, |p, e| {
                (e["start"].as_f64().unwrap_or(f64::NAN) - p.start).abs() <= 1.0
            }),
        );

        actions = add(actions, action_items_against_truth(id, &s.action_items, t));

        if let Some(c) = s.sentiment.customer {
            call_sentiment.push((label(&t["expected_call_sentiment"]), c.label));
            eprintln!(
                "{id}: customer sentiment {:.3} {:?} (truth {})",
                c.score, c.label, t["expected_call_sentiment"]
            );
        }
        let turns = t["turns"].as_array().expect("turns");
        for turn in turns.iter().filter(|x| x["kind"] == "turn") {
            let predicted = extractor.utterance_sentiment(turn["text"].as_str().unwrap_or_default()).label;
            let row = (label(&turn["expected_sentiment"]), predicted);
            if std::env::var_os("SHOW_SENTIMENT_ERRORS").is_some() && row.0 != row.1 {
                eprintln!("  {:?} -> {:?}: {}", row.0, row.1, turn["text"]);
            }
            line_sentiment.push(row);
            if role(&turn["role"]) == Role::Customer {
                customer_line_sentiment.push(row);
            }
        }
    }
    let (mp, mr) = pr(mentions);
    let (qp, qr) = pr(questions);
    let (ap, ar) = pr(actions);
    eprintln!("\nmentions:         precision {mp:.3} recall {mr:.3}  (tp/pred/exp {mentions:?})");
    eprintln!("seller questions: precision {qp:.3} recall {qr:.3}  (tp/pred/exp {questions:?})");
    eprintln!("action items:     precision {ap:.3} recall {ar:.3}  (tp/pred/exp {actions:?})");
    eprintln!("\ncustomer call sentiment:\n{}", confusion_table(&call_sentiment).0);
    eprintln!("customer lines:\n{}", confusion_table(&customer_line_sentiment).0);
    eprintln!("all labelled lines:\n{}", confusion_table(&line_sentiment).0);

    assert!(mp >= 0.95 && mr >= 0.95, "mentions below target: precision {mp:.3}, recall {mr:.3}");
}
