//! Neural voice activity: Silero VAD (MIT; `silero_vad_16k_op15.onnx` from the
//! PyPI wheel `silero-vad`, fetched by `tools/models/fetch_diarize.sh`).
//!
//! The energy detector ([`crate::speech_segments`]) asks "is this frame loud
//! compared with the channel's quiet frames?". On a telephone line with noise
//! under the speech that question has no good threshold: at 10 dB SNR quiet
//! syllables sit inside the noise and noise bursts stand above it. Silero asks
//! "does this 32 ms frame sound like speech?", which holds in steady noise
//! and codec artefacts. It does not know *whose* speech it hears (babble,
//! leak of the other party), so callers still combine it with levels
//! ([`crate::leak`], the word-edge fit).
//!
//! The model is recurrent: each 512-sample frame (with the 64 samples before
//! it) updates a state. A channel is cut into up to [`MAX_STREAMS`] contiguous
//! streams run as one batch, each started [`WARMUP_FRAMES`] early so its
//! state has settled when its own frames begin: the same decisions as one
//! pass, at about twice the speed on one thread.

use std::path::Path;
use std::sync::Mutex;

use ort::session::Session;
use ort::value::Tensor;

use crate::onnx::{OnnxError, session};
use crate::{SpeechFrames, TARGET_RATE};

/// Samples per frame at 16 kHz (32 ms).
pub const FRAME: usize = 512;
/// Samples of the previous frame given with each frame.
const CONTEXT: usize = 64;
/// Frame length, seconds.
pub const FRAME_S: f64 = FRAME as f64 / TARGET_RATE as f64;
/// Most streams of one channel run as a batch.
pub const MAX_STREAMS: usize = 16;
/// Frames a stream runs before its own (about 1 s).
pub const WARMUP_FRAMES: usize = 32;
/// Fewest frames per stream (about 8 s): shorter audio runs as fewer streams.
const MIN_STREAM_FRAMES: usize = 256;
/// The recurrent state's size per stream.
const STATE: usize = 128;

/// Where speech starts (probability at least this) ...
pub const ONSET: f32 = 0.5;
/// ... and where it ends (below this), as the Silero authors recommend.
pub const OFFSET: f32 = 0.35;

/// A loaded Silero VAD. Share by reference: it holds [`SESSIONS`] ONNX
/// Runtime sessions, so that two channels of a call are read at the same
/// time; more callers than that wait for a free one.
pub struct SileroVad {
    sessions: [Mutex<Session>; SESSIONS],
}

/// Sessions of one [`SileroVad`] (a stereo call's two channels at once; each
/// holds a copy of the 2 MB model).
pub const SESSIONS: usize = 2;

impl std::fmt::Debug for SileroVad {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SileroVad").finish_non_exhaustive()
    }
}

fn err(what: &str, e: impl std::fmt::Display) -> OnnxError {
    OnnxError::new(format!("silero vad: {what}"), e)
}

impl SileroVad {
    /// Loads ONNX Runtime from `runtime` (once per process) and the model.
    pub fn load(model: &Path, runtime: &Path) -> Result<Self, OnnxError> {
        Ok(SileroVad {
            sessions: [Mutex::new(session(model, runtime, 1)?), Mutex::new(session(model, runtime, 1)?)],
        })
    }

    /// Speech probability of each 32 ms frame of `samples` (16 kHz); a last
    /// partial frame is padded with silence.
    pub fn probabilities(&self, samples: &[f32]) -> Result<Vec<f32>, OnnxError> {
        let n = samples.len().div_ceil(FRAME);
        if n == 0 {
            return Ok(Vec::new());
        }
        let streams = (n / MIN_STREAM_FRAMES).clamp(1, MAX_STREAMS);
        let per = n.div_ceil(streams);
        // Stream `s` owns frames s*per .. (s+1)*per and starts WARMUP_FRAMES
        // early (stream 0 has nothing before it and starts fresh).
        let warmup = if streams > 1 { WARMUP_FRAMES } else { 0 };
        let frame_of = |s: usize, step: usize| (s * per + step).checked_sub(warmup);
        let mut probs = vec![0.0f32; n];
        let mut state = vec![0.0f32; 2 * streams * STATE];
        let mut input = vec![0.0f32; streams * (CONTEXT + FRAME)];
        let sr = Tensor::from_array(((), vec![i64::from(TARGET_RATE)])).map_err(|e| err("input", e))?;
        // A free session, else the first one (whose run takes milliseconds).
        let mut session =
            self.sessions.iter().find_map(|m| m.try_lock().ok()).unwrap_or_else(|| {
                self.sessions[0].lock().unwrap_or_else(std::sync::PoisonError::into_inner)
            });
        for step in 0..per + warmup {
            for s in 0..streams {
                let row = &mut input[s * (CONTEXT + FRAME)..(s + 1) * (CONTEXT + FRAME)];
                row.fill(0.0);
                // Frame f's input: the CONTEXT samples before it, then its own.
                if let Some(f) = frame_of(s, step).filter(|&f| f < n) {
                    let from = (f * FRAME).saturating_sub(CONTEXT);
                    let to = ((f + 1) * FRAME).min(samples.len());
                    let skip = CONTEXT - (f * FRAME - from);
                    row[skip..skip + (to - from)].copy_from_slice(&samples[from..to]);
                }
            }
            let x = Tensor::from_array(([streams, CONTEXT + FRAME], input.clone()))
                .map_err(|e| err("input", e))?;
            let st = Tensor::from_array(([2, streams, STATE], state.clone())).map_err(|e| err("state", e))?;
            let outputs = session
                .run(ort::inputs!["input" => x, "state" => st, "sr" => sr.clone()])
                .map_err(|e| err("run", e))?;
            let (_, p) = outputs["output"].try_extract_tensor::<f32>().map_err(|e| err("output", e))?;
            let (_, next) = outputs["stateN"].try_extract_tensor::<f32>().map_err(|e| err("state", e))?;
            if next.len() != state.len() || p.len() != streams {
                return Err(err("output", "unexpected shape (not a Silero VAD v5/v6 model?)"));
            }
            state.copy_from_slice(next);
            for (s, &prob) in p.iter().enumerate() {
                match frame_of(s, step) {
                    Some(f) if f < n && f >= s * per => probs[f] = prob,
                    // Before the stream's first frame of its own nothing counts;
                    // stream 0 (no warm-up) must not carry the zeros' state.
                    None if s == 0 => {
                        for layer in 0..2 {
                            state[(layer * streams) * STATE..(layer * streams + 1) * STATE].fill(0.0);
                        }
                    }
                    _ => {}
                }
            }
        }
        Ok(probs)
    }

    /// Speech frames of `samples`: probability at least [`ONSET`] starts
    /// speech, below [`OFFSET`] ends it.
    pub fn frames(&self, samples: &[f32]) -> Result<SpeechFrames, OnnxError> {
        Ok(SpeechFrames { frame_s: FRAME_S, speech: hysteresis(&self.probabilities(samples)?) })
    }
}

/// Per-frame decisions from probabilities, with a higher threshold to start
/// speech than to keep it.
pub fn hysteresis(probs: &[f32]) -> Vec<bool> {
    let mut on = false;
    probs
        .iter()
        .map(|&p| {
            on = if on { p >= OFFSET } else { p >= ONSET };
            on
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hysteresis_keeps_speech_through_dips() {
        let p = [0.1, 0.6, 0.4, 0.36, 0.2, 0.45, 0.9];
        assert_eq!(hysteresis(&p), [false, true, true, true, false, false, true]);
    }

    #[test]
    fn a_missing_model_is_a_clear_error() {
        let e = SileroVad::load(
            Path::new("/nonexistent/silero.onnx"),
            Path::new("/nonexistent/libonnxruntime.so"),
        )
        .expect_err("missing");
        assert!(e.to_string().contains("fetch_diarize.sh"), "{e}");
    }
}
