//! `callscope worker` against real services: a Kafka-protocol broker at
//! `CALLSCOPE_TEST_KAFKA_BROKERS` (tansu in `.ci/run`) and ClickHouse at
//! `CALLSCOPE_TEST_CLICKHOUSE_URL` (the chDB engine in `.ci/run`). Each test
//! runs real worker processes (the `callscope` binary), with its own topics,
//! consumer group and database.
//!
//! Between the worker and ClickHouse sits a TCP proxy owned by the test: it
//! can cut the connection (a store outage) or slow each request down (so a
//! crash or a rebalance happens mid-run, not after the work is done).
//!
//! Without the variables the tests are skipped with a message, except under
//! CI (`CI` set), where that is a failure.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use callscope_store::{ClickHouseConfig, ClickHouseStore, DateRange, SellerFilter, Store};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Headers;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Message, Offset, TopicPartitionList};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

struct Services {
    brokers: String,
    clickhouse: String,
}

fn services() -> Option<Services> {
    let get = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    match (get("CALLSCOPE_TEST_KAFKA_BROKERS"), get("CALLSCOPE_TEST_CLICKHOUSE_URL")) {
        (Some(brokers), Some(clickhouse)) => Some(Services { brokers, clickhouse }),
        _ if std::env::var_os("CI").is_some() => {
            panic!("CALLSCOPE_TEST_KAFKA_BROKERS and CALLSCOPE_TEST_CLICKHOUSE_URL must be set under CI")
        }
        _ => {
            eprintln!(
                "SKIPPED: set CALLSCOPE_TEST_KAFKA_BROKERS and CALLSCOPE_TEST_CLICKHOUSE_URL to run the worker tests"
            );
            None
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn unique(name: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_nanos();
    format!("{name}_{}_{}", std::process::id(), nanos % 1_000_000_000)
}

/// One test's world: topics, group, database, proxy.
struct World {
    services: Services,
    topic: String,
    dlq: String,
    group: String,
    database: String,
    proxy: Proxy,
    dir: tempfile::TempDir,
}

impl World {
    async fn new(name: &str, partitions: i32) -> Option<World> {
        let services = services()?;
        let topic = unique(&format!("calls_{name}"));
        let world = World {
            dlq: format!("{topic}.dlq"),
            group: format!("{topic}-workers"),
            database: unique(&format!("cs_worker_{name}")),
            proxy: Proxy::start(&services.clickhouse).await,
            topic,
            services,
            dir: tempfile::tempdir().expect("tempdir"),
        };
        let admin: AdminClient<DefaultClientContext> =
            ClientConfig::new().set("bootstrap.servers", &world.services.brokers).create().expect("admin");
        let topics = [
            NewTopic::new(&world.topic, partitions, TopicReplication::Fixed(1)),
            NewTopic::new(&world.dlq, 1, TopicReplication::Fixed(1)),
        ];
        for r in admin.create_topics(&topics, &AdminOptions::new()).await.expect("create topics") {
            r.expect("topic created");
        }
        world.direct_store().migrate().await.expect("migrate");
        Some(world)
    }

    /// The store, bypassing the proxy (the test's view).
    fn direct_store(&self) -> ClickHouseStore {
        ClickHouseStore::new(&ClickHouseConfig {
            url: self.services.clickhouse.clone(),
            database: self.database.clone(),
            ..Default::default()
        })
    }

    fn spawn_worker(&self, name: &str, extra: &[(&str, String)]) -> Worker {
        let log = self.dir.path().join(format!("{name}.log"));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_callscope"));
        cmd.args(["worker", "--source", "kafka"])
            .env("CALLSCOPE__STORE__CLICKHOUSE_URL", self.proxy.url())
            .env("CALLSCOPE__STORE__CLICKHOUSE_DATABASE", &self.database)
            .env("CALLSCOPE__STORE__TIMEOUT_S", "5")
            .env("CALLSCOPE__SIGNALS__TRACKERS", root().join("samples/trackers.toml"))
            .env("CALLSCOPE__INGEST__BROKERS", &self.services.brokers)
            .env("CALLSCOPE__INGEST__TOPIC", &self.topic)
            .env("CALLSCOPE__INGEST__DEAD_LETTER_TOPIC", &self.dlq)
            .env("CALLSCOPE__INGEST__GROUP_ID", &self.group)
            .env("CALLSCOPE__INGEST__SESSION_TIMEOUT_MS", "6000")
            .env("CALLSCOPE__INGEST__RETRY_MAX_MS", "1000")
            .env("CALLSCOPE__INGEST__METRICS_LISTEN", "")
            .env("CALLSCOPE__INGEST__TRANSCRIPTS_ONLY", "true")
            .env("RUST_LOG", "info,callscope_ingest=debug")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"));
        for (k, v) in extra {
            cmd.env(k, v);
        }
        Worker { child: cmd.spawn().expect("spawn worker"), log }
    }

    async fn produce(&self, events: &[(String, Vec<u8>)]) {
        let producer: FutureProducer =
            ClientConfig::new().set("bootstrap.servers", &self.services.brokers).create().expect("producer");
        for (key, payload) in events {
            producer
                .send(FutureRecord::to(&self.topic).key(key).payload(payload), Duration::from_secs(10))
                .await
                .map_err(|(e, _)| e)
                .expect("produced");
        }
    }

    /// Calls counted in the seller aggregates (a double count shows here).
    async fn aggregated_calls(&self) -> u64 {
        let range = DateRange {
            from: chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
            to: chrono::NaiveDate::from_ymd_opt(2026, 12, 31).expect("date"),
        };
        match self.direct_store().daily(&SellerFilter::All, range).await {
            Ok(rows) => rows.iter().map(|r| r.calls).sum(),
            Err(_) => 0,
        }
    }

    async fn assert_each_call_stored_once(&self, events: &[(String, Vec<u8>)]) {
        assert_eq!(self.aggregated_calls().await, events.len() as u64, "aggregates count each call once");
        let store = self.direct_store();
        for (id, _) in events {
            assert!(store.call(id).await.expect("query").is_some(), "{id} is stored");
        }
    }

    /// The group's committed offsets, per partition (-1: none).
    fn committed(&self, partitions: i32) -> Vec<i64> {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &self.services.brokers)
            .set("group.id", &self.group)
            .create()
            .expect("consumer");
        let mut tpl = TopicPartitionList::new();
        for p in 0..partitions {
            tpl.add_partition(&self.topic, p);
        }
        let got = consumer.committed_offsets(tpl, Duration::from_secs(10)).expect("committed offsets");
        (0..partitions)
            .map(|p| match got.find_partition(&self.topic, p).map(|e| e.offset()) {
                Some(Offset::Offset(o)) => o,
                _ => -1,
            })
            .collect()
    }

    /// Messages produced per partition (the high watermarks).
    fn produced(&self, partitions: i32) -> Vec<i64> {
        let consumer: BaseConsumer =
            ClientConfig::new().set("bootstrap.servers", &self.services.brokers).create().expect("consumer");
        (0..partitions)
            .map(|p| {
                consumer.fetch_watermarks(&self.topic, p, Duration::from_secs(10)).expect("watermarks").1
            })
            .collect()
    }

    async fn wait_committed_all(&self, partitions: i32) {
        let want = self.produced(partitions);
        // A partition nothing was produced to has no committed offset (-1).
        wait_until("all offsets committed", Duration::from_secs(60), || async {
            self.committed(partitions).iter().map(|o| (*o).max(0)).eq(want.iter().copied())
        })
        .await;
    }
}

struct Worker {
    child: Child,
    log: PathBuf,
}

impl Worker {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
    /// SIGTERM, then wait for a clean exit.
    fn terminate(&mut self) -> String {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(40);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                assert!(status.success(), "worker exit {status}:\n{}", self.log());
                return self.log();
            }
            assert!(Instant::now() < deadline, "worker did not stop on SIGTERM:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn wait_until<F, Fut>(what: &str, timeout: Duration, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while !cond().await {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `n` transcript events made from the sample calls, spread over three sellers.
fn transcript_events(prefix: &str, n: usize) -> Vec<(String, Vec<u8>)> {
    let dir = root().join("samples/transcripts");
    let mut samples: Vec<_> = std::fs::read_dir(&dir)
        .expect("samples")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "json") && !p.to_string_lossy().ends_with(".meta.json")
        })
        .collect();
    samples.sort();
    (0..n)
        .map(|i| {
            let transcript: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&samples[i % samples.len()]).expect("read"))
                    .expect("json");
            let id = format!("{prefix}-{i:03}");
            let event = serde_json::json!({
                "schema_version": 1,
                "call_id": id,
                "seller_id": format!("s-{}", i % 3),
                "team": "t-1",
                "started_at": format!("2026-11-{:02}T10:00:00Z", 1 + i % 20),
                "direction": "outbound",
                "channels": {"layout": "stereo", "seller_channel": "left"},
                "transcript": transcript,
            });
            (id, serde_json::to_vec(&event).expect("json"))
        })
        .collect()
}

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
    let mut events = vec![good[0].clone(), ("bad-json".to_owned(), b"{not json".to_vec())];
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

    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &world.services.brokers)
        .set("group.id", unique("dlq-reader"))
        .set("auto.offset.reset", "earliest")
        .create()
        .expect("consumer");
    consumer.subscribe(&[world.dlq.as_str()]).expect("subscribe");
    let mut dead = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while dead.len() < 3 && Instant::now() < deadline {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(500)) {
            let header = |k: &str| {
                m.headers()
                    .and_then(|h| h.iter().find(|h| h.key == k))
                    .and_then(|h| h.value)
                    .map(|v| String::from_utf8_lossy(v).into_owned())
                    .unwrap_or_default()
            };
            dead.push((
                m.key().map(|k| String::from_utf8_lossy(k).into_owned()).unwrap_or_default(),
                m.payload().map(<[u8]>::to_vec).unwrap_or_default(),
                header("callscope.stage"),
                header("callscope.error.kind"),
                header("callscope.error"),
                header("callscope.attempts"),
            ));
        }
    }
    assert_eq!(dead.len(), 3, "three poison events dead-lettered: {dead:?}");
    let by_key =
        |k: &str| dead.iter().find(|d| d.0 == k).unwrap_or_else(|| panic!("{k} in the DLQ: {dead:?}"));
    let (_, payload, stage, kind, error, attempts) = by_key("bad-json");
    assert_eq!(payload, b"{not json", "the original payload travels");
    assert_eq!((stage.as_str(), kind.as_str()), ("parse", "malformed_event"));
    assert!(error.contains("malformed"), "{error}");
    assert_eq!(attempts, "1");
    for key in ["poison-noise", "poison-corrupt"] {
        let (_, _, stage, kind, error, _) = by_key(key);
        if model.is_some() {
            assert_eq!(stage, "decode", "{key}: {error}");
            assert!(kind.contains("audio"), "{key}: {kind} {error}");
        } else {
            assert_eq!((stage.as_str(), kind.as_str()), ("transcribe", "no_model"));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_outage_holds_offsets_until_the_store_is_back() {
    let Some(world) = World::new("outage", 2).await else { return };
    let port = free_port();
    let mut worker =
        world.spawn_worker("w", &[("CALLSCOPE__INGEST__METRICS_LISTEN", format!("127.0.0.1:{port}"))]);
    // A first call proves the worker is up and writing.
    let events = transcript_events("outage", 12);
    world.produce(&events[..1]).await;
    wait_until("first call stored", Duration::from_secs(60), || async {
        world.aggregated_calls().await >= 1
    })
    .await;
    world.wait_committed_all(2).await;
    let before = world.committed(2);

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

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

async fn http_get(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    s.write_all(format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").as_bytes()).await.ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).await.ok()?;
    Some(buf)
}

async fn http_status(port: u16, path: &str) -> Option<u16> {
    http_get(port, path).await?.split_whitespace().nth(1)?.parse().ok()
}

async fn http_body(port: u16, path: &str) -> String {
    http_get(port, path).await.unwrap_or_default()
}

/// A TCP proxy in front of ClickHouse that the test can cut or slow down.
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
    delay_ms: Arc<AtomicU64>,
    generation: Arc<AtomicU64>,
}

impl Proxy {
    async fn start(upstream: &str) -> Proxy {
        let upstream = upstream.trim_start_matches("http://").trim_end_matches('/').to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let up = Arc::new(AtomicBool::new(true));
        let delay_ms = Arc::new(AtomicU64::new(0));
        let generation = Arc::new(AtomicU64::new(0));
        let (u, d, g) = (up.clone(), delay_ms.clone(), generation.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if !u.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let (upstream, d, g) = (upstream.clone(), d.clone(), g.clone());
                let born = g.load(Ordering::SeqCst);
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(&upstream).await else { return };
                    let (mut cr, mut cw) = client.into_split();
                    let (mut sr, mut sw) = server.into_split();
                    let alive = |g: &AtomicU64| g.load(Ordering::SeqCst) == born;
                    let up = async {
                        let mut buf = vec![0u8; 64 * 1024];
                        loop {
                            let n = match cr.read(&mut buf).await {
                                Ok(0) | Err(_) => break,
                                Ok(n) => n,
                            };
                            let ms = d.load(Ordering::SeqCst);
                            if ms > 0 {
                                tokio::time::sleep(Duration::from_millis(ms)).await;
                            }
                            if !alive(&g) || sw.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                        }
                    };
                    let down = async {
                        let mut buf = vec![0u8; 64 * 1024];
                        loop {
                            let n = match sr.read(&mut buf).await {
                                Ok(0) | Err(_) => break,
                                Ok(n) => n,
                            };
                            if !alive(&g) || cw.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                        }
                    };
                    let watchdog = async {
                        while alive(&g) {
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                    };
                    tokio::select! { () = up => {}, () = down => {}, () = watchdog => {} }
                });
            }
        });
        Proxy { port, up, delay_ms, generation }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Up: forward. Down: refuse new connections and cut open ones.
    fn set_up(&self, up: bool) {
        self.up.store(up, Ordering::SeqCst);
        if !up {
            self.generation.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn set_delay(&self, delay: Duration) {
        self.delay_ms.store(delay.as_millis() as u64, Ordering::SeqCst);
    }
}
