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

use std::collections::BTreeSet;
use std::time::Duration;

use async_trait::async_trait;
use callscope_model::CallAnalysis;
use chrono::{DateTime, NaiveDate, Utc};
use clickhouse::Client;
use serde::Deserialize;

use crate::rows::{CALL_COLUMNS, CallRow, Flattened, flatten};
use crate::types::*;
use crate::{Result, Store, StoreError, VersionClock, validate};

/// The schema migrations, in order (`schemas/clickhouse/`).
pub const MIGRATIONS: &[(u32, &str, &str)] = &[
    (1, "001_init", include_str!("../../../schemas/clickhouse/001_init.sql")),
    (2, "002_attribution", include_str!("../../../schemas/clickhouse/002_attribution.sql")),
    (3, "003_daily_trusted_kpis", include_str!("../../../schemas/clickhouse/003_daily_trusted_kpis.sql")),
];

/// The migration after which every `seller_daily` row is recomputed (its sums
/// changed meaning).
const RECOMPUTE_DAILY_AFTER: u32 = 3;

/// How to reach ClickHouse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClickHouseConfig {
    /// HTTP endpoint, for example `http://127.0.0.1:8123`.
    pub url: String,
    /// Database holding callscope's tables; created by `migrate`.
    pub database: String,
    /// User, if the server requires one.
    pub user: Option<String>,
    /// Password (never logged).
    pub password: Option<String>,
    /// Per-request timeout.
    pub timeout: Duration,
}

impl Default for ClickHouseConfig {
    fn default() -> Self {
        ClickHouseConfig {
            url: "http://127.0.0.1:8123".into(),
            database: "callscope".into(),
            user: None,
            password: None,
            timeout: Duration::from_secs(30),
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

/// Maps a client error to a [`StoreError`] that says whether to retry.
#[allow(clippy::wildcard_enum_match_arm)] // the client's error enum is foreign and non-exhaustive
fn map_err(err: clickhouse::error::Error) -> StoreError {
    use clickhouse::error::Error as E;
    match err {
        E::Network(e) => StoreError::Unavailable(e.to_string()),
        E::TimedOut => StoreError::Timeout("request timed out".into()),
        E::SchemaMismatch(m) => StoreError::SchemaMismatch(m),
        E::BadResponse(m) => {
            // Codes: 60 UNKNOWN_TABLE, 81 UNKNOWN_DATABASE, 16 NO_SUCH_COLUMN_IN_TABLE,
            // 47 UNKNOWN_IDENTIFIER; 159 TIMEOUT_EXCEEDED; 202/203/252 overload.
            let code = m
                .split("Code: ")
                .nth(1)
                .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
                .and_then(|c| c.parse::<u32>().ok());
            match code {
                Some(60 | 81 | 16 | 47) => StoreError::SchemaMismatch(m),
                Some(159 | 209) => StoreError::Timeout(m),
                Some(202 | 203 | 252) => StoreError::Unavailable(m),
                _ => StoreError::Database(m),
            }
        }
        other => StoreError::Database(other.to_string()),
    }
}

/// Current `(seller_id, started_at)` of a stored call.
#[derive(Debug, clickhouse::Row, Deserialize)]
struct StoredKey {
    call_id: String,
    seller_id: String,
    #[serde(with = "clickhouse::serde::chrono::datetime64::millis")]
    started_at: DateTime<Utc>,
}

#[derive(Debug, clickhouse::Row, Deserialize)]
struct DailyRow {
    seller_id: String,
    team: String,
    #[serde(with = "clickhouse::serde::chrono::date")]
    day: NaiveDate,
    calls: u64,
    low_confidence_calls: u64,
    duration_s: f64,
    talk_ratio_sum: f64,
    talk_ratio_n: u64,
    seller_wpm_sum: f64,
    seller_wpm_n: u64,
    switches: u64,
    pause_sum: f64,
    pause_n: u64,
    longest_customer_monologue_sum: f64,
    interruptions: u64,
    seller_questions: u64,
    positive: u64,
    neutral: u64,
    negative: u64,
    won: u64,
    lost: u64,
}

#[derive(Debug, clickhouse::Row, Deserialize, serde::Serialize)]
struct CommentRow {
    comment_id: String,
    call_id: String,
    author: String,
    author_role: String,
    at_s: Option<f64>,
    text: String,
    parent_id: Option<String>,
    #[serde(with = "clickhouse::serde::chrono::datetime64::millis")]
    created_at: DateTime<Utc>,
    version: u64,
    is_deleted: u8,
}

/// The sums `seller_daily` keeps, as a `SELECT` list over `calls FINAL`. KPIs
/// and sentiment count only calls whose speaker attribution is trusted
/// (`attribution_low_confidence = 0`); flagged calls count in `calls`,
/// `low_confidence_calls`, `duration_s` and won/lost.
const DAILY_SUMS: &str = "count() AS calls, \
     countIf(attribution_low_confidence != 0) AS low_confidence_calls, \
     sum(duration_s) AS duration_s, \
     sumIf(ifNull(talk_ratio, 0), attribution_low_confidence = 0) AS talk_ratio_sum, \
     countIf(attribution_low_confidence = 0 AND talk_ratio IS NOT NULL) AS talk_ratio_n, \
     sumIf(ifNull(seller_wpm, 0), attribution_low_confidence = 0) AS seller_wpm_sum, \
     countIf(attribution_low_confidence = 0 AND seller_wpm IS NOT NULL) AS seller_wpm_n, \
     sumIf(switches, attribution_low_confidence = 0) AS switches, \
     sumIf(ifNull(avg_pause_s, 0), attribution_low_confidence = 0) AS pause_sum, \
     countIf(attribution_low_confidence = 0 AND avg_pause_s IS NOT NULL) AS pause_n, \
     sumIf(longest_customer_monologue_s, attribution_low_confidence = 0) AS longest_customer_monologue_sum, \
     sumIf(interruptions, attribution_low_confidence = 0) AS interruptions, \
     sumIf(seller_questions, attribution_low_confidence = 0) AS seller_questions, \
     countIf(attribution_low_confidence = 0 AND customer_sentiment = 'positive') AS positive, \
     countIf(attribution_low_confidence = 0 AND customer_sentiment = 'neutral') AS neutral, \
     countIf(attribution_low_confidence = 0 AND customer_sentiment = 'negative') AS negative, \
     countIf(outcome = 'won') AS won, countIf(outcome = 'lost') AS lost";

const DAILY_COLUMNS: &str = "seller_id, team, day, calls, low_confidence_calls, duration_s, talk_ratio_sum, \
     talk_ratio_n, seller_wpm_sum, seller_wpm_n, switches, pause_sum, pause_n, longest_customer_monologue_sum, \
     interruptions, seller_questions, positive, neutral, negative, won, lost";

impl ClickHouseStore {
    /// A store for the given server. Connects lazily; [`Store::migrate`] checks
    /// that the server answers.
    pub fn new(config: &ClickHouseConfig) -> Self {
        let mut server = Client::default().with_url(&config.url);
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

    async fn insert_rows<T>(&self, table: &str, rows: &[T]) -> Result<()>
    where
        T: clickhouse::Row + clickhouse::RowWrite + serde::Serialize,
        for<'a> T: clickhouse::Row<Value<'a> = T>,
    {
        if rows.is_empty() {
            return Ok(());
        }
        let work = async {
            let mut insert = self.client.insert::<T>(table).await?;
            for row in rows {
                insert.write(row).await?;
            }
            insert.end().await
        };
        self.timed(work).await
    }

    async fn execute(
        &self,
        sql: &str,
        binds: impl FnOnce(clickhouse::query::Query) -> clickhouse::query::Query,
    ) -> Result<()> {
        self.timed(binds(self.client.query(sql)).execute()).await
    }

    /// Fails with [`StoreError::SchemaMismatch`] unless every migration is applied.
    pub async fn check_schema(&self) -> Result<()> {
        let applied: Vec<u32> = self
            .timed(
                self.client
                    .query("SELECT version FROM callscope_migrations ORDER BY version")
                    .fetch_all::<u32>(),
            )
            .await?;
        for (version, name, _) in MIGRATIONS {
            if !applied.contains(version) {
                return Err(StoreError::SchemaMismatch(format!("migration {name} is not applied")));
            }
        }
        Ok(())
    }

    /// Writes fresh `seller_daily` sums from `calls` for the given (seller, day)
    /// keys (`None`: every seller and day, after a migration).
    async fn recompute_daily(&self, keys: Option<(&[String], &[String])>) -> Result<()> {
        let filter = if keys.is_some() {
            "WHERE (seller_id, toDate(started_at)) IN (SELECT arrayJoin(arrayZip(?, arrayMap(d -> toDate(d), ?))))"
        } else {
            ""
        };
        let sql = format!(
            "INSERT INTO seller_daily ({DAILY_COLUMNS}, version, is_deleted) \
             SELECT seller_id, argMax(team, started_at) AS team, toDate(started_at) AS day, {DAILY_SUMS}, \
                    toUnixTimestamp64Nano(now64(9)), 0 \
             FROM calls FINAL {filter} GROUP BY seller_id, day"
        );
        self.execute(&sql, |q| match keys {
            Some((sellers, days)) => q.bind(sellers).bind(days),
            None => q,
        })
        .await
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
        let db = &self.database;
        if db.is_empty() || !db.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(StoreError::Database(format!(
                "database name {db:?}: use letters, digits and underscores only"
            )));
        }
        self.timed(self.server.query(&format!("CREATE DATABASE IF NOT EXISTS `{db}`")).execute()).await?;
        self.execute(
            "CREATE TABLE IF NOT EXISTS callscope_migrations (version UInt32, name String, \
             applied_at DateTime DEFAULT now()) ENGINE = MergeTree ORDER BY version",
            |q| q,
        )
        .await?;
        let applied: Vec<u32> = self
            .timed(self.client.query("SELECT version FROM callscope_migrations").fetch_all::<u32>())
            .await?;
        let mut done = Vec::new();
        for (version, name, sql) in MIGRATIONS {
            if applied.contains(version) {
                continue;
            }
            for statement in split_statements(sql) {
                self.timed(self.client.query(&statement).execute()).await?;
            }
            if *version == RECOMPUTE_DAILY_AFTER {
                self.recompute_daily(None).await?;
            }
            self.execute("INSERT INTO callscope_migrations (version, name) VALUES (?, ?)", |q| {
                q.bind(*version).bind(*name)
            })
            .await?;
            done.push((*name).to_owned());
        }
        Ok(done)
    }

    async fn write(&self, calls: &[CallAnalysis]) -> Result<WriteReceipt> {
        for call in calls {
            validate(call)?;
        }
        // The same call twice in a batch: the last one wins.
        let mut seen = BTreeSet::new();
        let batch: Vec<&CallAnalysis> = calls
            .iter()
            .rev()
            .filter(|c| seen.insert(c.meta.call_id.clone()))
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        if batch.is_empty() {
            return Ok(WriteReceipt::default());
        }
        let ids: Vec<String> = batch.iter().map(|c| c.meta.call_id.clone()).collect();
        let previous: Vec<StoredKey> = self
            .timed(
                self.client
                    .query("SELECT call_id, seller_id, started_at FROM calls FINAL WHERE call_id IN ?")
                    .bind(&ids)
                    .fetch_all::<StoredKey>(),
            )
            .await?;

        let version = self.versions.next();
        let now = Utc::now();
        let flat: Vec<Flattened> = batch.iter().map(|c| flatten(c, version, now)).collect();

        let mut affected: BTreeSet<(String, NaiveDate)> = BTreeSet::new();
        let mut call_rows: Vec<CallRow> = Vec::with_capacity(flat.len());
        for f in &flat {
            affected.insert((f.call.seller_id.clone(), f.call.started_at.date_naive()));
            if let Some(old) = previous.iter().find(|p| p.call_id == f.call.call_id) {
                affected.insert((old.seller_id.clone(), old.started_at.date_naive()));
                if old.seller_id != f.call.seller_id || old.started_at != f.call.started_at {
                    let mut tomb = f.call.clone();
                    tomb.seller_id.clone_from(&old.seller_id);
                    tomb.started_at = old.started_at;
                    tomb.is_deleted = 1;
                    tomb.transcript.clear();
                    tomb.signals.clear();
                    call_rows.push(tomb);
                }
            }
        }
        call_rows.extend(flat.iter().map(|f| f.call.clone()));

        // Children first, then the calls that make them current.
        let mentions: Vec<_> = flat.iter().flat_map(|f| f.mentions.iter().cloned()).collect();
        let utterances: Vec<_> = flat.iter().flat_map(|f| f.utterances.iter().cloned()).collect();
        let actions: Vec<_> = flat.iter().flat_map(|f| f.action_items.iter().cloned()).collect();
        let keywords: Vec<_> = flat.iter().flat_map(|f| f.keywords.iter().cloned()).collect();
        self.insert_rows("mentions", &mentions).await?;
        self.insert_rows("utterances", &utterances).await?;
        self.insert_rows("action_items", &actions).await?;
        self.insert_rows("customer_keywords", &keywords).await?;
        self.insert_rows("calls", &call_rows).await?;

        // Aggregates of every touched (seller, day): tombstones, then fresh sums.
        let sellers: Vec<String> = affected.iter().map(|(s, _)| s.clone()).collect();
        let days: Vec<String> = affected.iter().map(|(_, d)| d.to_string()).collect();
        self.execute(
            "INSERT INTO seller_daily (seller_id, day, version, is_deleted) \
             SELECT k.1, toDate(k.2), toUnixTimestamp64Nano(now64(9)), 1 FROM (SELECT arrayJoin(arrayZip(?, ?)) AS k)",
            |q| q.bind(&sellers).bind(&days),
        )
        .await?;
        self.recompute_daily(Some((&sellers, &days))).await?;

        // Phrase document frequencies of the touched days, the same way.
        let touched_days: Vec<String> =
            affected.iter().map(|(_, d)| d.to_string()).collect::<BTreeSet<_>>().into_iter().collect();
        self.execute(
            "INSERT INTO keyword_daily (day, phrase, calls, version, is_deleted) \
             SELECT day, phrase, 0, toUnixTimestamp64Nano(now64(9)), 1 FROM keyword_daily FINAL \
             WHERE day IN (SELECT arrayJoin(arrayMap(d -> toDate(d), ?)))",
            |q| q.bind(&touched_days),
        )
        .await?;
        self.execute(
            "INSERT INTO keyword_daily (day, phrase, calls, version, is_deleted) \
             SELECT toDate(started_at) AS day, phrase, uniqExact(call_id), toUnixTimestamp64Nano(now64(9)), 0 \
             FROM customer_keywords \
             WHERE toDate(started_at) IN (SELECT arrayJoin(arrayMap(d -> toDate(d), ?))) \
               AND (call_id, version) IN (SELECT call_id, version FROM calls FINAL \
                    WHERE toDate(started_at) IN (SELECT arrayJoin(arrayMap(d -> toDate(d), ?)))) \
             GROUP BY day, phrase",
            |q| q.bind(&touched_days).bind(&touched_days),
        )
        .await?;

        // Older versions of replaced calls' children are dead weight now.
        let replaced: Vec<String> =
            previous.iter().map(|p| p.call_id.clone()).filter(|id| ids.contains(id)).collect();
        if !replaced.is_empty() {
            for table in ["mentions", "utterances", "action_items", "customer_keywords"] {
                let sql = format!("DELETE FROM {table} WHERE call_id IN ? AND version < ?");
                self.execute(&sql, |q| q.bind(&replaced).bind(version)).await?;
            }
        }
        Ok(WriteReceipt { call_ids: ids, replaced: replaced.len() })
    }

    async fn daily(&self, sellers: &SellerFilter, range: DateRange) -> Result<Vec<DailyAggregate>> {
        let (filter, value) = match sellers {
            SellerFilter::Seller(s) => ("seller_id = ?", Some(s)),
            SellerFilter::Team(t) => ("team = ?", Some(t)),
            SellerFilter::All => ("1 = 1", None),
        };
        let sql = format!(
            "SELECT {DAILY_COLUMNS} FROM seller_daily FINAL WHERE {filter} AND day >= ? AND day <= ? \
             ORDER BY seller_id, day"
        );
        let mut q = self.client.query(&sql);
        if let Some(v) = value {
            q = q.bind(v);
        }
        let rows: Vec<DailyRow> =
            self.timed(q.bind(range.from.to_string()).bind(range.to.to_string()).fetch_all()).await?;
        Ok(rows
            .into_iter()
            .map(|r| DailyAggregate {
                seller_id: r.seller_id,
                team: r.team,
                day: r.day,
                calls: r.calls,
                low_confidence_calls: r.low_confidence_calls,
                duration_s: r.duration_s,
                talk_ratio_sum: r.talk_ratio_sum,
                talk_ratio_n: r.talk_ratio_n,
                seller_wpm_sum: r.seller_wpm_sum,
                seller_wpm_n: r.seller_wpm_n,
                switches: r.switches,
                pause_sum: r.pause_sum,
                pause_n: r.pause_n,
                longest_customer_monologue_sum: r.longest_customer_monologue_sum,
                interruptions: r.interruptions,
                seller_questions: r.seller_questions,
                positive: r.positive,
                neutral: r.neutral,
                negative: r.negative,
                won: r.won,
                lost: r.lost,
            })
            .collect())
    }

    async fn sellers(&self) -> Result<Vec<SellerRef>> {
        #[derive(clickhouse::Row, Deserialize)]
        struct Row {
            seller_id: String,
            team: String,
            calls: u64,
        }
        let rows: Vec<Row> = self
            .timed(
                self.client
                    .query(
                        "SELECT seller_id, argMax(team, day) AS team, sum(calls) AS calls FROM seller_daily FINAL \
                         GROUP BY seller_id HAVING calls > 0 ORDER BY seller_id",
                    )
                    .fetch_all(),
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| SellerRef { seller_id: r.seller_id, team: r.team, calls: r.calls })
            .collect())
    }

    async fn call_history(&self, query: &HistoryQuery) -> Result<Page<CallSummary>> {
        let (from, to) = Self::bounds(query.range);
        let mut filter = String::from("seller_id = ? AND started_at >= ? AND started_at < ?");
        if query.term.is_some() {
            filter.push_str(
                " AND call_id IN (SELECT call_id FROM mentions WHERE seller_id = ? AND term = ? \
                 AND (call_id, version) IN (SELECT call_id, version FROM calls FINAL WHERE seller_id = ?))",
            );
        }
        if query.keyword.is_some() {
            filter.push_str(
                " AND call_id IN (SELECT call_id FROM customer_keywords WHERE seller_id = ? AND phrase = ? \
                 AND (call_id, version) IN (SELECT call_id, version FROM calls FINAL WHERE seller_id = ?))",
            );
        }
        let (order, dir) = (query.sort.column(), query.direction());
        let bind = |mut q: clickhouse::query::Query| {
            q = q.bind(&query.seller_id).bind(&from).bind(&to);
            if let Some(term) = &query.term {
                q = q.bind(&query.seller_id).bind(term).bind(&query.seller_id);
            }
            if let Some(keyword) = &query.keyword {
                q = q.bind(&query.seller_id).bind(keyword).bind(&query.seller_id);
            }
            q
        };
        let size = query.page_size.clamp(1, 500);
        let sql = format!(
            "SELECT {CALL_COLUMNS}, '' AS transcript, '' AS signals, version, is_deleted, processed_at \
             FROM calls FINAL WHERE {filter} ORDER BY {order} {dir} NULLS LAST, call_id LIMIT ? OFFSET ?"
        );
        let rows: Vec<CallRow> = self
            .timed(
                bind(self.client.query(&sql))
                    .bind(size)
                    .bind(u64::from(query.page) * u64::from(size))
                    .fetch_all(),
            )
            .await?;
        let total: u64 = self
            .timed(
                bind(self.client.query(&format!("SELECT count() FROM calls FINAL WHERE {filter}")))
                    .fetch_one(),
            )
            .await?;
        Ok(Page { items: rows.iter().map(CallRow::summary).collect(), total })
    }

    async fn call(&self, call_id: &str) -> Result<Option<CallDetail>> {
        let sql = format!(
            "SELECT {CALL_COLUMNS}, transcript, signals, version, is_deleted, processed_at \
             FROM calls FINAL WHERE call_id = ? LIMIT 1"
        );
        let row: Option<CallRow> = self.timed(self.client.query(&sql).bind(call_id).fetch_optional()).await?;
        Ok(row.map(|r| r.detail()))
    }

    async fn mention_counts(&self, seller_id: &str, range: DateRange) -> Result<Vec<TermCount>> {
        #[derive(clickhouse::Row, Deserialize)]
        struct Row {
            kind: String,
            term: String,
            mentions: u64,
            by_customer: u64,
            calls: u64,
        }
        let (from, to) = Self::bounds(range);
        let rows: Vec<Row> = self
            .timed(
                self.client
                    .query(
                        "SELECT kind, term, count() AS mentions, countIf(role = 'customer') AS by_customer, \
                         uniqExact(call_id) AS calls FROM mentions \
                         WHERE seller_id = ? AND started_at >= ? AND started_at < ? \
                         AND (call_id, version) IN (SELECT call_id, version FROM calls FINAL \
                              WHERE seller_id = ? AND started_at >= ? AND started_at < ?) \
                         GROUP BY kind, term ORDER BY mentions DESC, term",
                    )
                    .bind(seller_id)
                    .bind(&from)
                    .bind(&to)
                    .bind(seller_id)
                    .bind(&from)
                    .bind(&to)
                    .fetch_all(),
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| TermCount {
                kind: parse_kind(&r.kind),
                term: r.term,
                mentions: r.mentions,
                by_customer: r.by_customer,
                calls: r.calls,
            })
            .collect())
    }

    async fn customer_keywords(
        &self,
        seller_id: &str,
        range: DateRange,
        limit: usize,
    ) -> Result<Vec<KeywordRank>> {
        #[derive(clickhouse::Row, Deserialize)]
        struct Row {
            phrase: String,
            count: u64,
            calls: u64,
            df: u64,
            n: u64,
        }
        let (from, to) = Self::bounds(range);
        let (first, last) = (range.from.to_string(), range.to.to_string());
        // The seller's phrases, their document frequency over the range from
        // keyword_daily, and the number of calls in the range from seller_daily.
        let rows: Vec<Row> = self
            .timed(
                self.client
                    .query(
                        "SELECT m.phrase AS phrase, m.count AS count, m.calls AS calls, d.df AS df, t.n AS n FROM \
                           (SELECT phrase, sum(count) AS count, uniqExact(call_id) AS calls FROM customer_keywords \
                            WHERE seller_id = ? AND started_at >= ? AND started_at < ? \
                              AND (call_id, version) IN (SELECT call_id, version FROM calls FINAL \
                                   WHERE seller_id = ? AND started_at >= ? AND started_at < ?) \
                            GROUP BY phrase) AS m \
                         LEFT JOIN (SELECT phrase, sum(calls) AS df FROM keyword_daily FINAL \
                                    WHERE day >= ? AND day <= ? GROUP BY phrase) AS d ON d.phrase = m.phrase \
                         CROSS JOIN (SELECT sum(calls) AS n FROM seller_daily FINAL WHERE day >= ? AND day <= ?) AS t",
                    )
                    .bind(seller_id)
                    .bind(&from)
                    .bind(&to)
                    .bind(seller_id)
                    .bind(&from)
                    .bind(&to)
                    .bind(&first)
                    .bind(&last)
                    .bind(&first)
                    .bind(&last)
                    .fetch_all(),
            )
            .await?;
        let mut ranked: Vec<KeywordRank> = rows
            .into_iter()
            .map(|r| KeywordRank {
                score: callscope_signals::tf_idf(
                    u32::try_from(r.count).unwrap_or(u32::MAX),
                    u32::try_from(r.df).unwrap_or(u32::MAX),
                    u32::try_from(r.n).unwrap_or(u32::MAX),
                ),
                phrase: r.phrase,
                count: r.count,
                calls: r.calls,
            })
            .collect();
        rank_keywords(&mut ranked, limit);
        Ok(ranked)
    }

    async fn add_comment(&self, comment: NewComment) -> Result<Comment> {
        if comment.text.trim().is_empty() {
            return Err(StoreError::InvalidInput {
                call_id: comment.call_id,
                field: "text",
                reason: "a comment needs text".into(),
            });
        }
        let version = self.versions.next();
        let created_at = Utc::now();
        let comment_id = format!("cm-{version:x}");
        let row = CommentRow {
            comment_id: comment_id.clone(),
            call_id: comment.call_id.clone(),
            author: comment.author.clone(),
            author_role: comment.author_role.clone(),
            at_s: comment.at_s,
            text: comment.text.clone(),
            parent_id: comment.parent_id.clone(),
            created_at: truncate_millis(created_at),
            version,
            is_deleted: 0,
        };
        self.insert_rows("comments", std::slice::from_ref(&row)).await?;
        Ok(Comment { comment_id, created_at: row.created_at, comment })
    }

    async fn comments(&self, call_id: &str) -> Result<Vec<Comment>> {
        let rows: Vec<CommentRow> = self
            .timed(
                self.client
                    .query(
                        "SELECT comment_id, call_id, author, author_role, at_s, text, parent_id, created_at, \
                         version, is_deleted FROM comments FINAL WHERE call_id = ? ORDER BY created_at, comment_id",
                    )
                    .bind(call_id)
                    .fetch_all(),
            )
            .await?;
        Ok(rows.into_iter().map(comment_from_row).collect())
    }

    async fn seller_comments(&self, seller_id: &str, range: DateRange, limit: usize) -> Result<Vec<Comment>> {
        let (from, to) = Self::bounds(range);
        let rows: Vec<CommentRow> = self
            .timed(
                self.client
                    .query(
                        "SELECT comment_id, call_id, author, author_role, at_s, text, parent_id, created_at, \
                         version, is_deleted FROM comments FINAL WHERE call_id IN (SELECT call_id FROM calls FINAL \
                         WHERE seller_id = ? AND started_at >= ? AND started_at < ?) \
                         ORDER BY created_at DESC, comment_id DESC LIMIT ?",
                    )
                    .bind(seller_id)
                    .bind(&from)
                    .bind(&to)
                    .bind(u64::try_from(limit).unwrap_or(u64::MAX))
                    .fetch_all(),
            )
            .await?;
        Ok(rows.into_iter().map(comment_from_row).collect())
    }

    async fn delete_comment(&self, comment_id: &str, author: &str) -> Result<bool> {
        let row: Option<CommentRow> = self
            .timed(
                self.client
                    .query(
                        "SELECT comment_id, call_id, author, author_role, at_s, text, parent_id, created_at, \
                         version, is_deleted FROM comments FINAL WHERE comment_id = ? LIMIT 1",
                    )
                    .bind(comment_id)
                    .fetch_optional(),
            )
            .await?;
        let Some(mut row) = row else { return Ok(false) };
        if row.author != author {
            return Err(StoreError::NotAuthor(comment_id.to_owned()));
        }
        row.version = self.versions.next();
        row.is_deleted = 1;
        self.insert_rows("comments", std::slice::from_ref(&row)).await?;
        Ok(true)
    }
}

fn comment_from_row(r: CommentRow) -> Comment {
    Comment {
        comment_id: r.comment_id,
        created_at: r.created_at,
        comment: NewComment {
            call_id: r.call_id,
            author: r.author,
            author_role: r.author_role,
            at_s: r.at_s,
            text: r.text,
            parent_id: r.parent_id,
        },
    }
}

/// Millisecond precision, as `DateTime64(3)` stores it.
pub(crate) fn truncate_millis(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or(t)
}

/// Sorts by score (then phrase) and keeps the top `limit`.
pub(crate) fn rank_keywords(ranked: &mut Vec<KeywordRank>, limit: usize) {
    ranked.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.phrase.cmp(&b.phrase)));
    ranked.truncate(limit);
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
    fn migrations_split_into_statements() {
        let statements = split_statements(MIGRATIONS[0].2);
        assert!(statements.len() >= 14, "{}", statements.len());
        assert!(statements.iter().all(|s| !s.ends_with(';') && !s.starts_with("--")));
        assert!(statements[0].starts_with("CREATE TABLE IF NOT EXISTS calls"));
    }

    #[test]
    fn errors_say_whether_to_retry() {
        use crate::Retry;
        let bad = |m: &str| map_err(clickhouse::error::Error::BadResponse(m.into()));
        assert!(matches!(bad("Code: 60. DB::Exception: Unknown table"), StoreError::SchemaMismatch(_)));
        assert_eq!(bad("Code: 159. DB::Exception: Timeout exceeded").retry(), Retry::WithBackoff);
        assert_eq!(bad("Code: 62. DB::Exception: Syntax error").retry(), Retry::Never);
        assert_eq!(map_err(clickhouse::error::Error::TimedOut).retry(), Retry::WithBackoff);
    }
}
