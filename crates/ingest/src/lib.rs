//! Ingest: call events in, analysed calls durably stored, at least once.
//!
//! Two sources drive one [`Engine`]: the [`kafka`] consumer for deployments,
//! and the [`dir`] folder source for one machine. Both hand a validated
//! [`CallEvent`] to the engine and act on its [`Outcome`]: stored → commit;
//! failed → dead-letter, then commit; abandoned at shutdown → do not commit, so
//! the call is redone. That split keeps the delivery rules (offsets, dead
//! letters, pausing) in the sources and the pipeline in one place.
//!
//! # Why it is built this way
//! - The pipeline's stages are CPU-bound and synchronous; the engine runs them
//!   on its own thread pool and keeps tokio for I/O: the broker, the object
//!   store, the database. Every queue between them is bounded.
//! - Correctness never depends on timing: an offset is stored only after the
//!   store's receipt (or the dead-letter topic's acknowledgement), and writes are
//!   idempotent per `call_id`, so replays after a crash or a rebalance never
//!   double-count.
//! - Errors are classified once per type by what the runner does with them
//!   (retry with backoff, or dead-letter under a stable kind), not by the stage
//!   that met them: the stage only names where it happened.
//!
//! # Layout
//! - [`event`]: the `call-recorded` event (schema in `schemas/kafka/`).
//! - [`engine`]: fetch → decode → transcribe → analyse → batched write, with
//!   one retry loop and one span per call.
//! - [`errors`]: what the runner does with each error (retry or dead-letter)
//!   and its stable kind; ingest's own errors are classified beside their
//!   definitions, the foreign ones there.
//! - `analyzers`: the configured analyzer and a bounded cache of those built for
//!   events with their own trackers.
//! - [`offsets`]: the per-partition ordered offset tracker.
//! - [`kafka`]: the consumer-group source and the dead-letter producer.
//! - [`kafka_client`]: the librdkafka settings both use (security, SASL,
//!   compression pass through) and what the linked librdkafka supports.
//! - [`dead_letter`]: the redacted copy of a failed event for the dead-letter
//!   topic.
//! - [`copies`]: redacted audio copies (spans silenced or beeped) that the
//!   stored call's `audio_uri` points to, when the operator keeps audio.
//! - [`dir`]: the folder source.
//! - [`fetch`]: recordings by URI (`file://`, `s3://`, `http(s)://`).
//! - [`metrics`]: Prometheus metrics, `/healthz`, `/readyz`.

mod analyzers;
pub mod copies;
pub mod dead_letter;
pub mod dir;
pub mod engine;
pub mod errors;
pub mod event;
pub mod fetch;
pub mod kafka;
pub mod kafka_client;
pub mod metrics;
pub mod offsets;

pub use copies::AudioCopies;
pub use engine::{Engine, EngineConfig, Failure, Models, Outcome, Stage, call_span};
pub use event::CallEvent;
pub use metrics::{Health, Metrics};
