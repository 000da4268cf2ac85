//! Layered configuration: built-in defaults, then a TOML file, then
//! `CALLSCOPE__SECTION__KEY` environment variables (double underscores separate
//! levels: `CALLSCOPE__SIGNALS__TRACKERS=/etc/callscope/trackers.toml`).
//!
//! The file is `--config FILE`, else `$CALLSCOPE_CONFIG`, else none. The
//! defaults are `callscope.default.toml`, shipped in the binary and documented
//! key by key; a test checks that they parse.
//!
//! This module only parses and converts settings; it loads no model and
//! prints nothing. Building objects from it is `setup`'s job.

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
    /// Storage of analysed calls.
    pub(crate) store: StoreConfig,
    /// The web app.
    pub(crate) app: AppConfig,
    /// Transcription.
    pub(crate) asr: AsrConfig,
    /// `callscope worker`.
    pub(crate) ingest: IngestConfig,
    /// Mono diarization.
    pub(crate) diarize: DiarizeConfig,
    /// How long calls are kept (`callscope retention`).
    pub(crate) retention: RetentionConfig,
    /// Personal data replaced by placeholders before analysis and storage.
    pub(crate) redaction: callscope_redact::RedactionConfig,
}

/// `[retention]`: how long calls are kept, counted from their start, by the
/// team stored with each call. 0 days: kept forever.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RetentionConfig {
    /// Days for calls of a team not listed in `teams`; 0 keeps them forever.
    pub(crate) default_days: u32,
    /// Days per team, overriding `default_days`; 0 keeps that team's calls forever.
    #[serde(default)]
    pub(crate) teams: std::collections::BTreeMap<String, u32>,
    /// Days the audit trail (`audit_log`) is kept, counted from each entry;
    /// 0 keeps it forever. Its own period: an erased call's access record
    /// outlives the call.
    #[serde(default)]
    pub(crate) audit_days: u32,
}

impl RetentionConfig {
    /// Days a call of `team` is kept; `None`: forever.
    pub(crate) fn days_for(&self, team: &str) -> Option<u32> {
        let days = self.teams.get(team).copied().unwrap_or(self.default_days);
        (days > 0).then_some(days)
    }

    /// The shortest period configured; `None` when every call is kept forever.
    pub(crate) fn shortest_days(&self) -> Option<u32> {
        std::iter::once(self.default_days).chain(self.teams.values().copied()).filter(|d| *d > 0).min()
    }
}

/// `[diarize]`: speakers of mono recordings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DiarizeConfig {
    /// Speaker embedder (ONNX): CAM++ or the d-vector, told apart by the
    /// model's input.
    pub(crate) model: PathBuf,
    /// The embedder used, with a warning, when `model` is missing (the
    /// d-vector); none: no fallback.
    #[serde(default)]
    pub(crate) fallback_model: Option<PathBuf>,
    /// ONNX Runtime shared library.
    pub(crate) onnxruntime: PathBuf,
    /// Known number of speakers; 0 estimates.
    pub(crate) speakers: usize,
    /// How alike two speakers' voices are when they are one (when
    /// estimating); none: the embedder's own.
    #[serde(default)]
    pub(crate) merge_threshold: Option<f32>,
    /// The same for a call's last two speakers; none: the embedder's own.
    #[serde(default)]
    pub(crate) one_voice_threshold: Option<f32>,
    /// Sellers' voiceprints (`callscope enroll`).
    pub(crate) voiceprints: Option<PathBuf>,
    /// Overlapped-speech model (ONNX); overlap detection is off without it.
    pub(crate) overlap_model: PathBuf,
}

/// `[ingest]`: the worker (see the defaults file for each key).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct IngestConfig {
    pub(crate) source: String,
    pub(crate) brokers: String,
    pub(crate) group_id: String,
    pub(crate) topic: String,
    pub(crate) dead_letter_topic: String,
    pub(crate) session_timeout_ms: u32,
    pub(crate) commit_interval_ms: u32,
    pub(crate) max_in_flight: usize,
    pub(crate) cpu_threads: usize,
    pub(crate) batch_max_calls: usize,
    pub(crate) batch_linger_ms: u64,
    pub(crate) retry_initial_ms: u64,
    pub(crate) retry_max_ms: u64,
    pub(crate) fetch_timeout_s: u64,
    pub(crate) fetch_max_attempts: u32,
    pub(crate) fetch_confirm_attempts: u32,
    pub(crate) max_recording_bytes: u64,
    pub(crate) max_duration_s: f64,
    #[serde(default)]
    pub(crate) download_dir: Option<PathBuf>,
    pub(crate) cpu_stall_s: u64,
    pub(crate) shutdown_grace_s: u64,
    pub(crate) metrics_listen: String,
    pub(crate) log_format: LogFormat,
    pub(crate) poll_interval_ms: u64,
    pub(crate) transcripts_only: bool,
    #[serde(default)]
    pub(crate) kafka_options: KafkaOptions,
    #[serde(default)]
    pub(crate) audio_copies: AudioCopiesConfig,
}

/// `[ingest.audio_copies]`: keep a copy of each recording with the redacted
/// spans silenced or beeped, and store the call pointing to it. Off (no
/// `dir`) by default: the stored `audio_uri` is then the event's.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct AudioCopiesConfig {
    /// The copies' folder; unset or empty: no copies. Put it under
    /// `app.audio_root` so the API serves the copies and erasure deletes them.
    pub(crate) dir: Option<PathBuf>,
    /// `silence` or `beep`.
    pub(crate) mode: AudioCopyMode,
    /// Seconds masked before and after each redacted span.
    pub(crate) margin_s: f64,
}

impl Default for AudioCopiesConfig {
    fn default() -> Self {
        AudioCopiesConfig { dir: None, mode: AudioCopyMode::Silence, margin_s: 0.1 }
    }
}

/// What a redacted span of a kept copy becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum AudioCopyMode {
    /// Digital silence.
    Silence,
    /// A 1 kHz tone.
    Beep,
}

impl AudioCopiesConfig {
    /// The folder, when copies are on.
    pub(crate) fn enabled_dir(&self) -> Option<&Path> {
        self.dir.as_deref().filter(|d| !d.as_os_str().is_empty())
    }

    /// The mask mode.
    pub(crate) fn mask_mode(&self) -> callscope_audio::mask::MaskMode {
        match self.mode {
            AudioCopyMode::Silence => callscope_audio::mask::MaskMode::Silence,
            AudioCopyMode::Beep => callscope_audio::mask::MaskMode::Beep,
        }
    }
}

/// `[ingest.kafka_options]`: librdkafka properties (`security.protocol`,
/// `sasl.*`, `ssl.*`, tuning) for the consumer and the dead-letter producer.
///
/// A property can be written as a quoted key (`"security.protocol" = "SSL"`),
/// as a bare TOML dotted key (`security.protocol = "SSL"`, which TOML reads as
/// nested tables), or as an environment variable
/// (`CALLSCOPE__INGEST__KAFKA_OPTIONS__SECURITY.PROTOCOL=SSL`, which is how a
/// Kubernetes Secret passes `sasl.password`); nested tables are joined back
/// into dotted names, and numbers and booleans become their text. Values of
/// keys that look secret are never printed.
#[derive(Clone, Default, PartialEq)]
pub(crate) struct KafkaOptions(pub(crate) std::collections::BTreeMap<String, String>);

impl std::fmt::Debug for KafkaOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secret = |k: &str| ["password", "secret", "key"].iter().any(|s| k.contains(s));
        f.debug_map()
            .entries(self.0.iter().map(|(k, v)| (k, if secret(k) { "<redacted>" } else { v.as_str() })))
            .finish()
    }
}

impl<'de> Deserialize<'de> for KafkaOptions {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use std::collections::BTreeMap;

        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Item {
            Text(String),
            Bool(bool),
            Int(i64),
            Float(f64),
            Table(BTreeMap<String, Item>),
        }

        fn flatten(
            prefix: &str,
            table: BTreeMap<String, Item>,
            out: &mut BTreeMap<String, String>,
        ) -> std::result::Result<(), String> {
            for (k, item) in table {
                let key = if prefix.is_empty() { k } else { format!("{prefix}.{k}") };
                let value = match item {
                    Item::Table(inner) => {
                        flatten(&key, inner, out)?;
                        continue;
                    }
                    Item::Text(v) => v,
                    Item::Bool(v) => v.to_string(),
                    Item::Int(v) => v.to_string(),
                    Item::Float(v) => v.to_string(),
                };
                if out.insert(key.clone(), value).is_some() {
                    return Err(format!("ingest.kafka_options: {key} is given twice"));
                }
            }
            Ok(())
        }

        let table = BTreeMap::<String, Item>::deserialize(d)?;
        let mut out = BTreeMap::new();
        flatten("", table, &mut out).map_err(serde::de::Error::custom)?;
        Ok(KafkaOptions(out))
    }
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// `[asr]`: whisper.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AsrConfig {
    /// ggml model file.
    pub(crate) model: PathBuf,
    /// Language code, or `auto`.
    pub(crate) language: String,
    /// Models per language (`fi`, `*` for every other language).
    #[serde(default)]
    pub(crate) models: std::collections::BTreeMap<String, PathBuf>,
    /// whisper.cpp threads.
    pub(crate) threads: usize,
    /// Beam size (1 = greedy).
    pub(crate) beam_size: usize,
    /// Beam size on a line noisier than `noisy_snr_db` (1 = as `beam_size`).
    pub(crate) noisy_beam_size: usize,
    /// Line SNR (dB) under which `noisy_beam_size` applies.
    pub(crate) noisy_snr_db: f64,
    /// DTW token alignment.
    pub(crate) dtw: bool,
    /// Use the GPU when whisper.cpp has one (the `cuda` build).
    pub(crate) gpu: bool,
    /// Fit word spans to the voiced frames (pauses are nobody's talk time).
    pub(crate) fit_word_edges: bool,
    /// Stereo calls are transcribed in windows of about this many seconds.
    pub(crate) window_s: f64,
    /// Transcribe a stereo call's two channels at the same time (with `threads` >= 2).
    pub(crate) parallel_channels: bool,
    /// Share a call's whisper threads between its two channels read at once.
    pub(crate) share_threads: bool,
    /// Silero VAD (ONNX); empty, or a missing file, falls back to the energy detector.
    pub(crate) vad_model: PathBuf,
}

impl AsrConfig {
    /// The transcriber's settings.
    pub(crate) fn settings(&self) -> callscope_asr::AsrSettings {
        callscope_asr::AsrSettings {
            model: self.model.clone(),
            language: self.language.clone(),
            models: self.models.clone(),
            threads: self.threads,
            beam_size: self.beam_size,
            noisy_beam_size: self.noisy_beam_size,
            noisy_snr_db: self.noisy_snr_db,
            dtw: self.dtw,
            gpu: self.gpu,
            fit_word_edges: self.fit_word_edges,
            window_s: self.window_s,
            parallel_channels: self.parallel_channels,
            share_threads: self.share_threads,
            ..callscope_asr::AsrSettings::default()
        }
    }
}

/// `[app]`: `callscope serve` (see the defaults file for each key).
#[derive(Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AppConfig {
    /// Listen address.
    pub(crate) listen: String,
    /// Log line format of `serve`.
    pub(crate) log_format: LogFormat,
    /// When the session cookie is `Secure`: `auto` (behind an HTTPS proxy that
    /// sends `X-Forwarded-Proto: https`), `always` or `never`.
    pub(crate) cookie_secure: callscope_api::CookieSecurity,
    /// Users and teams file.
    pub(crate) directory: Option<PathBuf>,
    /// Demo login on.
    pub(crate) dev_login: bool,
    /// Folder recordings are served from.
    pub(crate) audio_root: Option<PathBuf>,
    /// Chat link template.
    pub(crate) chat_url_template: Option<String>,
    /// Coaching rules file.
    pub(crate) coaching: Option<PathBuf>,
    /// RS256 public key (PEM file) for bearer tokens.
    pub(crate) jwt_public_key_pem: Option<PathBuf>,
    /// HS256 secret for bearer tokens (never printed); at least 32 bytes.
    pub(crate) jwt_hs256_secret: Option<String>,
    /// The identity provider's JWKS URL.
    pub(crate) jwt_jwks_url: Option<String>,
    /// Find the JWKS by OIDC discovery from `jwt_issuer`.
    pub(crate) jwt_oidc_discovery: bool,
    /// Seconds after which the JWKS is fetched again on the next token.
    pub(crate) jwt_jwks_refresh_s: u64,
    /// Fetches of the JWKS for an unknown `kid` happen at most this often, seconds.
    pub(crate) jwt_jwks_min_refetch_s: u64,
    /// Required token issuer.
    pub(crate) jwt_issuer: Option<String>,
    /// Required token audience.
    pub(crate) jwt_audience: Option<String>,
    /// Claim holding the user id.
    pub(crate) jwt_user_claim: String,
}

impl std::fmt::Debug for AppConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppConfig")
            .field("listen", &self.listen)
            .field("directory", &self.directory)
            .field("dev_login", &self.dev_login)
            .field("audio_root", &self.audio_root)
            .field("jwt_public_key_pem", &self.jwt_public_key_pem)
            .field("jwt_hs256_secret", &self.jwt_hs256_secret.as_ref().map(|_| "<redacted>"))
            .field("jwt_jwks_url", &self.jwt_jwks_url)
            .field("jwt_oidc_discovery", &self.jwt_oidc_discovery)
            .field("jwt_issuer", &self.jwt_issuer)
            .field("jwt_audience", &self.jwt_audience)
            .finish_non_exhaustive()
    }
}

/// `[store]`: ClickHouse or the embedded SQLite file.
#[derive(Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StoreConfig {
    /// ClickHouse HTTP URL; unset means the embedded SQLite store.
    pub(crate) clickhouse_url: Option<String>,
    /// ClickHouse database.
    pub(crate) clickhouse_database: String,
    /// ClickHouse user.
    pub(crate) clickhouse_user: Option<String>,
    /// ClickHouse password (never printed: see the Debug impl).
    pub(crate) clickhouse_password: Option<String>,
    /// `https://` ClickHouse: CA bundle (PEM) instead of the built-in roots.
    pub(crate) clickhouse_ca_file: Option<PathBuf>,
    /// `https://` ClickHouse: client certificate chain (PEM), for mutual TLS.
    pub(crate) clickhouse_client_cert_file: Option<PathBuf>,
    /// `https://` ClickHouse: the client certificate's private key (PEM).
    pub(crate) clickhouse_client_key_file: Option<PathBuf>,
    /// The embedded store's file.
    pub(crate) sqlite_path: PathBuf,
    /// ClickHouse request timeout, seconds.
    pub(crate) timeout_s: u64,
}

impl std::fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreConfig")
            .field("clickhouse_url", &self.clickhouse_url)
            .field("clickhouse_database", &self.clickhouse_database)
            .field("clickhouse_user", &self.clickhouse_user)
            .field("clickhouse_password", &self.clickhouse_password.as_ref().map(|_| "<redacted>"))
            .field("clickhouse_ca_file", &self.clickhouse_ca_file)
            .field("clickhouse_client_cert_file", &self.clickhouse_client_cert_file)
            .field("clickhouse_client_key_file", &self.clickhouse_client_key_file)
            .field("sqlite_path", &self.sqlite_path)
            .field("timeout_s", &self.timeout_s)
            .finish()
    }
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
    /// Sentiment encoder (ONNX); empty: the lexicon (VADER), also used, with
    /// a warning, when the file is missing.
    pub(crate) sentiment_model: PathBuf,
    /// The encoder's WordPiece vocabulary.
    pub(crate) sentiment_vocab: PathBuf,
}

impl SignalsConfig {
    /// The signal extractor's settings.
    pub(crate) fn settings(&self) -> callscope_signals::SignalSettings {
        callscope_signals::SignalSettings {
            max_customer_keywords: self.max_customer_keywords,
            context_words: self.context_words,
        }
    }
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
            assert_eq!(config.store.clickhouse_url, None);
            assert_eq!(config.store.clickhouse_database, "callscope");
            // Redaction is on, for every kind, unless switched off.
            assert_eq!(config.redaction, callscope_redact::RedactionConfig::default());
            Ok(())
        });
    }

    #[test]
    fn redaction_switches_from_file_and_env() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "c.toml",
                "[redaction]
phones = false
",
            )?;
            jail.set_env("CALLSCOPE__REDACTION__DIGIT_RUNS", "false");
            let config = Config::load(Some(Path::new("c.toml"))).expect("valid");
            assert!(!config.redaction.phones && !config.redaction.digit_runs);
            assert!(config.redaction.cards && config.redaction.id_codes && config.redaction.enabled);
            Ok(())
        });
    }

    #[test]
    fn audio_copies_are_off_by_default_and_set_from_file_and_env() {
        figment::Jail::expect_with(|jail| {
            let config = Config::load(None).expect("defaults");
            assert_eq!(config.ingest.audio_copies.enabled_dir(), None);
            jail.create_file("c.toml", "[ingest.audio_copies]\ndir = \"/data/recordings/redacted\"\n")?;
            jail.set_env("CALLSCOPE__INGEST__AUDIO_COPIES__MODE", "beep");
            let config = Config::load(Some(Path::new("c.toml"))).expect("loads");
            let copies = &config.ingest.audio_copies;
            assert_eq!(copies.enabled_dir(), Some(Path::new("/data/recordings/redacted")));
            assert_eq!(copies.mask_mode(), callscope_audio::mask::MaskMode::Beep);
            assert!((copies.margin_s - 0.1).abs() < 1e-9);
            jail.set_env("CALLSCOPE__INGEST__AUDIO_COPIES__MODE", "bleep");
            assert!(Config::load(Some(Path::new("c.toml"))).is_err());
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
    fn password_is_never_printed() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("CALLSCOPE__STORE__CLICKHOUSE_PASSWORD", "hunter2");
            jail.set_env("CALLSCOPE__APP__JWT_HS256_SECRET", "correct-horse-battery-staple-1234567");
            let config = Config::load(None).expect("loads");
            assert_eq!(config.store.clickhouse_password.as_deref(), Some("hunter2"));
            let printed = format!("{config:?}");
            assert!(!printed.contains("hunter2") && !printed.contains("battery"), "{printed}");
            Ok(())
        });
    }

    #[test]
    fn app_security_settings_parse() {
        figment::Jail::expect_with(|jail| {
            let config = Config::load(None).expect("defaults");
            assert_eq!(config.app.cookie_secure, callscope_api::CookieSecurity::Auto);
            assert_eq!(config.app.log_format, LogFormat::Text);
            assert!(!config.app.jwt_oidc_discovery);
            jail.set_env("CALLSCOPE__APP__COOKIE_SECURE", "always");
            jail.set_env("CALLSCOPE__APP__LOG_FORMAT", "json");
            let config = Config::load(None).expect("loads");
            assert_eq!(config.app.cookie_secure, callscope_api::CookieSecurity::Always);
            assert_eq!(config.app.log_format, LogFormat::Json);
            jail.set_env("CALLSCOPE__APP__COOKIE_SECURE", "sometimes");
            assert!(Config::load(None).is_err());
            Ok(())
        });
    }

    #[test]
    fn kafka_options_from_quoted_keys_dotted_keys_and_env() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "c.toml",
                "[ingest.kafka_options]\n\"security.protocol\" = \"SASL_SSL\"\nsasl.mechanism = \"SCRAM-SHA-512\"\n\
                 ssl.ca.location = \"/etc/tls/ca.pem\"\nfetch.wait.max.ms = 100\n\"api.version.request\" = true\n",
            )?;
            jail.set_env("CALLSCOPE__INGEST__KAFKA_OPTIONS__SASL.USERNAME", "callscope");
            jail.set_env("CALLSCOPE__INGEST__KAFKA_OPTIONS__SASL.PASSWORD", "hunter2");
            let config = Config::load(Some(Path::new("c.toml"))).expect("loads");
            let options: Vec<(&str, &str)> =
                config.ingest.kafka_options.0.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            assert_eq!(
                options,
                [
                    ("api.version.request", "true"),
                    ("fetch.wait.max.ms", "100"),
                    ("sasl.mechanism", "SCRAM-SHA-512"),
                    ("sasl.password", "hunter2"),
                    ("sasl.username", "callscope"),
                    ("security.protocol", "SASL_SSL"),
                    ("ssl.ca.location", "/etc/tls/ca.pem"),
                ]
            );
            assert!(!format!("{config:?}").contains("hunter2"));
            Ok(())
        });
    }

    #[test]
    fn kafka_options_given_twice_are_an_error() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "c.toml",
                "[ingest.kafka_options]\n\"security.protocol\" = \"SSL\"\nsecurity.protocol = \"PLAINTEXT\"\n",
            )?;
            let err = format!("{:#}", Config::load(Some(Path::new("c.toml"))).expect_err("twice"));
            assert!(err.contains("security.protocol is given twice"), "{err}");
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
