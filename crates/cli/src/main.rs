//! `callscope`, the one binary.
//!
//! The binary is thin: it parses arguments, reads files, calls the library
//! crates and prints. Errors are `anyhow` chains printed whole; an error in the
//! user's input exits with code 2, anything else with code 1.
//!
//! # Layout
//! Subcommands import only `config`, `setup` and `output`, never each other.
//!
//! - `config`: layered configuration (defaults, file, `CALLSCOPE__*` env); parsing only.
//! - `setup`: builds the store, trackers, transcriber, diarizer, engine and web
//!   app from the configuration; logging and the shutdown signal.
//! - `output`: the JSON-lines and table renderings, progress lines, exit codes.
//! - `analyze`: `callscope analyze --transcript FILE|DIR...`, KPIs and signals.
//! - `migrate`: `callscope migrate`, the store's schema.
//! - `import`: `callscope import`, transcripts into the store.
//! - `serve`: `callscope serve`, the web app.
//! - `worker`: `callscope worker`, the ingest worker (Kafka or a folder).
//! - `demo`: `callscope demo`, the sample calls end to end on one machine.
//! - `enroll`: `callscope enroll`, sellers' voiceprints for mono calls.
//! - `erase`: `callscope delete` and `callscope retention`, erasure of calls
//!   and their recordings.
//! - `eval`: `callscope eval`, quality against an evaluation set (the scorers
//!   are the `callscope-eval` library).

mod analyze;
mod config;
mod demo;
mod enroll;
mod erase;
mod eval;
mod import;
mod migrate;
mod output;
mod serve;
mod setup;
mod worker;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Conversation intelligence for sales calls.
#[derive(Debug, Parser)]
#[command(name = "callscope", version, about, long_about = None)]
struct Cli {
    /// Configuration file (TOML), layered over the defaults and under
    /// `CALLSCOPE__*` environment variables [env: CALLSCOPE_CONFIG].
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Compute a call's conversation KPIs and signals from a transcript (JSON).
    Analyze(analyze::AnalyzeArgs),
    /// Create or upgrade the store's schema (ClickHouse or the embedded SQLite file); idempotent.
    Migrate,
    /// Analyse transcripts and store them (so the insights page has data).
    Import(import::ImportArgs),
    /// Serve the seller insights web app and its API.
    Serve(serve::ServeArgs),
    /// Measure transcription and attribution against an evaluation set with truth.
    Eval(eval::EvalArgs),
    /// Consume call events (Kafka, or a folder) and store the analysed calls.
    Worker(worker::WorkerArgs),
    /// Run the whole job on the sample calls (no Kafka, no ClickHouse) and serve the page.
    Demo(demo::DemoArgs),
    /// Learn a seller's voiceprint, to find the seller in mono calls.
    Enroll(enroll::EnrollArgs),
    /// Erase calls and every trace of them (rows, comments, recordings): by call, seller or start.
    Delete(erase::DeleteArgs),
    /// Erase the calls older than their team's retention period (`[retention]`); run it daily.
    Retention(erase::RetentionArgs),
}

/// glibc's malloc gives buffers of at least this size back to the system
/// when they are freed (its `MALLOC_MMAP_THRESHOLD_`, bytes).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: &str = "4194304";

/// Large buffers (a window's audio and its copies, whisper's mel) go back to
/// the system when freed. glibc's malloc otherwise raises its mmap threshold
/// to as much as 32 MB after the first such buffer is freed, and keeps later
/// ones in the arena of the thread that freed them, where both channels'
/// threads ([`callscope_asr::Session::transcribe_channels`]) each held a
/// window's worth: a 2-hour stereo call peaked at 1.04 GB, and at 0.92 GB
/// with a fixed 4 MB threshold (benches/README.md, "Memory of long
/// recordings"). glibc reads the setting only from the environment at start,
/// and the workspace has no unsafe code (`mallopt`), so the process runs
/// itself again with it set, once (same PID, arguments and streams). An
/// operator's own `MALLOC_MMAP_THRESHOLD_` is kept; if the exec fails, the
/// process runs on as it is.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn give_large_buffers_back() {
    use std::os::unix::process::CommandExt;
    const VAR: &str = "MALLOC_MMAP_THRESHOLD_";
    if std::env::var_os(VAR).is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else { return };
    let mut args = std::env::args_os();
    let mut command = std::process::Command::new(exe);
    if let Some(arg0) = args.next() {
        command.arg0(arg0);
    }
    // `exec` returns only if it failed.
    let _ = command.args(args).env(VAR, MMAP_THRESHOLD).exec();
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn give_large_buffers_back() {}

fn main() -> ExitCode {
    give_large_buffers_back();
    let cli = Cli::parse();
    let result = config::Config::load(cli.config.as_deref()).and_then(|config| match cli.command {
        Command::Analyze(args) => analyze::run(&args, &config),
        Command::Migrate => migrate::run(&config),
        Command::Import(args) => import::run(&args, &config),
        Command::Serve(args) => serve::run(&args, &config),
        Command::Eval(args) => eval::run(&args, &config),
        Command::Worker(args) => worker::run(&args, &config),
        Command::Demo(args) => demo::run(&args, &config),
        Command::Enroll(args) => enroll::run(&args, &config),
        Command::Delete(args) => erase::run_delete(&args, &config),
        Command::Retention(args) => erase::run_retention(&args, &config),
    });
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
