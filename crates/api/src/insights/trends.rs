//! What changed for a seller: trend sentences backed by numbers.

use serde::Serialize;

use super::{Kpi, Message, SellerSummary};

/// One "what changed" sentence with its numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trend {
    /// The KPI.
    pub kpi: Kpi,
    /// The sentence, in English.
    pub text: String,
    /// The sentence as data (`trend.rose`, `trend.fell`, and `…_vs_team` with
    /// the team's value), for the page to render in its language.
    pub message: Message,
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

/// Why there are no trends, when a period has too few calls: the sentence in
/// English and as data (`trends.too_few_calls`).
pub fn too_few_calls_for_trends(
    current: &SellerSummary,
    previous: &SellerSummary,
) -> Option<(String, Message)> {
    (current.calls < MIN_CALLS_FOR_TRENDS || previous.calls < MIN_CALLS_FOR_TRENDS).then(|| {
        (
            format!(
                "Not enough calls to compare with the previous period: {} now and {} before (at least {} each).",
                current.calls, previous.calls, MIN_CALLS_FOR_TRENDS
            ),
            Message::new("trends.too_few_calls")
                .with("calls_now", current.calls)
                .with("calls_before", previous.calls)
                .with("min_calls", MIN_CALLS_FOR_TRENDS),
        )
    })
}

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
        let rose = cur > prev;
        let verb = if rose { "rose" } else { "fell" };
        let mut text =
            format!("{} {verb} from {}{} to {}{}", s.label, fmt(prev, s), s.unit, fmt(cur, s), s.unit);
        let kind = match (rose, team_value) {
            (true, None) => "trend.rose",
            (false, None) => "trend.fell",
            (true, Some(_)) => "trend.rose_vs_team",
            (false, Some(_)) => "trend.fell_vs_team",
        };
        let mut message =
            Message::new(kind).with("kpi", s.kpi.as_str()).with("previous", prev).with("current", cur);
        if let Some(t) = team_value {
            text.push_str(&format!(" (team {}{})", fmt(t, s), s.unit));
            message = message.with("team", t);
        }
        out.push(Trend { kpi: s.kpi, text, message, current: cur, previous: prev, team: team_value });
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
        // The same sentences as data: the KPI and the unrounded numbers.
        let talk = &t[1].message;
        assert_eq!(talk.kind, "trend.rose_vs_team");
        assert_eq!(talk.values["kpi"], "avg_talk_ratio");
        assert_eq!(talk.values["previous"], t[1].previous);
        assert_eq!(talk.values["current"], 0.71);
        assert_eq!(talk.values["team"], 0.55);
        assert_eq!(t[0].message.kind, "trend.fell_vs_team");
        assert_eq!(t[0].message.values["kpi"], "positive_share");
        let alone = trends(&summary(10, 4, 0.71), &summary(8, 5, 0.60), &SellerSummary::default());
        assert_eq!(alone.iter().map(|t| t.message.kind).collect::<Vec<_>>(), ["trend.fell", "trend.rose"]);
        assert!(alone.iter().all(|t| !t.message.values.contains_key("team") && !t.text.contains("team")));
    }

    #[test]
    fn too_few_calls_says_how_many() {
        let (text, message) =
            too_few_calls_for_trends(&summary(2, 0, 0.5), &summary(7, 1, 0.5)).expect("too few now");
        assert!(text.contains(": 2 now and 7 before (at least 3 each)"), "{text}");
        assert_eq!(message.kind, "trends.too_few_calls");
        assert_eq!(message.values["calls_now"], 2);
        assert_eq!(message.values["calls_before"], 7);
        assert_eq!(message.values["min_calls"], MIN_CALLS_FOR_TRENDS);
        assert!(too_few_calls_for_trends(&summary(3, 0, 0.5), &summary(3, 1, 0.5)).is_none());
    }

    #[test]
    fn small_changes_and_few_calls_say_nothing() {
        assert!(trends(&summary(10, 5, 0.60), &summary(10, 5, 0.62), &summary(50, 25, 0.6)).is_empty());
        assert!(trends(&summary(2, 0, 0.9), &summary(10, 10, 0.2), &summary(50, 25, 0.6)).is_empty());
    }
}
