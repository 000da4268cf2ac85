//! Storage of analysed calls: the [`Store`] trait, a ClickHouse backend for
//! scale and an embedded SQLite backend for one machine.
//!
//! The pipeline writes through [`Store::write`]; the API reads through the
//! query methods, which are exactly what the seller insights page needs. No SQL
//! is ever built from user input by concatenation: values are bound.
//!
//! # Why the trait looks like this
//! - **Idempotent writes.** A call is identified by `call_id`. Writing it again
//!   (a new model, new trackers, a retry after a crash) replaces it and its
//!   contribution to every aggregate. Both backends prove it with the same
//!   conformance tests (`tests/`).
//! - **Exact receipts.** [`Store::write`] returns only after the batch is
//!   durably stored and says which calls it committed, so the ingest side can
//!   commit Kafka offsets after it, never before.
//! - **Errors say what to do.** [`StoreError::retry`] tells the caller whether a
//!   retry can help (server down, timeout) or not (bad input, schema mismatch).
//! - **Aggregates are daily rows.** Backends return per-seller, per-day sums
//!   ([`DailyAggregate`]); summaries, trends and team comparisons are computed
//!   from them here, once, so both backends agree to the last digit.
//!
//! # Layout
//! - [`clickhouse`]: [`ClickHouseStore`], migrations from `schemas/clickhouse/`.
//! - [`sqlite`]: [`SqliteStore`], the embedded default.
//! - `types`: query and result types.

pub mod clickhouse;
mod rows;
pub mod sqlite;
mod types;

use async_trait::async_trait;
use callscope_model::{CallAnalysis, TrackerKind};

pub use crate::clickhouse::{ClickHouseConfig, ClickHouseStore};
pub use crate::sqlite::SqliteStore;
pub use types::*;

/// Whether retrying an operation can succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Transient: retry with backoff (server down, timeout, overload).
    WithBackoff,
    /// Permanent for this input: do not retry (dead-letter it).
    Never,
}

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached or refused the connection.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The database did not answer in time.
    #[error("store timed out: {0}")]
    Timeout(String),
    /// The database's schema is not what this version of callscope expects
    /// (run `callscope migrate`).
    #[error("schema mismatch: {0} (run `callscope migrate`)")]
    SchemaMismatch(String),
    /// The data to write is invalid; nothing of it was stored.
    #[error("invalid {field} for call {call_id:?}: {reason}")]
    InvalidInput {
        /// The call at fault.
        call_id: String,
        /// The field at fault.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// A comment may only be deleted by its author.
    #[error("comment {0} belongs to someone else")]
    NotAuthor(String),
    /// Any other database error, with the server's message.
    #[error("store error: {0}")]
    Database(String),
}

impl StoreError {
    /// Whether a retry can help.
    pub fn retry(&self) -> Retry {
        match self {
            StoreError::Unavailable(_) | StoreError::Timeout(_) => Retry::WithBackoff,
            StoreError::SchemaMismatch(_)
            | StoreError::InvalidInput { .. }
            | StoreError::NotAuthor(_)
            | StoreError::Database(_) => Retry::Never,
        }
    }
}

/// Result of store operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Where analysed calls are kept and how the insights page reads them.
#[async_trait]
pub trait Store: Send + Sync {
    /// Short backend name for logs (`clickhouse`, `sqlite`).
    fn backend(&self) -> &'static str;

    /// Creates or upgrades the schema; idempotent. Returns the migrations applied now.
    async fn migrate(&self) -> Result<Vec<String>>;

    /// Stores a batch of calls, replacing any earlier version of each. All or
    /// nothing: a batch with one invalid call stores none.
    async fn write(&self, calls: &[CallAnalysis]) -> Result<WriteReceipt>;

    /// Per-seller, per-day sums for the sellers selected, days in the range.
    async fn daily(&self, sellers: &SellerFilter, range: DateRange) -> Result<Vec<DailyAggregate>>;

    /// The sellers that have calls, with their team (for pickers and checks).
    async fn sellers(&self) -> Result<Vec<SellerRef>>;

    /// One page of a seller's call history.
    async fn call_history(&self, query: &HistoryQuery) -> Result<Page<CallSummary>>;

    /// One call with everything about it; `None` if unknown.
    async fn call(&self, call_id: &str) -> Result<Option<CallDetail>>;

    /// How often each tracked term (both kinds) was mentioned in a seller's
    /// calls, most mentioned first.
    async fn mention_counts(&self, seller_id: &str, range: DateRange) -> Result<Vec<TermCount>>;

    /// The keywords a seller's customers use, ranked by TF-IDF against all
    /// calls in the range.
    async fn customer_keywords(
        &self,
        seller_id: &str,
        range: DateRange,
        limit: usize,
    ) -> Result<Vec<KeywordRank>>;

    /// Adds a comment to a call.
    async fn add_comment(&self, comment: NewComment) -> Result<Comment>;

    /// A call's comments, oldest first.
    async fn comments(&self, call_id: &str) -> Result<Vec<Comment>>;

    /// The latest comments on a seller's calls of a range, newest first
    /// (the "comments from your manager" list of the seller's page).
    async fn seller_comments(&self, seller_id: &str, range: DateRange, limit: usize) -> Result<Vec<Comment>>;

    /// Deletes a comment if `author` wrote it. `Ok(false)` if there is no such comment.
    async fn delete_comment(&self, comment_id: &str, author: &str) -> Result<bool>;

    /// How often tracked terms of one kind were mentioned in a seller's calls.
    async fn term_counts(
        &self,
        seller_id: &str,
        range: DateRange,
        kind: TrackerKind,
    ) -> Result<Vec<TermCount>> {
        let mut all = self.mention_counts(seller_id, range).await?;
        all.retain(|t| t.kind == kind);
        Ok(all)
    }

    /// A seller's KPIs and sentiment over a range.
    async fn seller_summary(&self, seller_id: &str, range: DateRange) -> Result<SellerSummary> {
        let rows = self.daily(&SellerFilter::Seller(seller_id.to_owned()), range).await?;
        Ok(SellerSummary::from_daily(seller_id, &rows))
    }

    /// A seller's figures per day or week, for trends and sentiment over time.
    async fn seller_trend(
        &self,
        seller_id: &str,
        range: DateRange,
        bucket: Bucket,
    ) -> Result<Vec<TrendPoint>> {
        let rows = self.daily(&SellerFilter::Seller(seller_id.to_owned()), range).await?;
        Ok(TrendPoint::from_daily(&rows, bucket))
    }

    /// Every seller of a team over a range, with team averages and quartiles.
    async fn team_summary(&self, team: &str, range: DateRange) -> Result<TeamSummary> {
        let rows = self.daily(&SellerFilter::Team(team.to_owned()), range).await?;
        Ok(TeamSummary::from_daily(team, &rows))
    }
}

/// Strictly increasing write versions: wall-clock nanoseconds, bumped when the
/// clock stalls or steps back, so two writes never share a version.
#[derive(Debug, Default)]
pub(crate) struct VersionClock(std::sync::atomic::AtomicU64);

impl VersionClock {
    /// The next version.
    pub(crate) fn next(&self) -> u64 {
        use std::sync::atomic::Ordering;
        let now = u64::try_from(chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0)).unwrap_or(0);
        let mut last = self.0.load(Ordering::Relaxed);
        loop {
            let next = now.max(last + 1);
            match self.0.compare_exchange_weak(last, next, Ordering::SeqCst, Ordering::Relaxed) {
                Ok(_) => return next,
                Err(seen) => last = seen,
            }
        }
    }
}

/// Checks a call before it is written: the fields the store and the
/// dashboards rely on. Shared by every backend.
pub fn validate(call: &CallAnalysis) -> Result<()> {
    let id = &call.meta.call_id;
    let invalid = |field: &'static str, reason: &str| StoreError::InvalidInput {
        call_id: id.clone(),
        field,
        reason: reason.to_owned(),
    };
    if id.trim().is_empty() {
        return Err(invalid("call_id", "must not be empty"));
    }
    if call.meta.seller_id.trim().is_empty() {
        return Err(invalid("seller_id", "must not be empty"));
    }
    if call.meta.started_at.is_none() {
        return Err(invalid("started_at", "is required to store a call"));
    }
    if !(call.duration_s.is_finite() && call.duration_s >= 0.0) {
        return Err(invalid("duration_s", "must be a finite, non-negative number"));
    }
    let k = &call.kpis.kpis;
    let finite =
        [k.seller_talk_s, k.customer_talk_s, k.longest_customer_monologue_s, k.longest_seller_monologue_s];
    let optional = [k.talk_ratio, k.seller_wpm, k.customer_wpm, k.switches_per_hour, k.avg_pause_s];
    if finite.iter().chain(optional.iter().flatten()).any(|v| !v.is_finite()) {
        return Err(invalid("kpis", "every KPI must be a finite number (or null)"));
    }
    if let Some(c) = call.signals.sentiment.customer
        && !c.score.is_finite()
    {
        return Err(invalid("signals.sentiment", "the customer sentiment score must be finite"));
    }
    Ok(())
}
