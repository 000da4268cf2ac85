//! `callscope worker` against real services: a Kafka-protocol broker at
//! `CALLSCOPE_TEST_KAFKA_BROKERS` (tansu in `.ci/run`) and ClickHouse at
//! `CALLSCOPE_TEST_CLICKHOUSE_URL` (the chDB engine in `.ci/run`). Each test
//! runs real worker processes (the `callscope` binary), with its own topics,
//! consumer group and database (the harness is `common/`).
//!
//! Between the worker and ClickHouse sits a TCP proxy owned by the test: it
//! can cut the connection (a store outage) or slow each request down (so a
//! crash or a rebalance happens mid-run, not after the work is done). The
//! other faults (error pages, hangs, resets, failing fetches, a panic) are in
//! `worker_faults.rs`.
//!
//! Without the variables the tests are skipped with a message, except under
//! CI (`CI` set), where that is a failure.

mod common;
mod long_call;
mod model;

use std::time::{Duration, Instant};

use base64::Engine as _;
use common::*;
use long_call::{whisper_stopped, write_long_call};
use model::model;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn happy_path_stores_every_call_and_commits_every_offset() {
    let Some(world) = World::new("happy", 4).await else { return };
    let events = transcript_events("happy", 24);
    world.produce(&events).await;
    let mut worker = world.spawn_worker("w", &[]);
    wait_until("24 calls stored", Duration::from_secs(90), || async { world.aggregated_calls().await >= 24 })
        .await;
    world.wait_committed_all(4).await;
    let log = worker.terminate();
    world.assert_each_call_stored_once(&events).await;
    assert_eq!(world.committed(4).iter().sum::<i64>(), 24, "{:?}", world.committed(4));
    assert!(log.contains("left the group"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_worker_loses_nothing_and_double_counts_nothing() {
    let Some(world) = World::new("crash", 2).await else { return };
    let events = transcript_events("crash", 30);
    world.produce(&events).await;
    // Slow the store down so the kill lands mid-run.
    world.proxy.set_delay(Duration::from_millis(60));
    let slow = [
        ("CALLSCOPE__INGEST__BATCH_MAX_CALLS", "1".to_owned()),
        ("CALLSCOPE__INGEST__MAX_IN_FLIGHT", "2".to_owned()),
    ];
    let mut first = world.spawn_worker("first", &slow);
    wait_until("some calls stored", Duration::from_secs(60), || async {
        world.aggregated_calls().await >= 4
    })
    .await;
    first.kill(); // SIGKILL: no shutdown, no final commit
    let stored_at_kill = world.aggregated_calls().await;
    assert!(stored_at_kill < 30, "the kill came too late to test anything ({stored_at_kill} stored)");
    world.proxy.set_delay(Duration::ZERO);
    let mut second = world.spawn_worker("second", &[]);
    wait_until("30 calls stored", Duration::from_secs(90), || async { world.aggregated_calls().await >= 30 })
        .await;
    world.wait_committed_all(2).await;
    second.terminate();
    world.assert_each_call_stored_once(&events).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_event_is_dead_lettered_and_the_rest_are_processed() {
    let Some(world) = World::new("poison", 1).await else { return };
    let good = transcript_events("poison", 4);
    // A WAV header followed by garbage, and a FLAC magic followed by nothing readable.
    let mut wav = b"RIFF\x24\x00\x00\x00WAVEfmt ".to_vec();
    wav.extend([0xff; 200]);
    let inline = |id: &str, bytes: &[u8], format: &str| {
        let event = serde_json::json!({
            "schema_version": 1, "call_id": id, "seller_id": "s-0", "started_at": "2026-11-02T10:00:00Z",
            "audio": {"inline_base64": base64::engine::general_purpose::STANDARD.encode(bytes), "format": format}
        });
        (id.to_owned(), serde_json::to_vec(&event).expect("json"))
    };
    let corrupt = inline("poison-corrupt", &wav, "wav");
    let mut flac = b"fLaC".to_vec();
    flac.extend([0u8, 0, 0, 34]);
    flac.extend([0x5a; 64]);
    let corrupt_audio = inline("poison-noise", &flac, "flac");
    // An invalid transcript (a word by an undeclared speaker) that reads out
    // a card number and an identity code: dead-lettered, redacted.
    let pii_words: Vec<serde_json::Value> = ["card", "4111", "1111", "1111", "1111", "hetu", "131052-308T"]
        .iter()
        .enumerate()
        .map(|(i, w)| serde_json::json!({"text": w, "start": i, "end": i as f64 + 0.5, "speaker": "x"}))
        .collect();
    let pii = serde_json::json!({
        "schema_version": 1, "call_id": "poison-pii", "seller_id": "s-0", "started_at": "2026-11-02T10:00:00Z",
        "transcript": {"speakers": {"a": "seller"}, "words": pii_words}
    });
    let mut events = vec![good[0].clone(), ("bad-json".to_owned(), b"{not json".to_vec())];
    events.push(("poison-pii".to_owned(), serde_json::to_vec(&pii).expect("json")));
    events.push(corrupt_audio);
    events.push(good[1].clone());
    events.push(corrupt);
    events.extend(good[2..].iter().cloned());
    world.produce(&events).await;
    // Audio events need the model loaded (they fail at decoding, before whisper).
    let model = std::env::var("CALLSCOPE_TEST_MODEL").ok();
    let extra: Vec<(&str, String)> = match &model {
        Some(m) => vec![
            ("CALLSCOPE__INGEST__TRANSCRIPTS_ONLY", "false".into()),
            ("CALLSCOPE__ASR__MODEL", m.clone()),
        ],
        None => vec![],
    };
    let mut worker = world.spawn_worker("w", &extra);
    world.wait_committed_all(1).await;
    worker.terminate();
    world.assert_each_call_stored_once(&good).await;

    let dead = world.dead_letters(4);
    assert_eq!(dead.len(), 4, "four poison events dead-lettered: {dead:?}");
    let by_key =
        |k: &str| dead.iter().find(|d| d.key == k).unwrap_or_else(|| panic!("{k} in the DLQ: {dead:?}"));
    let d = by_key("bad-json");
    // Not JSON, so it cannot be redacted: dropped, with a note (privacy.md).
    assert!(d.payload.is_empty(), "an unreadable payload is not kept: {:?}", d.payload);
    assert!(d.payload_dropped.contains("not a JSON object"), "{}", d.payload_dropped);
    assert_eq!((d.stage.as_str(), d.kind.as_str()), ("parse", "malformed_event"));
    assert!(d.error.contains("malformed"), "{}", d.error);
    assert_eq!(d.attempts, "1");
    let d = by_key("poison-pii");
    assert_eq!(d.kind, "invalid_transcript");
    let payload = String::from_utf8_lossy(&d.payload);
    for raw in ["4111", "1111", "131052", "308T"] {
        assert!(!payload.contains(raw) && !d.error.contains(raw), "{raw} in the DLQ: {payload} {}", d.error);
    }
    assert!(
        payload.contains("[card]") && payload.contains("[id_code]") && payload.contains("poison-pii"),
        "{payload}"
    );
    assert_eq!(d.redacted, "card=1,id_code=1");
    for key in ["poison-noise", "poison-corrupt"] {
        let d = by_key(key);
        if model.is_some() {
            assert_eq!(d.stage, "decode", "{key}: {}", d.error);
            assert!(d.kind.contains("audio"), "{key}: {} {}", d.kind, d.error);
        } else {
            assert_eq!((d.stage.as_str(), d.kind.as_str()), ("transcribe", "no_model"));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_outage_holds_offsets_until_the_store_is_back() {
    let Some(world) = World::new("outage", 2).await else { return };
    // A first call proves the worker is up and writing.
    let events = transcript_events("outage", 12);
    let (mut worker, port, before) = world.worker_past_first_call(&events).await;

    world.proxy.set_up(false);
    world.produce(&events[1..]).await;
    wait_until("readiness reports the outage", Duration::from_secs(30), || async {
        http_status(port, "/readyz").await == Some(503)
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(world.committed(2), before, "no offset advances while the store is down");
    assert_eq!(world.aggregated_calls().await, 1);
    let metrics = http_body(port, "/metrics").await;
    assert!(metrics.contains("callscope_retries_total{stage=\"store\"}"), "{metrics}");

    world.proxy.set_up(true);
    wait_until("all calls stored", Duration::from_secs(90), || async {
        world.aggregated_calls().await >= 12
    })
    .await;
    world.wait_committed_all(2).await;
    assert_eq!(http_status(port, "/readyz").await, Some(200));
    worker.terminate();
    world.assert_each_call_stored_once(&events).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_worker_takes_partitions_without_duplicates() {
    let Some(world) = World::new("rebalance", 4).await else { return };
    let events = transcript_events("rebalance", 40);
    world.produce(&events).await;
    world.proxy.set_delay(Duration::from_millis(40));
    let slow = [
        ("CALLSCOPE__INGEST__BATCH_MAX_CALLS", "1".to_owned()),
        ("CALLSCOPE__INGEST__MAX_IN_FLIGHT", "2".to_owned()),
    ];
    let mut a = world.spawn_worker("a", &slow);
    wait_until("a has started storing", Duration::from_secs(60), || async {
        world.aggregated_calls().await >= 2
    })
    .await;
    let mut b = world.spawn_worker("b", &slow);
    let deadline = Instant::now() + Duration::from_secs(180);
    while world.aggregated_calls().await < 40 {
        assert!(
            Instant::now() < deadline,
            "{} of 40 calls stored; a:\n{}\nb:\n{}",
            world.aggregated_calls().await,
            a.log(),
            b.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    world.wait_committed_all(4).await;
    let (log_a, log_b) = (a.terminate(), b.terminate());
    world.assert_each_call_stored_once(&events).await;
    assert!(log_a.contains("partitions revoked"), "a gave partitions up:\n{log_a}");
    let stored = |log: &str| -> u64 {
        log.lines()
            .filter_map(|l| l.split("stored=").nth(1))
            .filter_map(|s| s.split_whitespace().next()?.parse().ok())
            .next_back()
            .unwrap_or(0)
    };
    assert!(stored(&log_b) > 0, "b processed calls:\n{log_b}");
    assert!(stored(&log_a) + stored(&log_b) >= 40, "a {} + b {}", stored(&log_a), stored(&log_b));
}

/// The worker's two-calls mode: with two CPU threads (`ingest.cpu_threads`)
/// and one whisper thread each (`asr.threads`), two recordings are analysed
/// at once, each on its own thread, and both are stored once and committed.
/// Needs the whisper model (`CALLSCOPE_TEST_MODEL`; skipped without it,
/// except under CI).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_audio_calls_are_analysed_at_once() {
    let Some(model) = model() else { return };
    let Some(world) = World::new("twocalls", 1).await else { return };
    // By reference: the recording is larger than a Kafka message may be.
    let dev06 = root().join("crates/audio/tests/data/dev-06-stereo16k.flac").canonicalize().expect("dev-06");
    let uri = format!("file://{}", dev06.display());
    let events: Vec<(String, Vec<u8>)> = ["twocalls-a", "twocalls-b"]
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let event = serde_json::json!({
                "schema_version": 1, "call_id": id, "seller_id": format!("s-{i}"),
                "started_at": "2026-11-02T10:00:00Z",
                "audio": {"uri": uri}
            });
            ((*id).to_owned(), serde_json::to_vec(&event).expect("json"))
        })
        .collect();
    world.produce(&events).await;
    let models = root().join("models");
    let file = |name: &str| models.join(name).display().to_string();
    let mut worker = world.spawn_worker(
        "w",
        &[
            ("CALLSCOPE__INGEST__TRANSCRIPTS_ONLY", "false".into()),
            ("CALLSCOPE__INGEST__CPU_THREADS", "2".into()),
            ("CALLSCOPE__ASR__THREADS", "1".into()),
            ("CALLSCOPE__ASR__MODEL", model.display().to_string()),
            ("CALLSCOPE__ASR__VAD_MODEL", file("silero-vad-16k.onnx")),
            ("CALLSCOPE__DIARIZE__ONNXRUNTIME", file("libonnxruntime.so.1.32.0")),
            ("CALLSCOPE__SIGNALS__SENTIMENT_MODEL", file("sentiment-minilm-l6-2layers.int8.onnx")),
            ("CALLSCOPE__SIGNALS__SENTIMENT_VOCAB", file("sentiment-vocab.txt")),
        ],
    );
    wait_until("2 audio calls stored", Duration::from_secs(300), || async {
        world.aggregated_calls().await >= 2
    })
    .await;
    world.wait_committed_all(1).await;
    let log = worker.terminate();
    world.assert_each_call_stored_once(&events).await;
    // Both analyses started before either ended, on two different threads.
    let lines: Vec<&str> = log.lines().collect();
    let at = |what: &str| -> Vec<usize> { (0..lines.len()).filter(|&i| lines[i].contains(what)).collect() };
    let (started, done) = (at("analysis started"), at("analysed"));
    assert_eq!((started.len(), done.len()), (2, 2), "{log}");
    assert!(started[1] < done[0], "the second call started before the first ended:\n{log}");
    for thread in ["callscope-cpu-0", "callscope-cpu-1"] {
        assert!(done.iter().any(|&i| lines[i].contains(thread)), "{thread} analysed a call:\n{log}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_stopped_mid_call_stops_the_analysis_and_exits_cleanly() {
    let Some(model) = model() else { return };
    let Some(world) = World::new("stopmid", 1).await else { return };
    // A call that takes far longer to analyse than the grace.
    let tmp = tempfile::tempdir().expect("tempdir");
    let long = tmp.path().join("long-call.wav");
    write_long_call(&long);
    let event = serde_json::json!({
        "schema_version": 1, "call_id": "stopmid-a", "seller_id": "s-0",
        "started_at": "2026-11-02T10:00:00Z",
        "audio": {"uri": format!("file://{}", long.display())}
    });
    world.produce(&[("stopmid-a".to_owned(), serde_json::to_vec(&event).expect("json"))]).await;
    let mut worker = world.spawn_worker(
        "w",
        &[
            ("CALLSCOPE__INGEST__TRANSCRIPTS_ONLY", "false".into()),
            ("CALLSCOPE__INGEST__CPU_THREADS", "1".into()),
            ("CALLSCOPE__INGEST__SHUTDOWN_GRACE_S", "1".into()),
            ("CALLSCOPE__ASR__MODEL", model.display().to_string()),
        ],
    );
    wait_until("the call's analysis started", Duration::from_secs(60), || async {
        worker.log().contains("analysis started")
    })
    .await;
    // The call is abandoned after the grace (1 s), its whisper decode
    // cancelled, the CPU thread joined, and the worker exits 0 (`terminate`
    // checks the exit status).
    let log = worker.terminate();
    assert!(log.contains("grace period over"), "{log}");
    assert!(log.contains("abandoned: analysis stopped"), "the analysis was stopped:\n{log}");
    // By whisper itself, at its next graph (the cancelled token's abort).
    assert!(whisper_stopped(&log), "whisper's decode was cancelled:\n{log}");
    assert!(!log.contains("engine: analysed"), "never finished:\n{log}");
    assert!(log.contains("left the group"), "{log}");
    // Nothing stored and nothing committed: the next owner redoes the call.
    assert_eq!(world.aggregated_calls().await, 0);
    assert!(world.committed(1)[0] <= 0, "offset not committed: {:?}", world.committed(1));
}
