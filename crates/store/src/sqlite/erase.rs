//! Erasure: calls and every row about them, in one transaction, with the
//! phrase document frequencies of the touched days recomputed from the calls
//! that remain (daily aggregates are computed on read here: nothing to fix).

use std::collections::BTreeSet;

use rusqlite::types::Value;
use rusqlite::{Connection, params_from_iter};

use super::{db_err, from_millis, millis};
use crate::Result;
use crate::types::*;

/// The tables with one row per piece of a call, keyed by `call_id`, with the
/// call's `seller_id` and `started_at` copied in.
const CHILD_TABLES: &[&str] = &["utterances", "mentions", "action_items", "customer_keywords"];

/// `?, ?, …` for `n` values (`NULL` for none, which matches nothing).
fn placeholders(n: usize) -> String {
    if n == 0 { "NULL".to_owned() } else { vec!["?"; n].join(", ") }
}

/// The scope as a condition on a table with `call_id`, `seller_id` and
/// `started_at` (`calls` and the child tables), and its values.
fn condition(scope: &EraseScope) -> (String, Vec<Value>) {
    match scope {
        EraseScope::Calls(ids) => (
            format!("call_id IN ({})", placeholders(ids.len())),
            ids.iter().map(|id| Value::Text(id.clone())).collect(),
        ),
        EraseScope::Seller(seller) => ("seller_id = ?".to_owned(), vec![Value::Text(seller.clone())]),
        EraseScope::StartedBefore(t) => ("started_at < ?".to_owned(), vec![Value::Integer(millis(*t))]),
    }
}

/// Erases the calls of `scope` (see [`crate::Store::erase`]).
pub(super) fn erase(conn: &mut Connection, scope: &EraseScope, dry_run: bool) -> Result<Erasure> {
    let (cond, values) = condition(scope);
    // Comments carry only the call id: for a list of ids, match them directly
    // (comments of a call whose row is already gone included).
    let comments_cond = match scope {
        EraseScope::Calls(_) => cond.clone(),
        EraseScope::Seller(_) | EraseScope::StartedBefore(_) => {
            format!("call_id IN (SELECT call_id FROM calls WHERE {cond})")
        }
    };
    let tx = conn.transaction().map_err(db_err)?;
    let mut erasure = Erasure::default();
    {
        let mut stmt = tx
            .prepare(&format!(
                "SELECT call_id, seller_id, team, started_at, audio_uri, day FROM calls WHERE {cond} \
                 ORDER BY started_at, call_id"
            ))
            .map_err(db_err)?;
        let rows = stmt
            .query_map(params_from_iter(values.iter()), |r| {
                let audio: String = r.get(4)?;
                Ok((
                    ErasedCall {
                        call_id: r.get(0)?,
                        seller_id: r.get(1)?,
                        team: r.get(2)?,
                        started_at: from_millis(r.get(3)?),
                        audio_uri: (!audio.is_empty()).then_some(audio),
                    },
                    r.get::<_, String>(5)?,
                ))
            })
            .map_err(db_err)?;
        let mut keys = BTreeSet::new();
        let mut days = BTreeSet::new();
        for row in rows {
            let (call, day) = row.map_err(db_err)?;
            keys.insert((call.seller_id.clone(), day.clone()));
            days.insert(day);
            erasure.calls.push(call);
        }
        erasure.days_recomputed = keys.len();

        let count = |table: &str, cond: &str| -> Result<u64> {
            tx.query_row(
                &format!("SELECT count(*) FROM {table} WHERE {cond}"),
                params_from_iter(values.iter()),
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n.max(0) as u64)
            .map_err(db_err)
        };
        erasure.rows.push(("calls".to_owned(), erasure.calls.len() as u64));
        for table in CHILD_TABLES {
            erasure.rows.push(((*table).to_owned(), count(table, &cond)?));
        }
        erasure.rows.push(("comments".to_owned(), count("comments", &comments_cond)?));
        erasure.rows.push(("shares".to_owned(), count("shares", &comments_cond)?));
        erasure.rows.retain(|(_, n)| *n > 0);
        if dry_run || erasure.is_empty() {
            return Ok(erasure);
        }

        // Comments first (they find their calls through `calls`), then the
        // pieces, then the calls; all in this one transaction.
        let delete = |table: &str, cond: &str| -> Result<()> {
            tx.execute(&format!("DELETE FROM {table} WHERE {cond}"), params_from_iter(values.iter()))
                .map(|_| ())
                .map_err(db_err)
        };
        delete("comments", &comments_cond)?;
        delete("shares", &comments_cond)?;
        for table in CHILD_TABLES {
            delete(table, &cond)?;
        }
        delete("calls", &cond)?;
        // FTS5 keeps a deleted row's words in its index until the segments
        // holding them merge: merge them now, so the erased words go too.
        tx.execute("INSERT INTO utterance_search (utterance_search) VALUES ('optimize')", [])
            .map_err(db_err)?;

        // Document frequencies of the touched days, from what remains.
        let days: Vec<Value> = days.into_iter().map(Value::Text).collect();
        let list = placeholders(days.len());
        tx.execute(
            &format!("DELETE FROM keyword_daily WHERE day IN ({list})"),
            params_from_iter(days.iter()),
        )
        .map_err(db_err)?;
        tx.execute(
            &format!(
                "INSERT INTO keyword_daily (phrase, day, calls) \
                 SELECT k.phrase, c.day, count(DISTINCT k.call_id) FROM customer_keywords k \
                 JOIN calls c ON c.call_id = k.call_id WHERE c.day IN ({list}) GROUP BY k.phrase, c.day"
            ),
            params_from_iter(days.iter()),
        )
        .map_err(db_err)?;
    }
    tx.commit().map_err(db_err)?;
    Ok(erasure)
}
