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
//!   are retried with capped exponential backoff and jitter by one retry loop;
//!   each stage gives it a [`Budget`]: store writes are retried for as long as
//!   the worker runs (a store outage pauses consumption, it never drains the
//!   topic into the dead-letter topic), fetches up to
//!   `fetch_max_attempts` (then dead-lettered), and a missing recording is
//!   confirmed by `fetch_confirm_attempts` tries. Permanent errors come back as
//!   a [`Failure`] naming the stage and error type, for the dead-letter
//!   destination. A batch rejected as invalid is split and written call by
//!   call, so one bad call cannot take the others down with it.
//! - **A panic is one call's failure.** The CPU stage runs each call under
//!   `catch_unwind`: a panic dead-letters that call (kind `panic`), and the
//!   thread, with a fresh whisper session, takes the next one. `/readyz`
//!   reports a CPU stage that has held one call past `cpu_stall`.
//! - **Nothing outlives the engine.** A call abandoned at shutdown cancels its
//!   CPU job: a job not yet started is skipped, and whisper stops a running
//!   one at its next graph ([`callscope_asr::Cancel`]). Dropping the engine's
//!   last handle closes the pool's queue and joins its threads, so the
//!   process never exits while a thread is still freeing whisper's state (a
//!   worker once aborted at exit with "double free or corruption").
//! - **One span per call.** [`Engine::process`] runs in a `call` span
//!   ([`call_span`]: `call_id`, `seller_id`), entered on the CPU threads too, so
//!   every log line about a call carries its id. A store write of several calls
//!   logs in a `store_batch` span listing their ids.
//! - **Analyzers are shared.** An event with its own trackers gets its analyzer
//!   from a small, bounded cache (the `analyzers` module) rather than compiling
//!   the trackers again for every call.

use std::cell::Cell;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use callscope_asr::{Cancel, Session, Transcriber};
use callscope_audio::AudioStream;
use callscope_model::CallAnalysis;
use callscope_pipeline::{Analyzer, PipelineError, Recording};
use callscope_signals::{SignalSettings, Trackers};
use callscope_store::Store;
use tokio::sync::{mpsc, oneshot, watch};
use tracing::{Instrument, Span};

use crate::analyzers::Analyzers;
use crate::copies::AudioCopies;
use crate::dead_letter::DeadLetter;
use crate::errors::{Action, Classify, ErrorClass};
use crate::event::{AudioRef, CallEvent, Content};
use crate::fetch::{FetchSettings, Fetched, Fetcher};
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
    /// Writing the redacted audio copy (`[ingest.audio_copies]`).
    AudioCopy,
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
            Stage::AudioCopy => "audio_copy",
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
    /// Tries of a fetch that fails transiently (5xx, timeout, reset) before
    /// the call is dead-lettered (`recording_unreachable`); at least 1.
    pub fetch_max_attempts: u32,
    /// Tries that confirm a missing recording (404, 403, 410, no such file)
    /// before it is dead-lettered (`recording_unavailable`); at least 1.
    pub fetch_confirm_attempts: u32,
    /// Largest recording, bytes; `None`: no limit (`recording_too_large`).
    pub max_recording_bytes: Option<u64>,
    /// Longest recording, seconds; `None`: no limit (`recording_too_long`).
    pub max_duration_s: Option<f64>,
    /// Where downloads are written; `None`: the system's temporary folder.
    pub download_dir: Option<PathBuf>,
    /// A CPU stage busy with one call for longer than this makes `/readyz` fail.
    pub cpu_stall: Duration,
    /// **Test hook, never set in production:** the call with this id panics
    /// in its CPU stage (to prove that a panic is contained). `callscope
    /// worker` sets it only in debug builds, from `CALLSCOPE_TEST_PANIC_CALL_ID`;
    /// release builds never read that variable.
    pub fault_panic_call_id: Option<String>,
    /// Redacted audio copies: where, silence or beep; `None`: no copy, the
    /// stored `audio_uri` is the event's.
    pub audio_copies: Option<AudioCopies>,
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
            fetch_max_attempts: 8,
            fetch_confirm_attempts: 3,
            max_recording_bytes: Some(2 << 30),
            max_duration_s: Some(4.0 * 3600.0),
            download_dir: None,
            cpu_stall: Duration::from_secs(3600),
            fault_panic_call_id: None,
            audio_copies: None,
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
    /// Redaction of personal data before anything is analysed, stored,
    /// logged or dead-lettered; `None`: words are kept as spoken.
    pub redaction: Option<callscope_redact::Redactor>,
    /// The sentiment model; `None`: the lexicon (VADER).
    pub sentiment: Option<Arc<dyn callscope_signals::SentimentModel>>,
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
    /// The call's CPU stage panicked (a bug): the call is dead-lettered, the
    /// thread goes on with the next one.
    #[error("panicked: {0}")]
    Panic(String),
    /// The redacted audio copy could not be written (a full or unwritable
    /// folder): the call is not stored pointing at the unredacted original.
    #[error("cannot write the redacted audio copy: {0}")]
    AudioCopy(#[source] callscope_audio::AudioError),
}

impl Classify for WorkerError {
    /// Dead-lettered, not retried: another worker of the same deployment has
    /// the same model, and the event can be replayed from the dead-letter topic
    /// once the worker is fixed.
    fn class(&self) -> ErrorClass {
        ErrorClass::dead_letter(match self {
            WorkerError::NoModel => "no_model",
            WorkerError::NoSession => "asr_unavailable",
            WorkerError::Panic(_) => "panic",
            WorkerError::AudioCopy(_) => "audio_copy_failed",
        })
    }
}

/// The span of everything done for one call: `call_id` and `seller_id`, never
/// content. Sources wrap their own per-call work (dead-lettering) in it too.
pub fn call_span(event: &CallEvent) -> Span {
    tracing::info_span!("call", call_id = %event.meta.call_id, seller_id = %event.meta.seller_id)
}

/// A CPU job; returns false if it panicked or was cancelled (the thread then
/// drops its whisper session, which may be in any state, and makes a new one
/// for the next job).
type CpuJob = Box<dyn for<'a> FnOnce(Option<&mut Session<'a>>) -> bool + Send>;

thread_local! {
    /// The stage the CPU job on this thread is in, to name it if it panics.
    static CPU_STAGE: Cell<Stage> = const { Cell::new(Stage::Analyze) };
}

/// Notes the stage the current CPU job is in.
fn enter_stage(stage: Stage) {
    CPU_STAGE.with(|s| s.set(stage));
}

/// The text of a panic's payload.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

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
    /// The analyzers' redactor, also applied to what leaves the worker as a
    /// failure (the reason, the dead-letter payload).
    redaction: Option<callscope_redact::Redactor>,
    /// The CPU threads, joined when this is dropped: last, after `cpu` (fields
    /// drop in order), whose closing ends them.
    _threads: CpuThreads,
}

/// The CPU pool's threads; dropping this waits for them to end (they end
/// when the pool's queue is closed, after their job in progress).
struct CpuThreads(Vec<std::thread::JoinHandle<()>>);

impl Drop for CpuThreads {
    fn drop(&mut self) {
        for handle in self.0.drain(..) {
            let name = handle.thread().name().unwrap_or_default().to_owned();
            if handle.join().is_err() {
                tracing::error!(thread = name, "a CPU thread panicked outside a job");
            }
        }
    }
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
        health.set_cpu_stall(config.cpu_stall);
        let cpu_threads = (0..threads)
            .map(|i| {
                let rx = cpu_rx.clone();
                let transcriber = models.transcriber.clone();
                let health = health.clone();
                std::thread::Builder::new()
                    .name(format!("callscope-cpu-{i}"))
                    .spawn(move || cpu_thread(i, &rx, transcriber.as_deref(), &health))
                    .expect("spawning a CPU thread")
            })
            .collect();
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
                    models.redaction.clone(),
                    models.sentiment,
                    crate::analyzers::CACHE_CAPACITY,
                ),
                model_name,
                cpu: cpu_tx,
                writes: write_tx,
                fetcher: Fetcher::new(FetchSettings {
                    timeout: config.fetch_timeout,
                    max_bytes: config.max_recording_bytes,
                    download_dir: config.download_dir.clone(),
                }),
                retrier,
                config,
                metrics,
                redaction: models.redaction,
                _threads: CpuThreads(cpu_threads),
            }),
        }
    }

    /// The engine's metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// Parses an event's payload; a bad one is a permanent [`Failure`] at the
    /// `parse` stage (and counted as such), its reason redacted.
    pub fn parse(&self, payload: &[u8]) -> Result<CallEvent, Failure> {
        CallEvent::from_json_slice(payload).map_err(|e| {
            let mut failure = Failure::of(Stage::Parse, &e, 1);
            failure.count(&self.inner.metrics);
            failure.reason = self.redact_text(&failure.reason);
            failure
        })
    }

    /// `text` with personal data redacted by the configured redactor (for a
    /// failure's reason, which may quote the event); unchanged without one.
    pub fn redact_text(&self, text: &str) -> String {
        match &self.inner.redaction {
            Some(r) => r.redact_text(text).0,
            None => text.to_owned(),
        }
    }

    /// The dead-letter copy of a failed event's `payload`: personal data
    /// redacted, inline audio dropped (see [`crate::dead_letter`]).
    pub fn dead_letter(&self, payload: &[u8], failure: &Failure) -> DeadLetter {
        crate::dead_letter::prepare(payload, &failure.reason, self.inner.redaction.as_ref())
    }

    /// Processes one event to the end: stored, failed, or abandoned at shutdown.
    /// Runs in the call's span ([`call_span`]).
    pub async fn process(&self, event: CallEvent) -> Outcome {
        let metrics = &self.inner.metrics;
        metrics.in_flight.inc();
        let span = call_span(&event);
        let mut outcome = self.run(event).instrument(span).await;
        metrics.in_flight.dec();
        match &mut outcome {
            Outcome::Failed(f) => {
                f.count(metrics);
                f.reason = self.redact_text(&f.reason);
            }
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
        // The test hook (see `EngineConfig::fault_panic_call_id`).
        let inject_panic = inner.config.fault_panic_call_id.as_deref() == Some(event.meta.call_id.as_str());
        let analysis = match event.content {
            Content::Transcript(t) => {
                let meta = event.meta;
                let started = Instant::now();
                let r = self
                    .cpu(move |_| {
                        enter_stage(Stage::Analyze);
                        injected_panic(inject_panic);
                        analyzer.analyze_transcript(meta, *t, None)
                    })
                    .await;
                inner.metrics.stage_seconds.with_label_values(&["analyze"]).observe(secs(started));
                match r {
                    Ok(a) => a,
                    Err(CpuEnd::Panicked(f)) => return Outcome::Failed(f),
                    Err(CpuEnd::Gone) => return Outcome::Abandoned,
                }
            }
            Content::Audio(audio) => {
                let audio_uri = match &audio {
                    AudioRef::Uri { uri, .. } => Some(uri.to_string()),
                    AudioRef::Inline { .. } => None,
                };
                let started = Instant::now();
                let fetcher = &inner.fetcher;
                let budget = Budget {
                    attempts: Some(inner.config.fetch_max_attempts.max(1)),
                    confirm: inner.config.fetch_confirm_attempts.max(1),
                };
                let fetched =
                    match inner.retrier.run(Stage::Fetch, budget, || fetcher.fetch(audio.clone())).await {
                        Ok(f) => f,
                        Err(outcome) => return outcome,
                    };
                inner.metrics.stage_seconds.with_label_values(&["fetch"]).observe(secs(started));
                if inner.model_name.is_none() {
                    return Outcome::Failed(Failure::of(Stage::Transcribe, &WorkerError::NoModel, 1));
                }
                let metrics = inner.metrics.clone();
                let meta = event.meta;
                let seller_channel = event.seller_channel;
                let limits = callscope_audio::DecodeLimits { max_duration_s: inner.config.max_duration_s };
                let copies = inner.config.audio_copies.clone();
                let r = self
                    .cpu(move |session| {
                        enter_stage(Stage::Decode);
                        injected_panic(inject_panic);
                        analyze_audio(
                            &analyzer,
                            session,
                            fetched,
                            limits,
                            meta,
                            seller_channel,
                            audio_uri,
                            copies.as_ref(),
                            &metrics,
                        )
                    })
                    .await;
                match r {
                    Ok(Ok(a)) => a,
                    Ok(Err(f)) | Err(CpuEnd::Panicked(f)) => return Outcome::Failed(f),
                    Err(CpuEnd::Gone) => return Outcome::Abandoned,
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

    /// Runs `f` on the CPU pool, in the caller's span. A panic in `f` is
    /// caught there and comes back as the call's [`Failure`] (kind `panic`,
    /// at the stage it was in); [`CpuEnd::Gone`] if the pool is gone (shutdown).
    async fn cpu<T: Send + 'static>(
        &self,
        f: impl for<'a> FnOnce(Option<&mut Session<'a>>) -> T + Send + 'static,
    ) -> Result<T, CpuEnd> {
        let (tx, rx) = oneshot::channel();
        let span = Span::current();
        let redactor = self.inner.redaction.clone();
        let cancel = Arc::new(Cancel::new());
        let _abandon = CancelOnDrop(cancel.clone());
        let job: CpuJob = Box::new(move |mut s| {
            let _entered = span.enter();
            let thread = std::thread::current();
            let thread = thread.name().unwrap_or_default();
            if cancel.is_cancelled() {
                tracing::info!(thread, "abandoned before its analysis started: skipped");
                return true;
            }
            let redactor = redactor.as_ref();
            enter_stage(Stage::Analyze);
            let started = Instant::now();
            tracing::debug!(thread, "analysis started");
            if let Some(s) = s.as_deref_mut() {
                s.watch(Some(cancel.clone()));
            }
            let result = std::panic::catch_unwind(AssertUnwindSafe(|| f(s.as_deref_mut())));
            if let Some(s) = s {
                s.watch(None);
            }
            match result {
                // Its whisper state stopped half-way: the thread makes a new one.
                Ok(_) if cancel.is_cancelled() => {
                    tracing::info!(
                        thread,
                        secs = format_args!("{:.2}", secs(started)),
                        "abandoned: analysis stopped"
                    );
                    false
                }
                Ok(v) => {
                    tracing::info!(thread, secs = format_args!("{:.2}", secs(started)), "analysed");
                    let _ = tx.send(Ok(v));
                    true
                }
                Err(payload) => {
                    let stage = CPU_STAGE.with(Cell::get);
                    let error = WorkerError::Panic(redactor.map_or_else(
                        || panic_message(payload.as_ref()),
                        |r| r.redact_text(&panic_message(payload.as_ref())).0,
                    ));
                    tracing::error!(stage = stage.as_str(), %error, "the call's analysis panicked; it is dead-lettered and the thread goes on");
                    let _ = tx.send(Err(CpuEnd::Panicked(Failure::of(stage, &error, 1))));
                    false
                }
            }
        });
        self.inner.cpu.send(job).await.map_err(|_| CpuEnd::Gone)?;
        rx.await.unwrap_or(Err(CpuEnd::Gone))
    }
}

/// Cancels a CPU job when the future waiting for it is dropped. Before its
/// result came, the call was abandoned (shutdown): its analysis stops or never
/// starts. After, the job has ended and nothing reads the flag any more.
struct CancelOnDrop(Arc<Cancel>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// Why a CPU job gave no result.
#[derive(Debug)]
enum CpuEnd {
    /// It panicked: the call's failure.
    Panicked(Failure),
    /// The pool is gone (shutdown): the call is abandoned.
    Gone,
}

/// The panic of the test hook (`EngineConfig::fault_panic_call_id`).
fn injected_panic(inject: bool) {
    if inject {
        panic!("injected by the test hook (EngineConfig::fault_panic_call_id)");
    }
}

fn secs(started: Instant) -> f64 {
    started.elapsed().as_secs_f64()
}

/// How many tries a stage gives an error before dead-lettering the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Budget {
    /// Most tries for errors classified [`Action::Retry`]; `None`: for as long
    /// as the worker runs.
    attempts: Option<u32>,
    /// Tries for a [`Action::DeadLetter`] error that asks to be confirmed
    /// ([`Classify::confirm`]); 1: none.
    confirm: u32,
}

impl Budget {
    /// Store writes: transient errors are waited out, whatever it takes.
    const UNBOUNDED: Budget = Budget { attempts: None, confirm: 1 };
}

/// The retry loop of the stages that can be retried (fetch, store): capped
/// exponential backoff with jitter, within the stage's [`Budget`].
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
    /// [`Action::DeadLetter`] (confirmed as the budget says) or runs out of
    /// the budget's tries ([`Outcome::Failed`]), or the worker stops while it
    /// waits to retry ([`Outcome::Abandoned`]).
    async fn run<T, E, F>(
        &self,
        stage: Stage,
        budget: Budget,
        mut attempt: impl FnMut() -> F,
    ) -> Result<T, Outcome>
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
            let ErrorClass { action, kind } = error.class();
            let retry = match action {
                Action::DeadLetter => error.confirm() && attempts < budget.confirm,
                Action::Retry => budget.attempts.is_none_or(|max| attempts < max),
            };
            if !retry {
                if action == Action::Retry {
                    tracing::warn!(attempts, kind, "{}: giving up after {attempts} tries", stage.as_str());
                }
                return Err(Outcome::Failed(Failure::of(stage, &error, attempts)));
            }
            self.metrics.retries.with_label_values(&[stage.as_str()]).inc();
            let reason = error.reason();
            tracing::warn!(attempts, kind, %reason, "{} failed; retrying", stage.as_str());
            if !self.backoff(attempts).await {
                return Err(Outcome::Abandoned);
            }
        }
    }

    /// Sleeps before retry `attempt`; false if the worker is stopping. The
    /// delay doubles from `retry_initial` up to `retry_max`; each sleep is
    /// between half of it and all of it ("equal jitter"), so workers that
    /// failed together do not come back together.
    async fn backoff(&self, attempt: u32) -> bool {
        let delay = jittered(self.config.retry_initial, self.config.retry_max, attempt, fastrand::f64());
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

/// The sleep before retry `attempt` (from 1), for a uniform `draw` in [0, 1).
fn jittered(initial: Duration, max: Duration, attempt: u32, draw: f64) -> Duration {
    let full = initial.saturating_mul(1 << attempt.clamp(1, 17).saturating_sub(1)).min(max);
    full.mul_f64(0.5 + 0.5 * draw.clamp(0.0, 1.0))
}

fn cpu_thread(
    index: usize,
    rx: &Mutex<mpsc::Receiver<CpuJob>>,
    transcriber: Option<&Transcriber>,
    health: &Health,
) {
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
        health.cpu_busy(index, true);
        let clean = job(session.as_mut());
        health.cpu_busy(index, false);
        if !clean {
            // The job panicked: its session may be half-way through anything.
            session = None;
            session_failed = false;
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn analyze_audio(
    analyzer: &Analyzer,
    session: Option<&mut Session<'_>>,
    fetched: Fetched,
    limits: callscope_audio::DecodeLimits,
    meta: callscope_model::CallMeta,
    seller_channel: Option<callscope_model::SellerChannel>,
    audio_uri: Option<String>,
    copies: Option<&AudioCopies>,
    metrics: &Metrics,
) -> Result<CallAnalysis, Failure> {
    let started = Instant::now();
    // Decoded as it is analysed: a long stereo call is read a window at a
    // time (the temporary file of a download is deleted when `_download`
    // goes, at the end of this function). A redacted copy decodes it again
    // afterwards, from the same file, or from a copy of in-memory bytes.
    let (stream, reopen, _download) = match fetched {
        Fetched::Path(p) => (AudioStream::open_file(&p, limits), Reopen::File(p), None),
        Fetched::Download(p) => (AudioStream::open_file(&p, limits), Reopen::File(p.to_path_buf()), Some(p)),
        Fetched::Bytes(b, ext) => {
            let again = copies.map(|_| (b.clone(), ext.clone()));
            (AudioStream::open_bytes(b, ext.as_deref(), limits), Reopen::Bytes(again), None)
        }
    };
    let stream = stream.map_err(|e| Failure::of(Stage::Decode, &e, 1))?;
    let opened_s = secs(started);
    let Some(session) = session else {
        return Err(Failure::of(Stage::Transcribe, &WorkerError::NoSession, 1));
    };
    enter_stage(Stage::Transcribe);
    let recording = Recording { meta, audio: stream.into(), seller_channel, audio_uri };
    let (analysis, report) = analyzer.analyze_audio(recording, session, &mut |_| {}).map_err(|e| {
        let stage = if matches!(e, PipelineError::Audio(_)) { Stage::Decode } else { Stage::Transcribe };
        Failure::of(stage, &e, 1)
    })?;
    metrics.stage_seconds.with_label_values(&["decode"]).observe(opened_s + report.decode_s);
    metrics
        .stage_seconds
        .with_label_values(&["transcribe"])
        .observe((secs(started) - opened_s - report.decode_s).max(0.0));
    tracing::debug!(
        language = analysis.transcript.language.map(|l| l.code()),
        probability = analysis.transcript.language_probability,
        model = analysis.provenance.asr_model.as_deref(),
        "transcribed"
    );
    metrics.audio_seconds.inc_by(analysis.duration_s);
    if report.realtime_factor.is_finite() {
        metrics.realtime_factor.observe(report.realtime_factor);
    }
    let mut analysis = analysis;
    if let Some(copies) = copies {
        enter_stage(Stage::AudioCopy);
        let copy_started = Instant::now();
        let fail = |e| Failure::of(Stage::AudioCopy, &WorkerError::AudioCopy(e), 1);
        let stream = reopen.open(limits).map_err(fail)?;
        let (uri, copy) = copies.write(&analysis.meta.call_id, stream, &analysis.transcript).map_err(fail)?;
        metrics.stage_seconds.with_label_values(&["audio_copy"]).observe(secs(copy_started));
        tracing::debug!(
            masked_s = format_args!("{:.2}", copy.masked as f64 / f64::from(callscope_audio::TARGET_RATE)),
            channels = copy.channels,
            "redacted audio copy written"
        );
        analysis.audio_uri = Some(uri);
    }
    Ok(analysis)
}

/// How to decode a recording a second time, for its redacted copy.
enum Reopen {
    /// From this file (a local recording, or the download, still on disk).
    File(PathBuf),
    /// From these bytes (kept only when a copy is wanted).
    Bytes(Option<(Vec<u8>, Option<String>)>),
}

impl Reopen {
    fn open(self, limits: callscope_audio::DecodeLimits) -> Result<AudioStream, callscope_audio::AudioError> {
        match self {
            Reopen::File(p) => AudioStream::open_file(&p, limits),
            Reopen::Bytes(Some((b, ext))) => AudioStream::open_bytes(b, ext.as_deref(), limits),
            Reopen::Bytes(None) => Err(callscope_audio::AudioError::Empty),
        }
    }
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
        .run(Stage::Store, Budget::UNBOUNDED, || async move {
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
