//! Customer sentiment on a 60-minute call: the neural model
//! (all-MiniLM-L6-v2 int8 + head, `callscope_signals::NeuralSentiment`) against
//! the lexicon (VADER) in the same run. Target (issue 19): ≤ 200 ms per
//! 60-minute call on 2 cores, model load excluded and reported separately.
//!
//! Run: `cargo bench -p callscope-benches --bench sentiment` with the model in
//! `models/` (tools/models/fetch_sentiment.sh, fetch_diarize.sh) or
//! `CALLSCOPE_SENTIMENT_DIR`. `SENTIMENT_THREADS` sets ONNX Runtime's intra-op
//! threads (default 2). Plain timing (median of rounds), not criterion: a
//! neural pass takes seconds.
#![allow(missing_docs)]

use std::path::PathBuf;
use std::time::Instant;

use callscope_benches::realistic_call;
use callscope_model::Role;
use callscope_signals::neural::{self, NeuralSentiment};
use callscope_signals::{
    InContext, LexiconSentiment, SentimentModel, SignalExtractor, SignalSettings, TrackerMatcher, Trackers,
};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn time<S: SentimentModel>(
    extractor: &SignalExtractor<S>,
    call: &callscope_model::Transcript,
    rounds: usize,
) -> f64 {
    let runs: Vec<f64> = (0..rounds)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(extractor.extract(std::hint::black_box(call)));
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    median(runs)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "CPU: {cpu}, {cores} cores available; load average {}",
        load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
    );

    let call = realistic_call(60.0);
    let words = callscope_kpi::sorted_words(&call);
    let seg = callscope_kpi::segment_turns(&words);
    let customer = seg.turns.iter().filter(|t| t.role == Role::Customer).count();
    println!("call: 60 min, {} words, {} turns ({customer} customer)", call.words.len(), seg.turns.len());

    let matcher = TrackerMatcher::new(&Trackers::default()).0;
    let lexicon =
        SignalExtractor::with_model(matcher.clone(), LexiconSentiment::new(), SignalSettings::default());
    println!("lexicon (vader-sales-v1), all signals: {:.1} ms (median of 11)", time(&lexicon, &call, 11));

    let dir = std::env::var_os("CALLSCOPE_SENTIMENT_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models"), PathBuf::from);
    let Some((model, vocab)) = neural::model_files(&dir) else {
        println!("SKIPPED neural: no model in {} (tools/models/fetch_sentiment.sh)", dir.display());
        return;
    };
    let threads = std::env::var("SENTIMENT_THREADS").ok().and_then(|t| t.parse().ok()).unwrap_or(2);
    // The turns' texts, as the extractor joins them.
    let mut texts = vec![String::new(); seg.turns.len()];
    for (pos, turn) in seg.turn_of.iter().enumerate() {
        if let Some(t) = turn {
            let text = &mut texts[*t as usize];
            text.push_str(call.words[words[pos].index].text.trim());
            text.push(' ');
        }
    }
    // The customer's turns with the seller's turns around them, as the
    // extractor reads them.
    let roles: Vec<Role> = seg.turns.iter().map(|t| t.role).collect();
    let turn_texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    let customer_turns: Vec<InContext<'_>> =
        InContext::customer_turns(&roles, &turn_texts).into_iter().map(|(_, turn)| turn).collect();
    // `SENTIMENT_COMPARE=FILE`: another encoder (say, the whole six-layer
    // all-MiniLM-L6-v2 of the first model) timed in the same run, after the
    // shipped one; its labels are meaningless with the shipped head, only its
    // time counts.
    let model_file = model.clone();
    let mut encoders = vec![model];
    encoders.extend(std::env::var_os("SENTIMENT_COMPARE").map(PathBuf::from));
    for encoder in encoders {
        let t = Instant::now();
        // The comparison encoder does not match the shipped head: unchecked.
        let runtime = dir.join("libonnxruntime.so.1.32.0");
        let model = if encoder == model_file {
            NeuralSentiment::load(&encoder, &vocab, &runtime, threads)
        } else {
            NeuralSentiment::load_unchecked(&encoder, &vocab, &runtime, threads)
        }
        .expect("model");
        println!(
            "{}: load (ONNX Runtime, encoder, vocabulary): {:.0} ms",
            encoder.display(),
            t.elapsed().as_secs_f64() * 1000.0
        );
        let tokens: usize = customer_turns.iter().map(|t| model.vocab().ids(t.text).len() + 2).sum();
        let runs: Vec<f64> = (0..5)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(model.score_in_context(&customer_turns));
                t.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        println!(
            "  customer turns through the encoder, with the seller's turns around them as context ({} turns, \
             {tokens} tokens without the context): {:.0} ms (median of 5)",
            customer_turns.len(),
            median(runs)
        );
        let neural = SignalExtractor::with_model(matcher.clone(), model, SignalSettings::default());
        let first = time(&neural, &call, 1);
        println!(
            "  ({}) all signals of the call, {threads} threads: first run {first:.0} ms, then {:.0} ms (median of 5)",
            neural.sentiment_model(),
            time(&neural, &call, 5)
        );
    }
}
