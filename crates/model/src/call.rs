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

impl Direction {
    /// The lowercase name used in JSON and in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }
}

/// Which channel of a stereo recording is the seller's. The event's
/// `channels.seller_channel`, `analyze --seller-channel` and the eval sets'
/// truth files all speak this one type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SellerChannel {
    /// Channel 0 (the default when nobody says).
    #[default]
    Left,
    /// Channel 1.
    Right,
}

impl SellerChannel {
    /// The lowercase name used in JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            SellerChannel::Left => "left",
            SellerChannel::Right => "right",
        }
    }

    /// The channel's index in a decoded recording (left 0, right 1).
    pub fn index(self) -> usize {
        match self {
            SellerChannel::Left => 0,
            SellerChannel::Right => 1,
        }
    }
}

impl std::fmt::Display for SellerChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for SellerChannel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "left" => Ok(SellerChannel::Left),
            "right" => Ok(SellerChannel::Right),
            _ => Err(format!("unknown channel {s:?}: use `left` or `right`")),
        }
    }
}

/// One turn of a call: consecutive words of one role, as the KPI engine
/// segments them (definition 3 in `docs/kpis.md`), with its words' text. The
/// pipeline segments once; the KPIs, the sentiment timeline and the store's
/// `utterances` rows all speak of these turns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Turn {
    /// Who spoke it.
    pub role: crate::Role,
    /// Start of its first word, seconds.
    pub start: f64,
    /// Latest end of its words, seconds.
    pub end: f64,
    /// Its words' text, joined by single spaces.
    pub text: String,
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
    /// The customer (account or contact name) shown in the call history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<String>,
    /// The language spoken, when the producer knows it; otherwise the
    /// worker's configured language, or detection (`asr.language = "auto"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<crate::Language>,
}

/// Versions of what produced an analysis, stored with it so that data made by
/// different models or definitions can be told apart and recomputed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Provenance {
    /// callscope's version (`CARGO_PKG_VERSION` of the pipeline).
    pub pipeline_version: String,
    /// The ASR model, or `None` for a transcript brought by the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asr_model: Option<String>,
    /// The sentiment model's name.
    pub sentiment_model: String,
}

/// Everything callscope knows about one processed call: what the pipeline
/// produces and the store persists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallAnalysis {
    /// Who, when, with whom.
    pub meta: CallMeta,
    /// Length of the recording, seconds.
    pub duration_s: f64,
    /// Where the recording lives (for playback), if there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_uri: Option<String>,
    /// The words, attributed.
    pub transcript: crate::Transcript,
    /// The turns of the transcript, in time order (backchannels left out).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub turns: Vec<Turn>,
    /// The conversation KPIs.
    pub kpis: crate::KpiReport,
    /// The conversation signals.
    pub signals: crate::CallSignals,
    /// What produced it.
    pub provenance: Provenance,
    /// How words were attributed to speakers and roles, and how sure that is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribution: Option<Attribution>,
}

/// How a call's words got their speakers and roles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attribution {
    /// `channel` (stereo), `mono-enrollment`, `mono-heuristics`,
    /// `single-speaker` (mono without diarization), or `transcript` (given).
    pub method: String,
    /// 0 to 1: how sure the speaker split and the role choice are.
    pub confidence: f64,
    /// Below the confidence threshold: dashboards should leave this call's KPIs out.
    pub low_confidence: bool,
    /// Mono calls: the stretches where two people talk at once (seconds), when
    /// the overlap model is installed. Not stored; in the analysis output only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overlaps: Vec<TimeSpan>,
    /// What the line did to the words (stereo: the worse of the two lines;
    /// mono: the mix as one line). Not stored; in the analysis output only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<LineEvidence>,
}

/// What a call's confidence is judged from, besides (mono) how well the
/// voices were told apart: for a stereo call each figure is the worse of the
/// two lines (of those that carry words); a mono call's mix is one line.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LineEvidence {
    /// Voice-band signal-to-noise ratio, dB (60 on digital silence); none
    /// when no line has words.
    pub snr_db: Option<f64>,
    /// Whisper's mean confidence in the call's words (0 to 1).
    pub word_confidence: f64,
    /// Share of the pauses (neither party speaking) in which the voice
    /// detector still hears a voice on the line: voices in the background.
    pub background_share: f64,
    /// Share of the line's own speech with no word of it nearby: speech
    /// whisper left untranscribed (or noise taken for speech).
    pub unworded_share: f64,
}

/// A stretch of a call, seconds from its start.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TimeSpan {
    /// Start.
    pub start: f64,
    /// End.
    pub end: f64,
}

impl Attribution {
    /// Calls under this confidence are flagged.
    pub const THRESHOLD: f64 = 0.5;

    /// An attribution with the flag set from the threshold.
    pub fn new(method: &str, confidence: f64) -> Self {
        Attribution {
            method: method.to_owned(),
            confidence,
            low_confidence: confidence < Self::THRESHOLD,
            overlaps: Vec::new(),
            line: None,
        }
    }
}
