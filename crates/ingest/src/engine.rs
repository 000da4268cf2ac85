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
//! - **Errors are acted on by class, not by stage.** Each error type says once
//!   what the runner does with it ([`errors`](crate::errors)). Transient ones
//!   (store down, fetch timeout, schema not migrated yet) are retried with
//!   capped exponential backoff for as long as the worker runs, by one retry
//!   loop for fetches and writes; permanent ones come back as a [`Failure`]
//!   naming the stage and error type, for the dead-letter destination. A batch
//!   rejected as invalid is split and written call by call, so one bad call
//!   cannot take the others down with it.
//! - **One span per call.** [`Engine::process`] runs in a `call` span
//!   ([`call_span`]: `call_id`, `seller_id`), entered on the CPU threads too, so
//!   every log line about a call carries its id. A store write of several calls
//!   logs in a `store_batch` span listing their ids.
//! - **Analyzers are shared.** An event with its own trackers gets its analyzer
//!   from a small, bounded cache (the `analyzers` module) rather than compiling
//!   the trackers again for every call.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use callscope_asr::{Session, Transcriber};
use callscope_model::CallAnalysis;
use callscope_pipeline::{Analyzer, Recording};
use callscope_signals::{SignalSettings, Trackers};
use callscope_store::Store;
use tokio::sync::{mpsc, oneshot, watch};
use tracing::{Instrument, Span};

use crate::analyzers::Analyzers;
use crate::errors::{Action, Classify, ErrorClass};
use crate::event::{AudioRef, CallEvent, Content};
use crate::fetch::{Fetched, Fetcher};
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

impl Failure {
    /// The failure of `stage` with `error`, after `attempts`: the one place an
    /// error becomes a dead-letter record. The retry loop calls it for errors
    /// classified [`Action::DeadLetter`]; the CPU stages, which run once, for
    /// any error (all of theirs are `DeadLetter`).
    fn of(stage: Stage, error: &impl Classify, attempts: u32) -> Failure {
        Failure { stage, kind: error.class().kind, reason: error.reason(), attempts }
    }

    /// Counts it in `callscope_calls_failed_total{stage, error}`.
    fn count(&self, metrics: &Metrics) {
        metrics.calls_failed.with_label_values(&[self.stage.as_str(), self.kind]).inc();
    }
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
    pub diarizer: Option<Arc<callscope_diarize::mono::Diarizer>>,
}

/// What this worker lacks for a call: the event is fine, but this worker
/// cannot do it.
#[derive(Debug, thiserror::Error)]
enum WorkerError {
    /// An audio event, and no whisper model is loaded.
    #[error("this worker has no whisper model (asr.model): it takes transcript events only")]
    NoModel,
    /// The CPU thread could not create its whisper session (logged when it tried).
    #[error("no whisper session on this thread")]
    NoSession,
}

impl Classify for WorkerError {
    /// Dead-lettered, not retried: another worker of the same deployment has
    /// the same model, and the event can be replayed from the dead-letter topic
    /// once the worker is fixed.
    fn class(&self) -> ErrorClass {
        ErrorClass::dead_letter(match self {
            WorkerError::NoModel => "no_model",
            WorkerError::NoSession => "asr_unavailable",
        })
    }
}

/// The span of everything done for one call: `call_id` and `seller_id`, never
/// content. Sources wrap their own per-call work (dead-lettering) in it too.
pub fn call_span(event: &CallEvent) -> Span {
    tracing::info_span!("call", call_id = %event.meta.call_id, seller_id = %event.meta.seller_id)
}

type CpuJob = Box<dyn for<'a> FnOnce(Option<&mut Session<'a>>) + Send>;

struct WriteJob {
    call: CallAnalysis,
    done: oneshot::Sender<Outcome>,
    /// The call's span, for what the writer logs about it.
    span: Span,
}

/// The shared engine. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    analyzers: Analyzers,
    model_name: Option<String>,
    cpu: mpsc::Sender<CpuJob>,
    writes: mpsc::Sender<WriteJob>,
    fetcher: Fetcher,
    retrier: Retrier,
    config: EngineConfig,
    metrics: Metrics,
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
        let retrier = Retrier { config: config.clone(), metrics: metrics.clone(), stop };
        let (write_tx, write_rx) = mpsc::channel(config.batch_max_calls.max(1) * 2);
        tokio::spawn(writer(store, write_rx, config.clone(), retrier.clone(), health));
        let model_name = models.transcriber.as_ref().map(|t| callscope_asr::model_name(&t.settings().model));
        Engine {
            inner: Arc::new(Inner {
                analyzers: Analyzers::new(
                    models.trackers,
                    models.signals,
                    models.diarizer,
                    crate::analyzers::CACHE_CAPACITY,
                ),
                model_name,
                cpu: cpu_tx,
                writes: write_tx,
                fetcher: Fetcher::new(config.fetch_timeout),
                retrier,
                config,
                metrics,
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
            let failure = Failure::of(Stage::Parse, &e, 1);
            failure.count(&self.inner.metrics);
            failure
        })
    }

    /// Processes one event to the end: stored, failed, or abandoned at shutdown.
    /// Runs in the call's span ([`call_span`]).
    pub async fn process(&self, event: CallEvent) -> Outcome {
        let metrics = &self.inner.metrics;
        metrics.in_flight.inc();
        let span = call_span(&event);
        let outcome = self.run(event).instrument(span).await;
        metrics.in_flight.dec();
        match &outcome {
            Outcome::Failed(f) => f.count(metrics),
            Outcome::Stored | Outcome::Abandoned => {}
        }
        outcome
    }

    async fn run(&self, event: CallEvent) -> Outcome {
        let inner = &self.inner;
        let analyzer = inner.analyzers.get(&event.extra_keywords, &event.extra_competitors);
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
                    AudioRef::Uri { uri, .. } => Some(uri.to_string()),
                    AudioRef::Inline { .. } => None,
                };
                let started = Instant::now();
                let fetcher = &inner.fetcher;
                let fetched = match inner.retrier.run(Stage::Fetch, || fetcher.fetch(audio.clone())).await {
                    Ok(f) => f,
                    Err(outcome) => return outcome,
                };
                inner.metrics.stage_seconds.with_label_values(&["fetch"]).observe(secs(started));
                let Some(model) = inner.model_name.clone() else {
                    return Outcome::Failed(Failure::of(Stage::Transcribe, &WorkerError::NoModel, 1));
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
        if inner.writes.send(WriteJob { call: analysis, done, span: Span::current() }).await.is_err() {
            return Outcome::Abandoned;
        }
        let outcome = answer.await.unwrap_or(Outcome::Abandoned);
        if outcome == Outcome::Stored {
            inner.metrics.calls_processed.with_label_values(&[kind]).inc();
        }
        outcome
    }

    /// Runs `f` on the CPU pool, in the caller's span. `None` if the pool is
    /// gone (shutdown).
    async fn cpu<T: Send + 'static>(
        &self,
        f: impl for<'a> FnOnce(Option<&mut Session<'a>>) -> T + Send + 'static,
    ) -> Option<T> {
        let (tx, rx) = oneshot::channel();
        let span = Span::current();
        let job: CpuJob = Box::new(move |s| {
            let _entered = span.enter();
            let _ = tx.send(f(s));
        });
        self.inner.cpu.send(job).await.ok()?;
        rx.await.ok()
    }
}

fn secs(started: Instant) -> f64 {
    started.elapsed().as_secs_f64()
}

/// The retry loop of the stages that can be retried (fetch, store): capped
/// exponential backoff, for as long as the worker runs.
#[derive(Clone)]
struct Retrier {
    /// The delays (`retry_initial`, `retry_max`).
    config: EngineConfig,
    /// For `callscope_retries_total{stage}`.
    metrics: Metrics,
    /// True when the worker is stopping: waiting ends, the call is abandoned.
    stop: watch::Receiver<bool>,
}

impl Retrier {
    /// Runs `attempt` until it succeeds, fails with an error classified
    /// [`Action::DeadLetter`] ([`Outcome::Failed`]), or the worker stops while
    /// it waits to retry ([`Outcome::Abandoned`]).
    async fn run<T, E, F>(&self, stage: Stage, mut attempt: impl FnMut() -> F) -> Result<T, Outcome>
    where
        E: Classify,
        F: Future<Output = Result<T, E>>,
    {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let error = match attempt().await {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            match error.class() {
                ErrorClass { action: Action::DeadLetter, .. } => {
                    return Err(Outcome::Failed(Failure::of(stage, &error, attempts)));
                }
                ErrorClass { action: Action::Retry, kind } => {
                    self.metrics.retries.with_label_values(&[stage.as_str()]).inc();
                    let reason = error.reason();
                    tracing::warn!(attempts, kind, %reason, "{} failed; retrying", stage.as_str());
                    if !self.backoff(attempts).await {
                        return Err(Outcome::Abandoned);
                    }
                }
            }
        }
    }

    /// Sleeps before retry `attempt`; false if the worker is stopping.
    async fn backoff(&self, attempt: u32) -> bool {
        let config = &self.config;
        let delay =
            config.retry_initial.saturating_mul(1 << attempt.min(16).saturating_sub(1)).min(config.retry_max);
        let mut stop = self.stop.clone();
        if *stop.borrow() {
            return false;
        }
        tokio::select! {
            () = tokio::time::sleep(delay) => !*stop.borrow(),
            _ = stop.changed() => false,
        }
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
        if session.is_none()
            && !session_failed
            && let Some(t) = transcriber
        {
            match t.session() {
                Ok(s) => session = Some(s),
                Err(e) => {
                    tracing::error!(error = %e, "cannot create a whisper session");
                    session_failed = true;
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
    seller_channel: Option<callscope_model::SellerChannel>,
    audio_uri: Option<String>,
    model: &str,
    metrics: &Metrics,
) -> Result<CallAnalysis, Failure> {
    let started = Instant::now();
    let decoded = match fetched {
        Fetched::Path(p) => callscope_audio::decode_file(&p),
        Fetched::Bytes(b, ext) => callscope_audio::decode_bytes(b, ext.as_deref()),
    };
    let audio = decoded.map_err(|e| Failure::of(Stage::Decode, &e, 1))?;
    metrics.stage_seconds.with_label_values(&["decode"]).observe(secs(started));
    let Some(session) = session else {
        return Err(Failure::of(Stage::Transcribe, &WorkerError::NoSession, 1));
    };
    let started = Instant::now();
    let recording = Recording { meta, audio: &audio, seller_channel, audio_uri };
    let (analysis, report) = analyzer
        .analyze_audio(recording, session, model, &mut |_| {})
        .map_err(|e| Failure::of(Stage::Transcribe, &e, 1))?;
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
    retrier: Retrier,
    health: Arc<Health>,
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
        retrier.metrics.store_batch_size.observe(batch.len() as f64);
        write_batch(store.as_ref(), batch, &retrier, &health).await;
    }
}

/// Writes a batch, retrying transient errors; a permanently rejected batch of
/// several calls is retried call by call to find the bad one. A batch of one
/// call is written in that call's span; a larger one in a `store_batch` span
/// naming its calls.
async fn write_batch(store: &dyn Store, batch: Vec<WriteJob>, retrier: &Retrier, health: &Health) {
    let span = match batch.as_slice() {
        [one] => one.span.clone(),
        _ => tracing::info_span!("store_batch", calls = batch.len(), call_ids = %CallIds(&batch)),
    };
    let (calls, answers): (Vec<_>, Vec<_>) = batch.into_iter().map(|j| (j.call, (j.done, j.span))).unzip();
    match write(store, &calls, retrier, health).instrument(span.clone()).await {
        Ok(()) => {
            for (done, _) in answers {
                let _ = done.send(Outcome::Stored);
            }
        }
        Err(outcome @ Outcome::Failed(_)) if calls.len() > 1 => {
            span.in_scope(|| {
                tracing::warn!(calls = calls.len(), ?outcome, "batch rejected; writing its calls one by one");
            });
            for (call, (done, span)) in calls.into_iter().zip(answers) {
                let single = std::slice::from_ref(&call);
                let o = match write(store, single, retrier, health).instrument(span).await {
                    Ok(()) => Outcome::Stored,
                    Err(o) => o,
                };
                let _ = done.send(o);
            }
        }
        Err(outcome) => {
            for (done, _) in answers {
                let _ = done.send(outcome.clone());
            }
        }
    }
}

/// One write of `calls`, retried while the store's errors say so. Readiness
/// follows the store: not ready while writes are being retried.
async fn write(
    store: &dyn Store,
    calls: &[CallAnalysis],
    retrier: &Retrier,
    health: &Health,
) -> Result<(), Outcome> {
    retrier
        .run(Stage::Store, || async move {
            let started = Instant::now();
            let result = store.write(calls).await;
            retrier.metrics.stage_seconds.with_label_values(&["store"]).observe(secs(started));
            match &result {
                Ok(_) => health.set_store_ok(true),
                Err(e) if e.class().action == Action::Retry => health.set_store_ok(false),
                Err(_) => {}
            }
            result.map(drop)
        })
        .await
}

/// The call ids of a batch, comma-separated, for the `store_batch` span
/// (formatted when the span is recorded, without a string built beforehand).
struct CallIds<'a>(&'a [WriteJob]);

impl std::fmt::Display for CallIds<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, job) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(&job.call.meta.call_id)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
