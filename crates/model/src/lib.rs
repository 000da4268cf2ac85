//! Domain types and JSON contracts of callscope.
//!
//! Everything that crosses a crate boundary or leaves the process (the transcript
//! JSON users bring, the KPI report BI users read) is defined here, once, with
//! serde. The crate does no I/O and has no opinion on how a transcript was made:
//! ASR, a CRM export or a hand-written test file all meet the same contract.
//!
//! # Layout
//! - [`transcript`]: [`Transcript`], [`Word`] (the one word type: transcription
//!   emits it, attribution fills in its speaker), [`Role`] and the validation that
//!   turns untrusted JSON into a transcript the rest of the system may rely on.
//! - [`kpi`]: [`CallKpis`] and [`KpiReport`], the per-call conversation KPIs.
//! - [`signals`]: [`CallSignals`]: mentions, customer keywords, sentiment,
//!   questions and action items.
//! - [`language`]: [`Language`], a language code whisper knows, checked on the way in.
//! - [`call`]: [`CallMeta`], the metadata that travels with a recording;
//!   [`CallAnalysis`], everything the pipeline makes of a call (with its
//!   [`Turn`]s and [`Attribution`]); [`SellerChannel`].
//!
//! # Why validation lives here
//! Every consumer of a transcript (KPIs, signals, storage) needs the same
//! guarantees: each word's speaker is declared, times are finite, non-negative
//! and ordered within a word. Checking once at the boundary, with errors that
//! name the offending field, keeps those crates free of defensive code.

pub mod call;
pub mod kpi;
pub mod language;
pub mod signals;
pub mod transcript;

pub use call::{
    Attribution, CallAnalysis, CallMeta, Direction, LineEvidence, Provenance, SellerChannel, TimeSpan, Turn,
};
pub use kpi::{CallKpis, KpiReport};
pub use language::{Language, LanguageError};
pub use signals::{
    ActionItem, CallSentiment, CallSignals, KeywordCount, Mention, Question, SentimentLabel, SentimentPoint,
    SentimentScore, SentimentShares, TrackerKind,
};
pub use transcript::{Role, Transcript, TranscriptError, Word};
