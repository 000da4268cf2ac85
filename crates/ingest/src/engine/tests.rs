//! The engine end to end on transcript events (no whisper model needed), with a
//! store that fails on demand.

use std::sync::Mutex;

use async_trait::async_trait;
use callscope_model::TrackerKind;
use callscope_store::{
    CallDetail, CallSummary, Comment, DailyAggregate, DateRange, HistoryQuery, KeywordFigures, NewComment,
    Page, Result as StoreResult, SellerFilter, SellerRef, StoreError, TermCount, WriteReceipt,
};

use super::*;

/// How the test store fails. Checked in this order on every write.
#[derive(Debug, Default)]
struct Faults {
    /// Writes still to fail with [`StoreError::Unavailable`].
    unavailable: u32,
    /// Writes still to fail with [`StoreError::SchemaMismatch`].
    schema_mismatch: u32,
    /// A batch holding this call is rejected as invalid, whole.
    invalid_call: Option<&'static str>,
}

/// An in-memory store that fails as told.
#[derive(Debug, Default)]
struct TestStore {
    faults: Mutex<Faults>,
    /// The call ids of every write attempted, one entry per batch.
    attempts: Mutex<Vec<Vec<String>>>,
    /// The call ids stored.
    stored: Mutex<Vec<String>>,
    /// Every call stored, as the JSON of its analysis (what a backend writes).
    rows: Mutex<Vec<String>>,
}

impl TestStore {
    fn new(faults: Faults) -> Arc<Self> {
        Arc::new(TestStore { faults: Mutex::new(faults), ..TestStore::default() })
    }

    fn attempts(&self) -> Vec<Vec<String>> {
        self.attempts.lock().expect("lock").clone()
    }

    fn stored(&self) -> Vec<String> {
        let mut ids = self.stored.lock().expect("lock").clone();
        ids.sort();
        ids
    }

    fn write_now(&self, calls: &[CallAnalysis]) -> StoreResult<WriteReceipt> {
        let ids: Vec<String> = calls.iter().map(|c| c.meta.call_id.clone()).collect();
        self.attempts.lock().expect("lock").push(ids.clone());
        let mut faults = self.faults.lock().expect("lock");
        if faults.unavailable > 0 {
            faults.unavailable -= 1;
            return Err(StoreError::Unavailable("connection refused".into()));
        }
        if faults.schema_mismatch > 0 {
            faults.schema_mismatch -= 1;
            return Err(StoreError::SchemaMismatch("calls.version is missing".into()));
        }
        if let Some(bad) = faults.invalid_call.filter(|bad| ids.iter().any(|id| id == bad)) {
            return Err(StoreError::InvalidInput {
                call_id: bad.to_owned(),
                field: "duration_s",
                reason: "negative".into(),
            });
        }
        self.stored.lock().expect("lock").extend(ids.iter().cloned());
        self.rows
            .lock()
            .expect("lock")
            .extend(calls.iter().map(|c| serde_json::to_string(c).expect("serializes")));
        Ok(WriteReceipt { call_ids: ids, replaced: 0 })
    }
}

fn reads_unsupported<T>() -> StoreResult<T> {
    Err(StoreError::Database("the test store only writes".into()))
}

#[async_trait]
impl Store for TestStore {
    fn backend(&self) -> &'static str {
        "test"
    }
    async fn migrate(&self) -> StoreResult<Vec<String>> {
        Ok(Vec::new())
    }
    async fn write(&self, calls: &[CallAnalysis]) -> StoreResult<WriteReceipt> {
        self.write_now(calls)
    }
    async fn daily(&self, _: &SellerFilter, _: DateRange) -> StoreResult<Vec<DailyAggregate>> {
        reads_unsupported()
    }
    async fn sellers(&self) -> StoreResult<Vec<SellerRef>> {
        reads_unsupported()
    }
    async fn call_history(&self, _: &HistoryQuery) -> StoreResult<Page<CallSummary>> {
        reads_unsupported()
    }
    async fn call(&self, _: &str) -> StoreResult<Option<CallDetail>> {
        reads_unsupported()
    }
    async fn mention_counts(&self, _: &str, _: DateRange) -> StoreResult<Vec<TermCount>> {
        reads_unsupported()
    }
    async fn customer_keywords(&self, _: &str, _: DateRange) -> StoreResult<KeywordFigures> {
        reads_unsupported()
    }
    async fn add_comment(&self, _: NewComment) -> StoreResult<Comment> {
        reads_unsupported()
    }
    async fn comment(&self, _: &str) -> StoreResult<Option<Comment>> {
        reads_unsupported()
    }
    async fn comments(&self, _: &str) -> StoreResult<Vec<Comment>> {
        reads_unsupported()
    }
    async fn seller_comments(&self, _: &str, _: DateRange, _: usize) -> StoreResult<Vec<Comment>> {
        reads_unsupported()
    }
    async fn delete_comment(&self, _: &str) -> StoreResult<bool> {
        reads_unsupported()
    }
}

/// An engine on a test store, with fast retries.
struct Harness {
    engine: Engine,
    store: Arc<TestStore>,
    health: Arc<Health>,
    stop: watch::Sender<bool>,
}

impl Harness {
    fn new(faults: Faults) -> Self {
        Self::with(faults, |_| {})
    }

    /// A harness whose engine config `tune` adjusts.
    fn with(faults: Faults, tune: impl FnOnce(&mut EngineConfig)) -> Self {
        let store = TestStore::new(faults);
        let health = Health::new();
        health.set_started();
        let (stop, stop_rx) = watch::channel(false);
        let mut config = EngineConfig {
            cpu_threads: 2,
            batch_max_calls: 8,
            // Long enough for concurrent calls to share a batch.
            batch_linger: Duration::from_millis(200),
            retry_initial: Duration::from_millis(1),
            retry_max: Duration::from_millis(4),
            fetch_timeout: Duration::from_secs(1),
            fetch_max_attempts: 3,
            fetch_confirm_attempts: 2,
            ..EngineConfig::default()
        };
        tune(&mut config);
        let models = Models {
            trackers: Trackers::default(),
            signals: SignalSettings::default(),
            transcriber: None,
            diarizer: None,
            redaction: Some(callscope_redact::Redactor::default()),
            sentiment: None,
        };
        let engine = Engine::start(models, store.clone(), config, Metrics::new(), health.clone(), stop_rx);
        Harness { engine, store, health, stop }
    }

    async fn process(&self, payload: impl AsRef<[u8]>) -> Outcome {
        match self.engine.parse(payload.as_ref()) {
            Ok(event) => self.engine.process(event).await,
            Err(f) => Outcome::Failed(f),
        }
    }

    fn retries(&self, stage: &str) -> u64 {
        self.engine.metrics().retries.with_label_values(&[stage]).get()
    }

    fn failed(&self, stage: &str, kind: &str) -> u64 {
        self.engine.metrics().calls_failed.with_label_values(&[stage, kind]).get()
    }
}

/// A valid transcript event.
fn event(call_id: &str) -> Vec<u8> {
    serde_json::json!({
        "schema_version": 1,
        "call_id": call_id,
        "seller_id": "s-1",
        "started_at": "2026-11-02T10:00:00Z",
        "transcript": {
            "speakers": {"a": "seller", "b": "customer"},
            "words": [
                {"text": "hello", "start": 0.0, "end": 0.4, "speaker": "a"},
                {"text": "we", "start": 0.5, "end": 0.7, "speaker": "b"},
                {"text": "use", "start": 0.7, "end": 0.9, "speaker": "b"},
                {"text": "acme", "start": 0.9, "end": 1.3, "speaker": "b"}
            ]
        }
    })
    .to_string()
    .into_bytes()
}

#[tokio::test]
async fn a_transient_store_failure_is_retried_then_stored() {
    let h = Harness::new(Faults { unavailable: 2, ..Faults::default() });
    assert_eq!(h.process(event("c-1")).await, Outcome::Stored);
    assert_eq!(h.store.stored(), ["c-1"]);
    assert_eq!(h.store.attempts().len(), 3, "two failures, then the write");
    assert_eq!(h.retries("store"), 2);
    assert_eq!(h.engine.metrics().calls_processed.with_label_values(&["transcript"]).get(), 1);
    assert_eq!(h.health.readiness(), Ok(()), "ready again once the store answers");
}

#[tokio::test]
async fn a_schema_mismatch_is_retried_not_dead_lettered() {
    let h = Harness::new(Faults { schema_mismatch: 3, ..Faults::default() });
    assert_eq!(h.process(event("c-1")).await, Outcome::Stored);
    assert_eq!(h.store.stored(), ["c-1"]);
    assert_eq!(h.retries("store"), 3);
    assert_eq!(h.failed("store", "schema_mismatch"), 0);
}

#[tokio::test]
async fn an_invalid_call_is_split_out_of_its_batch_and_dead_lettered() {
    let h = Harness::new(Faults { invalid_call: Some("c-bad"), ..Faults::default() });
    let (a, bad, b) =
        tokio::join!(h.process(event("c-1")), h.process(event("c-bad")), h.process(event("c-2")));
    assert_eq!((a, b), (Outcome::Stored, Outcome::Stored));
    let Outcome::Failed(f) = bad else { panic!("c-bad: {bad:?}") };
    assert_eq!((f.stage, f.kind, f.attempts), (Stage::Store, "invalid_call", 1));
    assert!(f.reason.contains("c-bad"), "{}", f.reason);
    assert_eq!(h.store.stored(), ["c-1", "c-2"]);
    let attempts = h.store.attempts();
    assert_eq!(attempts[0].len(), 3, "one batch first: {attempts:?}");
    assert!(attempts[1..].iter().all(|a| a.len() == 1), "then call by call: {attempts:?}");
    assert_eq!(h.failed("store", "invalid_call"), 1);
    assert_eq!(h.retries("store"), 0);
}

#[tokio::test]
async fn bad_events_are_parse_failures_of_their_kind() {
    let h = Harness::new(Faults::default());
    let cases: [(&[u8], &str); 4] = [
        (b"{not json", "malformed_event"),
        (br#"{"schema_version":9,"call_id":"c","seller_id":"s"}"#, "unknown_schema_version"),
        (br#"{"schema_version":1,"call_id":"c","seller_id":"s","started_at":"2026-11-02T10:00:00Z"}"#, "invalid_event"),
        (
            br#"{"schema_version":1,"call_id":"c","seller_id":"s","started_at":"2026-11-02T10:00:00Z","transcript":{"speakers":{},"words":[{"text":"x","start":0,"end":1,"speaker":"a"}]}}"#,
            "invalid_transcript",
        ),
    ];
    for (payload, kind) in cases {
        let f = h.engine.parse(payload).expect_err(kind);
        assert_eq!((f.stage, f.kind, f.attempts), (Stage::Parse, kind, 1), "{}", f.reason);
        assert_eq!(h.failed("parse", kind), 1);
    }
    let f = h.engine.parse(b"{not json").expect_err("malformed");
    assert!(f.reason.starts_with("malformed event: "), "the reason is the error's text: {}", f.reason);
    assert!(h.store.attempts().is_empty());
}

#[tokio::test]
async fn an_audio_event_on_a_worker_without_a_model_is_dead_lettered() {
    let h = Harness::new(Faults::default());
    let payload = serde_json::json!({
        "schema_version": 1, "call_id": "c-audio", "seller_id": "s-1",
        "started_at": "2026-11-02T10:00:00Z", "audio": {"inline_base64": "AAEC", "format": "wav"}
    })
    .to_string();
    let Outcome::Failed(f) = h.process(payload).await else { panic!("no model, no call") };
    assert_eq!((f.stage, f.kind, f.attempts), (Stage::Transcribe, "no_model", 1));
    assert!(f.reason.contains("asr.model"), "{}", f.reason);
    assert_eq!(h.failed("transcribe", "no_model"), 1);
}

#[tokio::test]
async fn stop_during_a_retry_abandons_the_call() {
    let h = Harness::new(Faults { unavailable: u32::MAX, ..Faults::default() });
    let engine = h.engine.clone();
    let event = h.engine.parse(&event("c-1")).expect("valid");
    let call = tokio::spawn(async move { engine.process(event).await });
    while h.retries("store") < 2 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(h.health.readiness().expect_err("store down").contains("store"));
    h.stop.send(true).expect("the engine listens");
    assert_eq!(call.await.expect("task"), Outcome::Abandoned);
    assert!(h.store.stored().is_empty());
    assert_eq!(h.engine.metrics().in_flight.get(), 0);
}

#[tokio::test]
async fn events_with_the_same_trackers_share_an_analyzer() {
    let h = Harness::new(Faults::default());
    let terms = |names: &[&str]| names.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let analyzers = &h.engine.inner.analyzers;
    let first = analyzers.get(&terms(&["renewal"]), &terms(&["acme"]));
    assert!(Arc::ptr_eq(&first, &analyzers.get(&terms(&["renewal"]), &terms(&["acme"]))));
    assert!(!Arc::ptr_eq(&first, &analyzers.get(&terms(&["renewal"]), &[])));
    // And the per-call terms are tracked.
    let mut payload: serde_json::Value = serde_json::from_slice(&event("c-1")).expect("json");
    payload["trackers"] = serde_json::json!({"competitors": ["acme"]});
    let event = h.engine.parse(payload.to_string().as_bytes()).expect("valid");
    let analysis = first_analysis(&h, event).await;
    assert!(
        analysis.signals.mentions.iter().any(|m| m.kind == TrackerKind::Competitor && m.term == "acme"),
        "{:?}",
        analysis.signals.mentions
    );
}

/// Analyses an event as the engine would, without storing it.
async fn first_analysis(h: &Harness, event: CallEvent) -> CallAnalysis {
    let analyzer = h.engine.inner.analyzers.get(&event.extra_keywords, &event.extra_competitors);
    let Content::Transcript(t) = event.content else { panic!("a transcript event") };
    analyzer.analyze_transcript(event.meta, *t, None)
}

/// Everything logged by this test binary, from the first call on.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    /// The sink, installed as the global subscriber the first time. Global, not
    /// per test: tracing caches whether a log line is wanted per call site for
    /// the whole process, so a thread-local subscriber misses the lines whose
    /// call sites other tests' threads reached first.
    fn capture() -> Logs {
        static LOGS: std::sync::OnceLock<Logs> = std::sync::OnceLock::new();
        LOGS.get_or_init(|| {
            let logs = Logs::default();
            let sink = logs.clone();
            // No timestamps: the tests look for digits that must not reach the
            // logs ("4111"), and a time such as 34.741114Z would hold them.
            let subscriber = tracing_subscriber::fmt()
                .with_ansi(false)
                .without_time()
                .with_writer(move || sink.clone())
                .finish();
            tracing::subscriber::set_global_default(subscriber).expect("the only global subscriber");
            logs
        })
        .clone()
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("lock")).into_owned()
    }
}

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn store_retries_are_logged_in_the_calls_span() {
    let logs = Logs::capture();
    let h = Harness::new(Faults { unavailable: 1, ..Faults::default() });
    assert_eq!(h.process(event("c-logged")).await, Outcome::Stored);
    let text = logs.text();
    let retry = text
        .lines()
        .find(|l| l.contains("store failed; retrying") && l.contains("call_id=c-logged"))
        .unwrap_or_else(|| panic!("no retry line in the call's span:\n{text}"));
    assert!(retry.contains("seller_id=s-1"), "{retry}");
    assert!(retry.contains("store_unavailable"), "the kind: {retry}");
}

#[tokio::test]
async fn personal_data_is_redacted_before_the_store_and_the_logs() {
    let logs = Logs::capture();
    // The first write fails, so the call's retry is logged too.
    let h = Harness::new(Faults { unavailable: 1, ..Faults::default() });
    let words: Vec<serde_json::Value> = [
        "my",
        "card",
        "is",
        "4111",
        "1111",
        "1111",
        "1111",
        "and",
        "hetu",
        "131052-308T",
        "thanks",
    ]
    .iter()
    .enumerate()
    .map(|(i, w)| serde_json::json!({"text": w, "start": i as f64, "end": i as f64 + 0.5, "speaker": "b"}))
    .collect();
    let event = serde_json::json!({
        "schema_version": 1, "call_id": "c-pii", "seller_id": "s-1", "started_at": "2026-11-02T10:00:00Z",
        "transcript": {"speakers": {"a": "seller", "b": "customer"}, "words": words},
    });
    assert_eq!(h.process(event.to_string()).await, Outcome::Stored);
    let rows = h.store.rows.lock().expect("lock").join("\n");
    assert!(rows.contains("[card]") && rows.contains("[id_code]"), "{rows}");
    let text = logs.text();
    for raw in ["4111", "1111", "131052", "308T"] {
        assert!(!rows.contains(raw), "{raw} reached the store: {rows}");
        assert!(!text.contains(raw), "{raw} reached the logs: {text}");
    }
}

#[tokio::test]
async fn a_panic_in_one_calls_analysis_is_that_calls_failure_and_the_threads_live_on() {
    let h = Harness::with(Faults::default(), |c| c.fault_panic_call_id = Some("c-panic".into()));
    let Outcome::Failed(f) = h.process(event("c-panic")).await else { panic!("the hook panics") };
    assert_eq!((f.stage, f.kind, f.attempts), (Stage::Analyze, "panic", 1));
    assert!(f.reason.contains("test hook"), "the panic's message: {}", f.reason);
    assert_eq!(h.failed("analyze", "panic"), 1);
    // Both CPU threads still take calls, one after another and at once.
    let ids = ["c-1", "c-2", "c-3", "c-4"];
    let outcomes = futures::future::join_all(ids.iter().map(|id| h.process(event(id)))).await;
    assert!(outcomes.iter().all(|o| *o == Outcome::Stored), "{outcomes:?}");
    assert_eq!(h.store.stored(), ids);
    assert_eq!(h.engine.metrics().in_flight.get(), 0);
    assert_eq!(h.health.readiness(), Ok(()), "no thread is left busy");
    // The same call panics again on a replay: it is the call's, not the thread's.
    let Outcome::Failed(again) = h.process(event("c-panic")).await else { panic!("again") };
    assert_eq!(again.kind, "panic");
}

#[test]
fn backoff_doubles_to_the_cap_with_equal_jitter() {
    let (initial, max) = (Duration::from_millis(100), Duration::from_secs(1));
    assert_eq!(jittered(initial, max, 1, 0.0), Duration::from_millis(50));
    assert_eq!(jittered(initial, max, 1, 1.0), Duration::from_millis(100));
    assert_eq!(jittered(initial, max, 3, 1.0), Duration::from_millis(400));
    assert_eq!(jittered(initial, max, 30, 1.0), max, "capped");
    assert_eq!(jittered(initial, max, 30, 0.0), max / 2, "jitter below the cap too");
    for draw in [0.1, 0.5, 0.9] {
        let d = jittered(initial, max, 2, draw);
        assert!(d >= Duration::from_millis(100) && d <= Duration::from_millis(200), "{d:?}");
    }
}

/// A one-route HTTP server on 127.0.0.1: the `n`th request (from 0) gets
/// `answer(n)` as (status, body). Returns its port and the request count.
async fn recording_server(
    answer: impl Fn(usize) -> (u16, Vec<u8>) + Send + Sync + 'static,
) -> (u16, Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let hits = Arc::new(AtomicUsize::new(0));
    let (counter, answer) = (hits.clone(), Arc::new(answer));
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            let answer = answer.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(k) => request.extend_from_slice(&buf[..k]),
                    }
                }
                let (status, body) = answer(n);
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
    (port, hits)
}

fn audio_event(call_id: &str, port: u16) -> Vec<u8> {
    serde_json::json!({
        "schema_version": 1, "call_id": call_id, "seller_id": "s-1",
        "started_at": "2026-11-02T10:00:00Z",
        "audio": {"uri": format!("http://127.0.0.1:{port}/calls/{call_id}.wav")}
    })
    .to_string()
    .into_bytes()
}

#[tokio::test]
async fn a_missing_recording_is_confirmed_then_dead_lettered() {
    let (port, hits) = recording_server(|_| (404, b"no such object".to_vec())).await;
    let h = Harness::new(Faults::default());
    let Outcome::Failed(f) = h.process(audio_event("c-404", port)).await else { panic!("404") };
    assert_eq!((f.stage, f.kind, f.attempts), (Stage::Fetch, "recording_unavailable", 2), "{}", f.reason);
    assert!(f.reason.contains("HTTP 404") && f.reason.contains("c-404.wav"), "{}", f.reason);
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 2, "fetch_confirm_attempts tries");
    assert!(h.store.attempts().is_empty());
}

#[tokio::test]
async fn a_failing_recording_server_is_retried_up_to_the_cap_then_dead_lettered() {
    let (port, hits) = recording_server(|_| (503, b"<html>busy</html>".to_vec())).await;
    let h = Harness::new(Faults::default());
    let Outcome::Failed(f) = h.process(audio_event("c-503", port)).await else { panic!("503") };
    assert_eq!((f.stage, f.kind, f.attempts), (Stage::Fetch, "recording_unreachable", 3), "{}", f.reason);
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 3, "fetch_max_attempts tries");
    assert_eq!(h.retries("fetch"), 2);
}

#[tokio::test]
async fn a_recording_server_that_recovers_is_waited_for() {
    let (port, hits) =
        recording_server(
            |n| if n == 0 { (500, Vec::new()) } else { (200, b"RIFF not really audio".to_vec()) },
        )
        .await;
    let h = Harness::new(Faults::default());
    let Outcome::Failed(f) = h.process(audio_event("c-flaky", port)).await else { panic!("no model") };
    // Fetched on the second try; this worker has no model, so it stops there.
    assert_eq!((f.stage, f.kind), (Stage::Transcribe, "no_model"), "{}", f.reason);
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 2);
    assert_eq!(h.retries("fetch"), 1);
}

#[tokio::test]
async fn a_recording_over_the_size_limit_is_dead_lettered_without_retries() {
    let (port, hits) = recording_server(|_| (200, vec![0u8; 4096])).await;
    let h = Harness::with(Faults::default(), |c| c.max_recording_bytes = Some(1000));
    let Outcome::Failed(f) = h.process(audio_event("c-big", port)).await else { panic!("too large") };
    assert_eq!((f.stage, f.kind, f.attempts), (Stage::Fetch, "recording_too_large", 1), "{}", f.reason);
    assert!(f.reason.contains("4096 bytes"), "{}", f.reason);
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1);
}

/// Runs the folder source once over `dir` on a store failing as `faults`
/// says, stopping it (as SIGTERM would) once `stop_after` writes were tried.
async fn run_folder(
    dir: &std::path::Path,
    faults: Faults,
    stop_after: usize,
) -> (crate::dir::DirSummary, Arc<TestStore>) {
    let Harness { engine, store, health, stop } = Harness::new(faults);
    let config = crate::dir::DirConfig {
        path: dir.to_path_buf(),
        poll: Duration::from_millis(10),
        once: true,
        max_in_flight: 2,
        settle: Duration::ZERO,
    };
    let watched = store.clone();
    let shutdown = async move {
        while watched.attempts().len() < stop_after {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    let summary = crate::dir::run(config, engine, health, stop, shutdown, std::future::pending(), |_| {})
        .await
        .expect("runs");
    (summary, store)
}

#[tokio::test]
async fn the_folder_source_never_marks_a_file_done_while_the_store_fails() {
    let dir = tempfile::tempdir().expect("tempdir");
    let payload: serde_json::Value = serde_json::from_slice(&event("c-dir")).expect("json");
    std::fs::write(dir.path().join("c-dir.json"), payload["transcript"].to_string()).expect("transcript");
    let meta = serde_json::json!({"seller_id": "s-1", "started_at": "2026-11-02T10:00:00Z"});
    std::fs::write(dir.path().join("c-dir.meta.json"), meta.to_string()).expect("sidecar");
    let state = dir.path().join(".callscope/state.json");

    // A disk-full or I/O error is `Unavailable`: retried until the worker stops.
    let (summary, store) =
        run_folder(dir.path(), Faults { unavailable: u32::MAX, ..Faults::default() }, 3).await;
    assert_eq!((summary.stored, summary.failed), (0, 0), "{summary:?}");
    assert!(store.stored().is_empty());
    let saved = std::fs::read_to_string(&state).unwrap_or_default();
    assert!(!saved.contains("c-dir.json"), "not marked done: {saved}");
    assert!(!dir.path().join(".callscope/failed/c-dir.json.error.json").exists(), "not a failure either");

    // The next run does it.
    let (summary, store) =
        run_folder(dir.path(), Faults { unavailable: 1, ..Faults::default() }, usize::MAX).await;
    assert_eq!((summary.stored, summary.failed), (1, 0), "{summary:?}");
    assert_eq!(store.stored(), ["c-dir"]);
    assert!(std::fs::read_to_string(&state).expect("state").contains("c-dir.json"));
}

/// Polls `future` once (a CPU job's future: its first poll queues the job).
fn poll_once<F: Future>(future: std::pin::Pin<&mut F>) -> std::task::Poll<F::Output> {
    future.poll(&mut std::task::Context::from_waker(std::task::Waker::noop()))
}

#[tokio::test]
async fn an_abandoned_job_is_skipped_and_the_engine_waits_for_the_one_running() {
    let h = Harness::with(Faults::default(), |c| c.cpu_threads = 1);
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let finished = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));

    // The one thread takes a job that runs until released.
    let running = {
        let finished = finished.clone();
        h.engine.cpu(move |_| {
            started_tx.send(()).expect("the test waits");
            release_rx.recv().expect("released");
            std::thread::sleep(Duration::from_millis(50));
            finished.store(true, std::sync::atomic::Ordering::SeqCst);
        })
    };
    let mut running = Box::pin(running);
    assert!(poll_once(running.as_mut()).is_pending());
    started_rx.recv().expect("the job started");

    // A second job queues behind it, and its call is abandoned.
    let queued = {
        let ran = ran.clone();
        h.engine.cpu(move |_| ran.store(true, std::sync::atomic::Ordering::SeqCst))
    };
    let mut queued = Box::pin(queued);
    assert!(poll_once(queued.as_mut()).is_pending(), "queued behind the running job");
    drop(queued);

    // The running one's call is abandoned too, and the engine dropped: that
    // waits for the job in progress to end and never runs the queued one.
    drop(running);
    release_tx.send(()).expect("the job waits");
    let Harness { engine, .. } = h;
    drop(engine);
    assert!(finished.load(std::sync::atomic::Ordering::SeqCst), "the engine's drop waited for the job");
    assert!(!ran.load(std::sync::atomic::Ordering::SeqCst), "the abandoned job never ran");
}
