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
    /// Allow `app.dev_login` on an address other than loopback: anyone who
    /// can reach the address can sign in as anyone, without a password.
    #[arg(long)]
    insecure_dev_login: bool,
}

pub(crate) fn run(args: &ServeArgs, config: &Config) -> Result<ExitCode> {
    setup::init_logging(config.app.log_format);
    let listen = args.listen.as_deref().unwrap_or(&config.app.listen);
    setup::serve_app(config, listen, args.insecure_dev_login)?;
    Ok(ExitCode::SUCCESS)
}
