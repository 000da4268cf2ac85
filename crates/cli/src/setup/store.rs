//! The configured store and the users directory.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use callscope_api::Directory;
use callscope_store::{
    ClickHouseConfig, ClickHouseStore, ClickHouseTls, ClickHouseTlsFiles, SqliteStore, Store,
};

use crate::config::{AppConfig, StoreConfig};

/// Opens the configured store: ClickHouse when a URL is set, else SQLite.
pub(crate) fn open_store(config: &StoreConfig) -> Result<Arc<dyn Store>> {
    Ok(match &config.clickhouse_url {
        Some(url) => Arc::new(ClickHouseStore::new(&ClickHouseConfig {
            url: url.clone(),
            database: config.clickhouse_database.clone(),
            user: config.clickhouse_user.clone(),
            password: config.clickhouse_password.clone(),
            timeout: Duration::from_secs(config.timeout_s),
            tls: clickhouse_tls(config)?,
        })),
        None => {
            Arc::new(SqliteStore::open(&config.sqlite_path).with_context(|| {
                format!("{}: cannot open the embedded store", config.sqlite_path.display())
            })?)
        }
    })
}

/// The ClickHouse TLS files, loaded; `None` when none is set (an `https://`
/// URL then trusts the built-in roots).
fn clickhouse_tls(config: &StoreConfig) -> Result<Option<ClickHouseTls>> {
    let files = ClickHouseTlsFiles {
        ca_file: config.clickhouse_ca_file.clone(),
        client_cert_file: config.clickhouse_client_cert_file.clone(),
        client_key_file: config.clickhouse_client_key_file.clone(),
    };
    if files.is_empty() {
        return Ok(None);
    }
    ClickHouseTls::load(&files).map(Some).context("store: ClickHouse TLS settings")
}

/// Where the store is, for messages (no credentials).
pub(crate) fn describe(config: &StoreConfig) -> String {
    match &config.clickhouse_url {
        Some(url) => format!("ClickHouse {url}, database {}", config.clickhouse_database),
        None => format!("SQLite {}", config.sqlite_path.display()),
    }
}

/// Reads the users and teams file named by `app.directory`.
pub(crate) fn load_directory(app: &AppConfig) -> Result<Directory> {
    let Some(path) = &app.directory else {
        bail!("app.directory is not set: name a users and teams file (see docs/app.md)");
    };
    let source = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read the directory", path.display()))?;
    Directory::from_toml_str(&source).with_context(|| format!("{}: invalid directory", path.display()))
}
