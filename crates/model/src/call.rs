//! Call metadata: who called whom, when, and how it ended.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Who placed the call. Used by role assignment heuristics and by filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// The customer called in.
    Inbound,
    /// The seller called out.
    Outbound,
}

/// Metadata that travels with a recording, independent of its content.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CallMeta {
    /// Stable identifier of the call; reprocessing the same id replaces the call.
    pub call_id: String,
    /// The seller who owns the call; the unit of every dashboard aggregate.
    pub seller_id: String,
    /// The seller's team, so managers see only their own sellers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// When the call started (any RFC 3339 offset on input, UTC inside).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    /// Inbound or outbound, when the telephony system says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<Direction>,
    /// The deal outcome (for example `won`, `lost`), used to find top performers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
}
