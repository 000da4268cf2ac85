//! ONNX Runtime for every model callscope runs (the neural VAD here, the
//! speaker embedder and the overlap model in `callscope-diarize`): the shared
//! library `libonnxruntime.so` (PyPI `onnxruntime`, fetched by
//! `tools/models/fetch_diarize.sh`) is loaded at run time, once per process,
//! so nothing is downloaded at build time and a missing file is a clear error.

use std::path::Path;
use std::sync::OnceLock;

pub use ort;
use ort::session::Session;

/// An ONNX model could not be loaded or run.
#[derive(Debug, thiserror::Error)]
#[error("{what}: {reason}")]
pub struct OnnxError {
    /// The file or step that failed.
    pub what: String,
    /// Why.
    pub reason: String,
}

impl OnnxError {
    /// An error about `what`.
    pub fn new(what: impl Into<String>, reason: impl std::fmt::Display) -> Self {
        OnnxError { what: what.into(), reason: reason.to_string() }
    }
}

/// Loads ONNX Runtime from `runtime` (once per process; later calls reuse it)
/// and opens `model` with `threads` intra-op threads.
pub fn session(model: &Path, runtime: &Path, threads: usize) -> Result<Session, OnnxError> {
    static ENV: OnceLock<Result<ort::environment::Environment, String>> = OnceLock::new();
    if !runtime.is_file() {
        return Err(OnnxError::new(
            runtime.display().to_string(),
            "ONNX Runtime library not found (run tools/models/fetch_diarize.sh)",
        ));
    }
    if !model.is_file() {
        return Err(OnnxError::new(
            model.display().to_string(),
            "model not found (run tools/models/fetch_diarize.sh)",
        ));
    }
    let env = ENV
        .get_or_init(|| {
            ort::init_from(runtime)
                .map_err(|e| e.to_string())?
                .with_name("callscope")
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| OnnxError::new(runtime.display().to_string(), e))?;
    Session::builder(env)
        .map_err(|e| OnnxError::new("onnxruntime", e))?
        .with_intra_threads(threads.max(1))
        .map_err(|e| OnnxError::new("onnxruntime", e))?
        .commit_from_file(model)
        .map_err(|e| OnnxError::new(model.display().to_string(), e))
}
