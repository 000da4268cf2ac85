//! Customer sentiment, neural model and lexicon side by side, on
//! - the hand-labelled sets of `tools/eval/sentiment/` (`calls.jsonl`, 44
//!   calls; `calls-2.jsonl`, 78; `calls-3a/b/c.jsonl` and `calls-5a/b/c.jsonl`,
//!   234 train calls; `calls-4.jsonl`,
//!   `calls-6.jsonl` and `calls-7a/b/c.jsonl` to `calls-10a/b/c.jsonl` and
//!   `calls-12a/b/c.jsonl`, `calls-13a/b/c.jsonl`, `calls-16a/b/c.jsonl` and
//!   `calls-17a/b/c.jsonl` and `calls-19a/b/c.jsonl`, 30 test calls each;
//!   `calls-18a/b/c.jsonl`, 36 test calls in the first test split's form):
//!   their `train` splits trained the head and chose the encoder layer, the
//!   context and the aggregation rule; the test splits (`test` to `test-14`)
//!   chose nothing, and `test-3` to `test-14` were each written
//!   after every choice of the model they first measured, and
//! - the six eval-dev calls (`tests/dev/`).
//!
//! Run with `--nocapture` for the confusion tables (`docs/signals.md` records
//! them). The neural model is read from `CALLSCOPE_TEST_SENTIMENT_DIR`, else
//! the repository's `models/` (tools/models/fetch_sentiment.sh and
//! fetch_diarize.sh put the encoder, the vocabulary and ONNX Runtime there);
//! without it the neural half is skipped, except under CI, where it fails.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use callscope_model::{CallSignals, Role, SentimentLabel, SentimentScore, Transcript};
use callscope_signals::neural::{self, NeuralSentiment};
use callscope_signals::{
    InContext, LexiconSentiment, SentimentModel, SignalExtractor, SignalSettings, TrackerMatcher, Trackers,
};
use serde_json::{Value, json};

mod common;
use common::confusion_table;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The sentiment model's folder: `CALLSCOPE_TEST_SENTIMENT_DIR`, else the
/// repository's `models/`.
fn models_dir() -> PathBuf {
    std::env::var_os("CALLSCOPE_TEST_SENTIMENT_DIR").map_or_else(|| root().join("models"), PathBuf::from)
}

fn neural_model() -> Option<NeuralSentiment> {
    let dir = models_dir();
    let runtime = dir.join("libonnxruntime.so.1.32.0");
    match neural::model_files(&dir).filter(|_| runtime.is_file()) {
        Some((model, vocab)) => {
            Some(NeuralSentiment::load(&model, &vocab, &runtime, 2).expect("sentiment model loads"))
        }
        None => {
            assert!(
                std::env::var_os("CI").is_none(),
                "the sentiment model is missing from {} under CI (tools/models/fetch_sentiment.sh)",
                dir.display()
            );
            eprintln!("SKIPPED: no sentiment model in {} (tools/models/fetch_sentiment.sh)", dir.display());
            None
        }
    }
}

fn label(v: &Value) -> SentimentLabel {
    match v.as_str() {
        Some("positive") => SentimentLabel::Positive,
        Some("negative") => SentimentLabel::Negative,
        Some("neutral") => SentimentLabel::Neutral,
        other => panic!("not a label: {other:?}"),
    }
}

/// The test splits, in report order.
const TEST_SPLITS: [&str; 14] = [
    "test", "test-2", "test-3", "test-4", "test-5", "test-6", "test-7", "test-8", "test-9", "test-10",
    "test-11", "test-12", "test-13", "test-14",
];

/// The labelled sets' calls; the second set's test split is `test-2`,
/// `calls-4`'s `test-3`, `calls-6`'s `test-4`, `calls-7a/b/c`'s `test-5`,
/// `calls-8a/b/c`'s `test-6`, `calls-9a/b/c`'s `test-7`, `calls-10a/b/c`'s
/// `test-8`, `calls-12a/b/c`'s `test-9`, `calls-13a/b/c`'s `test-10`,
/// `calls-16a/b/c`'s `test-11`, `calls-17a/b/c`'s `test-12`, `calls-18a/b/c`'s
/// `test-13` (36 calls in `test`'s form), `calls-19a/b/c`'s `test-14`. The
/// train batches `calls-11a/b/c` and `calls-15a..e` (not trained on) and
/// `calls-14a..f` (trained on) are not read here.
fn labelled_calls() -> Vec<Value> {
    let mut calls = Vec::new();
    for (file, test) in [
        ("calls.jsonl", "test"),
        ("calls-2.jsonl", "test-2"),
        ("calls-3a.jsonl", "-"),
        ("calls-3b.jsonl", "-"),
        ("calls-3c.jsonl", "-"),
        ("calls-4.jsonl", "test-3"),
        ("calls-5a.jsonl", "-"),
        ("calls-5b.jsonl", "-"),
        ("calls-5c.jsonl", "-"),
        ("calls-6.jsonl", "test-4"),
        ("calls-7a.jsonl", "test-5"),
        ("calls-7b.jsonl", "test-5"),
        ("calls-7c.jsonl", "test-5"),
        ("calls-8a.jsonl", "test-6"),
        ("calls-8b.jsonl", "test-6"),
        ("calls-8c.jsonl", "test-6"),
        ("calls-9a.jsonl", "test-7"),
        ("calls-9b.jsonl", "test-7"),
        ("calls-9c.jsonl", "test-7"),
        ("calls-10a.jsonl", "test-8"),
        ("calls-10b.jsonl", "test-8"),
        ("calls-10c.jsonl", "test-8"),
        ("calls-12a.jsonl", "test-9"),
        ("calls-12b.jsonl", "test-9"),
        ("calls-12c.jsonl", "test-9"),
        ("calls-13a.jsonl", "test-10"),
        ("calls-13b.jsonl", "test-10"),
        ("calls-13c.jsonl", "test-10"),
        ("calls-16a.jsonl", "test-11"),
        ("calls-16b.jsonl", "test-11"),
        ("calls-16c.jsonl", "test-11"),
        ("calls-17a.jsonl", "test-12"),
        ("calls-17b.jsonl", "test-12"),
        ("calls-17c.jsonl", "test-12"),
        ("calls-18a.jsonl", "test-13"),
        ("calls-18b.jsonl", "test-13"),
        ("calls-18c.jsonl", "test-13"),
        ("calls-19a.jsonl", "test-14"),
        ("calls-19b.jsonl", "test-14"),
        ("calls-19c.jsonl", "test-14"),
    ] {
        let text = std::fs::read_to_string(root().join("tools/eval/sentiment").join(file)).expect(file);
        for line in text.lines() {
            let mut call: Value = serde_json::from_str(line).expect("json line");
            if call["split"] == "test" {
                call["split"] = json!(test);
            }
            calls.push(call);
        }
    }
    calls
}

/// A labelled call as a transcript: words 0.3 s apart, 0.6 s between lines,
/// so that turns are segmented as in production.
fn transcript(call: &Value) -> Transcript {
    let mut words = Vec::new();
    let mut t = 0.5;
    for line in call["lines"].as_array().expect("lines") {
        let speaker = if line["role"] == "seller" { "A" } else { "B" };
        for w in line["text"].as_str().expect("text").split_whitespace() {
            words.push(json!({"text": w, "start": t, "end": t + 0.25, "speaker": speaker}));
            t += 0.3;
        }
        t += 0.6;
    }
    let doc = json!({
        "call_id": call["call_id"], "seller_id": "s-eval", "started_at": "2026-12-01T10:00:00Z",
        "duration_s": t + 1.0, "speakers": {"A": "seller", "B": "customer"}, "words": words,
    });
    Transcript::from_json_slice(&serde_json::to_vec(&doc).expect("json")).expect("valid transcript")
}

fn dev_calls() -> Vec<(Transcript, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dev");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/dev")
        .filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".truth.json").map(str::to_owned))
        .collect();
    names.sort();
    names
        .iter()
        .map(|name| {
            let read = |suffix: &str| std::fs::read(dir.join(format!("{name}.{suffix}"))).expect("file");
            let t = Transcript::from_json_slice(&read("transcript.json")).expect("transcript");
            (t, serde_json::from_slice(&read("truth.json")).expect("truth"))
        })
        .collect()
}

/// The dev set's index in `Report::calls`.
const DEV: usize = TEST_SPLITS.len() + 1;

struct Report {
    /// Call-level accuracy: train splits, then each of `TEST_SPLITS`, then
    /// the dev set (`DEV`).
    calls: [f64; DEV + 1],
}

/// Each customer line of `lines` (objects with `role` and `text`) with the
/// seller's lines just before and after it.
fn customer_lines_in_context<'a>(lines: &[&'a Value]) -> Vec<(&'a Value, InContext<'a>)> {
    let roles: Vec<Role> = lines
        .iter()
        .map(|l| match l["role"].as_str() {
            Some("seller") => Role::Seller,
            Some("customer") => Role::Customer,
            _ => Role::Other,
        })
        .collect();
    let texts: Vec<&str> = lines.iter().map(|l| l["text"].as_str().unwrap_or_default()).collect();
    InContext::customer_turns(&roles, &texts).into_iter().map(|(i, turn)| (lines[i], turn)).collect()
}

/// Labels of customer lines: in context for a model that reads whole turns,
/// else as the extractor scores an utterance (the lexicon, by sentences).
fn line_labels(
    model: &dyn SentimentModel,
    extractor: &SignalExtractor<Arc<dyn SentimentModel>>,
    lines: &[(&Value, InContext<'_>)],
) -> Vec<callscope_model::SentimentScore> {
    if model.whole_turns() {
        let turns: Vec<InContext<'_>> = lines.iter().map(|(_, c)| *c).collect();
        model.score_in_context(&turns)
    } else {
        lines.iter().map(|(_, c)| extractor.utterance_sentiment(c.text)).collect()
    }
}

/// With `SENTIMENT_DUMP=FILE`, appends one call's result to FILE as a JSON
/// line: the customer turns as the aggregation sees them (for choosing the
/// rule), the call's label and score, and each labelled customer line's label
/// (for tools/eval/sentiment/agreement.py).
fn dump(
    model: &dyn SentimentModel,
    signals: &CallSignals,
    call_id: Value,
    split: &str,
    customer: &SentimentScore,
    lines: &[&str],
) {
    let Ok(path) = std::env::var("SENTIMENT_DUMP") else { return };
    use std::io::Write;
    let turns: Vec<Value> = signals
        .sentiment
        .timeline
        .iter()
        .filter(|p| p.role == Role::Customer)
        .map(|p| json!({"label": p.label.as_str(), "score": p.score, "start": p.start, "end": p.end}))
        .collect();
    let row = json!({"model": model.name(), "call_id": call_id, "split": split, "got": customer.label.as_str(),
                     "score": customer.score, "lines": lines, "turns": turns});
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path).expect("dump");
    writeln!(f, "{row}").expect("dump");
}

fn evaluate(name: &str, model: Arc<dyn SentimentModel>) -> Report {
    let extractor =
        SignalExtractor::new(TrackerMatcher::new(&Trackers::default()).0, SignalSettings::default())
            .with_sentiment(model.clone());
    let calls = labelled_calls();
    let mut out = format!("\n===== {name} ({}) =====\n", model.name());
    let mut accuracies = [0.0; DEV + 1];
    for (i, split) in ["train"].iter().chain(&TEST_SPLITS).enumerate() {
        let mut call_rows = Vec::new();
        let mut line_rows = Vec::new();
        for call in calls.iter().filter(|c| c["split"] == *split) {
            let all: Vec<&Value> = call["lines"].as_array().expect("lines").iter().collect();
            let lines = customer_lines_in_context(&all);
            let mut lines_got = Vec::new();
            for ((line, _), got) in lines.iter().zip(line_labels(model.as_ref(), &extractor, &lines)) {
                line_rows.push((label(&line["label"]), got.label));
                lines_got.push(got.label.as_str());
                if std::env::var_os("SHOW_SENTIMENT_ERRORS").is_some()
                    && line_rows.last().is_some_and(|r| r.0 != r.1)
                {
                    eprintln!(
                        "  line {:?} -> {:?} ({:+.2}): {}",
                        line_rows.last().map(|r| r.0),
                        got.label,
                        got.score,
                        line["text"]
                    );
                }
            }
            let signals = extractor.extract(&transcript(call));
            let customer = signals.sentiment.customer.expect("the customer speaks");
            dump(model.as_ref(), &signals, call["call_id"].clone(), split, &customer, &lines_got);
            let got = customer.label;
            if std::env::var_os("SHOW_SENTIMENT_ERRORS").is_some() && got != label(&call["call_label"]) {
                eprintln!("  call {} {} -> {got:?}", call["call_id"], call["call_label"]);
            }
            call_rows.push((label(&call["call_label"]), got));
        }
        let (table, acc) = confusion_table(&call_rows);
        accuracies[i] = acc;
        out += &format!("set {split}: calls\n{table}");
        out += &format!("set {split}: customer lines\n{}", confusion_table(&line_rows).0);
    }
    let mut call_rows = Vec::new();
    let mut line_rows = Vec::new();
    for (t, truth) in dev_calls() {
        let s = extractor.extract(&t);
        let customer = s.sentiment.customer.expect("the customer speaks");
        call_rows.push((label(&truth["expected_call_sentiment"]), customer.label));
        let turns: Vec<&Value> =
            truth["turns"].as_array().expect("turns").iter().filter(|x| x["kind"] == "turn").collect();
        let lines = customer_lines_in_context(&turns);
        let mut lines_got = Vec::new();
        for ((turn, _), got) in lines.iter().zip(line_labels(model.as_ref(), &extractor, &lines)) {
            line_rows.push((label(&turn["expected_sentiment"]), got.label));
            lines_got.push(got.label.as_str());
        }
        dump(model.as_ref(), &s, truth["call_id"].clone(), "eval-dev", &customer, &lines_got);
    }
    let (table, acc) = confusion_table(&call_rows);
    accuracies[DEV] = acc;
    out += &format!("eval-dev: calls\n{table}eval-dev: customer lines\n{}", confusion_table(&line_rows).0);
    eprintln!("{out}");
    Report { calls: accuracies }
}

/// The encoder, tokenizer and head reproduce the training script's
/// probabilities for the head file's check sentences.
#[test]
fn neural_model_matches_the_training_script() {
    let Some(model) = neural_model() else { return };
    let head = neural::head();
    let got = model.probabilities(&neural::head_checks(head)).expect("runs");
    for (check, p) in head.checks.iter().zip(got) {
        for k in 0..3 {
            assert!(
                (check.probabilities[k] - p[k]).abs() < 2e-3,
                "{}: {p:?} vs {:?}",
                check.text,
                check.probabilities
            );
        }
    }
}

#[test]
fn customer_sentiment_quality() {
    let lexicon = evaluate("lexicon", Arc::new(LexiconSentiment::new()));
    let Some(model) = neural_model() else { return };
    let neural = evaluate("neural", Arc::new(model));
    eprintln!(
        "call-level accuracy [train, {}, dev]: lexicon {:?}, neural {:?}",
        TEST_SPLITS.join(", "),
        lexicon.calls,
        neural.calls
    );
    // Guards against regressions of the figures in docs/signals.md (test
    // 14/18, test-2 27/30, test-3 27/30, test-4 29/30, test-5 28/30, test-6
    // 28/30, test-7 29/30, test-8 26/30, test-9 27/30, test-10 30/30,
    // test-11 30/30, test-12 27/30, test-13 33/36, test-14 25/30, eval-dev
    // 6/6), one call of slack on each for last-bit differences between CPUs'
    // float kernels. None chose anything for the shipped model (`-ctx-v7`);
    // test-12 to test-14 were written after it was fixed. `test` and test-14
    // are below the 85 %, the fourteen together at 91.8 %
    // (docs/signals.md, "A replication of the first test split").
    // (right, of) for each of `TEST_SPLITS`, in order.
    const AT_LEAST: [(u32, u32); TEST_SPLITS.len()] = [
        (13, 18),
        (26, 30),
        (26, 30),
        (28, 30),
        (27, 30),
        (27, 30),
        (28, 30),
        (25, 30),
        (26, 30),
        (29, 30),
        (29, 30),
        (26, 30),
        (32, 36),
        (24, 30),
    ];
    for ((split, (right, of)), got) in TEST_SPLITS.iter().zip(AT_LEAST).zip(&neural.calls[1..DEV]) {
        assert!(*got >= f64::from(right) / f64::from(of) - 1e-9, "{split} split: {:?}", neural.calls);
    }
    assert!(neural.calls[DEV] >= 5.0 / 6.0 - 1e-9, "eval-dev: {:?}", neural.calls);
    let held_out =
        |r: &Report| r.calls[1..DEV].iter().zip(AT_LEAST).map(|(a, (_, of))| a * f64::from(of)).sum::<f64>();
    assert!(
        held_out(&neural) > held_out(&lexicon) + 10.0,
        "the neural model must beat the lexicon on the test splits: {:?} vs {:?}",
        neural.calls,
        lexicon.calls
    );
}

/// Files that do not go with the shipped head (here: the vocabulary in
/// reverse order, so every text becomes other tokens) are refused at load
/// with a message that says what to do, never used to score calls.
#[test]
fn an_encoder_the_head_was_not_trained_on_is_refused() {
    let dir = models_dir();
    let Some((model, vocab)) = neural::model_files(&dir) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "the sentiment model is missing from {} under CI",
            dir.display()
        );
        return;
    };
    let runtime = dir.join("libonnxruntime.so.1.32.0");
    let text = std::fs::read_to_string(&vocab).expect("vocabulary");
    let reversed: Vec<&str> = text.lines().rev().collect();
    let tmp = tempfile::tempdir().expect("tempdir");
    let wrong = tmp.path().join("vocab.txt");
    std::fs::write(&wrong, reversed.join("\n") + "\n").expect("write");
    let err =
        NeuralSentiment::load(&model, &wrong, &runtime, 1).expect_err("a mismatched encoder must not load");
    let msg = err.to_string();
    assert!(
        msg.contains("not the encoder the sentiment head") && msg.contains("fetch_sentiment.sh"),
        "{msg}"
    );
    // The unchecked loader (benches only) takes it.
    assert!(NeuralSentiment::load_unchecked(&model, &wrong, &runtime, 1).is_ok());
}
