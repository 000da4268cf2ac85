//! Transcription with word timestamps: whisper through whisper-rs (whisper.cpp).
//!
//! One [`Transcriber`] holds the model (`WhisperContext`, shared, read-only);
//! each worker thread opens its own [`Session`] (a `WhisperState`: the decoder's
//! buffers), so threads never contend on a lock. `Session::transcribe` blocks
//! for as long as whisper runs: call it from a CPU pool, never from an async
//! runtime.
//!
//! # Only speech goes to whisper
//! Whisper invents words in silence and in noise. A channel is first cut into
//! speech segments by voice activity detection ([`Session::speech`]: Silero
//! VAD when its model is loaded, else the energy detector; a stereo call's
//! channel also loses the frames that only carry the other party's leak,
//! `callscope_audio::leak`); the segments
//! are joined with short gaps into one buffer (whisper's encoder costs the same
//! for 3 s as for 30 s, so one pass over joined speech is much cheaper than one
//! pass per segment), transcribed once, and every word's time is mapped back to
//! the recording's timeline. An idle channel costs nothing.
//!
//! # Word times
//! Tokens are joined into words at leading spaces. With `dtw` (the default for
//! the models whisper.cpp has alignment heads for), each token's time comes from
//! dynamic time warping over the decoder's cross-attention: a word starts where
//! the token before it ends and ends at its own last token. On the eval-dev calls
//! this puts word starts within a median 35–105 ms of the truth, against 155–215
//! ms with whisper.cpp's plain token timestamps (`dtw = false`). DTW spans
//! tile the timeline, pauses included; with `fit_word_edges` each word is then
//! fitted to the voiced frames of its channel ([`edges`]).
//!
//! # Models
//! [`check_model`] verifies a ggml model file before it is loaded (present,
//! ggml magic, and the SHA-256 recorded next to it by `tools/models/fetch.sh`),
//! so a missing or corrupt model is a clear error, not a crash in C++.

pub mod edges;

use std::path::{Path, PathBuf};

use std::sync::Arc;

use callscope_audio::silero::SileroVad;
use callscope_audio::{
    Segment, SpeechFrames, TARGET_RATE, VOICES_IN_EVERY_PAUSE, VadSettings, levels_db, voice_band,
};
use callscope_model::Language;
use sha2::{Digest, Sha256};
use whisper_rs::{FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters, WhisperState};

/// Why transcription failed.
#[derive(Debug, thiserror::Error)]
pub enum AsrError {
    /// No model file where the configuration says.
    #[error("whisper model not found: {0} (run tools/models/fetch.sh, or point asr.model at a ggml file)")]
    ModelMissing(PathBuf),
    /// The file is not a ggml whisper model, or does not match its checksum.
    #[error("whisper model {path} is corrupt: {reason} (fetch it again)")]
    ModelCorrupt {
        /// The model file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// whisper.cpp failed.
    #[error("whisper failed: {0}")]
    Whisper(String),
    /// A portable build found no ggml CPU module that runs on this CPU.
    #[error(
        "whisper.cpp has no CPU backend for this CPU: no ggml CPU module (libggml-cpu-*.so) was found that \
         runs here (install the build's lib/callscope folder with the binary, or set GGML_BACKEND_DIR to it)"
    )]
    NoCpuBackend,
    /// The neural voice activity detector failed.
    #[error("voice activity: {0}")]
    Vad(#[from] callscope_audio::onnx::OnnxError),
    /// A language (`asr.language`, a key of `asr.models`) that is not a code whisper knows.
    #[error("asr: {0}")]
    Language(#[from] callscope_model::LanguageError),
    /// A call in a language no configured model transcribes.
    #[error(
        "no model for language {language}: {model} transcribes English only (set asr.models.{language}, or \
         asr.models.\"*\", to a multilingual model such as base: tools/models/fetch.sh base)"
    )]
    NoModelFor {
        /// The call's language.
        language: Language,
        /// The English-only model that would have been used.
        model: String,
    },
    /// Language detection was asked for without a multilingual model.
    #[error(
        "asr.language = \"auto\" detects the language with a multilingual model, and none is configured \
         ({0} is English-only): set asr.models.\"*\" to one, such as base (tools/models/fetch.sh base)"
    )]
    NoDetector(String),
    /// The session's [`Cancel`] was cancelled while it was decoding.
    #[error("transcription cancelled")]
    Cancelled,
}

/// A segment whisper itself thinks is probably not speech ...
pub const NO_SPEECH_MAX: f32 = 0.6;
/// ... and whose tokens it is unsure of (mean log-probability below this) is
/// dropped (whisper's own rule for silence, applied to what it returns).
pub const LOGPROB_MIN: f64 = -1.0;
/// A segment of at least [`REPEAT_MIN_WORDS`] words in which this share of
/// the word trigrams repeats an earlier one is a decoding loop, not speech.
pub const REPEAT_SHARE: f64 = 0.5;
/// Shorter segments are never called loops.
pub const REPEAT_MIN_WORDS: usize = 6;

/// A word as compared for repeats: letters and digits, lower case.
fn norm_word(word: &str) -> String {
    word.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// Whether a segment whisper returned is a hallucination: noise it took for
/// speech (high no-speech probability and low token probabilities), or a
/// decoding loop ("thank you. thank you. thank you.", the repeated phrase of
/// whisper on noise; what the compression-ratio check of the reference
/// implementation catches).
pub fn hallucinated(no_speech: f32, mean_logprob: f64, words: &[&str]) -> bool {
    if no_speech > NO_SPEECH_MAX && mean_logprob < LOGPROB_MIN {
        return true;
    }
    if words.len() < REPEAT_MIN_WORDS {
        return false;
    }
    let norm: Vec<String> = words.iter().map(|w| norm_word(w)).collect();
    let mut seen = std::collections::HashSet::new();
    let trigrams: Vec<_> = norm.windows(3).collect();
    let repeated = trigrams.iter().filter(|t| !seen.insert(**t)).count();
    repeated as f64 >= REPEAT_SHARE * trigrams.len() as f64
}

/// A word wholly outside the voice activity's speech is kept only with at
/// least this confidence (mean token probability).
pub const OUTSIDE_SPEECH_MIN_CONFIDENCE: f32 = 0.5;

/// An annotation closes within this many words, or it is not one.
pub const ANNOTATION_MAX_WORDS: usize = 6;

/// Words without the sound annotations whisper writes for what is not
/// speech (`[BLANK_AUDIO]`, `(upbeat music)`, `[Applause]`): a run of at most
/// [`ANNOTATION_MAX_WORDS`] words from one opening with `[` or `(` to one
/// closing with `]` or `)`. An opening that never closes drops only its own
/// word: in noise whisper sometimes writes `(inaudible` or `[` and goes on
/// transcribing, and the words after it are speech (before, one such word
/// dropped the rest of the channel: 47 of a customer's 120 words on one call).
fn drop_annotations(words: Vec<Word>) -> Vec<Word> {
    fn bare(w: &Word) -> &str {
        w.text.trim_end_matches(|c: char| c.is_ascii_punctuation() && c != ']' && c != ')')
    }
    let mut drop = vec![false; words.len()];
    let mut i = 0;
    while i < words.len() {
        let close = match bare(&words[i]).chars().next() {
            Some('[') => ']',
            Some('(') => ')',
            _ => {
                i += 1;
                continue;
            }
        };
        let last = (i..words.len().min(i + ANNOTATION_MAX_WORDS)).find(|&j| bare(&words[j]).ends_with(close));
        let end = last.unwrap_or(i);
        drop[i..=end].iter_mut().for_each(|d| *d = true);
        i = end + 1;
    }
    words.into_iter().zip(drop).filter(|(_, d)| !d).map(|(w, _)| w).collect()
}

/// Silero's speech frames must stand this many dB above the channel's noise floor.
pub const NEURAL_MARGIN_DB: f64 = 6.0;
/// Silero's frames must stand above the absolute floor of the energy detector
/// (`-50 dBFS`), or, on a quiet line, above the channel's loud frames (its
/// 95th-percentile frame) less this many dB (on the dev set, loud frames sit
/// 27-31 dB above -50 dBFS) ...
pub const QUIET_LINE_RANGE_DB: f64 = 30.0;
/// ... but never below this.
pub const QUIET_LINE_FLOOR_DBFS: f64 = -65.0;
/// A party's channel where Silero hears speech in more of the frames than
/// this has voices in the background (on the dev set: at most 0.54 on clean,
/// pink, brown and telephone-line channels; 0.73–1.0 with babble at SNR
/// 20–10 dB) ...
pub const BABBLE_SHARE: f64 = 0.7;
/// ... and there Silero's frames must stand this many dB above the noise floor.
pub const BABBLE_MARGIN_DB: f64 = 10.0;

/// A line's signal-to-noise ratio, dB: [`callscope_audio::snr_db`] in the
/// voice band ([`voice_band`], so that mains hum and rumble, which whisper
/// shrugs off, do not count as noise). Digital silence between words gives
/// 60 (the most it says); the dev set under white, pink or babble noise at
/// SNR 30 / 20 / 10 dB gives about 30 / 20 / 11.
pub fn line_snr_db(band: &[f32]) -> f64 {
    callscope_audio::snr_db(band, TARGET_RATE)
}

/// The beam size for a line of this SNR ([`AsrSettings::noisy_beam_size`]).
fn beam_for_line(settings: &AsrSettings, snr_db: f64) -> usize {
    if snr_db < settings.noisy_snr_db {
        settings.beam_size.max(settings.noisy_beam_size)
    } else {
        settings.beam_size
    }
}

/// The share of frames that are speech.
fn share(frames: &SpeechFrames) -> f64 {
    frames.speech.iter().filter(|v| **v).count() as f64 / frames.speech.len().max(1) as f64
}

/// Whether Silero heard speech in more than [`BABBLE_SHARE`] of a party's
/// channel: voices in the background.
fn background_voices(heard: &SpeechFrames) -> bool {
    share(heard) > BABBLE_SHARE
}

/// How to transcribe.
#[derive(Debug, Clone, PartialEq)]
pub struct AsrSettings {
    /// The ggml model file.
    pub model: PathBuf,
    /// Language code (`en`), or `auto` to detect it from the first speech of
    /// each call whose event does not say. `model` is this language's model.
    pub language: String,
    /// Models for other languages: a language code, or `*` for every language
    /// without its own, to a ggml model file. `model` serves what none of
    /// them does; a language whose model is English-only is an error.
    pub models: std::collections::BTreeMap<String, PathBuf>,
    /// whisper.cpp threads per session.
    pub threads: usize,
    /// Beam size; 1 means greedy decoding.
    pub beam_size: usize,
    /// Beam size on a noisy line: a channel whose SNR ([`line_snr_db`]) is
    /// under [`AsrSettings::noisy_snr_db`] is decoded with the larger of this
    /// and `beam_size`. Clean lines keep `beam_size` and its speed.
    pub noisy_beam_size: usize,
    /// The SNR (dB, [`line_snr_db`]) under which a line is noisy.
    pub noisy_snr_db: f64,
    /// Align token times with cross-attention DTW (needs a known model preset).
    pub dtw: bool,
    /// Voice activity detection before whisper.
    pub vad: VadSettings,
    /// Silence inserted between joined speech segments, seconds.
    pub join_gap_s: f64,
    /// Run whisper on the GPU when whisper.cpp was built with a GPU backend
    /// (the `cuda` feature); ignored by a CPU-only build.
    pub gpu: bool,
    /// Fit word spans to the voiced frames of the channel ([`edges`]), so
    /// that pauses are nobody's talk time.
    pub fit_word_edges: bool,
    /// A stereo call longer than this (seconds) is transcribed in windows of
    /// about this length, cut where both parties are quiet, so that memory
    /// stays bounded whatever the call's length (`callscope-pipeline`); a
    /// last window may run to 1.5 times this.
    pub window_s: f64,
    /// Transcribe a stereo call's two channels at the same time, each with
    /// half of `threads` ([`Session::transcribe_channels`]), when `threads`
    /// is 2 or more. Costs a second decoder state and a second channel's
    /// buffers at once (a 2-hour call with tiny.en: 0.92 GB peak, not 0.74).
    pub parallel_channels: bool,
    /// A session's threads are shared by its decodes in progress
    /// ([`SharedThreads`]): when one channel of a call read at once is done,
    /// the other takes its thread. The words are the same either way. false:
    /// each decode keeps the threads it started with.
    pub share_threads: bool,
}

impl Default for AsrSettings {
    fn default() -> Self {
        AsrSettings {
            model: PathBuf::from("models/ggml-tiny.en-q8_0.bin"),
            language: "en".into(),
            models: std::collections::BTreeMap::new(),
            threads: 2,
            beam_size: 1,
            noisy_beam_size: 5,
            noisy_snr_db: 35.0,
            dtw: true,
            vad: VadSettings::default(),
            join_gap_s: 0.3,
            gpu: true,
            fit_word_edges: true,
            window_s: 600.0,
            parallel_channels: true,
            share_threads: true,
        }
    }
}

/// Transcription emits the one word type of callscope: the word as whisper
/// wrote it (punctuation attached), its times on the recording's timeline,
/// its mean token probability as `confidence`, and no speaker yet.
pub use callscope_model::Word;

/// Checks a model file: present, ggml magic, and (if a `.sha256` file sits next
/// to it) the recorded SHA-256.
pub fn check_model(path: &Path) -> Result<(), AsrError> {
    let bytes = std::fs::read(path).map_err(|_| AsrError::ModelMissing(path.to_path_buf()))?;
    let corrupt =
        |reason: &str| AsrError::ModelCorrupt { path: path.to_path_buf(), reason: reason.to_owned() };
    if bytes.len() < 4 || u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) != 0x6767_6d6c {
        return Err(corrupt("not a ggml file (wrong magic)"));
    }
    let sum_path = PathBuf::from(format!("{}.sha256", path.display()));
    if let Ok(expected) = std::fs::read_to_string(&sum_path) {
        let expected = expected.split_whitespace().next().unwrap_or_default().to_ascii_lowercase();
        let actual: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
        if expected != actual {
            return Err(corrupt(&format!("SHA-256 {actual} does not match {}", sum_path.display())));
        }
    }
    Ok(())
}

/// One loaded model.
struct Model {
    /// Its short name ([`model_name`]).
    name: String,
    ctx: WhisperContext,
    /// Whether it reads languages other than English (not a `.en` model).
    multilingual: bool,
}

/// The loaded models. Share it (`&Transcriber` or `Arc`) across threads.
///
/// One model serves `asr.language` (`asr.model`); `asr.models` may add one
/// per language and one for every other language (`*`). A call is
/// transcribed by the model of its language ([`Session::start_call`]).
pub struct Transcriber {
    /// `asr.model` first, then each other file of `asr.models`.
    models: Vec<Model>,
    /// Language code or `*` → index into `models`.
    by_language: std::collections::BTreeMap<String, usize>,
    /// The language of calls that do not say; `None`: detect it.
    default_language: Option<Language>,
    /// The multilingual model that detects languages, when one is loaded.
    detector: Option<usize>,
    settings: AsrSettings,
    vad: Option<Arc<SileroVad>>,
}

impl std::fmt::Debug for Transcriber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transcriber").field("settings", &self.settings).finish_non_exhaustive()
    }
}

/// The model's short name (`tiny.en` for `ggml-tiny.en.bin`), stored with results.
pub fn model_name(path: &Path) -> String {
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("whisper");
    stem.strip_prefix("ggml-").unwrap_or(stem).to_owned()
}

/// The DTW alignment heads of a model, from its short name ([`model_name`]):
/// the names of the whisper.cpp project's files (`tiny.en`, `base`, `small`,
/// `medium`, `large-v1`, `large-v2`, `large-v3`, `large-v3-turbo`), with or
/// without a quantization suffix (`tiny.en-q8_0`, `large-v3-turbo-q5_0`: the
/// same alignment heads). `None` for a name it does not know, and for plain
/// `large` (v1, v2 or v3 by date) or distilled models (fewer decoder layers).
fn dtw_preset(name: &str) -> Option<whisper_rs::DtwModelPreset> {
    use whisper_rs::DtwModelPreset as P;
    let mut parts = name.split('-');
    Some(match parts.next().unwrap_or_default() {
        "tiny.en" => P::TinyEn,
        "tiny" => P::Tiny,
        "base.en" => P::BaseEn,
        "base" => P::Base,
        "small.en" => P::SmallEn,
        "small" => P::Small,
        "medium.en" => P::MediumEn,
        "medium" => P::Medium,
        "large" => match (parts.next(), parts.next()) {
            (Some("v1"), _) => P::LargeV1,
            (Some("v2"), _) => P::LargeV2,
            (Some("v3"), Some("turbo")) => P::LargeV3Turbo,
            (Some("v3"), _) => P::LargeV3,
            _ => return None,
        },
        _ => return None,
    })
}

/// The backends whisper.cpp runs on and what each uses, as `CPU: AVX2 FMA
/// AVX512 ...`: in a portable build (ggml's CPU backend as modules, one per
/// instruction-set level) the level ggml loaded for this CPU. Known once a
/// model is loaded (a portable build loads its modules with the first).
pub fn kernels() -> String {
    describe_backends(whisper_rs::print_system_info())
}

/// What [`describe_backends`] says when whisper.cpp has no backend at all.
const NO_BACKENDS: &str = "none registered";

/// whisper.cpp's `WHISPER : COREML = 0 | ... | CPU : SSE3 = 1 | AVX = 1 | ... |`
/// as `CPU: SSE3 AVX ...`: the backends after whisper's own section, and what
/// each has on (flags at 1, settings with their value).
fn describe_backends(info: &str) -> String {
    let mut backends: Vec<(String, Vec<String>)> = Vec::new();
    for item in info.split('|').map(str::trim).filter(|i| !i.is_empty()) {
        let item = match item.split_once(" : ") {
            Some((backend, rest)) => {
                backends.push((backend.trim().to_owned(), Vec::new()));
                rest
            }
            None => item,
        };
        let Some((_, features)) = backends.last_mut() else { continue };
        match item.split_once('=').map(|(k, v)| (k.trim(), v.trim())) {
            Some((_, "0")) => {}
            Some((name, "1")) => features.push(name.to_owned()),
            Some((name, value)) => features.push(format!("{name}={value}")),
            None => features.push(item.to_owned()),
        }
    }
    let described: Vec<String> = backends
        .into_iter()
        .filter(|(name, _)| name != "WHISPER")
        .map(|(name, features)| format!("{name}: {}", features.join(" ")))
        .collect();
    if described.is_empty() { NO_BACKENDS.to_owned() } else { described.join("; ") }
}

/// Checks and loads one model file.
fn load_model(path: &Path, settings: &AsrSettings) -> Result<Model, AsrError> {
    check_model(path)?;
    let mut params = WhisperContextParameters::default();
    // whisper-rs turns the GPU on only when its own `cuda` feature is
    // compiled in; say it, so a whisper.cpp linked with CUDA another way
    // (a shared library) uses it too. A CPU-only build has no GPU device
    // and runs on the CPU whatever this says.
    params.use_gpu(settings.gpu);
    let name = model_name(path);
    if settings.dtw {
        use whisper_rs::{DtwMode, DtwParameters};
        match dtw_preset(&name) {
            Some(model_preset) => {
                params.dtw_parameters(DtwParameters {
                    mode: DtwMode::ModelPreset { model_preset },
                    ..DtwParameters::default()
                });
            }
            None => tracing::warn!(
                model = %name,
                "no DTW alignment heads known for this model name: word times come from whisper's \
                 token timestamps (name the file as the whisper.cpp project does, e.g. ggml-small.bin)"
            ),
        }
    }
    let file = path.to_str().ok_or_else(|| AsrError::ModelMissing(path.to_path_buf()))?;
    let ctx = WhisperContext::new_with_params(file, params).map_err(|e| {
        if kernels() == NO_BACKENDS {
            return AsrError::NoCpuBackend;
        }
        AsrError::ModelCorrupt {
            path: path.to_path_buf(),
            reason: format!("whisper.cpp could not load it: {e}"),
        }
    })?;
    let multilingual = ctx.is_multilingual();
    Ok(Model { name, ctx, multilingual })
}

impl Transcriber {
    /// Checks and loads the models, and checks that the configured
    /// languages have a model that reads them (an error names the key to set).
    pub fn load(settings: AsrSettings) -> Result<Self, AsrError> {
        // whisper.cpp's own log lines go to `tracing` (target `whisper_rs`),
        // not straight to stderr, so they follow the program's log settings.
        static HOOKS: std::sync::Once = std::sync::Once::new();
        HOOKS.call_once(whisper_rs::install_logging_hooks);
        let mut models = vec![load_model(&settings.model, &settings)?];
        let mut paths = vec![settings.model.clone()];
        let mut by_language = std::collections::BTreeMap::new();
        for (key, path) in &settings.models {
            let key = if key == "*" { key.clone() } else { Language::parse(key)?.code().to_owned() };
            let index = match paths.iter().position(|p| p == path) {
                Some(i) => i,
                None => {
                    models.push(load_model(path, &settings)?);
                    paths.push(path.clone());
                    models.len() - 1
                }
            };
            by_language.insert(key, index);
        }
        let default_language =
            if settings.language == "auto" { None } else { Some(Language::parse(&settings.language)?) };
        let detector = [by_language.get("*").copied(), Some(0)]
            .into_iter()
            .flatten()
            .chain(0..models.len())
            .find(|&i| models[i].multilingual);
        static KERNELS: std::sync::Once = std::sync::Once::new();
        KERNELS.call_once(|| tracing::info!(kernels = %kernels(), "whisper.cpp backends"));
        let t = Transcriber { models, by_language, default_language, detector, settings, vad: None };
        match t.default_language {
            Some(language) => {
                t.model_for(language)?;
            }
            None if t.detector.is_none() => return Err(AsrError::NoDetector(t.models[0].name.clone())),
            None => {}
        }
        Ok(t)
    }

    /// The model that transcribes `language`.
    fn model_for(&self, language: Language) -> Result<usize, AsrError> {
        let i =
            self.by_language.get(language.code()).or_else(|| self.by_language.get("*")).copied().unwrap_or(0);
        if language != Language::ENGLISH && !self.models[i].multilingual {
            return Err(AsrError::NoModelFor { language, model: self.models[i].name.clone() });
        }
        Ok(i)
    }

    /// Uses Silero VAD to find speech (instead of the energy detector).
    pub fn with_vad(mut self, vad: Option<Arc<SileroVad>>) -> Self {
        self.vad = vad;
        self
    }

    /// Which voice activity detector finds the speech (`silero` or `energy`).
    pub fn vad_name(&self) -> &'static str {
        if self.vad.is_some() { "silero" } else { "energy" }
    }

    /// The settings in use.
    pub fn settings(&self) -> &AsrSettings {
        &self.settings
    }

    /// A session for one worker thread, ready for a call in the default
    /// language.
    pub fn session(&self) -> Result<Session<'_>, AsrError> {
        let mut states: Vec<Option<WhisperState>> = self.models.iter().map(|_| None).collect();
        let current = match self.default_language {
            Some(l) => self.model_for(l)?,
            None => self.detector.unwrap_or(0),
        };
        states[current] = Some(self.state(current)?);
        let threads = self.settings.threads.max(1);
        Ok(Session {
            states,
            partner: Vec::new(),
            threads,
            shared: self.settings.share_threads.then(|| Arc::new(SharedThreads::lend(threads))),
            cancel: None,
            current,
            language: self.default_language,
            transcriber: self,
            settings: &self.settings,
            vad: self.vad.as_deref(),
        })
    }

    fn state(&self, model: usize) -> Result<WhisperState, AsrError> {
        self.models[model].ctx.create_state().map_err(|e| AsrError::Whisper(e.to_string()))
    }
}

/// A session's whisper threads, shared by its decodes in progress (the two
/// channels of a call read at once), for as long as this value lives.
///
/// whisper.cpp (patched, `whisper_share_threads`; vendor/README.md) runs each
/// graph of a decode in the group on its part of the group's threads, in
/// proportion to the threads it asked for among the group's decodes in
/// progress, counted again before every graph. Each channel runs on its half
/// of the session's threads until one is done, and then the other runs on all
/// of them (on 2 cores the busier channel used to finish alone on one thread).
/// Sessions do not lend to each other: a worker's other calls keep their own
/// threads, so whisper never runs on more threads than `asr.threads` per call.
/// The words do not depend on the thread count (every product is split by
/// output rows), only the time.
#[derive(Debug)]
pub struct SharedThreads {
    group: i32,
    threads: i32,
}

impl SharedThreads {
    /// Lends `threads` to a new group until the value is dropped.
    pub fn lend(threads: usize) -> SharedThreads {
        static NEXT: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(1);
        let group = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed).rem_euclid(i32::MAX - 1) + 1;
        let threads = i32::try_from(threads).unwrap_or(i32::MAX);
        whisper_rs_sys::share_threads(group, threads);
        SharedThreads { group, threads }
    }

    /// The group's id, for `whisper_rs_sys::share_group`.
    pub fn group(&self) -> i32 {
        self.group
    }
}

impl Drop for SharedThreads {
    fn drop(&mut self) {
        whisper_rs_sys::share_threads(self.group, -self.threads);
    }
}

/// A way to stop a session's decodes from another thread ([`Session::watch`]):
/// once [`Cancel::cancel`] is called, the decode in progress stops at its
/// next graph (whisper's encoder, or one step of its decoder) and every later
/// one at its first, with [`AsrError::Cancelled`]. The worker cancels the
/// analysis of a call it has abandoned (shutdown), so that its CPU threads are
/// free, and can be joined, within a second rather than a call's length.
///
/// whisper.cpp (patched, `whisper_cancel_*`; vendor/README.md) keeps the
/// flag, under an id this value owns and forgets when dropped.
#[derive(Debug)]
pub struct Cancel {
    token: i32,
    cancelled: std::sync::atomic::AtomicBool,
}

impl Cancel {
    /// A new, not cancelled, token.
    pub fn new() -> Cancel {
        Cancel { token: whisper_rs_sys::cancel_new(), cancelled: std::sync::atomic::AtomicBool::new(false) }
    }

    /// Cancels the decodes that watch this token, now and later.
    pub fn cancel(&self) {
        self.cancelled.store(true, std::sync::atomic::Ordering::Relaxed);
        whisper_rs_sys::cancel_set(self.token);
    }

    /// Whether [`Cancel::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Default for Cancel {
    fn default() -> Self {
        Cancel::new()
    }
}

impl Drop for Cancel {
    fn drop(&mut self) {
        whisper_rs_sys::cancel_free(self.token);
    }
}

/// Runs `first` on this thread and `second` on a scoped one, at the same time.
fn at_once<A, B: Send>(
    first: impl FnOnce() -> Result<A, AsrError>,
    second: impl FnOnce() -> Result<B, AsrError> + Send,
) -> Result<(A, B), AsrError> {
    std::thread::scope(|scope| {
        let other = std::thread::Builder::new()
            .name("asr-channel-2".into())
            .spawn_scoped(scope, second)
            .map_err(|e| AsrError::Whisper(format!("cannot start the second channel's thread: {e}")))?;
        let mine = first();
        let theirs = other.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        Ok((mine?, theirs?))
    })
}

/// One channel of a stereo call to transcribe ([`Session::transcribe_channels`]).
#[derive(Debug, Clone, Copy)]
pub struct ChannelSpeech<'a> {
    /// The channel, 16 kHz mono.
    pub samples: &'a [f32],
    /// Where its own speaker speaks ([`Session::transcribe_speech`]).
    pub speech: &'a SpeechFrames,
    /// Silero's own decisions ([`PartySpeech::heard`]).
    pub heard: Option<&'a SpeechFrames>,
}

/// Where one channel holds speech.
#[derive(Debug, Clone)]
pub struct PartySpeech {
    /// The frames to transcribe: Silero's speech above the noise-floor margin
    /// (or the energy detector's, without Silero).
    pub speech: SpeechFrames,
    /// Silero's own decisions, before the level margin (none without Silero):
    /// what word edges are fitted to on a noisy line ([`edges`]).
    pub heard: Option<SpeechFrames>,
}

/// One thread's transcription state.
pub struct Session<'a> {
    /// A decoder state per model, made when the model is first used.
    states: Vec<Option<WhisperState>>,
    /// The states of the second channel's decoder, for
    /// [`Session::transcribe_channels`] (empty until first needed).
    partner: Vec<Option<WhisperState>>,
    /// whisper.cpp threads of this session's decoder.
    threads: usize,
    /// This session's threads, shared by its decodes in progress (the second
    /// channel's session holds the first one's).
    shared: Option<Arc<SharedThreads>>,
    /// What stops this session's decodes ([`Session::watch`]).
    cancel: Option<Arc<Cancel>>,
    /// The model of the call at hand.
    current: usize,
    /// The call's language; `None` until detected (whisper then guesses per window).
    language: Option<Language>,
    transcriber: &'a Transcriber,
    settings: &'a AsrSettings,
    vad: Option<&'a SileroVad>,
}

impl<'a> Session<'a> {
    /// Makes this session's decodes stop once `cancel` is cancelled, with
    /// [`AsrError::Cancelled`] (`None`: never), until watched again.
    pub fn watch(&mut self, cancel: Option<Arc<Cancel>>) {
        self.cancel = cancel;
    }

    /// A session for the second channel of the call at hand: the same model
    /// and language, its own decoder state (kept for the next window).
    fn partner(&mut self) -> Result<Session<'a>, AsrError> {
        let mut states = std::mem::take(&mut self.partner);
        states.resize_with(self.states.len(), || None);
        if states[self.current].is_none() {
            states[self.current] = Some(self.transcriber.state(self.current)?);
        }
        Ok(Session {
            states,
            partner: Vec::new(),
            threads: self.threads,
            shared: self.shared.clone(),
            cancel: self.cancel.clone(),
            current: self.current,
            language: self.language,
            transcriber: self.transcriber,
            settings: self.settings,
            vad: self.vad,
        })
    }
}

/// Where each joined chunk came from: (offset in the joined buffer, offset in
/// the recording, length), all in samples.
type TimeMap = Vec<(usize, usize, usize)>;

/// A stretch of a buffer, `(start, end)` in seconds.
type Span = (f64, f64);

/// A segment of whisper's at least this long (seconds) ...
pub const SPARSE_MIN_S: f64 = 3.0;
/// ... holding fewer words per second than this skipped speech: people speak
/// 2–3 words a second, the slowest turn of the dev set holds 1.6, and no
/// segment of 3 s or more of a clean dev call holds fewer than 1.37. (It was
/// 0.5: on an 8 kbit/s Opus mix whisper wrote 9, 11 and 17 words into three
/// segments of 16 s each and so skipped a third of the call, which this
/// catches. On a line with voices in the background it stays 0.5:
/// [`SPARSE_WORDS_PER_S_BABBLE`].)
pub const SPARSE_WORDS_PER_S: f64 = 1.2;
/// [`SPARSE_WORDS_PER_S`] on a party's line with voices in the background
/// (Silero hears speech in more than [`BABBLE_SHARE`] of it): there a
/// sparse segment is as often the background that whisper rightly left out,
/// and reading it again at 1.2 read the background (babble at SNR 10 dB on
/// the degraded dev set: dev-02 24.0 % to 29.8 % WER, dev-06 24.7 % to
/// 27.6 %), so only the clearest skips are read again, as before.
pub const SPARSE_WORDS_PER_S_BABBLE: f64 = 0.5;

/// The rate under which a segment of whisper's skipped speech on this line
/// ([`SPARSE_WORDS_PER_S`]). A mix of two parties is speech most of the time
/// by itself; a party's line heard as speech most of the time has voices in
/// the background ([`SPARSE_WORDS_PER_S_BABBLE`]).
fn sparse_words_per_s(party: bool, heard: Option<&SpeechFrames>) -> f64 {
    if party && heard.is_some_and(background_voices) { SPARSE_WORDS_PER_S_BABBLE } else { SPARSE_WORDS_PER_S }
}

/// How one whisper pass reads.
#[derive(Debug, Clone, Copy)]
struct Pass {
    /// Beam size (1: greedy).
    beam: usize,
    /// A segment with fewer words a second than this skipped speech ([`SPARSE_WORDS_PER_S`]).
    sparse_words_per_s: f64,
}

/// A second reading of skipped speech replaces the first when it has at
/// least this many words more (a word or two more is as often a background
/// voice read along with a backchannel).
pub const RETRY_MIN_GAIN: usize = 3;
/// A second reading of skipped speech is believed up to this many words per
/// second of speech (fast speech is about 4; more is a background voice read
/// as well, or a decoding loop).
pub const RETRY_MAX_WORDS_PER_S: f64 = 4.5;

/// Speech whisper skipped is transcribed again in pieces of at most this
/// many seconds (one whisper call each; a lone piece is always taken whole).
pub const RETRY_PIECE_S: f64 = 10.0;

/// Consecutive segments grouped into pieces spanning at most `max_s` seconds.
fn pieces(segments: &[Segment], max_s: f64) -> Vec<&[Segment]> {
    let mut out = Vec::new();
    let mut from = 0;
    for i in 1..=segments.len() {
        if i == segments.len() || segments[i].end - segments[from].start > max_s {
            if i > from {
                out.push(&segments[from..i]);
            }
            from = i;
        }
    }
    out
}

/// Joins speech segments with `gap` samples of silence between them, and after
/// the last one: speech that ends right at the end of the buffer is decoded
/// badly (whisper expects the audio to run on).
fn join_speech(samples: &[f32], segments: &[Segment], gap: usize) -> (Vec<f32>, TimeMap) {
    let rate = f64::from(TARGET_RATE);
    let mut joined = Vec::new();
    let mut map = Vec::new();
    for s in segments {
        let (a, b) =
            (((s.start * rate) as usize).min(samples.len()), ((s.end * rate) as usize).min(samples.len()));
        if b <= a {
            continue;
        }
        if !joined.is_empty() {
            joined.extend(std::iter::repeat_n(0.0, gap));
        }
        map.push((joined.len(), a, b - a));
        joined.extend_from_slice(&samples[a..b]);
    }
    if !joined.is_empty() {
        joined.extend(std::iter::repeat_n(0.0, gap));
    }
    (joined, map)
}

/// The chunk a time of the joined buffer falls in (the last one starting before it).
fn chunk_at(map: &TimeMap, t: f64) -> Option<&(usize, usize, usize)> {
    let pos = (t * f64::from(TARGET_RATE)).max(0.0) as usize;
    map.iter().rev().find(|(joined, _, _)| *joined <= pos).or(map.first())
}

/// Maps a time of the joined buffer back to the recording, within `chunk`
/// (a word never spans the silence between two chunks).
fn map_in_chunk(chunk: &(usize, usize, usize), t: f64) -> f64 {
    let rate = f64::from(TARGET_RATE);
    let (joined, orig, len) = *chunk;
    let pos = (t * rate).max(0.0) as usize;
    (orig + pos.saturating_sub(joined).min(len)) as f64 / rate
}

/// Language detection reads at most this many seconds of speech (whisper's window).
pub const DETECT_SPEECH_S: f64 = 30.0;

impl Session<'_> {
    /// The settings this session transcribes with.
    pub fn settings(&self) -> &AsrSettings {
        self.settings
    }

    /// Prepares for a call in `language` (`None`: the call does not say, so
    /// `asr.language` applies, or detection when that is `auto`): picks the
    /// language's model. A language no model reads is an error
    /// ([`AsrError::NoModelFor`]).
    ///
    /// Each call starts from fresh decoder states: whisper.cpp seeds the
    /// random generator of its temperature fallback once per state, so a
    /// state carried over from earlier calls would make a call's words depend
    /// on which calls the thread analysed before it (seen: 1 point of WER on a
    /// Finnish call analysed after five others). A state costs milliseconds
    /// to make; a call, seconds to minutes.
    pub fn start_call(&mut self, language: Option<Language>) -> Result<(), AsrError> {
        self.states.iter_mut().chain(&mut self.partner).for_each(|s| *s = None);
        match language.or(self.transcriber.default_language) {
            Some(l) => self.set_language(l),
            None => {
                self.language = None;
                self.select(self.transcriber.detector.unwrap_or(0))
            }
        }
    }

    /// The call's language; `None` while it is still to be detected
    /// ([`Session::detect_language`]).
    pub fn language(&self) -> Option<Language> {
        self.language
    }

    /// The short name of the model transcribing the call.
    pub fn model_name(&self) -> &str {
        &self.transcriber.models[self.current].name
    }

    fn set_language(&mut self, language: Language) -> Result<(), AsrError> {
        let model = self.transcriber.model_for(language)?;
        self.language = Some(language);
        self.select(model)
    }

    fn select(&mut self, model: usize) -> Result<(), AsrError> {
        if self.states[model].is_none() {
            self.states[model] = Some(self.transcriber.state(model)?);
        }
        self.current = model;
        Ok(())
    }

    fn state(&mut self) -> &mut WhisperState {
        self.states[self.current].as_mut().expect("a selected model has a state")
    }

    /// Detects the language from the first [`DETECT_SPEECH_S`] seconds of
    /// speech in `samples` (16 kHz mono: a mono call, or a mix of a stereo
    /// call's channels) with the multilingual model, then switches to that
    /// language's model. Returns the language and whisper's probability for
    /// it, or `None` when `samples` hold no speech (the language stays
    /// undecided).
    pub fn detect_language(&mut self, samples: &[f32]) -> Result<Option<(Language, f32)>, AsrError> {
        let detector = self
            .transcriber
            .detector
            .ok_or_else(|| AsrError::NoDetector(self.transcriber.models[0].name.clone()))?;
        let total_s = samples.len() as f64 / f64::from(TARGET_RATE);
        let mut segments = self.speech(samples)?.segments(&self.settings.vad, total_s);
        let mut kept = 0.0;
        segments.retain(|s| {
            let keep = kept < DETECT_SPEECH_S;
            kept += s.end - s.start;
            keep
        });
        if segments.is_empty() {
            return Ok(None);
        }
        let gap = (self.settings.join_gap_s * f64::from(TARGET_RATE)) as usize;
        let (mut joined, _) = join_speech(samples, &segments, gap);
        joined.truncate((DETECT_SPEECH_S * f64::from(TARGET_RATE)) as usize);
        self.select(detector)?;
        let threads = self.threads;
        let whisper = |e: whisper_rs::WhisperError| AsrError::Whisper(e.to_string());
        self.state().pcm_to_mel(&joined, threads).map_err(whisper)?;
        let (id, probs) = self.state().lang_detect(0, threads).map_err(whisper)?;
        let code = whisper_rs::get_lang_str(id)
            .ok_or_else(|| AsrError::Whisper(format!("language detection returned id {id}")))?;
        let language = Language::parse(code)?;
        let probability = usize::try_from(id).ok().and_then(|i| probs.get(i)).copied().unwrap_or(0.0);
        self.set_language(language)?;
        Ok(Some((language, probability)))
    }

    /// Where `samples` (one channel, 16 kHz) hold speech: Silero VAD's frames
    /// when it is loaded, else the energy detector's. Silero's frames must
    /// also stand [`NEURAL_MARGIN_DB`] above the channel's noise floor (its
    /// 10th-percentile frame): Silero hears babble (other voices in the
    /// room) as speech, and whisper then transcribes it; the speaker's own
    /// voice is louder. And never below the energy detector's absolute floor,
    /// so faint crosstalk on an idle channel stays silence.
    pub fn speech(&self, samples: &[f32]) -> Result<SpeechFrames, AsrError> {
        Ok(self.mix_speech(samples)?.speech)
    }

    /// [`Session::speech`] for one party's channel of a stereo call. One
    /// party speaks half the time or less, so a channel where Silero hears
    /// speech in more than [`BABBLE_SHARE`] of the frames has voices in the
    /// background (babble): there the margin over the noise floor is
    /// [`BABBLE_MARGIN_DB`]. (A mono mix of two parties is speech most of the
    /// time by itself, so it keeps the plain margin.)
    pub fn party_speech(&self, samples: &[f32]) -> Result<PartySpeech, AsrError> {
        self.speech_of(samples, true)
    }

    /// [`Session::speech`] with Silero's own decision beside it
    /// ([`PartySpeech::heard`]), for a mono mix of both parties: what
    /// [`Session::transcribe`] transcribes, and what the call's line
    /// evidence is judged from.
    pub fn mix_speech(&self, samples: &[f32]) -> Result<PartySpeech, AsrError> {
        self.speech_of(samples, false)
    }

    fn speech_of(&self, samples: &[f32], one_party: bool) -> Result<PartySpeech, AsrError> {
        let vad = &self.settings.vad;
        let Some(silero) = self.vad else {
            return Ok(PartySpeech { speech: SpeechFrames::measure(samples, TARGET_RATE, vad), heard: None });
        };
        let mut frames = silero.frames(samples)?;
        let heard = frames.clone();
        let margin =
            if one_party && background_voices(&frames) { BABBLE_MARGIN_DB } else { NEURAL_MARGIN_DB };
        let (_, levels) = levels_db(&voice_band(samples, TARGET_RATE), TARGET_RATE, frames.frame_s);
        let mut sorted = levels.clone();
        sorted.sort_by(f64::total_cmp);
        let noise_floor = sorted.get(sorted.len() / 10).copied().unwrap_or(f64::NEG_INFINITY);
        // The absolute floor follows a quiet line down: a channel recorded
        // 15 dB low (its loud frames near -37 dBFS) would otherwise lose the
        // soft ends of every phrase under -50 dBFS.
        let loud = sorted.get(sorted.len() * 95 / 100).copied().unwrap_or(f64::NEG_INFINITY);
        let absolute = vad.absolute_floor_dbfs.min((loud - QUIET_LINE_RANGE_DB).max(QUIET_LINE_FLOOR_DBFS));
        let threshold = absolute.max(noise_floor + margin);
        for (v, level) in frames.speech.iter_mut().zip(levels) {
            *v &= level >= threshold;
        }
        Ok(PartySpeech { speech: frames, heard: Some(heard) })
    }

    /// Transcribes one channel (16 kHz mono) into words on its own timeline,
    /// where [`Session::speech`] finds speech.
    pub fn transcribe(&mut self, samples: &[f32]) -> Result<Vec<Word>, AsrError> {
        let PartySpeech { speech, heard } = self.mix_speech(samples)?;
        self.transcribe_speech(samples, &speech, heard.as_ref())
    }

    /// Transcribes a mono mix of the call where `speech` says someone speaks
    /// ([`Session::mix_speech`]). `heard` is Silero's own decision
    /// ([`PartySpeech::heard`]): with it, word edges hold up on a noisy line
    /// ([`edges`]). (A stereo call's channels: [`Session::transcribe_channels`].)
    pub fn transcribe_speech(
        &mut self,
        samples: &[f32],
        speech: &SpeechFrames,
        heard: Option<&SpeechFrames>,
    ) -> Result<Vec<Word>, AsrError> {
        self.read_line(samples, speech, heard, false)
    }

    /// Transcribes one line where `speech` says its speaker speaks: a mono
    /// mix, or (`party`) one party's channel of a stereo call, where `speech`
    /// is [`Session::party_speech`] less the other party's leak.
    fn read_line(
        &mut self,
        samples: &[f32],
        speech: &SpeechFrames,
        heard: Option<&SpeechFrames>,
        party: bool,
    ) -> Result<Vec<Word>, AsrError> {
        let total_s = samples.len() as f64 / f64::from(TARGET_RATE);
        let segments = speech.segments(&self.settings.vad, total_s);
        if segments.is_empty() {
            return Ok(Vec::new());
        }
        let band = voice_band(samples, TARGET_RATE);
        // A noisy line is decoded with a beam: on the degraded dev set it
        // takes 0.9-3.7 WER points off every noise condition at SNR 30-10 dB
        // (docs/asr.md, "Beam search on noisy lines") for ~1.4x the decoding
        // time; a clean line is as fast as ever.
        let snr = line_snr_db(&band);
        let beam = beam_for_line(self.settings, snr);
        let sparse_words_per_s = sparse_words_per_s(party, heard);
        let pass = Pass { beam, sparse_words_per_s };
        tracing::debug!(snr_db = snr, beam, sparse_words_per_s, "line");
        // The levels for the word-edge fit below, taken now: the band copy
        // (as long as the window) is gone before whisper runs, which matters
        // when both channels are transcribed at once.
        let heard = if party {
            heard.filter(|f| !background_voices(f))
        } else {
            heard.filter(|f| {
                snr < self.settings.noisy_snr_db && f.heard_in_pauses_of(speech) < VOICES_IN_EVERY_PAUSE
            })
        };
        let level = self.settings.fit_word_edges.then(|| {
            // One party's channel with Silero: Silero decides, the level only
            // keeps digital silence out (see `edges`).
            let levels = match (heard, party) {
                (Some(_), _) => edges::levels_on_a_noisy_line(&self.settings.vad),
                (None, true) => edges::levels(&self.settings.vad),
                (None, false) => edges::levels_in_a_mix(&self.settings.vad),
            };
            SpeechFrames::measure(&band, TARGET_RATE, &levels)
        });
        drop(band);
        let (mut words, skipped) = self.transcribe_segments(samples, &segments, pass)?;
        // whisper sometimes leaves a stretch of clear speech untranscribed: it
        // writes a few words, then a timestamp that jumps over the rest of its
        // 30 s window (on noisy calls, up to 40 s of one party's speech; seen on
        // eval-dev at pink SNR 20 dB). Those stretches are transcribed again a
        // few seconds at a time, and the second reading replaces the first
        // where it has clearly more words, at a rate people speak. (Speech segments
        // that merely hold few words are not retried: on a channel with voices
        // in the background, whisper was right to leave them, and a second
        // reading of a few seconds transcribes the background.)
        for piece in pieces(&skipped, RETRY_PIECE_S) {
            let inside = |w: &Word| {
                let mid = (w.start + w.end) / 2.0;
                piece.iter().any(|s| mid >= s.start && mid <= s.end)
            };
            let (mut again, skipped_again) = self.transcribe_segments(samples, piece, pass)?;
            if !skipped_again.is_empty() && piece.len() > 1 {
                // Skipped again: one segment at a time.
                again.clear();
                for segment in piece {
                    again.extend(self.transcribe_segments(samples, std::slice::from_ref(segment), pass)?.0);
                }
            }
            let before = words.iter().filter(|w| inside(w)).count();
            let again: Vec<Word> = again.into_iter().filter(|w| inside(w)).collect();
            tracing::debug!(
                start = piece[0].start,
                end = piece[piece.len() - 1].end,
                words_before = before,
                words_after = again.len(),
                "speech whisper skipped, transcribed again"
            );
            let speech_s: f64 = piece.iter().map(|s| s.end - s.start).sum();
            if again.len() >= before + RETRY_MIN_GAIN
                && (again.len() as f64) <= RETRY_MAX_WORDS_PER_S * speech_s
            {
                // The second reading takes the first one's place; every other
                // word keeps whisper's order, which the edge fit relies on
                // (sorting by start instead moved words between runs where
                // DTW times are not monotonic: +6.4 s of one party's talk on
                // one telephone call).
                words.retain(|w| !inside(w));
                let at = words.iter().position(|w| w.start >= piece[0].start).unwrap_or(words.len());
                words.splice(at..at, again);
            }
        }
        // A word whisper placed wholly outside the speaker's speech, and is
        // unsure of, was heard in noise or in the other party's leak.
        let near = speech.dilated(edges::SPEECH_SLACK_S);
        words.retain(|w| {
            near.onset(w.start, w.end.max(w.start + 0.01)).is_some()
                || w.confidence.is_none_or(|c| c >= OUTSIDE_SPEECH_MIN_CONFIDENCE)
        });
        if let Some(level) = level {
            // Voiced by level, within reach of the speaker's speech.
            let near_speech = speech.dilated(edges::SPEECH_SLACK_S);
            let voiced = match heard {
                Some(heard) => {
                    heard.resampled(edges::FRAME_S, level.speech.len()).and(&near_speech).and(&level)
                }
                None => level.and(&near_speech),
            };
            edges::fit_to_speech(&mut words, &voiced);
        }
        Ok(words)
    }

    /// [`Session::transcribe_speech`] on both channels of a stereo call. With
    /// two threads or more and [`AsrSettings::parallel_channels`], the two
    /// run at the same time, each on its own decoder state with half the
    /// threads: one whisper on two threads waits at a barrier after every
    /// operation of its graph, two whispers on one thread each never wait
    /// (benches/README.md, "Where the time goes"). The words are the same
    /// either way: a decoder's results do not depend on its thread count, and
    /// each call starts from fresh states ([`Session::start_call`]).
    pub fn transcribe_channels(&mut self, lines: [ChannelSpeech<'_>; 2]) -> Result<[Vec<Word>; 2], AsrError> {
        let [first, second] = lines;
        if !self.channels_at_once() {
            return Ok([self.transcribe_line(first)?, self.transcribe_line(second)?]);
        }
        let mut partner = self.partner()?;
        let threads = self.threads;
        (self.threads, partner.threads) = (threads - threads / 2, threads / 2);
        let words = at_once(|| self.transcribe_line(first), || partner.transcribe_line(second));
        self.threads = threads;
        self.partner = std::mem::take(&mut partner.states);
        let (first, second) = words?;
        Ok([first, second])
    }

    /// [`Session::party_speech`] of both channels of a stereo call, at the
    /// same time when [`Session::transcribe_channels`] transcribes them so
    /// (Silero has a session for each).
    pub fn party_speech_both(&self, channels: [&[f32]; 2]) -> Result<[PartySpeech; 2], AsrError> {
        if !self.channels_at_once() {
            return Ok([self.party_speech(channels[0])?, self.party_speech(channels[1])?]);
        }
        let (first, second) = at_once(|| self.party_speech(channels[0]), || self.party_speech(channels[1]))?;
        Ok([first, second])
    }

    /// Frees the second channel's decoder state ([`Session::transcribe_channels`])
    /// once a call's channels are transcribed: the rest of the call runs in
    /// less memory, and the next call would start from a fresh state anyway.
    pub fn release_second_channel(&mut self) {
        self.partner.clear();
    }

    /// Whether a stereo call's channels are read at the same time.
    fn channels_at_once(&self) -> bool {
        self.threads >= 2 && self.settings.parallel_channels
    }

    fn transcribe_line(&mut self, line: ChannelSpeech<'_>) -> Result<Vec<Word>, AsrError> {
        self.read_line(line.samples, line.speech, line.heard, true)
    }

    /// Runs whisper on `segments` of `samples` joined together, and maps its
    /// words back onto the channel's timeline; with them, the segments whisper
    /// skipped over (see [`Session::decode`]).
    fn transcribe_segments(
        &mut self,
        samples: &[f32],
        segments: &[Segment],
        pass: Pass,
    ) -> Result<(Vec<Word>, Vec<Segment>), AsrError> {
        let gap = (self.settings.join_gap_s * f64::from(TARGET_RATE)) as usize;
        let (joined, map) = join_speech(samples, segments, gap);
        tracing::debug!(
            segments = segments.len(),
            speech_s = segments.iter().map(|s| s.end - s.start).sum::<f64>(),
            joined_s = joined.len() as f64 / f64::from(TARGET_RATE),
            "voice activity"
        );
        let (mut words, skips) = self.decode(&joined, pass)?;
        let rate = f64::from(TARGET_RATE);
        let skipped = map
            .iter()
            .filter(|(at, _, len)| {
                let (a, b) = (*at as f64 / rate, (at + len) as f64 / rate);
                skips.iter().any(|&(s, e)| a < e && b > s)
            })
            .map(|(_, orig, len)| Segment { start: *orig as f64 / rate, end: (orig + len) as f64 / rate })
            .collect();
        for w in &mut words {
            // Whisper often starts a chunk's first word in the silence before it:
            // the word belongs to the chunk that holds its middle.
            if let Some(chunk) = chunk_at(&map, (w.start + w.end) / 2.0) {
                let start = map_in_chunk(chunk, w.start);
                w.end = map_in_chunk(chunk, w.end).max(start);
                w.start = start;
            }
        }
        Ok((words, skipped))
    }

    /// Runs whisper on a buffer as is and returns its words (times relative to the buffer).
    pub fn transcribe_raw(&mut self, samples: &[f32]) -> Result<Vec<Word>, AsrError> {
        let pass = Pass { beam: self.settings.beam_size, sparse_words_per_s: SPARSE_WORDS_PER_S };
        Ok(self.decode(samples, pass)?.0)
    }

    /// [`Session::transcribe_raw`], and the spans (seconds into the buffer)
    /// of whisper's segments that hold far fewer words than their length
    /// needs (see [`SPARSE_WORDS_PER_S`]): where it skipped speech.
    fn decode(&mut self, samples: &[f32], pass: Pass) -> Result<(Vec<Word>, Vec<Span>), AsrError> {
        let Pass { beam, sparse_words_per_s } = pass;
        let buffer_s = samples.len() as f64 / f64::from(TARGET_RATE);
        let mut skips = Vec::new();
        let strategy = if beam > 1 {
            SamplingStrategy::BeamSearch { beam_size: beam as i32, patience: -1.0 }
        } else {
            SamplingStrategy::Greedy { best_of: 1 }
        };
        let mut params = FullParams::new(strategy);
        params.set_n_threads(self.threads as i32);
        // This thread's decodes share the session's threads (0: in no group).
        whisper_rs_sys::share_group(self.shared.as_ref().map_or(0, |s| s.group()));
        params.set_language(Some(self.language.map_or("auto", Language::code)));
        params.set_token_timestamps(true);
        params.set_print_progress(false);
        params.set_print_realtime(false);
        params.set_print_timestamps(false);
        params.set_print_special(false);
        params.set_suppress_blank(true);
        params.set_no_context(true);
        // ... and stop when the session's token is cancelled (0: never).
        let cancel = self.cancel.clone();
        whisper_rs_sys::cancel_watch(cancel.as_ref().map_or(0, |c| c.token));
        match self.state().full(params, samples) {
            Ok(_) => {}
            Err(_) if cancel.as_ref().is_some_and(|c| c.is_cancelled()) => return Err(AsrError::Cancelled),
            Err(e) => return Err(AsrError::Whisper(e.to_string())),
        }

        let mut words: Vec<Word> = Vec::new();
        let mut probs: Vec<f32> = Vec::new();
        let dtw = self.settings.dtw;
        // Where the previous segment's words start.
        let mut previous: Option<usize> = None;
        let state = self.states[self.current].as_ref().expect("a selected model has a state");
        for segment in state.as_iter() {
            let mut first = words.len();
            let (mut logprob, mut tokens) = (0.0f64, 0usize);
            // With DTW, a token's `t_dtw` is where the alignment path leaves it:
            // a word starts where the token before it ends, and ends at its own
            // last token's `t_dtw`.
            let mut previous_dtw: Option<f64> = None;
            for t in 0..segment.n_tokens() {
                let Some(token) = segment.get_token(t) else { continue };
                let text = token.to_str_lossy().map_err(|e| AsrError::Whisper(e.to_string()))?.into_owned();
                let data = token.token_data();
                let dtw_time = (dtw && data.t_dtw >= 0).then(|| data.t_dtw as f64 / 100.0);
                // Special tokens ([_BEG_], <|endoftext|>, timestamps) are not words.
                if text.starts_with("[_") || text.starts_with("<|") {
                    previous_dtw = dtw_time.or(previous_dtw);
                    continue;
                }
                let (t0, t1) = (data.t0 as f64 / 100.0, data.t1 as f64 / 100.0);
                let (start, end) = match (previous_dtw, dtw_time) {
                    (Some(p), Some(d)) => (p.min(d), d),
                    (None, Some(d)) => (t0.min(d), d),
                    (_, None) => (t0, t1),
                };
                previous_dtw = dtw_time.or(previous_dtw);
                let starts_word = text.starts_with(' ') || words.is_empty();
                if starts_word && !text.trim().is_empty() {
                    if let Some(last) = words.last_mut()
                        && !probs.is_empty()
                    {
                        last.confidence = Some(probs.iter().sum::<f32>() / probs.len() as f32);
                    }
                    probs.clear();
                    words.push(Word::unattributed(text.trim(), start, end.max(start), Some(0.0)));
                } else if let Some(last) = words.last_mut() {
                    last.text.push_str(text.trim_end());
                    last.end = last.end.max(end);
                } else {
                    continue;
                }
                probs.push(data.p);
                logprob += f64::from(data.p.max(1e-6)).ln();
                tokens += 1;
            }
            // The segment's last word is complete: its confidence now.
            if let Some(last) = words.last_mut()
                && !probs.is_empty()
            {
                last.confidence = Some(probs.iter().sum::<f32>() / probs.len() as f32);
            }
            probs.clear();
            let texts: Vec<&str> = words[first..].iter().map(|w| w.text.as_str()).collect();
            let mean_logprob = if tokens == 0 { 0.0 } else { logprob / tokens as f64 };
            tracing::trace!(
                start = segment.start_timestamp() as f64 / 100.0,
                end = segment.end_timestamp() as f64 / 100.0,
                no_speech = segment.no_speech_probability(),
                mean_logprob,
                text = %texts.join(" "),
                "whisper segment"
            );
            if hallucinated(segment.no_speech_probability(), mean_logprob, &texts) {
                tracing::debug!(
                    words = texts.len(),
                    no_speech = segment.no_speech_probability(),
                    mean_logprob,
                    text = %texts.join(" "),
                    "segment dropped as hallucinated"
                );
                words.truncate(first);
                continue;
            }
            // A segment that repeats the previous one word for word (but for
            // the shorter one's last, cut-off word) read the same speech again,
            // as whisper does after a reading it cut short: the longer stays.
            if let Some(p) = previous
                && (first - p).min(words.len() - first) >= 3
                && (0..(first - p).min(words.len() - first) - 1)
                    .all(|i| norm_word(&words[p + i].text) == norm_word(&words[first + i].text))
            {
                if words.len() - first >= first - p {
                    words.drain(p..first);
                    first = p;
                } else {
                    words.truncate(first);
                    continue;
                }
            }
            previous = Some(first);
            let (start, end) =
                (segment.start_timestamp() as f64 / 100.0, segment.end_timestamp() as f64 / 100.0);
            let length = end.min(buffer_s) - start;
            if length >= SPARSE_MIN_S && ((words.len() - first) as f64) < sparse_words_per_s * length {
                skips.push((start, end.min(buffer_s)));
            }
        }
        if let Some(last) = words.last_mut()
            && !probs.is_empty()
        {
            last.confidence = Some(probs.iter().sum::<f32>() / probs.len() as f32);
        }
        words.retain(|w| !w.text.is_empty());
        Ok((drop_annotations(words), skips))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f32::consts::PI;

    #[test]
    fn the_backends_are_described_by_what_they_have_on() {
        let info = "WHISPER : COREML = 0 | OPENVINO = 0 | CPU : SSE3 = 1 | AVX = 1 | AVX512_BF16 = 0 | \
                    AMX_INT8 = 1 | REPACK = 1 | CUDA : ARCHS = 890 | USE_GRAPHS = 1 | ";
        assert_eq!(describe_backends(info), "CPU: SSE3 AVX AMX_INT8 REPACK; CUDA: ARCHS=890 USE_GRAPHS");
        assert_eq!(describe_backends("WHISPER : COREML = 0 | OPENVINO = 0 | "), "none registered");
    }

    #[test]
    fn a_noisy_line_gets_a_beam_and_a_clean_or_humming_one_does_not() {
        // "Speech": 300 Hz-3 kHz tone bursts, 0.4 s on, 0.4 s off.
        let rate = TARGET_RATE as usize;
        let speech: Vec<f32> = (0..rate * 20)
            .map(|i| {
                let t = i as f32 / rate as f32;
                let on = ((t / 0.4) as usize).is_multiple_of(2);
                if on {
                    0.3 * ((2.0 * PI * 440.0 * t).sin() + (2.0 * PI * 1300.0 * t).sin()) / 2.0
                } else {
                    0.0
                }
            })
            .collect();
        let mut noise_state = 12345u32;
        let mut noise = || {
            noise_state = noise_state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (noise_state >> 8) as f32 / (1u32 << 24) as f32 - 0.5
        };
        let snr = |x: &[f32]| line_snr_db(&voice_band(x, TARGET_RATE));
        let settings = AsrSettings::default();
        // Digital silence between words.
        assert_eq!(snr(&speech), 60.0);
        assert_eq!(beam_for_line(&settings, snr(&speech)), 1);
        // White noise about 20 dB under the speech.
        let noisy: Vec<f32> = speech.iter().map(|s| s + 0.02 * noise()).collect();
        let s = snr(&noisy);
        assert!((10.0..30.0).contains(&s), "{s}");
        assert_eq!(beam_for_line(&settings, s), 5);
        // 50 Hz hum as loud is not noise in the voice band.
        let hum: Vec<f32> = speech
            .iter()
            .enumerate()
            .map(|(i, s)| s + 0.05 * (2.0 * PI * 50.0 * i as f32 / rate as f32).sin())
            .collect();
        assert!(snr(&hum) > settings.noisy_snr_db, "{}", snr(&hum));
        // Off, and a configured beam that is already larger.
        assert_eq!(beam_for_line(&AsrSettings { noisy_beam_size: 1, ..settings.clone() }, s), 1);
        assert_eq!(beam_for_line(&AsrSettings { beam_size: 8, ..settings }, s), 8);
    }

    #[test]
    fn joined_speech_maps_back_to_the_recording() {
        let samples = vec![0.1f32; 16_000 * 10];
        let segments = [Segment { start: 1.0, end: 2.0 }, Segment { start: 5.0, end: 6.5 }];
        let (joined, map) = join_speech(&samples, &segments, 8_000);
        assert_eq!(joined.len(), 16_000 + 8_000 + 24_000 + 8_000, "speech, gap, speech, trailing gap");
        let at = |t: f64| map_in_chunk(chunk_at(&map, t).expect("chunk"), t);
        assert!((at(0.5) - 1.5).abs() < 1e-6);
        assert!((at(1.5 + 0.25) - 5.25).abs() < 1e-6, "{}", at(1.75));
        // A word ending in the gap ends with its chunk, not in the next one.
        let first = chunk_at(&map, 0.9).expect("chunk");
        assert!((map_in_chunk(first, 1.3) - 2.0).abs() < 1e-6);
    }

    #[test]
    fn sound_annotations_are_not_words() {
        let w = |t: &str| Word::unattributed(t, 0.0, 0.1, Some(0.9));
        let words = ["[BLANK_AUDIO]", "So,", "(upbeat", "music)", "the", "price", "[Applause].", "is"];
        let kept: Vec<String> =
            drop_annotations(words.iter().map(|t| w(t)).collect()).into_iter().map(|w| w.text).collect();
        assert_eq!(kept, ["So,", "the", "price", "is"]);
        // An opening that never closes is one word, not the rest of the call.
        let words = ["(inaudible", "We", "are", "also", "looking", "at", "Salesforce", "and", "Pipedrive."];
        let kept: Vec<String> =
            drop_annotations(words.iter().map(|t| w(t)).collect()).into_iter().map(|w| w.text).collect();
        assert_eq!(kept, words[1..]);
    }

    #[test]
    fn skipped_speech_is_retried_in_short_pieces() {
        let seg = |start: f64, end: f64| Segment { start, end };
        let segments = [seg(0.0, 2.0), seg(3.0, 6.0), seg(9.0, 12.0), seg(30.0, 45.0), seg(50.0, 51.0)];
        let got: Vec<Vec<Segment>> =
            pieces(&segments, RETRY_PIECE_S).into_iter().map(<[Segment]>::to_vec).collect();
        assert_eq!(
            got,
            [
                vec![segments[0], segments[1]],
                vec![segments[2]],
                vec![segments[3]], // longer than a piece: whole, alone
                vec![segments[4]],
            ]
        );
        assert!(pieces(&[], RETRY_PIECE_S).is_empty());
    }

    #[test]
    fn skips_are_looked_for_less_eagerly_on_a_line_with_background_voices() {
        let heard = |share: f64| SpeechFrames {
            frame_s: 0.02,
            speech: (0..100).map(|i| (i as f64) < share * 100.0).collect(),
        };
        let (babble, quiet) = (heard(0.9), heard(0.4));
        assert_eq!(sparse_words_per_s(true, Some(&babble)), SPARSE_WORDS_PER_S_BABBLE);
        assert_eq!(sparse_words_per_s(true, Some(&quiet)), SPARSE_WORDS_PER_S);
        assert_eq!(sparse_words_per_s(true, None), SPARSE_WORDS_PER_S, "no Silero: no babble known");
        assert_eq!(
            sparse_words_per_s(false, Some(&babble)),
            SPARSE_WORDS_PER_S,
            "a mix is speech most of the time"
        );
    }

    #[test]
    fn hallucinated_segments_are_recognised() {
        let said = ["So", "what", "does", "your", "current", "process", "look", "like?"];
        assert!(!hallucinated(0.1, -0.3, &said));
        assert!(!hallucinated(0.9, -0.3, &said), "whisper is sure of the words");
        assert!(hallucinated(0.9, -1.4, &said), "not speech, and unsure");
        let looped = ["Thank", "you.", "Thank", "you.", "Thank", "you.", "Thank", "you."];
        assert!(hallucinated(0.0, -0.2, &looped));
        assert!(!hallucinated(0.0, -0.2, &looped[..4]), "too short to call a loop");
    }

    #[test]
    fn missing_and_corrupt_models_are_clear_errors() {
        let err = check_model(Path::new("/nonexistent/ggml-tiny.en.bin")).expect_err("missing");
        assert!(matches!(err, AsrError::ModelMissing(_)));
        assert!(err.to_string().contains("tools/models/fetch.sh"));
        let dir = std::env::temp_dir().join(format!("cs-asr-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("tmp");
        let bad = dir.join("ggml-bad.bin");
        std::fs::write(&bad, b"not a model").expect("write");
        assert!(matches!(check_model(&bad), Err(AsrError::ModelCorrupt { .. })));
        let good = dir.join("ggml-good.bin");
        std::fs::write(&good, [0x6c, 0x6d, 0x67, 0x67, 1, 2, 3]).expect("write");
        check_model(&good).expect("magic is right and there is no checksum file");
        std::fs::write(dir.join("ggml-good.bin.sha256"), "00ff  ggml-good.bin\n").expect("write");
        let err = check_model(&good).expect_err("checksum mismatch");
        assert!(err.to_string().contains("does not match"), "{err}");
        assert_eq!(model_name(Path::new("models/ggml-tiny.en.bin")), "tiny.en");
    }

    #[test]
    fn dtw_presets_follow_the_whisper_cpp_file_names() {
        let preset = |file: &str| format!("{:?}", dtw_preset(&model_name(Path::new(file))));
        for (file, expected) in [
            ("ggml-tiny.en-q8_0.bin", "Some(TinyEn)"),
            ("ggml-base.bin", "Some(Base)"),
            ("ggml-base-q8_0.bin", "Some(Base)"),
            ("ggml-small.bin", "Some(Small)"),
            ("ggml-small-q5_1.bin", "Some(Small)"),
            ("ggml-medium-q5_0.bin", "Some(Medium)"),
            ("ggml-large-v1.bin", "Some(LargeV1)"),
            ("ggml-large-v2-q5_0.bin", "Some(LargeV2)"),
            ("ggml-large-v3.bin", "Some(LargeV3)"),
            ("ggml-large-v3-q5_0.bin", "Some(LargeV3)"),
            ("ggml-large-v3-turbo.bin", "Some(LargeV3Turbo)"),
            ("ggml-large-v3-turbo-q8_0.bin", "Some(LargeV3Turbo)"),
            ("ggml-large.bin", "None"),
            ("ggml-distil-large-v3.bin", "None"),
            ("my-model.bin", "None"),
        ] {
            assert_eq!(preset(file), expected, "{file}");
        }
    }
}
