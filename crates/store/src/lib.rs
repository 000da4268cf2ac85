//! Storage of analysed calls: the [`Store`] trait, a ClickHouse backend for
//! scale and an embedded SQLite backend for one machine.
//!
//! The pipeline writes through [`Store::write`]; the API reads through the
//! query methods, which return rows and sums, never judgements. No SQL is ever
//! built from user input by concatenation: values are bound.
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
//!   retry can help (server down, timeout, schema not migrated yet) or not (bad
//!   input).
//! - **Aggregates are daily rows.** Backends return per-seller, per-day sums
//!   ([`DailyAggregate`]) and, for customer keywords, the raw counts
//!   ([`KeywordFigures`]). Summaries, trends, team bands and keyword rankings
//!   are computed from them once, outside the store (the API's insights
//!   module), so both backends agree to the last digit and the store only
//!   stores.
//! - **Storage has no rules.** Who may delete a comment is the API's decision:
//!   the store reads one ([`Store::comment`]) and deletes one
//!   ([`Store::delete_comment`]).
//!
//! # Layout
//! - [`clickhouse`]: [`ClickHouseStore`]: `mod.rs` (configuration, error
//!   classification), `migrate.rs` (migrations from `schemas/clickhouse/`),
//!   `write.rs`, `read.rs`.
//! - [`sqlite`]: [`SqliteStore`], the embedded default, laid out the same way.
//! - `columns`: the one table of the `calls` columns, from which both backends'
//!   column lists and SQLite's insert are generated (tests pin the migrated
//!   tables to it).
//! - [`search`]: what a search query means and where it matched, shared by
//!   both backends' [`Store::search`].
//! - `rows`: the flat rows a [`CallAnalysis`] becomes, shared by both backends.
//! - `types`: query and row types.

pub mod clickhouse;
mod columns;
mod rows;
pub mod search;
pub mod sqlite;
mod types;

use async_trait::async_trait;
use callscope_model::{CallAnalysis, TrackerKind};
use chrono::{DateTime, Utc};

pub use crate::clickhouse::{
    ClickHouseConfig, ClickHouseStore, ClickHouseTls, ClickHouseTlsFiles, TlsConfigError,
};
pub use crate::sqlite::SqliteStore;
pub use types::*;

/// Whether retrying an operation can succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Transient: retry with backoff (server down, timeout, overload, schema
    /// not migrated yet).
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
    /// (run `callscope migrate`). Retried with backoff: it is the deployment's
    /// fault, not the call's, so a worker waits for `callscope migrate` instead
    /// of dead-lettering every call it holds.
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
    /// Any other database error, with the server's message.
    #[error("store error: {0}")]
    Database(String),
}

impl StoreError {
    /// Whether a retry can help.
    pub fn retry(&self) -> Retry {
        match self {
            StoreError::Unavailable(_) | StoreError::Timeout(_) | StoreError::SchemaMismatch(_) => {
                Retry::WithBackoff
            }
            StoreError::InvalidInput { .. } | StoreError::Database(_) => Retry::Never,
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

    /// A cheap query that succeeds when the store can serve reads: reachable
    /// and migrated (readiness probes, `/readyz`). The default, for test
    /// doubles, always succeeds; both real backends override it.
    async fn ping(&self) -> Result<()> {
        Ok(())
    }

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

    /// The phrases a seller's customers used in a range, with what ranking
    /// them needs: each one's count and calls in the seller's calls, its
    /// document frequency over every call of the range, and that number of calls.
    async fn customer_keywords(&self, seller_id: &str, range: DateRange) -> Result<KeywordFigures>;

    /// Adds a comment to a call.
    async fn add_comment(&self, comment: NewComment) -> Result<Comment>;

    /// One comment; `None` if unknown (or deleted).
    async fn comment(&self, comment_id: &str) -> Result<Option<Comment>>;

    /// A call's comments, oldest first.
    async fn comments(&self, call_id: &str) -> Result<Vec<Comment>>;

    /// The latest comments on a seller's calls of a range, newest first
    /// (the "comments from your manager" list of the seller's page).
    async fn seller_comments(&self, seller_id: &str, range: DateRange, limit: usize) -> Result<Vec<Comment>>;

    /// Deletes a comment. `Ok(false)` if there is no such comment. Whether the
    /// caller may is the caller's business (the API lets only the author).
    async fn delete_comment(&self, comment_id: &str) -> Result<bool>;

    /// Replaces a comment's text and stamps `edited_at`; everything else
    /// (author, anchor, `created_at`) stays. `Ok(None)` if there is no such
    /// comment. Whether the caller may is the caller's business (the API lets
    /// only the author). The default, for test doubles, refuses.
    async fn edit_comment(&self, comment_id: &str, text: &str) -> Result<Option<Comment>> {
        let _ = (comment_id, text);
        Err(StoreError::Database(format!("the {} store cannot edit comments", self.backend())))
    }

    /// Shares a call or a clip with recipients (sellers, or `team:<id>`).
    /// The default, for test doubles, refuses.
    async fn add_share(&self, share: NewShare) -> Result<Share> {
        let _ = share;
        Err(StoreError::Database(format!("the {} store cannot share calls", self.backend())))
    }

    /// One share, unless unknown or revoked.
    async fn share(&self, share_id: &str) -> Result<Option<Share>> {
        let _ = share_id;
        Ok(None)
    }

    /// A call's shares (not revoked), oldest first.
    async fn call_shares(&self, call_id: &str) -> Result<Vec<Share>> {
        let _ = call_id;
        Ok(Vec::new())
    }

    /// The shares (not revoked) naming any of `recipients`, newest first,
    /// each with all its recipients.
    async fn shares_for(&self, recipients: &[String]) -> Result<Vec<Share>> {
        let _ = recipients;
        Ok(Vec::new())
    }

    /// Revokes a share. `Ok(false)` if there is no such share (or it was
    /// revoked already). Whether the caller may is the caller's business.
    async fn revoke_share(&self, share_id: &str) -> Result<bool> {
        let _ = share_id;
        Ok(false)
    }

    /// Utterances that hold a phrase (see [`search`] for what matches), in
    /// the calls `query.scope` allows: newest call first, then in the order
    /// they were said; only each call's current version. An error
    /// ([`StoreError::InvalidInput`], field `q`) for a phrase too short to
    /// search for. The default, for test doubles, refuses.
    async fn search(&self, query: &SearchQuery) -> Result<Vec<SearchHit>> {
        let _ = query;
        Err(StoreError::Database(format!("the {} store cannot search", self.backend())))
    }

    /// Erases calls and every trace of them: the call row, its utterances,
    /// mentions, action items, customer keywords, comments and shares; the sellers'
    /// daily aggregates and the phrase document frequencies of the days
    /// touched are recomputed from the calls that remain. Returns what was
    /// removed, including the calls' audio URIs (deleting the files is the
    /// caller's job). `dry_run`: only reports what would be removed.
    ///
    /// Idempotent, and safe to rerun after a crash in the middle: the
    /// aggregates are recomputed from the remaining calls (never by
    /// subtraction) and the `calls` rows go last, so a rerun finds whatever an
    /// interrupted run left. A second run removes nothing.
    ///
    /// The default, for test doubles, refuses.
    async fn erase(&self, scope: &EraseScope, dry_run: bool) -> Result<Erasure> {
        let _ = (scope, dry_run);
        Err(StoreError::Database(format!("the {} store cannot erase calls", self.backend())))
    }

    /// Appends entries to the audit trail (`audit_log`). The default, for
    /// test doubles, refuses.
    async fn record_audit(&self, entries: &[AuditEntry]) -> Result<()> {
        let _ = entries;
        Err(StoreError::Database(format!("the {} store keeps no audit trail", self.backend())))
    }

    /// Audit entries matching `query`, newest first. The default, for test
    /// doubles, refuses.
    async fn audit_log(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>> {
        let _ = query;
        Err(StoreError::Database(format!("the {} store keeps no audit trail", self.backend())))
    }

    /// Deletes audit entries older than `before` (the audit trail's own
    /// retention) and returns how many there were; `dry_run`: only counts.
    /// The default, for test doubles, refuses.
    async fn expire_audit(&self, before: DateTime<Utc>, dry_run: bool) -> Result<u64> {
        let _ = (before, dry_run);
        Err(StoreError::Database(format!("the {} store keeps no audit trail", self.backend())))
    }

    /// Keeps audit entries `days` days in the database itself, where it can
    /// (a ClickHouse table TTL; 0 removes it), as a backstop between runs of
    /// `callscope retention`. The default does nothing (SQLite has no TTL).
    async fn set_audit_ttl(&self, days: u32) -> Result<()> {
        let _ = days;
        Ok(())
    }

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

/// Checks a share before it is stored: a call, a seller, someone who shares,
/// at least one recipient, and a clip (if any) with both ends in order.
/// The longest collection name, in characters.
pub const MAX_COLLECTION_CHARS: usize = 80;

pub(crate) fn validate_share(share: &NewShare) -> Result<()> {
    let invalid = |field: &'static str, reason: &str| StoreError::InvalidInput {
        call_id: share.call_id.clone(),
        field,
        reason: reason.to_owned(),
    };
    if share.call_id.trim().is_empty()
        || share.seller_id.trim().is_empty()
        || share.created_by.trim().is_empty()
    {
        return Err(invalid("share", "call_id, seller_id and created_by are required"));
    }
    if share.recipients.is_empty() || share.recipients.iter().any(|r| r.trim().is_empty()) {
        return Err(invalid("recipients", "at least one, none empty"));
    }
    if share.collection.chars().count() > MAX_COLLECTION_CHARS
        || share.collection.chars().any(char::is_control)
        || share.collection.trim() != share.collection
    {
        return Err(invalid(
            "collection",
            "at most 80 characters, no control characters, no spaces at either end",
        ));
    }
    match (share.start_s, share.end_s) {
        (None, None) => Ok(()),
        (Some(s), Some(e)) if s.is_finite() && e.is_finite() && 0.0 <= s && s < e => Ok(()),
        _ => Err(invalid("start_s", "a clip needs 0 <= start_s < end_s")),
    }
}

/// Millisecond precision, as both backends store times.
pub(crate) fn truncate_millis(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or(t)
}

/// Splits a migration file into statements: `;` at the end of a line ends one;
/// `--` comment lines are dropped.
pub(crate) fn split_statements(sql: &str) -> Vec<String> {
    let mut statements = Vec::new();
    let mut current = String::new();
    for line in sql.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("--") || trimmed.is_empty() {
            continue;
        }
        current.push_str(line);
        current.push('\n');
        if trimmed.ends_with(';') {
            let statement = current.trim().trim_end_matches(';').trim().to_owned();
            if !statement.is_empty() {
                statements.push(statement);
            }
            current.clear();
        }
    }
    if !current.trim().is_empty() {
        statements.push(current.trim().to_owned());
    }
    statements
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_say_whether_to_retry() {
        let retry = |e: StoreError| e.retry();
        assert_eq!(retry(StoreError::Unavailable("down".into())), Retry::WithBackoff);
        assert_eq!(retry(StoreError::Timeout("slow".into())), Retry::WithBackoff);
        // The deployment's fault, not the call's: wait for `callscope migrate`.
        assert_eq!(retry(StoreError::SchemaMismatch("no table calls".into())), Retry::WithBackoff);
        let invalid = StoreError::InvalidInput { call_id: "c".into(), field: "kpis", reason: "NaN".into() };
        assert_eq!(retry(invalid), Retry::Never);
        assert_eq!(retry(StoreError::Database("syntax".into())), Retry::Never);
    }
}
