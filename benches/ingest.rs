//! Ingest worker benchmark (not criterion: it needs live services). Runs the
//! Kafka source and engine in-process, exactly as `callscope worker` wires them.
//!
//! 1. Throughput: N transcript events (no ASR) pre-produced to a 4-partition
//!    topic; a worker consumes them into ClickHouse. Reports events/s from the
//!    first stored call to the last (the group join, about half of
//!    `session.timeout.ms`, is reported separately).
//! 2. Latency (with `CALLSCOPE_TEST_MODEL`): a 61 s stereo call (dev-06) as a
//!    `file://` audio event, produced one at a time; produce → stored, p50/p95.
//!
//! ```sh
//! CALLSCOPE_TEST_KAFKA_BROKERS=127.0.0.1:9092 CALLSCOPE_TEST_CLICKHOUSE_URL=http://127.0.0.1:18123 \
//! CALLSCOPE_TEST_MODEL=models/ggml-tiny.en-q8_0.bin cargo bench -p callscope-benches --bench ingest
//! ```
#![allow(missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use callscope_ingest::kafka::KafkaConfig;
use callscope_ingest::{Engine, EngineConfig, Health, Metrics, Models};
use callscope_store::{ClickHouseConfig, ClickHouseStore, DateRange, SellerFilter, Store};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};

fn var(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.is_empty())
}

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

struct Run {
    brokers: String,
    topic: String,
    store: Arc<ClickHouseStore>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

async fn setup(brokers: &str, clickhouse: &str, name: &str) -> (String, Arc<ClickHouseStore>) {
    let topic = format!("bench_{name}_{}", std::process::id());
    let admin: AdminClient<DefaultClientContext> =
        ClientConfig::new().set("bootstrap.servers", brokers).create().expect("admin");
    let dlq = format!("{topic}.dlq");
    let topics = [
        NewTopic::new(&topic, 4, TopicReplication::Fixed(1)),
        NewTopic::new(&dlq, 1, TopicReplication::Fixed(1)),
    ];
    for r in admin.create_topics(&topics, &AdminOptions::new()).await.expect("topics") {
        r.expect("topic");
    }
    let store = Arc::new(ClickHouseStore::new(&ClickHouseConfig {
        url: clickhouse.into(),
        database: format!("cs_bench_{name}_{}", std::process::id()),
        ..Default::default()
    }));
    store.migrate().await.expect("migrate");
    (topic, store)
}

fn start_worker(run: &mut Run, transcriber: Option<Arc<callscope_asr::Transcriber>>, max_in_flight: usize) {
    let trackers_src = std::fs::read_to_string(root().join("samples/trackers.toml")).expect("trackers");
    let trackers = callscope_signals::Trackers::from_toml_str(&trackers_src).expect("trackers").0;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let health = Health::new();
    let engine = Engine::start(
        Models {
            trackers,
            signals: callscope_signals::SignalSettings::default(),
            transcriber,
            diarizer: None,
            redaction: Some(callscope_redact::Redactor::default()),
            sentiment: None,
        },
        run.store.clone(),
        EngineConfig { batch_max_calls: 256, ..EngineConfig::default() },
        Metrics::new(),
        health.clone(),
        stop_rx,
    );
    let config = KafkaConfig {
        brokers: run.brokers.clone(),
        group_id: format!("{}-workers", run.topic),
        topic: run.topic.clone(),
        dead_letter_topic: format!("{}.dlq", run.topic),
        session_timeout_ms: 6000,
        commit_interval_ms: 1000,
        max_in_flight,
        shutdown_grace: Duration::from_secs(10),
        options: Default::default(),
    };
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    run.stop = Some(tx);
    tokio::spawn(async move {
        callscope_ingest::kafka::run(config, engine, health, stop_tx, async {
            let _ = rx.await;
        })
        .await
        .expect("worker");
    });
}

async fn stored(store: &ClickHouseStore) -> u64 {
    let range = DateRange {
        from: chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
        to: chrono::NaiveDate::from_ymd_opt(2026, 12, 31).expect("date"),
    };
    store.daily(&SellerFilter::All, range).await.map(|r| r.iter().map(|d| d.calls).sum()).unwrap_or(0)
}

fn event(id: &str, i: usize, content: (&str, serde_json::Value)) -> Vec<u8> {
    let mut e = serde_json::json!({
        "schema_version": 1, "call_id": id, "seller_id": format!("s-{}", i % 20), "team": "bench",
        "started_at": format!("2026-11-{:02}T10:00:00Z", 1 + i % 25), "direction": "outbound",
        "channels": {"layout": "stereo", "seller_channel": "left"},
    });
    e[content.0] = content.1;
    serde_json::to_vec(&e).expect("json")
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let (Some(brokers), Some(clickhouse)) =
        (var("CALLSCOPE_TEST_KAFKA_BROKERS"), var("CALLSCOPE_TEST_CLICKHOUSE_URL"))
    else {
        eprintln!(
            "set CALLSCOPE_TEST_KAFKA_BROKERS and CALLSCOPE_TEST_CLICKHOUSE_URL (see .ci/run for starting both)"
        );
        return;
    };
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .set("linger.ms", "5")
        .create()
        .expect("producer");

    // 1. Throughput, transcript-only.
    let n: usize = var("CALLSCOPE_BENCH_CALLS").and_then(|v| v.parse().ok()).unwrap_or(5000);
    let (topic, store) = setup(&brokers, &clickhouse, "throughput").await;
    let mut samples: Vec<_> = std::fs::read_dir(root().join("samples/transcripts"))
        .expect("samples")
        .map(|e| e.expect("entry").path())
        .filter(|p| !p.to_string_lossy().ends_with(".meta.json"))
        .collect();
    samples.sort();
    let transcripts: Vec<serde_json::Value> = samples
        .iter()
        .map(|p| serde_json::from_slice(&std::fs::read(p).expect("read")).expect("json"))
        .collect();
    let words: usize = transcripts.iter().map(|t| t["words"].as_array().map_or(0, Vec::len)).sum::<usize>()
        / transcripts.len();
    let sends: Vec<_> = (0..n)
        .map(|i| {
            let id = format!("tp-{i:06}");
            let payload = event(&id, i, ("transcript", transcripts[i % transcripts.len()].clone()));
            let producer = producer.clone();
            let topic = topic.clone();
            async move {
                producer
                    .send(FutureRecord::to(&topic).key(&id).payload(&payload), Duration::from_secs(30))
                    .await
                    .map_err(|(e, _)| e)
                    .expect("produce");
            }
        })
        .collect();
    futures_join(sends).await;
    eprintln!("produced {n} transcript events (mean {words} words per call)");
    let mut run = Run { brokers: brokers.clone(), topic, store: store.clone(), stop: None };
    let started = Instant::now();
    start_worker(&mut run, None, 1024);
    let mut first = None;
    loop {
        let c = stored(&store).await;
        if c > 0 && first.is_none() {
            first = Some((Instant::now(), c));
        }
        if c >= n as u64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let end = Instant::now();
    let (t_first, c_first) = first.expect("stored");
    let rate = (n as u64 - c_first) as f64 / (end - t_first).as_secs_f64();
    println!(
        "throughput: {n} transcript calls into ClickHouse: {rate:.0} calls/s after the first write (group join + first batch {:.1} s; {:.0} calls/s overall)",
        (t_first - started).as_secs_f64(),
        n as f64 / (end - started).as_secs_f64()
    );
    if let Some(s) = run.stop.take() {
        let _ = s.send(());
    }

    // 2. Latency, tiny.en on a 61 s stereo call.
    let Some(model) = var("CALLSCOPE_TEST_MODEL") else {
        eprintln!("latency skipped: set CALLSCOPE_TEST_MODEL");
        return;
    };
    let transcriber = Arc::new(
        callscope_asr::Transcriber::load(callscope_asr::AsrSettings {
            model: model.into(),
            ..Default::default()
        })
        .expect("model"),
    );
    let (topic, store) = setup(&brokers, &clickhouse, "latency").await;
    let mut run = Run { brokers, topic: topic.clone(), store: store.clone(), stop: None };
    start_worker(&mut run, Some(transcriber), 8);
    let audio =
        std::fs::canonicalize(root().join("crates/audio/tests/data/dev-06-stereo16k.flac")).expect("audio");
    let uri = format!("file://{}", audio.display());
    let rounds: usize = var("CALLSCOPE_BENCH_ROUNDS").and_then(|v| v.parse().ok()).unwrap_or(10);
    let mut latencies = Vec::new();
    for i in 0..=rounds {
        let id = format!("lat-{i:03}");
        let payload = event(&id, i, ("audio", serde_json::json!({ "uri": uri })));
        let t0 = Instant::now();
        producer
            .send(FutureRecord::to(&topic).key(&id).payload(&payload), Duration::from_secs(30))
            .await
            .map_err(|(e, _)| e)
            .expect("produce");
        while store.call(&id).await.ok().flatten().is_none() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if i > 0 {
            // Round 0 includes the group join.
            latencies.push(t0.elapsed().as_secs_f64());
        }
    }
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies[((latencies.len() - 1) as f64 * p).round() as usize];
    println!(
        "latency: produce -> stored, 61 s stereo call, tiny.en q8_0, {} calls one at a time: p50 {:.2} s, p95 {:.2} s",
        latencies.len(),
        pct(0.5),
        pct(0.95)
    );
    if let Some(s) = run.stop.take() {
        let _ = s.send(());
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
}

async fn futures_join(tasks: Vec<impl std::future::Future<Output = ()> + Send + 'static>) {
    let mut set = tokio::task::JoinSet::new();
    for (i, t) in tasks.into_iter().enumerate() {
        set.spawn(t);
        if i % 500 == 499 {
            while set.join_next().await.is_some() {}
        }
    }
    while set.join_next().await.is_some() {}
}
