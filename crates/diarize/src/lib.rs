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

use callscope_model::{Attribution, Role, SellerChannel, Transcript, Word};

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
/// attribution (`channel`, with the [`stereo_confidence`] of the line) and
/// the words dropped as bleed. [`StereoCall`] does the same a window at a
/// time.
pub fn attribute_stereo(
    words: [&[Word]; 2],
    samples: [&[f32]; 2],
    rate: u32,
    seller: SellerChannel,
) -> (Transcript, Attribution, usize) {
    let mut call = StereoCall::new(seller);
    call.push(words, samples, rate, 0.0);
    call.finish()
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
    /// Per channel: (sum of SNR × seconds, seconds) over the windows, and
    /// whether the channel has any word.
    snr: [(f64, f64, bool); 2],
}

impl StereoCall {
    /// An empty call whose seller is on channel `seller`.
    pub fn new(seller: SellerChannel) -> Self {
        let mut transcript = Transcript::default();
        transcript.speakers.insert("seller".into(), Role::Seller);
        transcript.speakers.insert("customer".into(), Role::Customer);
        StereoCall { seller, transcript, dropped: 0, snr: [(0.0, 0.0, false); 2] }
    }

    /// Adds one window: each channel's words and samples, on the window's
    /// own timeline, which starts `offset_s` into the call.
    pub fn push(&mut self, words: [&[Word]; 2], samples: [&[f32]; 2], rate: u32, offset_s: f64) {
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
        for (i, snr) in self.snr.iter_mut().enumerate() {
            let secs = samples[i].len() as f64 / f64::from(rate.max(1));
            snr.0 += callscope_audio::snr_db(samples[i], rate) * secs;
            snr.1 += secs;
            snr.2 |= !words[i].is_empty();
        }
    }

    /// The transcript, its attribution and the words dropped as bleed.
    pub fn finish(mut self) -> (Transcript, Attribution, usize) {
        let snr = self
            .snr
            .iter()
            .filter(|(_, secs, has_words)| *has_words && *secs > 0.0)
            .map(|(sum, secs, _)| sum / secs)
            .fold(f64::INFINITY, f64::min);
        let confidence = stereo_confidence(snr, mean_word_confidence(&self.transcript.words));
        // Windows arrive in order and each is sorted; a stable sort keeps
        // equal times in the order the channels gave them.
        self.transcript.words.sort_by(|x, y| x.start.total_cmp(&y.start).then(x.end.total_cmp(&y.end)));
        (self.transcript, Attribution::new("channel", confidence), self.dropped)
    }
}

/// Below this line SNR (dB, [`callscope_audio::snr_db`], the worse channel
/// that has words) a stereo call's words and their edges are unreliable ...
pub const STEREO_SNR_LOW_DB: f64 = 15.0;
/// ... and from this one up they are as good as on a clean line.
pub const STEREO_SNR_HIGH_DB: f64 = 30.0;
/// Mean word confidence (whisper's token probability) where trust starts ...
pub const WORD_CONFIDENCE_LOW: f64 = 0.5;
/// ... and where it is full.
pub const WORD_CONFIDENCE_HIGH: f64 = 0.8;

/// The mean confidence of the words that have one (1 when none has).
pub fn mean_word_confidence(words: &[Word]) -> f64 {
    let c: Vec<f64> = words.iter().filter_map(|w| w.confidence).map(f64::from).collect();
    if c.is_empty() { 1.0 } else { c.iter().sum::<f64>() / c.len() as f64 }
}

/// How far a stereo call's KPIs can be trusted: the channel split itself is
/// certain, but on a noisy line whisper misses and invents words and the
/// word edges drift, so the talk times and switches do too. The mean of two
/// ramps: the line's SNR and whisper's own confidence in the words.
/// Calibrated on the degraded dev set (docs/asr.md).
pub fn stereo_confidence(snr_db: f64, word_confidence: f64) -> f64 {
    let ramp = |x: f64, lo: f64, hi: f64| ((x - lo) / (hi - lo)).clamp(0.0, 1.0);
    if !snr_db.is_finite() {
        return 1.0; // no words on either channel: nothing to doubt
    }
    0.5 * (ramp(snr_db, STEREO_SNR_LOW_DB, STEREO_SNR_HIGH_DB)
        + ramp(word_confidence, WORD_CONFIDENCE_LOW, WORD_CONFIDENCE_HIGH))
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
