//! Process plumbing shared by the long-running commands: logging, the
//! shutdown signal and the ingest engine (`worker`, `demo`).

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use callscope_ingest::{Engine, EngineConfig, Health, Metrics, Models};

use super::{describe, diarizer, open_store, read_trackers, transcriber};
use crate::config::{Config, LogFormat};

/// Sets up tracing: `RUST_LOG` filter (default info), text or JSON lines on stderr.
pub(crate) fn init_logging(format: LogFormat) {
    init_logging_at(format, "info,rdkafka=warn,symphonia_format_ogg=warn,whisper_rs=warn");
}

/// Tracing for the one-shot commands (`analyze`, `eval`): warnings only unless
/// `RUST_LOG` asks for more (`RUST_LOG=callscope_asr=debug` shows what the
/// hallucination guards drop), so that their output stays the result.
pub(crate) fn init_cli_logging() {
    init_logging_at(LogFormat::Text, "warn,symphonia_format_ogg=error,whisper_rs=error");
}

fn init_logging_at(format: LogFormat, default_filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder =
        tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Resolves on SIGTERM or Ctrl-C.
pub(crate) async fn shutdown_signal() {
    interrupt().await;
    tracing::info!("shutdown requested");
}

/// Resolves on the next SIGTERM or Ctrl-C after its first poll: the second
/// interrupt, for a source that polls it once [`shutdown_signal`] resolved.
async fn stop_now() {
    interrupt().await;
    tracing::info!("stop now requested");
}

/// Runs the folder source with the command line's interrupts (the first lets
/// the calls in progress finish, a second stops them) and progress lines.
pub(crate) async fn run_folder(
    dir: callscope_ingest::dir::DirConfig,
    engine: Engine,
    health: Arc<Health>,
    stop: tokio::sync::watch::Sender<bool>,
) -> Result<callscope_ingest::dir::DirSummary, callscope_ingest::dir::DirError> {
    callscope_ingest::dir::run(
        dir,
        engine,
        health,
        stop,
        shutdown_signal(),
        stop_now(),
        crate::output::print_progress,
    )
    .await
}

/// The next SIGTERM or Ctrl-C.
async fn interrupt() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Builds the ingest engine from configuration (inside a runtime). The
/// embedded SQLite store is created and migrated here; ClickHouse is migrated
/// by `callscope migrate` (a Job in deploy/), and until then writes are retried.
pub(crate) async fn engine(
    config: &Config,
    metrics: Metrics,
    health: Arc<Health>,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Result<Engine> {
    let ingest = &config.ingest;
    let (trackers, _) = read_trackers(config.signals.trackers.as_ref())?;
    let transcriber = if ingest.transcripts_only {
        None
    } else {
        let (t, _) = transcriber(config, None).context(
            "loading the whisper model (set ingest.transcripts_only = true for a worker that takes transcripts only)",
        )?;
        Some(Arc::new(t))
    };
    let store = open_store(&config.store)?;
    if config.store.clickhouse_url.is_none() {
        store.migrate().await.with_context(|| format!("preparing {}", describe(&config.store)))?;
    }
    tracing::info!(
        store = %describe(&config.store),
        model = ?transcriber.as_ref().map(|t| t.settings().model.display().to_string()),
        language = %config.asr.language,
        models = ?config.asr.models,
        "engine ready"
    );
    // One call per whisper's worth of cores: whisper's threads spin while
    // they wait for each other, so more threads than cores slow every call.
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let cpu_threads = match ingest.cpu_threads {
        0 if ingest.transcripts_only => cores,
        0 => (cores / config.asr.threads.max(1)).max(1),
        n => n,
    };
    tracing::info!(calls_at_once = cpu_threads, whisper_threads = config.asr.threads, "CPU pool");
    let engine_config = EngineConfig {
        cpu_threads,
        batch_max_calls: ingest.batch_max_calls.max(1),
        batch_linger: Duration::from_millis(ingest.batch_linger_ms),
        retry_initial: Duration::from_millis(ingest.retry_initial_ms.max(1)),
        retry_max: Duration::from_millis(ingest.retry_max_ms.max(1)),
        fetch_timeout: Duration::from_secs(ingest.fetch_timeout_s.max(1)),
        fetch_max_attempts: ingest.fetch_max_attempts.max(1),
        fetch_confirm_attempts: ingest.fetch_confirm_attempts.max(1),
        max_recording_bytes: Some(ingest.max_recording_bytes).filter(|&b| b > 0),
        max_duration_s: Some(ingest.max_duration_s).filter(|&s| s > 0.0),
        download_dir: ingest.download_dir.clone(),
        cpu_stall: Duration::from_secs(ingest.cpu_stall_s.max(1)),
        fault_panic_call_id: test_panic_call_id(),
        audio_copies: audio_copies(config)?,
    };
    let diarizer = if ingest.transcripts_only { None } else { diarizer(&config.diarize, None)? };
    let redaction = super::models::redactor(&config.redaction)?;
    let sentiment = Some(super::sentiment(&config.signals, &config.diarize)?);
    let models =
        Models { trackers, signals: config.signals.settings(), transcriber, diarizer, redaction, sentiment };
    Ok(Engine::start(models, store, engine_config, metrics, health, stop))
}

/// `[ingest.audio_copies]` built: the folder created and resolved. A warning
/// when it is not under `app.audio_root` (the API would not serve the copies,
/// and erasure would not delete them).
fn audio_copies(config: &Config) -> Result<Option<callscope_ingest::AudioCopies>> {
    let c = &config.ingest.audio_copies;
    let Some(dir) = c.enabled_dir() else { return Ok(None) };
    let copies = callscope_ingest::AudioCopies::new(dir, c.mask_mode(), c.margin_s)
        .with_context(|| format!("ingest.audio_copies.dir {}: cannot create or resolve", dir.display()))?;
    let under_root = config
        .app
        .audio_root
        .as_deref()
        .and_then(|r| std::fs::canonicalize(r).ok())
        .is_some_and(|root| copies.dir.starts_with(root));
    if !under_root {
        tracing::warn!(
            dir = %copies.dir.display(),
            "ingest.audio_copies.dir is not under app.audio_root: the API will not serve the redacted copies and erasure will not delete them"
        );
    }
    tracing::info!(dir = %copies.dir.display(), mode = ?copies.mode, "redacted audio copies");
    Ok(Some(copies))
}

/// The panic test hook's call id (`EngineConfig::fault_panic_call_id`), from
/// `CALLSCOPE_TEST_PANIC_CALL_ID`: read in debug builds only (the integration
/// tests run those), so a release build cannot be made to panic by it.
#[cfg(debug_assertions)]
fn test_panic_call_id() -> Option<String> {
    let id = std::env::var("CALLSCOPE_TEST_PANIC_CALL_ID").ok().filter(|v| !v.is_empty())?;
    tracing::warn!(call_id = %id, "test hook: this call will panic in its analysis (debug build)");
    Some(id)
}

#[cfg(not(debug_assertions))]
fn test_panic_call_id() -> Option<String> {
    None
}
