//! The audit trail (`audit_log`, migration 003): appended by the API, read by
//! admins, expired by `callscope retention`.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params, params_from_iter};

use super::{db_err, from_millis, millis};
use crate::types::{AuditAction, AuditEntry, AuditQuery};
use crate::{Result, StoreError};

/// Appends entries, in one transaction.
pub(super) fn record(conn: &mut Connection, entries: &[AuditEntry]) -> Result<()> {
    let tx = conn.transaction().map_err(db_err)?;
    {
        let mut stmt = tx
            .prepare_cached(
                "INSERT INTO audit_log (at, user_id, user_role, action, call_id, seller_id) \
                 VALUES (?, ?, ?, ?, ?, ?)",
            )
            .map_err(db_err)?;
        for e in entries {
            stmt.execute(params![
                millis(e.at),
                e.user_id,
                e.user_role,
                e.action.as_str(),
                e.call_id,
                e.seller_id
            ])
            .map_err(db_err)?;
        }
    }
    tx.commit().map_err(db_err)
}

/// Entries matching `q`, newest first.
pub(super) fn read(conn: &Connection, q: &AuditQuery) -> Result<Vec<AuditEntry>> {
    let mut sql =
        "SELECT at, user_id, user_role, action, call_id, seller_id FROM audit_log WHERE 1".to_owned();
    let mut binds: Vec<rusqlite::types::Value> = Vec::new();
    if let Some(from) = q.from {
        sql.push_str(" AND at >= ?");
        binds.push(millis(from).into());
    }
    if let Some(to) = q.to {
        sql.push_str(" AND at < ?");
        binds.push(millis(to).into());
    }
    if let Some(user) = &q.user_id {
        sql.push_str(" AND user_id = ?");
        binds.push(user.clone().into());
    }
    if let Some(call) = &q.call_id {
        sql.push_str(" AND call_id = ?");
        binds.push(call.clone().into());
    }
    // Within one millisecond, the later insert first.
    sql.push_str(" ORDER BY at DESC, rowid DESC LIMIT ?");
    binds.push(i64::try_from(q.limit).unwrap_or(i64::MAX).into());
    let mut stmt = conn.prepare(&sql).map_err(db_err)?;
    let rows = stmt
        .query_map(params_from_iter(binds), |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
            ))
        })
        .map_err(db_err)?;
    let mut out = Vec::new();
    for row in rows {
        let (at, user_id, user_role, action, call_id, seller_id) = row.map_err(db_err)?;
        let action = AuditAction::parse(&action)
            .ok_or_else(|| StoreError::Database(format!("audit_log: unknown action {action:?}")))?;
        out.push(AuditEntry { at: from_millis(at), user_id, user_role, action, call_id, seller_id });
    }
    Ok(out)
}

/// Deletes entries older than `before`; returns how many there were.
pub(super) fn expire(conn: &mut Connection, before: DateTime<Utc>, dry_run: bool) -> Result<u64> {
    let n: i64 = conn
        .query_row("SELECT count(*) FROM audit_log WHERE at < ?", [millis(before)], |r| r.get(0))
        .map_err(db_err)?;
    if n > 0 && !dry_run {
        conn.execute("DELETE FROM audit_log WHERE at < ?", [millis(before)]).map_err(db_err)?;
    }
    Ok(u64::try_from(n).unwrap_or(0))
}
