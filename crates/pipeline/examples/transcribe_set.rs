//! Transcribes every stereo call of an evaluation set through the pipeline and
//! writes each role-attributed transcript as `OUT_DIR/<call>.json`, so that
//! `callscope eval EVAL_DIR --transcripts OUT_DIR` scores it exactly as it
//! scores its own run. Prints the real-time factor per call and overall.
//!
//! `callscope eval` does all of this in one step; this small program exists
//! for machines that get a small binary and no Rust toolchain: the GPU
//! benchmark (`benches/gpu/`) links it against a CUDA build of whisper.cpp.
//!
//! ```sh
//! cargo run --release -p callscope-pipeline --example transcribe_set -- \
//!     models/ggml-tiny.en-q8_0.bin ../shared/eval-dev /tmp/out [--threads N] [--cpu]
//! ```
//! The set's layout is eval-dev's: `EVAL_DIR/calls/<call>/stereo16k.flac` and
//! `truth.json` (for the seller channel).

use std::path::PathBuf;
use std::time::Instant;

use callscope_asr::{AsrSettings, Transcriber};
use callscope_model::CallMeta;
use callscope_model::SellerChannel;
use callscope_pipeline::{Analyzer, Recording};
use callscope_signals::{SignalSettings, Trackers};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: transcribe_set MODEL EVAL_DIR OUT_DIR [--threads N] [--cpu]";
    let (Some(model), Some(set), Some(out)) = (args.next(), args.next(), args.next()) else {
        return Err(usage.into());
    };
    let mut settings = AsrSettings { model: PathBuf::from(model), ..AsrSettings::default() };
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--threads" => settings.threads = args.next().ok_or(usage)?.parse()?,
            "--cpu" => settings.gpu = false,
            _ => return Err(usage.into()),
        }
    }
    let out = PathBuf::from(out);
    std::fs::create_dir_all(&out)?;
    let mut calls: Vec<PathBuf> = std::fs::read_dir(PathBuf::from(&set).join("calls"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("stereo16k.flac").is_file() && p.join("truth.json").is_file())
        .collect();
    calls.sort();
    if calls.is_empty() {
        return Err(format!("{set}: no calls with stereo16k.flac and truth.json").into());
    }

    let t0 = Instant::now();
    let transcriber = Transcriber::load(settings.clone())?;
    let mut session = transcriber.session()?;
    let load_s = t0.elapsed().as_secs_f64();
    // Scored against reference transcripts as spoken: no redaction.
    let analyzer = Analyzer::new(&Trackers::default(), SignalSettings::default()).with_redaction(None);
    let name = callscope_asr::model_name(&settings.model);
    println!(
        "model {name}, {} thread(s), gpu {}; loaded in {load_s:.2} s",
        settings.threads,
        if settings.gpu { "asked" } else { "off" }
    );

    let (mut audio_s, mut wall_s) = (0.0, 0.0);
    for dir in &calls {
        let id = dir.file_name().and_then(|n| n.to_str()).unwrap_or("call").to_owned();
        let truth: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("truth.json"))?)?;
        let seller_channel =
            if truth["seller_channel"] == "right" { SellerChannel::Right } else { SellerChannel::Left };
        let started = Instant::now();
        let audio = callscope_audio::decode_file(&dir.join("stereo16k.flac"))?;
        let meta = CallMeta { call_id: id.clone(), ..CallMeta::default() };
        let recording =
            Recording { meta, audio: (&audio).into(), seller_channel: Some(seller_channel), audio_uri: None };
        let (analysis, _) = analyzer.analyze_audio(recording, &mut session, &mut |_| {})?;
        let wall = started.elapsed().as_secs_f64();
        std::fs::write(out.join(format!("{id}.json")), serde_json::to_vec(&analysis.transcript)?)?;
        let duration = audio.duration_s();
        println!(
            "{id}: {duration:.1} s in {wall:.2} s = {:.1}x real time ({} words)",
            duration / wall,
            analysis.transcript.words.len()
        );
        audio_s += duration;
        wall_s += wall;
    }
    println!(
        "all: {audio_s:.1} s of audio in {wall_s:.2} s = {:.1}x real time (decoding, VAD, both channels, attribution)",
        audio_s / wall_s
    );
    Ok(())
}
