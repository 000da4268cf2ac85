//! Per-call analysis: the stages that turn a call into a [`CallAnalysis`].
//!
//! The stages are CPU-bound and synchronous, so the [`Analyzer`] is a plain
//! value shared by reference across worker threads; whoever drives it (the
//! command line, the folder source, the Kafka worker) owns the threads and the
//! I/O. Today the input is a transcript; audio decoding and transcription slot
//! in front of the same stages.

use callscope_model::{CallAnalysis, CallMeta, Provenance, Transcript};
use callscope_signals::{SignalExtractor, SignalSettings, TrackerMatcher, Trackers};

/// The version of this pipeline, stored with every analysis.
pub const PIPELINE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Runs the per-call stages. Build once; share across threads.
#[derive(Debug)]
pub struct Analyzer {
    signals: SignalExtractor,
}

impl Analyzer {
    /// An analyzer with the given trackers and signal settings.
    pub fn new(trackers: &Trackers, settings: SignalSettings) -> Self {
        Analyzer { signals: SignalExtractor::new(TrackerMatcher::new(trackers).0, settings) }
    }

    /// Analyzes a validated transcript: KPIs, then signals (on the same turns).
    ///
    /// The call's duration is the transcript's `duration_s`, or the end of its
    /// last word.
    pub fn analyze_transcript(
        &self,
        meta: CallMeta,
        transcript: Transcript,
        audio_uri: Option<String>,
    ) -> CallAnalysis {
        let words = callscope_kpi::sorted_words(&transcript);
        let seg = callscope_kpi::segment_turns(&words);
        let signals = self.signals.extract_segmented(&transcript, &words, &seg);
        let kpis = callscope_kpi::report(&transcript);
        let duration_s = transcript
            .duration_s
            .unwrap_or_else(|| transcript.words.iter().map(|w| w.end).fold(0.0, f64::max));
        CallAnalysis {
            meta,
            duration_s,
            audio_uri,
            transcript,
            kpis,
            signals,
            provenance: Provenance {
                pipeline_version: PIPELINE_VERSION.to_owned(),
                asr_model: None,
                sentiment_model: self.signals.sentiment_model().to_owned(),
            },
        }
    }
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
            t.words.push(Word { text: (*text).into(), start, end: start + 0.5, speaker: (*spk).into() });
        }
        let analyzer = Analyzer::new(&Trackers::default(), SignalSettings::default());
        let meta = CallMeta { call_id: "c-1".into(), seller_id: "s".into(), ..CallMeta::default() };
        let a = analyzer.analyze_transcript(meta, t, None);
        assert_eq!(a.kpis.kpis.seller_questions, 1);
        assert_eq!(a.signals.questions.len(), 1);
        assert!((a.duration_s - 4.5).abs() < 1e-12);
        assert_eq!(a.provenance.sentiment_model, "vader-sales-v1");
    }
}
