//! Builds what the subcommands run with, from the configuration: the store,
//! the trackers, the transcriber, the diarizer, the web app's state and the
//! worker's engine, plus the process plumbing they share (logging, shutdown
//! signals, input files).
//!
//! Subcommands import only `config`, `setup` and `output`, never each other,
//! so a change to one command cannot ripple into another, and every object is
//! built one way. Loading here may print warnings (a missing optional model
//! file); `config` only parses.
//!
//! # Layout
//! - `inputs`: transcript files and folders named on the command line.
//! - `models`: trackers, whisper, mono diarization, voiceprints.
//! - `store`: the configured store and how to name it in messages.
//! - `runtime`: logging, the shutdown signal, the ingest engine.
//! - `app`: the web app, its authentication settings and their startup checks.

mod app;
mod inputs;
mod models;
mod runtime;
mod store;

pub(crate) use app::serve_app;
pub(crate) use inputs::{expand_inputs, load_transcript, seller_channel_arg};
pub(crate) use models::{
    Voiceprints, analyzer, diarizer, read_trackers, seller_speech, sentiment, transcriber,
    voiceprint_embedder,
};
pub(crate) use runtime::{engine, init_cli_logging, init_logging, run_folder, shutdown_signal};
pub(crate) use store::{describe, load_directory, open_store};
