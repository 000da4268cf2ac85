//! The engine's analyzers: one for the configured trackers, and a small cache
//! of those built for events that bring their own terms (`trackers.keywords`,
//! `trackers.competitors`).
//!
//! Building an analyzer compiles every tracker into one automaton, so events
//! that repeat the same per-call terms (a campaign's keywords on each of its
//! calls) share one. The cache is bounded, least recently used out, so a stream
//! of distinct term lists cannot grow memory.
//!
//! The key is the term lists as the event gives them, in order, not sorted: the
//! matcher gives a name that two terms share after normalization to the term
//! defined first, so the same terms in another order can analyse differently,
//! and a sorted key would make a call's result depend on which event came first.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use callscope_diarize::mono::Diarizer;
use callscope_model::TrackerKind;
use callscope_pipeline::Analyzer;
use callscope_redact::Redactor;
use callscope_signals::{SentimentModel, SignalSettings, Term, Trackers};

/// Analyzers kept for per-call terms.
pub(crate) const CACHE_CAPACITY: usize = 32;

/// The configured analyzer and the cache of per-call ones.
pub(crate) struct Analyzers {
    /// For events without terms of their own (most of them).
    base: Arc<Analyzer>,
    /// The configured trackers, which per-call terms are added to.
    trackers: Trackers,
    /// Signal settings of every analyzer built.
    signals: SignalSettings,
    /// Mono diarization, shared by every analyzer built.
    diarizer: Option<Arc<Diarizer>>,
    /// Redaction of every analyzer built.
    redaction: Option<Redactor>,
    /// The sentiment model of every analyzer built (`None`: the lexicon).
    sentiment: Option<Arc<dyn SentimentModel>>,
    /// Analyzers for per-call terms, most recently used first.
    cache: Mutex<VecDeque<Entry>>,
    /// Most entries in `cache`.
    capacity: usize,
}

struct Entry {
    keywords: Vec<String>,
    competitors: Vec<String>,
    analyzer: Arc<Analyzer>,
}

impl Entry {
    fn is(&self, keywords: &[String], competitors: &[String]) -> bool {
        self.keywords == keywords && self.competitors == competitors
    }
}

/// An analyzer with these parts.
fn build(
    trackers: &Trackers,
    signals: &SignalSettings,
    diarizer: &Option<Arc<Diarizer>>,
    redaction: &Option<Redactor>,
    sentiment: &Option<Arc<dyn SentimentModel>>,
) -> Analyzer {
    let analyzer = Analyzer::new(trackers, signals.clone())
        .with_diarizer(diarizer.clone())
        .with_redaction(redaction.clone());
    match sentiment {
        Some(model) => analyzer.with_sentiment(model.clone()),
        None => analyzer,
    }
}

impl Analyzers {
    /// Builds the configured analyzer; per-call ones are built when first asked for.
    pub(crate) fn new(
        trackers: Trackers,
        signals: SignalSettings,
        diarizer: Option<Arc<Diarizer>>,
        redaction: Option<Redactor>,
        sentiment: Option<Arc<dyn SentimentModel>>,
        capacity: usize,
    ) -> Self {
        let base = Arc::new(build(&trackers, &signals, &diarizer, &redaction, &sentiment));
        Analyzers {
            base,
            trackers,
            signals,
            diarizer,
            redaction,
            sentiment,
            cache: Mutex::new(VecDeque::new()),
            capacity,
        }
    }

    /// The analyzer for a call with these extra terms (none: the configured one).
    pub(crate) fn get(&self, keywords: &[String], competitors: &[String]) -> Arc<Analyzer> {
        if keywords.is_empty() && competitors.is_empty() {
            return self.base.clone();
        }
        if let Some(a) = self.cached(keywords, competitors) {
            return a;
        }
        // Built without the lock: compiling the trackers takes a while.
        let mut trackers = self.trackers.clone();
        let terms = |kind, names: &[String]| -> Vec<Term> {
            names.iter().map(|n| Term::new(kind, n.as_str(), &[])).collect()
        };
        trackers.extend(terms(TrackerKind::Keyword, keywords));
        trackers.extend(terms(TrackerKind::Competitor, competitors));
        let built =
            Arc::new(build(&trackers, &self.signals, &self.diarizer, &self.redaction, &self.sentiment));
        // Another call may have built the same one meanwhile: keep the first.
        if let Some(a) = self.cached(keywords, competitors) {
            return a;
        }
        let mut cache = self.lock();
        cache.push_front(Entry {
            keywords: keywords.to_vec(),
            competitors: competitors.to_vec(),
            analyzer: built.clone(),
        });
        cache.truncate(self.capacity);
        built
    }

    /// A cached analyzer, moved to the front.
    fn cached(&self, keywords: &[String], competitors: &[String]) -> Option<Arc<Analyzer>> {
        let mut cache = self.lock();
        let i = cache.iter().position(|e| e.is(keywords, competitors))?;
        let entry = cache.remove(i)?;
        let analyzer = entry.analyzer.clone();
        cache.push_front(entry);
        Some(analyzer)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Entry>> {
        self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    fn analyzers(capacity: usize) -> Analyzers {
        Analyzers::new(
            Trackers::default(),
            SignalSettings::default(),
            None,
            Some(Redactor::default()),
            None,
            capacity,
        )
    }

    #[test]
    fn the_same_terms_share_one_analyzer() {
        let a = analyzers(4);
        let (k, c) = (terms(&["renewal", "pricing"]), terms(&["acme"]));
        let first = a.get(&k, &c);
        assert!(Arc::ptr_eq(&first, &a.get(&k, &c)));
        assert!(!Arc::ptr_eq(&first, &a.get(&k, &[])), "other terms, another analyzer");
        assert!(!Arc::ptr_eq(&first, &a.get(&terms(&["pricing", "renewal"]), &c)), "the order counts");
        assert!(Arc::ptr_eq(&a.get(&[], &[]), &a.base), "no terms: the configured analyzer");
    }

    #[test]
    fn the_least_recently_used_goes_first() {
        let a = analyzers(2);
        let (one, two, three) = (terms(&["one"]), terms(&["two"]), terms(&["three"]));
        let first = a.get(&one, &[]);
        let second = a.get(&two, &[]);
        assert!(Arc::ptr_eq(&first, &a.get(&one, &[])), "`one` is now the most recent");
        let _ = a.get(&three, &[]);
        assert_eq!(a.lock().len(), 2);
        assert!(Arc::ptr_eq(&first, &a.get(&one, &[])), "kept");
        assert!(!Arc::ptr_eq(&second, &a.get(&two, &[])), "evicted, so built again");
    }
}
