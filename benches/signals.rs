//! Signals on a 60-minute call: 500 tracked terms, sentiment, questions,
//! action items and customer keywords. Target: < 5 ms per call.
//! Run: `cargo bench -p callscope-benches --bench signals`.
#![allow(missing_docs)] // criterion_group! generates undocumented items

use callscope_benches::{realistic_call, trackers_toml};
use callscope_signals::{SignalExtractor, SignalSettings, TrackerMatcher, Trackers};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn signals(c: &mut Criterion) {
    let call = realistic_call(60.0);
    let (trackers, _) = Trackers::from_toml_str(&trackers_toml(500)).expect("valid trackers");
    assert_eq!(trackers.terms.len(), 500);
    let (matcher, _) = TrackerMatcher::new(&trackers);
    let extractor = SignalExtractor::new(matcher.clone(), SignalSettings::default());
    let words = callscope_kpi::sorted_words(&call);

    let mut group = c.benchmark_group("signals");
    group.throughput(Throughput::Elements(call.words.len() as u64));
    group.bench_function(format!("all_signals_500_terms_60min_{}_words", call.words.len()), |b| {
        b.iter(|| extractor.extract(std::hint::black_box(&call)));
    });
    let long_call = realistic_call(180.0);
    group.bench_function(format!("all_signals_500_terms_180min_{}_words", long_call.words.len()), |b| {
        b.iter(|| extractor.extract(std::hint::black_box(&long_call)));
    });
    group.bench_function("trackers_only_500_terms_60min", |b| {
        b.iter(|| matcher.find(std::hint::black_box(&call), &words, 6));
    });
    group.bench_function("compile_500_terms", |b| {
        b.iter(|| TrackerMatcher::new(std::hint::black_box(&trackers)));
    });
    group.finish();
}

criterion_group!(benches, signals);
criterion_main!(benches);
