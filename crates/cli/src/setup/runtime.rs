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
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("info,rdkafka=warn,symphonia_format_ogg=warn,whisper_rs=warn")
    });
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
    tracing::info!("shutdown requested");
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
    tracing::info!(store = %describe(&config.store), model = ?transcriber.as_ref().map(|t| t.settings().model.display().to_string()), "engine ready");
    let cpu_threads = match ingest.cpu_threads {
        0 => std::thread::available_parallelism().map_or(2, usize::from),
        n => n,
    };
    let engine_config = EngineConfig {
        cpu_threads,
        batch_max_calls: ingest.batch_max_calls.max(1),
        batch_linger: Duration::from_millis(ingest.batch_linger_ms),
        retry_initial: Duration::from_millis(ingest.retry_initial_ms.max(1)),
        retry_max: Duration::from_millis(ingest.retry_max_ms.max(1)),
        fetch_timeout: Duration::from_secs(ingest.fetch_timeout_s.max(1)),
    };
    let diarizer = if ingest.transcripts_only { None } else { diarizer(&config.diarize, None)? };
    let models = Models { trackers, signals: config.signals.settings(), transcriber, diarizer };
    Ok(Engine::start(models, store, engine_config, metrics, health, stop))
}
