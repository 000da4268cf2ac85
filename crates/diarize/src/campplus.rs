//! The CAM++ speaker embedder (3D-Speaker `speech_campplus_sv_zh_en_16k-common_advanced`,
//! Apache-2.0; `models/campplus-sv-zh-en.onnx`, converted from the torch
//! checkpoint by `tools/models/convert_campplus.py`), run by ONNX Runtime.
//!
//! Why it is the default: on noisy telephone audio it separates voices far
//! better than the d-vector ([`crate::onnx`]): equal-error rate of same/other
//! speaker decisions between 1.5 s windows of the dev calls 0.3 % against
//! 3.1 % in babble at 10 dB SNR and 0.3 % against 8.9 % in the "realistic"
//! condition (`tools/eval/embedding_separation.py`). It costs more: a 192-d
//! embedding of a 1.5 s window takes about 16 ms on one core, against about
//! 3 ms for a d-vector of 0.8 s (measured with `examples/mono_tune.rs`),
//! which is why its windows are sparser ([`PLAN`]).
//!
//! Input: 80 Kaldi log-mel filter banks ([`crate::fbank`]) per 10 ms, with
//! each bin's mean over the *window* subtracted, as 3D-Speaker does over
//! each input segment in training and inference (not over the call: the
//! features are computed once per call, the mean per window). Any length of
//! three frames or more goes in; the output is not normalised, so it is
//! scaled to unit length here and compared by cosine.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;
use std::sync::Mutex;

use ort::session::Session;
use ort::value::Tensor;

use crate::fbank::{KaldiFbank, N_BINS};
use crate::mono::{DiarizeError, Frames, SpeakerEmbedder, WindowPlan, normalize};
use crate::onnx::{err, session};

/// How CAM++ is used (chosen on the dev calls and their degraded copies,
/// docs/diarization.md "Under noise"): 1.5 s windows, the length 3D-Speaker's
/// own diarization recipe embeds, every 1 s for clustering and every 0.5 s
/// to place turn changes (the first are among the second, so each window is
/// embedded once); a run of words shorter than a window is embedded in the
/// 1.5 s around it; two speakers are one when their voice similarity is 0.6
/// or more (every dev call and degraded copy had two speakers found from
/// 0.55 to 0.7).
pub const PLAN: WindowPlan = WindowPlan {
    window: 150,
    stride: 100,
    dense_stride: 50,
    min_span: 150,
    merge_threshold: 0.6,
    one_voice_threshold: 0.75,
    one_voice_threshold_narrowband: 0.85,
};
/// The model's shortest input (frames).
pub const MIN_FRAMES: usize = 3;
/// Values per embedding.
pub const DIM: usize = 192;
/// Frames per inference call (32 windows of 1.5 s).
const BATCH_FRAMES: usize = 32 * 150;

/// A loaded CAM++ embedder. Share by reference; runs are serialised.
pub struct CamppEmbedder {
    session: Mutex<Session>,
    fbank: KaldiFbank,
    plan: WindowPlan,
}

impl std::fmt::Debug for CamppEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CamppEmbedder").field("plan", &self.plan).finish_non_exhaustive()
    }
}

impl CamppEmbedder {
    /// Loads ONNX Runtime from `runtime` (once per process) and the model.
    pub fn load(model: &Path, runtime: &Path, threads: usize) -> Result<Self, DiarizeError> {
        Ok(Self::from_session(session(model, runtime, threads)?))
    }

    pub(crate) fn from_session(session: Session) -> Self {
        CamppEmbedder { session: Mutex::new(session), fbank: KaldiFbank::new(), plan: PLAN }
    }

    /// The same model used with other windows (for measuring them).
    pub fn with_plan(mut self, plan: WindowPlan) -> Self {
        self.plan = plan;
        self
    }
}

/// `span` clipped to `len` frames and, when shorter than [`MIN_FRAMES`],
/// widened back from its end; `None` when the recording is shorter than that.
fn clip(span: &Range<usize>, len: usize) -> Option<Range<usize>> {
    if len < MIN_FRAMES {
        return None;
    }
    let end = span.end.min(len).max(MIN_FRAMES);
    let start = span.start.min(end - MIN_FRAMES);
    Some(start..end)
}

/// Appends the frames of `window` (`N_BINS` values each) with each bin's mean
/// over the window subtracted.
fn push_normalised(window: &[f32], out: &mut Vec<f32>) {
    let n = window.len() / N_BINS;
    let mut mean = [0.0f64; N_BINS];
    for f in window.chunks_exact(N_BINS) {
        for (m, &x) in mean.iter_mut().zip(f) {
            *m += f64::from(x);
        }
    }
    let mean = mean.map(|m| (m / n.max(1) as f64) as f32);
    for f in window.chunks_exact(N_BINS) {
        out.extend(f.iter().zip(&mean).map(|(x, m)| x - m));
    }
}

impl SpeakerEmbedder for CamppEmbedder {
    fn plan(&self) -> WindowPlan {
        self.plan
    }

    fn features(&self, samples: &[f32]) -> Frames {
        Frames::new(N_BINS, self.fbank.frames(samples).into_flattened())
    }

    fn embed(&self, frames: &Frames, spans: &[Range<usize>]) -> Result<Vec<Vec<f32>>, DiarizeError> {
        let mut out: Vec<Vec<f32>> = vec![Vec::new(); spans.len()];
        // Windows of one length go in one batch.
        let mut by_len: BTreeMap<usize, Vec<(usize, Range<usize>)>> = BTreeMap::new();
        for (i, s) in spans.iter().enumerate() {
            match clip(s, frames.len()) {
                Some(c) => by_len.entry(c.len()).or_default().push((i, c)),
                None => out[i] = vec![0.0; DIM], // under 30 ms of audio: no voice to tell
            }
        }
        let mut session = self.session.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for (len, group) in by_len {
            for chunk in group.chunks((BATCH_FRAMES / len).max(1)) {
                let mut data = Vec::with_capacity(chunk.len() * len * N_BINS);
                for (_, c) in chunk {
                    push_normalised(frames.span(c.clone()), &mut data);
                }
                let input =
                    Tensor::from_array(([chunk.len(), len, N_BINS], data)).map_err(|e| err("input", e))?;
                let outputs = session.run(ort::inputs!["fbank" => input]).map_err(|e| err("run", e))?;
                let (_, data) =
                    outputs["embedding"].try_extract_tensor::<f32>().map_err(|e| err("output", e))?;
                let dim = data.len() / chunk.len();
                for ((i, _), e) in chunk.iter().zip(data.chunks(dim)) {
                    let mut v = e.to_vec();
                    normalize(&mut v);
                    out[*i] = v;
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_are_clipped_to_the_recording_and_the_shortest_input() {
        assert_eq!(clip(&(10..160), 100), Some(10..100));
        assert_eq!(clip(&(99..100), 100), Some(97..100));
        assert_eq!(clip(&(150..300), 100), Some(97..100));
        assert_eq!(clip(&(0..1), 2), None);
    }

    #[test]
    fn the_mean_is_taken_out_per_window() {
        // Two frames: bin b holds b and b + 2; the window's mean is b + 1.
        let window: Vec<f32> = (0..2).flat_map(|t| (0..N_BINS).map(move |b| (b + 2 * t) as f32)).collect();
        let mut out = Vec::new();
        push_normalised(&window, &mut out);
        assert_eq!(out.len(), 2 * N_BINS);
        assert!(out[..N_BINS].iter().all(|&x| x == -1.0) && out[N_BINS..].iter().all(|&x| x == 1.0));
    }

    /// Two voices in the dev call of `tests/eval` (the truth's turns), when
    /// the model is installed: windows of one speaker are more alike than
    /// windows of the two.
    #[test]
    fn windows_of_one_voice_are_closer_than_of_two() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let (model, runtime) =
            (root.join("models/campplus-sv-zh-en.onnx"), root.join("models/libonnxruntime.so.1.32.0"));
        let call = std::fs::read_dir(root.join("tests/eval/calls"))
            .ok()
            .and_then(|mut d| d.next())
            .and_then(Result::ok)
            .map(|e| e.path());
        let Some(call) = call.filter(|_| model.is_file() && runtime.is_file()) else {
            eprintln!(
                "SKIPPED: {} or the test call is missing (tools/models/fetch_diarize.sh)",
                model.display()
            );
            return;
        };
        let audio = callscope_audio::decode_file(&call.join("mono16k.flac")).expect("audio");
        let samples = audio.mono();
        let truth: serde_json::Value =
            serde_json::from_slice(&std::fs::read(call.join("truth.json")).expect("truth")).expect("json");
        let embedder = CamppEmbedder::load(&model, &runtime, 1).expect("model");
        let frames = embedder.features(&samples);
        // The first 1.5 s of every turn of 2 s or more, by speaker.
        let mut spans = Vec::new();
        let mut speakers = Vec::new();
        for t in truth["turns"].as_array().expect("turns") {
            let (s, e) = (t["start"].as_f64().unwrap_or(0.0), t["end"].as_f64().unwrap_or(0.0));
            if e - s >= 2.0 {
                let f = (s * 100.0) as usize;
                spans.push(f..f + 150);
                speakers.push(t["speaker"].as_str().unwrap_or_default().to_owned());
            }
        }
        let v = embedder.embed(&frames, &spans).expect("embeds");
        let (mut same, mut other) = (Vec::new(), Vec::new());
        for i in 0..v.len() {
            for j in i + 1..v.len() {
                let cos: f32 = v[i].iter().zip(&v[j]).map(|(a, b)| a * b).sum();
                if speakers[i] == speakers[j] { same.push(cos) } else { other.push(cos) }
            }
        }
        let mean = |x: &[f32]| x.iter().sum::<f32>() / x.len().max(1) as f32;
        assert!(!same.is_empty() && !other.is_empty());
        assert!(mean(&same) > mean(&other) + 0.2, "same {} other {}", mean(&same), mean(&other));
    }
}
