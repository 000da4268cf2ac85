//! Precision and recall of the redactor on `tests/data/redaction_cases.json`:
//! written and spoken forms of every entity, and near-misses (order numbers,
//! prices, dates, times, quantities, years) that must stay as they are.
//!
//! Each case is a sentence split on spaces into words one second apart. An
//! expected entity is *recalled* when one placeholder of its kind spans
//! exactly its words; a placeholder is *correct* (for precision) when it spans
//! exactly the words of some expected entity, whatever its kind: a phone
//! number redacted as `[digits]` is a miss for phones but no leak. The targets
//! are issue 20's: recall at least 0.98 on cards and identity codes, precision
//! at least 0.95 overall.

use std::collections::BTreeMap;

use callscope_model::{Role, Transcript, Word};
use callscope_redact::{EntityKind, Redactor};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    text: String,
    entities: Vec<Expected>,
}

#[derive(Deserialize)]
struct Expected {
    kind: EntityKind,
    text: String,
}

fn transcript(words: &[&str]) -> Transcript {
    let mut t = Transcript::default();
    t.speakers.insert("c".into(), Role::Customer);
    for (i, w) in words.iter().enumerate() {
        let start = i as f64;
        t.words.push(Word::unattributed(*w, start, start + 0.5, None).said_by("c"));
    }
    t
}

/// The (start, end) time of the words of `entity` inside `words`.
fn span(words: &[&str], entity: &str) -> (f64, f64) {
    let needle: Vec<&str> = entity.split_whitespace().collect();
    let at = words
        .windows(needle.len())
        .position(|w| w == needle.as_slice())
        .unwrap_or_else(|| panic!("{entity:?} is not in the case's words"));
    (at as f64, (at + needle.len() - 1) as f64 + 0.5)
}

#[test]
fn redaction_meets_the_issue_targets() {
    let cases: Vec<Case> =
        serde_json::from_str(include_str!("data/redaction_cases.json")).expect("the test set parses");
    let positives: usize = cases.iter().map(|c| c.entities.len()).sum();
    let near_misses = cases.iter().filter(|c| c.entities.is_empty()).count();
    assert!(positives >= 60 && near_misses >= 40, "{positives} positives, {near_misses} near-misses");

    let redactor = Redactor::default();
    // kind -> (expected, recalled)
    let mut recall: BTreeMap<EntityKind, (usize, usize)> = BTreeMap::new();
    let (mut placed, mut correct) = (0usize, 0usize);
    let mut failures = Vec::new();
    for case in &cases {
        let words: Vec<&str> = case.text.split_whitespace().collect();
        let mut t = transcript(&words);
        redactor.redact(&mut t);
        let found: Vec<(EntityKind, f64, f64)> = t
            .words
            .iter()
            .filter_map(|w| EntityKind::from_placeholder(&w.text).map(|k| (k, w.start, w.end)))
            .collect();
        let expected: Vec<(EntityKind, (f64, f64))> =
            case.entities.iter().map(|e| (e.kind, span(&words, &e.text))).collect();
        for &(kind, s) in &expected {
            let entry = recall.entry(kind).or_default();
            entry.0 += 1;
            if found.iter().any(|&(k, a, b)| k == kind && (a, b) == s) {
                entry.1 += 1;
            } else {
                failures.push(format!("missed {}: {:?}", kind.as_str(), case.text));
            }
        }
        for &(kind, a, b) in &found {
            placed += 1;
            if expected.iter().any(|&(_, s)| s == (a, b)) {
                correct += 1;
            } else {
                failures.push(format!("false {} at {a}..{b}: {:?}", kind.as_str(), case.text));
            }
        }
    }
    for (kind, (n, hit)) in &recall {
        eprintln!("recall {:8} {hit}/{n} = {:.3}", kind.as_str(), *hit as f64 / *n as f64);
    }
    let precision = correct as f64 / placed.max(1) as f64;
    eprintln!("precision {correct}/{placed} = {precision:.3}");
    for f in &failures {
        eprintln!("{f}");
    }
    let rate = |k| recall.get(&k).map_or(0.0, |&(n, hit)| hit as f64 / n as f64);
    assert!(rate(EntityKind::Card) >= 0.98, "card recall {}", rate(EntityKind::Card));
    assert!(rate(EntityKind::IdCode) >= 0.98, "id_code recall {}", rate(EntityKind::IdCode));
    assert!(precision >= 0.95, "precision {precision}");
    // Every kind is in the set and mostly found, so a matcher that stops
    // working shows here even where the issue sets no target.
    for kind in EntityKind::ALL {
        assert!(rate(kind) >= 0.8, "{} recall {}", kind.as_str(), rate(kind));
    }
}
