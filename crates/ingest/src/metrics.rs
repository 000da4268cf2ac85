//! Prometheus metrics and the operations endpoint (`/metrics`, `/healthz`,
//! `/readyz`), served on their own port so scraping never competes with work.
//!
//! Every metric name is listed in `docs/ingest.md`; renaming one breaks
//! dashboards and alerts, so treat the names as a public interface.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

/// The worker's metrics, registered in their own registry.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    /// Events taken from the source.
    pub events_received: IntCounter,
    /// Calls stored, by content kind (`audio`, `transcript`).
    pub calls_processed: IntCounterVec,
    /// Calls that failed permanently, by stage and error type.
    pub calls_failed: IntCounterVec,
    /// Transient failures retried, by stage.
    pub retries: IntCounterVec,
    /// Events written to the dead-letter destination, by stage and error type.
    pub dead_letters: IntCounterVec,
    /// Seconds spent per stage.
    pub stage_seconds: HistogramVec,
    /// Seconds of audio processed.
    pub audio_seconds: prometheus::Counter,
    /// Audio seconds per transcription second, per call.
    pub realtime_factor: prometheus::Histogram,
    /// Calls being processed now.
    pub in_flight: IntGauge,
    /// Calls per store write.
    pub store_batch_size: prometheus::Histogram,
    /// Consumer lag (messages), per topic and partition.
    pub consumer_lag: IntGaugeVec,
    /// Partitions assigned to this worker.
    pub partitions_assigned: IntGauge,
}

impl Metrics {
    /// Creates and registers every metric.
    pub fn new() -> Self {
        let registry = Registry::new();
        macro_rules! reg {
            ($m:expr) => {{
                let m = $m.expect("metric definitions are static and valid");
                registry.register(Box::new(m.clone())).expect("metric names are unique");
                m
            }};
        }
        let secs = vec![0.001, 0.005, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0];
        Metrics {
            events_received: reg!(IntCounter::new(
                "callscope_events_received_total",
                "Events taken from the source"
            )),
            calls_processed: reg!(IntCounterVec::new(
                Opts::new("callscope_calls_processed_total", "Calls analysed and stored, by content kind"),
                &["kind"]
            )),
            calls_failed: reg!(IntCounterVec::new(
                Opts::new(
                    "callscope_calls_failed_total",
                    "Calls that failed permanently, by stage and error type"
                ),
                &["stage", "error"]
            )),
            retries: reg!(IntCounterVec::new(
                Opts::new("callscope_retries_total", "Transient failures retried with backoff, by stage"),
                &["stage"]
            )),
            dead_letters: reg!(IntCounterVec::new(
                Opts::new("callscope_dead_letters_total", "Events sent to the dead-letter destination"),
                &["stage", "error"]
            )),
            stage_seconds: reg!(HistogramVec::new(
                HistogramOpts::new("callscope_stage_seconds", "Wall time per pipeline stage").buckets(secs),
                &["stage"]
            )),
            audio_seconds: reg!(prometheus::Counter::new(
                "callscope_audio_seconds_total",
                "Seconds of audio decoded and transcribed"
            )),
            realtime_factor: reg!(prometheus::Histogram::with_opts(
                HistogramOpts::new(
                    "callscope_realtime_factor",
                    "Audio seconds per second of transcription, per call"
                )
                .buckets(vec![1.0, 2.0, 5.0, 10.0, 20.0, 40.0, 80.0, 160.0])
            )),
            in_flight: reg!(IntGauge::new("callscope_in_flight", "Calls being processed now")),
            store_batch_size: reg!(prometheus::Histogram::with_opts(
                HistogramOpts::new("callscope_store_batch_calls", "Calls per store write")
                    .buckets(vec![1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0])
            )),
            consumer_lag: reg!(IntGaugeVec::new(
                Opts::new("callscope_consumer_lag", "Messages behind the partition's end"),
                &["topic", "partition"]
            )),
            partitions_assigned: reg!(IntGauge::new(
                "callscope_partitions_assigned",
                "Partitions assigned to this worker"
            )),
            registry,
        }
    }

    /// The metrics in Prometheus' text format.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        // Encoding into a Vec cannot fail for text.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Liveness and readiness, set by the worker.
///
/// Not ready means "this worker cannot make progress now": it is starting or
/// stopping, its store writes are being retried (the store is down, slow,
/// rejecting it as a deployment error, or not migrated), or a CPU thread has
/// been busy with one call for longer than the stall limit (a wedged
/// decoder or whisper run). The Kafka source pauses its partitions while not
/// ready.
#[derive(Debug, Default)]
pub struct Health {
    started: AtomicBool,
    store_ok: AtomicBool,
    stopping: AtomicBool,
    /// Since when each busy CPU thread has held its current call.
    cpu_busy: Mutex<HashMap<usize, Instant>>,
    /// How long one call may hold a CPU thread before readiness fails;
    /// `None`: no limit.
    cpu_stall: Mutex<Option<Duration>>,
}

impl Health {
    /// A worker that is starting: live, not ready.
    pub fn new() -> Arc<Self> {
        Arc::new(Health { store_ok: AtomicBool::new(true), ..Health::default() })
    }
    /// How long one call may hold a CPU thread before readiness fails.
    pub fn set_cpu_stall(&self, limit: Duration) {
        *self.cpu_stall.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(limit);
    }
    /// CPU thread `thread` took a call (`true`) or is done with it.
    pub fn cpu_busy(&self, thread: usize, busy: bool) {
        let mut map = self.cpu_busy.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if busy {
            map.insert(thread, Instant::now());
        } else {
            map.remove(&thread);
        }
    }
    /// The source is running.
    pub fn set_started(&self) {
        self.started.store(true, Ordering::Relaxed);
    }
    /// Whether the store accepts writes (false while writes are being retried).
    pub fn set_store_ok(&self, ok: bool) {
        self.store_ok.store(ok, Ordering::Relaxed);
    }
    /// The worker is shutting down.
    pub fn set_stopping(&self) {
        self.stopping.store(true, Ordering::Relaxed);
    }
    /// Ready: started, the store answers, no CPU thread stalled, not
    /// shutting down. Returns the reason when not.
    pub fn readiness(&self) -> Result<(), &'static str> {
        self.readiness_at(Instant::now())
    }

    /// [`Health::readiness`] as of `now`.
    pub fn readiness_at(&self, now: Instant) -> Result<(), &'static str> {
        if self.stopping.load(Ordering::Relaxed) {
            Err("shutting down")
        } else if !self.started.load(Ordering::Relaxed) {
            Err("starting")
        } else if !self.store_ok.load(Ordering::Relaxed) {
            Err("store unavailable: writes are being retried")
        } else if self.cpu_stalled(now) {
            Err("a CPU thread has been busy with one call for longer than ingest.cpu_stall_s")
        } else {
            Ok(())
        }
    }

    fn cpu_stalled(&self, now: Instant) -> bool {
        let Some(limit) = *self.cpu_stall.lock().unwrap_or_else(std::sync::PoisonError::into_inner) else {
            return false;
        };
        let busy = self.cpu_busy.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        busy.values().any(|since| now.saturating_duration_since(*since) > limit)
    }
}

/// The operations router: `/metrics`, `/healthz`, `/readyz`.
pub fn router(metrics: Metrics, health: Arc<Health>) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(|State((m, _)): State<(Metrics, Arc<Health>)>| async move {
                ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], m.render())
            }),
        )
        .route("/healthz", get(|| async { "ok\n" }))
        .route(
            "/readyz",
            get(|State((_, h)): State<(Metrics, Arc<Health>)>| async move {
                match h.readiness() {
                    Ok(()) => (StatusCode::OK, "ready\n".to_owned()).into_response(),
                    Err(why) => {
                        (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {why}\n")).into_response()
                    }
                }
            }),
        )
        .with_state((metrics, health))
}

/// Serves the operations endpoint until the task is dropped.
pub async fn serve(addr: SocketAddr, metrics: Metrics, health: Arc<Health>) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router(metrics, health)).await {
            tracing::error!(error = %e, "metrics endpoint stopped");
        }
    });
    Ok(local)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_metric_is_exported() {
        let m = Metrics::new();
        m.calls_processed.with_label_values(&["audio"]).inc();
        m.calls_failed.with_label_values(&["decode", "corrupt_audio"]).inc();
        m.retries.with_label_values(&["store"]).inc();
        m.dead_letters.with_label_values(&["decode", "corrupt_audio"]).inc();
        m.stage_seconds.with_label_values(&["store"]).observe(0.1);
        m.consumer_lag.with_label_values(&["calls", "0"]).set(3);
        let text = m.render();
        let doc = include_str!("../../../docs/ingest.md");
        for line in text.lines().filter(|l| l.starts_with("# TYPE ")) {
            let name = line.split_whitespace().nth(2).expect("name");
            assert!(doc.contains(&format!("`{name}`")), "{name} is not documented in docs/ingest.md");
        }
        assert!(text.contains("callscope_calls_failed_total{error=\"corrupt_audio\",stage=\"decode\"} 1"));
    }

    #[test]
    fn readiness_explains_itself() {
        let h = Health::new();
        assert_eq!(h.readiness(), Err("starting"));
        h.set_started();
        assert_eq!(h.readiness(), Ok(()));
        h.set_store_ok(false);
        assert!(h.readiness().expect_err("down").contains("store"));
        h.set_store_ok(true);
        h.set_cpu_stall(Duration::from_secs(60));
        h.cpu_busy(3, true);
        let now = Instant::now();
        assert_eq!(h.readiness_at(now), Ok(()), "busy, within the limit");
        let later = now + Duration::from_secs(61);
        assert!(h.readiness_at(later).expect_err("stalled").contains("cpu_stall_s"));
        h.cpu_busy(3, false);
        assert_eq!(h.readiness_at(later), Ok(()), "the thread moved on");
        h.set_stopping();
        assert_eq!(h.readiness(), Err("shutting down"));
    }
}
