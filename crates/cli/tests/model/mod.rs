//! The models the CLI tests run: the whisper model (`CALLSCOPE_TEST_MODEL`),
//! skipped with a message without it, except under CI (`CI` set), where that
//! is a failure; and the sentiment model's folder.
#![allow(dead_code)] // each test binary uses the helpers it needs

use std::path::{Path, PathBuf};
use std::process::Command;

/// The model's path, or `None` (the test skips) outside CI.
pub(crate) fn model() -> Option<PathBuf> {
    match std::env::var_os("CALLSCOPE_TEST_MODEL") {
        Some(p) => Some(PathBuf::from(p)),
        None if std::env::var_os("CI").is_some() => panic!("CALLSCOPE_TEST_MODEL is not set under CI"),
        None => {
            eprintln!("SKIPPED: set CALLSCOPE_TEST_MODEL to a ggml whisper model (tools/models/fetch.sh)");
            None
        }
    }
}

/// The sentiment model's encoder file name (tools/models/fetch_sentiment.sh).
pub(crate) const SENTIMENT_MODEL: &str = "sentiment-minilm-l6-2layers.int8.onnx";

/// Where the sentiment model is: `CALLSCOPE_TEST_SENTIMENT_DIR`, else the
/// repository's `models/` (tools/models/fetch_sentiment.sh, fetch_diarize.sh).
fn sentiment_dir() -> PathBuf {
    std::env::var_os("CALLSCOPE_TEST_SENTIMENT_DIR")
        .map_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models"), PathBuf::from)
}

/// The sentiment model's folder when the model is there, or `None` (the
/// test skips) outside CI; under CI a missing model is a failure.
pub(crate) fn sentiment() -> Option<PathBuf> {
    let dir = sentiment_dir();
    if dir.join(SENTIMENT_MODEL).is_file() {
        return Some(dir);
    }
    assert!(std::env::var_os("CI").is_none(), "no sentiment model in {} under CI", dir.display());
    eprintln!("SKIPPED: no sentiment model in {} (tools/models/fetch_sentiment.sh)", dir.display());
    None
}

/// Points a `callscope` command at the sentiment model in `dir` (encoder,
/// vocabulary, ONNX Runtime).
pub(crate) fn with_sentiment<'a>(command: &'a mut Command, dir: &Path) -> &'a mut Command {
    command
        .env("CALLSCOPE__SIGNALS__SENTIMENT_MODEL", dir.join(SENTIMENT_MODEL))
        .env("CALLSCOPE__SIGNALS__SENTIMENT_VOCAB", dir.join("sentiment-vocab.txt"))
        .env("CALLSCOPE__DIARIZE__ONNXRUNTIME", dir.join("libonnxruntime.so.1.32.0"))
}
