//! Query and result types of the [`crate::Store`] trait, and the arithmetic that
//! turns daily sums into the figures the insights page shows.

use std::collections::BTreeMap;

use callscope_model::{CallKpis, CallSignals, Role, SentimentLabel, Transcript};
use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// An inclusive range of UTC days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateRange {
    /// First day.
    pub from: NaiveDate,
    /// Last day (inclusive).
    pub to: NaiveDate,
}

impl DateRange {
    /// A range; `from` after `to` is an empty range.
    pub fn new(from: NaiveDate, to: NaiveDate) -> Self {
        DateRange { from, to }
    }

    /// Start of the first day, UTC.
    pub fn start(&self) -> DateTime<Utc> {
        self.from.and_time(chrono::NaiveTime::MIN).and_utc()
    }

    /// Start of the day after the last day, UTC (exclusive end).
    pub fn end(&self) -> DateTime<Utc> {
        self.to.checked_add_days(Days::new(1)).unwrap_or(self.to).and_time(chrono::NaiveTime::MIN).and_utc()
    }

    /// The range of the same length just before this one (for trends).
    pub fn previous(&self) -> DateRange {
        let days = (self.to - self.from).num_days().max(0) as u64 + 1;
        let to = self.from.checked_sub_days(Days::new(1)).unwrap_or(self.from);
        let from = self.from.checked_sub_days(Days::new(days)).unwrap_or(self.from);
        DateRange { from, to }
    }
}

/// Which sellers an aggregate query covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SellerFilter {
    /// One seller.
    Seller(String),
    /// Every seller of a team.
    Team(String),
    /// Everyone.
    All,
}

/// Per-seller, per-day sums: the unit both backends aggregate to.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DailyAggregate {
    /// The seller.
    pub seller_id: String,
    /// The seller's team ("" when unknown).
    pub team: String,
    /// The UTC day.
    pub day: NaiveDate,
    /// Calls.
    pub calls: u64,
    /// Calls whose speaker attribution is flagged low-confidence (mono calls
    /// diarized with doubt). They count in `calls`, `duration_s`, `won` and
    /// `lost` only: every KPI sum and count and the sentiment counts below
    /// leave them out, so per-call means divide by `calls - low_confidence_calls`.
    #[serde(default)]
    pub low_confidence_calls: u64,
    /// Sum of call durations, seconds.
    pub duration_s: f64,
    /// Sum of talk ratios over calls that have one.
    pub talk_ratio_sum: f64,
    /// Calls with a talk ratio.
    pub talk_ratio_n: u64,
    /// Sum of seller talking speeds over calls that have one.
    pub seller_wpm_sum: f64,
    /// Calls with a seller talking speed.
    pub seller_wpm_n: u64,
    /// Sum of switches.
    pub switches: u64,
    /// Sum of per-call average pauses over calls that have one.
    pub pause_sum: f64,
    /// Calls with an average pause.
    pub pause_n: u64,
    /// Sum of per-call longest customer monologues.
    pub longest_customer_monologue_sum: f64,
    /// Sum of interruptions.
    pub interruptions: u64,
    /// Sum of seller questions.
    pub seller_questions: u64,
    /// Calls whose customer sentiment was positive.
    pub positive: u64,
    /// Calls whose customer sentiment was neutral.
    pub neutral: u64,
    /// Calls whose customer sentiment was negative.
    pub negative: u64,
    /// Calls with outcome `won`.
    pub won: u64,
    /// Calls with outcome `lost`.
    pub lost: u64,
}

/// A seller known to the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SellerRef {
    /// The seller.
    pub seller_id: String,
    /// The seller's team (latest call).
    pub team: String,
    /// Calls stored.
    pub calls: u64,
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

fn mean(sum: f64, n: u64) -> Option<f64> {
    (n > 0).then(|| sum / n as f64)
}

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

    /// The named KPI, for comparisons (`avg_talk_ratio`, `avg_seller_wpm`, ...).
    pub fn kpi(&self, name: &str) -> Option<f64> {
        match name {
            "avg_talk_ratio" => self.avg_talk_ratio,
            "avg_seller_wpm" => self.avg_seller_wpm,
            "switches_per_call" => self.switches_per_call,
            "avg_pause_s" => self.avg_pause_s,
            "avg_longest_customer_monologue_s" => self.avg_longest_customer_monologue_s,
            "interruptions_per_call" => self.interruptions_per_call,
            "questions_per_call" => self.questions_per_call,
            "positive_share" => self.sentiment.positive_share(),
            _ => None,
        }
    }
}

/// The KPIs compared across sellers.
pub const COMPARED_KPIS: &[&str] = &[
    "avg_talk_ratio",
    "avg_seller_wpm",
    "switches_per_call",
    "avg_pause_s",
    "avg_longest_customer_monologue_s",
    "interruptions_per_call",
    "questions_per_call",
    "positive_share",
];

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
    /// Per KPI (see [`COMPARED_KPIS`]), the spread of seller values.
    pub bands: BTreeMap<String, KpiBand>,
}

/// The spread of each compared KPI across some sellers (those with a value).
pub fn bands_of<'a>(sellers: impl Iterator<Item = &'a SellerSummary> + Clone) -> BTreeMap<String, KpiBand> {
    let mut bands = BTreeMap::new();
    for &kpi in COMPARED_KPIS {
        let mut values: Vec<f64> = sellers.clone().filter_map(|s| s.kpi(kpi)).collect();
        if values.is_empty() {
            continue;
        }
        values.sort_by(f64::total_cmp);
        bands.insert(
            kpi.to_owned(),
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
    /// Groups daily rows by seller.
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

/// Column to sort the call history by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HistorySort {
    /// Call start (default).
    #[default]
    StartedAt,
    /// Call length.
    Duration,
    /// Seller talk share.
    TalkRatio,
    /// Customer sentiment score.
    Sentiment,
}

impl HistorySort {
    /// The `calls` column it sorts by (same name in both backends).
    pub(crate) fn column(self) -> &'static str {
        match self {
            HistorySort::StartedAt => "started_at",
            HistorySort::Duration => "duration_s",
            HistorySort::TalkRatio => "talk_ratio",
            HistorySort::Sentiment => "customer_sentiment_score",
        }
    }
}

/// A page of the call history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryQuery {
    /// Whose calls.
    pub seller_id: String,
    /// Which days.
    pub range: DateRange,
    /// Sort column.
    pub sort: HistorySort,
    /// Largest first.
    pub descending: bool,
    /// Zero-based page.
    pub page: u32,
    /// Rows per page (1..=500).
    pub page_size: u32,
    /// Only calls that mention this tracked term (canonical name).
    pub term: Option<String>,
    /// Only calls whose customer keywords include this phrase.
    pub keyword: Option<String>,
}

impl HistoryQuery {
    /// `ASC` or `DESC`.
    pub(crate) fn direction(&self) -> &'static str {
        if self.descending { "DESC" } else { "ASC" }
    }
}

/// A page of results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The rows.
    pub items: Vec<T>,
    /// Rows matching the query on all pages.
    pub total: u64,
}

/// One row of the call history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallSummary {
    /// The call.
    pub call_id: String,
    /// The seller.
    pub seller_id: String,
    /// The seller's team.
    pub team: String,
    /// The customer, if known.
    pub customer: Option<String>,
    /// Start.
    pub started_at: DateTime<Utc>,
    /// Length, seconds.
    pub duration_s: f64,
    /// Outcome, if known.
    pub outcome: Option<String>,
    /// Seller talk share.
    pub talk_ratio: Option<f64>,
    /// Customer sentiment label, if the customer spoke.
    pub sentiment: Option<SentimentLabel>,
    /// Customer sentiment score.
    pub sentiment_score: Option<f64>,
    /// Tracker mentions in the call.
    pub mentions: u32,
    /// Action items in the call.
    pub action_items: u32,
    /// Questions in the call.
    pub questions: u32,
    /// Who said what is uncertain (low-confidence speaker attribution): the
    /// call's KPIs and sentiment are left out of the seller's figures.
    #[serde(default)]
    pub low_confidence: bool,
}

/// Everything about one call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallDetail {
    /// The history row.
    pub summary: CallSummary,
    /// Direction, if known (`inbound`, `outbound`).
    pub direction: Option<String>,
    /// Where the recording is, if there is one.
    pub audio_uri: Option<String>,
    /// The transcript.
    pub transcript: Transcript,
    /// The KPIs.
    pub kpis: CallKpis,
    /// Version of the KPI definitions.
    pub kpi_version: u32,
    /// The signals.
    pub signals: CallSignals,
    /// How the words were attributed, when the pipeline said (flagged calls:
    /// leave their KPIs out of comparisons).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribution: Option<callscope_model::Attribution>,
}

/// Mentions of one tracked term.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TermCount {
    /// Canonical name.
    pub term: String,
    /// Competitor or keyword.
    pub kind: callscope_model::TrackerKind,
    /// Mentions, all roles.
    pub mentions: u64,
    /// Mentions by the customer.
    pub by_customer: u64,
    /// Calls with at least one mention.
    pub calls: u64,
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

/// A comment to add.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewComment {
    /// The call.
    pub call_id: String,
    /// Who writes (user id).
    pub author: String,
    /// The author's role in the app (`manager`, `seller`).
    pub author_role: String,
    /// The moment of the call it is about, seconds; `None` for the whole call.
    pub at_s: Option<f64>,
    /// The comment; a reply names its parent.
    pub text: String,
    /// The comment this replies to.
    pub parent_id: Option<String>,
}

/// A stored comment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comment {
    /// Unique id.
    pub comment_id: String,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// What was written.
    #[serde(flatten)]
    pub comment: NewComment,
}

/// What a write committed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct WriteReceipt {
    /// The calls now stored (this batch, in input order).
    pub call_ids: Vec<String>,
    /// Of those, calls that replaced an earlier version.
    pub replaced: usize,
}

/// The role label stored for a speaker role.
pub(crate) fn role_str(role: Role) -> &'static str {
    role.as_str()
}

/// Parses a stored tracker kind (`competitor`, else keyword).
pub(crate) fn parse_kind(s: &str) -> callscope_model::TrackerKind {
    if s == "competitor" {
        callscope_model::TrackerKind::Competitor
    } else {
        callscope_model::TrackerKind::Keyword
    }
}

/// Parses a stored sentiment label.
pub(crate) fn parse_label(s: &str) -> Option<SentimentLabel> {
    match s {
        "positive" => Some(SentimentLabel::Positive),
        "neutral" => Some(SentimentLabel::Neutral),
        "negative" => Some(SentimentLabel::Negative),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).expect("valid date")
    }

    #[test]
    fn previous_range_has_the_same_length() {
        let r = DateRange::new(day(10), day(16));
        assert_eq!(r.previous(), DateRange::new(day(3), day(9)));
    }

    #[test]
    fn weekly_trend_groups_from_monday() {
        let rows: Vec<DailyAggregate> = [2, 3, 9]
            .iter()
            .map(|&d| DailyAggregate { seller_id: "s".into(), day: day(d), calls: 1, ..Default::default() })
            .collect();
        let points = TrendPoint::from_daily(&rows, Bucket::Week);
        // 2026-11-02 is a Monday.
        assert_eq!(points.len(), 2);
        assert_eq!(points[0].period_start, day(2));
        assert_eq!(points[0].summary.calls, 2);
        assert_eq!(points[1].period_start, day(9));
    }

    #[test]
    fn team_bands_are_quantiles_of_seller_values() {
        let rows: Vec<DailyAggregate> = [0.2, 0.4, 0.6, 0.8]
            .iter()
            .enumerate()
            .map(|(i, &r)| DailyAggregate {
                seller_id: format!("s{i}"),
                day: day(2),
                calls: 1,
                talk_ratio_sum: r,
                talk_ratio_n: 1,
                ..Default::default()
            })
            .collect();
        let t = TeamSummary::from_daily("t", &rows);
        let band = t.bands["avg_talk_ratio"];
        assert!(
            (band.p25 - 0.35).abs() < 1e-12
                && (band.median - 0.5).abs() < 1e-12
                && (band.p75 - 0.65).abs() < 1e-12
        );
        assert_eq!(t.overall.calls, 4);
    }
}
