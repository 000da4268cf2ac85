//! What the signal evaluations share.

use callscope_model::SentimentLabel;

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
