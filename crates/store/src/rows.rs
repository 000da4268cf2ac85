//! The flat rows a [`CallAnalysis`] becomes, shared by both backends so that
//! they store exactly the same columns (the public schema).

use callscope_model::{CallAnalysis, CallKpis, CallSignals, Transcript};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::types::{CallDetail, CallSummary, parse_label, role_str};

/// One row of `calls`. ClickHouse reads and writes it by field order, which
/// must follow [`crate::columns::CALLS`] (a test checks it).
#[derive(Debug, Clone, PartialEq, clickhouse::Row, Serialize, Deserialize)]
pub(crate) struct CallRow {
    pub call_id: String,
    pub seller_id: String,
    pub team: String,
    pub customer: String,
    #[serde(with = "clickhouse::serde::chrono::datetime64::millis")]
    pub started_at: DateTime<Utc>,
    pub duration_s: f64,
    pub direction: String,
    pub outcome: String,
    pub audio_uri: String,
    pub pipeline_version: String,
    pub asr_model: String,
    pub sentiment_model: String,
    pub kpi_version: u16,
    pub seller_talk_s: f64,
    pub customer_talk_s: f64,
    pub talk_ratio: Option<f64>,
    pub seller_wpm: Option<f64>,
    pub customer_wpm: Option<f64>,
    pub switches: u32,
    pub switches_per_hour: Option<f64>,
    pub avg_pause_s: Option<f64>,
    pub longest_customer_monologue_s: f64,
    pub longest_seller_monologue_s: f64,
    pub interruptions: u32,
    pub seller_questions: u32,
    pub seller_turns: u32,
    pub customer_turns: u32,
    pub backchannels: u32,
    pub customer_sentiment: String,
    pub customer_sentiment_score: Option<f64>,
    pub positive_share: f64,
    pub neutral_share: f64,
    pub negative_share: f64,
    pub mentions: u32,
    pub action_items: u32,
    pub questions: u32,
    pub attribution_method: String,
    pub attribution_confidence: Option<f64>,
    pub attribution_low_confidence: u8,
    pub language: String,
    pub language_probability: Option<f64>,
    pub transcript: String,
    pub signals: String,
    pub version: u64,
    pub is_deleted: u8,
    #[serde(with = "clickhouse::serde::chrono::datetime64::millis")]
    pub processed_at: DateTime<Utc>,
}

/// One row of `mentions`.
#[derive(Debug, Clone, PartialEq, clickhouse::Row, Serialize, Deserialize)]
pub(crate) struct MentionRow {
    pub call_id: String,
    pub version: u64,
    pub seller_id: String,
    #[serde(with = "clickhouse::serde::chrono::datetime64::millis")]
    pub started_at: DateTime<Utc>,
    pub term: String,
    pub kind: String,
    pub role: String,
    pub speaker: String,
    pub start_s: f64,
    pub end_s: f64,
    pub matched: String,
    pub context: String,
}

/// One row of `utterances`: a turn with its sentiment.
#[derive(Debug, Clone, PartialEq, clickhouse::Row, Serialize, Deserialize)]
pub(crate) struct UtteranceRow {
    pub call_id: String,
    pub version: u64,
    pub seller_id: String,
    #[serde(with = "clickhouse::serde::chrono::datetime64::millis")]
    pub started_at: DateTime<Utc>,
    pub turn: u32,
    pub role: String,
    pub start_s: f64,
    pub end_s: f64,
    pub text: String,
    pub sentiment: String,
    pub sentiment_score: f64,
}

/// One row of `action_items`.
#[derive(Debug, Clone, PartialEq, clickhouse::Row, Serialize, Deserialize)]
pub(crate) struct ActionItemRow {
    pub call_id: String,
    pub version: u64,
    pub seller_id: String,
    #[serde(with = "clickhouse::serde::chrono::datetime64::millis")]
    pub started_at: DateTime<Utc>,
    pub owner: String,
    pub speaker: String,
    pub start_s: f64,
    pub end_s: f64,
    pub text: String,
}

/// One row of `customer_keywords`.
#[derive(Debug, Clone, PartialEq, clickhouse::Row, Serialize, Deserialize)]
pub(crate) struct KeywordRow {
    pub call_id: String,
    pub version: u64,
    pub seller_id: String,
    #[serde(with = "clickhouse::serde::chrono::datetime64::millis")]
    pub started_at: DateTime<Utc>,
    pub phrase: String,
    pub count: u32,
}

/// A call as rows.
pub(crate) struct Flattened {
    pub call: CallRow,
    pub mentions: Vec<MentionRow>,
    pub utterances: Vec<UtteranceRow>,
    pub action_items: Vec<ActionItemRow>,
    pub keywords: Vec<KeywordRow>,
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Flattens a validated call ([`crate::validate`]) into rows of `version`.
pub(crate) fn flatten(c: &CallAnalysis, version: u64, now: DateTime<Utc>) -> Flattened {
    let m = &c.meta;
    let started_at = m.started_at.unwrap_or(now);
    let k = &c.kpis.kpis;
    let s = &c.signals;
    let opt = |o: &Option<String>| o.clone().unwrap_or_default();
    let call = CallRow {
        call_id: m.call_id.clone(),
        seller_id: m.seller_id.clone(),
        team: opt(&m.team),
        customer: opt(&m.customer),
        started_at,
        duration_s: c.duration_s,
        direction: m.direction.map(|d| d.as_str().to_owned()).unwrap_or_default(),
        outcome: opt(&m.outcome),
        audio_uri: opt(&c.audio_uri),
        pipeline_version: c.provenance.pipeline_version.clone(),
        asr_model: opt(&c.provenance.asr_model),
        sentiment_model: c.provenance.sentiment_model.clone(),
        kpi_version: u16::try_from(c.kpis.kpi_version).unwrap_or(u16::MAX),
        seller_talk_s: k.seller_talk_s,
        customer_talk_s: k.customer_talk_s,
        talk_ratio: k.talk_ratio,
        seller_wpm: k.seller_wpm,
        customer_wpm: k.customer_wpm,
        switches: k.switches,
        switches_per_hour: k.switches_per_hour,
        avg_pause_s: k.avg_pause_s,
        longest_customer_monologue_s: k.longest_customer_monologue_s,
        longest_seller_monologue_s: k.longest_seller_monologue_s,
        interruptions: k.interruptions,
        seller_questions: k.seller_questions,
        seller_turns: k.seller_turns,
        customer_turns: k.customer_turns,
        backchannels: k.backchannels,
        customer_sentiment: s.sentiment.customer.map(|c| c.label.as_str().to_owned()).unwrap_or_default(),
        customer_sentiment_score: s.sentiment.customer.map(|c| c.score),
        positive_share: s.sentiment.customer_shares.positive,
        neutral_share: s.sentiment.customer_shares.neutral,
        negative_share: s.sentiment.customer_shares.negative,
        mentions: count(s.mentions.len()),
        action_items: count(s.action_items.len()),
        questions: count(s.questions.len()),
        attribution_method: c.attribution.as_ref().map(|a| a.method.clone()).unwrap_or_default(),
        attribution_confidence: c.attribution.as_ref().map(|a| a.confidence),
        attribution_low_confidence: u8::from(c.attribution.as_ref().is_some_and(|a| a.low_confidence)),
        language: m.language.or(c.transcript.language).map(|l| l.code().to_owned()).unwrap_or_default(),
        language_probability: c.transcript.language_probability.map(f64::from),
        transcript: serde_json::to_string(&c.transcript).unwrap_or_default(),
        signals: serde_json::to_string(&c.signals).unwrap_or_default(),
        version,
        is_deleted: 0,
        processed_at: now,
    };

    let mentions = s
        .mentions
        .iter()
        .map(|x| MentionRow {
            call_id: m.call_id.clone(),
            version,
            seller_id: m.seller_id.clone(),
            started_at,
            term: x.term.clone(),
            kind: x.kind.as_str().to_owned(),
            role: role_str(x.role).to_owned(),
            speaker: x.speaker.clone(),
            start_s: x.start,
            end_s: x.end,
            matched: x.matched.clone(),
            context: x.context.clone(),
        })
        .collect();

    // One row per turn of the pipeline's segmentation: the sentiment
    // timeline has one point per turn, in the same order.
    let utterances = c
        .turns
        .iter()
        .enumerate()
        .map(|(i, turn)| {
            let point = s.sentiment.timeline.get(i);
            UtteranceRow {
                call_id: m.call_id.clone(),
                version,
                seller_id: m.seller_id.clone(),
                started_at,
                turn: count(i),
                role: role_str(turn.role).to_owned(),
                start_s: turn.start,
                end_s: turn.end,
                text: turn.text.clone(),
                sentiment: point.map(|p| p.label.as_str()).unwrap_or_default().to_owned(),
                sentiment_score: point.map_or(0.0, |p| p.score),
            }
        })
        .collect();

    let action_items = s
        .action_items
        .iter()
        .map(|a| ActionItemRow {
            call_id: m.call_id.clone(),
            version,
            seller_id: m.seller_id.clone(),
            started_at,
            owner: role_str(a.owner).to_owned(),
            speaker: a.speaker.clone(),
            start_s: a.start,
            end_s: a.end,
            text: a.text.clone(),
        })
        .collect();

    let keywords = s
        .customer_keywords
        .iter()
        .map(|kw| KeywordRow {
            call_id: m.call_id.clone(),
            version,
            seller_id: m.seller_id.clone(),
            started_at,
            phrase: kw.phrase.clone(),
            count: kw.count,
        })
        .collect();

    Flattened { call, mentions, utterances, action_items, keywords }
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

impl CallRow {
    /// The call history row.
    pub(crate) fn summary(&self) -> CallSummary {
        CallSummary {
            call_id: self.call_id.clone(),
            seller_id: self.seller_id.clone(),
            team: self.team.clone(),
            customer: non_empty(&self.customer),
            started_at: self.started_at,
            duration_s: self.duration_s,
            outcome: non_empty(&self.outcome),
            talk_ratio: self.talk_ratio,
            seller_wpm: self.seller_wpm,
            switches: self.switches,
            avg_pause_s: self.avg_pause_s,
            longest_customer_monologue_s: self.longest_customer_monologue_s,
            interruptions: self.interruptions,
            seller_questions: self.seller_questions,
            sentiment: parse_label(&self.customer_sentiment),
            sentiment_score: self.customer_sentiment_score,
            mentions: self.mentions,
            action_items: self.action_items,
            questions: self.questions,
            low_confidence: self.attribution_low_confidence != 0,
            language: non_empty(&self.language),
        }
    }

    /// Everything about the call. Stored JSON that no longer parses (a manual
    /// edit) degrades to an empty transcript or empty signals.
    pub(crate) fn detail(&self) -> CallDetail {
        let transcript: Transcript = serde_json::from_str(&self.transcript).unwrap_or_default();
        let signals: CallSignals = serde_json::from_str(&self.signals).unwrap_or_else(|_| CallSignals {
            mentions: Vec::new(),
            customer_keywords: Vec::new(),
            sentiment: callscope_model::CallSentiment {
                customer: None,
                customer_shares: Default::default(),
                timeline: Vec::new(),
            },
            questions: Vec::new(),
            action_items: Vec::new(),
        });
        CallDetail {
            attribution: (!self.attribution_method.is_empty()).then(|| callscope_model::Attribution {
                method: self.attribution_method.clone(),
                confidence: self.attribution_confidence.unwrap_or(0.0),
                low_confidence: self.attribution_low_confidence != 0,
                overlaps: Vec::new(),
                line: None,
            }),
            summary: self.summary(),
            direction: non_empty(&self.direction),
            audio_uri: non_empty(&self.audio_uri),
            transcript,
            kpis: CallKpis {
                seller_talk_s: self.seller_talk_s,
                customer_talk_s: self.customer_talk_s,
                talk_ratio: self.talk_ratio,
                seller_wpm: self.seller_wpm,
                customer_wpm: self.customer_wpm,
                switches: self.switches,
                switches_per_hour: self.switches_per_hour,
                avg_pause_s: self.avg_pause_s,
                longest_customer_monologue_s: self.longest_customer_monologue_s,
                longest_seller_monologue_s: self.longest_seller_monologue_s,
                interruptions: self.interruptions,
                seller_questions: self.seller_questions,
                seller_turns: self.seller_turns,
                customer_turns: self.customer_turns,
                backchannels: self.backchannels,
            },
            kpi_version: u32::from(self.kpi_version),
            signals,
        }
    }
}
