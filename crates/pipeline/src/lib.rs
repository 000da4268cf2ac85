//! Per-call analysis: the stages that turn a call into a [`CallAnalysis`].
//!
//! Audio → ([`callscope_asr`]) words per channel → ([`callscope_diarize`])
//! speakers and roles → turns ([`callscope_kpi`]) → KPIs and signals. A ready
//! transcript enters at the second half. The stages are CPU-bound and
//! synchronous, so the [`Analyzer`] is a plain value shared by reference across
//! worker threads, and each thread brings its own whisper [`Session`]; whoever
//! drives it (the command line, the folder source, the Kafka worker) owns the
//! threads and the I/O.
//!
//! This crate only orders the stages: every decision (how words are
//! attributed, what a turn is, how sentiment is scored) belongs to the stage's
//! own crate. Turns are segmented once here and carried in the
//! [`CallAnalysis`], so the KPIs, the signals and the store all see the same
//! ones.
//!
//! A stereo call is read and transcribed a window at a time
//! ([`Analyzer::analyze_audio`]), so memory stays bounded for any length;
//! the windows of a call under 15 minutes (the default) are one.
//!
//! Personal data is redacted ([`callscope_redact`]) first thing in
//! [`Analyzer::analyze_transcript`], right after attribution (audio) or
//! validation (a transcript): the turns, KPIs, signals (sentiment, keywords,
//! mentions) and the store only ever see placeholders such as `[card]`. The
//! call's free-text metadata (`customer`, `outcome`) is redacted there too.

use callscope_asr::{ChannelSpeech, Session};
use callscope_audio::{Audio, AudioError, AudioStream, TARGET_RATE};
use std::sync::Arc;

use callscope_diarize::mono::Diarizer;
use callscope_diarize::{LineSpeech, StereoCall};
use callscope_model::{CallAnalysis, CallMeta, Provenance, SellerChannel, Transcript};
use callscope_redact::Redactor;
use callscope_signals::{
    LexiconSentiment, SentimentModel, SignalExtractor, SignalSettings, TrackerMatcher, Trackers,
};

/// The version of this pipeline, stored with every analysis.
pub const PIPELINE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Why a recording could not be analysed.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The recording could not be decoded (a streamed recording fails as
    /// it is read).
    #[error(transparent)]
    Audio(#[from] callscope_audio::AudioError),
    /// Transcription failed.
    #[error(transparent)]
    Asr(#[from] callscope_asr::AsrError),
    /// Mono diarization failed (the speaker embedder could not run).
    #[error(transparent)]
    Diarize(#[from] callscope_diarize::mono::DiarizeError),
    /// Stereo roles were asked for, but the recording has one channel.
    #[error(
        "the recording is mono: it has no seller channel (drop --seller-channel to analyse it as one speaker)"
    )]
    MonoWithStereoRoles,
}

/// A recording to analyse, with what is known about it.
#[derive(Debug)]
pub struct Recording<'a> {
    /// The call's metadata.
    pub meta: CallMeta,
    /// The audio: decoded already, or decoded as it is analysed.
    pub audio: AudioInput<'a>,
    /// The seller's channel of a stereo recording (left when `None`).
    pub seller_channel: Option<SellerChannel>,
    /// Where the recording is stored, for playback.
    pub audio_uri: Option<String>,
}

/// The audio of a [`Recording`].
#[derive(Debug)]
pub enum AudioInput<'a> {
    /// Decoded whole (evaluation, tests, short files).
    Decoded {
        /// The audio.
        audio: &'a Audio,
        /// Samples handed out so far.
        read: usize,
    },
    /// Decoded as the analysis goes: a stereo call is read a window at a
    /// time and never held whole.
    Stream(AudioStream),
}

impl<'a> From<&'a Audio> for AudioInput<'a> {
    fn from(audio: &'a Audio) -> Self {
        AudioInput::Decoded { audio, read: 0 }
    }
}

impl From<AudioStream> for AudioInput<'_> {
    fn from(stream: AudioStream) -> Self {
        AudioInput::Stream(stream)
    }
}

impl AudioInput<'_> {
    fn channels(&self) -> usize {
        match self {
            AudioInput::Decoded { audio, .. } => audio.channels.len(),
            AudioInput::Stream(s) => s.channels(),
        }
    }

    fn truncated(&self) -> bool {
        match self {
            AudioInput::Decoded { audio, .. } => audio.truncated,
            AudioInput::Stream(s) => s.truncated(),
        }
    }

    /// The next `n` samples per channel (fewer at the end, more from a
    /// stream); `None` at the end.
    fn read(&mut self, n: usize) -> Result<Option<Vec<Vec<f32>>>, AudioError> {
        match self {
            AudioInput::Decoded { audio, read } => {
                let len = audio.channels.first().map_or(0, Vec::len);
                if *read >= len {
                    return Ok(None);
                }
                let end = read.saturating_add(n.max(1)).min(len);
                let block = audio.channels.iter().map(|c| c[*read..end].to_vec()).collect();
                *read = end;
                Ok(Some(block))
            }
            AudioInput::Stream(s) => s.read(n),
        }
    }

    /// The rest of the recording mixed to one channel.
    fn mono(&mut self) -> Result<Vec<f32>, AudioError> {
        if let AudioInput::Decoded { audio, read: 0 } = self {
            return Ok(audio.mono());
        }
        let mut mono = Vec::new();
        while let Some(block) = self.read(WINDOW_READ_S * TARGET_RATE as usize)? {
            let n = block.len().max(1) as f32;
            let len = block.first().map_or(0, Vec::len);
            mono.extend((0..len).map(|i| block.iter().map(|c| c[i]).sum::<f32>() / n));
        }
        Ok(mono)
    }
}

/// A stream is read in blocks of this many seconds.
const WINDOW_READ_S: usize = 60;
/// A window is cut at the quietest stretch (both channels together) of its
/// last this many seconds ...
pub const CUT_SEARCH_S: f64 = 30.0;
/// ... the quietest stretch this long (seconds), cut in its middle: a pause
/// between turns, not the gap inside a word.
pub const CUT_QUIET_S: f64 = 0.5;
/// Windows are never shorter than this (seconds), whatever the setting.
pub const MIN_WINDOW_S: f64 = 60.0;

/// Where to end a window of `window` samples of `channels`: the middle of
/// the quietest [`CUT_QUIET_S`] in its last [`CUT_SEARCH_S`].
fn quiet_cut(channels: [&[f32]; 2], window: usize) -> usize {
    let rate = TARGET_RATE as usize;
    let frame = rate / 100;
    let from = window.saturating_sub((CUT_SEARCH_S * rate as f64) as usize);
    let energy: Vec<f64> = (from / frame..window / frame)
        .map(|f| {
            let r = f * frame..(f + 1) * frame;
            channels.iter().map(|c| c[r.clone()].iter().map(|x| f64::from(*x).powi(2)).sum::<f64>()).sum()
        })
        .collect();
    let stretch = ((CUT_QUIET_S * 100.0) as usize).clamp(1, energy.len().max(1));
    let best = energy
        .windows(stretch)
        .map(|w| w.iter().sum::<f64>())
        .enumerate()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map_or(energy.len(), |(i, _)| i + stretch / 2);
    (from / frame + best) * frame
}

/// What the audio stages add to the analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioReport {
    /// Words dropped as crosstalk (the other party's voice bleeding into a channel).
    pub crosstalk_dropped: usize,
    /// Seconds of audio per second of transcription.
    pub realtime_factor: f64,
    /// Whether decoding stopped early at damaged data.
    pub truncated: bool,
    /// Seconds spent on mono diarization (0 when there was none).
    pub diarize_s: f64,
    /// Seconds spent decoding a streamed recording (0 when it came decoded).
    pub decode_s: f64,
    /// The windows a stereo call was transcribed in (1 for most calls; 0 for mono).
    pub windows: usize,
}

/// An [`AudioInput`] that counts the seconds spent reading (decoding) it.
struct Timed<'a> {
    input: AudioInput<'a>,
    secs: f64,
}

impl Timed<'_> {
    fn read(&mut self, n: usize) -> Result<Option<Vec<Vec<f32>>>, AudioError> {
        let t0 = std::time::Instant::now();
        let block = self.input.read(n);
        self.secs += t0.elapsed().as_secs_f64();
        block
    }

    fn mono(&mut self) -> Result<Vec<f32>, AudioError> {
        let t0 = std::time::Instant::now();
        let mono = self.input.mono();
        self.secs += t0.elapsed().as_secs_f64();
        mono
    }
}

/// Runs the per-call stages. Build once; share across threads.
#[derive(Debug)]
pub struct Analyzer {
    signals: SignalExtractor<Arc<dyn SentimentModel>>,
    diarizer: Option<Arc<Diarizer>>,
    /// Replaces personal data before any stage reads the words; `None`: the
    /// words are kept as spoken (evaluation against reference transcripts).
    redactor: Option<Redactor>,
}

impl Analyzer {
    /// An analyzer with the given trackers and signal settings.
    pub fn new(trackers: &Trackers, settings: SignalSettings) -> Self {
        Self::with_matcher(TrackerMatcher::new(trackers).0, settings)
    }

    /// An analyzer with trackers the caller already compiled (and reported the
    /// warnings of). It redacts every kind of personal data
    /// ([`Redactor::default`]) until told otherwise with
    /// [`with_redaction`](Self::with_redaction).
    pub fn with_matcher(matcher: TrackerMatcher, settings: SignalSettings) -> Self {
        Analyzer {
            signals: SignalExtractor::with_model(matcher, Arc::new(LexiconSentiment::new()), settings),
            diarizer: None,
            redactor: Some(Redactor::default()),
        }
    }

    /// Scores sentiment with `model` (the default is the lexicon,
    /// [`LexiconSentiment`]); its name is stored with every analysis.
    pub fn with_sentiment(self, model: Arc<dyn SentimentModel>) -> Self {
        let Analyzer { signals, diarizer, redactor } = self;
        Analyzer { signals: signals.with_sentiment(model), diarizer, redactor }
    }

    /// Redacts personal data with `redactor`; `None` keeps every word as
    /// spoken.
    pub fn with_redaction(mut self, redactor: Option<Redactor>) -> Self {
        self.redactor = redactor;
        self
    }

    /// Diarizes mono recordings with `diarizer` (without one, a mono call is
    /// one speaker of role `other`, flagged low-confidence).
    pub fn with_diarizer(mut self, diarizer: Option<Arc<Diarizer>>) -> Self {
        self.diarizer = diarizer;
        self
    }

    /// Transcribes and attributes a decoded recording, then analyses it.
    ///
    /// Two channels: each is transcribed on its own and attributed by channel;
    /// the seller's channel is `seller_channel` (left when `None`). One
    /// channel: diarized by voice with the [`Diarizer`] when there is one, else
    /// one speaker of role `other`, flagged; asking for a seller channel is an
    /// error. More channels are mixed to mono. `progress` hears about each step,
    /// for long files on a terminal.
    ///
    /// A stereo call longer than the session's `window_s` (1.5 times it) is
    /// transcribed in windows of about `window_s`, each cut in the quietest
    /// half second (both channels) of its last [`CUT_SEARCH_S`]; voice
    /// activity, leak and bleed are judged within each window. From an
    /// [`AudioInput::Stream`] only the window at hand is in memory, so a call
    /// of any length runs in bounded memory. A mono call is diarized over the
    /// whole call, so it is read whole.
    pub fn analyze_audio(
        &self,
        recording: Recording<'_>,
        session: &mut Session<'_>,
        progress: &mut dyn FnMut(&str),
    ) -> Result<(CallAnalysis, AudioReport), PipelineError> {
        let Recording { meta, audio, seller_channel, audio_uri } = recording;
        let started = std::time::Instant::now();
        // The call's language picks its model; without one (and with
        // `asr.language = "auto"`) it is detected from the first speech.
        session.start_call(meta.language)?;
        let mut detected = None;
        let mut input = Timed { input: audio, secs: 0.0 };
        let mut diarize_s = 0.0;
        let mut windows = 0;
        let (mut transcript, attribution, dropped, duration_s) = if input.input.channels() == 2 {
            let (t, a, dropped, call_windows, samples) = Self::stereo(
                &mut input,
                session,
                seller_channel.unwrap_or_default(),
                &mut detected,
                progress,
            )?;
            windows = call_windows;
            (t, a, dropped, samples as f64 / f64::from(TARGET_RATE))
        } else {
            if input.input.channels() == 1 && seller_channel.is_some() {
                return Err(PipelineError::MonoWithStereoRoles);
            }
            let mono = input.mono()?;
            let duration_s = mono.len() as f64 / f64::from(TARGET_RATE);
            detect_language(session, &mono, &mut detected, progress)?;
            progress(&format!("transcribing ({duration_s:.0} s, mono)"));
            let speech = session.mix_speech(&mono)?;
            let words = session.transcribe_speech(&mono, &speech.speech, speech.heard.as_ref())?;
            let (t, a) = match &self.diarizer {
                Some(d) => {
                    progress("diarizing (who said each word)");
                    let t0 = std::time::Instant::now();
                    let r = d.attribute(&mono, &words, &meta.seller_id)?;
                    diarize_s = t0.elapsed().as_secs_f64();
                    r
                }
                None => callscope_diarize::single_speaker(&words),
            };
            // What a noisy line does to the words: the same evidence as a
            // stereo line's, the mix judged as one line.
            let line = callscope_diarize::mono_line(
                &mono,
                TARGET_RATE,
                &words,
                LineSpeech { own: &speech.speech, heard: speech.heard.as_ref().unwrap_or(&speech.speech) },
            );
            (t, callscope_diarize::with_mono_line(a, line), 0, duration_s)
        };
        let elapsed = started.elapsed().as_secs_f64();
        transcript.call_id = Some(meta.call_id.clone()).filter(|id| !id.is_empty());
        transcript.seller_id = Some(meta.seller_id.clone()).filter(|id| !id.is_empty());
        transcript.started_at = meta.started_at;
        transcript.duration_s = Some(duration_s);
        transcript.language = session.language();
        transcript.language_probability = detected;
        progress("computing KPIs and signals");
        let mut analysis = self.analyze_transcript(meta, transcript, audio_uri);
        analysis.provenance.asr_model = Some(session.model_name().to_owned());
        analysis.attribution = Some(attribution);
        let report = AudioReport {
            crosstalk_dropped: dropped,
            realtime_factor: if elapsed > 0.0 { duration_s / elapsed } else { f64::INFINITY },
            truncated: input.input.truncated(),
            diarize_s,
            decode_s: input.secs,
            windows,
        };
        Ok((analysis, report))
    }

    /// A stereo call, window by window (see [`AsrSettings::window_s`]): each
    /// channel's speech, less the other party's leak, transcribed on its own
    /// and attributed by channel. Returns the transcript, its attribution,
    /// the words dropped as bleed, the number of windows and the call's
    /// length in samples.
    ///
    /// [`AsrSettings::window_s`]: callscope_asr::AsrSettings::window_s
    fn stereo(
        input: &mut Timed<'_>,
        session: &mut Session<'_>,
        seller: SellerChannel,
        detected: &mut Option<f32>,
        progress: &mut dyn FnMut(&str),
    ) -> Result<(Transcript, callscope_model::Attribution, usize, usize, usize), PipelineError> {
        let rate = TARGET_RATE as usize;
        let window = (session.settings().window_s.max(MIN_WINDOW_S) * rate as f64) as usize;
        let longest = window + window / 2;
        let mut call = StereoCall::new(seller);
        let mut buffer: [Vec<f32>; 2] = [Vec::new(), Vec::new()];
        let (mut offset, mut windows, mut ended) = (0usize, 0usize, false);
        loop {
            while !ended && buffer[0].len() <= longest {
                match input.read((longest + 1 - buffer[0].len()).min(WINDOW_READ_S * rate))? {
                    Some(block) => buffer.iter_mut().zip(block).for_each(|(b, c)| b.extend_from_slice(&c)),
                    None => ended = true,
                }
            }
            if buffer[0].is_empty() {
                break;
            }
            let len = buffer[0].len().min(buffer[1].len());
            let cut = if len <= longest { len } else { quiet_cut([&buffer[0], &buffer[1]], window) };
            let channels = [&buffer[0][..cut], &buffer[1][..cut]];
            let secs = |samples: usize| samples as f64 / rate as f64;
            let whole = windows == 0 && ended;
            let step = |what: &str| {
                if whole {
                    format!("{what} ({:.0} s, 2 channels)", secs(cut))
                } else {
                    format!(
                        "{what} (window {}, {:.0}–{:.0} s)",
                        windows + 1,
                        secs(offset),
                        secs(offset + cut)
                    )
                }
            };
            if windows == 0 {
                // Both parties' speech, for language detection.
                let mix: Vec<f32> = channels[0].iter().zip(channels[1]).map(|(a, b)| 0.5 * (a + b)).collect();
                detect_language(session, &mix, detected, progress)?;
            }
            progress(&step("finding speech"));
            let speech = session.party_speech_both(channels)?;
            // Each channel's own speaker only: the other party's leak is not
            // sent to whisper (it would come back as that party's words here).
            let (own, _) = callscope_audio::leak::own_speech(
                channels,
                TARGET_RATE,
                [&speech[0].speech, &speech[1].speech],
            );
            progress(&step("transcribing both channels"));
            let line = |i: usize| ChannelSpeech {
                samples: channels[i],
                speech: &own[i],
                heard: speech[i].heard.as_ref(),
            };
            let words = session.transcribe_channels([line(0), line(1)])?;
            let line = |i: usize| LineSpeech {
                own: &own[i],
                heard: speech[i].heard.as_ref().unwrap_or(&speech[i].speech),
            };
            call.push([&words[0], &words[1]], channels, TARGET_RATE, secs(offset), [line(0), line(1)]);
            buffer.iter_mut().for_each(|b| {
                b.drain(..cut);
            });
            offset += cut;
            windows += 1;
        }
        // The rest of the call (signals, sentiment) needs no second decoder.
        session.release_second_channel();
        let (transcript, attribution, dropped) = call.finish();
        Ok((transcript, attribution, dropped, windows, offset))
    }

    /// Analyzes a validated transcript: redaction, then KPIs and signals (on
    /// the same turns).
    ///
    /// Each redacted entity becomes one placeholder word with the entity's
    /// time span, so talk time and turns are unchanged and the word count
    /// (and words per minute) drops by the entity's words less one. The
    /// call's duration is the transcript's `duration_s`, or the end of its
    /// last word.
    pub fn analyze_transcript(
        &self,
        mut meta: CallMeta,
        mut transcript: Transcript,
        audio_uri: Option<String>,
    ) -> CallAnalysis {
        if let Some(redactor) = &self.redactor {
            redactor.redact(&mut transcript);
            // Free-text metadata is stored too: a producer that puts a
            // customer's number in `customer` or `outcome` must not store it.
            for text in [&mut meta.customer, &mut meta.outcome].into_iter().flatten() {
                *text = redactor.redact_text(text).0;
            }
        }
        // The call's language: the transcript's own, else the metadata's;
        // both say the same from here on.
        transcript.language = transcript.language.or(meta.language);
        meta.language = transcript.language;
        let words = callscope_kpi::sorted_words(&transcript);
        let seg = callscope_kpi::segment_turns(&words);
        let signals = self.signals.extract_segmented(&transcript, &words, &seg);
        let kpis = callscope_kpi::report_segmented(&transcript, &words, &seg);
        let turns = callscope_kpi::turns_with_text(&transcript, &words, &seg);
        let sentiment_model = self.signals.sentiment_model_for(meta.language).to_owned();
        let duration_s = transcript
            .duration_s
            .unwrap_or_else(|| transcript.words.iter().map(|w| w.end).fold(0.0, f64::max));
        CallAnalysis {
            meta,
            duration_s,
            audio_uri,
            transcript,
            turns,
            kpis,
            signals,
            provenance: Provenance {
                pipeline_version: PIPELINE_VERSION.to_owned(),
                asr_model: None,
                sentiment_model,
            },
            attribution: None,
        }
    }
}

/// Detects the call's language from `samples` when nobody said it (the
/// session's language is undecided), and records the probability.
fn detect_language(
    session: &mut Session<'_>,
    samples: &[f32],
    detected: &mut Option<f32>,
    progress: &mut dyn FnMut(&str),
) -> Result<(), PipelineError> {
    if session.language().is_some() {
        return Ok(());
    }
    progress("detecting the language");
    if let Some((language, probability)) = session.detect_language(samples)? {
        progress(&format!("language: {language} (p = {probability:.2}), model {}", session.model_name()));
        *detected = Some(probability);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use callscope_model::{Role, Word};

    #[test]
    fn analysis_carries_kpis_signals_and_provenance() {
        let mut t = Transcript::default();
        t.speakers.insert("a".into(), Role::Seller);
        t.speakers.insert("b".into(), Role::Customer);
        for (i, (spk, text)) in
            [("a", "How"), ("a", "are"), ("a", "you?"), ("b", "Great"), ("b", "thanks")].iter().enumerate()
        {
            let start = i as f64;
            t.words.push(Word {
                text: (*text).into(),
                start,
                end: start + 0.5,
                speaker: (*spk).into(),
                confidence: None,
            });
        }
        let analyzer = Analyzer::new(&Trackers::default(), SignalSettings::default());
        let meta = CallMeta { call_id: "c-1".into(), seller_id: "s".into(), ..CallMeta::default() };
        let a = analyzer.analyze_transcript(meta, t, None);
        assert_eq!(a.kpis.kpis.seller_questions, 1);
        assert_eq!(a.signals.questions.len(), 1);
        assert!((a.duration_s - 4.5).abs() < 1e-12);
        assert_eq!(a.provenance.sentiment_model, "vader-sales-v1");
        let turns: Vec<(Role, &str)> = a.turns.iter().map(|t| (t.role, t.text.as_str())).collect();
        assert_eq!(turns, [(Role::Seller, "How are you?"), (Role::Customer, "Great thanks")]);
    }

    fn said(words: &[(&str, &str)]) -> Transcript {
        let mut t = Transcript::default();
        t.speakers.insert("a".into(), Role::Seller);
        t.speakers.insert("b".into(), Role::Customer);
        for (i, (spk, text)) in words.iter().enumerate() {
            let start = i as f64;
            t.words.push(Word::unattributed(*text, start, start + 0.5, None).said_by(spk));
        }
        t
    }

    #[test]
    fn card_numbers_and_identity_codes_never_reach_the_analysis() {
        let words = [
            ("a", "Your"),
            ("a", "card"),
            ("a", "number?"),
            ("b", "4111"),
            ("b", "1111"),
            ("b", "1111"),
            ("b", "1111"),
            ("b", "and"),
            ("b", "my"),
            ("b", "henkilötunnus"),
            ("b", "is"),
            ("b", "131052-308T."),
        ];
        let analyzer = Analyzer::new(&Trackers::default(), SignalSettings::default());
        let meta = CallMeta {
            call_id: "c-2".into(),
            seller_id: "s".into(),
            customer: Some("Acme, call 040 123 4567".into()),
            outcome: Some("won".into()),
            ..CallMeta::default()
        };
        let a = analyzer.analyze_transcript(meta.clone(), said(&words), None);
        assert_eq!(a.meta.customer.as_deref(), Some("Acme, call [phone]"), "metadata text is redacted");
        assert_eq!(a.meta.outcome.as_deref(), Some("won"));
        let text: Vec<&str> = a.transcript.words.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(
            text,
            ["Your", "card", "number?", "[card]", "and", "my", "henkilötunnus", "is", "[id_code]."]
        );
        let card = &a.transcript.words[3];
        assert_eq!((card.start, card.end, card.speaker.as_str()), (3.0, 6.5, "b"));
        // Nothing downstream (turns, keywords, the JSON that is stored) holds the values.
        let json = serde_json::to_string(&a).expect("serializes");
        for raw in ["4111", "1111", "131052", "308T"] {
            assert!(!json.contains(raw), "{raw} leaked: {json}");
        }
        assert_eq!(a.turns[1].text, "[card] and my henkilötunnus is [id_code].");

        // Switched off, the words are kept as spoken.
        let plain = Analyzer::new(&Trackers::default(), SignalSettings::default()).with_redaction(None);
        let a = plain.analyze_transcript(meta, said(&words), None);
        assert!(serde_json::to_string(&a).expect("serializes").contains("131052-308T"));
    }
}
