//! The `call-recorded` event (`schemas/kafka/call-recorded.schema.json`):
//! parsing and validation.
//!
//! An event that fails here is permanent: retrying cannot fix it, so it goes to
//! the dead-letter topic with the error, and the partition moves on.

use std::collections::BTreeMap;

use base64::Engine as _;
use callscope_model::{CallMeta, Direction, Language, SellerChannel, Transcript};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::errors::{Classify, ErrorClass};

/// The event schema versions this build understands.
pub const SCHEMA_VERSIONS: &[u32] = &[1];

/// Largest inline audio accepted, decoded bytes (bigger recordings go by URI).
pub const MAX_INLINE_AUDIO: usize = 16 << 20;

/// Why an event was rejected. Every variant is permanent.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    /// Not JSON, or JSON of the wrong shape.
    #[error("malformed event: {0}")]
    Malformed(String),
    /// A `schema_version` this build does not know.
    #[error("unknown schema_version {0} (this build reads {SCHEMA_VERSIONS:?})")]
    UnknownVersion(u32),
    /// A field is present but its value is not acceptable.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// The field at fault.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// The embedded transcript is invalid.
    #[error("invalid transcript: {0}")]
    Transcript(#[from] callscope_model::TranscriptError),
}

impl Classify for EventError {
    /// Every event error is permanent: the same payload fails the same way.
    fn class(&self) -> ErrorClass {
        ErrorClass::dead_letter(match self {
            EventError::Malformed(_) => "malformed_event",
            EventError::UnknownVersion(_) => "unknown_schema_version",
            EventError::Invalid { .. } => "invalid_event",
            EventError::Transcript(_) => "invalid_transcript",
        })
    }
}

/// The wire form, as producers write it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    /// Checked before this struct is read (see `from_json_slice`).
    #[serde(rename = "schema_version")]
    _schema_version: u32,
    call_id: String,
    seller_id: String,
    #[serde(default)]
    team: Option<String>,
    #[serde(default)]
    started_at: Option<DateTime<Utc>>,
    #[serde(default)]
    direction: Option<Direction>,
    #[serde(default)]
    outcome: Option<String>,
    #[serde(default)]
    customer: Option<String>,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    crm_ids: BTreeMap<String, String>,
    #[serde(default)]
    channels: Option<WireChannels>,
    #[serde(default)]
    audio: Option<WireAudio>,
    #[serde(default)]
    transcript: Option<Box<serde_json::value::RawValue>>,
    #[serde(default)]
    trackers: Option<WireTrackers>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireChannels {
    layout: Layout,
    #[serde(default)]
    seller_channel: Option<SellerChannel>,
}

/// How the recording's channels are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// One channel per party.
    Stereo,
    /// Everyone on one channel.
    Mono,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireAudio {
    #[serde(default)]
    inline_base64: Option<String>,
    #[serde(default)]
    uri: Option<String>,
    #[serde(default)]
    format: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireTrackers {
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    competitors: Vec<String>,
}

/// Where the recording is.
#[derive(Debug, Clone, PartialEq)]
pub enum AudioRef {
    /// The bytes travel in the event.
    Inline {
        /// The encoded recording.
        bytes: Vec<u8>,
        /// Container or codec hint (`flac`, `wav`, `mp3`, `ogg`), if given.
        format: Option<String>,
    },
    /// The recording is fetched: `file://`, `s3://`, `http(s)://`.
    Uri {
        /// The location.
        uri: url::Url,
        /// Container or codec hint, if given (else taken from the path).
        format: Option<String>,
    },
}

/// What the event brings to analyse.
#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    /// A recording, to decode and transcribe.
    Audio(AudioRef),
    /// A ready transcript (validated).
    Transcript(Box<Transcript>),
}

/// A validated event.
#[derive(Debug, Clone, PartialEq)]
pub struct CallEvent {
    /// Who, when, with whom.
    pub meta: CallMeta,
    /// Identifiers in the customer's CRM (carried through, for the dead-letter topic and logs).
    pub crm_ids: BTreeMap<String, String>,
    /// The channel layout, when the producer says.
    pub layout: Option<Layout>,
    /// The seller's channel of a stereo recording.
    pub seller_channel: Option<SellerChannel>,
    /// The recording or the transcript.
    pub content: Content,
    /// Keywords tracked for this call only, on top of the configured trackers.
    pub extra_keywords: Vec<String>,
    /// Competitors tracked for this call only.
    pub extra_competitors: Vec<String>,
}

impl CallEvent {
    /// Parses and validates an event's payload.
    pub fn from_json_slice(bytes: &[u8]) -> Result<Self, EventError> {
        // Read the version first, so an unknown version is named as such rather
        // than as whatever field it renamed.
        #[derive(Deserialize)]
        struct Version {
            schema_version: Option<u32>,
        }
        let version: Version =
            serde_json::from_slice(bytes).map_err(|e| EventError::Malformed(e.to_string()))?;
        match version.schema_version {
            None => return Err(EventError::Malformed("missing field `schema_version`".into())),
            Some(v) if !SCHEMA_VERSIONS.contains(&v) => return Err(EventError::UnknownVersion(v)),
            Some(_) => {}
        }
        let wire: Wire = serde_json::from_slice(bytes).map_err(|e| EventError::Malformed(e.to_string()))?;
        Self::from_wire(wire)
    }

    fn from_wire(w: Wire) -> Result<Self, EventError> {
        let invalid =
            |field: &'static str, reason: &str| EventError::Invalid { field, reason: reason.into() };
        let id_ok = |s: &str| !s.trim().is_empty() && s.len() <= 256 && !s.chars().any(char::is_control);
        if !id_ok(&w.call_id) {
            return Err(invalid("call_id", "must be 1-256 printable characters"));
        }
        if !id_ok(&w.seller_id) {
            return Err(invalid("seller_id", "must be 1-256 printable characters"));
        }
        let (layout, seller_channel) = match w.channels {
            None => (None, None),
            Some(WireChannels { layout: Layout::Mono, seller_channel: Some(_) }) => {
                return Err(invalid("channels.seller_channel", "a mono recording has no seller channel"));
            }
            Some(c) => (
                Some(c.layout),
                match c.layout {
                    Layout::Stereo => Some(c.seller_channel.unwrap_or_default()),
                    Layout::Mono => None,
                },
            ),
        };
        let language = w
            .language
            .as_deref()
            .map(Language::parse)
            .transpose()
            .map_err(|e| invalid("language", &e.to_string()))?;
        let mut started_at = w.started_at;
        let content = match (w.audio, w.transcript) {
            (Some(_), Some(_)) => return Err(invalid("audio", "give audio or transcript, not both")),
            (None, None) => return Err(invalid("audio", "the event has neither audio nor transcript")),
            (None, Some(raw)) => {
                let mut t = Transcript::from_json_slice(raw.get().as_bytes())?;
                t.call_id = Some(w.call_id.clone());
                t.seller_id = Some(w.seller_id.clone());
                t.started_at = w.started_at.or(t.started_at);
                // The event's language, when it names one, is the call's.
                t.language = language.or(t.language);
                started_at = t.started_at;
                Content::Transcript(Box::new(t))
            }
            (Some(a), None) => Content::Audio(audio_ref(a)?),
        };
        if started_at.is_none() {
            return Err(invalid("started_at", "is required (the day the call counts for)"));
        }
        let trackers = w.trackers.unwrap_or_default();
        for term in trackers.keywords.iter().chain(&trackers.competitors) {
            if term.trim().is_empty() || term.len() > 200 {
                return Err(invalid("trackers", "terms must be 1-200 characters"));
            }
        }
        Ok(CallEvent {
            meta: CallMeta {
                call_id: w.call_id,
                seller_id: w.seller_id,
                team: w.team,
                started_at,
                direction: w.direction,
                outcome: w.outcome,
                customer: w.customer,
                language,
            },
            crm_ids: w.crm_ids,
            layout,
            seller_channel,
            content,
            extra_keywords: trackers.keywords,
            extra_competitors: trackers.competitors,
        })
    }
}

fn audio_ref(a: WireAudio) -> Result<AudioRef, EventError> {
    let invalid = |field: &'static str, reason: String| EventError::Invalid { field, reason };
    match (a.inline_base64, a.uri) {
        (Some(_), Some(_)) => Err(invalid("audio", "give inline_base64 or uri, not both".into())),
        (None, None) => Err(invalid("audio", "needs inline_base64 or uri".into())),
        (Some(b64), None) => {
            if b64.len() / 4 * 3 > MAX_INLINE_AUDIO + 3 {
                return Err(invalid(
                    "audio.inline_base64",
                    format!("larger than {MAX_INLINE_AUDIO} bytes: send a uri instead"),
                ));
            }
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64.as_bytes())
                .map_err(|e| invalid("audio.inline_base64", format!("not base64: {e}")))?;
            if bytes.is_empty() {
                return Err(invalid("audio.inline_base64", "empty".into()));
            }
            Ok(AudioRef::Inline { bytes, format: a.format })
        }
        (None, Some(uri)) => {
            let uri = url::Url::parse(&uri).map_err(|e| invalid("audio.uri", format!("{uri:?}: {e}")))?;
            match uri.scheme() {
                "file" | "s3" | "http" | "https" => Ok(AudioRef::Uri { uri, format: a.format }),
                other => Err(invalid(
                    "audio.uri",
                    format!("scheme {other:?} is not supported (file, s3, http, https)"),
                )),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(extra: &str) -> String {
        format!(
            r#"{{"schema_version":1,"call_id":"c-1","seller_id":"s-1","started_at":"2026-11-02T10:00:00Z"{extra}}}"#
        )
    }

    #[test]
    fn transcript_event_parses_and_takes_ids_from_the_event() {
        let e = CallEvent::from_json_slice(
            event(r#","team":"emea","direction":"outbound","transcript":{"speakers":{"a":"seller"},"words":[{"text":"hi","start":0,"end":0.5,"speaker":"a"}]}"#)
                .as_bytes(),
        )
        .expect("valid");
        assert_eq!(e.meta.team.as_deref(), Some("emea"));
        let Content::Transcript(t) = e.content else { panic!("transcript") };
        assert_eq!(t.call_id.as_deref(), Some("c-1"));
        assert_eq!(t.words.len(), 1);
    }

    #[test]
    fn language_comes_from_the_event_before_the_transcript() {
        let e = CallEvent::from_json_slice(
            event(r#","language":"fi-FI","audio":{"uri":"s3://b/k.flac"}"#).as_bytes(),
        )
        .expect("valid");
        assert_eq!(e.meta.language, Some(Language::FINNISH));
        let words = r#""speakers":{"a":"seller"},"words":[{"text":"moi","start":0,"end":0.5,"speaker":"a"}]"#;
        let e = CallEvent::from_json_slice(
            event(&format!(r#","transcript":{{"language":"sv",{words}}}"#)).as_bytes(),
        )
        .expect("valid");
        let Content::Transcript(t) = e.content else { panic!("transcript") };
        assert_eq!(t.language.map(Language::code), Some("sv"), "the transcript's own");
        let e = CallEvent::from_json_slice(
            event(&format!(r#","language":"fi","transcript":{{"language":"sv",{words}}}"#)).as_bytes(),
        )
        .expect("valid");
        let Content::Transcript(t) = e.content else { panic!("transcript") };
        assert_eq!(t.language, Some(Language::FINNISH), "the event's wins");
        let err = CallEvent::from_json_slice(
            event(r#","language":"klingon","audio":{"uri":"s3://b/k"}"#).as_bytes(),
        )
        .unwrap_err();
        assert!(err.to_string().starts_with("invalid language: unknown language code \"klingon\""), "{err}");
        assert_eq!(err.class(), ErrorClass::dead_letter("invalid_event"));
    }

    #[test]
    fn audio_by_uri_and_inline() {
        let e = CallEvent::from_json_slice(
            event(
                r#","channels":{"layout":"stereo","seller_channel":"right"},"audio":{"uri":"s3://b/k.flac"}"#,
            )
            .as_bytes(),
        )
        .expect("valid");
        assert_eq!(e.seller_channel, Some(SellerChannel::Right));
        assert!(matches!(e.content, Content::Audio(AudioRef::Uri { .. })));
        let e = CallEvent::from_json_slice(
            event(r#","audio":{"inline_base64":"AAEC","format":"wav"}"#).as_bytes(),
        )
        .expect("valid");
        assert_eq!(
            e.content,
            Content::Audio(AudioRef::Inline { bytes: vec![0, 1, 2], format: Some("wav".into()) })
        );
    }

    #[test]
    fn shipped_sample_events_parse() {
        for sample in [
            include_str!("../../../samples/events/audio-uri.json"),
            include_str!("../../../samples/events/transcript.json"),
        ] {
            let e = CallEvent::from_json_slice(sample.as_bytes()).expect("sample event");
            assert_eq!(e.meta.seller_id, "s-daniel");
        }
    }

    #[test]
    fn bad_events_name_their_fault() {
        let cases = [
            ("not json", "malformed event"),
            (r#"{"call_id":"c"}"#, "missing field `schema_version`"),
            (r#"{"schema_version":7,"call_id":"c","seller_id":"s"}"#, "unknown schema_version 7"),
            (&event(""), "neither audio nor transcript"),
            (&event(r#","audio":{"uri":"ftp://x/y"}"#), "scheme \"ftp\""),
            (&event(r#","audio":{"inline_base64":"@@@"}"#), "not base64"),
            (&event(r#","audio":{"uri":"file:///a","inline_base64":"AA=="}"#), "not both"),
            (
                &event(
                    r#","channels":{"layout":"mono","seller_channel":"left"},"audio":{"uri":"file:///a"}"#,
                ),
                "mono",
            ),
            (
                &event(
                    r#","transcript":{"speakers":{},"words":[{"text":"x","start":0,"end":1,"speaker":"a"}]}"#,
                ),
                "not declared",
            ),
            (&event(r#","audio":{"uri":"file:///a"},"colour":1"#), "unknown field `colour`"),
            (
                r#"{"schema_version":1,"call_id":" ","seller_id":"s","audio":{"uri":"file:///a"}}"#,
                "invalid call_id",
            ),
            (
                r#"{"schema_version":1,"call_id":"c","seller_id":"s","audio":{"uri":"file:///a"}}"#,
                "started_at",
            ),
        ];
        for (input, want) in cases {
            let err = CallEvent::from_json_slice(input.as_bytes()).expect_err(input).to_string();
            assert!(err.contains(want), "{input}: {err}");
        }
    }
}
