//! Writes: a batch of calls in one transaction (a reprocessed call's row and
//! child rows replaced together, `keyword_daily` kept in step), and comments.

use callscope_model::CallAnalysis;
use chrono::Utc;
use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{Connection, OptionalExtension, params};

use super::{db_err, millis};
use crate::Result;
use crate::columns::{self, Cell};
use crate::rows::flatten;
use crate::types::*;

impl rusqlite::ToSql for Cell<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Cell::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Cell::OwnedText(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Cell::Real(v) => ToSqlOutput::Owned(Value::Real(*v)),
            Cell::OptReal(v) => ToSqlOutput::Owned(v.map_or(Value::Null, Value::Real)),
            Cell::Int(v) => ToSqlOutput::Owned(Value::Integer(*v)),
        })
    }
}

/// Stores a batch of validated calls as rows of `version`, in one transaction.
pub(super) fn calls(conn: &mut Connection, calls: &[CallAnalysis], version: u64) -> Result<WriteReceipt> {
    let now = Utc::now();
    let tx = conn.transaction().map_err(db_err)?;
    let mut receipt = WriteReceipt::default();
    for call in calls {
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
        tx.execute(&columns::sqlite_insert(), rusqlite::params_from_iter(columns::sqlite_cells(c)))
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

/// Stores a comment.
pub(super) fn add_comment(conn: &mut Connection, row: &Comment) -> Result<()> {
    let c = &row.comment;
    conn.execute(
        "INSERT INTO comments (comment_id, call_id, author, author_role, at_s, text, parent_id, created_at, \
         turn, start_s, end_s, edited_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        params![
            row.comment_id,
            c.call_id,
            c.author,
            c.author_role,
            c.at_s,
            c.text,
            c.parent_id,
            millis(row.created_at),
            c.turn,
            c.start_s,
            c.end_s,
            row.edited_at.map(millis)
        ],
    )
    .map_err(db_err)?;
    Ok(())
}

/// Replaces a comment's text and stamps `edited_at`; `false` if there is none.
pub(super) fn edit_comment(
    conn: &mut Connection,
    comment_id: &str,
    text: &str,
    edited_at: chrono::DateTime<chrono::Utc>,
) -> Result<bool> {
    let changed = conn
        .execute(
            "UPDATE comments SET text = ?, edited_at = ? WHERE comment_id = ?",
            params![text, millis(edited_at), comment_id],
        )
        .map_err(db_err)?;
    Ok(changed > 0)
}

/// Adds a share: one row per recipient.
pub(super) fn add_share(conn: &mut Connection, row: &Share) -> Result<()> {
    let tx = conn.transaction().map_err(db_err)?;
    {
        let mut stmt = tx
            .prepare_cached(
                "INSERT INTO shares (share_id, recipient, call_id, seller_id, start_s, end_s, note, created_by, \
                 created_at, collection) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .map_err(db_err)?;
        let s = &row.share;
        for recipient in &s.recipients {
            stmt.execute(params![
                row.share_id,
                recipient,
                s.call_id,
                s.seller_id,
                s.start_s,
                s.end_s,
                s.note,
                s.created_by,
                millis(row.created_at),
                s.collection
            ])
            .map_err(db_err)?;
        }
    }
    tx.commit().map_err(db_err)
}

/// Revokes a share (deletes its rows); `false` if there was none.
pub(super) fn revoke_share(conn: &mut Connection, share_id: &str) -> Result<bool> {
    let deleted = conn.execute("DELETE FROM shares WHERE share_id = ?", [share_id]).map_err(db_err)?;
    Ok(deleted > 0)
}

/// Deletes a comment; `false` if there was none.
pub(super) fn delete_comment(conn: &mut Connection, comment_id: &str) -> Result<bool> {
    let deleted = conn.execute("DELETE FROM comments WHERE comment_id = ?", [comment_id]).map_err(db_err)?;
    Ok(deleted > 0)
}
