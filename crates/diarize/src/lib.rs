//! Speaker attribution: every word gets a speaker and a role.
//!
//! Dual-channel recordings (the seller on one channel, the customer on the
//! other) are attributed exactly by channel: [`attribute_by_channel`] merges
//! the channels' words by time. What it must get right is **crosstalk**: a
//! loud voice bleeds into the other party's microphone, and whisper then hears
//! the same words twice. A word is dropped as bleed when the other channel has
//! the same word at an overlapping time and that channel is louder over the
//! word (the speaker's own microphone always is).
//!
//! Mono recordings are diarized by voice ([`mono`]): speaker embeddings over
//! the speech (CAM++, [`campplus`], or the d-vector fallback, [`onnx`]; each
//! computes its own features), clustering, a per-word assignment, and a role
//! decision with a confidence. [`mono::Diarizer`] holds everything that takes
//! (the embedder, enrolled voiceprints, the overlap model) and makes every
//! mono decision: who said each word, which speaker is the seller, how sure
//! that is. Scoring against truth (DER) is `callscope-eval`'s job.
//!
//! Every entry point takes transcription's words ([`Word`], speaker still
//! empty) and returns a [`Transcript`] with speakers and roles plus an
//! [`Attribution`] saying how it was done and how sure it is, so the pipeline
//! only chooses which one to call.

pub mod campplus;
pub mod fbank;
pub mod features;
pub mod mono;
pub mod onnx;
pub mod overlap;

use callscope_audio::SpeechFrames;
use callscope_model::{Attribution, LineEvidence, Role, SellerChannel, Transcript, Word};

/// A channel's words, its role, and its samples (16 kHz) for loudness checks.
#[derive(Debug, Clone, Copy)]
pub struct Channel<'a> {
    /// Speaker label in the transcript (`seller`, `customer`).
    pub label: &'a str,
    /// The role of whoever speaks on this channel.
    pub role: Role,
    /// The channel's words, as transcribed.
    pub words: &'a [Word],
    /// The channel's audio at `rate`.
    pub samples: &'a [f32],
    /// Sample rate of `samples`.
    pub rate: u32,
}

fn comparable(text: &str) -> String {
    text.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

fn energy(samples: &[f32], rate: u32, start: f64, end: f64) -> f64 {
    let a = ((start * f64::from(rate)) as usize).min(samples.len());
    let b = ((end * f64::from(rate)) as usize).clamp(a, samples.len());
    if b == a {
        return 0.0;
    }
    samples[a..b].iter().map(|s| f64::from(*s) * f64::from(*s)).sum::<f64>() / (b - a) as f64
}

fn overlap(a: &Word, b: &Word) -> f64 {
    (a.end.min(b.end) - a.start.max(b.start)).max(0.0)
}

/// Whether `w` (on `own`) is bleed of a louder copy on `other`.
fn is_bleed(w: &Word, own: &Channel<'_>, other: &Channel<'_>) -> bool {
    let key = comparable(w.text.as_str());
    if key.is_empty() {
        return false;
    }
    let span = (w.end - w.start).max(0.05);
    other.words.iter().filter(|o| o.start < w.end + 0.3 && o.end > w.start - 0.3).any(|o| {
        let shorter = span.min((o.end - o.start).max(0.05));
        let close = overlap(w, o) >= 0.5 * shorter || (w.start - o.start).abs() < 0.25;
        close && comparable(&o.text) == key && {
            let (s, e) = (w.start.min(o.start), w.end.max(o.end));
            energy(own.samples, own.rate, s, e) < energy(other.samples, other.rate, s, e)
        }
    })
}

/// Merges two channels' words into one transcript, dropping crosstalk copies.
/// Returns the transcript and the number of words dropped as bleed.
pub fn attribute_by_channel(a: Channel<'_>, b: Channel<'_>) -> (Transcript, usize) {
    let mut t = Transcript::default();
    t.speakers.insert(a.label.to_owned(), a.role);
    t.speakers.insert(b.label.to_owned(), b.role);
    let mut dropped = 0;
    for (own, other) in [(&a, &b), (&b, &a)] {
        for w in own.words {
            if is_bleed(w, own, other) {
                dropped += 1;
                continue;
            }
            t.words.push(w.said_by(own.label));
        }
    }
    t.words.sort_by(|x, y| x.start.total_cmp(&y.start).then(x.end.total_cmp(&y.end)));
    (t, dropped)
}

/// A stereo call: each channel is one party, the seller's channel is
/// `seller`. Returns the transcript (speakers `seller` and `customer`), its
/// attribution (`channel`, with the [`line_confidence`] of the line) and
/// the words dropped as bleed. [`StereoCall`] does the same a window at a
/// time.
pub fn attribute_stereo(
    words: [&[Word]; 2],
    samples: [&[f32]; 2],
    rate: u32,
    seller: SellerChannel,
    speech: [LineSpeech<'_>; 2],
) -> (Transcript, Attribution, usize) {
    let mut call = StereoCall::new(seller);
    call.push(words, samples, rate, 0.0, speech);
    call.finish()
}

/// Where one channel of a window holds speech, as transcription saw it.
#[derive(Debug, Clone, Copy)]
pub struct LineSpeech<'a> {
    /// The frames that were transcribed: the channel's own speaker's speech
    /// (both channels on one frame grid).
    pub own: &'a SpeechFrames,
    /// Every frame the voice detector heard speech in, the other party's
    /// leak and voices in the background included (any frame grid).
    pub heard: &'a SpeechFrames,
}

/// How much speech one line had, and how much of it got words (seconds).
#[derive(Debug, Clone, Copy, Default)]
struct LineTally {
    /// Sum of SNR × seconds over the windows.
    snr_s: f64,
    /// The line's length.
    secs: f64,
    /// The pauses of the call (neither party's own speech) ...
    pause_s: f64,
    /// ... and the part of them in which the voice detector heard a voice
    /// on this line.
    background_s: f64,
    /// The own speaker's speech ...
    own_s: f64,
    /// ... and the part of it with no word nearby.
    unworded_s: f64,
    /// Whether the line has any word.
    has_words: bool,
}

/// A line with less speech of its own than this (seconds) and no words is
/// not judged (a dead channel, or one that carries only the other party's
/// leak).
const MIN_OWN_SPEECH_S: f64 = 1.0;

/// Own speech farther than this (seconds) from every word of its line is
/// speech without words.
const WORDLESS_REACH_S: f64 = 0.5;

/// Seconds of `speech` farther than [`WORDLESS_REACH_S`] from all `words`.
fn unworded_s(speech: &SpeechFrames, words: &[Word]) -> f64 {
    let frame_s = speech.frame_s;
    if frame_s <= 0.0 {
        return 0.0;
    }
    let mut near = vec![false; speech.speech.len()];
    for w in words {
        let a = ((w.start - WORDLESS_REACH_S) / frame_s).floor().max(0.0) as usize;
        let b = (((w.end + WORDLESS_REACH_S) / frame_s).ceil().max(0.0) as usize).min(near.len());
        near.iter_mut().take(b).skip(a).for_each(|n| *n = true);
    }
    speech.speech.iter().zip(&near).filter(|(s, n)| **s && !**n).count() as f64 * frame_s
}

/// The window's pauses, where no line's own speech is (seconds), and per
/// line the part of them in which its voice detector heard a voice. (Two
/// lines: a stereo call's channels; one: a mono call's mix.) The other
/// party's leak is heard only while that party speaks, so it does not count;
/// voices in the background fill the pauses.
fn pauses<const N: usize>(speech: [LineSpeech<'_>; N]) -> (f64, [f64; N]) {
    let own = speech.map(|s| s.own);
    let frame_s = own.first().map_or(0.0, |o| o.frame_s);
    let n = own.iter().map(|o| o.speech.len()).min().unwrap_or(0);
    let heard = speech.map(|s| s.heard.resampled(frame_s, n));
    let (mut pause_s, mut background_s) = (0.0, [0.0; N]);
    for k in (0..n).filter(|&k| own.iter().all(|o| !o.speech[k])) {
        pause_s += frame_s;
        for (b, h) in background_s.iter_mut().zip(&heard) {
            if h.speech.get(k).copied().unwrap_or(false) {
                *b += frame_s;
            }
        }
    }
    (pause_s, background_s)
}

fn voiced_s(frames: &SpeechFrames) -> f64 {
    frames.speech.iter().filter(|v| **v).count() as f64 * frames.frame_s
}

/// A stereo call attributed window by window (a long call is transcribed in
/// windows, so that it never has to be in memory whole): bleed is judged
/// within each window, where both channels' words and samples are at hand;
/// the line's SNR is the windows' mean, weighted by their length.
#[derive(Debug, Clone)]
pub struct StereoCall {
    seller: SellerChannel,
    transcript: Transcript,
    dropped: usize,
    /// Per channel: its speech, words and noise over the windows.
    lines: [LineTally; 2],
}

impl StereoCall {
    /// An empty call whose seller is on channel `seller`.
    pub fn new(seller: SellerChannel) -> Self {
        let mut transcript = Transcript::default();
        transcript.speakers.insert("seller".into(), Role::Seller);
        transcript.speakers.insert("customer".into(), Role::Customer);
        StereoCall { seller, transcript, dropped: 0, lines: [LineTally::default(); 2] }
    }

    /// Adds one window: each channel's words, samples and speech, on the
    /// window's own timeline, which starts `offset_s` into the call.
    pub fn push(
        &mut self,
        words: [&[Word]; 2],
        samples: [&[f32]; 2],
        rate: u32,
        offset_s: f64,
        speech: [LineSpeech<'_>; 2],
    ) {
        let channel = |i: usize| {
            let is_seller = i == self.seller.index();
            Channel {
                label: if is_seller { "seller" } else { "customer" },
                role: if is_seller { Role::Seller } else { Role::Customer },
                words: words[i],
                samples: samples[i],
                rate,
            }
        };
        let (t, dropped) = attribute_by_channel(channel(0), channel(1));
        self.dropped += dropped;
        self.transcript.words.extend(t.words.into_iter().map(|mut w| {
            w.start += offset_s;
            w.end += offset_s;
            w
        }));
        let (pause_s, background_s) = pauses(speech);
        for (i, line) in self.lines.iter_mut().enumerate() {
            line.add(samples[i], rate, words[i], speech[i].own, pause_s, background_s[i]);
        }
    }

    /// The transcript, its attribution and the words dropped as bleed.
    pub fn finish(mut self) -> (Transcript, Attribution, usize) {
        let line = evidence(&self.lines, &self.transcript.words);
        let confidence = line.as_ref().map_or(1.0, line_confidence);
        // Windows arrive in order and each is sorted; a stable sort keeps
        // equal times in the order the channels gave them.
        self.transcript.words.sort_by(|x, y| x.start.total_cmp(&y.start).then(x.end.total_cmp(&y.end)));
        let mut attribution = Attribution::new("channel", confidence);
        attribution.line = line;
        (self.transcript, attribution, self.dropped)
    }
}

impl LineTally {
    /// Adds one window of a line: its samples, words and own speech, the
    /// call's pauses in the window and the part of them in which this line
    /// heard a voice (seconds).
    fn add(
        &mut self,
        samples: &[f32],
        rate: u32,
        words: &[Word],
        own: &SpeechFrames,
        pause_s: f64,
        background_s: f64,
    ) {
        let secs = samples.len() as f64 / f64::from(rate.max(1));
        self.snr_s += callscope_audio::snr_db(samples, rate) * secs;
        self.secs += secs;
        self.pause_s += pause_s;
        self.background_s += background_s;
        self.own_s += voiced_s(own);
        self.unworded_s += unworded_s(own, words);
        self.has_words |= !words.is_empty();
    }
}

/// The evidence of a call's lines (each figure the worse line's), or none
/// when no line is judged: the SNR of lines that carry words (a dead
/// channel's is no news); speech without words on any line with speech of
/// its own, words or not (a line whisper could not read at all is the worst
/// case).
fn evidence(lines: &[LineTally], words: &[Word]) -> Option<LineEvidence> {
    let worst = |keep: &dyn Fn(&LineTally) -> bool, f: &dyn Fn(&LineTally) -> f64| {
        lines.iter().filter(|l| keep(l)).map(f).fold(f64::NEG_INFINITY, f64::max)
    };
    let spoken = |l: &LineTally| l.has_words && l.secs > 0.0;
    let speaking = |l: &LineTally| spoken(l) || l.own_s >= MIN_OWN_SPEECH_S;
    lines.iter().any(speaking).then(|| LineEvidence {
        snr_db: lines.iter().any(spoken).then(|| -worst(&spoken, &|l| -l.snr_s / l.secs)),
        word_confidence: mean_word_confidence(words),
        background_share: worst(&speaking, &|l| {
            if l.pause_s > 0.0 { l.background_s / l.pause_s } else { 0.0 }
        })
        .max(0.0),
        unworded_share: worst(&speaking, &|l| if l.own_s > 0.0 { l.unworded_s / l.own_s } else { 0.0 })
            .max(0.0),
    })
}

/// A mono call's attribution with its line's evidence ([`mono_line`]) and
/// the confidence lowered to the line's ([`line_confidence`]) when that is
/// lower: voices told apart well on a line whose words whisper missed still
/// give talk times and turns that cannot be trusted.
///
/// On a mix with voices in nearly all of its pauses (a share of at least
/// [`BACKGROUND_HIGH`]) the overlapped speech found is dropped: the overlap
/// model hears a background voice under a speaker as two speakers at once.
/// On the degraded dev set's babble at SNR 10 dB that was 78 overlaps where
/// there were none against 14 real ones over two draws (12 calls), a
/// false alarm of 5.5-6.2 % of the speech time; under every other condition
/// the share of pauses with a voice stayed under 0.83.
pub fn with_mono_line(mut attribution: Attribution, line: Option<LineEvidence>) -> Attribution {
    if let Some(l) = &line {
        let confidence = attribution.confidence.min(line_confidence(l));
        attribution.confidence = confidence;
        attribution.low_confidence = confidence < Attribution::THRESHOLD;
        if l.background_share >= BACKGROUND_HIGH {
            attribution.overlaps.clear();
        }
    }
    attribution.line = line;
    attribution
}

/// The evidence of a mono call's one line, judged as a stereo line is
/// ([`StereoCall`]): `speech.own` is what was transcribed (both parties),
/// `speech.heard` every frame the voice detector heard a voice in. The
/// pauses are where neither party speaks, so a voice heard there is one in
/// the background, as on a stereo line. None for a call with no speech and
/// no words.
pub fn mono_line(samples: &[f32], rate: u32, words: &[Word], speech: LineSpeech<'_>) -> Option<LineEvidence> {
    let (pause_s, [background_s]) = pauses([speech]);
    let mut line = LineTally::default();
    line.add(samples, rate, words, speech.own, pause_s, background_s);
    evidence(&[line], words)
}

/// Speech without words ([`LineEvidence::unworded_share`]) from which trust
/// starts to fall ...
pub const UNWORDED_LOW: f64 = 0.05;
/// ... and where it is gone. On the degraded dev set (docs/asr.md,
/// "Confidence that tells the truth") no call within its KPI tolerances had
/// more than 0.09, and every call with more than 0.10 was out of tolerance.
pub const UNWORDED_HIGH: f64 = 0.15;
/// Mean word confidence (whisper's token probability) where trust starts ...
pub const WORD_CONFIDENCE_LOW: f64 = 0.45;
/// ... and where it is full.
pub const WORD_CONFIDENCE_HIGH: f64 = 0.75;
/// Line SNR (dB, [`callscope_audio::snr_db`], the worse channel that has
/// words) where trust starts ...
pub const STEREO_SNR_LOW_DB: f64 = 0.0;
/// ... and from where the line's noise alone is no reason to doubt.
pub const STEREO_SNR_HIGH_DB: f64 = 10.0;
/// Voices in the background ([`LineEvidence::background_share`]) from which
/// confidence falls ...
pub const BACKGROUND_LOW: f64 = 0.6;
/// ... to [`BACKGROUND_CAP`] here: voices in nearly every pause
/// ([`callscope_audio::VOICES_IN_EVERY_PAUSE`]); from here, too, a mono mix's
/// overlapped speech is not believed ([`with_mono_line`]).
pub const BACKGROUND_HIGH: f64 = callscope_audio::VOICES_IN_EVERY_PAUSE;
/// The most that voices in the background alone take away: the call stays
/// over the flag's threshold. A third of such calls were out of tolerance
/// on the degraded dev set (babble at SNR 10-20 dB); flagging them all would
/// leave a seller who works in a noisy room without any figures.
pub const BACKGROUND_CAP: f64 = 0.6;

/// The mean confidence of the words that have one (1 when none has).
pub fn mean_word_confidence(words: &[Word]) -> f64 {
    let c: Vec<f64> = words.iter().filter_map(|w| w.confidence).map(f64::from).collect();
    if c.is_empty() { 1.0 } else { c.iter().sum::<f64>() / c.len() as f64 }
}

/// How far a call's KPIs can be trusted for what its line did to the words:
/// a stereo call's channel split itself is certain (a mono call's voices
/// are judged by the diarizer besides), but on a bad line whisper misses
/// and invents words and the word edges drift, so the talk times and
/// switches do too. The least of four
/// ramps, each 0.5 where the call is flagged ([`Attribution::THRESHOLD`]):
/// speech left without words (0.10 of the line's speech), whisper's own
/// confidence in the words (0.60), the line's SNR (5 dB), and voices in the
/// background, which lower the confidence to [`BACKGROUND_CAP`] at most.
/// Calibrated on the degraded dev set's stereo calls (docs/asr.md) and
/// applied unchanged to mono mixes (docs/diarization.md).
pub fn line_confidence(line: &LineEvidence) -> f64 {
    let ramp = |x: f64, lo: f64, hi: f64| ((x - lo) / (hi - lo)).clamp(0.0, 1.0);
    let background =
        1.0 - (1.0 - BACKGROUND_CAP) * ramp(line.background_share, BACKGROUND_LOW, BACKGROUND_HIGH);
    [
        1.0 - ramp(line.unworded_share, UNWORDED_LOW, UNWORDED_HIGH),
        ramp(line.word_confidence, WORD_CONFIDENCE_LOW, WORD_CONFIDENCE_HIGH),
        line.snr_db.map_or(1.0, |snr| ramp(snr, STEREO_SNR_LOW_DB, STEREO_SNR_HIGH_DB)),
        background,
    ]
    .into_iter()
    .fold(1.0, f64::min)
}

/// A mono call's words as one speaker of role `other` (no diarizer): the
/// attribution (`single-speaker`, confidence 0) flags the call.
pub fn single_speaker(words: &[Word]) -> (Transcript, Attribution) {
    let mut t = Transcript::default();
    t.speakers.insert("spk_0".into(), Role::Other);
    t.words = words.iter().map(|w| w.said_by("spk_0")).collect();
    (t, Attribution::new("single-speaker", 0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(text: &str, start: f64, end: f64) -> Word {
        Word::unattributed(text, start, end, None)
    }

    #[test]
    fn merges_by_time_and_drops_quieter_copies() {
        let rate = 100;
        // Seller loud 0–2 s (their words); customer loud 2–4 s.
        let seller_audio: Vec<f32> = (0..400).map(|i| if i < 200 { 0.5 } else { 0.01 }).collect();
        let customer_audio: Vec<f32> = (0..400).map(|i| if i < 200 { 0.02 } else { 0.5 }).collect();
        let seller_words = [w("Hello,", 0.1, 0.5), w("there", 0.6, 1.0), w("Sure.", 2.1, 2.5)]; // "Sure." is bleed
        let customer_words = [w("hello", 0.12, 0.5), w("Sure", 2.1, 2.45), w("thing", 2.5, 2.9)]; // "hello" is bleed
        let (t, dropped) = attribute_by_channel(
            Channel {
                label: "seller",
                role: Role::Seller,
                words: &seller_words,
                samples: &seller_audio,
                rate,
            },
            Channel {
                label: "customer",
                role: Role::Customer,
                words: &customer_words,
                samples: &customer_audio,
                rate,
            },
        );
        assert_eq!(dropped, 2);
        let got: Vec<(&str, &str)> = t.words.iter().map(|x| (x.text.as_str(), x.speaker.as_str())).collect();
        assert_eq!(
            got,
            [("Hello,", "seller"), ("there", "seller"), ("Sure", "customer"), ("thing", "customer")]
        );
        t.validate().expect("a valid transcript");
    }

    #[test]
    fn speech_far_from_every_word_counts_as_unworded() {
        // Speech 0-3 s and 5-6 s (10 ms frames); words cover 0-2.8 s only.
        let frames = SpeechFrames {
            frame_s: 0.01,
            speech: (0..700).map(|i| i < 300 || (500..600).contains(&i)).collect(),
        };
        let words = [w("so", 0.0, 1.0), w("the", 1.2, 2.8)];
        assert!((unworded_s(&frames, &words) - 1.0).abs() < 1e-9, "{}", unworded_s(&frames, &words));
        assert!((unworded_s(&frames, &[]) - 4.0).abs() < 1e-9);
        assert!((voiced_s(&frames) - 4.0).abs() < 1e-9);
    }

    #[test]
    fn a_stereo_call_reports_the_worse_line() {
        let quiet = vec![0.0f32; 700];
        let attribute = |words: [&[Word]; 2], speech| {
            attribute_stereo(words, [&quiet, &quiet], 100, SellerChannel::Left, speech)
        };
        let frames =
            |on: &dyn Fn(usize) -> bool| SpeechFrames { frame_s: 0.01, speech: (0..700).map(on).collect() };
        // 7 s. The seller speaks 0-3 s, all of it with words; the customer
        // 4-5 s, with a word at its start only. On the customer's line the
        // voice detector hears a voice all the time (voices in the
        // background): also in the pauses, 3-4 s and 5-7 s.
        let (seller_own, customer_own) = (frames(&|i| i < 300), frames(&|i| (400..500).contains(&i)));
        let everything = SpeechFrames { frame_s: 0.032, speech: vec![true; 219] };
        let words: [&[Word]; 2] = [&[w("hello", 0.0, 1.0), w("there", 1.2, 2.8)], &[w("hi", 4.0, 4.2)]];
        let seller = LineSpeech { own: &seller_own, heard: &seller_own };
        let (t, a, _) = attribute(words, [seller, LineSpeech { own: &customer_own, heard: &everything }]);
        assert_eq!(t.words.len(), 3);
        let line = a.line.expect("a stereo call reports its lines");
        assert!((line.background_share - 1.0).abs() < 1e-9, "{line:?}");
        // The customer's 1 s of speech: 4.0-4.7 s is within reach of "hi".
        assert!((line.unworded_share - 0.3).abs() < 0.011, "{line:?}");
        // Heard only where it speaks: no voices in the background.
        let (_, a, _) = attribute(words, [seller, LineSpeech { own: &customer_own, heard: &customer_own }]);
        assert_eq!(a.line.map(|l| l.background_share), Some(0.0));
        // Neither words nor speech (silence, a dead line): nothing to judge,
        // and nothing to doubt.
        let silent = frames(&|_| false);
        let none = LineSpeech { own: &silent, heard: &silent };
        let (_, a, _) = attribute([&[], &[]], [none, none]);
        assert_eq!((a.line, a.low_confidence), (None, false));
        // 3 s of speech that whisper gave no word: the worst a line can be.
        let (_, a, _) = attribute([&[], &[]], [seller, none]);
        let line = a.line.expect("speech is judged, words or not");
        assert_eq!((line.unworded_share, line.snr_db, a.low_confidence), (1.0, None, true), "{a:?}");
    }

    #[test]
    fn a_mono_mix_is_judged_as_one_line() {
        let quiet = vec![0.0f32; 700];
        let frames =
            |on: &dyn Fn(usize) -> bool| SpeechFrames { frame_s: 0.01, speech: (0..700).map(on).collect() };
        // 7 s: both parties speak 0-3 s and 4-5 s; words cover 0-3 s and
        // the start of 4-5 s. The detector hears a voice in the pause 5-6 s.
        let speech = frames(&|i| i < 300 || (400..500).contains(&i));
        let heard = frames(&|i| i < 300 || (400..600).contains(&i));
        let words = [w("hello", 0.0, 1.0), w("there", 1.2, 2.8), w("hi", 4.0, 4.2)];
        let line =
            mono_line(&quiet, 100, &words, LineSpeech { own: &speech, heard: &heard }).expect("speech");
        // 0.3 s of the 4 s of speech is out of reach of a word.
        assert!((line.unworded_share - 0.3 / 4.0).abs() < 0.003, "{line:?}");
        // 1 s of the 3 s of pauses holds a voice.
        assert!((line.background_share - 1.0 / 3.0).abs() < 0.003, "{line:?}");
        // Silence: nothing to judge. Speech and no word: the worst.
        let silent = frames(&|_| false);
        assert_eq!(mono_line(&quiet, 100, &[], LineSpeech { own: &silent, heard: &silent }), None);
        let line = mono_line(&quiet, 100, &[], LineSpeech { own: &speech, heard: &speech });
        assert_eq!(line.map(|l| (l.unworded_share, l.snr_db)), Some((1.0, None)));
        // Voices told apart (0.9), but speech without words: flagged, and
        // the evidence goes with it. A clean line leaves the voices' figure.
        let a = with_mono_line(Attribution::new("mono-heuristics", 0.9), line);
        assert_eq!((a.confidence, a.low_confidence, a.line), (0.0, true, line));
        let clean = LineEvidence {
            snr_db: Some(40.0),
            word_confidence: 0.9,
            background_share: 0.1,
            unworded_share: 0.0,
        };
        let a = with_mono_line(Attribution::new("mono-heuristics", 0.9), Some(clean));
        assert_eq!((a.confidence, a.low_confidence), (0.9, false));
        let a = with_mono_line(Attribution::new("mono-heuristics", 0.3), Some(clean));
        assert_eq!((a.confidence, a.low_confidence), (0.3, true));
    }

    #[test]
    fn overlaps_are_not_believed_on_a_mix_with_voices_in_every_pause() {
        let found = Attribution {
            overlaps: vec![callscope_model::TimeSpan { start: 1.0, end: 1.5 }],
            ..Attribution::new("mono-heuristics", 0.9)
        };
        let line = |background_share| LineEvidence {
            snr_db: Some(15.0),
            word_confidence: 0.8,
            background_share,
            unworded_share: 0.0,
        };
        assert_eq!(with_mono_line(found.clone(), Some(line(0.8))).overlaps, found.overlaps);
        assert!(with_mono_line(found.clone(), Some(line(0.95))).overlaps.is_empty());
        assert_eq!(with_mono_line(found.clone(), None).overlaps, found.overlaps);
    }

    #[test]
    fn a_line_is_doubted_for_speech_without_words_not_for_background_voices_alone() {
        let clean = LineEvidence {
            snr_db: Some(60.0),
            word_confidence: 0.9,
            background_share: 0.2,
            unworded_share: 0.0,
        };
        let flagged = |l: LineEvidence| line_confidence(&l) < Attribution::THRESHOLD;
        assert_eq!(line_confidence(&clean), 1.0);
        // Whisper left an eighth of a line's speech without words.
        assert!(flagged(LineEvidence { unworded_share: 0.12, ..clean }));
        assert!(!flagged(LineEvidence { unworded_share: 0.08, ..clean }));
        // Whisper unsure of its words; a line under 5 dB SNR.
        assert!(flagged(LineEvidence { word_confidence: 0.55, ..clean }));
        assert!(flagged(LineEvidence { snr_db: Some(3.0), ..clean }));
        assert!(!flagged(LineEvidence { snr_db: Some(12.0), word_confidence: 0.77, ..clean }));
        // Voices in the background lower the confidence, never under the cap.
        let babble = LineEvidence { background_share: 1.0, ..clean };
        assert_eq!(line_confidence(&babble), BACKGROUND_CAP);
        assert!(!flagged(babble));
        assert!(flagged(LineEvidence { unworded_share: 0.11, ..babble }));
    }

    #[test]
    fn overlapping_different_words_are_both_kept() {
        let audio = vec![0.3f32; 300];
        let (t, dropped) = attribute_by_channel(
            Channel {
                label: "s",
                role: Role::Seller,
                words: &[w("price", 1.0, 1.4)],
                samples: &audio,
                rate: 100,
            },
            Channel {
                label: "c",
                role: Role::Customer,
                words: &[w("wait", 1.1, 1.3)],
                samples: &audio,
                rate: 100,
            },
        );
        assert_eq!((t.words.len(), dropped), (2, 0));
    }
}
