//! `callscope migrate`: create or upgrade the store's schema (idempotent).

use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::config::Config;
use crate::setup::{describe, open_store};

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
