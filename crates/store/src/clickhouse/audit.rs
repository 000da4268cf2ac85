//! The audit trail (`audit_log`, migration 004): appended by the API, read by
//! admins, expired by `callscope retention`, which also keeps the table's TTL
//! at the same period.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ClickHouseStore;
use crate::types::{AuditAction, AuditEntry, AuditQuery};
use crate::{Result, StoreError, truncate_millis};

/// One `audit_log` row.
#[derive(Debug, clickhouse::Row, Serialize, Deserialize)]
struct AuditRow {
    #[serde(with = "clickhouse::serde::chrono::datetime64::millis")]
    at: DateTime<Utc>,
    user_id: String,
    user_role: String,
    action: String,
    call_id: String,
    seller_id: String,
}

const AUDIT_COLUMNS: &str = "at, user_id, user_role, action, call_id, seller_id";

fn instant(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.3f").to_string()
}

/// Appends entries.
pub(super) async fn record(store: &ClickHouseStore, entries: &[AuditEntry]) -> Result<()> {
    let rows: Vec<AuditRow> = entries
        .iter()
        .map(|e| AuditRow {
            at: truncate_millis(e.at),
            user_id: e.user_id.clone(),
            user_role: e.user_role.clone(),
            action: e.action.as_str().to_owned(),
            call_id: e.call_id.clone(),
            seller_id: e.seller_id.clone(),
        })
        .collect();
    store.insert_rows("audit_log", &rows).await
}

/// Entries matching `q`, newest first.
pub(super) async fn read(store: &ClickHouseStore, q: &AuditQuery) -> Result<Vec<AuditEntry>> {
    let mut sql = format!("SELECT {AUDIT_COLUMNS} FROM audit_log WHERE 1");
    let mut binds: Vec<String> = Vec::new();
    if let Some(from) = q.from {
        sql.push_str(" AND at >= toDateTime64(?, 3, 'UTC')");
        binds.push(instant(from));
    }
    if let Some(to) = q.to {
        sql.push_str(" AND at < toDateTime64(?, 3, 'UTC')");
        binds.push(instant(to));
    }
    if let Some(user) = &q.user_id {
        sql.push_str(" AND user_id = ?");
        binds.push(user.clone());
    }
    if let Some(call) = &q.call_id {
        sql.push_str(" AND call_id = ?");
        binds.push(call.clone());
    }
    sql.push_str(" ORDER BY at DESC, user_id, call_id, action LIMIT ?");
    let mut query = store.client.query(&sql);
    for b in &binds {
        query = query.bind(b);
    }
    let rows: Vec<AuditRow> = store.timed(query.bind(q.limit as u64).fetch_all()).await?;
    rows.into_iter()
        .map(|r| {
            let action = AuditAction::parse(&r.action)
                .ok_or_else(|| StoreError::Database(format!("audit_log: unknown action {:?}", r.action)))?;
            Ok(AuditEntry {
                at: r.at,
                user_id: r.user_id,
                user_role: r.user_role,
                action,
                call_id: r.call_id,
                seller_id: r.seller_id,
            })
        })
        .collect()
}

/// Deletes entries older than `before`; returns how many there were.
pub(super) async fn expire(store: &ClickHouseStore, before: DateTime<Utc>, dry_run: bool) -> Result<u64> {
    let before = instant(before);
    let n: u64 = store
        .timed(
            store
                .client
                .query("SELECT count() FROM audit_log WHERE at < toDateTime64(?, 3, 'UTC')")
                .bind(&before)
                .fetch_one(),
        )
        .await?;
    if n > 0 && !dry_run {
        store
            .execute("DELETE FROM audit_log WHERE at < toDateTime64(?, 3, 'UTC')", |q| q.bind(&before))
            .await?;
    }
    Ok(n)
}

/// The longest TTL set: `toDateTime(at) + INTERVAL n DAY` is a 32-bit
/// `DateTime`, which wraps after 2106, and a wrapped expiry lies in the past
/// (every row would be dropped). Longer periods get no TTL; the `retention`
/// job still deletes what is past them.
pub(super) const MAX_TTL_DAYS: u32 = 3650;

/// Sets the table's TTL to `days` (0, or more than [`MAX_TTL_DAYS`]: removes it).
pub(super) async fn set_ttl(store: &ClickHouseStore, days: u32) -> Result<()> {
    if days > 0 && days <= MAX_TTL_DAYS {
        return store
            .execute(&format!("ALTER TABLE audit_log MODIFY TTL toDateTime(at) + INTERVAL {days} DAY"), |q| q)
            .await;
    }
    let create: String = store
        .timed(
            store
                .client
                .query(
                    "SELECT create_table_query FROM system.tables WHERE database = ? AND name = 'audit_log'",
                )
                .bind(&store.database)
                .fetch_one(),
        )
        .await?;
    if create.contains(" TTL ") {
        store.execute("ALTER TABLE audit_log REMOVE TTL", |q| q).await?;
    }
    Ok(())
}
