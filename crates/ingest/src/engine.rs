//! The processing engine that every source (Kafka, folder) drives: fetch →
//! decode → transcribe and attribute → KPIs and signals → batched store write.
//!
//! - **CPU work never runs on the async runtime.** Decoding, whisper and the
//!   analysis run on a dedicated pool of OS threads sized from config; each
//!   thread owns its whisper session (one shared model). The pool's queue is
//!   bounded, so a burst of events waits instead of piling up in memory.
//! - **Writes are batched.** A single writer task collects finished calls for
//!   a few milliseconds and writes them in one [`Store::write`]; each caller is
//!   answered only after the store confirmed its call. That is when a source may
//!   commit.
//! - **Transient failures are retried with capped exponential backoff** (store
//!   down, fetch timeout) for as long as the worker runs; permanent ones come
//!   back as a [`Failure`] naming the stage and error type, for the
//!   dead-letter destination. A batch rejected as invalid is split and written
//!   call by call, so one bad call cannot take the others down with it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use callscope_asr::{Session, Transcriber};
use callscope_model::CallAnalysis;
use callscope_model::TrackerKind;
use callscope_pipeline::{Analyzer, PipelineError, Recording};
use callscope_signals::{SignalSettings, Term, Trackers};
use callscope_store::{Retry, Store, StoreError};
use tokio::sync::{mpsc, oneshot, watch};

use crate::event::{CallEvent, Content, EventError};
use crate::fetch::{FetchError, Fetched, Fetcher};
use crate::metrics::{Health, Metrics};

/// A pipeline stage, as named in metrics and dead-letter headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Reading the event.
    Parse,
    /// Getting the recording.
    Fetch,
    /// Decoding and resampling.
    Decode,
    /// whisper and speaker attribution.
    Transcribe,
    /// KPIs and signals.
    Analyze,
    /// Writing to the store.
    Store,
}

impl Stage {
    /// The stage's name in metrics and headers.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Parse => "parse",
            Stage::Fetch => "fetch",
            Stage::Decode => "decode",
            Stage::Transcribe => "transcribe",
            Stage::Analyze => "analyze",
            Stage::Store => "store",
        }
    }
}

/// A permanent failure: the event cannot be processed, whatever the retries.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// Where it failed.
    pub stage: Stage,
    /// A short, stable error type (`corrupt_audio`, `invalid_event`, …).
    pub kind: &'static str,
    /// The error, in words.
    pub reason: String,
    /// Attempts made, including the last.
    pub attempts: u32,
}

/// How processing an event ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The call is durably stored.
    Stored,
    /// The event cannot be processed: dead-letter it.
    Failed(Failure),
    /// The worker is stopping: not done, not to be committed (it will be redone).
    Abandoned,
}

/// Tuning of the engine.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Threads for the CPU stages.
    pub cpu_threads: usize,
    /// Most calls per store write.
    pub batch_max_calls: usize,
    /// How long the writer waits to fill a batch.
    pub batch_linger: Duration,
    /// First retry delay; doubles per attempt.
    pub retry_initial: Duration,
    /// Longest retry delay.
    pub retry_max: Duration,
    /// Time limit of one recording fetch.
    pub fetch_timeout: Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            cpu_threads: std::thread::available_parallelism().map_or(2, usize::from),
            batch_max_calls: 64,
            batch_linger: Duration::from_millis(20),
            retry_initial: Duration::from_millis(200),
            retry_max: Duration::from_secs(10),
            fetch_timeout: Duration::from_secs(60),
        }
    }
}

/// What the engine analyses with.
pub struct Models {
    /// Signal trackers from config (per-call ones are added to these).
    pub trackers: Trackers,
    /// Signal settings.
    pub signals: SignalSettings,
    /// The whisper model; `None` accepts transcript events only.
    pub transcriber: Option<Arc<Transcriber>>,
    /// Mono diarization; `None`: mono calls are one speaker, flagged.
    pub diarizer: Option<Arc<callscope_pipeline::Diarizer>>,
}

type CpuJob = Box<dyn for<'a> FnOnce(Option<&mut Session<'a>>) + Send>;

struct WriteJob {
    call: CallAnalysis,
    done: oneshot::Sender<Outcome>,
}

/// The shared engine. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    analyzer: Arc<Analyzer>,
    diarizer: Option<Arc<callscope_pipeline::Diarizer>>,
    trackers: Trackers,
    signals: SignalSettings,
    model_name: Option<String>,
    cpu: mpsc::Sender<CpuJob>,
    writes: mpsc::Sender<WriteJob>,
    fetcher: Fetcher,
    config: EngineConfig,
    metrics: Metrics,
    stop: watch::Receiver<bool>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("config", &self.inner.config).finish_non_exhaustive()
    }
}

impl Engine {
    /// Starts the CPU pool and the store writer. Must be called inside a tokio
    /// runtime. Setting `stop` to true makes retries give up ([`Outcome::Abandoned`]).
    pub fn start(
        models: Models,
        store: Arc<dyn Store>,
        config: EngineConfig,
        metrics: Metrics,
        health: Arc<Health>,
        stop: watch::Receiver<bool>,
    ) -> Engine {
        let threads = config.cpu_threads.max(1);
        let (cpu_tx, cpu_rx) = mpsc::channel::<CpuJob>(threads * 2);
        let cpu_rx = Arc::new(Mutex::new(cpu_rx));
        for i in 0..threads {
            let rx = cpu_rx.clone();
            let transcriber = models.transcriber.clone();
            std::thread::Builder::new()
                .name(format!("callscope-cpu-{i}"))
                .spawn(move || cpu_thread(&rx, transcriber.as_deref()))
                .expect("spawning a CPU thread");
        }
        let (write_tx, write_rx) = mpsc::channel(config.batch_max_calls.max(1) * 2);
        tokio::spawn(writer(store, write_rx, config.clone(), metrics.clone(), health, stop.clone()));
        let model_name = models.transcriber.as_ref().map(|t| callscope_asr::model_name(&t.settings().model));
        Engine {
            inner: Arc::new(Inner {
                analyzer: Arc::new(
                    Analyzer::new(&models.trackers, models.signals.clone())
                        .with_diarizer(models.diarizer.clone()),
                ),
                diarizer: models.diarizer,
                trackers: models.trackers,
                signals: models.signals,
                model_name,
                cpu: cpu_tx,
                writes: write_tx,
                fetcher: Fetcher::new(config.fetch_timeout),
                config,
                metrics,
                stop,
            }),
        }
    }

    /// The engine's metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// Parses an event's payload; a bad one is a permanent [`Failure`] at the
    /// `parse` stage (and counted as such).
    pub fn parse(&self, payload: &[u8]) -> Result<CallEvent, Failure> {
        CallEvent::from_json_slice(payload).map_err(|e| {
            let kind = match &e {
                EventError::Malformed(_) => "malformed_event",
                EventError::UnknownVersion(_) => "unknown_schema_version",
                EventError::Invalid { .. } => "invalid_event",
                EventError::Transcript(_) => "invalid_transcript",
            };
            self.inner.metrics.calls_failed.with_label_values(&[Stage::Parse.as_str(), kind]).inc();
            Failure { stage: Stage::Parse, kind, reason: e.to_string(), attempts: 1 }
        })
    }

    /// Processes one event to the end: stored, failed, or abandoned at shutdown.
    pub async fn process(&self, event: CallEvent) -> Outcome {
        let inner = &self.inner;
        inner.metrics.in_flight.inc();
        let outcome = self.run(event).await;
        inner.metrics.in_flight.dec();
        match &outcome {
            Outcome::Failed(f) => {
                inner.metrics.calls_failed.with_label_values(&[f.stage.as_str(), f.kind]).inc();
            }
            Outcome::Stored | Outcome::Abandoned => {}
        }
        outcome
    }

    async fn run(&self, event: CallEvent) -> Outcome {
        let inner = &self.inner;
        let analyzer = if event.extra_keywords.is_empty() && event.extra_competitors.is_empty() {
            inner.analyzer.clone()
        } else {
            let mut trackers = inner.trackers.clone();
            let terms = |kind, names: &[String]| -> Vec<Term> {
                names.iter().map(|n| Term::new(kind, n.as_str(), &[])).collect()
            };
            trackers.extend(terms(TrackerKind::Keyword, &event.extra_keywords));
            trackers.extend(terms(TrackerKind::Competitor, &event.extra_competitors));
            Arc::new(Analyzer::new(&trackers, inner.signals.clone()).with_diarizer(inner.diarizer.clone()))
        };
        let kind = match &event.content {
            Content::Audio(_) => "audio",
            Content::Transcript(_) => "transcript",
        };
        let analysis = match event.content {
            Content::Transcript(t) => {
                let meta = event.meta;
                let started = Instant::now();
                let r = self.cpu(move |_| analyzer.analyze_transcript(meta, *t, None)).await;
                inner.metrics.stage_seconds.with_label_values(&["analyze"]).observe(secs(started));
                match r {
                    Some(a) => a,
                    None => return Outcome::Abandoned,
                }
            }
            Content::Audio(audio) => {
                let audio_uri = match &audio {
                    crate::event::AudioRef::Uri { uri, .. } => Some(uri.to_string()),
                    crate::event::AudioRef::Inline { .. } => None,
                };
                let started = Instant::now();
                let fetched = match self.fetch_with_retry(audio).await {
                    Ok(f) => f,
                    Err(outcome) => return outcome,
                };
                inner.metrics.stage_seconds.with_label_values(&["fetch"]).observe(secs(started));
                let Some(model) = inner.model_name.clone() else {
                    return Outcome::Failed(Failure {
                        stage: Stage::Transcribe,
                        kind: "no_model",
                        reason:
                            "this worker has no whisper model (asr.model): it takes transcript events only"
                                .into(),
                        attempts: 1,
                    });
                };
                let metrics = inner.metrics.clone();
                let meta = event.meta;
                let seller_channel = event.seller_channel;
                let r = self
                    .cpu(move |session| {
                        analyze_audio(
                            &analyzer,
                            session,
                            fetched,
                            meta,
                            seller_channel,
                            audio_uri,
                            &model,
                            &metrics,
                        )
                    })
                    .await;
                match r {
                    Some(Ok(a)) => a,
                    Some(Err(f)) => return Outcome::Failed(f),
                    None => return Outcome::Abandoned,
                }
            }
        };
        let (done, answer) = oneshot::channel();
        if inner.writes.send(WriteJob { call: analysis, done }).await.is_err() {
            return Outcome::Abandoned;
        }
        let outcome = answer.await.unwrap_or(Outcome::Abandoned);
        if outcome == Outcome::Stored {
            inner.metrics.calls_processed.with_label_values(&[kind]).inc();
        }
        outcome
    }

    /// Runs `f` on the CPU pool. `None` if the pool is gone (shutdown).
    async fn cpu<T: Send + 'static>(
        &self,
        f: impl for<'a> FnOnce(Option<&mut Session<'a>>) -> T + Send + 'static,
    ) -> Option<T> {
        let (tx, rx) = oneshot::channel();
        let job: CpuJob = Box::new(move |s| {
            let _ = tx.send(f(s));
        });
        self.inner.cpu.send(job).await.ok()?;
        rx.await.ok()
    }

    async fn fetch_with_retry(&self, audio: crate::event::AudioRef) -> Result<Fetched, Outcome> {
        let inner = &self.inner;
        let mut attempts = 0;
        loop {
            attempts += 1;
            match inner.fetcher.fetch(audio.clone()).await {
                Ok(f) => return Ok(f),
                Err(FetchError::Permanent(reason)) => {
                    return Err(Outcome::Failed(Failure {
                        stage: Stage::Fetch,
                        kind: "recording_unavailable",
                        reason,
                        attempts,
                    }));
                }
                Err(FetchError::Transient(reason)) => {
                    inner.metrics.retries.with_label_values(&["fetch"]).inc();
                    tracing::warn!(attempts, %reason, "fetch failed; retrying");
                    if !backoff(&inner.config, attempts, &mut inner.stop.clone()).await {
                        return Err(Outcome::Abandoned);
                    }
                }
            }
        }
    }
}

fn secs(started: Instant) -> f64 {
    started.elapsed().as_secs_f64()
}

/// Sleeps before retry `attempt`; false if the worker is stopping.
async fn backoff(config: &EngineConfig, attempt: u32, stop: &mut watch::Receiver<bool>) -> bool {
    let delay =
        config.retry_initial.saturating_mul(1 << attempt.min(16).saturating_sub(1)).min(config.retry_max);
    if *stop.borrow() {
        return false;
    }
    tokio::select! {
        () = tokio::time::sleep(delay) => !*stop.borrow(),
        _ = stop.changed() => false,
    }
}

fn cpu_thread(rx: &Mutex<mpsc::Receiver<CpuJob>>, transcriber: Option<&Transcriber>) {
    let mut session = None;
    let mut session_failed = false;
    loop {
        let job = {
            let mut rx = rx.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            rx.blocking_recv()
        };
        let Some(job) = job else { return };
        if session.is_none() && !session_failed {
            if let Some(t) = transcriber {
                match t.session() {
                    Ok(s) => session = Some(s),
                    Err(e) => {
                        tracing::error!(error = %e, "cannot create a whisper session");
                        session_failed = true;
                    }
                }
            }
        }
        job(session.as_mut());
    }
}

#[allow(clippy::too_many_arguments)]
fn analyze_audio(
    analyzer: &Analyzer,
    session: Option<&mut Session<'_>>,
    fetched: Fetched,
    meta: callscope_model::CallMeta,
    seller_channel: Option<callscope_pipeline::SellerChannel>,
    audio_uri: Option<String>,
    model: &str,
    metrics: &Metrics,
) -> Result<CallAnalysis, Failure> {
    let fail = |stage, kind, reason: String| Failure { stage, kind, reason, attempts: 1 };
    let started = Instant::now();
    let decoded = match fetched {
        Fetched::Path(p) => callscope_audio::decode_file(&p),
        Fetched::Bytes(b, ext) => callscope_audio::decode_bytes(b, ext.as_deref()),
    };
    let audio = decoded.map_err(|e| {
        use callscope_audio::AudioError;
        let kind = match &e {
            AudioError::Io(_) => "unreadable_audio",
            AudioError::Empty => "empty_audio",
            AudioError::Unsupported(_) => "unsupported_audio",
            AudioError::Corrupt(_) => "corrupt_audio",
            AudioError::SampleRate(_) => "unsupported_sample_rate",
        };
        fail(Stage::Decode, kind, e.to_string())
    })?;
    metrics.stage_seconds.with_label_values(&["decode"]).observe(secs(started));
    let Some(session) = session else {
        return Err(fail(Stage::Transcribe, "asr_unavailable", "no whisper session on this thread".into()));
    };
    let started = Instant::now();
    let recording = Recording { meta, audio: &audio, seller_channel, audio_uri };
    let (analysis, report) = analyzer.analyze_audio(recording, session, model, &mut |_| {}).map_err(|e| {
        let kind = match &e {
            PipelineError::Asr(_) => "asr_failed",
            PipelineError::Diarize(_) => "diarization_failed",
            PipelineError::MonoWithStereoRoles => "mono_with_stereo_roles",
        };
        fail(Stage::Transcribe, kind, e.to_string())
    })?;
    metrics.stage_seconds.with_label_values(&["transcribe"]).observe(secs(started));
    metrics.audio_seconds.inc_by(audio.duration_s());
    if report.realtime_factor.is_finite() {
        metrics.realtime_factor.observe(report.realtime_factor);
    }
    Ok(analysis)
}

async fn writer(
    store: Arc<dyn Store>,
    mut rx: mpsc::Receiver<WriteJob>,
    config: EngineConfig,
    metrics: Metrics,
    health: Arc<Health>,
    stop: watch::Receiver<bool>,
) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        let deadline = tokio::time::Instant::now() + config.batch_linger;
        while batch.len() < config.batch_max_calls {
            tokio::select! {
                job = rx.recv() => match job { Some(j) => batch.push(j), None => break },
                () = tokio::time::sleep_until(deadline) => break,
            }
        }
        metrics.store_batch_size.observe(batch.len() as f64);
        write_batch(store.as_ref(), batch, &config, &metrics, &health, &stop).await;
    }
}

/// Writes a batch, retrying transient errors; a permanently rejected batch of
/// several calls is retried call by call to find the bad one.
async fn write_batch(
    store: &dyn Store,
    batch: Vec<WriteJob>,
    config: &EngineConfig,
    metrics: &Metrics,
    health: &Health,
    stop: &watch::Receiver<bool>,
) {
    let (calls, dones): (Vec<_>, Vec<_>) = batch.into_iter().map(|j| (j.call, j.done)).unzip();
    match write_with_retry(store, &calls, config, metrics, health, stop).await {
        Ok(()) => {
            for d in dones {
                let _ = d.send(Outcome::Stored);
            }
        }
        Err(outcome @ Outcome::Failed(_)) if calls.len() > 1 => {
            tracing::warn!(calls = calls.len(), ?outcome, "batch rejected; writing its calls one by one");
            for (call, done) in calls.into_iter().zip(dones) {
                let single = std::slice::from_ref(&call);
                let o = match write_with_retry(store, single, config, metrics, health, stop).await {
                    Ok(()) => Outcome::Stored,
                    Err(o) => o,
                };
                let _ = done.send(o);
            }
        }
        Err(outcome) => {
            for d in dones {
                let _ = d.send(outcome.clone());
            }
        }
    }
}

async fn write_with_retry(
    store: &dyn Store,
    calls: &[CallAnalysis],
    config: &EngineConfig,
    metrics: &Metrics,
    health: &Health,
    stop: &watch::Receiver<bool>,
) -> Result<(), Outcome> {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let started = Instant::now();
        let result = store.write(calls).await;
        metrics.stage_seconds.with_label_values(&["store"]).observe(secs(started));
        match result {
            Ok(_) => {
                health.set_store_ok(true);
                return Ok(());
            }
            // A schema mismatch is the deployment's fault, not the call's: wait
            // for `callscope migrate` rather than dead-letter every call.
            Err(e) if e.retry() == Retry::WithBackoff || matches!(e, StoreError::SchemaMismatch(_)) => {
                health.set_store_ok(false);
                metrics.retries.with_label_values(&["store"]).inc();
                tracing::warn!(attempts, error = %e, calls = calls.len(), "store write failed; retrying");
                if !backoff(config, attempts, &mut stop.clone()).await {
                    return Err(Outcome::Abandoned);
                }
            }
            Err(e) => {
                let kind = match &e {
                    StoreError::InvalidInput { .. } => "invalid_call",
                    StoreError::SchemaMismatch(_) => "schema_mismatch",
                    StoreError::Unavailable(_)
                    | StoreError::Timeout(_)
                    | StoreError::NotAuthor(_)
                    | StoreError::Database(_) => "store_rejected",
                };
                return Err(Outcome::Failed(Failure {
                    stage: Stage::Store,
                    kind,
                    reason: e.to_string(),
                    attempts,
                }));
            }
        }
    }
}
