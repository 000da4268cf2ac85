//! Scorers: how close callscope's output is to an evaluation set's truth.
//!
//! `callscope eval` runs the pipeline over an evaluation set (the eval-dev
//! layout: `calls/<id>/` with the recording, `transcript.json` and
//! `truth.json`) and hands each call's analysis to [`score_call`]. The scorers
//! are a library, not part of the binary, so benches and tools measure with
//! exactly the same definitions.
//!
//! - **WER** ([`wer`]): word error rate against the reference words
//!   (lowercased, punctuation removed, hyphenated words split), by
//!   Levenshtein alignment, per role for stereo calls so the interleaving of
//!   two speakers never counts as an error.
//! - **Word timing**: median, 90th percentile and bias of the start error of
//!   the words the alignment matched.
//! - **KPIs**: talk ratio, switches and longest customer monologue against the
//!   truth's v1 values, within the tolerances [`TALK_RATIO_TOLERANCE`],
//!   [`SWITCHES_TOLERANCE`] and [`MONOLOGUE_TOLERANCE_S`].
//! - **Mono attribution** ([`mono`]): DER ([`der`]), cpWER, whether the seller
//!   was found, and overlapped speech found.
//!
//! The truth files are read as JSON values, so an evaluation set may carry
//! more than the scorers use.

pub mod der;
pub mod mono;
pub mod wer;

use callscope_model::{CallAnalysis, Role, Transcript};
use serde::Serialize;

pub use mono::MonoEval;

/// Largest |talk ratio − truth| that counts as right.
pub const TALK_RATIO_TOLERANCE: f64 = 0.03;
/// Largest |switches − truth| that counts as right.
pub const SWITCHES_TOLERANCE: u32 = 1;
/// Largest |longest customer monologue − truth|, seconds, that counts as right.
pub const MONOLOGUE_TOLERANCE_S: f64 = 1.0;

/// What the pipeline reported about a call besides its analysis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunFacts {
    /// Length of the recording, seconds.
    pub duration_s: f64,
    /// Seconds of audio per second of processing (NaN when not transcribed).
    pub realtime_factor: f64,
    /// Words dropped as crosstalk.
    pub crosstalk_dropped: usize,
    /// Seconds of mono diarization.
    pub diarize_s: f64,
}

/// One call's scores.
#[derive(Debug, Serialize)]
pub struct CallEval {
    /// The call.
    pub call_id: String,
    /// Length of the recording, seconds.
    pub duration_s: f64,
    /// Seconds of audio per second of processing.
    pub realtime_factor: f64,
    /// Words in the reference.
    pub reference_words: usize,
    /// Word error rate.
    pub wer: f64,
    /// Median |start error| of matched words, ms.
    pub timing_median_ms: Option<f64>,
    /// 90th percentile |start error|, ms.
    pub timing_p90_ms: Option<f64>,
    /// Median signed start error (hypothesis − truth), ms.
    pub timing_bias_ms: Option<f64>,
    /// Talk ratio (ours, truth).
    pub talk_ratio: (Option<f64>, Option<f64>),
    /// Switches (ours, truth).
    pub switches: (u32, u32),
    /// Longest customer monologue, seconds (ours, truth).
    pub longest_customer_monologue_s: (f64, f64),
    /// All three KPIs within their tolerances.
    pub within_tolerances: bool,
    /// Words dropped as crosstalk.
    pub crosstalk_dropped: usize,
    /// The pipeline flagged the call's speaker attribution as low-confidence
    /// (its KPIs are left out of the seller's figures).
    pub flagged: bool,
    /// The attribution's confidence (what `flagged` is decided from).
    pub confidence: Option<f64>,
    /// Mean confidence of the transcript's words (whisper's token probability).
    pub word_confidence: Option<f64>,
    /// Stereo calls: what the confidence was judged from (the worse line).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<callscope_model::LineEvidence>,
    /// Mono attribution scores (mono runs only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mono: Option<MonoEval>,
}

/// Scores one call's analysis against its truth (`truth.json` as JSON) and
/// reference transcript. `mono`: the call was analysed from its mono mix, so
/// WER is over all words and the attribution is scored too.
pub fn score_call(
    call_id: &str,
    truth: &serde_json::Value,
    reference: &Transcript,
    analysis: &CallAnalysis,
    facts: RunFacts,
    mono: bool,
) -> CallEval {
    // WER per role (per channel for stereo; all words for mono), so that the
    // interleaving of two speakers' words never counts as an error.
    let roles: Vec<Option<Role>> =
        if mono { vec![None] } else { vec![Some(Role::Seller), Some(Role::Customer)] };
    let (mut errors, mut reference_words) = (0usize, 0usize);
    let mut timing: Vec<f64> = Vec::new();
    let mut bias: Vec<f64> = Vec::new();
    for role in roles {
        let r = wer::words_in_time_order(reference, role);
        let h = wer::words_in_time_order(&analysis.transcript, role);
        let (ref_tokens, hyp_tokens): (Vec<String>, Vec<String>) =
            (r.iter().map(|w| w.0.clone()).collect(), h.iter().map(|w| w.0.clone()).collect());
        let (e, matches) = wer::align(&ref_tokens, &hyp_tokens);
        errors += e;
        reference_words += r.len();
        timing.extend(matches.iter().map(|(i, j)| (r[*i].1 - h[*j].1).abs() * 1000.0));
        bias.extend(matches.iter().map(|(i, j)| (h[*j].1 - r[*i].1) * 1000.0));
    }
    timing.sort_by(f64::total_cmp);
    bias.sort_by(f64::total_cmp);

    let e = &truth["expected_kpis_v1"];
    let k = &analysis.kpis.kpis;
    let truth_ratio = e["talk_ratio"].as_f64();
    let truth_switches = e["switches"].as_u64().unwrap_or(0) as u32;
    let truth_mono = e["longest_customer_monologue_s"].as_f64().unwrap_or(0.0);
    let within = match (k.talk_ratio, truth_ratio) {
        (Some(a), Some(b)) => (a - b).abs() <= TALK_RATIO_TOLERANCE,
        (a, b) => a.is_none() && b.is_none(),
    } && k.switches.abs_diff(truth_switches) <= SWITCHES_TOLERANCE
        && (k.longest_customer_monologue_s - truth_mono).abs() <= MONOLOGUE_TOLERANCE_S;
    CallEval {
        call_id: call_id.to_owned(),
        duration_s: facts.duration_s,
        realtime_factor: facts.realtime_factor,
        reference_words,
        wer: errors as f64 / reference_words.max(1) as f64,
        timing_bias_ms: wer::percentile(&bias, 0.5),
        timing_median_ms: wer::percentile(&timing, 0.5),
        timing_p90_ms: wer::percentile(&timing, 0.9),
        talk_ratio: (k.talk_ratio, truth_ratio),
        switches: (k.switches, truth_switches),
        longest_customer_monologue_s: (k.longest_customer_monologue_s, truth_mono),
        within_tolerances: within,
        crosstalk_dropped: facts.crosstalk_dropped,
        flagged: analysis.attribution.as_ref().is_some_and(|a| a.low_confidence),
        confidence: analysis.attribution.as_ref().map(|a| a.confidence),
        word_confidence: {
            let c: Vec<f64> =
                analysis.transcript.words.iter().filter_map(|w| w.confidence).map(f64::from).collect();
            (!c.is_empty()).then(|| c.iter().sum::<f64>() / c.len() as f64)
        },
        line: analysis.attribution.as_ref().and_then(|a| a.line),
        mono: mono.then(|| mono::score_mono(truth, reference, analysis, facts.diarize_s)),
    }
}

/// A whole set's scores (one condition of a degraded set): what the summary
/// table shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SetSummary {
    /// Calls scored.
    pub calls: usize,
    /// Word error rate over all the set's reference words.
    pub wer: f64,
    /// Calls with all three KPIs within their tolerances.
    pub within_tolerances: usize,
    /// Calls whose attribution the pipeline flagged.
    pub flagged: usize,
    /// Mono attribution, when the set was scored mono.
    pub mono: Option<MonoSummary>,
}

/// A set's mono attribution scores.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonoSummary {
    /// Mean DER over the calls.
    pub mean_der: f64,
    /// The worst call's DER.
    pub worst_der: f64,
    /// Calls with as many speakers found as the truth has.
    pub speakers_right: usize,
    /// Calls whose seller was found.
    pub seller_found: usize,
}

impl SetSummary {
    /// Sums up calls' scores.
    pub fn of(calls: &[CallEval]) -> SetSummary {
        let words: usize = calls.iter().map(|c| c.reference_words).sum();
        let errors: f64 = calls.iter().map(|c| c.wer * c.reference_words as f64).sum();
        let mono: Vec<&MonoEval> = calls.iter().filter_map(|c| c.mono.as_ref()).collect();
        SetSummary {
            calls: calls.len(),
            wer: errors / words.max(1) as f64,
            within_tolerances: calls.iter().filter(|c| c.within_tolerances).count(),
            flagged: calls.iter().filter(|c| c.flagged).count(),
            mono: (!mono.is_empty()).then(|| MonoSummary {
                mean_der: mono.iter().map(|m| m.der).sum::<f64>() / mono.len() as f64,
                worst_der: mono.iter().map(|m| m.der).fold(0.0, f64::max),
                speakers_right: mono.iter().filter(|m| m.speakers.0 == m.speakers.1).count(),
                seller_found: mono.iter().filter(|m| m.role_correct).count(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(wer: f64, words: usize, within: bool, der: Option<f64>) -> CallEval {
        CallEval {
            call_id: "c".into(),
            duration_s: 60.0,
            realtime_factor: 10.0,
            reference_words: words,
            wer,
            timing_median_ms: None,
            timing_p90_ms: None,
            timing_bias_ms: None,
            talk_ratio: (None, None),
            switches: (0, 0),
            longest_customer_monologue_s: (0.0, 0.0),
            within_tolerances: within,
            crosstalk_dropped: 0,
            flagged: der.is_some_and(|d| d > 0.2),
            confidence: None,
            word_confidence: None,
            line: None,
            mono: der.map(|der| MonoEval {
                der,
                der_parts: (0.0, 0.0, der),
                cpwer: 0.0,
                speakers: (if der > 0.2 { 1 } else { 2 }, 2),
                role_correct: der <= 0.2,
                method: "mono-heuristics".into(),
                confidence: 1.0 - der,
                low_confidence: der > 0.2,
                diarize_s: 1.0,
                overlaps_found: (0, 0),
                overlaps_false: 0,
                overlap_frames: (0, 0, 0),
            }),
        }
    }

    #[test]
    fn a_summary_weighs_wer_by_words_and_counts_calls() {
        let s = SetSummary::of(&[call(0.1, 100, true, Some(0.0)), call(0.4, 300, false, Some(0.45))]);
        assert_eq!((s.calls, s.within_tolerances, s.flagged), (2, 1, 1));
        assert!((s.wer - 0.325).abs() < 1e-12, "{}", s.wer);
        let m = s.mono.expect("mono scores");
        assert!((m.mean_der - 0.225).abs() < 1e-12 && (m.worst_der - 0.45).abs() < 1e-12);
        assert_eq!((m.speakers_right, m.seller_found), (1, 1));
        assert!(SetSummary::of(&[call(0.1, 10, true, None)]).mono.is_none());
    }
}
