//! `callscope import`: analyse transcripts and store them, so the insights page
//! has data. The same analysis as `analyze`, written through the configured store.
//!
//! Each transcript may have a sidecar `NAME.meta.json` beside it with the call's
//! metadata (`team`, `customer`, `outcome`, `direction`, `audio`); `audio` is a
//! path relative to the sidecar. Without one, `--audio-dir` is searched for
//! `CALL_ID.{mp3,flac,wav,ogg,opus}`. The seller's team defaults to the one in
//! `app.directory`, when configured.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use callscope_model::{CallAnalysis, CallMeta, Direction, Transcript};
use clap::Args;
use serde::Deserialize;

use crate::config::Config;
use crate::output::EXIT_BAD_INPUT;
use crate::setup::{analyzer, describe, expand_inputs, load_directory, load_transcript, open_store};

/// Arguments of `callscope import`.
#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// Transcript JSON files or directories of them. Repeatable.
    #[arg(long = "transcript", value_name = "FILE|DIR", required = true, num_args = 1..)]
    transcripts: Vec<PathBuf>,
    /// Folder with recordings named after the call id.
    #[arg(long, value_name = "DIR")]
    audio_dir: Option<PathBuf>,
    /// Trackers file (overrides `signals.trackers`).
    #[arg(long, value_name = "FILE")]
    trackers: Option<PathBuf>,
}

/// A transcript's sidecar metadata.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Sidecar {
    team: Option<String>,
    customer: Option<String>,
    outcome: Option<String>,
    direction: Option<Direction>,
    audio: Option<PathBuf>,
}

fn sidecar(path: &Path) -> Result<Sidecar> {
    let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else { return Ok(Sidecar::default()) };
    let meta = path.with_file_name(format!("{stem}.meta.json"));
    if !meta.is_file() {
        return Ok(Sidecar::default());
    }
    let bytes = std::fs::read(&meta).with_context(|| format!("{}: cannot read", meta.display()))?;
    let mut s: Sidecar =
        serde_json::from_slice(&bytes).with_context(|| format!("{}: invalid metadata", meta.display()))?;
    if let Some(audio) = &s.audio {
        s.audio = Some(meta.parent().unwrap_or(Path::new(".")).join(audio));
    }
    Ok(s)
}

fn find_audio(dir: &Path, call_id: &str) -> Option<PathBuf> {
    ["mp3", "flac", "wav", "ogg", "opus"]
        .iter()
        .map(|ext| dir.join(format!("{call_id}.{ext}")))
        .find(|p| p.is_file())
}

fn file_uri(path: &Path) -> Result<String> {
    let abs =
        std::fs::canonicalize(path).with_context(|| format!("{}: recording not found", path.display()))?;
    Ok(format!("file://{}", abs.display()))
}

fn prepare(
    path: &Path,
    args: &ImportArgs,
    directory: Option<&callscope_api::Directory>,
) -> Result<(CallMeta, Transcript, Option<String>)> {
    let transcript: Transcript = load_transcript(path)?;
    let side = sidecar(path)?;
    let call_id = transcript
        .call_id
        .clone()
        .or_else(|| path.file_stem().and_then(|s| s.to_str()).map(str::to_owned))
        .context("no call_id")?;
    let Some(seller_id) = transcript.seller_id.clone() else {
        bail!("{}: seller_id: required to store a call", path.display());
    };
    let Some(started_at) = transcript.started_at else {
        bail!("{}: started_at: required to store a call", path.display());
    };
    let team = side.team.clone().or_else(|| directory.and_then(|d| d.team_of(&seller_id)).map(str::to_owned));
    let audio = match &side.audio {
        Some(p) => Some(file_uri(p)?),
        None => {
            args.audio_dir.as_ref().and_then(|d| find_audio(d, &call_id)).map(|p| file_uri(&p)).transpose()?
        }
    };
    let meta = CallMeta {
        call_id,
        seller_id,
        team,
        started_at: Some(started_at),
        direction: side.direction,
        outcome: side.outcome,
        customer: side.customer,
        language: transcript.language,
    };
    Ok((meta, transcript, audio))
}

pub(crate) fn run(args: &ImportArgs, config: &Config) -> Result<ExitCode> {
    let analyzer = analyzer(
        args.trackers.as_ref().or(config.signals.trackers.as_ref()),
        config.signals.settings(),
        &config.redaction,
        crate::setup::sentiment(&config.signals, &config.diarize)?,
    )?;
    let directory = config.app.directory.as_ref().map(|_| load_directory(&config.app)).transpose()?;
    let mut failed = 0usize;
    let inputs = expand_inputs(&args.transcripts, &mut failed);
    let mut calls: Vec<CallAnalysis> = Vec::new();
    for path in &inputs {
        match prepare(path, args, directory.as_ref()) {
            Ok((meta, transcript, audio)) => calls.push(analyzer.analyze_transcript(meta, transcript, audio)),
            Err(err) => {
                failed += 1;
                eprintln!("error: {err:#}");
            }
        }
    }
    let store = open_store(&config.store)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let receipt = runtime
        .block_on(async {
            if config.store.clickhouse_url.is_none() {
                store.migrate().await?;
            }
            let mut total = callscope_store::WriteReceipt::default();
            for chunk in calls.chunks(100) {
                let r = store.write(chunk).await?;
                total.call_ids.extend(r.call_ids);
                total.replaced += r.replaced;
                eprintln!("imported {}/{}", total.call_ids.len(), calls.len());
            }
            anyhow::Ok(total)
        })
        .with_context(|| format!("writing to {}", describe(&config.store)))?;
    println!(
        "{}: stored {} call(s) ({} replaced an earlier version); {} failed",
        describe(&config.store),
        receipt.call_ids.len(),
        receipt.replaced,
        failed
    );
    Ok(if failed > 0 { ExitCode::from(EXIT_BAD_INPUT) } else { ExitCode::SUCCESS })
}
