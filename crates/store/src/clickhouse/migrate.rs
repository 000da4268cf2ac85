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
    (10, "010_search_words", include_str!("../../../../schemas/clickhouse/010_search_words.sql")),
];

/// The migration that adds the search's word index: a full-text index on
/// servers that have one (`TEXT_INDEX_SINCE`), a token bloom filter over the
/// same expression on older ones (the search's query is the same for both).
const WORD_INDEX: u32 = 10;
const TEXT_INDEX_SINCE: (u32, u32) = (26, 2);
const TEXT_INDEX: &str = "TYPE text(tokenizer = 'splitByNonAlpha')";
const BLOOM_INDEX: &str = "TYPE tokenbf_v1(16384, 3, 0) GRANULARITY 1";

/// `major.minor` of a `version()` string ("26.9.2.1").
fn major_minor(version: &str) -> Option<(u32, u32)> {
    let mut parts = version.trim().split('.').map(str::parse::<u32>);
    Some((parts.next()?.ok()?, parts.next()?.ok()?))
}

/// A statement of migration `version` as this server runs it.
fn for_server(version: u32, statement: String, server: Option<(u32, u32)>) -> String {
    let has_text_index = server.is_some_and(|s| s >= TEXT_INDEX_SINCE);
    if version == WORD_INDEX && !has_text_index {
        statement.replace(TEXT_INDEX, BLOOM_INDEX)
    } else {
        statement
    }
}

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
        let server = if *version == WORD_INDEX {
            let v = store.timed(store.client.query("SELECT version()").fetch_one::<String>()).await?;
            major_minor(&v)
        } else {
            None
        };
        for statement in split_statements(sql) {
            let statement = for_server(*version, statement, server);
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

    #[test]
    fn the_word_index_is_a_bloom_filter_on_servers_without_text_indexes() {
        assert_eq!(major_minor("26.9.2.1"), Some((26, 9)));
        assert_eq!(major_minor("24.8.14.39"), Some((24, 8)));
        assert_eq!(major_minor("nonsense"), None);
        let add = split_statements(MIGRATIONS[WORD_INDEX as usize - 1].2)
            .into_iter()
            .find(|s| s.contains("ADD INDEX"))
            .expect("the index");
        assert!(add.contains(TEXT_INDEX), "{add}");
        let on = |server| for_server(WORD_INDEX, add.clone(), server);
        assert_eq!(on(Some((26, 2))), add);
        assert_eq!(on(Some((27, 0))), add);
        for older in [Some((26, 1)), Some((24, 8)), None] {
            let bloom = on(older);
            assert!(bloom.contains(BLOOM_INDEX) && !bloom.contains("TYPE text"), "{bloom}");
        }
        // Other migrations are never rewritten.
        assert_eq!(for_server(9, add.clone(), None), add);
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
