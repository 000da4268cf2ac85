//! Example calls for "what top performers do differently": for each KPI where
//! the top performers differ from the rest of the team, two or three of their
//! calls where it shows, so a manager can listen to the difference instead of
//! reading an average.
//!
//! A call shows the difference when its own value lies on the top performers'
//! side of the midpoint between the two averages. Among those, the calls
//! nearest the top performers' average come first (typical of how they work,
//! not their oddest call), one per top performer before a second of anyone's.
//! Calls whose speaker attribution is uncertain never serve as examples. For
//! the positive share, the examples are calls whose customer was positive,
//! most positive first.

use callscope_model::SentimentLabel;
use callscope_store::{CallSummary, HistorySort};
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Kpi;
use super::coaching::Difference;

/// Example calls per KPI.
pub const PER_KPI: usize = 3;

/// One example call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    /// The call.
    pub call_id: String,
    /// Its seller (a top performer).
    pub seller_id: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// The customer, if known.
    pub customer: Option<String>,
    /// The call's own value of the KPI (for the positive share: the customer's
    /// sentiment score).
    pub value: f64,
}

/// The examples for one KPI of [`super::coaching::CoachingReport::differences`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KpiEvidence {
    /// The KPI.
    pub kpi: Kpi,
    /// Top performers' average.
    pub top_performers: f64,
    /// Everyone else's average.
    pub others: f64,
    /// Up to [`PER_KPI`] calls.
    pub calls: Vec<Evidence>,
}

impl Kpi {
    /// The call-history order that puts a seller's calls showing this KPI
    /// first, and whether it is descending, for a difference whose top
    /// performers are above (`higher`) or below the others.
    pub fn history_order(self, higher: bool) -> (HistorySort, bool) {
        let sort = match self {
            Kpi::AvgTalkRatio => HistorySort::TalkRatio,
            Kpi::AvgSellerWpm => HistorySort::SellerWpm,
            Kpi::SwitchesPerCall => HistorySort::Switches,
            Kpi::AvgPauseS => HistorySort::AvgPause,
            Kpi::AvgLongestCustomerMonologueS => HistorySort::LongestCustomerMonologue,
            Kpi::InterruptionsPerCall => HistorySort::Interruptions,
            Kpi::QuestionsPerCall => HistorySort::SellerQuestions,
            // Positive calls first, whichever way the share differs.
            Kpi::PositiveShare => return (HistorySort::Sentiment, true),
        };
        (sort, higher)
    }

    /// One call's value of the KPI (`None`: the call has none, e.g. no
    /// customer words). The positive share's is the customer's sentiment score.
    pub fn of_call(self, call: &CallSummary) -> Option<f64> {
        match self {
            Kpi::AvgTalkRatio => call.talk_ratio,
            Kpi::AvgSellerWpm => call.seller_wpm,
            Kpi::SwitchesPerCall => Some(f64::from(call.switches)),
            Kpi::AvgPauseS => call.avg_pause_s,
            Kpi::AvgLongestCustomerMonologueS => Some(call.longest_customer_monologue_s),
            Kpi::InterruptionsPerCall => Some(f64::from(call.interruptions)),
            Kpi::QuestionsPerCall => Some(f64::from(call.seller_questions)),
            Kpi::PositiveShare => call.sentiment_score,
        }
    }
}

/// Picks up to [`PER_KPI`] example calls for `difference` from `candidates`
/// (the top performers' calls of the range, in any order).
pub fn pick(difference: &Difference, candidates: &[CallSummary]) -> KpiEvidence {
    let kpi = difference.kpi;
    let (top, others) = (difference.top_performers, difference.others);
    let mid = (top + others) / 2.0;
    let mut shows: Vec<(&CallSummary, f64)> = candidates
        .iter()
        .filter(|c| !c.low_confidence)
        .filter_map(|c| Some((c, kpi.of_call(c)?)))
        .filter(|(c, v)| {
            if kpi == Kpi::PositiveShare {
                c.sentiment == Some(SentimentLabel::Positive)
            } else if top > others {
                *v > mid
            } else {
                *v < mid
            }
        })
        .collect();
    // Nearest the top performers' average first (most positive, for the
    // positive share); ties by time, newest first, then id, so the choice is
    // stable.
    let key = |v: f64| if kpi == Kpi::PositiveShare { -v } else { (v - top).abs() };
    shows.sort_by(|(a, va), (b, vb)| {
        key(*va)
            .total_cmp(&key(*vb))
            .then_with(|| b.started_at.cmp(&a.started_at))
            .then_with(|| a.call_id.cmp(&b.call_id))
    });
    // One call per top performer first, then the next best of anyone's.
    let mut chosen: Vec<(&CallSummary, f64)> = Vec::with_capacity(PER_KPI);
    for (c, v) in &shows {
        if chosen.len() < PER_KPI && !chosen.iter().any(|(x, _)| x.seller_id == c.seller_id) {
            chosen.push((c, *v));
        }
    }
    for (c, v) in &shows {
        if chosen.len() < PER_KPI && !chosen.iter().any(|(x, _)| x.call_id == c.call_id) {
            chosen.push((c, *v));
        }
    }
    KpiEvidence {
        kpi,
        top_performers: top,
        others,
        calls: chosen
            .into_iter()
            .map(|(c, value)| Evidence {
                call_id: c.call_id.clone(),
                seller_id: c.seller_id.clone(),
                started_at: c.started_at,
                customer: c.customer.clone(),
                value,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn call(id: &str, seller: &str, day: u32, talk_ratio: f64) -> CallSummary {
        CallSummary {
            call_id: id.into(),
            seller_id: seller.into(),
            team: "t".into(),
            customer: None,
            started_at: Utc.with_ymd_and_hms(2026, 10, day, 10, 0, 0).unwrap(),
            duration_s: 600.0,
            outcome: None,
            talk_ratio: Some(talk_ratio),
            seller_wpm: None,
            switches: 0,
            avg_pause_s: None,
            longest_customer_monologue_s: 0.0,
            interruptions: 0,
            seller_questions: 0,
            sentiment: None,
            sentiment_score: None,
            mentions: 0,
            action_items: 0,
            questions: 0,
            low_confidence: false,
            language: None,
        }
    }

    fn talk_ratio_difference(top: f64, others: f64) -> Difference {
        Difference { kpi: Kpi::AvgTalkRatio, label: "Talk ratio".into(), top_performers: top, others }
    }

    #[test]
    fn typical_calls_of_each_top_performer_on_their_side_of_the_midpoint() {
        // Top performers talk 45 %, the others 65 %: midpoint 55 %.
        let calls = [
            call("a1", "s-a", 1, 0.20), // shows it, but far from 45 %
            call("a2", "s-a", 2, 0.46), // the best example
            call("a3", "s-a", 3, 0.60), // the others' side: never
            call("b1", "s-b", 4, 0.50),
            call("b2", "s-b", 5, 0.44),
        ];
        let picked = pick(&talk_ratio_difference(0.45, 0.65), &calls);
        let ids: Vec<&str> = picked.calls.iter().map(|e| e.call_id.as_str()).collect();
        // One per seller first (a2, b2: nearest 45 %), then the next nearest (b1).
        assert_eq!(ids, ["b2", "a2", "b1"]);
        assert_eq!(picked.calls[0].value, 0.44);
    }

    #[test]
    fn higher_is_their_side_when_top_performers_are_higher() {
        let calls = [call("a1", "s-a", 1, 0.40), call("a2", "s-a", 2, 0.70)];
        let picked = pick(&talk_ratio_difference(0.65, 0.45), &calls);
        assert_eq!(picked.calls.len(), 1);
        assert_eq!(picked.calls[0].call_id, "a2");
    }

    #[test]
    fn uncertain_calls_and_calls_without_a_value_are_never_examples() {
        let mut uncertain = call("a1", "s-a", 1, 0.45);
        uncertain.low_confidence = true;
        let mut silent = call("a2", "s-a", 2, 0.45);
        silent.talk_ratio = None;
        assert!(pick(&talk_ratio_difference(0.45, 0.65), &[uncertain, silent]).calls.is_empty());
    }

    #[test]
    fn positive_share_examples_are_positive_calls_most_positive_first() {
        let mut calls: Vec<CallSummary> = (1..=4).map(|d| call(&format!("c{d}"), "s-a", d, 0.5)).collect();
        let labels = [
            (SentimentLabel::Positive, 0.3),
            (SentimentLabel::Negative, -0.6),
            (SentimentLabel::Positive, 0.8),
            (SentimentLabel::Neutral, 0.0),
        ];
        for (c, (label, score)) in calls.iter_mut().zip(labels) {
            c.sentiment = Some(label);
            c.sentiment_score = Some(score);
        }
        let d = Difference {
            kpi: Kpi::PositiveShare,
            label: "Positive".into(),
            top_performers: 0.8,
            others: 0.4,
        };
        let picked = pick(&d, &calls);
        let ids: Vec<&str> = picked.calls.iter().map(|e| e.call_id.as_str()).collect();
        assert_eq!(ids, ["c3", "c1"]);
        assert_eq!(Kpi::PositiveShare.history_order(false), (HistorySort::Sentiment, true));
    }
}
