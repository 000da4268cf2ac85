//! What the analysis runs with: trackers, whisper, mono diarization and the
//! sellers' voiceprints.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use callscope_asr::Transcriber;
use callscope_audio::silero::SileroVad;
use callscope_diarize::mono::{Diarizer, MonoSettings, SpeakerEmbedder};
use callscope_diarize::onnx::load_embedder;
use callscope_diarize::overlap::OverlapDetector;
use callscope_model::SellerChannel;
use callscope_pipeline::Analyzer;
use callscope_redact::{RedactionConfig, Redactor};
use callscope_signals::{
    LexiconSentiment, NeuralSentiment, SentimentModel, SignalSettings, TrackerMatcher, Trackers,
};
use serde::{Deserialize, Serialize};

use crate::config::{AsrConfig, Config, DiarizeConfig, SignalsConfig};

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

/// An analyzer with the trackers of `trackers` (none: no tracked terms) that
/// redacts as `redaction` says and scores sentiment with `sentiment`.
pub(crate) fn analyzer(
    trackers: Option<&PathBuf>,
    settings: SignalSettings,
    redaction: &RedactionConfig,
    sentiment: Arc<dyn SentimentModel>,
) -> Result<Analyzer> {
    Ok(Analyzer::with_matcher(read_trackers(trackers)?.1, settings)
        .with_redaction(redactor(redaction)?)
        .with_sentiment(sentiment))
}

/// The sentiment model of `signals.sentiment_model`: the neural model when
/// its files and ONNX Runtime (`diarize.onnxruntime`) are there; else the
/// lexicon, with a warning unless the model is configured empty. Files that
/// are there but do not load are an error.
pub(crate) fn sentiment(signals: &SignalsConfig, d: &DiarizeConfig) -> Result<Arc<dyn SentimentModel>> {
    if signals.sentiment_model.as_os_str().is_empty() {
        return Ok(Arc::new(LexiconSentiment::new()));
    }
    let files = [&signals.sentiment_model, &signals.sentiment_vocab, &d.onnxruntime];
    if let Some(missing) = files.iter().find(|f| !f.is_file()) {
        eprintln!(
            "warning: sentiment is scored by the lexicon (VADER, less accurate): {} is missing (run tools/models/fetch_sentiment.sh and fetch_diarize.sh)",
            missing.display()
        );
        return Ok(Arc::new(LexiconSentiment::new()));
    }
    let model = NeuralSentiment::load(&signals.sentiment_model, &signals.sentiment_vocab, &d.onnxruntime, 1)
        .with_context(|| format!("{}: cannot load the sentiment model", signals.sentiment_model.display()))?;
    Ok(Arc::new(model))
}

/// The redactor of `[redaction]`; `None` when it is switched off.
pub(crate) fn redactor(redaction: &RedactionConfig) -> Result<Option<Redactor>> {
    if !redaction.enabled {
        return Ok(None);
    }
    Ok(Some(Redactor::new(redaction.clone())?))
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

/// The speaker embedder's file: `diarize.model` (CAM++ by default), else,
/// with a warning, `diarize.fallback_model` (the d-vector); `None` when
/// neither is there.
fn embedder_file(d: &DiarizeConfig) -> Option<&Path> {
    if d.model.is_file() {
        return Some(&d.model);
    }
    let fallback = d.fallback_model.as_deref().filter(|f| f.is_file())?;
    eprintln!(
        "warning: {} is missing (run tools/models/fetch_diarize.sh): mono diarization uses {} instead, which tells voices apart less well in noise",
        d.model.display(),
        fallback.display()
    );
    Some(fallback)
}

/// Loads the mono diarizer; `None` (with a warning on stderr) when its files
/// are missing, so mono calls still go through as one speaker, flagged.
/// `speakers` overrides `diarize.speakers`. Voiceprints enrolled with
/// another embedder than the one loaded are not used (with a warning): their
/// vectors do not compare.
pub(crate) fn diarizer(d: &DiarizeConfig, speakers: Option<usize>) -> Result<Option<Arc<Diarizer>>> {
    let Some(model) = embedder_file(d).filter(|_| d.onnxruntime.is_file()) else {
        eprintln!(
            "warning: mono diarization is off: {} or {} is missing (run tools/models/fetch_diarize.sh)",
            d.model.display(),
            d.onnxruntime.display()
        );
        return Ok(None);
    };
    let (embedder, name) = load_speaker_embedder(model, &d.onnxruntime, 1)?;
    let speakers = speakers.or(Some(d.speakers)).filter(|&n| n > 0);
    let voiceprints = match &d.voiceprints {
        Some(p) if p.is_file() => {
            let file = Voiceprints::read(p)?;
            if file.model == name {
                file.sellers
            } else {
                eprintln!(
                    "warning: {}: the voiceprints come from {}, not {name}: not used (enroll the sellers again into a new file)",
                    p.display(),
                    if file.model.is_empty() { "an unnamed embedder" } else { &file.model }
                );
                BTreeMap::new()
            }
        }
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
        embedder,
        settings: MonoSettings {
            speakers,
            merge_threshold: d.merge_threshold,
            one_voice_threshold: d.one_voice_threshold,
            ..Default::default()
        },
        voiceprints,
    })))
}

/// Loads the speaker embedder in `model`; returns it and the name voiceprints
/// record (the file's name).
fn load_speaker_embedder(
    model: &Path,
    runtime: &Path,
    threads: usize,
) -> Result<(Box<dyn SpeakerEmbedder>, String)> {
    let (embedder, _) = load_embedder(model, runtime, threads)
        .with_context(|| format!("loading the speaker embedder {}", model.display()))?;
    let name = model.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
    Ok((embedder, name))
}

/// The speaker embedder of `diarize.model` (or its fallback), running on
/// `threads` threads, and its name for the voiceprints file.
pub(crate) fn voiceprint_embedder(
    d: &DiarizeConfig,
    threads: usize,
) -> Result<(Box<dyn SpeakerEmbedder>, String)> {
    let model = embedder_file(d).with_context(|| {
        format!("the speaker embedder {} is missing (run tools/models/fetch_diarize.sh)", d.model.display())
    })?;
    load_speaker_embedder(model, &d.onnxruntime, threads)
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
