//! What the analysis runs with: trackers, whisper, mono diarization and the
//! sellers' voiceprints.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use callscope_asr::Transcriber;
use callscope_audio::silero::SileroVad;
use callscope_diarize::mono::{Diarizer, MonoSettings};
use callscope_diarize::onnx::OnnxEmbedder;
use callscope_diarize::overlap::OverlapDetector;
use callscope_model::SellerChannel;
use callscope_pipeline::Analyzer;
use callscope_signals::{SignalSettings, TrackerMatcher, Trackers};
use serde::{Deserialize, Serialize};

use crate::config::{AsrConfig, Config, DiarizeConfig};

/// Reads and checks a trackers file (none: no trackers), reporting its
/// warnings (parse and compile) on stderr.
pub(crate) fn read_trackers(path: Option<&PathBuf>) -> Result<(Trackers, TrackerMatcher)> {
    let Some(path) = path else {
        let none = Trackers::default();
        let matcher = TrackerMatcher::new(&none).0;
        return Ok((none, matcher));
    };
    let source = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read trackers file", path.display()))?;
    let (trackers, warnings) = Trackers::from_toml_str(&source)
        .with_context(|| format!("{}: invalid trackers file", path.display()))?;
    let (matcher, compile_warnings) = TrackerMatcher::new(&trackers);
    for warning in warnings.iter().chain(&compile_warnings) {
        eprintln!("warning: {}: {warning}", path.display());
    }
    Ok((trackers, matcher))
}

/// An analyzer with the trackers of `trackers` (none: no tracked terms).
pub(crate) fn analyzer(trackers: Option<&PathBuf>, settings: SignalSettings) -> Result<Analyzer> {
    Ok(Analyzer::with_matcher(read_trackers(trackers)?.1, settings))
}

/// Loads the whisper model of `asr.model` (or `model`, when given) and the
/// voice activity detector. Returns the transcriber and the model's name for
/// reports.
pub(crate) fn transcriber(config: &Config, model: Option<&PathBuf>) -> Result<(Transcriber, String)> {
    let mut settings = config.asr.settings();
    if let Some(model) = model {
        settings.model.clone_from(model);
    }
    let name = callscope_asr::model_name(&settings.model);
    let transcriber = Transcriber::load(settings)?.with_vad(vad(&config.asr, &config.diarize)?);
    Ok((transcriber, name))
}

/// Silero VAD from `asr.vad_model`; `None` (the energy detector) when it is
/// not configured, or with a warning when its files are missing.
fn vad(asr: &AsrConfig, d: &DiarizeConfig) -> Result<Option<Arc<SileroVad>>> {
    if asr.vad_model.as_os_str().is_empty() {
        return Ok(None);
    }
    if !asr.vad_model.is_file() || !d.onnxruntime.is_file() {
        eprintln!(
            "warning: Silero VAD is off (the energy detector finds speech; it fails in line noise): {} or {} is missing (run tools/models/fetch_diarize.sh)",
            asr.vad_model.display(),
            d.onnxruntime.display()
        );
        return Ok(None);
    }
    let vad = SileroVad::load(&asr.vad_model, &d.onnxruntime)
        .with_context(|| format!("loading the voice activity model {}", asr.vad_model.display()))?;
    Ok(Some(Arc::new(vad)))
}

/// Loads the mono diarizer; `None` (with a warning on stderr) when its files
/// are missing, so mono calls still go through as one speaker, flagged.
/// `speakers` overrides `diarize.speakers`.
pub(crate) fn diarizer(d: &DiarizeConfig, speakers: Option<usize>) -> Result<Option<Arc<Diarizer>>> {
    if !d.model.is_file() || !d.onnxruntime.is_file() {
        eprintln!(
            "warning: mono diarization is off: {} or {} is missing (run tools/models/fetch_diarize.sh)",
            d.model.display(),
            d.onnxruntime.display()
        );
        return Ok(None);
    }
    let embedder = voiceprint_embedder(d, 1)?;
    let speakers = speakers.or(Some(d.speakers)).filter(|&n| n > 0);
    let voiceprints = match &d.voiceprints {
        Some(p) if p.is_file() => Voiceprints::read(p)?.sellers,
        _ => BTreeMap::new(),
    };
    let overlap = if d.overlap_model.is_file() {
        Some(OverlapDetector::load(&d.overlap_model, &d.onnxruntime, 1)?)
    } else {
        eprintln!(
            "warning: overlapped-speech detection is off: {} is missing (run tools/models/fetch_diarize.sh)",
            d.overlap_model.display()
        );
        None
    };
    Ok(Some(Arc::new(Diarizer {
        overlap,
        embedder: Box::new(embedder),
        settings: MonoSettings { speakers, merge_threshold: d.merge_threshold, ..Default::default() },
        voiceprints,
    })))
}

/// The speaker embedder of `diarize.model`, running on `threads` threads.
pub(crate) fn voiceprint_embedder(d: &DiarizeConfig, threads: usize) -> Result<OnnxEmbedder> {
    Ok(OnnxEmbedder::load(&d.model, &d.onnxruntime, threads)?)
}

/// The voiceprints file (`diarize.voiceprints`, written by `callscope enroll`).
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Voiceprints {
    /// The embedder the vectors come from (a different model makes them useless).
    pub(crate) model: String,
    /// Seller id → unit voice vector.
    pub(crate) sellers: BTreeMap<String, Vec<f32>>,
}

impl Voiceprints {
    /// Reads a voiceprints file.
    pub(crate) fn read(path: &Path) -> Result<Voiceprints> {
        let bytes =
            std::fs::read(path).with_context(|| format!("{}: cannot read voiceprints", path.display()))?;
        serde_json::from_slice(&bytes)
            .with_context(|| format!("{}: invalid voiceprints file", path.display()))
    }
}

/// Speech spans, seconds.
type Spans = Vec<(f64, f64)>;

/// The seller's speech in a recording, to learn a voiceprint from: the
/// seller's channel of a stereo call (left unless `channel` says), or the
/// whole of anything else; and the speech spans in it.
pub(crate) fn seller_speech(path: &Path, channel: Option<SellerChannel>) -> Result<(Vec<f32>, Spans)> {
    let audio = callscope_audio::decode_file(path).with_context(|| format!("{}", path.display()))?;
    let samples = match audio.channels.len() {
        2 => audio.channels[channel.unwrap_or_default().index()].clone(),
        _ => audio.mono(),
    };
    let spans = callscope_audio::speech_segments(&samples, callscope_audio::TARGET_RATE, &Default::default())
        .iter()
        .map(|s| (s.start, s.end))
        .collect();
    Ok((samples, spans))
}
