//! Writes: a batch of calls (see the module doc of [`super`] for why it never
//! double counts), the `seller_daily` recomputation, and comments.

use std::collections::BTreeSet;

use callscope_model::CallAnalysis;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;

use super::read::CommentRow;
use super::{ClickHouseStore, DAILY_COLUMNS};
use crate::rows::{CallRow, Flattened, flatten};
use crate::types::*;
use crate::{Result, StoreError, truncate_millis, validate};

/// Current `(seller_id, started_at)` of a stored call.
#[derive(Debug, clickhouse::Row, Deserialize)]
struct StoredKey {
    call_id: String,
    seller_id: String,
    #[serde(with = "clickhouse::serde::chrono::datetime64::millis")]
    started_at: DateTime<Utc>,
}

/// The sums `seller_daily` keeps, as a `SELECT` list over `calls FINAL`. KPIs
/// and sentiment count only calls whose speaker attribution is trusted
/// (`attribution_low_confidence = 0`); flagged calls count in `calls`,
/// `low_confidence_calls`, `duration_s` and won/lost.
pub(super) const DAILY_SUMS: &str = "count() AS calls, \
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

impl ClickHouseStore {
    pub(super) async fn insert_rows<T>(&self, table: &str, rows: &[T]) -> Result<()>
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

    /// Writes fresh `seller_daily` sums from `calls` for the given (seller, day)
    /// keys (`None`: every seller and day, after a migration).
    pub(super) async fn recompute_daily(&self, keys: Option<(&[String], &[String])>) -> Result<()> {
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
}

/// Stores a batch of calls (all or nothing), replacing earlier versions.
pub(super) async fn calls(store: &ClickHouseStore, calls: &[CallAnalysis]) -> Result<WriteReceipt> {
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
    let previous: Vec<StoredKey> = store
        .timed(
            store
                .client
                .query("SELECT call_id, seller_id, started_at FROM calls FINAL WHERE call_id IN ?")
                .bind(&ids)
                .fetch_all::<StoredKey>(),
        )
        .await?;

    let version = store.versions.next();
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
    store.insert_rows("mentions", &mentions).await?;
    store.insert_rows("utterances", &utterances).await?;
    store.insert_rows("action_items", &actions).await?;
    store.insert_rows("customer_keywords", &keywords).await?;
    store.insert_rows("calls", &call_rows).await?;

    // Aggregates of every touched (seller, day): tombstones, then fresh sums.
    let sellers: Vec<String> = affected.iter().map(|(s, _)| s.clone()).collect();
    let days: Vec<String> = affected.iter().map(|(_, d)| d.to_string()).collect();
    store.execute(
        "INSERT INTO seller_daily (seller_id, day, version, is_deleted) \
         SELECT k.1, toDate(k.2), toUnixTimestamp64Nano(now64(9)), 1 FROM (SELECT arrayJoin(arrayZip(?, ?)) AS k)",
        |q| q.bind(&sellers).bind(&days),
    )
    .await?;
    store.recompute_daily(Some((&sellers, &days))).await?;

    // Phrase document frequencies of the touched days, the same way.
    let touched_days: Vec<String> =
        affected.iter().map(|(_, d)| d.to_string()).collect::<BTreeSet<_>>().into_iter().collect();
    store
        .execute(
            "INSERT INTO keyword_daily (day, phrase, calls, version, is_deleted) \
         SELECT day, phrase, 0, toUnixTimestamp64Nano(now64(9)), 1 FROM keyword_daily FINAL \
         WHERE day IN (SELECT arrayJoin(arrayMap(d -> toDate(d), ?)))",
            |q| q.bind(&touched_days),
        )
        .await?;
    store
        .execute(
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
            store.execute(&sql, |q| q.bind(&replaced).bind(version)).await?;
        }
    }
    Ok(WriteReceipt { call_ids: ids, replaced: replaced.len() })
}

/// Adds a comment; its id comes from the version clock.
pub(super) async fn add_comment(store: &ClickHouseStore, comment: NewComment) -> Result<Comment> {
    if comment.text.trim().is_empty() {
        return Err(StoreError::InvalidInput {
            call_id: comment.call_id,
            field: "text",
            reason: "a comment needs text".into(),
        });
    }
    let version = store.versions.next();
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
        turn: comment.turn,
        start_s: comment.start_s,
        end_s: comment.end_s,
        edited_at: None,
    };
    store.insert_rows("comments", std::slice::from_ref(&row)).await?;
    Ok(Comment { comment_id, created_at: row.created_at, edited_at: None, comment })
}

/// Edits a comment: a new version of its row with the new text and
/// `edited_at`; `None` if there is no such comment.
pub(super) async fn edit_comment(
    store: &ClickHouseStore,
    comment_id: &str,
    text: &str,
) -> Result<Option<Comment>> {
    if text.trim().is_empty() {
        return Err(StoreError::InvalidInput {
            call_id: String::new(),
            field: "text",
            reason: "a comment needs text".into(),
        });
    }
    let Some(mut row) = super::read::comment_row(store, comment_id).await? else { return Ok(None) };
    row.version = store.versions.next();
    row.text = text.to_owned();
    row.edited_at = Some(truncate_millis(Utc::now()));
    store.insert_rows("comments", std::slice::from_ref(&row)).await?;
    Ok(Some(row.into_comment()))
}

/// Adds a share: one row per recipient, in one insert.
pub(super) async fn add_share(store: &ClickHouseStore, share: NewShare) -> Result<Share> {
    crate::validate_share(&share)?;
    let version = store.versions.next();
    let created_at = truncate_millis(Utc::now());
    let share_id = format!("sh-{version:x}");
    let rows: Vec<super::read::ShareRow> = share
        .recipients
        .iter()
        .map(|recipient| super::read::ShareRow {
            share_id: share_id.clone(),
            recipient: recipient.clone(),
            call_id: share.call_id.clone(),
            seller_id: share.seller_id.clone(),
            start_s: share.start_s,
            end_s: share.end_s,
            note: share.note.clone(),
            created_by: share.created_by.clone(),
            created_at,
            version,
            is_deleted: 0,
            collection: share.collection.clone(),
        })
        .collect();
    store.insert_rows("shares", &rows).await?;
    Ok(Share { share_id, created_at, share })
}

/// Revokes a share with a tombstone per row; `false` if there is none.
pub(super) async fn revoke_share(store: &ClickHouseStore, share_id: &str) -> Result<bool> {
    let mut rows = super::read::share_rows(store, share_id).await?;
    if rows.is_empty() {
        return Ok(false);
    }
    let version = store.versions.next();
    for r in &mut rows {
        r.version = version;
        r.is_deleted = 1;
    }
    store.insert_rows("shares", &rows).await?;
    Ok(true)
}

/// Deletes a comment with a tombstone; `false` if there is none.
pub(super) async fn delete_comment(store: &ClickHouseStore, comment_id: &str) -> Result<bool> {
    let Some(mut row) = super::read::comment_row(store, comment_id).await? else { return Ok(false) };
    row.version = store.versions.next();
    row.is_deleted = 1;
    store.insert_rows("comments", std::slice::from_ref(&row)).await?;
    Ok(true)
}
