//! Conversation signals of one call: tracker mentions, the keywords customers
//! use, sentiment, questions and action items, as computed by `callscope-signals`.
//!
//! Like the KPIs, these shapes are a public interface (the API returns them and
//! the store keeps them), so they live here, with no logic attached.

use serde::{Deserialize, Serialize};

use crate::Role;

/// What a tracker tracks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrackerKind {
    /// A competitor's name.
    Competitor,
    /// A keyword or topic (pricing, contract, demo).
    Keyword,
}

impl TrackerKind {
    /// The lowercase name used in JSON and in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            TrackerKind::Competitor => "competitor",
            TrackerKind::Keyword => "keyword",
        }
    }
}

/// One occurrence of a tracked term in a call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mention {
    /// The tracker's canonical name (`Salesforce` for "SFDC").
    pub term: String,
    /// Competitor or keyword.
    pub kind: TrackerKind,
    /// The tracker's categories, if any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
    /// The transcript words that matched, as written (`Sales force`).
    pub matched: String,
    /// Who said it.
    pub role: Role,
    /// The speaker label.
    pub speaker: String,
    /// Start of the first matched word, seconds.
    pub start: f64,
    /// End of the last matched word, seconds.
    pub end: f64,
    /// A few words around the mention, as said by the same speaker.
    pub context: String,
}

/// A word or phrase the customer used, with how often.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeywordCount {
    /// The normalized phrase (lowercase, punctuation stripped).
    pub phrase: String,
    /// Occurrences in the customer's speech.
    pub count: u32,
}

/// Positive, neutral or negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SentimentLabel {
    /// Pleased, interested, agreeing.
    Positive,
    /// Neither.
    Neutral,
    /// Displeased, objecting, refusing.
    Negative,
}

impl SentimentLabel {
    /// The lowercase name used in JSON and in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            SentimentLabel::Positive => "positive",
            SentimentLabel::Neutral => "neutral",
            SentimentLabel::Negative => "negative",
        }
    }
}

/// A label with the score it came from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SentimentScore {
    /// The label.
    pub label: SentimentLabel,
    /// Score in [-1, 1]; negative is negative.
    pub score: f64,
}

/// Shares of turns per label; they sum to 1 when there is at least one turn.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct SentimentShares {
    /// Share of positive turns.
    pub positive: f64,
    /// Share of neutral turns.
    pub neutral: f64,
    /// Share of negative turns.
    pub negative: f64,
}

/// The sentiment of one turn, a point of the call's sentiment timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SentimentPoint {
    /// Index of the turn in the call (KPI turn segmentation).
    pub turn: u32,
    /// Who spoke the turn.
    pub role: Role,
    /// Start of the turn, seconds.
    pub start: f64,
    /// End of the turn, seconds.
    pub end: f64,
    /// The turn's label.
    pub label: SentimentLabel,
    /// The turn's score in [-1, 1].
    pub score: f64,
}

/// The customer's sentiment in a call, overall and over time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallSentiment {
    /// The customer's overall sentiment; `None` when the customer never spoke.
    pub customer: Option<SentimentScore>,
    /// Shares of the customer's turns per label.
    pub customer_shares: SentimentShares,
    /// One point per turn, both roles, in time order.
    pub timeline: Vec<SentimentPoint>,
}

/// A question asked in the call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Question {
    /// Who asked.
    pub role: Role,
    /// The speaker label.
    pub speaker: String,
    /// The question, as written.
    pub text: String,
    /// Start of its first word, seconds.
    pub start: f64,
    /// End of its last word, seconds.
    pub end: f64,
}

/// A commitment or next step made in the call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionItem {
    /// Who committed (the speaker's role).
    pub owner: Role,
    /// The speaker label.
    pub speaker: String,
    /// The sentence that carries the commitment.
    pub text: String,
    /// Start of its first word, seconds.
    pub start: f64,
    /// End of its last word, seconds.
    pub end: f64,
}

/// Every signal of one call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallSignals {
    /// Tracker mentions, in time order.
    pub mentions: Vec<Mention>,
    /// The customer's most characteristic words and phrases, most frequent first.
    pub customer_keywords: Vec<KeywordCount>,
    /// Customer sentiment and the timeline.
    pub sentiment: CallSentiment,
    /// Questions, both roles, in time order.
    pub questions: Vec<Question>,
    /// Action items, in time order.
    pub action_items: Vec<ActionItem>,
}
