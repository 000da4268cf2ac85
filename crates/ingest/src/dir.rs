//! The folder source (`callscope worker --source dir:PATH`): the embedded
//! default's stand-in for Kafka, on the same [`Engine`].
//!
//! A call in the folder is a recording `NAME.{wav,flac,mp3,ogg,opus}` or a
//! transcript `NAME.json`, with a sidecar `NAME.meta.json` holding the event's
//! metadata (the `call-recorded` event without `audio`/`transcript`;
//! `schema_version` defaults to 1 and `call_id` to `NAME`). The source builds
//! the event and hands it to the engine, so a call from a folder is validated
//! and analysed exactly like one from Kafka.
//!
//! Progress is kept in `PATH/.callscope/state.json` (file name → size and
//! modification time when it was done), so a restart skips finished calls and a
//! changed file is processed again (the store replaces it). A call that cannot
//! be processed gets `PATH/.callscope/failed/NAME.error.json` with the reason:
//! the folder's dead-letter destination.
//!
//! Stopping (SIGTERM, Ctrl-C) lets the calls in progress finish; a second
//! interrupt stops them at once (their analysis is cancelled, whisper at its
//! next graph) and they stay undone, for the next run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use serde::{Deserialize, Serialize};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use crate::engine::{Engine, Failure, Outcome, Stage};
use crate::metrics::Health;

/// Recording extensions the folder source picks up.
pub const AUDIO_EXTENSIONS: &[&str] = &["wav", "flac", "mp3", "ogg", "opus"];

/// Settings of the folder source.
#[derive(Debug, Clone)]
pub struct DirConfig {
    /// The folder.
    pub path: PathBuf,
    /// How often to look for new files.
    pub poll: Duration,
    /// Process what is there, then return (instead of watching).
    pub once: bool,
    /// Calls processed at once.
    pub max_in_flight: usize,
    /// A file must be unchanged this long before it is picked up (it may still
    /// be being written).
    pub settle: Duration,
}

/// Why the folder source could not run.
#[derive(Debug, thiserror::Error)]
pub enum DirError {
    /// The folder or its state cannot be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The path at fault.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// One call's end, for progress output.
#[derive(Debug, Clone)]
pub struct CallDone {
    /// The file's name.
    pub name: String,
    /// How it ended.
    pub outcome: Outcome,
    /// How long it took.
    pub elapsed: Duration,
    /// Calls done so far in this scan, and calls found in it.
    pub progress: (usize, usize),
}

/// Totals of a run.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DirSummary {
    /// Calls stored.
    pub stored: usize,
    /// Calls that failed (see `.callscope/failed/`).
    pub failed: usize,
    /// Files skipped as already done.
    pub skipped: usize,
    /// Calls stopped half-way by a second interrupt (redone on the next run).
    pub stopped: usize,
    /// The run was interrupted (`shutdown`) before the folder was done.
    pub interrupted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Seen {
    size: u64,
    mtime_ns: u128,
    ok: bool,
}

struct Candidate {
    name: String,
    content: PathBuf,
    sidecar: Option<PathBuf>,
    seen: Seen,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DirError + '_ {
    move |source| DirError::Io { path: path.to_path_buf(), source }
}

/// Runs the folder source until `shutdown` resolves (or, with `once`, until
/// the folder is done). After `shutdown`, the calls in progress finish,
/// unless `stop_now` resolves too: then they are stopped and left undone.
/// `stop_now` is first polled after `shutdown` resolved (a signal future
/// made then waits for the next interrupt).
pub async fn run(
    config: DirConfig,
    engine: Engine,
    health: Arc<Health>,
    stop: watch::Sender<bool>,
    shutdown: impl std::future::Future<Output = ()>,
    stop_now: impl std::future::Future<Output = ()>,
    mut on_done: impl FnMut(&CallDone),
) -> Result<DirSummary, DirError> {
    let state_dir = config.path.join(".callscope");
    std::fs::create_dir_all(state_dir.join("failed")).map_err(io(&state_dir))?;
    let state_file = state_dir.join("state.json");
    let mut state: BTreeMap<String, Seen> = match std::fs::read(&state_file) {
        Ok(b) => serde_json::from_slice(&b).unwrap_or_default(),
        Err(_) => BTreeMap::new(),
    };
    health.set_started();
    let mut summary = DirSummary::default();
    tokio::pin!(shutdown);
    tokio::pin!(stop_now);
    loop {
        let (candidates, skipped) = scan(&config, &state)?;
        summary.skipped += skipped;
        let total = candidates.len();
        if total > 0 {
            tracing::info!(calls = total, folder = %config.path.display(), "new calls found");
        }
        let permits = Arc::new(Semaphore::new(config.max_in_flight.max(1)));
        let mut tasks = JoinSet::new();
        let mut pending = candidates.into_iter();
        let mut done = 0;
        let mut stopping = false;
        let mut stopping_now = false;
        loop {
            #[allow(clippy::while_immutable_condition)] // `break`s end it; `stopping` gates refills
            while !stopping {
                let Ok(permit) = permits.clone().try_acquire_owned() else { break };
                let Some(c) = pending.next() else { break };
                let engine = engine.clone();
                tasks.spawn(async move {
                    let _permit = permit;
                    let started = Instant::now();
                    let outcome = match build_event(&c) {
                        Ok(bytes) => match engine.parse(&bytes) {
                            Ok(event) => engine.process(event).await,
                            Err(f) => Outcome::Failed(f),
                        },
                        Err(mut f) => {
                            f.reason = engine.redact_text(&f.reason);
                            Outcome::Failed(f)
                        }
                    };
                    (c, outcome, started.elapsed())
                });
            }
            if tasks.is_empty() {
                break;
            }
            tokio::select! {
                () = &mut shutdown, if !stopping => {
                    stopping = true;
                    summary.interrupted = true;
                    health.set_stopping();
                    let _ = stop.send(true);
                    tracing::warn!(
                        in_progress = tasks.len(),
                        "stopping: the calls in progress finish first; interrupt again to stop them now \
                         (they are redone on the next run)"
                    );
                }
                () = &mut stop_now, if stopping && !stopping_now => {
                    stopping_now = true;
                    tracing::warn!(in_progress = tasks.len(), "stopping the calls in progress now");
                    tasks.abort_all();
                }
                Some(joined) = tasks.join_next() => {
                    let (c, outcome, elapsed) = match joined {
                        Ok(done) => done,
                        // Dropped by `abort_all`: its CPU job is cancelled.
                        Err(e) if e.is_cancelled() => {
                            summary.stopped += 1;
                            continue;
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "a call's task failed; it is redone on the next run");
                            continue;
                        }
                    };
                    done += 1;
                    match &outcome {
                        Outcome::Stored => {
                            summary.stored += 1;
                            state.insert(c.name.clone(), Seen { ok: true, ..c.seen.clone() });
                            let _ = std::fs::remove_file(state_dir.join("failed").join(format!("{}.error.json", c.name)));
                        }
                        Outcome::Failed(f) => {
                            summary.failed += 1;
                            state.insert(c.name.clone(), Seen { ok: false, ..c.seen.clone() });
                            let report = serde_json::json!({
                                "file": c.content.display().to_string(),
                                "stage": f.stage.as_str(),
                                "kind": f.kind,
                                "error": f.reason,
                                "attempts": f.attempts,
                            });
                            let path = state_dir.join("failed").join(format!("{}.error.json", c.name));
                            std::fs::write(&path, format!("{report:#}\n")).map_err(io(&path))?;
                        }
                        Outcome::Abandoned => {}
                    }
                    save_state(&state_file, &state)?;
                    on_done(&CallDone { name: c.name, outcome, elapsed, progress: (done, total) });
                }
            }
        }
        if stopping || config.once {
            return Ok(summary);
        }
        tokio::select! {
            () = &mut shutdown => {
                health.set_stopping();
                summary.interrupted = true;
                return Ok(summary);
            }
            () = tokio::time::sleep(config.poll) => {}
        }
    }
}

fn save_state(path: &Path, state: &BTreeMap<String, Seen>) -> Result<(), DirError> {
    let tmp = path.with_extension("json.tmp");
    let bytes = serde_json::to_vec_pretty(state).unwrap_or_default();
    std::fs::write(&tmp, bytes).map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))
}

/// New or changed calls in the folder, in name order, and the number skipped as done.
fn scan(config: &DirConfig, state: &BTreeMap<String, Seen>) -> Result<(Vec<Candidate>, usize), DirError> {
    let mut out = Vec::new();
    let mut skipped = 0;
    let mut entries: Vec<_> = std::fs::read_dir(&config.path)
        .map_err(io(&config.path))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    entries.sort();
    for path in entries {
        let Some(file) = path.file_name().and_then(|n| n.to_str()) else { continue };
        if file.starts_with('.') || file.ends_with(".meta.json") {
            continue;
        }
        let Some((stem, ext)) = file.rsplit_once('.') else { continue };
        let ext = ext.to_ascii_lowercase();
        if ext != "json" && !AUDIO_EXTENSIONS.contains(&ext.as_str()) {
            continue;
        }
        let sidecar = path.with_file_name(format!("{stem}.meta.json"));
        let sidecar = sidecar.is_file().then_some(sidecar);
        let Ok(meta) = std::fs::metadata(&path) else { continue };
        let mtime = |m: &std::fs::Metadata| {
            m.modified().ok().and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok()).unwrap_or_default()
        };
        let mut newest = mtime(&meta);
        if let Some(s) = &sidecar
            && let Ok(m) = std::fs::metadata(s)
        {
            newest = newest.max(mtime(&m));
        }
        let seen = Seen { size: meta.len(), mtime_ns: newest.as_nanos(), ok: false };
        if state.get(file).is_some_and(|s| s.size == seen.size && s.mtime_ns == seen.mtime_ns) {
            skipped += 1;
            continue;
        }
        let age = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .saturating_sub(newest);
        if !config.once && age < config.settle {
            continue; // still being written; next scan
        }
        if sidecar.is_none() && ext != "json" && !config.once {
            continue; // a recording waits for its sidecar
        }
        out.push(Candidate { name: file.to_owned(), content: path, sidecar, seen });
    }
    Ok((out, skipped))
}

/// The `call-recorded` event for a folder call, as JSON.
fn build_event(c: &Candidate) -> Result<Vec<u8>, Failure> {
    let fail = |kind, reason: String| Failure { stage: Stage::Parse, kind, reason, attempts: 1 };
    let mut event = match &c.sidecar {
        Some(s) => {
            let bytes =
                std::fs::read(s).map_err(|e| fail("unreadable_sidecar", format!("{}: {e}", s.display())))?;
            match serde_json::from_slice::<serde_json::Value>(&bytes) {
                Ok(serde_json::Value::Object(m)) => m,
                Ok(_) => return Err(fail("invalid_event", format!("{}: not a JSON object", s.display()))),
                Err(e) => return Err(fail("malformed_event", format!("{}: {e}", s.display()))),
            }
        }
        None => serde_json::Map::new(),
    };
    let stem = c.name.rsplit_once('.').map_or(c.name.as_str(), |(s, _)| s);
    event.entry("schema_version").or_insert(1.into());
    event.entry("call_id").or_insert(stem.into());
    if c.content.extension().is_some_and(|e| e == "json") {
        let bytes = std::fs::read(&c.content)
            .map_err(|e| fail("unreadable_transcript", format!("{}: {e}", c.content.display())))?;
        let transcript: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| fail("invalid_transcript", format!("{}: {e}", c.content.display())))?;
        if let Some(seller) = transcript.get("seller_id").filter(|_| !event.contains_key("seller_id")) {
            event.insert("seller_id".into(), seller.clone());
        }
        event.insert("transcript".into(), transcript);
    } else {
        if c.sidecar.is_none() {
            return Err(fail(
                "missing_sidecar",
                format!("{}: no {stem}.meta.json beside it (it names the seller)", c.content.display()),
            ));
        }
        let abs = std::fs::canonicalize(&c.content)
            .map_err(|e| fail("unreadable_audio", format!("{}: {e}", c.content.display())))?;
        let uri = url::Url::from_file_path(&abs)
            .map_err(|()| fail("unreadable_audio", format!("{}: not a local path", abs.display())))?;
        event.insert("audio".into(), serde_json::json!({ "uri": uri.as_str() }));
    }
    Ok(serde_json::to_vec(&event).unwrap_or_default())
}
