//! Voice activity detection: where in a channel someone speaks.
//!
//! An energy detector with an adaptive floor, built for call recordings: per
//! 30 ms frame, the level in dBFS is compared with the channel's noise floor
//! (its 10th-percentile frame level, so it adapts to line noise) and an absolute
//! floor; speech must stand `margin_db` above both. Short blips are dropped,
//! short pauses bridged, and every segment padded so that word onsets and
//! endings are not clipped. An idle channel of a dual-channel call (digital
//! silence or faint crosstalk) yields nothing, which is the point: whisper
//! invents words when it is fed silence.

/// A stretch of speech, seconds from the start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment {
    /// Start, seconds.
    pub start: f64,
    /// End, seconds.
    pub end: f64,
}

/// Tuning of [`speech_segments`]; the defaults suit 16 kHz telephony and meetings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VadSettings {
    /// Frame length, seconds.
    pub frame_s: f64,
    /// Speech must be this many dB above the noise floor.
    pub margin_db: f64,
    /// Frames below this level are never speech, dBFS.
    pub absolute_floor_dbfs: f64,
    /// Frames more than this many dB below the channel's loud speech (its
    /// 95th-percentile frame level) are not speech; infinite turns it off.
    pub dynamic_range_db: f64,
    /// The loud speech of [`VadSettings::dynamic_range_db`] is the loudest
    /// frame within this many seconds of each frame, where that is quieter
    /// than the channel's loud speech (infinite: the channel's alone). In a
    /// mono mix of two parties recorded at different levels, the quiet one's
    /// soft syllables are then measured against their own voice, not the
    /// loud party's.
    pub local_loud_s: f64,
    /// The noise-floor rule never asks for more than the loud speech minus this
    /// many dB: in a recording with few pauses the 10th-percentile frame is
    /// quiet speech, not noise. Infinite turns the cap off.
    pub headroom_db: f64,
    /// ... but the cap never brings the threshold closer than this many dB to
    /// the noise floor (minus infinity: no such limit): in a noisy channel the 10th-percentile frame is the
    /// noise, and loud speech minus the headroom can be in it (at 20 dB SNR
    /// the whole noise was "speech", and word spans ran over every pause).
    pub headroom_floor_margin_db: f64,
    /// Shortest speech kept, seconds.
    pub min_speech_s: f64,
    /// Pauses shorter than this are bridged, seconds.
    pub min_silence_s: f64,
    /// Padding added on both sides, seconds.
    pub pad_s: f64,
}

impl Default for VadSettings {
    fn default() -> Self {
        VadSettings {
            frame_s: 0.03,
            margin_db: 12.0,
            absolute_floor_dbfs: -50.0,
            dynamic_range_db: f64::INFINITY,
            local_loud_s: f64::INFINITY,
            headroom_db: f64::INFINITY,
            headroom_floor_margin_db: f64::NEG_INFINITY,
            min_speech_s: 0.15,
            min_silence_s: 0.5,
            pad_s: 0.2,
        }
    }
}

/// The level of each `frame_s` frame of `samples` (at `rate` Hz) in dBFS,
/// and the frame length actually used (a whole number of samples).
pub fn levels_db(samples: &[f32], rate: u32, frame_s: f64) -> (f64, Vec<f64>) {
    let frame = ((f64::from(rate) * frame_s) as usize).max(1);
    let levels = samples
        .chunks(frame)
        .map(|c| {
            let energy = c.iter().map(|s| f64::from(*s) * f64::from(*s)).sum::<f64>() / c.len() as f64;
            10.0 * (energy + 1e-12).log10()
        })
        .collect();
    (frame as f64 / f64::from(rate), levels)
}

/// Lowest frequency of the voice band the speech levels are measured in, Hz.
pub const VOICE_BAND_LOW_HZ: f64 = 250.0;

/// `samples` high-passed at [`VOICE_BAND_LOW_HZ`] (second-order
/// Butterworth), for level measurements: mains hum (50/60 Hz and its first
/// harmonics) and the rumble of brown noise carry energy where speech has
/// little that tells it from silence, and they raise a channel's level
/// evenly, pauses included, so thresholds over the noise floor cut quiet
/// syllables. A telephone line passes nothing below 300 Hz anyway.
pub fn voice_band(samples: &[f32], rate: u32) -> Vec<f32> {
    let w = 2.0 * std::f64::consts::PI * VOICE_BAND_LOW_HZ / f64::from(rate);
    let alpha = w.sin() / (2.0 * std::f64::consts::FRAC_1_SQRT_2);
    let cos = w.cos();
    let a0 = 1.0 + alpha;
    let (b0, b1, b2) = ((1.0 + cos) / 2.0 / a0, -(1.0 + cos) / a0, (1.0 + cos) / 2.0 / a0);
    let (a1, a2) = (-2.0 * cos / a0, (1.0 - alpha) / a0);
    let (mut x1, mut x2, mut y1, mut y2) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    samples
        .iter()
        .map(|&x| {
            let x = f64::from(x);
            let y = b0 * x + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;
            (x2, x1, y2, y1) = (x1, x, y1, y);
            y as f32
        })
        .collect()
}

/// A channel's signal-to-noise estimate, dB: its loud speech (the
/// 90th-percentile 20 ms frame) over its noise floor (the 10th-percentile
/// frame), at most 60 dB (digital silence between words). A channel with
/// hardly any pause has no floor to find and reads low; use it on channels
/// with pauses (a party of a stereo call).
pub fn snr_db(samples: &[f32], rate: u32) -> f64 {
    let (_, mut levels) = levels_db(samples, rate, 0.02);
    if levels.is_empty() {
        return 0.0;
    }
    levels.sort_by(f64::total_cmp);
    let (floor, loud) = (levels[levels.len() / 10], levels[levels.len() * 9 / 10]);
    (loud - floor).clamp(0.0, 60.0)
}

/// A line on which a neural VAD hears a voice in at least this share of the
/// pauses of its speech has people talking in the background (a call centre,
/// babble), not quiet or steady noise between the words. Measured on both
/// draws of the degraded dev set: 0.97-1.00 under babble at SNR 10 dB, at
/// most 0.82 under every other condition (docs/asr.md, "Word edges in a noisy
/// mono mix"; docs/diarization.md, "Since session 23"). Word edges and the
/// overlap model both stop trusting what they hear there.
pub const VOICES_IN_EVERY_PAUSE: f64 = 0.9;

/// Per-frame speech decisions of one channel, before bridging and padding.
#[derive(Debug, Clone, PartialEq)]
pub struct SpeechFrames {
    /// Frame length, seconds.
    pub frame_s: f64,
    /// Whether each frame stands above the channel's speech threshold.
    pub speech: Vec<bool>,
}

impl SpeechFrames {
    /// Measures the frames of one channel sampled at `rate` Hz, the way
    /// [`speech_segments`] does.
    pub fn measure(samples: &[f32], rate: u32, settings: &VadSettings) -> Self {
        let (frame_s, levels) = levels_db(samples, rate, settings.frame_s);
        if levels.is_empty() {
            return SpeechFrames { frame_s, speech: Vec::new() };
        }
        let mut sorted = levels.clone();
        sorted.sort_by(f64::total_cmp);
        let noise_floor = sorted[sorted.len() / 10];
        let loud = sorted[sorted.len() * 95 / 100];
        let floor_rule = noise_floor + settings.margin_db;
        let floor_rule = if settings.headroom_db.is_finite() {
            floor_rule.min((loud - settings.headroom_db).max(noise_floor + settings.headroom_floor_margin_db))
        } else {
            floor_rule
        };
        let threshold = floor_rule.max(settings.absolute_floor_dbfs);
        let speech = if settings.local_loud_s.is_finite() && settings.dynamic_range_db.is_finite() {
            let reach = (settings.local_loud_s / frame_s).round() as usize;
            sliding_max(&levels, reach)
                .iter()
                .zip(&levels)
                .map(|(near, l)| *l >= threshold.max(near.min(loud) - settings.dynamic_range_db))
                .collect()
        } else {
            let threshold = threshold.max(loud - settings.dynamic_range_db);
            levels.iter().map(|l| *l >= threshold).collect()
        };
        SpeechFrames { frame_s, speech }
    }

    fn is_speech(&self, frame: usize) -> bool {
        self.speech.get(frame).copied().unwrap_or(false)
    }

    /// The first speech frame's start in `start`..`end` (seconds), if any.
    pub fn onset(&self, start: f64, end: f64) -> Option<f64> {
        let f = self.frame_s;
        let (first, last) = ((start / f).floor().max(0.0) as usize, (end / f).ceil() as usize);
        (first..last).find(|&i| self.is_speech(i)).map(|i| (i as f64 * f).max(start))
    }

    /// The last speech frame's end in `start`..`end` (seconds), if any.
    pub fn offset(&self, start: f64, end: f64) -> Option<f64> {
        let f = self.frame_s;
        let (first, last) = ((start / f).floor().max(0.0) as usize, (end / f).ceil() as usize);
        (first..last).rev().find(|&i| self.is_speech(i)).map(|i| ((i + 1) as f64 * f).min(end))
    }
}

/// The largest of `values[i - reach..=i + reach]` for every `i` (within the
/// slice), in one pass: a queue of candidates, largest first.
fn sliding_max(values: &[f64], reach: usize) -> Vec<f64> {
    let mut queue = std::collections::VecDeque::<usize>::new();
    let mut out = Vec::with_capacity(values.len());
    let mut next = 0;
    for i in 0..values.len() {
        while next < values.len() && next <= i + reach {
            while queue.back().is_some_and(|&j| values[j] <= values[next]) {
                queue.pop_back();
            }
            queue.push_back(next);
            next += 1;
        }
        while queue.front().is_some_and(|&j| j + reach < i) {
            queue.pop_front();
        }
        out.push(values[queue[0]]);
    }
    out
}

/// Finds the speech in one channel sampled at `rate` Hz.
pub fn speech_segments(samples: &[f32], rate: u32, settings: &VadSettings) -> Vec<Segment> {
    let total = samples.len() as f64 / f64::from(rate);
    SpeechFrames::measure(samples, rate, settings).segments(settings, total)
}

impl SpeechFrames {
    /// Whether the frame holding time `t` (seconds) is speech.
    pub fn at(&self, t: f64) -> bool {
        t >= 0.0 && self.is_speech((t / self.frame_s) as usize)
    }

    /// The share of `speech`'s pauses (the frames it does not call speech)
    /// in which these frames hear a voice; 1 when `speech` has no pause (no
    /// pause, nothing to tell). Compare with [`VOICES_IN_EVERY_PAUSE`].
    pub fn heard_in_pauses_of(&self, speech: &SpeechFrames) -> f64 {
        let (mut pauses, mut voiced) = (0usize, 0usize);
        for (k, _) in speech.speech.iter().enumerate().filter(|(_, s)| !**s) {
            pauses += 1;
            voiced += usize::from(self.at((k as f64 + 0.5) * speech.frame_s));
        }
        if pauses == 0 { 1.0 } else { voiced as f64 / pauses as f64 }
    }

    /// These decisions on a grid of `frame_s` frames (each new frame takes the
    /// decision at its middle), `frames` long.
    pub fn resampled(&self, frame_s: f64, frames: usize) -> SpeechFrames {
        SpeechFrames { frame_s, speech: (0..frames).map(|i| self.at((i as f64 + 0.5) * frame_s)).collect() }
    }

    /// Frames that are speech here and in `other` (taken at this grid).
    pub fn and(&self, other: &SpeechFrames) -> SpeechFrames {
        let speech = self
            .speech
            .iter()
            .enumerate()
            .map(|(i, v)| *v && other.at((i as f64 + 0.5) * self.frame_s))
            .collect();
        SpeechFrames { frame_s: self.frame_s, speech }
    }

    /// Speech widened by `secs` on both sides of every speech stretch.
    pub fn dilated(&self, secs: f64) -> SpeechFrames {
        let k = (secs / self.frame_s).ceil() as usize;
        let n = self.speech.len();
        let mut speech = vec![false; n];
        for (i, _) in self.speech.iter().enumerate().filter(|(_, v)| **v) {
            speech[i.saturating_sub(k)..(i + k + 1).min(n)].fill(true);
        }
        SpeechFrames { frame_s: self.frame_s, speech }
    }

    /// Speech segments: stretches of speech frames with pauses shorter than
    /// `min_silence_s` bridged, blips shorter than `min_speech_s` dropped,
    /// each padded by `pad_s` (within `0..total_s`).
    pub fn segments(&self, settings: &VadSettings, total_s: f64) -> Vec<Segment> {
        let frame_s = self.frame_s;
        let mut raw: Vec<Segment> = Vec::new();
        for (i, speech) in self.speech.iter().enumerate() {
            if !*speech {
                continue;
            }
            let (start, end) = (i as f64 * frame_s, ((i + 1) as f64 * frame_s).min(total_s));
            match raw.last_mut() {
                Some(last) if start - last.end < settings.min_silence_s => last.end = end,
                _ => raw.push(Segment { start, end }),
            }
        }
        let mut out: Vec<Segment> = Vec::new();
        for s in raw.into_iter().filter(|s| s.end - s.start >= settings.min_speech_s) {
            let padded = Segment {
                start: (s.start - settings.pad_s).max(0.0),
                end: (s.end + settings.pad_s).min(total_s),
            };
            match out.last_mut() {
                Some(last) if padded.start <= last.end => last.end = padded.end,
                _ => out.push(padded),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heard_in_pauses_of_counts_what_silero_hears_where_the_speech_is_not() {
        let frames =
            |f: &dyn Fn(usize) -> bool| SpeechFrames { frame_s: 0.03, speech: (0..100).map(f).collect() };
        let speech = frames(&|i| i < 50);
        // A voice in a fifth of the pauses (noise: the soft ends of words)...
        assert!((frames(&|i| i < 60).heard_in_pauses_of(&speech) - 0.2).abs() < 1e-9);
        // ... or in all of them (voices in the background).
        assert_eq!(frames(&|_| true).heard_in_pauses_of(&speech), 1.0);
        assert_eq!(
            frames(&|_| false).heard_in_pauses_of(&frames(&|_| true)),
            1.0,
            "no pause: nothing to tell"
        );
    }

    fn tone(secs: f64, amp: f32) -> Vec<f32> {
        (0..(16_000.0 * secs) as usize).map(|i| amp * (i as f32 * 0.2).sin()).collect()
    }

    #[test]
    fn the_voice_band_drops_hum_and_keeps_speech_frequencies() {
        let power = |x: &[f32]| {
            x[4_000..].iter().map(|s| f64::from(*s).powi(2)).sum::<f64>() / (x.len() - 4_000) as f64
        };
        let sine = |hz: f32| {
            (0..16_000)
                .map(|i| (i as f32 * hz * std::f32::consts::TAU / 16_000.0).sin())
                .collect::<Vec<f32>>()
        };
        let hum = sine(50.0);
        let voice = sine(1_000.0);
        assert!(power(&voice_band(&hum, 16_000)) < power(&hum) / 500.0, "50 Hz is 27 dB down or more");
        let kept = power(&voice_band(&voice, 16_000)) / power(&voice);
        assert!((kept - 1.0).abs() < 0.05, "1 kHz passes: {kept}");
    }

    #[test]
    fn sliding_max_takes_the_largest_within_reach() {
        let v = [1.0, 5.0, 2.0, 0.0, 0.0, 3.0, 0.0];
        assert_eq!(sliding_max(&v, 1), vec![5.0, 5.0, 5.0, 2.0, 3.0, 3.0, 3.0]);
        assert_eq!(sliding_max(&v, 0), v.to_vec());
        assert_eq!(sliding_max(&v, 10), vec![5.0; 7]);
        assert!(sliding_max(&[], 3).is_empty());
    }

    #[test]
    fn a_quiet_voice_is_measured_against_itself_with_a_local_reference() {
        // A loud voice, a long pause, then a voice 30 dB quieter whose soft
        // part is 20 dB under it: 50 dB under the loud voice.
        let mut s = tone(2.0, 0.5);
        s.extend(vec![0.0; 48_000]);
        s.extend(tone(1.0, 0.016));
        s.extend(tone(0.3, 0.0016));
        s.extend(vec![0.0; 16_000]);
        let global = VadSettings { dynamic_range_db: 40.0, absolute_floor_dbfs: -90.0, ..Default::default() };
        let soft = |frames: &SpeechFrames| frames.at(6.1);
        assert!(!soft(&SpeechFrames::measure(&s, 16_000, &global)), "50 dB under the loud voice: cut");
        let local = VadSettings { local_loud_s: 1.0, ..global };
        let frames = SpeechFrames::measure(&s, 16_000, &local);
        assert!(soft(&frames), "20 dB under its own voice: kept");
        assert!(frames.at(1.0) && frames.at(5.5) && !frames.at(3.5) && !frames.at(6.8));
    }

    #[test]
    fn finds_speech_between_silences() {
        let mut s = vec![0.0; 16_000];
        s.extend(tone(1.0, 0.3));
        s.extend(vec![0.0; 32_000]);
        s.extend(tone(0.5, 0.3));
        s.extend(vec![0.0; 8_000]);
        let segs = speech_segments(&s, 16_000, &VadSettings::default());
        assert_eq!(segs.len(), 2, "{segs:?}");
        assert!((segs[0].start - 0.8).abs() < 0.05 && (segs[0].end - 2.2).abs() < 0.05, "{segs:?}");
        assert!((segs[1].start - 3.8).abs() < 0.05, "{segs:?}");
    }

    #[test]
    fn silence_and_faint_noise_are_not_speech() {
        assert!(speech_segments(&vec![0.0; 48_000], 16_000, &VadSettings::default()).is_empty());
        assert!(
            speech_segments(&tone(3.0, 0.001), 16_000, &VadSettings::default()).is_empty(),
            "-63 dBFS is below the floor"
        );
        assert!(speech_segments(&[], 16_000, &VadSettings::default()).is_empty());
    }

    #[test]
    fn speech_onset_and_offset_in_a_span() {
        // 1 s of faint noise, 0.5 s of speech, 1 s of faint noise.
        let mut s = tone(1.0, 0.001);
        s.extend(tone(0.5, 0.3));
        s.extend(tone(1.0, 0.001));
        let frames = SpeechFrames::measure(&s, 16_000, &VadSettings::default());
        let on = frames.onset(0.4, 2.2).expect("speech");
        let off = frames.offset(0.4, 2.2).expect("speech");
        assert!((on - 0.99).abs() < 0.04 && (off - 1.5).abs() < 0.04, "{on} {off}");
        assert_eq!(frames.onset(0.1, 0.5), None);
        assert_eq!(frames.offset(2.0, 2.4), None);
    }

    #[test]
    fn the_floor_rule_leaves_headroom_in_a_recording_without_pauses() {
        // Speech with no pause at all: loud (0.3) and quiet (0.03, -20 dB)
        // stretches, the quiet ones a third of the time, so the 10th-percentile
        // frame is quiet speech and the floor rule alone calls it silence.
        let mut s = Vec::new();
        for _ in 0..10 {
            s.extend(tone(0.4, 0.3));
            s.extend(tone(0.2, 0.03));
        }
        let all = |f: &SpeechFrames| f.speech.iter().filter(|v| **v).count();
        let plain = SpeechFrames::measure(&s, 16_000, &VadSettings::default());
        assert!(all(&plain) < plain.speech.len() * 3 / 4, "without the cap the quiet speech is lost");
        let capped =
            SpeechFrames::measure(&s, 16_000, &VadSettings { headroom_db: 25.0, ..Default::default() });
        assert_eq!(all(&capped), capped.speech.len());
    }

    #[test]
    fn the_cap_stays_above_line_noise() {
        // Speech bursts with steady noise 22 dB under them in every pause: the
        // 10th-percentile frame is the noise, and the loud speech minus 25 dB
        // is inside it. With a floor margin, pauses stay pauses.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut noise = |n: usize| -> Vec<f32> {
            (0..n)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    // Uniform in [-1, 1) times 0.3 / 12.6 (about -22 dB under a 0.3 sine).
                    ((state >> 11) as f32 / (1u64 << 53) as f32 * 2.0 - 1.0) * 0.3 / 12.6
                })
                .collect()
        };
        let mut s = Vec::new();
        for _ in 0..10 {
            s.extend(tone(0.5, 0.3));
            s.extend(noise(8_000));
        }
        let voiced = |f: &SpeechFrames| f.speech.iter().filter(|v| **v).count();
        let half = s.len() / 480 / 2;
        let capped =
            SpeechFrames::measure(&s, 16_000, &VadSettings { headroom_db: 25.0, ..Default::default() });
        assert!(voiced(&capped) > half * 3 / 2, "the cap alone calls the noise speech: {}", voiced(&capped));
        let with_margin = SpeechFrames::measure(
            &s,
            16_000,
            &VadSettings { headroom_db: 25.0, headroom_floor_margin_db: 6.0, ..Default::default() },
        );
        // The speech frames, and at most the two frames that straddle each of
        // the ten bursts' edges.
        let n = voiced(&with_margin);
        assert!(n + 2 >= half && n <= half + 20, "{n} of {} frames voiced", 2 * half);
    }

    #[test]
    fn short_pauses_are_bridged_and_blips_dropped() {
        let mut s = tone(1.0, 0.3);
        s.extend(vec![0.0; 4_800]); // 0.3 s pause
        s.extend(tone(1.0, 0.3));
        s.extend(vec![0.0; 32_000]);
        s.extend(tone(0.06, 0.3)); // a click
        s.extend(vec![0.0; 32_000]);
        let segs = speech_segments(&s, 16_000, &VadSettings::default());
        assert_eq!(segs.len(), 1, "{segs:?}");
    }
}
