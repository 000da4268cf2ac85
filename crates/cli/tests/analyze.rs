//! `callscope analyze --transcript`: output contract, batch mode and error messages,
//! tested through the real binary; and `callscope eval` on given transcripts.

mod model;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn callscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_callscope"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run callscope")
}

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/transcripts/dev-01-crm-discovery.json")
}

fn write(dir: &Path, name: &str, body: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, body).expect("write fixture");
    path.to_str().expect("utf-8 path").to_owned()
}

fn stdout_lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each stdout line is JSON"))
        .collect()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

const GOOD: &str = r#"{"call_id": "c-1", "speakers": {"a": "seller", "b": "customer"}, "words": [
    {"text": "Hello", "start": 0.0, "end": 0.5, "speaker": "a"},
    {"text": "hi", "start": 1.0, "end": 1.5, "speaker": "b"}]}"#;

#[test]
fn json_is_the_default_when_piped() {
    let out = callscope(&["analyze", "--transcript", sample().to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines = stdout_lines(&out);
    assert_eq!(lines.len(), 1);
    let line = &lines[0];
    assert_eq!(line["call_id"], "dev-01-crm-discovery");
    assert_eq!(line["kpi_version"], 1);
    // The values of the held-out reference implementation for this call.
    assert_eq!(line["kpis"]["talk_ratio"], 0.6017814355662046);
    assert_eq!(line["kpis"]["switches"], 16);
    assert_eq!(line["kpis"]["longest_customer_monologue_s"], 9.08);
    for key in [
        "seller_talk_s",
        "customer_talk_s",
        "talk_ratio",
        "seller_wpm",
        "customer_wpm",
        "switches",
        "switches_per_hour",
        "avg_pause_s",
        "longest_customer_monologue_s",
        "longest_seller_monologue_s",
        "interruptions",
        "seller_questions",
    ] {
        assert!(line["kpis"].get(key).is_some(), "missing kpis.{key}");
    }
}

#[test]
fn table_format_is_human_readable() {
    let out = callscope(&["analyze", "--transcript", sample().to_str().expect("utf-8"), "--format", "table"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("dev-01-crm-discovery"), "{text}");
    assert!(text.contains("Talk-to-listen ratio (seller share)") && text.contains("60.2 %"), "{text}");
    assert!(text.contains("Longest customer monologue") && text.contains("9.08 s"), "{text}");
}

#[test]
fn empty_call_gives_zeros_and_nulls() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = write(dir.path(), "empty.json", r#"{"speakers": {}, "words": []}"#);
    let out = callscope(&["analyze", "--transcript", &f]);
    assert!(out.status.success(), "{}", stderr(&out));
    let k = &stdout_lines(&out)[0]["kpis"];
    assert_eq!(k["seller_talk_s"], 0.0);
    assert_eq!(k["switches"], 0);
    assert!(k["talk_ratio"].is_null() && k["avg_pause_s"].is_null() && k["switches_per_hour"].is_null());
}

/// Each bad input: exit code 2 and a message naming the file and the field.
#[test]
fn bad_input_names_file_and_field() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = [
        ("malformed.json", r#"{"speakers": {"a": "seller"}, "words": [}"#, "line 1"),
        (
            "unknown_speaker.json",
            r#"{"speakers": {"a": "seller"}, "words": [{"text": "x", "start": 0, "end": 1, "speaker": "a"},
               {"text": "y", "start": 1, "end": 2, "speaker": "zz"}]}"#,
            r#"words[1].speaker: speaker "zz" is not declared in `speakers`"#,
        ),
        (
            "end_before_start.json",
            r#"{"speakers": {"a": "seller"}, "words": [{"text": "x", "start": 3, "end": 1, "speaker": "a"}]}"#,
            "words[0].end: end (1) is before start (3)",
        ),
        (
            "negative.json",
            r#"{"speakers": {"a": "seller"}, "words": [{"text": "x", "start": -1, "end": 1, "speaker": "a"}]}"#,
            "words[0].start: time must not be negative",
        ),
        (
            "overflow.json",
            r#"{"speakers": {"a": "seller"}, "words": [{"text": "x", "start": 0, "end": 1e999, "speaker": "a"}]}"#,
            "words[0].end",
        ),
        (
            "unknown_role.json",
            r#"{"speakers": {"a": "agent"}, "words": []}"#,
            "speakers.a: unknown variant `agent`",
        ),
        ("missing_words.json", r#"{"speakers": {}}"#, "missing field `words`"),
    ];
    for (name, body, needle) in cases {
        let f = write(dir.path(), name, body);
        let out = callscope(&["analyze", "--transcript", &f]);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains(&f), "{name}: stderr does not name the file: {err}");
        assert!(err.contains(needle), "{name}: stderr lacks {needle:?}: {err}");
        assert!(out.stdout.is_empty(), "{name}: printed output for a bad file");
    }
}

#[test]
fn missing_file_is_bad_input() {
    let out = callscope(&["analyze", "--transcript", "/nonexistent/call.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("/nonexistent/call.json: cannot read file"), "{}", stderr(&out));
}

#[test]
fn batch_reports_bad_files_and_keeps_going() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "a.json", GOOD);
    let bad = write(
        dir.path(),
        "b.json",
        r#"{"speakers": {"a": "seller"}, "words": [{"text": "x", "start": 0, "end": 1, "speaker": "q"}]}"#,
    );
    write(dir.path(), "c.json", &GOOD.replace("c-1", "c-3"));
    write(dir.path(), "notes.txt", "not a transcript");
    let out = callscope(&["analyze", "--transcript", dir.path().to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(2), "one bad file makes the run fail at the end");
    let ids: Vec<_> = stdout_lines(&out).iter().map(|l| l["call_id"].clone()).collect();
    assert_eq!(ids, ["c-1", "c-3"], "good files are analysed, in sorted order");
    let err = stderr(&out);
    assert!(err.contains(&bad) && err.contains("words[0].speaker"), "{err}");
    assert!(err.contains("1 of 3 input(s) failed"), "{err}");
}

#[test]
fn several_files_and_stdin() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = write(dir.path(), "a.json", GOOD);
    let mut child = Command::new(env!("CARGO_BIN_EXE_callscope"))
        .args(["analyze", "--transcript", &a, "--transcript", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(GOOD.replace("c-1", "c-stdin").as_bytes()).expect("write stdin");
    }
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success(), "{}", stderr(&out));
    let lines = stdout_lines(&out);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["call_id"], "c-1");
    assert_eq!(lines[1]["call_id"], "c-stdin");
    assert_eq!(lines[1]["source"], "-");
}

fn trackers_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../signals/tests/dev/trackers.toml")
}

#[test]
fn signals_are_in_the_output() {
    let out = callscope(&[
        "analyze",
        "--transcript",
        sample().to_str().expect("utf-8"),
        "--trackers",
        trackers_file().to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let line = &stdout_lines(&out)[0];
    let signals = &line["signals"];
    for key in ["mentions", "customer_keywords", "sentiment", "questions", "action_items"] {
        assert!(signals.get(key).is_some(), "missing signals.{key}");
    }
    let mentions = signals["mentions"].as_array().expect("array");
    assert!(
        mentions
            .iter()
            .any(|m| m["term"] == "HubSpot" && m["kind"] == "competitor" && m["role"] == "customer"),
        "{mentions:?}"
    );
    assert!(signals["sentiment"]["customer"]["label"].is_string());
    assert!(!signals["sentiment"]["timeline"].as_array().expect("array").is_empty());
    assert!(signals["action_items"].as_array().expect("array").iter().any(|a| a["owner"] == "seller"));
}

#[test]
fn trackers_from_config_file_and_env() {
    let dir = tempfile::tempdir().expect("tempdir");
    let trackers = write(dir.path(), "t.toml", "[[competitor]]\nname = \"Salesforce\"\n");
    let config = write(dir.path(), "c.toml", &format!("[signals]\ntrackers = {trackers:?}\n"));
    let out = callscope(&["analyze", "--config", &config, "--transcript", sample().to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let terms: Vec<_> = stdout_lines(&out)[0]["signals"]["mentions"]
        .as_array()
        .expect("array")
        .iter()
        .map(|m| m["term"].clone())
        .collect();
    assert!(!terms.is_empty() && terms.iter().all(|t| t == "Salesforce"), "{terms:?}");

    let out = Command::new(env!("CARGO_BIN_EXE_callscope"))
        .args(["analyze", "--transcript", sample().to_str().expect("utf-8")])
        .env("CALLSCOPE__SIGNALS__TRACKERS", "/nonexistent/trackers.toml")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("/nonexistent/trackers.toml: cannot read trackers file"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bad_trackers_file_names_line_and_field() {
    let dir = tempfile::tempdir().expect("tempdir");
    let t = write(dir.path(), "t.toml", "[[competitor]]\nname = \"A\"\naliasses = [\"b\"]\n");
    let out = callscope(&["analyze", "--transcript", sample().to_str().expect("utf-8"), "--trackers", &t]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains(&t) && err.contains("line 3") && err.contains("aliasses"), "{err}");

    let t = write(
        dir.path(),
        "dup.toml",
        "[[competitor]]\nname = \"Pipedrive\"\n[[keyword]]\nname = \"Pipe drive\"\n",
    );
    let out = callscope(&["analyze", "--transcript", sample().to_str().expect("utf-8"), "--trackers", &t]);
    assert!(out.status.success(), "a collision is a warning, not an error");
    assert!(stderr(&out).contains("warning:") && stderr(&out).contains("line 4"), "{}", stderr(&out));
}

fn analyze_with_sentiment(dir: &Path, transcript: &Path) -> Output {
    model::with_sentiment(
        Command::new(env!("CARGO_BIN_EXE_callscope"))
            .args(["analyze", "--transcript", transcript.to_str().expect("utf-8")])
            .stdin(Stdio::null()),
        dir,
    )
    .output()
    .expect("run callscope")
}

/// `analyze` scores sentiment with the neural model when its files are there
/// (CI fetches them): no fallback warning, and the unhappy renewal call's
/// customer is negative.
#[test]
fn analyze_uses_the_sentiment_model_when_present() {
    let Some(dir) = model::sentiment() else { return };
    let call = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../signals/tests/dev/dev-02-security-renewal-unhappy.transcript.json");
    let out = analyze_with_sentiment(&dir, &call);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("lexicon"), "{}", stderr(&out));
    let line = &stdout_lines(&out)[0];
    assert_eq!(line["signals"]["sentiment"]["customer"]["label"], "negative", "{line}");
}

/// Without the model files, `analyze` falls back to the lexicon and says so.
#[test]
fn analyze_falls_back_to_the_lexicon_without_the_model() {
    let empty = tempfile::tempdir().expect("tempdir");
    let out = analyze_with_sentiment(empty.path(), &sample());
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("warning: sentiment is scored by the lexicon"), "{}", stderr(&out));
    assert!(stdout_lines(&out)[0]["signals"]["sentiment"]["customer"]["label"].is_string());
}

/// `callscope eval --mono --transcripts DIR --save-analyses OUT` scores given
/// transcripts (here the reference itself) and keeps each call's analysis,
/// words and speakers included, for looking into what was scored.
#[test]
fn eval_keeps_each_calls_analysis_when_asked() {
    let set = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/eval");
    let call = "dev-06-freight-cold-call";
    let reference = set.join("calls").join(call).join("transcript.json");
    let given = tempfile::tempdir().expect("tempdir");
    std::fs::copy(&reference, given.path().join(format!("{call}.json"))).expect("copy the reference");
    let out_dir = tempfile::tempdir().expect("tempdir");
    let saved = out_dir.path().join("analyses");
    let path = |p: &Path| p.to_str().expect("utf-8 path").to_owned();
    let out = callscope(&[
        "eval",
        &path(&set),
        "--mono",
        "--transcripts",
        &path(given.path()),
        "--json",
        "--save-analyses",
        &path(&saved),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let row = &stdout_lines(&out)[0];
    assert_eq!(row["wer"].as_f64(), Some(0.0), "the reference scored against itself: {row}");
    let analysis: Value = serde_json::from_slice(
        &std::fs::read(saved.join(format!("{call}.json"))).expect("the saved analysis"),
    )
    .expect("JSON");
    let words = analysis["transcript"]["words"].as_array().expect("words");
    let reference: Value = serde_json::from_slice(&std::fs::read(&reference).expect("read")).expect("JSON");
    assert_eq!(words.len(), reference["words"].as_array().expect("reference words").len());
    assert!(words.iter().all(|w| w["speaker"].is_string()), "{analysis}");
    assert!(analysis["kpis"].is_object(), "{analysis}");
}
