//! Erasure: calls and every row about them, in an order that makes a rerun
//! after a crash finish the job (ClickHouse has no transactions here):
//!
//! 1. find the calls of the scope, and every (seller, day) their rows touch;
//! 2. recompute `seller_daily` for those keys and `keyword_daily` for those
//!    days from the calls that remain (the scope left out), tombstones first,
//!    as a write does: the aggregates equal a fresh recomputation;
//! 3. physically delete the aggregate rows of keys with nothing left, so no
//!    tombstone keeps a seller id or a customer's phrase;
//! 4. delete comments and shares, then the child rows, then the `calls` rows, last:
//!    until they are gone a rerun finds the scope again and redoes 2–4, which
//!    is harmless (recomputed, not subtracted).

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use clickhouse::query::Query;
use serde::Deserialize;

use super::write::DAILY_SUMS;
use super::{ClickHouseStore, DAILY_COLUMNS};
use crate::Result;
use crate::types::*;

/// The tables with one row per piece of a call (every version), with the
/// call's `call_id`, `seller_id` and `started_at` copied in.
const CHILD_TABLES: &[&str] = &["utterances", "mentions", "action_items", "customer_keywords"];

/// A call of the scope.
#[derive(Debug, clickhouse::Row, Deserialize)]
struct Target {
    call_id: String,
    seller_id: String,
    team: String,
    #[serde(with = "clickhouse::serde::chrono::datetime64::millis")]
    started_at: DateTime<Utc>,
    audio_uri: String,
}

/// A (seller, day) some row of the scope is counted under.
#[derive(Debug, clickhouse::Row, Deserialize)]
struct Key {
    seller_id: String,
    day: String,
}

/// The scope as a condition on a table with `call_id`, `seller_id` and
/// `started_at` (`calls` and the child tables); its values are bound by [`bind`].
fn condition(scope: &EraseScope) -> &'static str {
    match scope {
        EraseScope::Calls(_) => "call_id IN ?",
        EraseScope::Seller(_) => "seller_id = ?",
        EraseScope::StartedBefore(_) => "started_at < toDateTime64(?, 3, 'UTC')",
    }
}

/// Binds the value of [`condition`].
fn bind(q: Query, scope: &EraseScope) -> Query {
    match scope {
        EraseScope::Calls(ids) => q.bind(ids),
        EraseScope::Seller(seller) => q.bind(seller),
        EraseScope::StartedBefore(t) => q.bind(t.format("%Y-%m-%d %H:%M:%S%.3f").to_string()),
    }
}

/// `(seller_id, day)` in the keys bound as two arrays.
const IN_KEYS: &str = "(seller_id, day) IN (SELECT arrayJoin(arrayZip(?, arrayMap(d -> toDate(d), ?))))";

/// Erases the calls of `scope` (see [`crate::Store::erase`] and the module doc).
pub(super) async fn erase(store: &ClickHouseStore, scope: &EraseScope, dry_run: bool) -> Result<Erasure> {
    if matches!(scope, EraseScope::Calls(ids) if ids.is_empty()) {
        return Ok(Erasure::default());
    }
    let cond = condition(scope);
    let comments_cond = match scope {
        EraseScope::Calls(_) => cond.to_owned(),
        EraseScope::Seller(_) | EraseScope::StartedBefore(_) => {
            format!("call_id IN (SELECT call_id FROM calls WHERE {cond})")
        }
    };
    let q = |sql: &str| bind(store.client.query(sql), scope);

    let targets: Vec<Target> = store
        .timed(
            q(&format!(
                "SELECT call_id, seller_id, team, started_at, audio_uri FROM calls FINAL WHERE {cond} \
                 ORDER BY started_at, call_id"
            ))
            .fetch_all::<Target>(),
        )
        .await?;
    // Every version's key, tombstones included: all of them are recomputed.
    let keys: Vec<Key> = store
        .timed(
            q(&format!(
                "SELECT DISTINCT seller_id, toString(toDate(started_at)) AS day FROM calls WHERE {cond} \
                 ORDER BY seller_id, day"
            ))
            .fetch_all::<Key>(),
        )
        .await?;

    let mut erasure = Erasure {
        calls: targets
            .into_iter()
            .map(|t| ErasedCall {
                call_id: t.call_id,
                seller_id: t.seller_id,
                team: t.team,
                started_at: t.started_at,
                audio_uri: (!t.audio_uri.is_empty()).then_some(t.audio_uri),
            })
            .collect(),
        rows: Vec::new(),
        days_recomputed: keys.len(),
    };
    let count = |table: &'static str, cond: String| async move {
        let n =
            store.timed(q(&format!("SELECT count() FROM {table} WHERE {cond}")).fetch_one::<u64>()).await?;
        Ok::<_, crate::StoreError>((table.to_owned(), n))
    };
    erasure.rows.push(count("calls", cond.to_owned()).await?);
    for table in CHILD_TABLES {
        erasure.rows.push(count(table, cond.to_owned()).await?);
    }
    erasure.rows.push(count("comments", comments_cond.clone()).await?);
    erasure.rows.push(count("shares", comments_cond.clone()).await?);
    erasure.rows.retain(|(_, n)| *n > 0);
    if dry_run || erasure.is_empty() {
        return Ok(erasure);
    }

    // 2. Aggregates of the touched keys from what remains.
    let sellers: Vec<String> = keys.iter().map(|k| k.seller_id.clone()).collect();
    let days: Vec<String> = keys.iter().map(|k| k.day.clone()).collect();
    let unique_days: Vec<String> = days.iter().cloned().collect::<BTreeSet<_>>().into_iter().collect();
    store
        .execute(
            "INSERT INTO seller_daily (seller_id, day, version, is_deleted) \
             SELECT k.1, toDate(k.2), toUnixTimestamp64Nano(now64(9)), 1 FROM (SELECT arrayJoin(arrayZip(?, ?)) AS k)",
            |q| q.bind(&sellers).bind(&days),
        )
        .await?;
    let sql = format!(
        "INSERT INTO seller_daily ({DAILY_COLUMNS}, version, is_deleted) \
         SELECT seller_id, argMax(team, started_at) AS team, toDate(started_at) AS day, {DAILY_SUMS}, \
                toUnixTimestamp64Nano(now64(9)), 0 \
         FROM calls FINAL WHERE (seller_id, toDate(started_at)) IN \
              (SELECT arrayJoin(arrayZip(?, arrayMap(d -> toDate(d), ?)))) AND NOT ({cond}) \
         GROUP BY seller_id, day"
    );
    store.execute(&sql, |q| bind(q.bind(&sellers).bind(&days), scope)).await?;
    store
        .execute(
            "INSERT INTO keyword_daily (day, phrase, calls, version, is_deleted) \
             SELECT day, phrase, 0, toUnixTimestamp64Nano(now64(9)), 1 FROM keyword_daily FINAL \
             WHERE day IN (SELECT arrayJoin(arrayMap(d -> toDate(d), ?)))",
            |q| q.bind(&unique_days),
        )
        .await?;
    let sql = format!(
        "INSERT INTO keyword_daily (day, phrase, calls, version, is_deleted) \
         SELECT toDate(started_at) AS day, phrase, uniqExact(call_id), toUnixTimestamp64Nano(now64(9)), 0 \
         FROM customer_keywords \
         WHERE toDate(started_at) IN (SELECT arrayJoin(arrayMap(d -> toDate(d), ?))) \
           AND (call_id, version) IN (SELECT call_id, version FROM calls FINAL \
                WHERE toDate(started_at) IN (SELECT arrayJoin(arrayMap(d -> toDate(d), ?))) AND NOT ({cond})) \
         GROUP BY day, phrase"
    );
    store.execute(&sql, |q| bind(q.bind(&unique_days).bind(&unique_days), scope)).await?;

    // 3. Aggregate rows of keys with nothing left: gone, tombstones and all.
    store
        .execute(
            &format!(
                "DELETE FROM seller_daily WHERE {IN_KEYS} AND (seller_id, day) NOT IN \
                 (SELECT seller_id, day FROM seller_daily FINAL WHERE {IN_KEYS})"
            ),
            |q| q.bind(&sellers).bind(&days).bind(&sellers).bind(&days),
        )
        .await?;
    store
        .execute(
            "DELETE FROM keyword_daily WHERE day IN (SELECT arrayJoin(arrayMap(d -> toDate(d), ?))) \
             AND (day, phrase) NOT IN (SELECT day, phrase FROM keyword_daily FINAL \
                  WHERE day IN (SELECT arrayJoin(arrayMap(d -> toDate(d), ?))))",
            |q| q.bind(&unique_days).bind(&unique_days),
        )
        .await?;

    // 4. The rows of the calls, `calls` last.
    store.execute(&format!("DELETE FROM comments WHERE {comments_cond}"), |q| bind(q, scope)).await?;
    store.execute(&format!("DELETE FROM shares WHERE {comments_cond}"), |q| bind(q, scope)).await?;
    for table in CHILD_TABLES {
        store.execute(&format!("DELETE FROM {table} WHERE {cond}"), |q| bind(q, scope)).await?;
    }
    store.execute(&format!("DELETE FROM calls WHERE {cond}"), |q| bind(q, scope)).await?;
    Ok(erasure)
}
