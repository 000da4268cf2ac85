//! Layered configuration: built-in defaults, then a TOML file, then
//! `CALLSCOPE__SECTION__KEY` environment variables (double underscores separate
//! levels: `CALLSCOPE__SIGNALS__TRACKERS=/etc/callscope/trackers.toml`).
//!
//! The file is `--config FILE`, else `$CALLSCOPE_CONFIG`, else none. The
//! defaults are `callscope.default.toml`, shipped in the binary and documented
//! key by key; a test checks that they parse.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::Deserialize;

/// The shipped defaults, every key documented.
pub(crate) const DEFAULTS: &str = include_str!("../callscope.default.toml");

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Config {
    /// Conversation signals.
    pub(crate) signals: SignalsConfig,
}

/// `[signals]`: trackers and signal extraction.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SignalsConfig {
    /// Trackers file (TOML); empty means no tracked terms.
    pub(crate) trackers: Option<PathBuf>,
    /// Customer keywords kept per call.
    pub(crate) max_customer_keywords: usize,
    /// Words of context on each side of a mention.
    pub(crate) context_words: usize,
}

impl Config {
    /// Loads defaults → file → environment.
    pub(crate) fn load(file: Option<&Path>) -> Result<Config> {
        let file =
            file.map(Path::to_path_buf).or_else(|| std::env::var_os("CALLSCOPE_CONFIG").map(PathBuf::from));
        let mut figment = Figment::from(Toml::string(DEFAULTS));
        if let Some(path) = &file {
            anyhow::ensure!(path.is_file(), "{}: config file not found", path.display());
            figment = figment.merge(Toml::file_exact(path));
        }
        let config: Config = figment
            .merge(Env::prefixed("CALLSCOPE__").split("__"))
            .extract()
            .map_err(|e| anyhow::anyhow!("{e}"))
            .with_context(|| match &file {
                Some(path) => {
                    format!("invalid configuration (defaults, {}, CALLSCOPE__* env)", path.display())
                }
                None => "invalid configuration (defaults, CALLSCOPE__* env)".to_owned(),
            })?;
        Ok(config)
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's closures return figment::Error
mod tests {
    use super::*;

    #[test]
    fn shipped_defaults_parse() {
        figment::Jail::expect_with(|_| {
            let config = Config::load(None).expect("defaults parse");
            assert_eq!(config.signals.trackers, None);
            assert_eq!(config.signals.max_customer_keywords, 20);
            Ok(())
        });
    }

    #[test]
    fn file_then_env_override_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("c.toml", "[signals]\ntrackers = \"t.toml\"\ncontext_words = 3\n")?;
            jail.set_env("CALLSCOPE__SIGNALS__CONTEXT_WORDS", "9");
            let config = Config::load(Some(Path::new("c.toml"))).expect("loads");
            assert_eq!(config.signals.trackers, Some(PathBuf::from("t.toml")));
            assert_eq!(config.signals.context_words, 9);
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_and_missing_files_are_errors() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("c.toml", "[signals]\ntracker = \"t.toml\"\n")?;
            let err = format!("{:#}", Config::load(Some(Path::new("c.toml"))).expect_err("typo"));
            assert!(err.contains("tracker"), "{err}");
            let err = format!("{:#}", Config::load(Some(Path::new("nope.toml"))).expect_err("missing"));
            assert!(err.contains("nope.toml: config file not found"), "{err}");
            Ok(())
        });
    }
}
