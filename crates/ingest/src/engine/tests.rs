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
        let store = TestStore::new(faults);
        let health = Health::new();
        health.set_started();
        let (stop, stop_rx) = watch::channel(false);
        let config = EngineConfig {
            cpu_threads: 2,
            batch_max_calls: 8,
            // Long enough for concurrent calls to share a batch.
            batch_linger: Duration::from_millis(200),
            retry_initial: Duration::from_millis(1),
            retry_max: Duration::from_millis(4),
            fetch_timeout: Duration::from_secs(1),
        };
        let models = Models {
            trackers: Trackers::default(),
            signals: SignalSettings::default(),
            transcriber: None,
            diarizer: None,
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
            let subscriber =
                tracing_subscriber::fmt().with_ansi(false).with_writer(move || sink.clone()).finish();
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
