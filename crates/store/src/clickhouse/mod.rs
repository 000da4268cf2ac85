//! The ClickHouse backend: the `clickhouse` crate over HTTP, RowBinary.
//!
//! # Writes, and why they never double count
//! A write of a batch:
//! 1. validates every call (all or nothing);
//! 2. takes a new `version` (nanoseconds, strictly increasing per process);
//! 3. reads the calls' current `(seller_id, started_at)`, if stored;
//! 4. inserts the child rows (mentions, utterances, action items, customer
//!    keywords) of the new version, then the `calls` rows, plus a tombstone
//!    (`is_deleted = 1`) under the old sorting key for any call whose seller or
//!    start moved. `calls` is a `ReplacingMergeTree(version, is_deleted)`, so
//!    `FINAL` sees exactly one live row per call. Children are written first so
//!    that a live `calls` row always has its children;
//! 5. recomputes `seller_daily` for every (seller, day) the batch touched, old
//!    keys included, from `calls FINAL`: a tombstone per key first, then the
//!    fresh sums, both versioned by the server's clock at the time of the read,
//!    so the last recomputation wins and it has seen every committed call;
//! 6. deletes child rows of older versions of replaced calls (readers ignore
//!    them anyway: they only join the current `(call_id, version)`).
//!
//! Materialized views were the obvious alternative for `seller_daily`, but they
//! fire on every insert: a reprocessed call would be counted twice. Recomputing
//! the touched keys costs one small `GROUP BY` per batch and is exact.
//!
//! # Layout
//! - `mod.rs` (here): [`ClickHouseConfig`], [`ClickHouseStore`], how client
//!   errors become [`StoreError`]s, and the [`Store`] implementation, which
//!   hands each method to one of:
//! - `migrate.rs`: [`MIGRATIONS`] from `schemas/clickhouse/`, and
//!   [`ClickHouseStore::check_schema`];
//! - `write.rs`: the batch write above, comments, `seller_daily` recomputation;
//! - `read.rs`: the queries;
//! - `erase.rs`: erasure of calls and every row about them, crash-safe;
//! - `audit.rs`: the audit trail (`audit_log`), its expiry and TTL;
//! - `tls.rs`: [`ClickHouseTls`], the CA bundle and client certificate for
//!   `https://` URLs.

mod audit;
mod erase;
mod migrate;
mod read;
mod tls;
mod write;

use std::time::Duration;

use async_trait::async_trait;
use callscope_model::CallAnalysis;
use chrono::{DateTime, Utc};
use clickhouse::Client;

pub use self::migrate::MIGRATIONS;
pub use self::tls::{ClickHouseTls, ClickHouseTlsFiles, TlsConfigError};
use crate::types::*;
use crate::{Result, Store, StoreError, VersionClock};

/// How to reach ClickHouse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClickHouseConfig {
    /// HTTP endpoint, for example `http://127.0.0.1:8123`, or with TLS
    /// `https://host:8443` (verified against the built-in Mozilla roots unless
    /// [`ClickHouseConfig::tls`] names a CA bundle).
    pub url: String,
    /// Database holding callscope's tables; created by `migrate`.
    pub database: String,
    /// User, if the server requires one.
    pub user: Option<String>,
    /// Password (never logged).
    pub password: Option<String>,
    /// Per-request timeout.
    pub timeout: Duration,
    /// TLS settings (a private CA, a client certificate); `None`: the built-in
    /// roots for `https://` URLs.
    pub tls: Option<ClickHouseTls>,
}

impl Default for ClickHouseConfig {
    fn default() -> Self {
        ClickHouseConfig {
            url: "http://127.0.0.1:8123".into(),
            database: "callscope".into(),
            user: None,
            password: None,
            timeout: Duration::from_secs(30),
            tls: None,
        }
    }
}

/// [`Store`] on ClickHouse.
pub struct ClickHouseStore {
    client: Client,
    /// The same client without a database, to create it.
    server: Client,
    database: String,
    timeout: Duration,
    versions: VersionClock,
}

impl std::fmt::Debug for ClickHouseStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClickHouseStore").field("database", &self.database).finish_non_exhaustive()
    }
}

/// ClickHouse error codes a retry can fix: the server is overloaded, out of
/// memory or disk for now, a replica or Keeper is away, the network between
/// the servers failed, or the query was cancelled. From ClickHouse's
/// `src/Common/ErrorCodes.cpp` and the codes its own clients retry.
const RETRYABLE_CODES: &[u32] = &[
    3,    // UNEXPECTED_END_OF_FILE (a cut connection mid-request)
    159,  // TIMEOUT_EXCEEDED
    160,  // TOO_SLOW
    164,  // READONLY (a replica in read-only mode for maintenance)
    173,  // CANNOT_ALLOCATE_MEMORY
    201,  // QUOTA_EXCEEDED (resets with its interval)
    202,  // TOO_MANY_SIMULTANEOUS_QUERIES
    203,  // NO_FREE_CONNECTION
    209,  // SOCKET_TIMEOUT
    210,  // NETWORK_ERROR
    225,  // NO_ZOOKEEPER
    236,  // ABORTED
    241,  // MEMORY_LIMIT_EXCEEDED
    242,  // TABLE_IS_READ_ONLY
    243,  // NOT_ENOUGH_SPACE
    252,  // TOO_MANY_PARTS
    285,  // TOO_FEW_LIVE_REPLICAS
    286,  // UNSATISFIED_QUORUM_FOR_PREVIOUS_WRITE
    319,  // UNKNOWN_STATUS_OF_INSERT
    394,  // QUERY_WAS_CANCELLED
    425,  // SYSTEM_ERROR
    439,  // CANNOT_SCHEDULE_TASK
    473,  // DEADLOCK_AVOIDED
    999,  // KEEPER_EXCEPTION
    1000, // POCO_EXCEPTION (connection reset, refused, timed out between servers)
];

/// Codes that are the deployment's fault, not the call's: credentials or
/// grants. Every call would fail the same way, so they are waited for (and
/// `/readyz` says so) instead of draining the topic into the dead-letter topic.
const DEPLOYMENT_CODES: &[u32] = &[
    192, // UNKNOWN_USER
    193, // WRONG_PASSWORD
    194, // REQUIRED_PASSWORD
    195, // IP_ADDRESS_NOT_ALLOWED
    497, // ACCESS_DENIED
    516, // AUTHENTICATION_FAILED
];

/// Codes that mean the schema is not what this build expects (run `callscope migrate`).
const SCHEMA_CODES: &[u32] = &[
    16, // NO_SUCH_COLUMN_IN_TABLE
    47, // UNKNOWN_IDENTIFIER
    60, // UNKNOWN_TABLE
    81, // UNKNOWN_DATABASE
];

/// The `Code: N` of a ClickHouse exception text, if there is one.
fn exception_code(message: &str) -> Option<u32> {
    message
        .split("Code: ")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|c| c.parse::<u32>().ok())
}

/// Maps a client error to a [`StoreError`] that says whether to retry.
///
/// Only an exception ClickHouse itself raised about the data (a `Code: N` not
/// listed above) is permanent. Everything else is retried: network errors,
/// resets and timeouts; the listed temporary codes; and any answer without a
/// `Code:` at all. ClickHouse puts `Code: N` in every exception it sends (in
/// the body or the `X-ClickHouse-Exception-Code` header), so an answer without
/// one comes from something in between (a load balancer's 502/503/504 page, a
/// proxy's HTML, a bare status line): the server was not reached.
#[allow(clippy::wildcard_enum_match_arm)] // the client's error enum is foreign and non-exhaustive
fn map_err(err: clickhouse::error::Error) -> StoreError {
    use clickhouse::error::Error as E;
    match err {
        E::Network(e) => StoreError::Unavailable(error_chain(&*e)),
        E::TimedOut => StoreError::Timeout("request timed out".into()),
        E::SchemaMismatch(m) => StoreError::SchemaMismatch(m),
        E::BadResponse(m) => match exception_code(&m) {
            Some(c) if SCHEMA_CODES.contains(&c) => StoreError::SchemaMismatch(m),
            Some(159 | 209) => StoreError::Timeout(m),
            Some(c) if RETRYABLE_CODES.contains(&c) || DEPLOYMENT_CODES.contains(&c) => {
                StoreError::Unavailable(m)
            }
            Some(_) => StoreError::Database(m),
            None => StoreError::Unavailable(format!("not an answer from ClickHouse: {}", excerpt(&m))),
        },
        other => StoreError::Database(other.to_string()),
    }
}

/// The start of a (possibly HTML) error page, on one line, for logs.
fn excerpt(body: &str) -> String {
    let flat: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &flat[..i]),
        None => flat,
    }
}

/// An error with its causes, `outer: inner: innermost`: the HTTP client's own
/// message ("client error (Connect)") says nothing without them, while the
/// innermost one names the problem (a refused connection, an unknown CA).
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = cause.source();
    }
    out
}

/// The columns of `seller_daily` that [`DailyAggregate`] reads and the writer
/// recomputes, in order.
const DAILY_COLUMNS: &str = "seller_id, team, day, calls, low_confidence_calls, duration_s, talk_ratio_sum, \
     talk_ratio_n, seller_wpm_sum, seller_wpm_n, switches, pause_sum, pause_n, longest_customer_monologue_sum, \
     interruptions, seller_questions, positive, neutral, negative, won, lost";

impl ClickHouseStore {
    /// A store for the given server. Connects lazily; [`Store::migrate`] checks
    /// that the server answers.
    pub fn new(config: &ClickHouseConfig) -> Self {
        let client = match &config.tls {
            Some(tls) => tls.client(),
            None => Client::default(),
        };
        let mut server = client.with_url(&config.url);
        if let Some(user) = &config.user {
            server = server.with_user(user);
        }
        if let Some(password) = &config.password {
            server = server.with_password(password);
        }
        ClickHouseStore {
            client: server.clone().with_database(&config.database),
            server,
            database: config.database.clone(),
            timeout: config.timeout,
            versions: VersionClock::default(),
        }
    }

    async fn timed<T>(
        &self,
        fut: impl std::future::Future<Output = clickhouse::error::Result<T>>,
    ) -> Result<T> {
        match tokio::time::timeout(self.timeout, fut).await {
            Ok(result) => result.map_err(map_err),
            Err(_) => Err(StoreError::Timeout(format!("no answer within {:?}", self.timeout))),
        }
    }

    async fn execute(
        &self,
        sql: &str,
        binds: impl FnOnce(clickhouse::query::Query) -> clickhouse::query::Query,
    ) -> Result<()> {
        self.timed(binds(self.client.query(sql)).execute()).await
    }

    /// Range bounds as the `DateTime64(3)` literals ClickHouse parses.
    fn bounds(range: DateRange) -> (String, String) {
        let fmt = |t: DateTime<Utc>| t.format("%Y-%m-%d %H:%M:%S%.3f").to_string();
        (fmt(range.start()), fmt(range.end()))
    }
}

#[async_trait]
impl Store for ClickHouseStore {
    fn backend(&self) -> &'static str {
        "clickhouse"
    }

    async fn migrate(&self) -> Result<Vec<String>> {
        migrate::run(self).await
    }

    async fn ping(&self) -> Result<()> {
        // Reads the tiny migrations table: reachable, and migrated.
        self.check_schema().await
    }

    async fn write(&self, calls: &[CallAnalysis]) -> Result<WriteReceipt> {
        write::calls(self, calls).await
    }

    async fn daily(&self, sellers: &SellerFilter, range: DateRange) -> Result<Vec<DailyAggregate>> {
        read::daily(self, sellers, range).await
    }

    async fn sellers(&self) -> Result<Vec<SellerRef>> {
        read::sellers(self).await
    }

    async fn call_history(&self, query: &HistoryQuery) -> Result<Page<CallSummary>> {
        read::call_history(self, query).await
    }

    async fn call(&self, call_id: &str) -> Result<Option<CallDetail>> {
        read::call(self, call_id).await
    }

    async fn mention_counts(&self, seller_id: &str, range: DateRange) -> Result<Vec<TermCount>> {
        read::mention_counts(self, seller_id, range).await
    }

    async fn customer_keywords(&self, seller_id: &str, range: DateRange) -> Result<KeywordFigures> {
        read::customer_keywords(self, seller_id, range).await
    }

    async fn add_comment(&self, comment: NewComment) -> Result<Comment> {
        write::add_comment(self, comment).await
    }

    async fn comment(&self, comment_id: &str) -> Result<Option<Comment>> {
        Ok(read::comment_row(self, comment_id).await?.map(read::CommentRow::into_comment))
    }

    async fn comments(&self, call_id: &str) -> Result<Vec<Comment>> {
        read::comments(self, call_id).await
    }

    async fn seller_comments(&self, seller_id: &str, range: DateRange, limit: usize) -> Result<Vec<Comment>> {
        read::seller_comments(self, seller_id, range, limit).await
    }

    async fn delete_comment(&self, comment_id: &str) -> Result<bool> {
        write::delete_comment(self, comment_id).await
    }

    async fn edit_comment(&self, comment_id: &str, text: &str) -> Result<Option<Comment>> {
        write::edit_comment(self, comment_id, text).await
    }

    async fn add_share(&self, share: NewShare) -> Result<Share> {
        write::add_share(self, share).await
    }

    async fn share(&self, share_id: &str) -> Result<Option<Share>> {
        read::share(self, share_id).await
    }

    async fn call_shares(&self, call_id: &str) -> Result<Vec<Share>> {
        read::call_shares(self, call_id).await
    }

    async fn shares_for(&self, recipients: &[String]) -> Result<Vec<Share>> {
        read::shares_for(self, recipients).await
    }

    async fn revoke_share(&self, share_id: &str) -> Result<bool> {
        write::revoke_share(self, share_id).await
    }

    async fn search(&self, query: &SearchQuery) -> Result<Vec<SearchHit>> {
        read::search(self, query).await
    }

    async fn erase(&self, scope: &EraseScope, dry_run: bool) -> Result<Erasure> {
        erase::erase(self, scope, dry_run).await
    }

    async fn record_audit(&self, entries: &[AuditEntry]) -> Result<()> {
        audit::record(self, entries).await
    }

    async fn audit_log(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>> {
        audit::read(self, query).await
    }

    async fn expire_audit(&self, before: DateTime<Utc>, dry_run: bool) -> Result<u64> {
        audit::expire(self, before, dry_run).await
    }

    async fn set_audit_ttl(&self, days: u32) -> Result<()> {
        audit::set_ttl(self, days).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_say_whether_to_retry() {
        use crate::Retry;
        let bad = |m: &str| map_err(clickhouse::error::Error::BadResponse(m.into()));
        assert!(matches!(bad("Code: 60. DB::Exception: Unknown table"), StoreError::SchemaMismatch(_)));
        assert_eq!(bad("Code: 60. DB::Exception: Unknown table").retry(), Retry::WithBackoff);
        assert_eq!(bad("Code: 159. DB::Exception: Timeout exceeded").retry(), Retry::WithBackoff);
        assert_eq!(bad("Code: 62. DB::Exception: Syntax error").retry(), Retry::Never);
        assert_eq!(bad("Code: 27. DB::Exception: Cannot parse input").retry(), Retry::Never);
        assert_eq!(map_err(clickhouse::error::Error::TimedOut).retry(), Retry::WithBackoff);
    }

    #[test]
    fn temporary_server_codes_are_retried() {
        use crate::Retry;
        for code in [241, 242, 999, 202, 203, 252, 285, 319, 425, 1000, 516] {
            let e = map_err(clickhouse::error::Error::BadResponse(format!(
                "Code: {code}. DB::Exception: something temporary. (X) (version 25.1)"
            )));
            assert_eq!(e.retry(), Retry::WithBackoff, "code {code}: {e}");
            assert!(matches!(e, StoreError::Unavailable(_)), "code {code}: {e}");
        }
    }

    #[test]
    fn answers_without_a_code_are_not_clickhouse_and_are_retried() {
        use crate::Retry;
        let pages = [
            "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>",
            "503 Service Unavailable",
            "504 Gateway Timeout",
            "upstream connect error or disconnect/reset before headers. reset reason: connection termination",
            "",
        ];
        for page in pages {
            let e = map_err(clickhouse::error::Error::BadResponse(page.into()));
            assert_eq!(e.retry(), Retry::WithBackoff, "{page:?}: {e}");
            assert!(e.to_string().contains("not an answer from ClickHouse"), "{e}");
            assert!(!e.to_string().contains('\n'), "one line: {e}");
        }
        let long = format!("<html>{}</html>", "x".repeat(5000));
        assert!(map_err(clickhouse::error::Error::BadResponse(long)).to_string().len() < 400);
    }
}
