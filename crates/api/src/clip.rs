//! What a seller sees of a call shared with them only as clips: the clips,
//! not the call.
//!
//! A clip share is a moment of another seller's call ("listen to this
//! opening"). Whoever opens it through the share gets the words, lines,
//! mentions, questions and action items inside the clips only, and a
//! recording in which everything outside the clips is silent. The recording
//! keeps the call's timeline (a WAV as long as the call, silence outside the
//! clips), so the page's word times, seeking and markers need nothing
//! special; silence costs nothing to send until it is played, since the WAV's
//! bytes are computed for the range asked. A share of the whole call lifts
//! all of this.

use std::path::Path;
use std::sync::Arc;

use callscope_model::{CallSignals, Transcript};
use callscope_store::{CallDetail, Share};

/// Sample rate of the clip recording (16 kHz mono: what the analysis heard).
pub const RATE: u32 = callscope_audio::TARGET_RATE;

/// Seconds kept around a clip's ends, so its first and last words are whole.
pub const MARGIN_S: f64 = 0.25;

/// The clip spans `(start_s, end_s)` of `shares`, or `None` when one of them
/// shares the whole call, or there is none (the user's own call).
pub fn spans(shares: &[Share]) -> Option<Vec<(f64, f64)>> {
    if shares.is_empty() {
        return None;
    }
    shares.iter().map(|s| Some((s.share.start_s?, s.share.end_s?))).collect()
}

fn inside(spans: &[(f64, f64)], start: f64, end: f64) -> bool {
    spans.iter().any(|&(s, e)| start >= s - MARGIN_S && end <= e + MARGIN_S)
}

fn overlaps(spans: &[(f64, f64)], start: f64, end: f64) -> bool {
    spans.iter().any(|&(s, e)| start < e + MARGIN_S && end > s - MARGIN_S)
}

/// Keeps of `call` what lies inside the clips: words, mentions, questions and
/// action items within a clip, the sentiment timeline's lines that overlap
/// one; the call's customer keywords go (they count words of the whole call).
/// The call's summary figures (KPIs, overall sentiment) stay.
pub fn restrict(call: &mut CallDetail, spans: &[(f64, f64)]) {
    restrict_parts(&mut call.transcript, &mut call.signals, spans);
}

fn restrict_parts(transcript: &mut Transcript, signals: &mut CallSignals, spans: &[(f64, f64)]) {
    transcript.words.retain(|w| inside(spans, w.start, w.end));
    signals.mentions.retain(|m| inside(spans, m.start, m.end));
    signals.questions.retain(|q| inside(spans, q.start, q.end));
    signals.action_items.retain(|a| inside(spans, a.start, a.end));
    signals.sentiment.timeline.retain(|p| overlaps(spans, p.start, p.end));
    signals.customer_keywords.clear();
}

/// A WAV of the call's length, 16 kHz mono 16-bit, silent outside the clips.
#[derive(Debug, Clone)]
pub struct MaskedWav {
    frames: u64,
    /// Each clip's first frame and its samples.
    clips: Vec<(u64, Vec<i16>)>,
}

const HEADER: u64 = 44;

impl MaskedWav {
    /// Decodes the clips of the recording at `path` (the channels mixed; the
    /// file is read up to the last clip's end only). `duration_s` is the
    /// call's length.
    pub fn from_file(path: &Path, spans: &[(f64, f64)], duration_s: f64) -> Result<Self, String> {
        let frame = |t: f64| (t.max(0.0) * f64::from(RATE)).round() as u64;
        let frames = frame(duration_s);
        let wanted: Vec<(u64, u64)> = spans
            .iter()
            .map(|&(s, e)| (frame(s - MARGIN_S), frame(e + MARGIN_S).min(frames)))
            .filter(|(s, e)| s < e)
            .collect();
        let last = wanted.iter().map(|w| w.1).max().unwrap_or(0);
        let mut stream =
            callscope_audio::AudioStream::open_file(path, callscope_audio::DecodeLimits::default())
                .map_err(|e| e.to_string())?;
        let mut clips: Vec<(u64, Vec<i16>)> = wanted.iter().map(|&(s, _)| (s, Vec::new())).collect();
        let mut at = 0u64;
        while at < last {
            let Some(block) = stream.read(RATE as usize).map_err(|e| e.to_string())? else { break };
            let n = block.first().map_or(0, Vec::len);
            let channels = block.len().max(1) as f32;
            for i in 0..n {
                let t = at + i as u64;
                for (clip, &(s, e)) in clips.iter_mut().zip(&wanted) {
                    if (s..e).contains(&t) {
                        let mixed = block.iter().map(|c| c[i]).sum::<f32>() / channels;
                        clip.1.push((mixed.clamp(-1.0, 1.0) * f32::from(i16::MAX)) as i16);
                    }
                }
            }
            at += n as u64;
            if n == 0 {
                break;
            }
        }
        Ok(Self { frames, clips })
    }

    /// Its length in bytes.
    pub fn len(&self) -> u64 {
        HEADER + self.frames * 2
    }

    /// Whether it holds no samples.
    pub fn is_empty(&self) -> bool {
        self.frames == 0
    }

    fn header(&self) -> [u8; HEADER as usize] {
        let data = u32::try_from(self.frames * 2).unwrap_or(u32::MAX);
        let mut h = [0u8; HEADER as usize];
        h[0..4].copy_from_slice(b"RIFF");
        h[4..8].copy_from_slice(&data.saturating_add(36).to_le_bytes());
        h[8..16].copy_from_slice(b"WAVEfmt ");
        h[16..20].copy_from_slice(&16u32.to_le_bytes());
        h[20..22].copy_from_slice(&1u16.to_le_bytes()); // PCM
        h[22..24].copy_from_slice(&1u16.to_le_bytes()); // mono
        h[24..28].copy_from_slice(&RATE.to_le_bytes());
        h[28..32].copy_from_slice(&(RATE * 2).to_le_bytes());
        h[32..34].copy_from_slice(&2u16.to_le_bytes());
        h[34..36].copy_from_slice(&16u16.to_le_bytes());
        h[36..40].copy_from_slice(b"data");
        h[40..44].copy_from_slice(&data.to_le_bytes());
        h
    }

    fn sample(&self, frame: u64) -> i16 {
        self.clips
            .iter()
            .find_map(|(start, samples)| {
                frame.checked_sub(*start).and_then(|i| samples.get(usize::try_from(i).ok()?)).copied()
            })
            .unwrap_or(0)
    }

    /// Bytes `start..=end` of the file.
    pub fn bytes(&self, start: u64, end: u64) -> Vec<u8> {
        let header = self.header();
        let end = end.min(self.len().saturating_sub(1));
        (start..=end)
            .map(|offset| {
                if offset < HEADER {
                    header[offset as usize]
                } else {
                    let frame = (offset - HEADER) / 2;
                    self.sample(frame).to_le_bytes()[((offset - HEADER) % 2) as usize]
                }
            })
            .collect()
    }
}

/// Clip recordings decoded lately: a player asks for a recording in several
/// ranges, and each would otherwise decode the file again up to the clip's
/// end. Keyed by the file (path, size, modification time), the spans and the
/// call's length; at most [`CACHE_ENTRIES`], each kept [`CACHE_TTL`].
type CacheKey = (std::path::PathBuf, u64, Option<std::time::SystemTime>, Vec<(u64, u64)>, u64);

/// Clip recordings kept.
pub const CACHE_ENTRIES: usize = 16;

/// How long one is kept.
pub const CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(600);

#[allow(clippy::type_complexity)]
static CACHE: std::sync::Mutex<Vec<(CacheKey, Arc<MaskedWav>, std::time::Instant)>> =
    std::sync::Mutex::new(Vec::new());

/// [`MaskedWav::from_file`], through a small cache of recent ones.
pub fn masked(path: &Path, spans: &[(f64, f64)], duration_s: f64) -> Result<Arc<MaskedWav>, String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    let key: CacheKey = (
        path.to_owned(),
        meta.len(),
        meta.modified().ok(),
        spans.iter().map(|(s, e)| (s.to_bits(), e.to_bits())).collect(),
        duration_s.to_bits(),
    );
    let now = std::time::Instant::now();
    {
        let mut cache = CACHE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        cache.retain(|(_, _, at)| now.duration_since(*at) < CACHE_TTL);
        if let Some((_, wav, _)) = cache.iter().find(|(k, _, _)| *k == key) {
            return Ok(Arc::clone(wav));
        }
    }
    let wav = Arc::new(MaskedWav::from_file(path, spans, duration_s)?);
    let mut cache = CACHE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if cache.len() >= CACHE_ENTRIES {
        cache.remove(0);
    }
    cache.push((key, Arc::clone(&wav), now));
    Ok(wav)
}

/// Bytes `start..=end` of `wav` as a stream of chunks, computed as they are sent.
pub fn stream(
    wav: Arc<MaskedWav>,
    start: u64,
    end: u64,
    chunk: u64,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::convert::Infallible>> {
    let chunk = chunk.max(1);
    let offsets = (start..=end).step_by(usize::try_from(chunk).unwrap_or(usize::MAX));
    futures_util::stream::iter(offsets.map(move |from| Ok(wav.bytes(from, (from + chunk - 1).min(end)))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use callscope_model::{
        CallSentiment, KeywordCount, Question, Role, SentimentLabel, SentimentPoint, SentimentShares, Word,
    };
    use callscope_store::NewShare;
    use chrono::Utc;

    fn share(start_s: Option<f64>, end_s: Option<f64>) -> Share {
        Share {
            share_id: "sh-1".into(),
            created_at: Utc::now(),
            share: NewShare {
                call_id: "c".into(),
                seller_id: "s".into(),
                start_s,
                end_s,
                note: String::new(),
                created_by: "m".into(),
                recipients: vec!["team:t".into()],
                collection: String::new(),
            },
        }
    }

    #[test]
    fn a_whole_call_share_lifts_the_clip_limits() {
        assert_eq!(spans(&[share(Some(1.0), Some(2.0))]), Some(vec![(1.0, 2.0)]));
        assert_eq!(spans(&[share(Some(1.0), Some(2.0)), share(None, None)]), None);
        assert_eq!(spans(&[]), None, "not shared: the user's own call");
    }

    #[test]
    fn only_what_lies_in_the_clips_stays() {
        let mut transcript = Transcript::default();
        transcript.speakers.insert("A".into(), Role::Seller);
        transcript.words = [(0.5, 0.9), (2.0, 2.4), (2.5, 3.0), (6.0, 6.5)]
            .iter()
            .map(|&(s, e)| Word { speaker: "A".into(), ..Word::unattributed("w", s, e, None) })
            .collect();
        let point = |start: f64, end: f64| SentimentPoint {
            turn: 0,
            role: Role::Seller,
            start,
            end,
            label: SentimentLabel::Neutral,
            score: 0.0,
        };
        let question = |start: f64| Question {
            role: Role::Customer,
            speaker: "B".into(),
            text: "why?".into(),
            start,
            end: start + 0.5,
        };
        let mut signals = CallSignals {
            mentions: Vec::new(),
            customer_keywords: vec![KeywordCount { phrase: "secret plan".into(), count: 2 }],
            sentiment: CallSentiment {
                customer: None,
                customer_shares: SentimentShares::default(),
                timeline: vec![point(0.0, 1.9), point(1.5, 3.5), point(5.0, 7.0)],
            },
            questions: vec![question(1.0), question(2.2), question(8.0)],
            action_items: Vec::new(),
        };
        restrict_parts(&mut transcript, &mut signals, &[(2.0, 3.0)]);
        let kept: Vec<f64> = transcript.words.iter().map(|w| w.start).collect();
        assert_eq!(kept, [2.0, 2.5]);
        assert_eq!(signals.questions.iter().map(|q| q.start).collect::<Vec<_>>(), [2.2]);
        let lines: Vec<f64> = signals.sentiment.timeline.iter().map(|p| p.start).collect();
        assert_eq!(lines, [0.0, 1.5], "lines that overlap the clip (with its margin)");
        assert!(signals.customer_keywords.is_empty(), "the whole call's keywords go");
    }

    #[test]
    fn the_wav_is_silent_outside_the_clips() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("call.wav");
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: RATE,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(&path, spec).expect("wav");
        for _ in 0..RATE * 4 {
            w.write_sample(8000i16).expect("sample");
        }
        w.finalize().expect("finalize");
        let wav = MaskedWav::from_file(&path, &[(1.0, 2.0)], 4.0).expect("masked");
        assert_eq!(wav.len(), 44 + u64::from(RATE) * 4 * 2);
        let all = wav.bytes(0, wav.len() - 1);
        let mut reader = hound::WavReader::new(std::io::Cursor::new(all.clone())).expect("a valid WAV");
        let samples: Vec<i16> = reader.samples::<i16>().map(|s| s.expect("sample")).collect();
        let at = |t: f64| samples[(t * f64::from(RATE)) as usize];
        assert_eq!((at(0.5), at(2.5), at(3.9)), (0, 0, 0), "silent outside");
        assert!((i32::from(at(1.5)) - 8000).abs() < 50, "the clip plays: {}", at(1.5));
        // Any range of bytes is the same as those of the whole file.
        assert_eq!(wav.bytes(30_000, 40_000), all[30_000..=40_000]);
        let streamed: Vec<u8> =
            futures_executor_block_on(stream(Arc::new(wav.clone()), 10, 70_000, 4096)).concat();
        assert_eq!(streamed, all[10..=70_000]);
    }

    fn futures_executor_block_on(
        s: impl futures_util::Stream<Item = Result<Vec<u8>, std::convert::Infallible>>,
    ) -> Vec<Vec<u8>> {
        use futures_util::StreamExt;
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(s.map(|c| c.expect("chunk")).collect::<Vec<_>>())
    }
}
