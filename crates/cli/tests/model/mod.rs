//! The whisper model the audio tests run (`CALLSCOPE_TEST_MODEL`): skipped
//! with a message without it, except under CI (`CI` set), where that is a
//! failure.

use std::path::PathBuf;

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
