//! Insight arithmetic: everything the seller and team pages show that is
//! computed rather than stored. Pure functions of the store's rows, no I/O:
//! the handlers fetch, this module computes, so both backends' figures go
//! through the same arithmetic and every rule here is unit-tested without a
//! database.
//!
//! - [`Kpi`]: the KPIs compared across sellers, by name.
//! - [`SellerSummary::from_daily`], [`TrendPoint::from_daily`],
//!   [`TeamSummary::from_daily`]: per-seller, per-day sums
//!   ([`DailyAggregate`]) into a seller's figures, a trend, a team's figures
//!   and the spread ([`KpiBand`]) of each KPI across its sellers.
//! - [`rank_keywords`]: a seller's customer keywords by TF-IDF against every
//!   call of the range.
//! - [`trends`]: "what changed" sentences with their numbers.
//! - [`message`]: every sentence also as data (a kind and values), which the
//!   page renders in its language.
//! - [`coaching`]: which sellers may need coaching, and what top sellers do
//!   differently.

pub mod coaching;
pub mod evidence;
pub mod message;
mod trends;

use std::cmp::Ordering;
use std::collections::BTreeMap;

use callscope_store::{DailyAggregate, KeywordFigures};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

pub use self::message::Message;
pub use self::trends::{MIN_CALLS_FOR_TRENDS, Trend, too_few_calls_for_trends, trends};

/// A KPI compared across sellers: a field of [`SellerSummary`]. Its name (in
/// JSON, in the coaching rules file) is the field's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kpi {
    /// Mean talk ratio (seller share) per call.
    AvgTalkRatio,
    /// Mean seller talking speed, words per minute.
    AvgSellerWpm,
    /// Mean switches per call.
    SwitchesPerCall,
    /// Mean pause before responding, seconds.
    AvgPauseS,
    /// Mean of the calls' longest customer monologues, seconds.
    AvgLongestCustomerMonologueS,
    /// Mean interruptions per call.
    InterruptionsPerCall,
    /// Mean seller questions per call.
    QuestionsPerCall,
    /// Share of positive calls among those with a customer sentiment.
    PositiveShare,
}

impl Kpi {
    /// Every compared KPI, in display order.
    pub const ALL: [Kpi; 8] = [
        Kpi::AvgTalkRatio,
        Kpi::AvgSellerWpm,
        Kpi::SwitchesPerCall,
        Kpi::AvgPauseS,
        Kpi::AvgLongestCustomerMonologueS,
        Kpi::InterruptionsPerCall,
        Kpi::QuestionsPerCall,
        Kpi::PositiveShare,
    ];

    /// Its name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Kpi::AvgTalkRatio => "avg_talk_ratio",
            Kpi::AvgSellerWpm => "avg_seller_wpm",
            Kpi::SwitchesPerCall => "switches_per_call",
            Kpi::AvgPauseS => "avg_pause_s",
            Kpi::AvgLongestCustomerMonologueS => "avg_longest_customer_monologue_s",
            Kpi::InterruptionsPerCall => "interruptions_per_call",
            Kpi::QuestionsPerCall => "questions_per_call",
            Kpi::PositiveShare => "positive_share",
        }
    }

    /// Whether it is a share (0 to 1), shown as a percentage.
    pub fn is_share(self) -> bool {
        match self {
            Kpi::AvgTalkRatio | Kpi::PositiveShare => true,
            Kpi::AvgSellerWpm
            | Kpi::SwitchesPerCall
            | Kpi::AvgPauseS
            | Kpi::AvgLongestCustomerMonologueS
            | Kpi::InterruptionsPerCall
            | Kpi::QuestionsPerCall => false,
        }
    }
}

/// By name: maps keyed by KPI (the team's `bands`, the top performers'
/// averages) serialize their keys in alphabetical order, as they always have.
impl Ord for Kpi {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl PartialOrd for Kpi {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Display for Kpi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Counts of calls per customer sentiment label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SentimentCounts {
    /// Positive calls.
    pub positive: u64,
    /// Neutral calls.
    pub neutral: u64,
    /// Negative calls.
    pub negative: u64,
}

impl SentimentCounts {
    /// Share of positive calls among labelled ones, if any.
    pub fn positive_share(&self) -> Option<f64> {
        let n = self.positive + self.neutral + self.negative;
        (n > 0).then(|| self.positive as f64 / n as f64)
    }

    /// Share of negative calls among labelled ones, if any.
    pub fn negative_share(&self) -> Option<f64> {
        let n = self.positive + self.neutral + self.negative;
        (n > 0).then(|| self.negative as f64 / n as f64)
    }
}

/// A seller's (or a team's) figures over a range.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SellerSummary {
    /// The seller (or the team, for a team total).
    pub seller_id: String,
    /// The team.
    pub team: String,
    /// Calls in the range.
    pub calls: u64,
    /// Of those, calls left out of the KPIs and sentiment because who said
    /// what is uncertain (low-confidence speaker attribution).
    #[serde(default)]
    pub low_confidence_calls: u64,
    /// Total call time, seconds.
    pub total_duration_s: f64,
    /// Mean talk ratio (seller share) per call.
    pub avg_talk_ratio: Option<f64>,
    /// Mean seller talking speed per call, words per minute.
    pub avg_seller_wpm: Option<f64>,
    /// Mean switches per call.
    pub switches_per_call: Option<f64>,
    /// Mean pause before responding, seconds.
    pub avg_pause_s: Option<f64>,
    /// Mean of the calls' longest customer monologues, seconds.
    pub avg_longest_customer_monologue_s: Option<f64>,
    /// Mean interruptions per call.
    pub interruptions_per_call: Option<f64>,
    /// Mean seller questions per call.
    pub questions_per_call: Option<f64>,
    /// Calls per customer sentiment label.
    pub sentiment: SentimentCounts,
    /// Calls won.
    pub won: u64,
    /// Calls lost.
    pub lost: u64,
}

/// `sum / n`, or `None` without anything to average.
fn mean(sum: f64, n: u64) -> Option<f64> {
    (n > 0).then(|| sum / n as f64)
}

/// The mean of some values, `None` if there are none.
fn average(values: impl Iterator<Item = f64>) -> Option<f64> {
    let v: Vec<f64> = values.collect();
    mean(v.iter().sum(), v.len() as u64)
}

/// Daily rows summed into one (the team: the first non-empty one).
fn sum_rows<'a>(rows: impl Iterator<Item = &'a DailyAggregate>) -> DailyAggregate {
    let mut t = DailyAggregate::default();
    for r in rows {
        t.calls += r.calls;
        t.low_confidence_calls += r.low_confidence_calls;
        t.duration_s += r.duration_s;
        t.talk_ratio_sum += r.talk_ratio_sum;
        t.talk_ratio_n += r.talk_ratio_n;
        t.seller_wpm_sum += r.seller_wpm_sum;
        t.seller_wpm_n += r.seller_wpm_n;
        t.switches += r.switches;
        t.pause_sum += r.pause_sum;
        t.pause_n += r.pause_n;
        t.longest_customer_monologue_sum += r.longest_customer_monologue_sum;
        t.interruptions += r.interruptions;
        t.seller_questions += r.seller_questions;
        t.positive += r.positive;
        t.neutral += r.neutral;
        t.negative += r.negative;
        t.won += r.won;
        t.lost += r.lost;
        if t.team.is_empty() {
            t.team.clone_from(&r.team);
        }
    }
    t
}

impl SellerSummary {
    fn from_total(seller_id: &str, t: &DailyAggregate) -> Self {
        // Calls whose KPIs count: flagged attributions are left out.
        let kpi_calls = t.calls.saturating_sub(t.low_confidence_calls);
        SellerSummary {
            seller_id: seller_id.to_owned(),
            team: t.team.clone(),
            calls: t.calls,
            low_confidence_calls: t.low_confidence_calls,
            total_duration_s: t.duration_s,
            avg_talk_ratio: mean(t.talk_ratio_sum, t.talk_ratio_n),
            avg_seller_wpm: mean(t.seller_wpm_sum, t.seller_wpm_n),
            switches_per_call: mean(t.switches as f64, kpi_calls),
            avg_pause_s: mean(t.pause_sum, t.pause_n),
            avg_longest_customer_monologue_s: mean(t.longest_customer_monologue_sum, kpi_calls),
            interruptions_per_call: mean(t.interruptions as f64, kpi_calls),
            questions_per_call: mean(t.seller_questions as f64, kpi_calls),
            sentiment: SentimentCounts { positive: t.positive, neutral: t.neutral, negative: t.negative },
            won: t.won,
            lost: t.lost,
        }
    }

    /// Sums daily rows into a summary (rows of other sellers are the caller's business).
    pub fn from_daily(seller_id: &str, rows: &[DailyAggregate]) -> Self {
        Self::from_total(seller_id, &sum_rows(rows.iter()))
    }

    /// The KPI's value, if there is one.
    pub fn kpi(&self, kpi: Kpi) -> Option<f64> {
        match kpi {
            Kpi::AvgTalkRatio => self.avg_talk_ratio,
            Kpi::AvgSellerWpm => self.avg_seller_wpm,
            Kpi::SwitchesPerCall => self.switches_per_call,
            Kpi::AvgPauseS => self.avg_pause_s,
            Kpi::AvgLongestCustomerMonologueS => self.avg_longest_customer_monologue_s,
            Kpi::InterruptionsPerCall => self.interruptions_per_call,
            Kpi::QuestionsPerCall => self.questions_per_call,
            Kpi::PositiveShare => self.sentiment.positive_share(),
        }
    }
}

/// Granularity of a trend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Bucket {
    /// One point per UTC day.
    Day,
    /// One point per ISO week (starting Monday).
    Week,
}

/// One point of a seller's trend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrendPoint {
    /// First day of the bucket.
    pub period_start: NaiveDate,
    /// The figures of the calls in the bucket.
    pub summary: SellerSummary,
}

impl TrendPoint {
    /// Buckets daily rows; buckets without calls are left out.
    pub fn from_daily(rows: &[DailyAggregate], bucket: Bucket) -> Vec<TrendPoint> {
        let mut groups: BTreeMap<NaiveDate, Vec<&DailyAggregate>> = BTreeMap::new();
        for r in rows {
            let start = match bucket {
                Bucket::Day => r.day,
                Bucket::Week => {
                    r.day - chrono::Duration::days(i64::from(r.day.weekday().num_days_from_monday()))
                }
            };
            groups.entry(start).or_default().push(r);
        }
        groups
            .into_iter()
            .map(|(period_start, rows)| {
                let seller = rows.first().map(|r| r.seller_id.clone()).unwrap_or_default();
                TrendPoint {
                    period_start,
                    summary: SellerSummary::from_total(&seller, &sum_rows(rows.into_iter())),
                }
            })
            .collect()
    }
}

/// A KPI's spread across the sellers of a team.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KpiBand {
    /// 25th percentile of the sellers' values.
    pub p25: f64,
    /// Median.
    pub median: f64,
    /// 75th percentile.
    pub p75: f64,
}

/// A team's sellers over a range, with the team's overall figures and bands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamSummary {
    /// The team.
    pub team: String,
    /// Every seller with calls in the range.
    pub sellers: Vec<SellerSummary>,
    /// All the team's calls together (the "team average").
    pub overall: SellerSummary,
    /// Per KPI, the spread of seller values.
    pub bands: BTreeMap<Kpi, KpiBand>,
}

/// The spread of each KPI across some sellers (those with a value).
pub fn bands_of<'a>(sellers: impl Iterator<Item = &'a SellerSummary> + Clone) -> BTreeMap<Kpi, KpiBand> {
    let mut bands = BTreeMap::new();
    for kpi in Kpi::ALL {
        let mut values: Vec<f64> = sellers.clone().filter_map(|s| s.kpi(kpi)).collect();
        if values.is_empty() {
            continue;
        }
        values.sort_by(f64::total_cmp);
        bands.insert(
            kpi,
            KpiBand {
                p25: quantile(&values, 0.25),
                median: quantile(&values, 0.5),
                p75: quantile(&values, 0.75),
            },
        );
    }
    bands
}

/// Linear-interpolation quantile of sorted values.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.len() == 1 {
        return sorted[0];
    }
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

impl TeamSummary {
    /// Groups a team's daily rows by seller.
    pub fn from_daily(team: &str, rows: &[DailyAggregate]) -> Self {
        let mut by_seller: BTreeMap<&str, Vec<&DailyAggregate>> = BTreeMap::new();
        for r in rows {
            by_seller.entry(r.seller_id.as_str()).or_default().push(r);
        }
        let sellers: Vec<SellerSummary> = by_seller
            .into_iter()
            .map(|(seller, rows)| SellerSummary::from_total(seller, &sum_rows(rows.into_iter())))
            .collect();
        let bands = bands_of(sellers.iter());
        TeamSummary {
            team: team.to_owned(),
            overall: SellerSummary::from_total(team, &sum_rows(rows.iter())),
            sellers,
            bands,
        }
    }
}

/// A customer keyword ranked across calls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeywordRank {
    /// The phrase.
    pub phrase: String,
    /// Occurrences in the seller's calls.
    pub count: u64,
    /// The seller's calls that contain it.
    pub calls: u64,
    /// TF-IDF against all calls in the range ([`callscope_signals::tf_idf`]).
    pub score: f64,
}

/// A seller's customer keywords by TF-IDF against every call of the range,
/// best first (ties by phrase), the top `limit`.
pub fn rank_keywords(figures: &KeywordFigures, limit: usize) -> Vec<KeywordRank> {
    let clamp = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
    let mut ranked: Vec<KeywordRank> = figures
        .phrases
        .iter()
        .map(|p| KeywordRank {
            phrase: p.phrase.clone(),
            count: p.count,
            calls: p.calls,
            score: callscope_signals::tf_idf(clamp(p.count), clamp(p.df), clamp(figures.range_calls)),
        })
        .collect();
    ranked.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.phrase.cmp(&b.phrase)));
    ranked.truncate(limit);
    ranked
}

#[cfg(test)]
mod tests;
