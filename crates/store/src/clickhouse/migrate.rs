//! Migrations from `schemas/clickhouse/`, applied in order and recorded in
//! `callscope_migrations`, and the check that a deployment is migrated.

use super::ClickHouseStore;
use crate::{Result, StoreError, split_statements};

/// The schema migrations, in order (`schemas/clickhouse/`).
pub const MIGRATIONS: &[(u32, &str, &str)] = &[
    (1, "001_init", include_str!("../../../../schemas/clickhouse/001_init.sql")),
    (2, "002_attribution", include_str!("../../../../schemas/clickhouse/002_attribution.sql")),
    (3, "003_daily_trusted_kpis", include_str!("../../../../schemas/clickhouse/003_daily_trusted_kpis.sql")),
    (4, "004_audit_log", include_str!("../../../../schemas/clickhouse/004_audit_log.sql")),
    (5, "005_comment_anchors", include_str!("../../../../schemas/clickhouse/005_comment_anchors.sql")),
    (6, "006_shares", include_str!("../../../../schemas/clickhouse/006_shares.sql")),
    (7, "007_language", include_str!("../../../../schemas/clickhouse/007_language.sql")),
    (8, "008_search", include_str!("../../../../schemas/clickhouse/008_search.sql")),
    (9, "009_collections", include_str!("../../../../schemas/clickhouse/009_collections.sql")),
];

/// The migration after which every `seller_daily` row is recomputed (its sums
/// changed meaning).
const RECOMPUTE_DAILY_AFTER: u32 = 3;

/// Creates the database and applies the migrations not applied yet; returns their names.
pub(super) async fn run(store: &ClickHouseStore) -> Result<Vec<String>> {
    let db = &store.database;
    if db.is_empty() || !db.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(StoreError::Database(format!(
            "database name {db:?}: use letters, digits and underscores only"
        )));
    }
    store.timed(store.server.query(&format!("CREATE DATABASE IF NOT EXISTS `{db}`")).execute()).await?;
    store
        .execute(
            "CREATE TABLE IF NOT EXISTS callscope_migrations (version UInt32, name String, \
             applied_at DateTime DEFAULT now()) ENGINE = MergeTree ORDER BY version",
            |q| q,
        )
        .await?;
    let applied: Vec<u32> = store
        .timed(store.client.query("SELECT version FROM callscope_migrations").fetch_all::<u32>())
        .await?;
    let mut done = Vec::new();
    for (version, name, sql) in MIGRATIONS {
        if applied.contains(version) {
            continue;
        }
        for statement in split_statements(sql) {
            store.timed(store.client.query(&statement).execute()).await?;
        }
        if *version == RECOMPUTE_DAILY_AFTER {
            store.recompute_daily(None).await?;
        }
        store
            .execute("INSERT INTO callscope_migrations (version, name) VALUES (?, ?)", |q| {
                q.bind(*version).bind(*name)
            })
            .await?;
        done.push((*name).to_owned());
    }
    Ok(done)
}

impl ClickHouseStore {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::columns::{self, Backend};

    #[test]
    fn migrations_split_into_statements() {
        let statements = split_statements(MIGRATIONS[0].2);
        assert!(statements.len() >= 14, "{}", statements.len());
        assert!(statements.iter().all(|s| !s.ends_with(';') && !s.starts_with("--")));
        assert!(statements[0].starts_with("CREATE TABLE IF NOT EXISTS calls"));
    }

    /// The migrations are history and the column table is what the code
    /// writes: they must describe the same `calls`. Needs the server at
    /// `CALLSCOPE_TEST_CLICKHOUSE_URL` (skipped without it, except under CI).
    #[tokio::test]
    async fn migrated_calls_has_the_columns_of_the_table() {
        let url = match std::env::var("CALLSCOPE_TEST_CLICKHOUSE_URL") {
            Ok(url) if !url.is_empty() => url,
            _ if std::env::var_os("CI").is_some() => {
                panic!("CALLSCOPE_TEST_CLICKHOUSE_URL is not set under CI")
            }
            _ => {
                return eprintln!("SKIPPED: set CALLSCOPE_TEST_CLICKHOUSE_URL to check the migrated columns");
            }
        };
        let database = format!("cs_columns_{}", std::process::id());
        let store =
            ClickHouseStore::new(&super::super::ClickHouseConfig { url, database, ..Default::default() });
        run(&store).await.expect("migrate");
        let mut migrated: Vec<String> = store
            .timed(
                store
                    .client
                    .query("SELECT name FROM system.columns WHERE database = ? AND table = 'calls'")
                    .bind(&store.database)
                    .fetch_all::<String>(),
            )
            .await
            .expect("columns");
        migrated.sort_unstable();
        let mut table: Vec<&str> = columns::of(Backend::ClickHouse).map(|c| c.name).collect();
        table.sort_unstable();
        assert_eq!(migrated, table);
    }
}
