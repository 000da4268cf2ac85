//! `callscope migrate`: create or upgrade the store's schema (idempotent).

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use callscope_store::{ClickHouseConfig, ClickHouseStore, SqliteStore, Store};

use crate::config::{Config, StoreConfig};

/// Opens the configured store: ClickHouse when a URL is set, else SQLite.
pub(crate) fn open_store(config: &StoreConfig) -> Result<Arc<dyn Store>> {
    Ok(match &config.clickhouse_url {
        Some(url) => Arc::new(ClickHouseStore::new(&ClickHouseConfig {
            url: url.clone(),
            database: config.clickhouse_database.clone(),
            user: config.clickhouse_user.clone(),
            password: config.clickhouse_password.clone(),
            timeout: Duration::from_secs(config.timeout_s),
        })),
        None => {
            Arc::new(SqliteStore::open(&config.sqlite_path).with_context(|| {
                format!("{}: cannot open the embedded store", config.sqlite_path.display())
            })?)
        }
    })
}

/// Where the store is, for messages (no credentials).
pub(crate) fn describe(config: &StoreConfig) -> String {
    match &config.clickhouse_url {
        Some(url) => format!("ClickHouse {url}, database {}", config.clickhouse_database),
        None => format!("SQLite {}", config.sqlite_path.display()),
    }
}

pub(crate) fn run(config: &Config) -> Result<ExitCode> {
    let store = open_store(&config.store)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let applied = runtime
        .block_on(store.migrate())
        .with_context(|| format!("migrating {}", describe(&config.store)))?;
    if applied.is_empty() {
        println!("{}: schema is up to date", describe(&config.store));
    } else {
        println!("{}: applied {}", describe(&config.store), applied.join(", "));
    }
    Ok(ExitCode::SUCCESS)
}
