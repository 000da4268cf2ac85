//! Sentences as data: what the page shows as a sentence (a trend, a coaching
//! reason, an empty state) is sent as a stable `kind` and its `values`, so the
//! page renders it in its own language from its translation catalogue
//! (`web/i18n/*.json`, where `kind` is the key). The English sentence is sent
//! beside it, for API clients that show it as is.
//!
//! Values are numbers (in the unit of the KPI named by `kpi`: shares 0 to 1,
//! words per minute, seconds, counts), KPI names ([`super::Kpi`]) and names of
//! people; never preformatted text.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

/// One sentence as data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    /// Stable identifier of the sentence: its key in the page's catalogues.
    pub kind: &'static str,
    /// What the sentence says, by placeholder name.
    pub values: BTreeMap<&'static str, Value>,
}

impl Message {
    /// A sentence without values yet.
    pub fn new(kind: &'static str) -> Self {
        Message { kind, values: BTreeMap::new() }
    }

    /// Adds a value.
    #[must_use]
    pub fn with(mut self, name: &'static str, value: impl Into<Value>) -> Self {
        self.values.insert(name, value.into());
        self
    }
}

/// Every kind the API sends, for the catalogue tests: each must be a key of
/// every catalogue, with exactly these placeholders.
pub const KINDS: &[(&str, &[&str])] = &[
    ("trend.rose", &["kpi", "previous", "current"]),
    ("trend.fell", &["kpi", "previous", "current"]),
    ("trend.rose_vs_team", &["kpi", "previous", "current", "team"]),
    ("trend.fell_vs_team", &["kpi", "previous", "current", "team"]),
    ("trends.too_few_calls", &["calls_now", "calls_before", "min_calls"]),
    ("coaching.above", &["kpi", "value", "threshold", "median"]),
    ("coaching.below", &["kpi", "value", "threshold", "median"]),
    ("coaching.above_vs_top", &["kpi", "value", "threshold", "median", "top"]),
    ("coaching.below_vs_top", &["kpi", "value", "threshold", "median", "top"]),
    ("coaching.too_few_calls", &["calls", "min_calls"]),
];
