//! The Kafka source: a consumer-group member that feeds call events to the
//! [`Engine`] and commits only what is durably done.
//!
//! # Delivery
//! - `enable.auto.offset.store=false`: an offset is *stored* only when its call
//!   is in the store or in the dead-letter topic, and only as far as the
//!   [`OffsetTracker`] allows (the lowest contiguous finished offset, because
//!   calls finish out of order). librdkafka's auto-commit then commits stored
//!   offsets every `commit_interval_ms`, and we commit synchronously on revoke
//!   and on shutdown. A crash therefore replays at most the calls in flight,
//!   and the store's idempotent writes make a replay harmless.
//! - **Bounded in-flight.** At most `max_in_flight` events are processed at
//!   once. When the limit is reached, or the store is failing, the assigned
//!   partitions are *paused* and the consumer keeps polling, so it stays in the
//!   group (long calls can outlast `max.poll.interval.ms`) without fetching.
//! - **Rebalance.** On revoke, the revoked partitions' finished work is stored
//!   and committed before they go; calls still running for them finish but
//!   commit nothing (the new owner redoes them, idempotently).
//! - **Poison events** go to the dead-letter topic with the original key,
//!   headers and payload, the payload with its personal data redacted and any
//!   inline audio removed ([`crate::dead_letter`]: `callscope.redacted`,
//!   `callscope.audio_dropped`, `callscope.payload_dropped` say what changed),
//!   plus `callscope.error`, `callscope.error.kind`,
//!   `callscope.stage`, `callscope.attempts` and `callscope.source`
//!   (`topic/partition/offset`). Only then does the offset move. Dead-lettering
//!   logs in the call's span ([`call_span`]), like the engine's work on it.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::statistics::Statistics;
use rdkafka::{ClientContext, Message, Offset, TopicPartitionList};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tracing::{Instrument, Span};

use crate::engine::{Engine, Failure, Outcome, call_span};
use crate::metrics::{Health, Metrics};
use crate::offsets::{OffsetTracker, Ticket};

/// Settings of the Kafka source.
#[derive(Clone)]
pub struct KafkaConfig {
    /// `bootstrap.servers`.
    pub brokers: String,
    /// Consumer group.
    pub group_id: String,
    /// Topic of `call-recorded` events.
    pub topic: String,
    /// Dead-letter topic.
    pub dead_letter_topic: String,
    /// `session.timeout.ms`.
    pub session_timeout_ms: u32,
    /// How often stored offsets are committed, ms.
    pub commit_interval_ms: u32,
    /// Events processed at once.
    pub max_in_flight: usize,
    /// How long shutdown waits for in-flight calls.
    pub shutdown_grace: Duration,
    /// Extra librdkafka properties (security, SASL, tuning), for both the
    /// consumer and the dead-letter producer.
    pub options: BTreeMap<String, String>,
}

impl std::fmt::Debug for KafkaConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let options: BTreeMap<_, _> = self
            .options
            .iter()
            .map(|(k, v)| {
                let secret = ["password", "secret", "key"].iter().any(|s| k.contains(s));
                (k.as_str(), if secret { "<redacted>" } else { v.as_str() })
            })
            .collect();
        f.debug_struct("KafkaConfig")
            .field("brokers", &self.brokers)
            .field("group_id", &self.group_id)
            .field("topic", &self.topic)
            .field("dead_letter_topic", &self.dead_letter_topic)
            .field("max_in_flight", &self.max_in_flight)
            .field("options", &options)
            .finish_non_exhaustive()
    }
}

/// Why the Kafka source could not run.
#[derive(Debug, thiserror::Error)]
pub enum KafkaSourceError {
    /// The client could not be created or subscribed (bad config, bad topic name).
    #[error("kafka: {0}")]
    Client(#[from] KafkaError),
}

/// What a run did, for the log line at exit.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RunSummary {
    /// Events stored.
    pub stored: u64,
    /// Events dead-lettered.
    pub dead_lettered: u64,
    /// Events abandoned at shutdown (to be redone by the next owner).
    pub abandoned: u64,
}

struct Ctx {
    tracker: Arc<Mutex<OffsetTracker>>,
    topic: String,
    metrics: Metrics,
    generation: AtomicU64,
}

impl Ctx {
    fn tracker(&self) -> std::sync::MutexGuard<'_, OffsetTracker> {
        self.tracker.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl ClientContext for Ctx {
    fn stats(&self, statistics: Statistics) {
        for (topic, t) in &statistics.topics {
            for (partition, p) in &t.partitions {
                if *partition >= 0 && p.consumer_lag >= 0 {
                    self.metrics
                        .consumer_lag
                        .with_label_values(&[topic.as_str(), &partition.to_string()])
                        .set(p.consumer_lag);
                }
            }
        }
    }
}

impl ConsumerContext for Ctx {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let Rebalance::Revoke(tpl) = rebalance else { return };
        let mut finished = TopicPartitionList::new();
        {
            let mut tracker = self.tracker();
            for e in tpl.elements() {
                if let Some(pos) = tracker.revoke(e.partition()) {
                    let _ = finished.add_partition_offset(&self.topic, e.partition(), Offset::Offset(pos));
                }
            }
        }
        if finished.count() > 0
            && let Err(e) = consumer.store_offsets(&finished)
        {
            tracing::warn!(error = %e, "storing offsets of revoked partitions");
        }
        commit_stored(consumer, "revoke");
        tracing::info!(partitions = tpl.count(), "partitions revoked; finished work committed");
    }

    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(tpl) = rebalance {
            let mut tracker = self.tracker();
            for e in tpl.elements() {
                tracker.assign(e.partition());
            }
            tracing::info!(partitions = ?tpl.elements().iter().map(|e| e.partition()).collect::<Vec<_>>(), "partitions assigned");
        }
        if let Rebalance::Error(e) = rebalance {
            tracing::error!(error = %e, "rebalance failed");
        }
        let assigned = consumer.assignment().map(|a| a.count()).unwrap_or(0);
        self.metrics.partitions_assigned.set(assigned as i64);
        self.generation.fetch_add(1, Ordering::Relaxed);
    }
}

fn commit_stored<C: Consumer<X>, X: ConsumerContext>(consumer: &C, when: &str) {
    match consumer.commit_consumer_state(CommitMode::Sync) {
        Ok(()) => {}
        // Nothing stored since the last commit.
        Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => {}
        Err(e) => tracing::warn!(error = %e, when, "offset commit failed"),
    }
}

/// A message's parts, kept for the dead-letter topic.
struct Envelope {
    key: Option<Vec<u8>>,
    payload: Vec<u8>,
    headers: Option<OwnedHeaders>,
    source: String,
}

/// Runs the source until `shutdown` resolves, then drains and leaves the group.
pub async fn run(
    config: KafkaConfig,
    engine: Engine,
    health: Arc<Health>,
    stop: watch::Sender<bool>,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<RunSummary, KafkaSourceError> {
    let metrics = engine.metrics().clone();
    let tracker = Arc::new(Mutex::new(OffsetTracker::new()));
    let ctx = Ctx {
        tracker: tracker.clone(),
        topic: config.topic.clone(),
        metrics: metrics.clone(),
        generation: AtomicU64::new(0),
    };
    if let Ok(lib) = crate::kafka_client::Librdkafka::linked() {
        tracing::info!(version = %lib.version, features = %lib.features.join(","), "librdkafka");
    }
    let mut cc = crate::kafka_client::client_config(&config.brokers, &config.options);
    let producer: FutureProducer = cc.clone().set("acks", "all").create()?;
    let consumer: StreamConsumer<Ctx> = cc
        .set("group.id", &config.group_id)
        .set("enable.auto.commit", "true")
        .set("auto.commit.interval.ms", config.commit_interval_ms.to_string())
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", config.session_timeout_ms.to_string())
        .set("statistics.interval.ms", "5000")
        .set("enable.partition.eof", "false")
        .create_with_context(ctx)?;
    consumer.subscribe(&[config.topic.as_str()])?;
    health.set_started();
    tracing::info!(topic = %config.topic, group = %config.group_id, "consuming");

    let permits = Arc::new(Semaphore::new(config.max_in_flight.max(1)));
    let mut tasks: JoinSet<(Ticket, Outcome, Span)> = JoinSet::new();
    let mut summary = RunSummary::default();
    let mut paused = false;
    let mut applied_generation = u64::MAX;
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let mut stopping = false;
    let mut deadline = tokio::time::Instant::now();
    tokio::pin!(shutdown);

    loop {
        tokio::select! {
            biased;
            () = &mut shutdown, if !stopping => {
                stopping = true;
                health.set_stopping();
                deadline = tokio::time::Instant::now() + config.shutdown_grace;
                tracing::info!(in_flight = tasks.len(), grace = ?config.shutdown_grace, "shutting down: no new events; finishing in-flight calls");
            }
            Some(joined) = tasks.join_next(), if !tasks.is_empty() => {
                finish(joined, &consumer, &tracker, &config.topic, &mut summary);
            }
            _ = tick.tick() => {}
            msg = consumer.recv(), if !stopping => match msg {
                Err(e) => {
                    tracing::warn!(error = %e, "consumer error");
                }
                Ok(m) => {
                    metrics.events_received.inc();
                    tracing::debug!(partition = m.partition(), offset = m.offset(), "event received");
                    let Some(ticket) = tracker.lock().unwrap_or_else(std::sync::PoisonError::into_inner).start(m.partition(), m.offset()) else {
                        tracing::warn!(partition = m.partition(), offset = m.offset(), "message from an unassigned partition; skipped (its owner will read it)");
                        continue;
                    };
                    let envelope = Envelope {
                        key: m.key().map(<[u8]>::to_vec),
                        payload: m.payload().unwrap_or_default().to_vec(),
                        headers: m.headers().map(|h| h.detach()),
                        source: format!("{}/{}/{}", m.topic(), m.partition(), m.offset()),
                    };
                    let permit = permits.clone().acquire_owned().await.expect("the semaphore is never closed");
                    let engine = engine.clone();
                    let producer = producer.clone();
                    let dlq = config.dead_letter_topic.clone();
                    let stop_rx = stop.subscribe();
                    tasks.spawn(async move {
                        let _permit = permit;
                        // The engine processes in the call's span; what this
                        // source does for the call after that, in the same one.
                        // An event that does not parse has no call id to show.
                        let (outcome, span) = match engine.parse(&envelope.payload) {
                            Ok(event) => {
                                let span = call_span(&event);
                                (engine.process(event).await, span)
                            }
                            Err(f) => (Outcome::Failed(f), Span::none()),
                        };
                        let outcome = match outcome {
                            Outcome::Failed(f) => {
                                dead_letter(&producer, &dlq, &envelope, &f, &engine, stop_rx)
                                    .instrument(span.clone())
                                    .await
                            }
                            other @ (Outcome::Stored | Outcome::Abandoned) => other,
                        };
                        (ticket, outcome, span)
                    });
                }
            },
        }
        // Pause while full, while the store is failing, and when stopping; the
        // consumer keeps polling either way, so it stays in the group.
        let want_paused = stopping || permits.available_permits() == 0 || health.readiness().is_err();
        let generation = consumer.context().generation.load(Ordering::Relaxed);
        // Re-apply after every rebalance too: librdkafka keeps a partition's
        // pause flag across revoke and re-assign, so a partition paused when it
        // was revoked would come back paused.
        if want_paused != paused || generation != applied_generation {
            if let Ok(assignment) = consumer.assignment() {
                let r = if want_paused { consumer.pause(&assignment) } else { consumer.resume(&assignment) };
                if let Err(e) = r {
                    tracing::warn!(error = %e, "pause/resume");
                }
            }
            tracing::debug!(paused = want_paused, generation, "partitions paused/resumed");
            paused = want_paused;
            applied_generation = generation;
        }
        if stopping && (tasks.is_empty() || tokio::time::Instant::now() >= deadline) {
            break;
        }
    }

    if !tasks.is_empty() {
        tracing::warn!(
            in_flight = tasks.len(),
            "grace period over: abandoning in-flight calls (they will be redone)"
        );
        let _ = stop.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            while let Some(joined) = tasks.join_next().await {
                finish(joined, &consumer, &tracker, &config.topic, &mut summary);
            }
        })
        .await;
        // Dropping an aborted call cancels its CPU job (whisper stops at its
        // next graph), so wait for them to be dropped: the engine's threads are
        // then free to be joined when it is dropped, within a second. A call
        // that ended meanwhile is finished as usual.
        tasks.abort_all();
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Err(e) if e.is_cancelled() => summary.abandoned += 1,
                joined => finish(joined, &consumer, &tracker, &config.topic, &mut summary),
            }
        }
    }
    commit_stored(&consumer, "shutdown");
    consumer.unsubscribe();
    tracing::info!(?summary, "left the group");
    Ok(summary)
}

fn finish(
    joined: Result<(Ticket, Outcome, Span), tokio::task::JoinError>,
    consumer: &StreamConsumer<Ctx>,
    tracker: &Mutex<OffsetTracker>,
    topic: &str,
    summary: &mut RunSummary,
) {
    let (ticket, outcome, span) = match joined {
        Ok(x) => x,
        Err(e) => {
            // A panic in a task: the offset is not committed, the call will be redone.
            tracing::error!(error = %e, "a call's task failed");
            summary.abandoned += 1;
            return;
        }
    };
    let _entered = span.enter();
    tracing::debug!(partition = ticket.partition, offset = ticket.offset, ?outcome, "event done");
    match outcome {
        Outcome::Stored => summary.stored += 1,
        Outcome::Failed(_) => summary.dead_lettered += 1,
        Outcome::Abandoned => {
            summary.abandoned += 1;
            return;
        }
    }
    let pos = tracker.lock().unwrap_or_else(std::sync::PoisonError::into_inner).finish(ticket);
    if let Some(pos) = pos {
        let mut tpl = TopicPartitionList::new();
        let _ = tpl.add_partition_offset(topic, ticket.partition, Offset::Offset(pos));
        if let Err(e) = consumer.store_offsets(&tpl) {
            tracing::warn!(error = %e, partition = ticket.partition, "storing offset");
        }
    }
}

/// Sends a failed event to the dead-letter topic, retrying until it is
/// acknowledged (or the worker stops: then the event is abandoned, not lost).
async fn dead_letter(
    producer: &FutureProducer,
    topic: &str,
    env: &Envelope,
    failure: &Failure,
    engine: &Engine,
    mut stop: watch::Receiver<bool>,
) -> Outcome {
    let attempts = failure.attempts.to_string();
    let redacted = engine.dead_letter(&env.payload, failure);
    let mut headers = env.headers.clone().unwrap_or_default();
    for (key, value) in [
        ("callscope.error", redacted.reason.as_str()),
        ("callscope.error.kind", failure.kind),
        ("callscope.stage", failure.stage.as_str()),
        ("callscope.attempts", attempts.as_str()),
        ("callscope.source", env.source.as_str()),
    ] {
        headers = headers.insert(Header { key, value: Some(value) });
    }
    for (key, value) in &redacted.notes {
        headers = headers.insert(Header { key, value: Some(value.as_str()) });
    }
    tracing::warn!(source = %env.source, stage = failure.stage.as_str(), kind = failure.kind, reason = %redacted.reason, "dead-lettering");
    let mut payload: &[u8] = &redacted.payload;
    let mut dlq_attempt = 0;
    loop {
        dlq_attempt += 1;
        let mut record = FutureRecord::<[u8], [u8]>::to(topic).payload(payload).headers(headers.clone());
        if let Some(k) = &env.key {
            record = record.key(k.as_slice());
        }
        match producer.send(record, Duration::from_secs(30)).await {
            Ok(_) => {
                engine
                    .metrics()
                    .dead_letters
                    .with_label_values(&[failure.stage.as_str(), failure.kind])
                    .inc();
                return Outcome::Failed(failure.clone());
            }
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::MessageSizeTooLarge), _))
                if !payload.is_empty() =>
            {
                // The original stays readable at `callscope.source` while the
                // topic retains it; the reason must not be lost with it.
                tracing::warn!(source = %env.source, "payload too large for the dead-letter topic; sending headers only");
                headers =
                    headers.insert(Header { key: "callscope.payload_dropped", value: Some("too large") });
                payload = &[];
            }
            Err((e, _)) => {
                tracing::warn!(error = %e, attempt = dlq_attempt, "dead-letter produce failed; retrying");
                engine.metrics().retries.with_label_values(&["dead_letter"]).inc();
                let delay = Duration::from_millis(200u64.saturating_mul(1 << dlq_attempt.min(6)));
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    _ = stop.changed() => return Outcome::Abandoned,
                }
            }
        }
    }
}
