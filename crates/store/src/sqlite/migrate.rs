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
}
