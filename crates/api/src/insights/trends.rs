//! What changed for a seller: trend sentences backed by numbers.

use serde::Serialize;

use super::{Kpi, SellerSummary};

/// One "what changed" sentence with its numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trend {
    /// The KPI.
    pub kpi: Kpi,
    /// The sentence shown on the page.
    pub text: String,
    /// This period's value.
    pub current: f64,
    /// The previous period's value.
    pub previous: f64,
    /// The team's value this period, if known.
    pub team: Option<f64>,
}

/// How a KPI is shown: label, unit, and what counts as a real change. Shares
/// ([`Kpi::is_share`]) are shown as percentages.
struct Shown {
    kpi: Kpi,
    label: &'static str,
    unit: &'static str,
    /// Smallest change worth a sentence: absolute for percentages, relative otherwise.
    min_change: f64,
}

const SHOWN: &[Shown] = &[
    Shown { kpi: Kpi::PositiveShare, label: "Customer sentiment", unit: " positive", min_change: 0.05 },
    Shown { kpi: Kpi::AvgTalkRatio, label: "Talk ratio", unit: "", min_change: 0.05 },
    Shown { kpi: Kpi::AvgSellerWpm, label: "Talking speed", unit: " wpm", min_change: 0.10 },
    Shown { kpi: Kpi::SwitchesPerCall, label: "Switches per call", unit: "", min_change: 0.15 },
    Shown { kpi: Kpi::AvgPauseS, label: "Pause before responding", unit: " s", min_change: 0.15 },
    Shown {
        kpi: Kpi::AvgLongestCustomerMonologueS,
        label: "Longest customer monologue",
        unit: " s",
        min_change: 0.15,
    },
    Shown { kpi: Kpi::QuestionsPerCall, label: "Questions per call", unit: "", min_change: 0.15 },
];

fn fmt(v: f64, s: &Shown) -> String {
    if s.kpi.is_share() {
        format!("{:.0}%", v * 100.0)
    } else if v >= 10.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// The smallest number of calls in each period for trends to be shown.
pub const MIN_CALLS_FOR_TRENDS: u64 = 3;

/// Sentences for the KPIs that changed enough between the previous period and
/// this one. Empty when either period has too few calls (the page says so).
pub fn trends(current: &SellerSummary, previous: &SellerSummary, team: &SellerSummary) -> Vec<Trend> {
    if current.calls < MIN_CALLS_FOR_TRENDS || previous.calls < MIN_CALLS_FOR_TRENDS {
        return Vec::new();
    }
    let mut out = Vec::new();
    for s in SHOWN {
        let (Some(cur), Some(prev)) = (current.kpi(s.kpi), previous.kpi(s.kpi)) else { continue };
        let change = if s.kpi.is_share() {
            (cur - prev).abs()
        } else if prev.abs() > f64::EPSILON {
            ((cur - prev) / prev).abs()
        } else {
            0.0
        };
        if change < s.min_change {
            continue;
        }
        let team_value = team.kpi(s.kpi);
        let verb = if cur > prev { "rose" } else { "fell" };
        let mut text =
            format!("{} {verb} from {}{} to {}{}", s.label, fmt(prev, s), s.unit, fmt(cur, s), s.unit);
        if let Some(t) = team_value {
            text.push_str(&format!(" (team {}{})", fmt(t, s), s.unit));
        }
        out.push(Trend { kpi: s.kpi, text, current: cur, previous: prev, team: team_value });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insights::SentimentCounts;

    fn summary(calls: u64, positive: u64, talk: f64) -> SellerSummary {
        SellerSummary {
            calls,
            avg_talk_ratio: Some(talk),
            sentiment: SentimentCounts { positive, neutral: calls - positive, negative: 0 },
            ..SellerSummary::default()
        }
    }

    #[test]
    fn sentences_say_what_changed_with_numbers() {
        let t = trends(&summary(10, 4, 0.71), &summary(8, 5, 0.60), &summary(50, 30, 0.55));
        let texts: Vec<&str> = t.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "Customer sentiment fell from 62% positive to 40% positive (team 60% positive)",
                "Talk ratio rose from 60% to 71% (team 55%)"
            ]
        );
    }

    #[test]
    fn small_changes_and_few_calls_say_nothing() {
        assert!(trends(&summary(10, 5, 0.60), &summary(10, 5, 0.62), &summary(50, 25, 0.6)).is_empty());
        assert!(trends(&summary(2, 0, 0.9), &summary(10, 10, 0.2), &summary(50, 25, 0.6)).is_empty());
    }
}
