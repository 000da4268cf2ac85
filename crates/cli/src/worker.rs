//! `callscope worker`: consume call events (Kafka, or a folder) and store the
//! analysed calls. The delivery rules live in `callscope-ingest`; this file
//! wires configuration, logging, signals and the metrics port.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use callscope_ingest::dir::{CallDone, DirConfig};
use callscope_ingest::kafka::KafkaConfig;
use callscope_ingest::{Engine, EngineConfig, Health, Metrics, Models, Outcome};
use clap::Args;

use crate::analyze::read_trackers;
use crate::config::{Config, IngestConfig, LogFormat};
use crate::migrate::{describe, open_store};

/// Arguments of `callscope worker`.
#[derive(Debug, Args)]
pub(crate) struct WorkerArgs {
    /// Where events come from: `kafka` or `dir:PATH` (overrides `ingest.source`).
    #[arg(long, value_name = "kafka|dir:PATH")]
    source: Option<String>,
    /// Folder source: process the files there, then exit (instead of watching).
    #[arg(long)]
    once: bool,
    /// Metrics address (overrides `ingest.metrics_listen`; empty: none).
    #[arg(long, value_name = "HOST:PORT")]
    metrics_listen: Option<String>,
}

/// Where events come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    Kafka,
    Dir(std::path::PathBuf),
}

impl std::str::FromStr for Source {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "kafka" => Ok(Source::Kafka),
            _ => match s.strip_prefix("dir:") {
                Some(p) if !p.is_empty() => Ok(Source::Dir(p.into())),
                _ => bail!("unknown source {s:?}: use `kafka` or `dir:PATH`"),
            },
        }
    }
}

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

/// Builds the engine from configuration (inside a runtime). The embedded
/// SQLite store is created and migrated here; ClickHouse is migrated by
/// `callscope migrate` (a Job in deploy/), and until then writes are retried.
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
        let settings = config.asr.settings();
        let t = callscope_asr::Transcriber::load(settings).context(
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
    let diarizer = if ingest.transcripts_only { None } else { config.diarize.load(None)? };
    let models = Models { trackers, signals: config.signals.settings(), transcriber, diarizer };
    Ok(Engine::start(models, store, engine_config, metrics, health, stop))
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

fn kafka_config(ingest: &IngestConfig) -> KafkaConfig {
    KafkaConfig {
        brokers: ingest.brokers.clone(),
        group_id: ingest.group_id.clone(),
        topic: ingest.topic.clone(),
        dead_letter_topic: ingest.dead_letter_topic.clone(),
        session_timeout_ms: ingest.session_timeout_ms,
        commit_interval_ms: ingest.commit_interval_ms,
        max_in_flight: ingest.max_in_flight.max(1),
        shutdown_grace: Duration::from_secs(ingest.shutdown_grace_s),
        options: ingest.kafka_options.clone(),
    }
}

/// The folder source's progress line.
pub(crate) fn print_progress(d: &CallDone) {
    let (done, total) = d.progress;
    let what = match &d.outcome {
        Outcome::Stored => "stored".to_owned(),
        Outcome::Failed(f) => format!("FAILED at {} ({}): {}", f.stage.as_str(), f.kind, f.reason),
        Outcome::Abandoned => "abandoned (shutting down)".to_owned(),
    };
    eprintln!("[{done}/{total}] {} {what} ({:.1} s)", d.name, d.elapsed.as_secs_f64());
}

pub(crate) fn run(args: &WorkerArgs, config: &Config) -> Result<ExitCode> {
    let ingest = &config.ingest;
    init_logging(ingest.log_format);
    let source: Source = args.source.as_deref().unwrap_or(&ingest.source).parse()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let metrics = Metrics::new();
        let health = Health::new();
        let listen = args.metrics_listen.as_deref().unwrap_or(&ingest.metrics_listen);
        if !listen.is_empty() {
            let addr =
                listen.parse().with_context(|| format!("ingest.metrics_listen: bad address {listen:?}"))?;
            let bound = callscope_ingest::metrics::serve(addr, metrics.clone(), health.clone())
                .await
                .with_context(|| format!("cannot listen on {listen} for metrics"))?;
            tracing::info!(%bound, "metrics, /healthz and /readyz");
        }
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let engine = engine(config, metrics, health.clone(), stop_rx).await?;
        match source {
            Source::Kafka => {
                if args.once {
                    bail!("--once applies to the folder source (dir:PATH) only");
                }
                let summary = callscope_ingest::kafka::run(
                    kafka_config(ingest),
                    engine,
                    health,
                    stop_tx,
                    shutdown_signal(),
                )
                .await?;
                tracing::info!(
                    stored = summary.stored,
                    dead_lettered = summary.dead_lettered,
                    abandoned = summary.abandoned,
                    "worker stopped"
                );
                Ok(ExitCode::SUCCESS)
            }
            Source::Dir(path) => {
                anyhow::ensure!(path.is_dir(), "{}: not a folder", path.display());
                let dir = DirConfig {
                    path,
                    poll: Duration::from_millis(ingest.poll_interval_ms.max(100)),
                    once: args.once,
                    max_in_flight: ingest.max_in_flight.max(1),
                    settle: Duration::from_secs(2),
                };
                let summary = callscope_ingest::dir::run(
                    dir,
                    engine,
                    health,
                    stop_tx,
                    shutdown_signal(),
                    print_progress,
                )
                .await?;
                eprintln!(
                    "{} stored, {} failed, {} already done",
                    summary.stored, summary.failed, summary.skipped
                );
                Ok(if summary.failed > 0 { ExitCode::from(crate::EXIT_BAD_INPUT) } else { ExitCode::SUCCESS })
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_parse() {
        assert_eq!("kafka".parse::<Source>().expect("kafka"), Source::Kafka);
        assert_eq!("dir:/x/y".parse::<Source>().expect("dir"), Source::Dir("/x/y".into()));
        assert!("dir:".parse::<Source>().is_err());
        assert!("s3://b".parse::<Source>().expect_err("unknown").to_string().contains("dir:PATH"));
    }
}
