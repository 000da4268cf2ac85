//! `callscope worker`: consume call events (Kafka, or a folder) and store the
//! analysed calls. The delivery rules live in `callscope-ingest`; this file
//! wires configuration, logging, signals and the metrics port.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use callscope_ingest::dir::DirConfig;
use callscope_ingest::kafka::KafkaConfig;
use callscope_ingest::{Health, Metrics};
use clap::Args;

use crate::config::{Config, IngestConfig};
use crate::setup::{engine, init_logging, run_folder, shutdown_signal};

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
        options: ingest.kafka_options.0.clone(),
    }
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
                // Copies written into the watched folder would come back as new calls.
                if let Some(dir) = ingest.audio_copies.enabled_dir()
                    && std::fs::canonicalize(dir).ok() == std::fs::canonicalize(&path).ok()
                {
                    bail!(
                        "ingest.audio_copies.dir is the folder the worker reads ({}): use a subfolder",
                        path.display()
                    );
                }
                let dir = DirConfig {
                    path,
                    poll: Duration::from_millis(ingest.poll_interval_ms.max(100)),
                    once: args.once,
                    max_in_flight: ingest.max_in_flight.max(1),
                    settle: Duration::from_secs(2),
                };
                let summary = run_folder(dir, engine, health, stop_tx).await?;
                eprintln!("{}", crate::output::dir_summary(&summary));
                Ok(if summary.failed > 0 {
                    ExitCode::from(crate::output::EXIT_BAD_INPUT)
                } else {
                    ExitCode::SUCCESS
                })
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
