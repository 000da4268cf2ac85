//! The embedded backend: SQLite (bundled, no server), the default when no
//! ClickHouse URL is configured.
//!
//! One connection behind a mutex, used from tokio's blocking pool: SQLite
//! serializes writers anyway, and the embedded default serves one team. A write
//! is one transaction: a reprocessed call's row and child rows are replaced
//! together, so readers never see a mix. Daily aggregates are computed on read
//! from an index on `(seller_id, started_at)`: at the embedded scale (tens of
//! thousands of calls) that is fast, and there is nothing to keep in sync.

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use callscope_model::CallAnalysis;
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use crate::clickhouse::{rank_keywords, split_statements, truncate_millis};
use crate::rows::{CALL_COLUMNS, CallRow, flatten};
use crate::types::*;
use crate::{Result, Store, StoreError, VersionClock, validate};

/// The schema migrations, in order (`schemas/sqlite/`).
pub const MIGRATIONS: &[(u32, &str, &str)] = &[
    (1, "001_init", include_str!("../../../schemas/sqlite/001_init.sql")),
    (2, "002_attribution", include_str!("../../../schemas/sqlite/002_attribution.sql")),
];

/// [`Store`] on SQLite.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    versions: Arc<VersionClock>,
}

#[allow(clippy::wildcard_enum_match_arm)] // rusqlite's error enum is foreign and non-exhaustive
fn db_err(e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(f.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) =>
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

fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn from_millis(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// Reads a [`CallRow`] from `SELECT {CALL_COLUMNS}, transcript, signals, version, processed_at`.
fn call_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CallRow> {
    Ok(CallRow {
        call_id: r.get(0)?,
        seller_id: r.get(1)?,
        team: r.get(2)?,
        customer: r.get(3)?,
        started_at: from_millis(r.get(4)?),
        duration_s: r.get(5)?,
        direction: r.get(6)?,
        outcome: r.get(7)?,
        audio_uri: r.get(8)?,
        pipeline_version: r.get(9)?,
        asr_model: r.get(10)?,
        sentiment_model: r.get(11)?,
        kpi_version: r.get(12)?,
        seller_talk_s: r.get(13)?,
        customer_talk_s: r.get(14)?,
        talk_ratio: r.get(15)?,
        seller_wpm: r.get(16)?,
        customer_wpm: r.get(17)?,
        switches: r.get(18)?,
        switches_per_hour: r.get(19)?,
        avg_pause_s: r.get(20)?,
        longest_customer_monologue_s: r.get(21)?,
        longest_seller_monologue_s: r.get(22)?,
        interruptions: r.get(23)?,
        seller_questions: r.get(24)?,
        seller_turns: r.get(25)?,
        customer_turns: r.get(26)?,
        backchannels: r.get(27)?,
        customer_sentiment: r.get(28)?,
        customer_sentiment_score: r.get(29)?,
        positive_share: r.get(30)?,
        neutral_share: r.get(31)?,
        negative_share: r.get(32)?,
        mentions: r.get(33)?,
        action_items: r.get(34)?,
        questions: r.get(35)?,
        attribution_method: r.get(36)?,
        attribution_confidence: r.get(37)?,
        attribution_low_confidence: r.get(38)?,
        transcript: r.get(39)?,
        signals: r.get(40)?,
        version: u64::try_from(r.get::<_, i64>(41)?).unwrap_or(0),
        is_deleted: 0,
        processed_at: from_millis(r.get(42)?),
    })
}

/// Reads a [`Comment`] from `SELECT comment_id, call_id, author, author_role,
/// at_s, text, parent_id, created_at`.
fn comment_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Comment> {
    Ok(Comment {
        comment_id: r.get(0)?,
        created_at: from_millis(r.get(7)?),
        comment: NewComment {
            call_id: r.get(1)?,
            author: r.get(2)?,
            author_role: r.get(3)?,
            at_s: r.get(4)?,
            text: r.get(5)?,
            parent_id: r.get(6)?,
        },
    })
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
            let mut guard =
                conn.lock().map_err(|_| StoreError::Database("connection mutex poisoned".into()))?;
            f(&mut guard)
        })
        .await
        .map_err(|e| StoreError::Database(format!("blocking task failed: {e}")))?
    }
}

fn write_batch(conn: &mut Connection, calls: Vec<CallAnalysis>, version: u64) -> Result<WriteReceipt> {
    let now = Utc::now();
    let tx = conn.transaction().map_err(db_err)?;
    let mut receipt = WriteReceipt::default();
    for call in &calls {
        let f = flatten(call, version, now);
        let c = &f.call;
        let existed: Option<String> = tx
            .query_row("SELECT day FROM calls WHERE call_id = ?", [&c.call_id], |r| r.get(0))
            .optional()
            .map_err(db_err)?;
        if let Some(old_day) = existed {
            // Take the old version's phrases out of the document frequencies.
            tx.execute(
                "UPDATE keyword_daily SET calls = calls - 1 WHERE day = ?1 \
                 AND phrase IN (SELECT DISTINCT phrase FROM customer_keywords WHERE call_id = ?2)",
                params![old_day, c.call_id],
            )
            .map_err(db_err)?;
            for table in ["mentions", "utterances", "action_items", "customer_keywords"] {
                tx.execute(&format!("DELETE FROM {table} WHERE call_id = ?"), [&c.call_id])
                    .map_err(db_err)?;
            }
            receipt.replaced += 1;
        }
        let started = millis(c.started_at);
        tx.execute(
            &format!(
                "INSERT OR REPLACE INTO calls ({CALL_COLUMNS}, transcript, signals, version, processed_at, day) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, \
                 ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34, ?35, ?36, ?37, ?38, \
                 ?39, ?40, ?41, ?42, ?43, ?44)"
            ),
            rusqlite::params_from_iter::<[&dyn rusqlite::ToSql; 44]>([
                &c.call_id,
                &c.seller_id,
                &c.team,
                &c.customer,
                &started,
                &c.duration_s,
                &c.direction,
                &c.outcome,
                &c.audio_uri,
                &c.pipeline_version,
                &c.asr_model,
                &c.sentiment_model,
                &c.kpi_version,
                &c.seller_talk_s,
                &c.customer_talk_s,
                &c.talk_ratio,
                &c.seller_wpm,
                &c.customer_wpm,
                &c.switches,
                &c.switches_per_hour,
                &c.avg_pause_s,
                &c.longest_customer_monologue_s,
                &c.longest_seller_monologue_s,
                &c.interruptions,
                &c.seller_questions,
                &c.seller_turns,
                &c.customer_turns,
                &c.backchannels,
                &c.customer_sentiment,
                &c.customer_sentiment_score,
                &c.positive_share,
                &c.neutral_share,
                &c.negative_share,
                &c.mentions,
                &c.action_items,
                &c.questions,
                &c.attribution_method,
                &c.attribution_confidence,
                &c.attribution_low_confidence,
                &c.transcript,
                &c.signals,
                &(c.version as i64),
                &millis(c.processed_at),
                &c.started_at.date_naive().to_string(),
            ]),
        )
        .map_err(db_err)?;
        let v = version as i64;
        let mut stmt = tx
            .prepare_cached(
                "INSERT INTO mentions (call_id, version, seller_id, started_at, term, kind, role, speaker, \
                 start_s, end_s, matched, context) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .map_err(db_err)?;
        for m in &f.mentions {
            stmt.execute(params![
                m.call_id,
                v,
                m.seller_id,
                started,
                m.term,
                m.kind,
                m.role,
                m.speaker,
                m.start_s,
                m.end_s,
                m.matched,
                m.context
            ])
            .map_err(db_err)?;
        }
        drop(stmt);
        let mut stmt = tx
            .prepare_cached(
                "INSERT INTO utterances (call_id, version, seller_id, started_at, turn, role, start_s, end_s, \
                 text, sentiment, sentiment_score) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .map_err(db_err)?;
        for u in &f.utterances {
            stmt.execute(params![
                u.call_id,
                v,
                u.seller_id,
                started,
                u.turn,
                u.role,
                u.start_s,
                u.end_s,
                u.text,
                u.sentiment,
                u.sentiment_score
            ])
            .map_err(db_err)?;
        }
        drop(stmt);
        let mut stmt = tx
            .prepare_cached(
                "INSERT INTO action_items (call_id, version, seller_id, started_at, owner, speaker, start_s, \
                 end_s, text) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .map_err(db_err)?;
        for a in &f.action_items {
            stmt.execute(params![
                a.call_id,
                v,
                a.seller_id,
                started,
                a.owner,
                a.speaker,
                a.start_s,
                a.end_s,
                a.text
            ])
            .map_err(db_err)?;
        }
        drop(stmt);
        let mut stmt = tx
            .prepare_cached(
                "INSERT INTO customer_keywords (call_id, version, seller_id, started_at, phrase, count) \
                 VALUES (?, ?, ?, ?, ?, ?)",
            )
            .map_err(db_err)?;
        for k in &f.keywords {
            stmt.execute(params![k.call_id, v, k.seller_id, started, k.phrase, k.count]).map_err(db_err)?;
        }
        drop(stmt);
        let mut stmt = tx
            .prepare_cached(
                "INSERT INTO keyword_daily (phrase, day, calls) VALUES (?, ?, 1) \
                 ON CONFLICT (phrase, day) DO UPDATE SET calls = calls + 1",
            )
            .map_err(db_err)?;
        let day = c.started_at.date_naive().to_string();
        let phrases: std::collections::BTreeSet<&str> =
            f.keywords.iter().map(|k| k.phrase.as_str()).collect();
        for phrase in phrases {
            stmt.execute(params![phrase, day]).map_err(db_err)?;
        }
        drop(stmt);
        receipt.call_ids.push(c.call_id.clone());
    }
    tx.commit().map_err(db_err)?;
    Ok(receipt)
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn migrate(&self) -> Result<Vec<String>> {
        self.with(|conn| {
            conn.execute_batch(
                "CREATE TABLE IF NOT EXISTS callscope_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, \
                 applied_at INTEGER NOT NULL)",
            )
            .map_err(db_err)?;
            let mut done = Vec::new();
            for (version, name, sql) in MIGRATIONS {
                let applied: Option<i64> = conn
                    .query_row("SELECT version FROM callscope_migrations WHERE version = ?", [version], |r| r.get(0))
                    .optional()
                    .map_err(db_err)?;
                if applied.is_some() {
                    continue;
                }
                let tx = conn.transaction().map_err(db_err)?;
                for statement in split_statements(sql) {
                    tx.execute_batch(&statement).map_err(db_err)?;
                }
                tx.execute(
                    "INSERT INTO callscope_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    params![version, name, Utc::now().timestamp_millis()],
                )
                .map_err(db_err)?;
                tx.commit().map_err(db_err)?;
                done.push((*name).to_owned());
            }
            Ok(done)
        })
        .await
    }

    async fn write(&self, calls: &[CallAnalysis]) -> Result<WriteReceipt> {
        for call in calls {
            validate(call)?;
        }
        let version = self.versions.next();
        let calls = calls.to_vec();
        self.with(move |conn| write_batch(conn, calls, version)).await
    }

    async fn daily(&self, sellers: &SellerFilter, range: DateRange) -> Result<Vec<DailyAggregate>> {
        let (filter, value) = match sellers {
            SellerFilter::Seller(s) => ("seller_id = ?1", s.clone()),
            SellerFilter::Team(t) => ("team = ?1", t.clone()),
            SellerFilter::All => ("?1 = ?1", String::new()),
        };
        let sql = format!(
            "SELECT seller_id, team, day, max(started_at), count(*), total(duration_s), total({ok} talk_ratio END), \
             count({ok} talk_ratio END), total({ok} seller_wpm END), count({ok} seller_wpm END), \
             total({ok} switches END), total({ok} avg_pause_s END), count({ok} avg_pause_s END), \
             total({ok} longest_customer_monologue_s END), total({ok} interruptions END), \
             total({ok} seller_questions END), total({ok} customer_sentiment = 'positive' END), \
             total({ok} customer_sentiment = 'neutral' END), total({ok} customer_sentiment = 'negative' END), \
             total(outcome = 'won'), total(outcome = 'lost'), total(attribution_low_confidence != 0) \
             FROM calls WHERE {filter} AND started_at >= ?2 AND started_at < ?3 \
             GROUP BY seller_id, day ORDER BY seller_id, day",
            // KPIs and sentiment only of calls whose attribution is trusted.
            ok = "CASE WHEN attribution_low_confidence = 0 THEN"
        );
        let (start, end) = (millis(range.start()), millis(range.end()));
        self.with(move |conn| {
            let mut stmt = conn.prepare_cached(&sql).map_err(db_err)?;
            let count =
                |r: &rusqlite::Row<'_>, i: usize| -> rusqlite::Result<u64> { Ok(r.get::<_, f64>(i)? as u64) };
            let rows = stmt
                .query_map(params![value, start, end], |r| {
                    let day: String = r.get(2)?;
                    Ok(DailyAggregate {
                        seller_id: r.get(0)?,
                        team: r.get(1)?,
                        day: NaiveDate::parse_from_str(&day, "%Y-%m-%d").unwrap_or_default(),
                        calls: u64::try_from(r.get::<_, i64>(4)?).unwrap_or(0),
                        low_confidence_calls: count(r, 21)?,
                        duration_s: r.get(5)?,
                        talk_ratio_sum: r.get(6)?,
                        talk_ratio_n: u64::try_from(r.get::<_, i64>(7)?).unwrap_or(0),
                        seller_wpm_sum: r.get(8)?,
                        seller_wpm_n: u64::try_from(r.get::<_, i64>(9)?).unwrap_or(0),
                        switches: count(r, 10)?,
                        pause_sum: r.get(11)?,
                        pause_n: u64::try_from(r.get::<_, i64>(12)?).unwrap_or(0),
                        longest_customer_monologue_sum: r.get(13)?,
                        interruptions: count(r, 14)?,
                        seller_questions: count(r, 15)?,
                        positive: count(r, 16)?,
                        neutral: count(r, 17)?,
                        negative: count(r, 18)?,
                        won: count(r, 19)?,
                        lost: count(r, 20)?,
                    })
                })
                .map_err(db_err)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)
        })
        .await
    }

    async fn sellers(&self) -> Result<Vec<SellerRef>> {
        self.with(|conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT seller_id, team, max(started_at), count(*) FROM calls GROUP BY seller_id ORDER BY seller_id",
                )
                .map_err(db_err)?;
            let rows = stmt
                .query_map([], |r| {
                    Ok(SellerRef {
                        seller_id: r.get(0)?,
                        team: r.get(1)?,
                        calls: u64::try_from(r.get::<_, i64>(3)?).unwrap_or(0),
                    })
                })
                .map_err(db_err)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)
        })
        .await
    }

    async fn call_history(&self, query: &HistoryQuery) -> Result<Page<CallSummary>> {
        let q = query.clone();
        self.with(move |conn| {
            let mut filter = String::from("seller_id = ?1 AND started_at >= ?2 AND started_at < ?3");
            let mut args: Vec<Box<dyn rusqlite::ToSql>> =
                vec![Box::new(q.seller_id.clone()), Box::new(millis(q.range.start())), Box::new(millis(q.range.end()))];
            if let Some(term) = &q.term {
                args.push(Box::new(term.clone()));
                filter.push_str(&format!(
                    " AND call_id IN (SELECT call_id FROM mentions WHERE seller_id = ?1 AND term = ?{})",
                    args.len()
                ));
            }
            if let Some(keyword) = &q.keyword {
                args.push(Box::new(keyword.clone()));
                filter.push_str(&format!(
                    " AND call_id IN (SELECT call_id FROM customer_keywords WHERE seller_id = ?1 AND phrase = ?{})",
                    args.len()
                ));
            }
            let (order, dir) = (q.sort.column(), q.direction());
            let size = q.page_size.clamp(1, 500);
            let total: i64 = conn
                .query_row(
                    &format!("SELECT count(*) FROM calls WHERE {filter}"),
                    rusqlite::params_from_iter(args.iter()),
                    |r| r.get(0),
                )
                .map_err(db_err)?;
            let sql = format!(
                "SELECT {CALL_COLUMNS}, '' AS transcript, '' AS signals, version, processed_at FROM calls \
                 WHERE {filter} ORDER BY {order} IS NULL, {order} {dir}, call_id LIMIT {size} OFFSET {}",
                u64::from(q.page) * u64::from(size)
            );
            let mut stmt = conn.prepare(&sql).map_err(db_err)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), call_row).map_err(db_err)?;
            let items = rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)?;
            Ok(Page { items: items.iter().map(CallRow::summary).collect(), total: u64::try_from(total).unwrap_or(0) })
        })
        .await
    }

    async fn call(&self, call_id: &str) -> Result<Option<CallDetail>> {
        let id = call_id.to_owned();
        self.with(move |conn| {
            let sql = format!("SELECT {CALL_COLUMNS}, transcript, signals, version, processed_at FROM calls WHERE call_id = ?");
            let row = conn.query_row(&sql, [id], call_row).optional().map_err(db_err)?;
            Ok(row.map(|r| r.detail()))
        })
        .await
    }

    async fn mention_counts(&self, seller_id: &str, range: DateRange) -> Result<Vec<TermCount>> {
        let seller = seller_id.to_owned();
        self.with(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT kind, term, count(*), total(role = 'customer'), count(DISTINCT call_id) FROM mentions \
                     WHERE seller_id = ? AND started_at >= ? AND started_at < ? \
                     GROUP BY kind, term ORDER BY count(*) DESC, term",
                )
                .map_err(db_err)?;
            let rows = stmt
                .query_map(params![seller, millis(range.start()), millis(range.end())], |r| {
                    Ok(TermCount {
                        kind: parse_kind(&r.get::<_, String>(0)?),
                        term: r.get(1)?,
                        mentions: u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
                        by_customer: r.get::<_, f64>(3)? as u64,
                        calls: u64::try_from(r.get::<_, i64>(4)?).unwrap_or(0),
                    })
                })
                .map_err(db_err)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)
        })
        .await
    }

    async fn customer_keywords(
        &self,
        seller_id: &str,
        range: DateRange,
        limit: usize,
    ) -> Result<Vec<KeywordRank>> {
        let seller = seller_id.to_owned();
        self.with(move |conn| {
            let (start, end) = (millis(range.start()), millis(range.end()));
            let n: i64 = conn
                .query_row(
                    "SELECT count(*) FROM calls WHERE started_at >= ? AND started_at < ?",
                    [start, end],
                    |r| r.get(0),
                )
                .map_err(db_err)?;
            // The seller's phrases, then each one's document frequency over the
            // range from the per-day counts.
            let mut stmt = conn
                .prepare_cached(
                    "SELECT k.phrase, total(k.count), count(DISTINCT k.call_id), \
                     (SELECT total(d.calls) FROM keyword_daily d WHERE d.phrase = k.phrase \
                      AND d.day >= ?4 AND d.day <= ?5) \
                     FROM customer_keywords k WHERE k.seller_id = ?1 AND k.started_at >= ?2 AND k.started_at < ?3 \
                     GROUP BY k.phrase",
                )
                .map_err(db_err)?;
            let n = u32::try_from(n).unwrap_or(u32::MAX);
            let rows = stmt
                .query_map(params![seller, start, end, range.from.to_string(), range.to.to_string()], |r| {
                    let count = r.get::<_, f64>(1)? as u64;
                    let calls = u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0);
                    let df = r.get::<_, f64>(3)? as u32;
                    Ok(KeywordRank {
                        phrase: r.get(0)?,
                        count,
                        calls,
                        score: callscope_signals::tf_idf(u32::try_from(count).unwrap_or(u32::MAX), df, n),
                    })
                })
                .map_err(db_err)?;
            let mut ranked = rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)?;
            rank_keywords(&mut ranked, limit);
            Ok(ranked)
        })
        .await
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
        let stored = Comment { comment_id, created_at, comment };
        let row = stored.clone();
        self.with(move |conn| {
            let c = &row.comment;
            conn.execute(
                "INSERT INTO comments (comment_id, call_id, author, author_role, at_s, text, parent_id, created_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                params![row.comment_id, c.call_id, c.author, c.author_role, c.at_s, c.text, c.parent_id, millis(row.created_at)],
            )
            .map_err(db_err)?;
            Ok(())
        })
        .await?;
        Ok(stored)
    }

    async fn comments(&self, call_id: &str) -> Result<Vec<Comment>> {
        let id = call_id.to_owned();
        self.with(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT comment_id, call_id, author, author_role, at_s, text, parent_id, created_at FROM comments \
                     WHERE call_id = ? ORDER BY created_at, comment_id",
                )
                .map_err(db_err)?;
            let rows = stmt.query_map([id], comment_row).map_err(db_err)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)
        })
        .await
    }

    async fn seller_comments(&self, seller_id: &str, range: DateRange, limit: usize) -> Result<Vec<Comment>> {
        let seller = seller_id.to_owned();
        self.with(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT c.comment_id, c.call_id, c.author, c.author_role, c.at_s, c.text, c.parent_id, c.created_at \
                     FROM comments c JOIN calls k ON k.call_id = c.call_id \
                     WHERE k.seller_id = ? AND k.started_at >= ? AND k.started_at < ? \
                     ORDER BY c.created_at DESC, c.comment_id DESC LIMIT ?",
                )
                .map_err(db_err)?;
            let rows = stmt
                .query_map(
                    params![seller, millis(range.start()), millis(range.end()), i64::try_from(limit).unwrap_or(i64::MAX)],
                    comment_row,
                )
                .map_err(db_err)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)
        })
        .await
    }

    async fn delete_comment(&self, comment_id: &str, author: &str) -> Result<bool> {
        let (id, author) = (comment_id.to_owned(), author.to_owned());
        self.with(move |conn| {
            let owner: Option<String> = conn
                .query_row("SELECT author FROM comments WHERE comment_id = ?", [&id], |r| r.get(0))
                .optional()
                .map_err(db_err)?;
            match owner {
                None => Ok(false),
                Some(owner) if owner != author => Err(StoreError::NotAuthor(id)),
                Some(_) => {
                    conn.execute("DELETE FROM comments WHERE comment_id = ?", [&id]).map_err(db_err)?;
                    Ok(true)
                }
            }
        })
        .await
    }
}
