//! Query and row types of the [`crate::Store`] trait. What the insights page
//! makes of them (summaries, trends, bands, keyword rankings) is computed
//! outside the store.

use callscope_model::{CallKpis, CallSignals, Role, SentimentLabel, Transcript};
use chrono::{DateTime, Days, NaiveDate, Utc};
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
    /// Seller talking speed.
    SellerWpm,
    /// Speaker switches.
    Switches,
    /// Mean pause before the seller responds.
    AvgPause,
    /// Longest customer monologue.
    LongestCustomerMonologue,
    /// Interruptions.
    Interruptions,
    /// Questions the seller asked.
    SellerQuestions,
}

impl HistorySort {
    /// The `calls` column it sorts by (same name in both backends).
    pub(crate) fn column(self) -> &'static str {
        match self {
            HistorySort::StartedAt => "started_at",
            HistorySort::Duration => "duration_s",
            HistorySort::TalkRatio => "talk_ratio",
            HistorySort::Sentiment => "customer_sentiment_score",
            HistorySort::SellerWpm => "seller_wpm",
            HistorySort::Switches => "switches",
            HistorySort::AvgPause => "avg_pause_s",
            HistorySort::LongestCustomerMonologue => "longest_customer_monologue_s",
            HistorySort::Interruptions => "interruptions",
            HistorySort::SellerQuestions => "seller_questions",
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
    /// With `term`: only mentions by this role count (the customer, for
    /// "competitors customers mention"); `None`: anyone's.
    pub term_role: Option<callscope_model::Role>,
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
    /// Seller talking speed, words per minute.
    #[serde(default)]
    pub seller_wpm: Option<f64>,
    /// Speaker switches.
    #[serde(default)]
    pub switches: u32,
    /// Mean pause before the seller responds, seconds.
    #[serde(default)]
    pub avg_pause_s: Option<f64>,
    /// The customer's longest monologue, seconds.
    #[serde(default)]
    pub longest_customer_monologue_s: f64,
    /// Interruptions.
    #[serde(default)]
    pub interruptions: u32,
    /// Questions the seller asked.
    #[serde(default)]
    pub seller_questions: u32,
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
    /// The language spoken (`en`, `fi`), when the call says; absent: English
    /// assumed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
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
    /// Calls with at least one mention by the customer.
    #[serde(default)]
    pub customer_calls: u64,
}

/// What ranking a seller's customer keywords needs (TF-IDF against every call
/// of the range): raw counts, no scores.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct KeywordFigures {
    /// Calls in the range, every seller's: the number of documents.
    pub range_calls: u64,
    /// The phrases the seller's customers used, by phrase.
    pub phrases: Vec<PhraseFigures>,
}

/// One customer phrase of a seller over a range (also ClickHouse's result row).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, clickhouse::Row)]
pub struct PhraseFigures {
    /// The phrase.
    pub phrase: String,
    /// Occurrences in the seller's calls.
    pub count: u64,
    /// The seller's calls that contain it.
    pub calls: u64,
    /// Calls of the range (every seller's) that contain it: its document frequency.
    pub df: u64,
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
    /// The transcript line it is about: the turn's index, as `utterances.turn`
    /// (and the sentiment timeline's point). `None`: the whole call, or a
    /// comment from before anchors (with `at_s` only).
    #[serde(default)]
    pub turn: Option<u32>,
    /// The words it is about: the first one's start, seconds.
    #[serde(default)]
    pub start_s: Option<f64>,
    /// The words it is about: the last one's end, seconds.
    #[serde(default)]
    pub end_s: Option<f64>,
}

/// A stored comment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comment {
    /// Unique id.
    pub comment_id: String,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// When its author last edited it, if ever.
    #[serde(default)]
    pub edited_at: Option<DateTime<Utc>>,
    /// What was written.
    #[serde(flatten)]
    pub comment: NewComment,
}

/// A call, or a clip of it, shared with sellers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewShare {
    /// The call.
    pub call_id: String,
    /// The call's seller.
    pub seller_id: String,
    /// A clip's start, seconds; `None` with `end_s` for the whole call.
    pub start_s: Option<f64>,
    /// A clip's end, seconds.
    pub end_s: Option<f64>,
    /// Why it is worth a look.
    pub note: String,
    /// Who shared it (user id).
    pub created_by: String,
    /// Who may open it: sellers' user ids, or `team:<team id>` for every
    /// seller of a team. At least one.
    pub recipients: Vec<String>,
    /// The named collection it belongs to ("Great discovery questions"); ''
    /// for none.
    #[serde(default)]
    pub collection: String,
}

/// A stored share.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Share {
    /// Unique id.
    pub share_id: String,
    /// When it was shared.
    pub created_at: DateTime<Utc>,
    /// What was shared, with whom.
    #[serde(flatten)]
    pub share: NewShare,
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

/// Parses a stored speaker role (`other` for anything unknown).
pub(crate) fn parse_role(s: &str) -> Role {
    match s {
        "seller" => Role::Seller,
        "customer" => Role::Customer,
        _ => Role::Other,
    }
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
}

/// Whose calls a search may find ([`crate::Store::search`]): the API works it
/// out from the user's role; the store only applies it.
#[derive(Debug, Clone, PartialEq)]
pub enum SearchScope {
    /// Every call (admins).
    All,
    /// The calls of these sellers, and these calls (or parts of them) shared
    /// with the user.
    Only {
        /// Sellers whose every call may be found.
        sellers: Vec<String>,
        /// Calls of other sellers that may be found: whole, or only the
        /// utterances overlapping a clip.
        shared: Vec<SharedSpan>,
    },
}

/// A call, or a clip of it, that a search may find ([`SearchScope::Only`]).
#[derive(Debug, Clone, PartialEq)]
pub struct SharedSpan {
    /// The call.
    pub call_id: String,
    /// Only utterances overlapping `[start_s, end_s]`, seconds; `None`: the
    /// whole call.
    pub clip: Option<(f64, f64)>,
}

/// A search across transcripts ([`crate::Store::search`]).
#[derive(Debug, Clone, PartialEq)]
pub struct SearchQuery {
    /// What the user typed: a phrase (see [`crate::search`]), never query syntax.
    pub phrase: String,
    /// Whose calls may be found.
    pub scope: SearchScope,
    /// Only this seller's calls (within the scope).
    pub seller: Option<String>,
    /// Calls that started on these days.
    pub range: DateRange,
    /// Only utterances of this side.
    pub said_by: Option<Role>,
    /// At most this many hits (clamped to 1..=500).
    pub limit: usize,
}

/// One utterance that holds the phrase, with a snippet to show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    /// The call.
    pub call_id: String,
    /// Its seller.
    pub seller_id: String,
    /// When the call started.
    pub started_at: DateTime<Utc>,
    /// The utterance's turn (as `utterances.turn`: its index in the call's turns).
    pub turn: u32,
    /// Who said it.
    pub role: Role,
    /// Where the utterance starts, seconds from the start of the recording.
    pub start_s: f64,
    /// Where it ends.
    pub end_s: f64,
    /// Plain text around the first match (`…` where cut); never HTML.
    pub snippet: String,
    /// The matches in `snippet`: `[start, end)` in characters (Unicode
    /// scalar values, as JavaScript's `Array.from(snippet)` counts them).
    pub highlights: Vec<[usize; 2]>,
}

/// Which calls an erasure removes ([`crate::Store::erase`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EraseScope {
    /// These calls (unknown ids are ignored).
    Calls(Vec<String>),
    /// Every call of one seller.
    Seller(String),
    /// Every call that started strictly before this instant.
    StartedBefore(DateTime<Utc>),
}

/// A call an erasure removed (or, in a dry run, would remove).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErasedCall {
    /// The call.
    pub call_id: String,
    /// Its seller.
    pub seller_id: String,
    /// Its team ("" when unknown).
    pub team: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// Its recording, as stored (`file:///…` for a local file); `None` if none.
    pub audio_uri: Option<String>,
}

/// What an erasure removed (or, in a dry run, would remove).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Erasure {
    /// The calls, oldest first.
    pub calls: Vec<ErasedCall>,
    /// Rows removed per table (`calls`, `utterances`, `mentions`,
    /// `action_items`, `customer_keywords`, `comments`), tables with none
    /// left out. On ClickHouse the counts include superseded versions.
    pub rows: Vec<(String, u64)>,
    /// The (seller, day) aggregates recomputed from the calls that remain.
    pub days_recomputed: usize,
}

impl Erasure {
    /// Whether there was nothing to erase.
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty() && self.rows.iter().all(|(_, n)| *n == 0)
    }

    /// Rows removed from `table`.
    pub fn rows_of(&self, table: &str) -> u64 {
        self.rows.iter().find(|(t, _)| t == table).map_or(0, |(_, n)| *n)
    }
}

/// What a user did with a call, as the audit trail records it. The names
/// are stored in `audit_log.action` and are a public interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    /// Opened a call (`GET /api/calls/{id}`): its details **and its
    /// transcript**, which the call details carry (there is no separate
    /// transcript endpoint), so this is also "read the transcript".
    OpenCall,
    /// Played (downloaded any byte range of) a call's recording.
    PlayAudio,
    /// Erased a call (`DELETE /api/admin/calls/{id}`).
    EraseCall,
    /// Erased every call of a seller (`DELETE /api/admin/sellers/{id}`).
    EraseSeller,
    /// Searched transcripts (`GET /api/search`) and was shown text of a
    /// call: one entry per call with hits (one with no call when nothing
    /// was found). The query itself is not recorded: it can hold personal data.
    Search,
}

impl AuditAction {
    /// Every action.
    pub const ALL: [AuditAction; 5] = [
        AuditAction::OpenCall,
        AuditAction::PlayAudio,
        AuditAction::EraseCall,
        AuditAction::EraseSeller,
        AuditAction::Search,
    ];

    /// The stored name (`open_call`).
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::OpenCall => "open_call",
            AuditAction::PlayAudio => "play_audio",
            AuditAction::EraseCall => "erase_call",
            AuditAction::EraseSeller => "erase_seller",
            AuditAction::Search => "search",
        }
    }

    /// The action a stored name stands for.
    pub fn parse(name: &str) -> Option<AuditAction> {
        AuditAction::ALL.into_iter().find(|a| a.as_str() == name)
    }
}

/// One entry of the audit trail (`audit_log`): who did what to which call, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// When (UTC, millisecond precision).
    pub at: DateTime<Utc>,
    /// The signed-in user's id.
    pub user_id: String,
    /// Their role at the time (`admin`, `manager`, `seller`).
    pub user_role: String,
    /// What they did.
    pub action: AuditAction,
    /// The call ("" for an action on a seller).
    pub call_id: String,
    /// The call's seller, or the seller acted on ("" when unknown).
    pub seller_id: String,
}

/// Which audit entries to read: all filters optional, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Entries at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Entries strictly before this instant.
    pub to: Option<DateTime<Utc>>,
    /// Only this user's entries.
    pub user_id: Option<String>,
    /// Only entries about this call.
    pub call_id: Option<String>,
    /// At most this many entries.
    pub limit: usize,
}
