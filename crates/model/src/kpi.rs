//! Per-call conversation KPIs, as computed by `callscope-kpi`.
//!
//! The definitions live with the code that computes them (`callscope-kpi`) and in
//! `docs/kpis.md`; this module only fixes their names and JSON shape, which are a
//! public interface: BI tools read these keys.

use serde::{Deserialize, Serialize};

/// The conversation KPIs of one call (definitions v1).
///
/// Ratios and rates are `None` (JSON `null`) when their denominator is zero, so an
/// empty or one-sided call never reports a made-up number.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CallKpis {
    /// Sum of word durations spoken by the seller, seconds.
    pub seller_talk_s: f64,
    /// Sum of word durations spoken by the customer, seconds.
    pub customer_talk_s: f64,
    /// `seller_talk_s / (seller_talk_s + customer_talk_s)`.
    pub talk_ratio: Option<f64>,
    /// Seller words per minute of seller talk time.
    pub seller_wpm: Option<f64>,
    /// Customer words per minute of customer talk time.
    pub customer_wpm: Option<f64>,
    /// Adjacent turns with different roles.
    pub switches: u32,
    /// Switches per hour of call duration.
    pub switches_per_hour: Option<f64>,
    /// Mean gap between a customer turn's end and the next seller turn's start.
    pub avg_pause_s: Option<f64>,
    /// Longest customer turn, seconds (0 when the customer never speaks).
    pub longest_customer_monologue_s: f64,
    /// Longest seller turn, seconds (0 when the seller never speaks).
    pub longest_seller_monologue_s: f64,
    /// Adjacent turns with different roles where the next starts before the previous ends.
    pub interruptions: u32,
    /// Seller turns that contain a word ending in `?`.
    pub seller_questions: u32,
    /// Extra (not part of the v1 contract's required keys): number of seller turns.
    pub seller_turns: u32,
    /// Extra: number of customer turns.
    pub customer_turns: u32,
    /// Extra: number of raw runs classified as backchannels (dropped from turns).
    pub backchannels: u32,
}

/// What `callscope analyze --transcript` prints and what the store keeps per call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KpiReport {
    /// The call's id, when the transcript carries one.
    pub call_id: Option<String>,
    /// Version of the KPI definitions the values were computed with.
    pub kpi_version: u32,
    /// The values.
    pub kpis: CallKpis,
}
