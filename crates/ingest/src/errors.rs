//! What the runner does with each error it meets, decided once per error type.
//!
//! Every error the engine handles is classified ([`Classify`]) into an
//! [`ErrorClass`]: the [`Action`] (retry with backoff, or dead-letter) and a
//! short, stable kind. The stage that met the error does not decide; the engine
//! acts on the class in one place (`Failure::of` and the retry loop in
//! [`engine`](crate::engine)).
//!
//! ingest's own errors are classified next to their definitions
//! ([`EventError`](crate::event::EventError),
//! [`FetchError`](crate::fetch::FetchError), the engine's `WorkerError`); the
//! foreign ones here. Every match is exhaustive, so a new variant upstream does
//! not compile until someone decides what the runner does with it.
//!
//! The kinds are a public interface: they are the `error` label of
//! `callscope_calls_failed_total` and `callscope_dead_letters_total`, the
//! `callscope.error.kind` header on the dead-letter topic and the `kind` of the
//! folder source's error reports. Renaming one breaks dashboards and consumers.
//!
//! # Why there is no `Fatal`
//! No error stops the worker today: a worker that cannot do a call (no whisper
//! model for an audio event) dead-letters that call so transcript events keep
//! flowing; a store that is down, behind an error page, refusing the
//! credentials or not migrated is retried while `/readyz` reports it; a panic
//! is one call's failure. A class is added when something needs it.
//!
//! How many times a `Retry` error is retried is the stage's budget, not the
//! error's: store writes without end, fetches up to `fetch_max_attempts`. A
//! `DeadLetter` error may ask for a few confirming tries first
//! ([`Classify::confirm`]: a recording an object store does not list yet).

use callscope_audio::AudioError;
use callscope_pipeline::PipelineError;
use callscope_store::{Retry, StoreError};

/// What the runner does with an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Transient: retry with capped exponential backoff while the worker runs
    /// (the stages that fetch and store retry; the CPU stages run once).
    Retry,
    /// Permanent for this call: dead-letter it, with the kind, and move on.
    DeadLetter,
}

/// An error's class: what to do with it and its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorClass {
    /// What the runner does.
    pub action: Action,
    /// A short, stable error type (`corrupt_audio`, `invalid_event`, …): the
    /// `error` metric label and the dead-letter kind.
    pub kind: &'static str,
}

impl ErrorClass {
    /// A transient error of this kind.
    pub const fn retry(kind: &'static str) -> Self {
        ErrorClass { action: Action::Retry, kind }
    }

    /// A permanent error of this kind.
    pub const fn dead_letter(kind: &'static str) -> Self {
        ErrorClass { action: Action::DeadLetter, kind }
    }
}

/// An error the engine knows what to do with.
pub trait Classify: std::fmt::Display {
    /// What to do with it, and its kind.
    fn class(&self) -> ErrorClass;

    /// The error in words, for logs and the dead-letter record.
    fn reason(&self) -> String {
        self.to_string()
    }

    /// For an error classified [`Action::DeadLetter`]: whether a few more
    /// tries should confirm it first (a recording an object store does not
    /// list yet). The stage's budget says how many; most errors need none.
    fn confirm(&self) -> bool {
        false
    }
}

impl Classify for AudioError {
    /// Decoding errors are the recording's: the same bytes fail the same way.
    fn class(&self) -> ErrorClass {
        ErrorClass::dead_letter(match self {
            AudioError::Io(_) => "unreadable_audio",
            AudioError::Write(_) => "audio_write_failed",
            AudioError::Empty => "empty_audio",
            AudioError::Unsupported(_) => "unsupported_audio",
            AudioError::Corrupt(_) => "corrupt_audio",
            AudioError::SampleRate(_) => "unsupported_sample_rate",
            AudioError::TooLong { .. } => "recording_too_long",
        })
    }
}

impl Classify for PipelineError {
    fn class(&self) -> ErrorClass {
        ErrorClass::dead_letter(match self {
            // A streamed recording fails to decode in the middle of its analysis.
            PipelineError::Audio(e) => return e.class(),
            // A call in a language no configured model reads: dead-lettered
            // with the key to set (a retry would fail the same way).
            PipelineError::Asr(callscope_asr::AsrError::NoModelFor { .. }) => "no_model_for_language",
            PipelineError::Asr(_) => "asr_failed",
            PipelineError::Diarize(_) => "diarization_failed",
            PipelineError::MonoWithStereoRoles => "mono_with_stereo_roles",
        })
    }
}

impl Classify for StoreError {
    /// Whether to retry is the store's call ([`StoreError::retry`]): a server
    /// that is down, slow or not migrated yet is waited for; a call it rejects
    /// is dead-lettered.
    fn class(&self) -> ErrorClass {
        let kind = match self {
            StoreError::InvalidInput { .. } => "invalid_call",
            StoreError::SchemaMismatch(_) => "schema_mismatch",
            StoreError::Unavailable(_) => "store_unavailable",
            StoreError::Timeout(_) => "store_timeout",
            StoreError::Database(_) => "store_rejected",
        };
        match self.retry() {
            Retry::WithBackoff => ErrorClass::retry(kind),
            Retry::Never => ErrorClass::dead_letter(kind),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foreign_errors_keep_their_kinds() {
        assert_eq!(AudioError::Corrupt("x".into()).class(), ErrorClass::dead_letter("corrupt_audio"));
        assert_eq!(AudioError::SampleRate(1).class(), ErrorClass::dead_letter("unsupported_sample_rate"));
        assert_eq!(
            AudioError::TooLong { limit_s: 1.0 }.class(),
            ErrorClass::dead_letter("recording_too_long")
        );
        assert_eq!(
            PipelineError::MonoWithStereoRoles.class(),
            ErrorClass::dead_letter("mono_with_stereo_roles")
        );
        let finnish = callscope_asr::AsrError::NoModelFor {
            language: callscope_model::Language::FINNISH,
            model: "tiny.en".into(),
        };
        assert_eq!(PipelineError::Asr(finnish).class(), ErrorClass::dead_letter("no_model_for_language"));
        let invalid = StoreError::InvalidInput { call_id: "c".into(), field: "f", reason: "r".into() };
        assert_eq!(invalid.class(), ErrorClass::dead_letter("invalid_call"));
        assert_eq!(StoreError::Unavailable("down".into()).class(), ErrorClass::retry("store_unavailable"));
        assert_eq!(StoreError::Timeout("slow".into()).class(), ErrorClass::retry("store_timeout"));
        assert_eq!(StoreError::Database("no".into()).class(), ErrorClass::dead_letter("store_rejected"));
        // The deployment's fault, not the call's: wait for `callscope migrate`.
        assert_eq!(StoreError::SchemaMismatch("v1".into()).class(), ErrorClass::retry("schema_mismatch"));
    }
}
