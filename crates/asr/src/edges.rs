//! Word edges fitted to the voiced frames of the channel.
//!
//! whisper's DTW word times tile the timeline: a word starts where the previous
//! one ends, so the silence after a comma, before a hesitant word or at the end
//! of a phrase is counted as some word's, and so as its speaker's talk time
//! (on the eval-dev calls, 10–45 % more talk than was spoken). And a phrase's
//! last word often ends early, its last syllable cut off. The level of the
//! channel knows better where speech is, but not which word it belongs to; the
//! DTW times know that, within about 100 ms. So:
//!
//! 1. **Runs.** Voiced frames (10 ms; see [`levels`] for the threshold), with
//!    silences shorter than [`PAUSE_S`] bridged: a stop consonant's closure or
//!    the gap between two words of one phrase does not end a run, a pause does.
//! 2. **Owner.** Each word belongs to the run its span overlaps most; a word
//!    that overlaps none (whisper put it in silence) keeps its span.
//! 3. **Edges.** A run's first word starts where the run starts and its last
//!    word ends where the run ends. Between two words of a run, the boundary
//!    moves into the longest silence within [`SEARCH_S`] of whisper's boundary
//!    (the first word ends where it begins, the second starts where it ends),
//!    or, where the words run into each other, stays where whisper put it.
//!
//! Talk time then counts speech, not pauses, and word starts land on onsets.
//!
//! **Voiced, on a noisy line.** Level alone loses a word's soft sounds once
//! they sink under line noise, and not evenly: on eval-dev at pink noise 20 dB
//! under the speech one voice lost 26 % of its talk time and the other 19 %,
//! enough to move the talk ratio out of tolerance on its own. Where Silero is
//! installed and hears speech in at most [`crate::BABBLE_SHARE`] of the
//! channel's frames (one party's line), a frame is voiced where Silero
//! hears speech and the level is no lower than [`NOISY_LINE_RELIEF_DB`] under
//! the level threshold ([`levels_on_a_noisy_line`]): on a noisy line that is
//! the noise floor itself, so Silero decides; on a clean one the pauses'
//! digital silence still splits words. A channel where Silero hears speech
//! more of the time (voices in the background, or a mono mix of two parties)
//! keeps the level rule: there Silero hears the background voices too. But a
//! noisy mono mix whose pauses Silero mostly hears as pauses (under
//! [`callscope_audio::VOICES_IN_EVERY_PAUSE`] of them with a voice) is Silero's too: under
//! white noise 10 dB under the speech the level rule kept only 45-74 % of each
//! party's talk time.
//!
//! **A mono mix** holds both parties in one level measurement, so a party
//! recorded much quieter than the other is measured against its own nearby
//! speech, not the loud party's ([`levels_in_a_mix`]).

use callscope_audio::{SpeechFrames, VadSettings};

use crate::Word;

/// Frame length of the level measurement, seconds.
pub const FRAME_S: f64 = 0.01;
/// A silence at least this long is a pause between runs, seconds.
pub const PAUSE_S: f64 = 0.15;
/// How far from whisper's boundary between two words a silence is looked for, seconds.
pub const SEARCH_S: f64 = 0.1;

/// A voiced frame belongs to the channel's speaker only this close to the
/// voice activity detector's speech (seconds): level alone cannot tell the
/// speaker from noise bursts or the other party's leak.
pub const SPEECH_SLACK_S: f64 = 0.1;
/// A frame is voiced this many dB below the channel's loud speech, at most.
pub const DYNAMIC_RANGE_DB: f64 = 40.0;
/// A frame this close to the channel's loud speech is voiced, whatever the
/// noise floor says (a mono mix with hardly a pause has no noise floor to find).
pub const HEADROOM_DB: f64 = 25.0;
/// ... unless that is within this many dB of the noise floor: then the floor
/// is line noise, not quiet speech, and a voiced frame must stand this far
/// above it.
pub const FLOOR_MARGIN_DB: f64 = 6.0;

/// The lowest level a word's edge reaches (dBFS): well under a quiet line's
/// soft syllables (a channel recorded 15 dB low has them near -75 dBFS), above
/// 16-bit quantisation noise.
pub const EDGE_FLOOR_DBFS: f64 = -80.0;

/// The level measurement for word edges: 10 ms frames; voiced means above the
/// VAD's noise-floor margin and no more than [`DYNAMIC_RANGE_DB`] below the
/// channel's loud speech (and voiced, whatever the floor, within [`HEADROOM_DB`]
/// of it), so that a quiet recording (an 8 kHz telephone line
/// is 5–10 dB quieter than a studio file of the same call) loses no more of a
/// word's soft edges than a loud one. The VAD's absolute floor (-50 dBFS, there
/// to ignore faint crosstalk when deciding what to transcribe) is lowered to
/// [`EDGE_FLOOR_DBFS`]: here only words already heard are fitted.
pub fn levels(vad: &VadSettings) -> VadSettings {
    VadSettings {
        frame_s: FRAME_S,
        absolute_floor_dbfs: EDGE_FLOOR_DBFS,
        dynamic_range_db: DYNAMIC_RANGE_DB,
        headroom_db: HEADROOM_DB,
        headroom_floor_margin_db: FLOOR_MARGIN_DB,
        ..*vad
    }
}

/// How far around a frame of a mono mix its loud speech is looked for,
/// seconds ([`levels_in_a_mix`]).
pub const MIX_LOCAL_LOUD_S: f64 = 0.25;

/// [`levels`] for a mono mix of the call: a frame's [`DYNAMIC_RANGE_DB`] is
/// counted from the loudest frame within [`MIX_LOCAL_LOUD_S`] of it (about
/// its word's own peak; never louder than the mix's loud speech). Both
/// parties share one level measurement there, and a party recorded 15 dB
/// under the other lost its soft syllables against the loud party's speech:
/// on eval-dev's `level-*-15db` copies the quiet party's talk time came out
/// 10-12 % shorter than when it was the loud one, enough to move the talk
/// ratio out of tolerance (docs/asr.md, "A quiet party in a mono mix"). Only a
/// recording whose floor is more than about 50 dB under its speech changes:
/// above that, the noise-floor rule of [`levels`] is the stricter one.
pub fn levels_in_a_mix(vad: &VadSettings) -> VadSettings {
    VadSettings { local_loud_s: MIX_LOCAL_LOUD_S, ..levels(vad) }
}

/// With Silero deciding speech, the level threshold of [`levels`] is lowered
/// this many dB (measured on eval-dev's degraded copies over 13 conditions: 3 dB
/// kept 66 of 78 calls within the KPI tolerances, 6 dB 68, the level rule 61).
pub const NOISY_LINE_RELIEF_DB: f64 = 6.0;

/// [`levels`] lowered by [`NOISY_LINE_RELIEF_DB`] in every term.
pub fn levels_on_a_noisy_line(vad: &VadSettings) -> VadSettings {
    let l = levels(vad);
    let db = NOISY_LINE_RELIEF_DB;
    VadSettings {
        margin_db: l.margin_db - db,
        absolute_floor_dbfs: l.absolute_floor_dbfs - db,
        dynamic_range_db: l.dynamic_range_db + db,
        headroom_db: l.headroom_db + db,
        headroom_floor_margin_db: l.headroom_floor_margin_db - db,
        ..l
    }
}

/// Maximal stretches of frames whose decision is `voiced`, as frame ranges.
fn stretches(speech: &[bool], voiced: bool) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < speech.len() {
        if speech[i] != voiced {
            i += 1;
            continue;
        }
        let start = i;
        while i < speech.len() && speech[i] == voiced {
            i += 1;
        }
        out.push((start, i));
    }
    out
}

/// Fits `words` (one channel's, in time order) to `frames`; see the module docs.
pub fn fit_to_speech(words: &mut [Word], frames: &SpeechFrames) {
    let f = frames.frame_s;
    let pause = (PAUSE_S / f).round() as usize;
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for (a, b) in stretches(&frames.speech, true) {
        match runs.last_mut() {
            Some(last) if a - last.1 < pause => last.1 = b,
            _ => runs.push((a, b)),
        }
    }
    let runs: Vec<(f64, f64)> = runs.into_iter().map(|(a, b)| (a as f64 * f, b as f64 * f)).collect();
    let silences: Vec<(f64, f64)> =
        stretches(&frames.speech, false).into_iter().map(|(a, b)| (a as f64 * f, b as f64 * f)).collect();

    // The run each word overlaps most.
    let mut owners: Vec<Option<usize>> = words
        .iter()
        .map(|w| {
            let first = runs.partition_point(|r| r.1 <= w.start);
            (first..runs.len())
                .take_while(|&k| runs[k].0 < w.end)
                .map(|k| (k, runs[k].1.min(w.end) - runs[k].0.max(w.start)))
                .filter(|(_, overlap)| *overlap > 0.0)
                .max_by(|x, y| x.1.total_cmp(&y.1))
                .map(|(k, _)| k)
        })
        .collect();
    let owned = |owners: &[Option<usize>]| -> Vec<(usize, usize)> {
        owners.iter().enumerate().filter_map(|(i, o)| Some((i, (*o)?))).collect()
    };
    // A word in silence between two words of one run is that run's too (whisper
    // gave it no time, say); one between runs stays where it is.
    for pair in owned(&owners).windows(2) {
        let ((left, run), (right, next_run)) = (pair[0], pair[1]);
        if run == next_run {
            owners[left + 1..right].fill(Some(run));
        }
    }
    for group in owned(&owners).chunk_by(|a, b| a.1 == b.1) {
        let indices: Vec<usize> = group.iter().map(|&(i, _)| i).collect();
        fit_run(words, &indices, runs[group[0].1], &silences);
    }
    // Keep the words in their order: one left in silence stays between its
    // neighbours' new spans.
    for i in 0..words.len() {
        if owners[i].is_some() {
            continue;
        }
        let after = if i > 0 { words[i - 1].end } else { f64::NEG_INFINITY };
        let before = words.get(i + 1).map_or(f64::INFINITY, |w| w.start);
        if after <= before {
            words[i].start = words[i].start.clamp(after, before);
            words[i].end = words[i].end.clamp(words[i].start, before);
        }
    }
}

/// Fits the words `group` (indices into `words`, in order) to their run.
fn fit_run(words: &mut [Word], group: &[usize], (a, b): (f64, f64), silences: &[(f64, f64)]) {
    for &i in group {
        let w = &mut words[i];
        w.start = w.start.clamp(a, b);
        w.end = w.end.clamp(w.start, b);
    }
    let (first, last) = (group[0], group[group.len() - 1]);
    words[first].start = a;
    words[last].end = b;
    for pair in group.windows(2) {
        let (l, r) = (pair[0], pair[1]);
        let (left_start, boundary) = (words[l].start, (words[l].end + words[r].start) / 2.0);
        let from = silences.partition_point(|s| s.1 <= boundary - SEARCH_S);
        let gap = silences[from..]
            .iter()
            .take_while(|s| s.0 < boundary + SEARCH_S)
            .filter(|s| s.0 > left_start && s.1 <= b)
            .max_by(|x, y| (x.1 - x.0).total_cmp(&(y.1 - y.0)));
        let (end, start) = match gap {
            Some(&(g0, g1)) => (g0, g1),
            None => {
                let at = boundary.clamp(left_start, b);
                (at, at)
            }
        };
        words[l].end = end;
        words[r].start = start;
        words[r].end = words[r].end.max(start);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(text: &str, start: f64, end: f64) -> Word {
        Word::unattributed(text, start, end, Some(1.0))
    }

    /// 10 ms frames, voiced where `pattern` has `#`.
    fn frames(pattern: &str) -> SpeechFrames {
        SpeechFrames { frame_s: FRAME_S, speech: pattern.chars().map(|c| c == '#').collect() }
    }

    fn spans(words: &[Word]) -> Vec<(f64, f64)> {
        words.iter().map(|w| ((w.start * 100.0).round() / 100.0, (w.end * 100.0).round() / 100.0)).collect()
    }

    #[test]
    fn pauses_leave_the_words_and_phrase_ends_reach_the_last_voiced_frame() {
        // Speech 0.10-0.30, a 0.30 s pause, speech 0.60-0.90, silence after.
        let f = frames(&format!(
            "{}{}{}{}{}",
            ".".repeat(10),
            "#".repeat(20),
            ".".repeat(30),
            "#".repeat(30),
            ".".repeat(20)
        ));
        // whisper: the first word runs over the pause into the second's onset,
        // the second ends early.
        let mut w = vec![word("Hi,", 0.12, 0.65), word("there.", 0.65, 0.80)];
        fit_to_speech(&mut w, &f);
        assert_eq!(spans(&w), vec![(0.10, 0.30), (0.60, 0.90)]);
    }

    #[test]
    fn a_short_silence_near_a_boundary_splits_the_words_one_elsewhere_stays_inside() {
        // One run 0.00-1.00 with a 50 ms silence at 0.40 (between words) and
        // one at 0.75 (a closure inside the second word).
        let mut p = String::new();
        p += &"#".repeat(40);
        p += &".".repeat(5);
        p += &"#".repeat(30);
        p += &".".repeat(5);
        p += &"#".repeat(20);
        p += &".".repeat(20);
        let f = frames(&p);
        let mut w = vec![word("good", 0.02, 0.48), word("morning", 0.48, 0.95)];
        fit_to_speech(&mut w, &f);
        assert_eq!(spans(&w), vec![(0.0, 0.40), (0.45, 1.0)]);
    }

    #[test]
    fn words_that_run_into_each_other_keep_whispers_boundary() {
        let f = frames(&format!("{}{}", "#".repeat(100), ".".repeat(10)));
        let mut w = vec![word("all", 0.05, 0.30), word("right", 0.30, 0.90)];
        fit_to_speech(&mut w, &f);
        assert_eq!(spans(&w), vec![(0.0, 0.30), (0.30, 1.0)]);
    }

    #[test]
    fn a_word_in_silence_keeps_its_span() {
        let f = frames(&format!("{}{}", ".".repeat(50), "#".repeat(50)));
        let mut w = vec![word("uh", 0.10, 0.20), word("yes", 0.55, 0.90)];
        fit_to_speech(&mut w, &f);
        assert_eq!(spans(&w), vec![(0.10, 0.20), (0.50, 1.0)]);
    }

    #[test]
    fn a_word_without_time_between_two_words_of_a_run_is_the_runs() {
        // whisper gave "uh" no time; it does not split "I" and "see" into two
        // groups (each would be stretched over the whole run).
        let f = frames(&format!("{}{}", "#".repeat(100), ".".repeat(100)));
        let mut w =
            vec![word("I", 0.0, 0.3), word("uh", 0.3, 0.3), word("see", 0.3, 0.6), word("so", 1.2, 1.4)];
        fit_to_speech(&mut w, &f);
        assert_eq!(spans(&w), vec![(0.0, 0.3), (0.3, 0.3), (0.3, 1.0), (1.2, 1.4)]);
    }

    #[test]
    fn words_keep_their_order() {
        // whisper gave "so" no time, just before "well", which now starts at
        // its run's onset: "so" moves with it instead of following it.
        let f = frames(&format!("{}{}{}", "#".repeat(50), ".".repeat(50), "#".repeat(50)));
        let mut w = vec![word("yes", 0.1, 0.6), word("so", 1.1, 1.1), word("well", 1.2, 1.3)];
        fit_to_speech(&mut w, &f);
        assert_eq!(spans(&w), vec![(0.0, 0.5), (1.0, 1.0), (1.0, 1.5)]);
    }

    /// A line with noise at a steady level, speech 20 dB over it, and a
    /// soft sound 3 dB over it (a word's fading end).
    #[test]
    fn on_a_noisy_line_a_soft_sound_just_over_the_noise_is_voiced() {
        let rate = 16_000;
        let mut seed = 1u32;
        let mut noise = || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (f64::from(seed >> 8) / f64::from(1u32 << 24) - 0.5) as f32
        };
        let amplitude = |db: f64| 10f64.powf(db / 20.0) as f32;
        // 10 ms frames: 60 of noise, 40 of speech, 10 of the soft sound.
        let mut samples = Vec::new();
        for (frames, db) in [(60, None), (40, Some(20.0)), (10, Some(3.0)), (60, None)] {
            for i in 0..frames * 160 {
                let tone = (i as f32 * 0.2).sin() * std::f32::consts::SQRT_2;
                // The noise's RMS is 1/sqrt(12) of its amplitude: -10.8 dB.
                let over = db.map_or(0.0, |db: f64| amplitude(db - 10.8) * tone);
                samples.push(0.01 * (noise() + over));
            }
        }
        let vad = VadSettings { margin_db: 12.0, ..VadSettings::default() };
        let plain = SpeechFrames::measure(&samples, rate, &levels(&vad));
        let relieved = SpeechFrames::measure(&samples, rate, &levels_on_a_noisy_line(&vad));
        let voiced = |f: &SpeechFrames, r: std::ops::Range<usize>| r.filter(|&i| f.speech[i]).count();
        assert_eq!(voiced(&plain, 60..100), 40, "the speech is voiced either way");
        assert_eq!(voiced(&relieved, 60..100), 40);
        assert!(voiced(&plain, 100..110) <= 2, "under the plain rule the soft sound is lost");
        assert!(voiced(&relieved, 100..110) >= 8, "with the relief it is kept");
    }

    #[test]
    fn no_words_or_no_frames_are_fine() {
        fit_to_speech(&mut [], &frames("###"));
        let mut w = vec![word("a", 0.0, 0.1)];
        fit_to_speech(&mut w, &frames(""));
        assert_eq!(spans(&w), vec![(0.0, 0.1)]);
    }
}
