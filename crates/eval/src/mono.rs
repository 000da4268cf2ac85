//! Mono attribution against truth: DER, cpWER, the seller's role, and
//! overlapped speech.

use std::collections::{BTreeMap, BTreeSet};

use callscope_model::{Attribution, CallAnalysis, Role, Transcript, Word};
use serde::Serialize;

use crate::der::{Segment, der};
use crate::wer::{align, speaker_tokens};

/// Collar around reference speaker boundaries left unscored, seconds.
pub const DER_COLLAR_S: f64 = 0.25;

/// Mono attribution scores.
#[derive(Debug, Serialize)]
pub struct MonoEval {
    /// Diarization error rate (collar 0.25 s, overlap scored).
    pub der: f64,
    /// Its parts: missed speech, false alarm, speaker confusion.
    pub der_parts: (f64, f64, f64),
    /// Concatenated minimum-permutation WER (speaker-attributed).
    pub cpwer: f64,
    /// Speakers found (truth).
    pub speakers: (usize, usize),
    /// The speaker picked as seller is the true seller.
    pub role_correct: bool,
    /// How the seller was found (`mono-enrollment`, `mono-heuristics`).
    pub method: String,
    /// The pipeline's attribution confidence.
    pub confidence: f64,
    /// Whether the pipeline flagged the call.
    pub low_confidence: bool,
    /// Seconds of diarization (excluding transcription).
    pub diarize_s: f64,
    /// Overlapped speech: the truth's stretches (overlaps between lines and
    /// backchannels) found, of all.
    pub overlaps_found: (usize, usize),
    /// Detected stretches that hit none.
    pub overlaps_false: usize,
    /// Overlapped 10 ms frames: detected and true, detected, true.
    pub overlap_frames: (usize, usize, usize),
}

/// Speech segments of a transcript's speakers: a speaker's words form one
/// segment while the gap to the next is at most the KPI's turn gap
/// (`callscope_kpi::TURN_GAP_S`, which also bridges pauses inside the KPI's
/// turns), so that, like the reference's turns (whole lines), they hold the
/// speaker's short pauses. Word spans are fitted to speech and leave those pauses out;
/// joining only gaps under 0.5 s would score a sentence break inside a line as
/// missed speech.
pub fn segments(t: &Transcript) -> Vec<Segment> {
    let mut words: Vec<&Word> = t.words.iter().collect();
    words.sort_by(|a, b| a.start.total_cmp(&b.start));
    let mut out: Vec<Segment> = Vec::new();
    let mut open: BTreeMap<&str, usize> = BTreeMap::new();
    for w in words {
        match open.get(w.speaker.as_str()) {
            Some(&i) if w.start - out[i].end <= callscope_kpi::TURN_GAP_S => {
                out[i].end = out[i].end.max(w.end)
            }
            _ => {
                open.insert(&w.speaker, out.len());
                out.push(Segment { start: w.start, end: w.end, speaker: w.speaker.clone() });
            }
        }
    }
    out
}

/// Scores a mono call's attribution against its truth file and reference.
pub fn score_mono(
    truth: &serde_json::Value,
    reference: &Transcript,
    analysis: &CallAnalysis,
    diarize_s: f64,
) -> MonoEval {
    // Reference speech: the turns and backchannels the truth lists.
    let mut reference_segments = Vec::new();
    for key in ["turns", "backchannels"] {
        for t in truth[key].as_array().into_iter().flatten() {
            if let (Some(s), Some(e), Some(spk)) =
                (t["start"].as_f64(), t["end"].as_f64(), t["speaker"].as_str())
            {
                reference_segments.push(Segment { start: s, end: e, speaker: spk.to_owned() });
            }
        }
    }
    let hyp = &analysis.transcript;
    let mut hyp_segments = segments(hyp);
    let detected: Vec<(f64, f64)> =
        analysis.attribution.iter().flat_map(|a| a.overlaps.iter().map(|o| (o.start, o.end))).collect();
    // A detected overlap is speech of both speakers of a two-party call.
    if hyp.speakers.len() == 2 {
        for &(start, end) in &detected {
            for spk in hyp.speakers.keys() {
                hyp_segments.push(Segment { start, end, speaker: spk.clone() });
            }
        }
    }
    let d = der(&reference_segments, &hyp_segments, DER_COLLAR_S);
    let truth_overlaps: Vec<(f64, f64)> = ["overlaps", "backchannels"]
        .iter()
        .flat_map(|key| truth[*key].as_array().into_iter().flatten())
        .filter_map(|o| Some((o["start"].as_f64()?, o["end"].as_f64()?)))
        .collect();
    let hits = |a: &(f64, f64), set: &[(f64, f64)]| set.iter().any(|b| a.1.min(b.1) > a.0.max(b.0));
    let frames = |set: &[(f64, f64)]| -> BTreeSet<u64> {
        set.iter().flat_map(|&(a, b)| ((a * 100.0).round() as u64)..((b * 100.0).round() as u64)).collect()
    };
    let (tf, df) = (frames(&truth_overlaps), frames(&detected));
    let mut distinct = truth_overlaps.clone();
    distinct.sort_by(|a, b| a.0.total_cmp(&b.0));
    distinct.dedup_by(|a, b| a.1.min(b.1) > a.0.max(b.0));
    // The seller's role: the hypothesis seller's speech overlaps the true seller's most.
    let true_seller = truth["speakers"]
        .as_object()
        .and_then(|m| m.iter().find(|(_, v)| v["role"] == "seller").map(|(k, _)| k.clone()))
        .unwrap_or_default();
    let overlap = |role_spk: &str, truth_spk: &str| -> f64 {
        let h = hyp_segments.iter().filter(|s| s.speaker == role_spk);
        let r: Vec<&Segment> = reference_segments.iter().filter(|s| s.speaker == truth_spk).collect();
        h.flat_map(|a| r.iter().map(move |b| (a.end.min(b.end) - a.start.max(b.start)).max(0.0))).sum()
    };
    let hyp_seller = hyp.speakers.iter().find(|(_, r)| **r == Role::Seller).map(|(k, _)| k.clone());
    let role_correct = hyp_seller.is_some_and(|hs| {
        let mine = overlap(&hs, &true_seller);
        truth["speakers"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, _)| **k != true_seller)
            .all(|(k, _)| overlap(&hs, k) < mine)
    });
    let attribution = analysis.attribution.clone().unwrap_or_else(|| Attribution::new("none", 0.0));
    MonoEval {
        der: d.der,
        der_parts: (d.miss, d.false_alarm, d.confusion),
        cpwer: cpwer(reference, hyp),
        speakers: (hyp.speakers.len(), reference.speakers.len()),
        role_correct,
        method: attribution.method.clone(),
        confidence: attribution.confidence,
        low_confidence: attribution.low_confidence,
        diarize_s,
        overlaps_found: (distinct.iter().filter(|o| hits(o, &detected)).count(), distinct.len()),
        overlaps_false: detected.iter().filter(|o| !hits(o, &truth_overlaps)).count(),
        overlap_frames: (tf.intersection(&df).count(), df.len(), tf.len()),
    }
}

/// Concatenated minimum-permutation WER: each reference speaker's words
/// against the hypothesis speaker it maps to, under the best one-to-one
/// mapping; hypothesis speakers mapped to nobody are all insertions.
pub fn cpwer(reference: &Transcript, hypothesis: &Transcript) -> f64 {
    let refs: Vec<Vec<String>> = reference.speakers.keys().map(|s| speaker_tokens(reference, s)).collect();
    let hyps: Vec<Vec<String>> = hypothesis.speakers.keys().map(|s| speaker_tokens(hypothesis, s)).collect();
    let total: usize = refs.iter().map(Vec::len).sum();
    let mut best = usize::MAX;
    let mut perm: Vec<usize> = (0..hyps.len().max(refs.len())).collect();
    permutations(&mut perm, 0, &mut |p| {
        let mut errors = 0;
        for (i, r) in refs.iter().enumerate() {
            let h = p.get(i).and_then(|&j| hyps.get(j)).map_or(&[][..], Vec::as_slice);
            errors += align(r, h).0;
        }
        // Hypothesis speakers mapped to no reference speaker: all insertions.
        for (j, h) in hyps.iter().enumerate() {
            if !p.iter().take(refs.len()).any(|&x| x == j) {
                errors += h.len();
            }
        }
        best = best.min(errors);
    });
    best as f64 / total.max(1) as f64
}

fn permutations(v: &mut Vec<usize>, k: usize, f: &mut dyn FnMut(&[usize])) {
    if k == v.len() {
        f(v);
        return;
    }
    for i in k..v.len() {
        v.swap(k, i);
        permutations(v, k + 1, f);
        v.swap(k, i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transcript(words: &[(&str, f64, &str)]) -> Transcript {
        let mut t = Transcript::default();
        for &(text, start, spk) in words {
            t.speakers.insert(spk.into(), Role::Other);
            t.words.push(Word { speaker: spk.into(), ..Word::unattributed(text, start, start + 0.3, None) });
        }
        t
    }

    #[test]
    fn cpwer_maps_speakers_one_to_one() {
        let reference = transcript(&[("hello", 0.0, "a"), ("there", 0.5, "a"), ("hi", 1.0, "b")]);
        let swapped = transcript(&[("hello", 0.0, "y"), ("there", 0.5, "y"), ("hi", 1.0, "x")]);
        assert_eq!(cpwer(&reference, &swapped), 0.0);
        let merged = transcript(&[("hello", 0.0, "x"), ("there", 0.5, "x"), ("hi", 1.0, "x")]);
        // "hi" is missing from the second speaker and inserted in the first.
        assert!((cpwer(&reference, &merged) - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn segments_bridge_a_speakers_pauses_up_to_the_turn_gap() {
        let t = transcript(&[("a", 0.0, "s"), ("b", 1.5, "s"), ("c", 9.0, "s")]);
        let s = segments(&t);
        assert_eq!(s.len(), 2);
        assert!((s[0].end - 1.8).abs() < 1e-12);
    }
}
