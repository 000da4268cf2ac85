//! `callscope worker --source dir:PATH --once`: the folder source, on the
//! embedded SQLite store (no services needed).

mod long_call;
mod model;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use callscope_store::{DateRange, SellerFilter, SqliteStore, Store};

fn root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn worker(dir: &Path, db: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_callscope"))
        .args(["worker", "--once", "--source"])
        .arg(format!("dir:{}", dir.display()))
        .env("CALLSCOPE__STORE__SQLITE_PATH", db)
        .env("CALLSCOPE__INGEST__TRANSCRIPTS_ONLY", "true")
        .env("CALLSCOPE__INGEST__METRICS_LISTEN", "")
        .env("CALLSCOPE__SIGNALS__TRACKERS", root().join("samples/trackers.toml"))
        .output()
        .expect("run worker")
}

#[tokio::test]
async fn a_folder_is_processed_once_and_bad_files_are_reported() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let calls = tmp.path().join("calls");
    std::fs::create_dir(&calls).expect("mkdir");
    for (i, name) in
        ["dev-01-crm-discovery", "dev-02-security-renewal-unhappy", "dev-03-logistics-negotiation"]
            .iter()
            .enumerate()
    {
        std::fs::copy(
            root().join(format!("samples/transcripts/{name}.json")),
            calls.join(format!("{name}.json")),
        )
        .expect("copy");
        let meta = serde_json::json!({"seller_id": format!("s-{i}"), "team": "t", "direction": "outbound"});
        std::fs::write(calls.join(format!("{name}.meta.json")), meta.to_string()).expect("sidecar");
    }
    std::fs::write(calls.join("broken.json"), br#"{"speakers":{"a":"agent"},"words":[]}"#).expect("bad");
    std::fs::write(calls.join("broken.meta.json"), br#"{"seller_id":"s-0"}"#).expect("sidecar");
    std::fs::write(calls.join("lonely.flac"), b"fLaC").expect("recording without sidecar");
    let db = tmp.path().join("callscope.db");

    let out = worker(&calls, &db);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "failures give exit code 2:\n{stderr}");
    assert!(stderr.contains("3 stored, 2 failed"), "{stderr}");
    assert!(stderr.contains("/5] dev-02-security-renewal-unhappy.json stored"), "progress lines:\n{stderr}");
    let report =
        std::fs::read_to_string(calls.join(".callscope/failed/broken.json.error.json")).expect("report");
    assert!(report.contains("invalid_transcript") && report.contains("agent"), "{report}");
    let report =
        std::fs::read_to_string(calls.join(".callscope/failed/lonely.flac.error.json")).expect("report");
    assert!(report.contains("missing_sidecar"), "{report}");

    let store = SqliteStore::open(&db).expect("db");
    let range = DateRange {
        from: chrono::NaiveDate::from_ymd_opt(2020, 1, 1).expect("date"),
        to: chrono::NaiveDate::from_ymd_opt(2030, 1, 1).expect("date"),
    };
    let calls_stored: u64 =
        store.daily(&SellerFilter::All, range).await.expect("daily").iter().map(|d| d.calls).sum();
    assert_eq!(calls_stored, 3);
    let call = store.call("dev-02-security-renewal-unhappy").await.expect("query").expect("stored");
    assert_eq!(call.summary.seller_id, "s-1", "metadata comes from the sidecar");

    // A second run skips what is done; nothing is counted twice.
    let out = worker(&calls, &db);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("0 stored, 0 failed, 5 already done"), "{stderr}");
    let again: u64 =
        store.daily(&SellerFilter::All, range).await.expect("daily").iter().map(|d| d.calls).sum();
    assert_eq!(again, 3);
}

/// A Finnish transcript through the worker: the sidecar's language is stored
/// with the call, its Finnish keywords are found in inflected forms, it has no
/// sentiment; an unknown language code fails that call alone, with the reason.
#[tokio::test]
async fn the_language_of_a_call_is_stored_and_read_with_its_rules() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let calls = tmp.path().join("calls");
    std::fs::create_dir(&calls).expect("mkdir");
    let mut transcript: serde_json::Value = serde_json::from_slice(
        &std::fs::read(root().join("samples/transcripts-fi/fi-01-crm-discovery.json")).expect("sample"),
    )
    .expect("json");
    transcript.as_object_mut().expect("object").remove("language");
    for (name, language) in [("fi-call", "fi-FI"), ("bad-language", "suomi")] {
        std::fs::write(calls.join(format!("{name}.json")), transcript.to_string()).expect("transcript");
        let meta = serde_json::json!({"call_id": name, "seller_id": "s-aino", "team": "fi-crm", "language": language});
        std::fs::write(calls.join(format!("{name}.meta.json")), meta.to_string()).expect("sidecar");
    }
    let db = tmp.path().join("callscope.db");
    let out = worker(&calls, &db);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("1 stored, 1 failed"), "{stderr}");
    let report = std::fs::read_to_string(calls.join(".callscope/failed/bad-language.json.error.json"))
        .expect("report");
    assert!(report.contains("invalid_event") && report.contains("unknown language code"), "{report}");

    let store = SqliteStore::open(&db).expect("db");
    let call = store.call("fi-call").await.expect("query").expect("stored");
    assert_eq!(call.summary.language.as_deref(), Some("fi"));
    assert_eq!(call.summary.sentiment, None, "no sentiment model reads Finnish");
    let mentions: Vec<(&str, &str)> =
        call.signals.mentions.iter().map(|m| (m.term.as_str(), m.matched.as_str())).collect();
    assert!(mentions.contains(&("kokeilu", "kokeilun")), "{mentions:?}");
    assert!(call.signals.questions.len() >= 5, "{:?}", call.signals.questions);
}

/// Ctrl-C lets the call in progress finish; a second one stops it: whisper's
/// decode is cancelled, the worker exits 0 and says so, and the call is not
/// marked done, so the next run redoes it. Needs the whisper model
/// (`CALLSCOPE_TEST_MODEL`).
#[test]
fn a_second_interrupt_stops_the_call_in_progress_and_leaves_it_undone() {
    let Some(model) = model::model() else { return };
    let tmp = tempfile::tempdir().expect("tempdir");
    let calls = tmp.path().join("calls");
    std::fs::create_dir(&calls).expect("mkdir");
    long_call::write_long_call(&calls.join("long-call.wav"));
    let meta = serde_json::json!({"seller_id": "s-0", "started_at": "2026-11-02T10:00:00Z"});
    std::fs::write(calls.join("long-call.meta.json"), meta.to_string()).expect("sidecar");
    let log_path = tmp.path().join("worker.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_callscope"))
        .args(["worker", "--once", "--source"])
        .arg(format!("dir:{}", calls.display()))
        .env("CALLSCOPE__STORE__SQLITE_PATH", tmp.path().join("c.db"))
        .env("CALLSCOPE__ASR__MODEL", &model)
        .env("CALLSCOPE__INGEST__METRICS_LISTEN", "")
        .env("RUST_LOG", "info,callscope_ingest=debug")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path).expect("log file"))
        .spawn()
        .expect("spawn the worker");
    let log = || std::fs::read_to_string(&log_path).unwrap_or_default();
    let interrupt = || {
        let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill");
        assert!(status.success());
    };
    // A deadline only to fail instead of hanging; nothing here is timed.
    let wait_for = |what: &str| {
        let deadline = Instant::now() + Duration::from_secs(120);
        while !log().contains(what) {
            assert!(Instant::now() < deadline, "no {what:?} in the log:\n{}", log());
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    wait_for("analysis started");
    interrupt();
    wait_for("interrupt again to stop them now");
    interrupt();
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "the worker did not stop:\n{}", log());
        std::thread::sleep(Duration::from_millis(50));
    };
    let log = log();
    assert!(status.success(), "exit {status}:\n{log}");
    assert!(log.contains("abandoned: analysis stopped"), "{log}");
    assert!(long_call::whisper_stopped(&log), "whisper's decode was cancelled:\n{log}");
    assert!(log.contains("0 stored, 0 failed, 0 already done, 1 stopped (redone on the next run)"), "{log}");
    let state = std::fs::read_to_string(calls.join(".callscope/state.json")).unwrap_or_default();
    assert!(!state.contains("long-call"), "not marked done: {state}");
}
