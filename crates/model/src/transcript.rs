//! The transcript contract: words with times and speakers, speakers with roles.
//!
//! ```json
//! {"call_id": "c-42", "seller_id": "s-ana", "started_at": "2026-11-02T14:00:00Z", "duration_s": 612.4,
//!  "speakers": {"spk_0": "seller", "spk_1": "customer"},
//!  "words": [{"text": "Hello", "start": 0.52, "end": 0.81, "speaker": "spk_0"}]}
//! ```
//!
//! Only `speakers` and `words` are required. Times are seconds from the start of
//! the recording. The JSON Schema is `schemas/transcript.schema.json`.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Language;

/// Which side of the conversation a speaker is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The seller (our user), whose KPIs the page shows.
    Seller,
    /// The customer or prospect.
    Customer,
    /// Anyone else: an IVR, a colleague, an unattributed voice.
    Other,
}

impl Role {
    /// The lowercase name used in JSON and in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Seller => "seller",
            Role::Customer => "customer",
            Role::Other => "other",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One spoken word: the one word type of callscope, from transcription
/// (speaker still empty) through attribution (speaker set) to storage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Word {
    /// The word as written, punctuation included (`"today?"`).
    pub text: String,
    /// Start, seconds from the start of the recording.
    pub start: f64,
    /// End, seconds from the start of the recording; never before `start`.
    pub end: f64,
    /// A key of [`Transcript::speakers`]; empty until the word is attributed.
    pub speaker: String,
    /// How sure the recogniser was of the word (mean token probability, 0 to
    /// 1), when it said. Not part of the required contract.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f32>,
}

impl Word {
    /// A word as transcription gives it: times and confidence, no speaker yet.
    pub fn unattributed(text: impl Into<String>, start: f64, end: f64, confidence: Option<f32>) -> Self {
        Word { text: text.into(), start, end, speaker: String::new(), confidence }
    }

    /// The same word, said by `speaker`.
    pub fn said_by(&self, speaker: &str) -> Word {
        Word { speaker: speaker.to_owned(), ..self.clone() }
    }
}

/// A call's words, each attributed to a speaker whose role is known.
///
/// Construct from untrusted input with [`Transcript::from_json_slice`], which
/// validates; a value built in code can be checked with [`Transcript::validate`].
/// Unknown fields are ignored, so producers may add their own (for example a
/// per-word `confidence`) without breaking older readers.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Transcript {
    /// Stable identifier of the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_id: Option<String>,
    /// The seller who owns the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seller_id: Option<String>,
    /// When the call started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    /// Length of the recording in seconds; used as the call duration when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_s: Option<f64>,
    /// The language spoken (`en`, `fi`): given by the producer, or detected
    /// by the recogniser. Signals (tracker matching, questions, action items,
    /// sentiment) follow it; absent means English.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<Language>,
    /// How sure language detection was (0 to 1); absent when the language was
    /// given rather than detected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language_probability: Option<f32>,
    /// Speaker label → role. Labels are free-form (`spk_0`, `agent`, `A`).
    pub speakers: BTreeMap<String, Role>,
    /// The words, in any order (consumers sort by `(start, end)`).
    pub words: Vec<Word>,
}

/// Why a transcript was rejected. Each variant names the field or word at fault.
#[derive(Debug, thiserror::Error)]
pub enum TranscriptError {
    /// Not JSON, or JSON of the wrong shape (missing field, wrong type, unknown role).
    #[error("{path}: {message} (line {line}, column {column})")]
    Parse {
        /// The JSON path of the offending value (`words[3].start`), or `.` for the document.
        path: String,
        /// 1-based line of the error in the input.
        line: usize,
        /// 1-based column of the error in the input.
        column: usize,
        /// serde's description of what was wrong.
        message: String,
    },
    /// A word names a speaker that `speakers` does not declare.
    #[error("words[{index}].speaker: speaker {speaker:?} is not declared in `speakers`")]
    UnknownSpeaker {
        /// Index of the word in the input array.
        index: usize,
        /// The undeclared label.
        speaker: String,
    },
    /// A word's time is NaN or infinite.
    #[error("words[{index}].{field}: time must be a finite number, got {value}")]
    NonFiniteTime {
        /// Index of the word in the input array.
        index: usize,
        /// `start` or `end`.
        field: &'static str,
        /// The offending value.
        value: f64,
    },
    /// A word's time is below zero.
    #[error("words[{index}].{field}: time must not be negative, got {value}")]
    NegativeTime {
        /// Index of the word in the input array.
        index: usize,
        /// `start` or `end`.
        field: &'static str,
        /// The offending value.
        value: f64,
    },
    /// A word ends before it starts.
    #[error("words[{index}].end: end ({end}) is before start ({start})")]
    EndBeforeStart {
        /// Index of the word in the input array.
        index: usize,
        /// The word's start.
        start: f64,
        /// The word's end.
        end: f64,
    },
    /// `duration_s` is negative, NaN or infinite.
    #[error("duration_s: must be a finite, non-negative number of seconds, got {0}")]
    InvalidDuration(f64),
}

impl Transcript {
    /// Parses and validates a transcript from JSON bytes.
    ///
    /// The common, valid case takes serde_json's fast path; only when that fails
    /// is the input parsed again with path tracking, so the error can name the
    /// offending field (`words[3].start`) without slowing down every good file.
    pub fn from_json_slice(bytes: &[u8]) -> Result<Self, TranscriptError> {
        let transcript: Transcript = match serde_json::from_slice(bytes) {
            Ok(t) => t,
            Err(fast_err) => return Err(Self::locate_parse_error(bytes, fast_err)),
        };
        transcript.validate()?;
        Ok(transcript)
    }

    /// Re-parses input that failed to parse, tracking the JSON path of the error.
    fn locate_parse_error(bytes: &[u8], fast_err: serde_json::Error) -> TranscriptError {
        let parse_error = |path: String, inner: serde_json::Error| TranscriptError::Parse {
            path,
            line: inner.line(),
            column: inner.column(),
            message: strip_position(&inner.to_string()),
        };
        let mut de = serde_json::Deserializer::from_slice(bytes);
        match serde_path_to_error::deserialize::<_, Transcript>(&mut de) {
            Err(err) => {
                let path = err.path().to_string();
                parse_error(path, err.into_inner())
            }
            // The document parsed, so what failed is what follows it.
            Ok(_) => match de.end() {
                Err(inner) => parse_error(".".to_owned(), inner),
                Ok(()) => parse_error(".".to_owned(), fast_err),
            },
        }
    }

    /// Checks the invariants the rest of callscope relies on: every word's speaker
    /// is declared; times are finite and non-negative; no word ends before it
    /// starts; `duration_s`, when present, is finite and non-negative.
    ///
    /// Reports the first violation, in input order.
    pub fn validate(&self) -> Result<(), TranscriptError> {
        if let Some(d) = self.duration_s
            && !(d.is_finite() && d >= 0.0)
        {
            return Err(TranscriptError::InvalidDuration(d));
        }
        // Runs of words share a speaker: look a label up once per run.
        let mut declared: Option<&str> = None;
        for (index, word) in self.words.iter().enumerate() {
            for (field, value) in [("start", word.start), ("end", word.end)] {
                if !value.is_finite() {
                    return Err(TranscriptError::NonFiniteTime { index, field, value });
                }
                if value < 0.0 {
                    return Err(TranscriptError::NegativeTime { index, field, value });
                }
            }
            if word.end < word.start {
                return Err(TranscriptError::EndBeforeStart { index, start: word.start, end: word.end });
            }
            if declared != Some(word.speaker.as_str()) {
                if !self.speakers.contains_key(&word.speaker) {
                    return Err(TranscriptError::UnknownSpeaker { index, speaker: word.speaker.clone() });
                }
                declared = Some(word.speaker.as_str());
            }
        }
        Ok(())
    }

    /// The role of a declared speaker label.
    pub fn role_of(&self, speaker: &str) -> Option<Role> {
        self.speakers.get(speaker).copied()
    }
}

/// serde_json appends " at line L column C" to its messages; we report the
/// position in its own fields, so drop the suffix to avoid saying it twice.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Transcript, TranscriptError> {
        Transcript::from_json_slice(json.as_bytes())
    }

    #[test]
    fn minimal_transcript_parses() {
        let t = parse(r#"{"speakers": {}, "words": []}"#).expect("valid");
        assert!(t.words.is_empty());
        assert_eq!(t.call_id, None);
    }

    #[test]
    fn full_contract_example_parses() {
        let t = parse(
            r#"{"call_id": "c-42", "seller_id": "s-ana", "started_at": "2026-11-02T16:00:00+02:00", "duration_s": 612.4,
               "speakers": {"spk_0": "seller", "spk_1": "customer"},
               "words": [{"text": "Hello", "start": 0.52, "end": 0.81, "speaker": "spk_0"}]}"#,
        )
        .expect("valid");
        assert_eq!(t.role_of("spk_0"), Some(Role::Seller));
        assert_eq!(t.started_at.map(|d| d.to_rfc3339()), Some("2026-11-02T14:00:00+00:00".to_owned()));
    }

    #[test]
    fn language_is_read_and_checked() {
        let t = parse(r#"{"language": "fi-FI", "speakers": {}, "words": []}"#).expect("valid");
        assert_eq!(t.language, Some(Language::FINNISH));
        assert_eq!(serde_json::to_value(&t).expect("serializes")["language"], "fi");
        let err = parse(r#"{"language": "suomi", "speakers": {}, "words": []}"#).unwrap_err();
        assert!(err.to_string().starts_with("language: unknown language code \"suomi\""), "{err}");
    }

    #[test]
    fn unknown_role_names_the_speaker() {
        let err = parse(r#"{"speakers": {"a": "agent"}, "words": []}"#).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("speakers.a: unknown variant `agent`"), "{msg}");
    }

    #[test]
    fn missing_required_field_is_named() {
        let err = parse(r#"{"speakers": {}}"#).unwrap_err();
        assert!(err.to_string().contains("missing field `words`"), "{err}");
    }

    #[test]
    fn wrong_type_names_the_word_index() {
        let err = parse(
            r#"{"speakers": {"a": "seller"}, "words": [
                {"text": "x", "start": 0, "end": 1, "speaker": "a"},
                {"text": "y", "start": "soon", "end": 1, "speaker": "a"}]}"#,
        )
        .unwrap_err();
        assert!(err.to_string().starts_with("words[1].start: invalid type"), "{err}");
    }

    #[test]
    fn undeclared_speaker_is_rejected() {
        let err = parse(
            r#"{"speakers": {"a": "seller"}, "words": [{"text": "x", "start": 0, "end": 1, "speaker": "b"}]}"#,
        )
        .unwrap_err();
        assert_eq!(err.to_string(), r#"words[0].speaker: speaker "b" is not declared in `speakers`"#);
    }

    #[test]
    fn end_before_start_is_rejected() {
        let err = parse(
            r#"{"speakers": {"a": "seller"}, "words": [{"text": "x", "start": 2, "end": 1, "speaker": "a"}]}"#,
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "words[0].end: end (1) is before start (2)");
    }

    #[test]
    fn negative_time_is_rejected() {
        let err = parse(
            r#"{"speakers": {"a": "seller"}, "words": [{"text": "x", "start": -0.5, "end": 1, "speaker": "a"}]}"#,
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "words[0].start: time must not be negative, got -0.5");
    }

    #[test]
    fn non_finite_time_is_rejected_in_code_built_transcripts() {
        let mut t = Transcript::default();
        t.speakers.insert("a".into(), Role::Seller);
        t.words.push(Word {
            text: "x".into(),
            start: 0.0,
            end: f64::NAN,
            speaker: "a".into(),
            confidence: None,
        });
        let err = t.validate().unwrap_err();
        assert!(matches!(err, TranscriptError::NonFiniteTime { index: 0, field: "end", .. }));
    }

    #[test]
    fn trailing_garbage_is_rejected() {
        let err = parse(r#"{"speakers": {}, "words": []} x"#).unwrap_err();
        assert!(err.to_string().contains("trailing characters"), "{err}");
    }

    #[test]
    fn negative_duration_is_rejected() {
        let err = parse(r#"{"duration_s": -1, "speakers": {}, "words": []}"#).unwrap_err();
        assert!(matches!(err, TranscriptError::InvalidDuration(_)));
    }
}
