//! How the speaker embeddings see overlapped speech: for each 0.8 s window
//! (0.1 s apart) over a mono call's speech, the cosine similarity to each of the
//! two speakers' centroids, one line per window (`centre sim0 sim1`). The words
//! (for the speech regions and the centroids) come from a transcript JSON, e.g.
//! the truth of a set made by `tools/eval/make_overlap_set.py`.
//!
//! ```sh
//! cargo run --release -p callscope-diarize --example overlap_probe -- MONO.flac TRANSCRIPT.json [models/]
//! ```
//!
//! Used to measure whether overlapped windows can be told apart by their
//! similarities (docs/diarization.md, "Overlap"): they cannot, well enough.
#![allow(missing_docs)]

use std::path::{Path, PathBuf};

use callscope_diarize::mono::{MonoSettings, SpeakerEmbedder, diarize_words};
use callscope_diarize::onnx::{OnnxEmbedder, WINDOW_FRAMES};
use callscope_model::Word;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: overlap_probe MONO_AUDIO TRANSCRIPT_JSON [MODELS_DIR]";
    let audio = callscope_audio::decode_file(Path::new(&args.next().ok_or(usage)?))?;
    let transcript: serde_json::Value = serde_json::from_slice(&std::fs::read(args.next().ok_or(usage)?)?)?;
    let models = PathBuf::from(args.next().unwrap_or_else(|| "models".into()));
    let samples = audio.mono();
    let words: Vec<Word> = transcript["words"]
        .as_array()
        .ok_or("the transcript has no words")?
        .iter()
        .filter_map(|w| {
            Some(Word::unattributed(w["text"].as_str()?, w["start"].as_f64()?, w["end"].as_f64()?, None))
        })
        .collect();
    let embedder = OnnxEmbedder::load(
        &models.join("dvector-embedder.int8.onnx"),
        &models.join("libonnxruntime.so.1.32.0"),
        2,
    )?;
    let settings = MonoSettings { speakers: Some(2), ..Default::default() };
    let r = diarize_words(&samples, &words, &embedder, &settings)?;
    let frames = embedder.features(&samples);
    let centre_s = |start: usize| (start + WINDOW_FRAMES / 2) as f64 * 0.01;
    let spans: Vec<_> = (0..frames.len().saturating_sub(WINDOW_FRAMES))
        .step_by(10)
        .filter(|&s| words.iter().any(|w| w.start <= centre_s(s) + 0.2 && w.end >= centre_s(s) - 0.2))
        .map(|s| s..s + WINDOW_FRAMES)
        .collect();
    for chunk in spans.chunks(256) {
        for (s, v) in chunk.iter().zip(embedder.embed(&frames, chunk)?) {
            let sims: Vec<String> = r
                .centroids
                .iter()
                .map(|c| format!("{:.3}", c.iter().zip(&v).map(|(x, y)| x * y).sum::<f32>()))
                .collect();
            println!("{:.2} {}", centre_s(s.start), sims.join(" "));
        }
    }
    Ok(())
}
