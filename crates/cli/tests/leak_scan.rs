//! Issue 20's leak test: calls that read out a card number and a Finnish
//! identity code go through the real worker, one stored and one
//! dead-lettered, on both backends; then every table (every column of every
//! row), the dead letters, the worker's log and its metrics are scanned for
//! the raw values.
//!
//! - SQLite: `callscope worker --source dir:` (the folder source), every
//!   column of every table read through SQLite, and the database files' raw
//!   bytes (free pages and the WAL included); the folder's dead letters
//!   (`.callscope/failed/`).
//! - ClickHouse: `callscope worker --source kafka` against the broker and the
//!   ClickHouse front of the worker tests, every table dumped whole
//!   (`FORMAT JSONEachRow`), the dead-letter topic, `/metrics`.
//!
//! Each scan must also find the placeholders, so a scan that reads nothing
//! cannot pass.

mod common;

use std::io::{Read, Write};
use std::process::Command;
use std::time::Duration;

use common::{World, free_port, http_body, root, wait_until};

/// What must never be stored, logged or dead-lettered: the card number
/// `4539 1488 0343 6467` (Luhn-valid) and the identity code `131052-308T`, in
/// every shape they could take in a table, a JSON column (escaped, in a
/// ClickHouse dump), a log line.
const NEEDLES: &[&str] = &[
    "4539 1488",
    "1488 0343",
    "0343 6467",
    "4539148803436467",
    r#""4539""#,
    r#""6467""#,
    r#"\"4539\""#,
    r#"\"6467\""#,
    "131052",
    "308T",
];

/// The needles found in `text`, in any case (keywords are lowercased).
fn leaks(text: &str) -> Vec<&'static str> {
    let text = text.to_lowercase();
    NEEDLES.iter().copied().filter(|n| text.contains(&n.to_lowercase())).collect()
}

/// The words of a call in which the customer reads out both values.
fn words() -> Vec<serde_json::Value> {
    let said = [
        ("a", "can"),
        ("a", "I"),
        ("a", "have"),
        ("a", "your"),
        ("a", "card?"),
        ("b", "sure"),
        ("b", "it's"),
        ("b", "4539"),
        ("b", "1488"),
        ("b", "0343"),
        ("b", "6467"),
        ("b", "and"),
        ("b", "my"),
        ("b", "hetu"),
        ("b", "is"),
        ("b", "131052-308T."),
        ("a", "thanks"),
    ];
    said.iter()
        .enumerate()
        .map(|(i, (speaker, text))| {
            serde_json::json!({"text": text, "start": i as f64, "end": i as f64 + 0.8, "speaker": speaker})
        })
        .collect()
}

/// A valid transcript with the personal data.
fn transcript() -> serde_json::Value {
    serde_json::json!({"speakers": {"a": "seller", "b": "customer"}, "words": words()})
}

/// An invalid one (a word by an undeclared speaker) with the same data: it is
/// dead-lettered.
fn invalid_transcript() -> serde_json::Value {
    let mut words = words();
    words.push(serde_json::json!({"text": "bye", "start": 30.0, "end": 30.5, "speaker": "x"}));
    serde_json::json!({"speakers": {"a": "seller", "b": "customer"}, "words": words})
}

/// A log without its timestamps (a time's digits could spell a needle).
fn untimed(log: &str) -> String {
    log.lines()
        .map(|l| match l.split_once(' ') {
            Some((first, rest))
                if first.ends_with('Z') && first.starts_with(|c: char| c.is_ascii_digit()) =>
            {
                rest
            }
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn nothing_raw_reaches_sqlite_the_failed_folder_or_the_log() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let calls = tmp.path().join("calls");
    std::fs::create_dir(&calls).expect("mkdir");
    let meta = serde_json::json!({"seller_id": "s-leak", "team": "t", "started_at": "2026-11-02T10:00:00Z"});
    for (name, transcript) in [("leak-ok", transcript()), ("leak-bad", invalid_transcript())] {
        std::fs::write(calls.join(format!("{name}.json")), transcript.to_string()).expect("write");
        std::fs::write(calls.join(format!("{name}.meta.json")), meta.to_string()).expect("write");
    }
    let db_dir = tmp.path().join("db");
    std::fs::create_dir(&db_dir).expect("mkdir");
    let db = db_dir.join("c.db");
    let out = Command::new(env!("CARGO_BIN_EXE_callscope"))
        .args(["worker", "--once", "--source"])
        .arg(format!("dir:{}", calls.display()))
        .env("CALLSCOPE__STORE__SQLITE_PATH", &db)
        .env("CALLSCOPE__INGEST__TRANSCRIPTS_ONLY", "true")
        .env("CALLSCOPE__INGEST__METRICS_LISTEN", "")
        .env("CALLSCOPE__SIGNALS__TRACKERS", root().join("samples/trackers.toml"))
        .env("RUST_LOG", "debug")
        .output()
        .expect("run worker");
    let log = format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "one call failed, as intended: {log}");
    assert!(log.contains("leak-ok.json stored"), "the run reports its calls: {log}");

    // Every column of every table, as text.
    let conn = rusqlite::Connection::open(&db).expect("open");
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .expect("tables")
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("names");
    let mut everything = String::new();
    let mut columns = 0;
    for table in &tables {
        let names: Vec<String> = conn
            .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
            .expect("columns")
            .query_map([], |r| r.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("names");
        for column in names {
            columns += 1;
            let mut stmt =
                conn.prepare(&format!("SELECT CAST(\"{column}\" AS TEXT) FROM \"{table}\"")).expect("select");
            // As bytes: the FTS index's own tables hold binary pages, read
            // lossily (the words in them stay readable).
            let values = stmt
                .query_map([], |r| {
                    Ok(r.get_ref(0)?.as_bytes_or_null()?.map(|b| String::from_utf8_lossy(b).into_owned()))
                })
                .expect("query");
            for v in values {
                let v = v.expect("value").unwrap_or_default();
                let found = leaks(&v);
                assert!(found.is_empty(), "{table}.{column} holds {found:?}: {v}");
                everything.push_str(&v);
                everything.push('\n');
            }
        }
    }
    assert!(columns > 40, "scanned {columns} columns of {tables:?}");
    assert!(
        everything.contains("[card]") && everything.contains("[id_code]"),
        "the scan read the transcript"
    );
    drop(conn);
    // The files' raw bytes: free pages, the WAL, anything SQLite kept.
    for entry in std::fs::read_dir(&db_dir).expect("db dir") {
        let path = entry.expect("entry").path();
        let bytes = String::from_utf8_lossy(&std::fs::read(&path).expect("read")).into_owned();
        assert!(leaks(&bytes).is_empty(), "{} holds {:?}", path.display(), leaks(&bytes));
    }

    // The folder's dead letters: the invalid call is there, redacted.
    let failed = calls.join(".callscope/failed");
    let reports: Vec<_> =
        std::fs::read_dir(&failed).expect("failed").map(|e| e.expect("entry").path()).collect();
    assert_eq!(reports.len(), 1, "{reports:?}\n{log}");
    for path in reports.iter().chain([calls.join(".callscope/state.json")].iter()) {
        let text = std::fs::read_to_string(path).expect("read");
        assert!(leaks(&text).is_empty(), "{} holds {:?}: {text}", path.display(), leaks(&text));
    }
    let log = untimed(&log);
    assert!(leaks(&log).is_empty(), "the log holds {:?}:\n{log}", leaks(&log));
}

/// `sql` against the ClickHouse front (HTTP), the answer's body.
fn clickhouse(url: &str, database: &str, sql: &str) -> String {
    let host = url.trim_start_matches("http://").trim_end_matches('/');
    let mut s = std::net::TcpStream::connect(host).expect("connect to ClickHouse");
    s.set_read_timeout(Some(Duration::from_secs(60))).expect("timeout");
    let request = format!(
        "POST /?database={database} HTTP/1.0\r\nHost: {host}\r\nContent-Length: {}\r\n\r\n{sql}",
        sql.len()
    );
    s.write_all(request.as_bytes()).expect("send");
    let mut answer = String::new();
    s.read_to_string(&mut answer).expect("read");
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    assert!(head.contains(" 200 "), "{sql}: {head}\n{body}");
    body.to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_raw_reaches_clickhouse_the_dead_letter_topic_the_log_or_metrics() {
    let Some(world) = World::new("leak", 1).await else { return };
    let event = |id: &str, transcript: serde_json::Value| {
        let e = serde_json::json!({
            "schema_version": 1, "call_id": id, "seller_id": "s-leak", "team": "t",
            "started_at": "2026-11-02T10:00:00Z", "transcript": transcript,
        });
        (id.to_owned(), serde_json::to_vec(&e).expect("json"))
    };
    world.produce(&[event("leak-ok", transcript()), event("leak-bad", invalid_transcript())]).await;
    let port = free_port();
    let mut worker = world.spawn_worker(
        "w",
        &[("CALLSCOPE__INGEST__METRICS_LISTEN", format!("127.0.0.1:{port}")), ("RUST_LOG", "debug".into())],
    );
    world.wait_committed_all(1).await;
    wait_until("the stored call", Duration::from_secs(60), || async { world.aggregated_calls().await >= 1 })
        .await;
    let metrics = http_body(port, "/metrics").await;
    assert!(metrics.contains("callscope_"), "metrics answered: {metrics}");
    assert!(leaks(&metrics).is_empty(), "/metrics holds {:?}", leaks(&metrics));
    let log = untimed(&worker.terminate());
    assert!(leaks(&log).is_empty(), "the log holds {:?}:\n{log}", leaks(&log));

    // Every table, every column of every row.
    let url = &world.services.clickhouse;
    let tables = clickhouse(
        url,
        &world.database,
        &format!(
            "SELECT name FROM system.tables WHERE database = '{}' AND engine NOT LIKE '%View%' ORDER BY name",
            world.database
        ),
    );
    let tables: Vec<&str> = tables.lines().filter(|l| !l.is_empty()).collect();
    assert!(tables.contains(&"utterances") && tables.contains(&"audit_log"), "{tables:?}");
    let mut everything = String::new();
    for table in &tables {
        let rows = clickhouse(url, &world.database, &format!("SELECT * FROM `{table}` FORMAT JSONEachRow"));
        assert!(leaks(&rows).is_empty(), "{table} holds {:?}: {rows}", leaks(&rows));
        everything.push_str(&rows);
    }
    assert!(
        everything.contains("[card]") && everything.contains("[id_code]"),
        "the scan read the transcript"
    );

    // The dead-letter topic: the invalid call, redacted.
    let dead = world.dead_letters(1);
    assert_eq!(dead.len(), 1, "{dead:?}");
    let d = &dead[0];
    let payload = String::from_utf8_lossy(&d.payload);
    let record = format!("{payload}\n{}\n{}", d.error, d.redacted);
    assert!(leaks(&record).is_empty(), "the dead letter holds {:?}: {record}", leaks(&record));
    assert!(payload.contains("[card]") && payload.contains("[id_code]"), "{payload}");
    assert_eq!(d.key, "leak-bad");
}
