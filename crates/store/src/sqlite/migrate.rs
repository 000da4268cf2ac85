//! Migrations from `schemas/sqlite/`, each applied in one transaction and
//! recorded in `callscope_migrations`.

use chrono::Utc;
use rusqlite::{Connection, OptionalExtension, params};

use super::db_err;
use crate::{Result, split_statements};

/// The schema migrations, in order (`schemas/sqlite/`).
pub const MIGRATIONS: &[(u32, &str, &str)] = &[
    (1, "001_init", include_str!("../../../../schemas/sqlite/001_init.sql")),
    (2, "002_attribution", include_str!("../../../../schemas/sqlite/002_attribution.sql")),
    (3, "003_audit_log", include_str!("../../../../schemas/sqlite/003_audit_log.sql")),
    (4, "004_comment_anchors", include_str!("../../../../schemas/sqlite/004_comment_anchors.sql")),
    (5, "005_shares", include_str!("../../../../schemas/sqlite/005_shares.sql")),
    (6, "006_language", include_str!("../../../../schemas/sqlite/006_language.sql")),
    (7, "007_search", include_str!("../../../../schemas/sqlite/007_search.sql")),
    (8, "008_collections", include_str!("../../../../schemas/sqlite/008_collections.sql")),
    (9, "009_search_scope", include_str!("../../../../schemas/sqlite/009_search_scope.sql")),
];

/// Applies the migrations not applied yet; returns their names.
pub(super) fn run(conn: &mut Connection) -> Result<Vec<String>> {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::columns::{self, Backend};

    /// The migrations are history and the column table is what the code
    /// writes: they must describe the same `calls`.
    #[test]
    fn migrated_calls_has_the_columns_of_the_table() {
        let mut conn = Connection::open_in_memory().expect("open");
        run(&mut conn).expect("migrate");
        let mut stmt = conn.prepare("SELECT name FROM pragma_table_info('calls')").expect("pragma");
        let mut migrated: Vec<String> =
            stmt.query_map([], |r| r.get(0)).expect("query").collect::<rusqlite::Result<_>>().expect("names");
        migrated.sort_unstable();
        let mut table: Vec<&str> = columns::of(Backend::Sqlite).map(|c| c.name).collect();
        table.sort_unstable();
        assert_eq!(migrated, table);
    }

    /// A store migrated before comment anchors, with a comment: the upgrade
    /// keeps it readable, with its moment and no anchor.
    #[test]
    fn comments_from_before_anchors_stay_readable() {
        let mut conn = Connection::open_in_memory().expect("open");
        conn.execute_batch(
            "CREATE TABLE callscope_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, \
             applied_at INTEGER NOT NULL)",
        )
        .expect("migrations table");
        for (version, name, sql) in &MIGRATIONS[..2] {
            for statement in split_statements(sql) {
                conn.execute_batch(&statement).expect("old migration");
            }
            conn.execute("INSERT INTO callscope_migrations VALUES (?, ?, 0)", params![version, name])
                .expect("record");
        }
        conn.execute(
            "INSERT INTO comments (comment_id, call_id, author, author_role, at_s, text, parent_id, created_at) \
             VALUES ('cm-old', 'c-1', 'm-maria', 'manager', 12.5, 'Ask about budget', NULL, 1700000000000)",
            [],
        )
        .expect("old comment");
        assert_eq!(
            run(&mut conn).expect("upgrade"),
            [
                "003_audit_log",
                "004_comment_anchors",
                "005_shares",
                "006_language",
                "007_search",
                "008_collections",
                "009_search_scope"
            ]
        );
        let comments = super::super::read::comments(&conn, "c-1").expect("read");
        assert_eq!(comments.len(), 1);
        let c = &comments[0];
        assert_eq!((c.comment.at_s, c.comment.text.as_str()), (Some(12.5), "Ask about budget"));
        assert_eq!(
            (c.comment.turn, c.comment.start_s, c.comment.end_s, c.edited_at),
            (None, None, None, None)
        );
    }

    /// A store migrated before search, with a transcript: the upgrade indexes
    /// it, and later writes and deletes keep the index in step.
    #[test]
    fn search_finds_utterances_stored_before_it() {
        use crate::types::{DateRange, SearchQuery, SearchScope};
        let mut conn = Connection::open_in_memory().expect("open");
        conn.execute_batch(
            "CREATE TABLE callscope_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, \
             applied_at INTEGER NOT NULL)",
        )
        .expect("migrations table");
        for (version, name, sql) in &MIGRATIONS[..6] {
            for statement in split_statements(sql) {
                conn.execute_batch(&statement).expect("old migration");
            }
            conn.execute("INSERT INTO callscope_migrations VALUES (?, ?, 0)", params![version, name])
                .expect("record");
        }
        let utterance = |turn: i64, text: &str| {
            conn.execute(
                "INSERT INTO utterances (call_id, version, seller_id, started_at, turn, role, start_s, end_s, \
                 text, sentiment, sentiment_score) VALUES ('c-old', 1, 's-ana', 1764579600000, ?, 'customer', \
                 ?, ?, ?, '', 0)",
                params![turn, turn as f64, turn as f64 + 1.0, text],
            )
            .expect("old utterance");
        };
        utterance(0, "Our budget is approved for next quarter.");
        assert_eq!(run(&mut conn).expect("upgrade"), ["007_search", "008_collections", "009_search_scope"]);
        let query = SearchQuery {
            phrase: "Budget is approved".into(),
            scope: SearchScope::All,
            seller: None,
            range: DateRange::new(
                chrono::NaiveDate::from_ymd_opt(2025, 12, 1).expect("day"),
                chrono::NaiveDate::from_ymd_opt(2025, 12, 1).expect("day"),
            ),
            said_by: None,
            limit: 10,
        };
        let found = |conn: &Connection| -> Vec<u32> {
            super::super::read::search(conn, &query).expect("search").iter().map(|h| h.turn).collect()
        };
        assert_eq!(found(&conn), [0]);
        // The scope's tokens were written for the old rows too.
        let scoped = |sellers: &[&str], shared: &[&str], seller: Option<&str>| -> usize {
            let query = SearchQuery {
                scope: SearchScope::Only {
                    sellers: sellers.iter().map(|s| s.to_string()).collect(),
                    shared: shared
                        .iter()
                        .map(|c| crate::types::SharedSpan { call_id: c.to_string(), clip: None })
                        .collect(),
                },
                seller: seller.map(str::to_owned),
                ..query.clone()
            };
            super::super::read::search(&conn, &query).expect("search").len()
        };
        assert_eq!(scoped(&["s-ana"], &[], None), 1);
        assert_eq!(scoped(&["s-bob"], &[], None), 0);
        assert_eq!(scoped(&["s-bob"], &["c-old"], None), 1);
        assert_eq!(scoped(&["s-bob"], &["c-other"], None), 0);
        assert_eq!(scoped(&["s-ana", "s-bob"], &[], Some("s-bob")), 0);
        assert_eq!(scoped(&[], &["c-old"], Some("s-ana")), 1);
        let utterance = |turn: i64, text: &str| {
            conn.execute(
                "INSERT INTO utterances (call_id, version, seller_id, started_at, turn, role, start_s, end_s, \
                 text, sentiment, sentiment_score) VALUES ('c-old', 1, 's-ana', 1764579600000, ?, 'seller', \
                 0, 1, ?, '', 0)",
                params![turn, text],
            )
            .expect("new utterance");
        };
        utterance(1, "So the budget is approved?");
        assert_eq!(found(&conn), [0, 1]);
        conn.execute("UPDATE utterances SET text = 'No money.' WHERE turn = 0", []).expect("update");
        assert_eq!(found(&conn), [1]);
        conn.execute("DELETE FROM utterances", []).expect("delete");
        assert!(found(&conn).is_empty());
    }
}
