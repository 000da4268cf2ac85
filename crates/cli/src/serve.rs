//! `callscope serve`: the seller insights web app and its API.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use crate::config::Config;
use crate::setup;

/// Arguments of `callscope serve`.
#[derive(Debug, Default, Args)]
pub(crate) struct ServeArgs {
    /// Listen address (overrides `app.listen`).
    #[arg(long, value_name = "HOST:PORT")]
    listen: Option<String>,
}

pub(crate) fn run(args: &ServeArgs, config: &Config) -> Result<ExitCode> {
    setup::serve_app(config, args.listen.as_deref().unwrap_or(&config.app.listen))?;
    Ok(ExitCode::SUCCESS)
}
