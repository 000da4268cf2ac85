//! What the signal evaluations share. Each test binary uses part of it.
#![allow(dead_code)]

use callscope_model::{Role, SentimentLabel};
use serde_json::Value;

/// A truth file's role.
pub(crate) fn role(v: &Value) -> Role {
    match v.as_str() {
        Some("seller") => Role::Seller,
        Some("customer") => Role::Customer,
        _ => Role::Other,
    }
}

/// Greedy one-to-one matching; returns (true positives, predicted, expected).
pub(crate) fn match_count<P, E>(
    predicted: &[P],
    expected: &[E],
    same: impl Fn(&P, &E) -> bool,
) -> (usize, usize, usize) {
    let mut used = vec![false; expected.len()];
    let mut tp = 0;
    for p in predicted {
        if let Some(i) = (0..expected.len()).find(|&i| !used[i] && same(p, &expected[i])) {
            used[i] = true;
            tp += 1;
        }
    }
    (tp, predicted.len(), expected.len())
}

/// A call's action items matched against its truth file's
/// `expected_action_items_detail` (owner role, and a start within the scripted
/// line that carries the item, ±0.5 s); prints what differs.
pub(crate) fn action_items_against_truth(
    id: &str,
    items: &[callscope_model::ActionItem],
    truth: &Value,
) -> (usize, usize, usize) {
    let turns = truth["turns"].as_array().expect("turns");
    let expected = truth["expected_action_items_detail"].as_array().expect("actions");
    let a = match_count(items, expected, |p, e| {
        // The item's `start` is the start of the scripted line that carries it.
        let item_start = e["start"].as_f64().unwrap_or(f64::NAN);
        let Some(line) =
            turns.iter().find(|l| (l["start"].as_f64().unwrap_or(0.0) - item_start).abs() < 1e-6)
        else {
            return false;
        };
        let (start, end) = (line["start"].as_f64().unwrap_or(0.0), line["end"].as_f64().unwrap_or(0.0));
        role(&e["owner_role"]) == p.owner && p.start >= start - 0.5 && p.start <= end + 0.5
    });
    if a.0 != a.1 || a.0 != a.2 {
        let got: Vec<_> = items.iter().map(|x| (x.owner, x.text.as_str())).collect();
        eprintln!("{id}: action items tp/pred/exp = {a:?}; predicted {got:?}");
    }
    a
}

/// Precision and recall of (true positives, predicted, expected).
pub(crate) fn pr((tp, p, e): (usize, usize, usize)) -> (f64, f64) {
    let precision = if p == 0 { 1.0 } else { tp as f64 / p as f64 };
    let recall = if e == 0 { 1.0 } else { tp as f64 / e as f64 };
    (precision, recall)
}

/// Two counts added.
pub(crate) fn add(a: (usize, usize, usize), b: (usize, usize, usize)) -> (usize, usize, usize) {
    (a.0 + b.0, a.1 + b.1, a.2 + b.2)
}

/// A truth × prediction table of (truth, predicted) pairs, printable, and the accuracy.
pub(crate) fn confusion_table(rows: &[(SentimentLabel, SentimentLabel)]) -> (String, f64) {
    let labels = [SentimentLabel::Positive, SentimentLabel::Neutral, SentimentLabel::Negative];
    let mut out = String::from("  truth \\ predicted   positive  neutral  negative\n");
    for t in labels {
        let counts: Vec<usize> =
            labels.iter().map(|p| rows.iter().filter(|r| r.0 == t && r.1 == *p).count()).collect();
        out += &format!("  {:<20} {:>8} {:>8} {:>9}\n", t.as_str(), counts[0], counts[1], counts[2]);
    }
    let correct = rows.iter().filter(|r| r.0 == r.1).count();
    let accuracy = correct as f64 / rows.len().max(1) as f64;
    out += &format!("  accuracy {correct}/{} = {accuracy:.3}\n", rows.len());
    (out, accuracy)
}
