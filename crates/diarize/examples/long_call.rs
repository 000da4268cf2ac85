//! Diarization of a long mono recording, for time and peak memory (run under
//! `/usr/bin/time -v`). Words are stood in for by 0.4 s pieces of the speech
//! regions voice activity finds, so this measures diarization alone, not ASR;
//! then overlapped-speech detection, when its model is in the models folder.
//!
//! ```sh
//! cargo run --release -p callscope-diarize --example long_call -- FILE.flac [models/] [EMBEDDER.onnx]
//! ```
//!
//! The embedder is CAM++ (`campplus-sv-zh-en.onnx` in the models folder)
//! unless another model file is named.
#![allow(missing_docs)]

use std::path::PathBuf;
use std::time::Instant;

use callscope_diarize::mono::{MonoSettings, diarize_words};
use callscope_diarize::onnx::load_embedder;
use callscope_diarize::overlap::OverlapDetector;
use callscope_model::Word;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let file = PathBuf::from(args.next().ok_or("usage: long_call FILE [MODELS_DIR]")?);
    let models = PathBuf::from(args.next().unwrap_or_else(|| "models".into()));
    let audio = callscope_audio::decode_file(&file)?;
    let samples = audio.mono();
    drop(audio);
    let speech = callscope_audio::speech_segments(&samples, 16_000, &Default::default());
    let mut words = Vec::new();
    for s in &speech {
        let mut t = s.start;
        while t + 0.2 < s.end {
            words.push(Word::unattributed("w", t, (t + 0.35).min(s.end), None));
            t += 0.4;
        }
    }
    let model = args.next().map_or_else(|| models.join("campplus-sv-zh-en.onnx"), PathBuf::from);
    let (embedder, kind) = load_embedder(&model, &models.join("libonnxruntime.so.1.32.0"), 1)?;
    let started = Instant::now();
    let r = diarize_words(&samples, &words, embedder.as_ref(), &MonoSettings::default())?;
    let secs = started.elapsed().as_secs_f64();
    let dur = samples.len() as f64 / 16_000.0;
    println!(
        "{:.0} s of audio, {} pseudo-words, {} speakers: diarized by {} in {secs:.1} s ({:.1}x real time)",
        dur,
        words.len(),
        r.speakers,
        kind.as_str(),
        dur / secs
    );
    let overlap_model = models.join("pyannote-segmentation-3.0.onnx");
    if overlap_model.is_file() {
        let detector = OverlapDetector::load(&overlap_model, &models.join("libonnxruntime.so.1.32.0"), 1)?;
        let started = Instant::now();
        let overlaps = detector.detect(&samples)?;
        let secs = started.elapsed().as_secs_f64();
        let total: f64 = overlaps.iter().map(|o| o.end - o.start).sum();
        println!(
            "overlap: {} stretches, {total:.0} s, in {secs:.1} s ({:.1}x real time)",
            overlaps.len(),
            dur / secs
        );
    }
    Ok(())
}
