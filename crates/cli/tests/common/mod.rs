//! What the worker tests share: the services (a Kafka-protocol broker at
//! `CALLSCOPE_TEST_KAFKA_BROKERS`, tansu in `.ci/run`, and ClickHouse at
//! `CALLSCOPE_TEST_CLICKHOUSE_URL`, the chDB front), one [`World`] per test
//! (topics, consumer group, database), real `callscope worker` processes,
//! and the fault injectors: a TCP [`Proxy`] in front of ClickHouse that can
//! forward, refuse, slow down, answer 502/503 pages, hang or reset, and a
//! [`FetchServer`] for recordings that answers what each path is told to.
//!
//! Without the variables the tests are skipped with a message, except under
//! CI (`CI` set), where that is a failure.

#![allow(dead_code)] // each test binary uses the helpers it needs

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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

pub(crate) struct Services {
    pub(crate) brokers: String,
    pub(crate) clickhouse: String,
}

pub(crate) fn services() -> Option<Services> {
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

pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub(crate) fn unique(name: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_nanos();
    format!("{name}_{}_{}", std::process::id(), nanos % 1_000_000_000)
}

/// One test's world: topics, group, database, proxy.
pub(crate) struct World {
    pub(crate) services: Services,
    pub(crate) topic: String,
    pub(crate) dlq: String,
    pub(crate) group: String,
    pub(crate) database: String,
    pub(crate) proxy: Proxy,
    pub(crate) dir: tempfile::TempDir,
}

impl World {
    pub(crate) async fn new(name: &str, partitions: i32) -> Option<World> {
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
    pub(crate) fn direct_store(&self) -> ClickHouseStore {
        ClickHouseStore::new(&ClickHouseConfig {
            url: self.services.clickhouse.clone(),
            database: self.database.clone(),
            ..Default::default()
        })
    }

    /// Starts a worker with its metrics on a free port, stores the first of
    /// `events` (proving the worker is up and writing) and waits until its
    /// offset is committed. Returns the worker, its metrics port and the
    /// committed offsets of both partitions then.
    pub(crate) async fn worker_past_first_call(
        &self,
        events: &[(String, Vec<u8>)],
    ) -> (Worker, u16, Vec<i64>) {
        let port = free_port();
        let worker =
            self.spawn_worker("w", &[("CALLSCOPE__INGEST__METRICS_LISTEN", format!("127.0.0.1:{port}"))]);
        self.produce(&events[..1]).await;
        wait_until("first call stored", Duration::from_secs(60), || async {
            self.aggregated_calls().await >= 1
        })
        .await;
        self.wait_committed_all(2).await;
        (worker, port, self.committed(2))
    }

    pub(crate) fn spawn_worker(&self, name: &str, extra: &[(&str, String)]) -> Worker {
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

    pub(crate) async fn produce(&self, events: &[(String, Vec<u8>)]) {
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
    pub(crate) async fn aggregated_calls(&self) -> u64 {
        let range = DateRange {
            from: chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
            to: chrono::NaiveDate::from_ymd_opt(2026, 12, 31).expect("date"),
        };
        match self.direct_store().daily(&SellerFilter::All, range).await {
            Ok(rows) => rows.iter().map(|r| r.calls).sum(),
            Err(_) => 0,
        }
    }

    pub(crate) async fn assert_each_call_stored_once(&self, events: &[(String, Vec<u8>)]) {
        assert_eq!(self.aggregated_calls().await, events.len() as u64, "aggregates count each call once");
        let store = self.direct_store();
        for (id, _) in events {
            assert!(store.call(id).await.expect("query").is_some(), "{id} is stored");
        }
    }

    /// The group's committed offsets, per partition (-1: none).
    pub(crate) fn committed(&self, partitions: i32) -> Vec<i64> {
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
    pub(crate) fn produced(&self, partitions: i32) -> Vec<i64> {
        let consumer: BaseConsumer =
            ClientConfig::new().set("bootstrap.servers", &self.services.brokers).create().expect("consumer");
        (0..partitions)
            .map(|p| {
                consumer.fetch_watermarks(&self.topic, p, Duration::from_secs(10)).expect("watermarks").1
            })
            .collect()
    }

    pub(crate) async fn wait_committed_all(&self, partitions: i32) {
        let want = self.produced(partitions);
        // A partition nothing was produced to has no committed offset (-1).
        wait_until("all offsets committed", Duration::from_secs(60), || async {
            self.committed(partitions).iter().map(|o| (*o).max(0)).eq(want.iter().copied())
        })
        .await;
    }
}

pub(crate) struct Worker {
    pub(crate) child: Child,
    pub(crate) log: PathBuf,
}

impl Worker {
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
    /// SIGTERM, then wait for a clean exit.
    pub(crate) fn terminate(&mut self) -> String {
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

pub(crate) async fn wait_until<F, Fut>(what: &str, timeout: Duration, mut cond: F)
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
pub(crate) fn transcript_events(prefix: &str, n: usize) -> Vec<(String, Vec<u8>)> {
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

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

pub(crate) async fn http_get(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    s.write_all(format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").as_bytes()).await.ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).await.ok()?;
    Some(buf)
}

pub(crate) async fn http_status(port: u16, path: &str) -> Option<u16> {
    http_get(port, path).await?.split_whitespace().nth(1)?.parse().ok()
}

pub(crate) async fn http_body(port: u16, path: &str) -> String {
    http_get(port, path).await.unwrap_or_default()
}

/// One record of the dead-letter topic.
#[derive(Debug, Clone)]
pub(crate) struct DeadLetter {
    pub(crate) key: String,
    pub(crate) payload: Vec<u8>,
    pub(crate) stage: String,
    pub(crate) kind: String,
    pub(crate) error: String,
    pub(crate) attempts: String,
    /// `callscope.payload_dropped`: why the payload is empty, if it is.
    pub(crate) payload_dropped: String,
    /// `callscope.redacted`: what was redacted (`card=1,…`).
    pub(crate) redacted: String,
}

impl World {
    /// Records in the dead-letter topic (its high watermark).
    pub(crate) fn dead_letter_count(&self) -> i64 {
        let consumer: BaseConsumer =
            ClientConfig::new().set("bootstrap.servers", &self.services.brokers).create().expect("consumer");
        consumer.fetch_watermarks(&self.dlq, 0, Duration::from_secs(10)).expect("watermarks").1
    }

    /// Reads `n` records of the dead-letter topic (fewer if they do not come
    /// within 30 s).
    pub(crate) fn dead_letters(&self, n: usize) -> Vec<DeadLetter> {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &self.services.brokers)
            .set("group.id", unique("dlq-reader"))
            .set("auto.offset.reset", "earliest")
            .create()
            .expect("consumer");
        consumer.subscribe(&[self.dlq.as_str()]).expect("subscribe");
        let mut dead = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while dead.len() < n && Instant::now() < deadline {
            if let Some(Ok(m)) = consumer.poll(Duration::from_millis(500)) {
                let header = |k: &str| {
                    m.headers()
                        .and_then(|h| h.iter().find(|h| h.key == k))
                        .and_then(|h| h.value)
                        .map(|v| String::from_utf8_lossy(v).into_owned())
                        .unwrap_or_default()
                };
                dead.push(DeadLetter {
                    key: m.key().map(|k| String::from_utf8_lossy(k).into_owned()).unwrap_or_default(),
                    payload: m.payload().map(<[u8]>::to_vec).unwrap_or_default(),
                    stage: header("callscope.stage"),
                    kind: header("callscope.error.kind"),
                    error: header("callscope.error"),
                    attempts: header("callscope.attempts"),
                    payload_dropped: header("callscope.payload_dropped"),
                    redacted: header("callscope.redacted"),
                });
            }
        }
        dead
    }
}

/// What the [`Proxy`] does with connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// Forward to ClickHouse.
    None,
    /// Refuse: accept and close at once (ClickHouse is down).
    Down,
    /// Read the request, answer this status with an HTML page and no
    /// `Code:` (a load balancer with ClickHouse behind it down).
    Status(u16),
    /// Read the request and never answer (a black hole).
    Hang,
    /// Read the request head, then reset the connection (TCP RST).
    Reset,
}

/// A TCP proxy in front of ClickHouse that the test can cut, slow down or
/// make fail in the ways real networks do.
pub(crate) struct Proxy {
    port: u16,
    fault: Arc<Mutex<Fault>>,
    delay_ms: Arc<AtomicU64>,
    generation: Arc<AtomicU64>,
    /// Connections met with a fault (not forwarded).
    faulted: Arc<AtomicUsize>,
}

impl Proxy {
    pub(crate) async fn start(upstream: &str) -> Proxy {
        let upstream = upstream.trim_start_matches("http://").trim_end_matches('/').to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let fault = Arc::new(Mutex::new(Fault::None));
        let delay_ms = Arc::new(AtomicU64::new(0));
        let generation = Arc::new(AtomicU64::new(0));
        let faulted = Arc::new(AtomicUsize::new(0));
        let (f, d, g, n) = (fault.clone(), delay_ms.clone(), generation.clone(), faulted.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let mode = *f.lock().expect("lock");
                if mode != Fault::None {
                    n.fetch_add(1, Ordering::SeqCst);
                    let g = g.clone();
                    tokio::spawn(misbehave(client, mode, g));
                    continue;
                }
                let (upstream, d, g) = (upstream.clone(), d.clone(), g.clone());
                tokio::spawn(forward(client, upstream, d, g));
            }
        });
        Proxy { port, fault, delay_ms, generation, faulted }
    }

    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// From now on, meet new connections with `fault`; open ones are cut, so
    /// that no pooled connection slips past the fault.
    pub(crate) fn set_fault(&self, fault: Fault) {
        *self.fault.lock().expect("lock") = fault;
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// Up: forward. Down: refuse new connections and cut open ones.
    pub(crate) fn set_up(&self, up: bool) {
        self.set_fault(if up { Fault::None } else { Fault::Down });
    }

    pub(crate) fn set_delay(&self, delay: Duration) {
        self.delay_ms.store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    /// Connections met with a fault so far.
    pub(crate) fn faulted(&self) -> usize {
        self.faulted.load(Ordering::SeqCst)
    }
}

async fn forward(client: TcpStream, upstream: String, d: Arc<AtomicU64>, g: Arc<AtomicU64>) {
    let born = g.load(Ordering::SeqCst);
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
}

/// Reads one HTTP request: the head, then the body by `Content-Length` or to
/// the last chunk. Returns the head, or `None` if the peer went away.
async fn read_request(conn: &mut TcpStream) -> Option<String> {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match conn.read(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
    };
    let head = String::from_utf8_lossy(&data[..head_end]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok());
    let chunked = head.contains("transfer-encoding: chunked");
    loop {
        let body = &data[head_end..];
        let done = match length {
            Some(n) => body.len() >= n,
            None => !chunked || body.ends_with(b"0\r\n\r\n"),
        };
        if done {
            return Some(head);
        }
        match conn.read(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
    }
}

async fn misbehave(mut conn: TcpStream, fault: Fault, generation: Arc<AtomicU64>) {
    match fault {
        Fault::None | Fault::Down => {}
        Fault::Status(status) => {
            if read_request(&mut conn).await.is_some() {
                let body = format!(
                    "<html>\r\n<head><title>{status} Bad Gateway</title></head>\r\n<body>\r\n<center><h1>{status}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
                );
                let head = format!(
                    "HTTP/1.1 {status} Proxy Error\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = conn.write_all(head.as_bytes()).await;
                let _ = conn.write_all(body.as_bytes()).await;
                let _ = conn.shutdown().await;
            }
        }
        Fault::Hang => {
            // Hold the connection, answer nothing, until the fault is lifted.
            let born = generation.load(Ordering::SeqCst);
            let mut buf = [0u8; 8192];
            while generation.load(Ordering::SeqCst) == born {
                tokio::select! {
                    r = conn.read(&mut buf) => if matches!(r, Ok(0) | Err(_)) { return },
                    () = tokio::time::sleep(Duration::from_millis(50)) => {}
                }
            }
        }
        Fault::Reset => {
            let mut buf = [0u8; 1024];
            let _ = conn.read(&mut buf).await;
            let _ = conn.set_zero_linger();
            drop(conn);
        }
    }
}

/// Each path's answer: status and body.
type Routes = Arc<Mutex<HashMap<String, (u16, Vec<u8>)>>>;

/// An HTTP server for recordings on 127.0.0.1: each path answers what the
/// test set for it (`404`, `500`, or 200 with a file's bytes), and counts
/// its requests.
pub(crate) struct FetchServer {
    port: u16,
    routes: Routes,
    hits: Arc<Mutex<HashMap<String, usize>>>,
}

impl FetchServer {
    pub(crate) async fn start() -> FetchServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind fetch server");
        let port = listener.local_addr().expect("addr").port();
        let routes: Routes = Arc::default();
        let hits: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let (r, h) = (routes.clone(), hits.clone());
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                let (r, h) = (r.clone(), h.clone());
                tokio::spawn(async move {
                    let Some(head) = read_request(&mut conn).await else { return };
                    let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                    *h.lock().expect("lock").entry(path.clone()).or_default() += 1;
                    let (status, body) =
                        r.lock().expect("lock").get(&path).cloned().unwrap_or((404, b"not found".to_vec()));
                    let head = format!(
                        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = conn.write_all(head.as_bytes()).await;
                    let _ = conn.write_all(&body).await;
                    let _ = conn.shutdown().await;
                });
            }
        });
        FetchServer { port, routes, hits }
    }

    /// `path` (lower case, from `/`) answers `status` with `body`.
    pub(crate) fn route(&self, path: &str, status: u16, body: Vec<u8>) {
        self.routes.lock().expect("lock").insert(path.to_owned(), (status, body));
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Requests for `path` so far.
    pub(crate) fn hits(&self, path: &str) -> usize {
        self.hits.lock().expect("lock").get(path).copied().unwrap_or(0)
    }
}
