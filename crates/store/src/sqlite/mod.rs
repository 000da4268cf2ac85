//! The embedded backend: SQLite (bundled, no server), the default when no
//! ClickHouse URL is configured.
//!
//! One connection behind a mutex, used from tokio's blocking pool: SQLite
//! serializes writers anyway, and the embedded default serves one team. A write
//! is one transaction: a reprocessed call's row and child rows are replaced
//! together, so readers never see a mix. Daily aggregates are computed on read
//! from an index on `(seller_id, started_at)`: at the embedded scale (tens of
//! thousands of calls) that is fast, and there is nothing to keep in sync.
//!
//! # Layout
//! - `mod.rs` (here): [`SqliteStore`], how SQLite errors become
//!   [`StoreError`]s, and the [`Store`] implementation, which runs each method
//!   on the blocking pool as one synchronous function of:
//! - `migrate.rs`: [`MIGRATIONS`] from `schemas/sqlite/`;
//! - `write.rs`: the batch write and comments;
//! - `erase.rs`: erasure of calls and every row about them;
//! - `read.rs`: the queries.

mod audit;
mod erase;
mod migrate;
mod read;
mod write;

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use callscope_model::CallAnalysis;
use chrono::{DateTime, Utc};
use rusqlite::Connection;

pub use self::migrate::MIGRATIONS;
use crate::types::*;
use crate::{Result, Store, StoreError, VersionClock, truncate_millis, validate};

/// [`Store`] on SQLite.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    versions: Arc<VersionClock>,
}

/// Maps a SQLite error to a [`StoreError`] that says whether to retry. A busy
/// or locked database, a full disk, an I/O error, a file that cannot be opened
/// or written, and memory pressure are the machine's state, not the call's:
/// retried (a folder source therefore never marks a file done on them). Only
/// what the statement or the data did wrong is permanent.
#[allow(clippy::wildcard_enum_match_arm)] // rusqlite's error enum is foreign and non-exhaustive
fn db_err(e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(
                f.code,
                ErrorCode::DatabaseBusy
                    | ErrorCode::DatabaseLocked
                    | ErrorCode::DiskFull
                    | ErrorCode::SystemIoFailure
                    | ErrorCode::CannotOpen
                    | ErrorCode::ReadOnly
                    | ErrorCode::PermissionDenied
                    | ErrorCode::FileLockingProtocolFailed
                    | ErrorCode::OutOfMemory
                    | ErrorCode::NoLargeFileSupport
            ) =>
        {
            StoreError::Unavailable(e.to_string())
        }
        rusqlite::Error::SqliteFailure(_, Some(msg))
            if msg.contains("no such table") || msg.contains("no such column") =>
        {
            StoreError::SchemaMismatch(msg.clone())
        }
        _ => StoreError::Database(e.to_string()),
    }
}

/// A time as stored: Unix milliseconds.
fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn from_millis(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

impl SqliteStore {
    /// Opens (creating if needed) the database file. Run [`Store::migrate`] next.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let conn = Connection::open(path.as_ref()).map_err(db_err)?;
        Self::with_connection(conn)
    }

    /// An in-memory database (tests, one-off runs).
    pub fn in_memory() -> Result<Self> {
        Self::with_connection(Connection::open_in_memory().map_err(db_err)?)
    }

    fn with_connection(conn: Connection) -> Result<Self> {
        conn.pragma_update(None, "journal_mode", "WAL").map_err(db_err)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(db_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(db_err)?;
        Ok(SqliteStore { conn: Arc::new(Mutex::new(conn)), versions: Arc::new(VersionClock::default()) })
    }

    /// Runs `f` with the connection on the blocking pool.
    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            // A panic while the lock was held leaves no half-done write behind:
            // an open transaction is rolled back when it is dropped.
            let mut guard = conn.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            f(&mut guard)
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("blocking task failed: {e}")))?
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn migrate(&self) -> Result<Vec<String>> {
        self.with(migrate::run).await
    }

    async fn ping(&self) -> Result<()> {
        self.with(|conn| {
            conn.query_row("SELECT count(*) FROM callscope_migrations", [], |r| r.get::<_, i64>(0))
                .map(|_| ())
                .map_err(db_err)
        })
        .await
    }

    async fn write(&self, calls: &[CallAnalysis]) -> Result<WriteReceipt> {
        for call in calls {
            validate(call)?;
        }
        let version = self.versions.next();
        let calls = calls.to_vec();
        self.with(move |conn| write::calls(conn, &calls, version)).await
    }

    async fn daily(&self, sellers: &SellerFilter, range: DateRange) -> Result<Vec<DailyAggregate>> {
        let sellers = sellers.clone();
        self.with(move |conn| read::daily(conn, &sellers, range)).await
    }

    async fn sellers(&self) -> Result<Vec<SellerRef>> {
        self.with(|conn| read::sellers(conn)).await
    }

    async fn call_history(&self, query: &HistoryQuery) -> Result<Page<CallSummary>> {
        let query = query.clone();
        self.with(move |conn| read::call_history(conn, &query)).await
    }

    async fn call(&self, call_id: &str) -> Result<Option<CallDetail>> {
        let id = call_id.to_owned();
        self.with(move |conn| read::call(conn, &id)).await
    }

    async fn mention_counts(&self, seller_id: &str, range: DateRange) -> Result<Vec<TermCount>> {
        let seller = seller_id.to_owned();
        self.with(move |conn| read::mention_counts(conn, &seller, range)).await
    }

    async fn customer_keywords(&self, seller_id: &str, range: DateRange) -> Result<KeywordFigures> {
        let seller = seller_id.to_owned();
        self.with(move |conn| read::customer_keywords(conn, &seller, range)).await
    }

    async fn add_comment(&self, comment: NewComment) -> Result<Comment> {
        if comment.text.trim().is_empty() {
            return Err(StoreError::InvalidInput {
                call_id: comment.call_id,
                field: "text",
                reason: "a comment needs text".into(),
            });
        }
        let comment_id = format!("cm-{:x}", self.versions.next());
        let created_at = truncate_millis(Utc::now());
        let stored = Comment { comment_id, created_at, edited_at: None, comment };
        let row = stored.clone();
        self.with(move |conn| write::add_comment(conn, &row)).await?;
        Ok(stored)
    }

    async fn comment(&self, comment_id: &str) -> Result<Option<Comment>> {
        let id = comment_id.to_owned();
        self.with(move |conn| read::comment(conn, &id)).await
    }

    async fn comments(&self, call_id: &str) -> Result<Vec<Comment>> {
        let id = call_id.to_owned();
        self.with(move |conn| read::comments(conn, &id)).await
    }

    async fn seller_comments(&self, seller_id: &str, range: DateRange, limit: usize) -> Result<Vec<Comment>> {
        let seller = seller_id.to_owned();
        self.with(move |conn| read::seller_comments(conn, &seller, range, limit)).await
    }

    async fn delete_comment(&self, comment_id: &str) -> Result<bool> {
        let id = comment_id.to_owned();
        self.with(move |conn| write::delete_comment(conn, &id)).await
    }

    async fn edit_comment(&self, comment_id: &str, text: &str) -> Result<Option<Comment>> {
        if text.trim().is_empty() {
            return Err(StoreError::InvalidInput {
                call_id: String::new(),
                field: "text",
                reason: "a comment needs text".into(),
            });
        }
        let (id, text) = (comment_id.to_owned(), text.to_owned());
        let edited_at = truncate_millis(Utc::now());
        self.with(move |conn| {
            if !write::edit_comment(conn, &id, &text, edited_at)? {
                return Ok(None);
            }
            read::comment(conn, &id)
        })
        .await
    }

    async fn add_share(&self, share: NewShare) -> Result<Share> {
        crate::validate_share(&share)?;
        let share_id = format!("sh-{:x}", self.versions.next());
        let stored = Share { share_id, created_at: truncate_millis(Utc::now()), share };
        let row = stored.clone();
        self.with(move |conn| write::add_share(conn, &row)).await?;
        Ok(stored)
    }

    async fn share(&self, share_id: &str) -> Result<Option<Share>> {
        let id = share_id.to_owned();
        self.with(move |conn| read::share(conn, &id)).await
    }

    async fn call_shares(&self, call_id: &str) -> Result<Vec<Share>> {
        let id = call_id.to_owned();
        self.with(move |conn| read::call_shares(conn, &id)).await
    }

    async fn shares_for(&self, recipients: &[String]) -> Result<Vec<Share>> {
        let recipients = recipients.to_vec();
        self.with(move |conn| read::shares_for(conn, &recipients)).await
    }

    async fn revoke_share(&self, share_id: &str) -> Result<bool> {
        let id = share_id.to_owned();
        self.with(move |conn| write::revoke_share(conn, &id)).await
    }

    async fn search(&self, query: &SearchQuery) -> Result<Vec<SearchHit>> {
        let query = query.clone();
        self.with(move |conn| read::search(conn, &query)).await
    }

    async fn erase(&self, scope: &EraseScope, dry_run: bool) -> Result<Erasure> {
        let scope = scope.clone();
        self.with(move |conn| erase::erase(conn, &scope, dry_run)).await
    }

    async fn record_audit(&self, entries: &[AuditEntry]) -> Result<()> {
        let entries = entries.to_vec();
        self.with(move |conn| audit::record(conn, &entries)).await
    }

    async fn audit_log(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>> {
        let query = query.clone();
        self.with(move |conn| audit::read(conn, &query)).await
    }

    async fn expire_audit(&self, before: DateTime<Utc>, dry_run: bool) -> Result<u64> {
        self.with(move |conn| audit::expire(conn, before, dry_run)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Retry;

    fn failure(code: i32, msg: Option<&str>) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), msg.map(str::to_owned))
    }

    #[test]
    fn the_machines_state_is_retried_the_datas_fault_is_not() {
        use rusqlite::ffi;
        for code in [
            ffi::SQLITE_BUSY,
            ffi::SQLITE_LOCKED,
            ffi::SQLITE_FULL,
            ffi::SQLITE_IOERR,
            ffi::SQLITE_IOERR_WRITE,
            ffi::SQLITE_IOERR_FSYNC,
            ffi::SQLITE_CANTOPEN,
            ffi::SQLITE_READONLY,
            ffi::SQLITE_NOMEM,
        ] {
            let e = db_err(failure(code, Some("database or disk is full")));
            assert_eq!(e.retry(), Retry::WithBackoff, "code {code}: {e}");
        }
        assert_eq!(
            db_err(failure(ffi::SQLITE_ERROR, Some("no such table: calls"))).retry(),
            Retry::WithBackoff
        );
        assert_eq!(db_err(failure(ffi::SQLITE_CONSTRAINT, Some("NOT NULL"))).retry(), Retry::Never);
        assert_eq!(db_err(failure(ffi::SQLITE_TOOBIG, None)).retry(), Retry::Never);
    }

    #[tokio::test]
    async fn a_write_to_a_read_only_database_is_retried() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c.db");
        SqliteStore::open(&path).expect("open").migrate().await.expect("migrate");
        let ro = rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("open read-only");
        let store = SqliteStore::with_connection(ro).expect("store");
        let err = store
            .with(|conn| conn.execute("DELETE FROM calls", []).map_err(db_err))
            .await
            .expect_err("read-only");
        assert_eq!(err.retry(), Retry::WithBackoff, "{err}");
    }
}
