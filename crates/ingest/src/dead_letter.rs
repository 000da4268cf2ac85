//! What a dead-lettered event carries: the original event with its personal
//! data redacted, the reason (redacted too), and notes on what was changed.
//!
//! A dead-letter topic is read by operators and kept for days; it must not be
//! the one place where a card number read out on a call survives. So, with
//! redaction on (the default), [`prepare`] rewrites the payload before it is
//! produced:
//!
//! - **Transcript words** (`transcript.words[].text`): each entity the
//!   worker's redactor finds becomes one placeholder word, as in the store:
//!   the entity's first word keeps its place and times (its `end` stretched to
//!   the last word's), its other words are removed. Words are read leniently
//!   (a word with a missing or bad time or speaker still counts), because an
//!   event is often dead-lettered for being invalid.
//! - **Metadata text** (`customer`, `outcome`, `team` and the values of
//!   `crm_ids`) is redacted as free text; `call_id` and `seller_id` are kept
//!   as they are (the store keeps them too, and an operator needs them).
//! - **Inline audio** (`audio.inline_base64`) is removed: a recording cannot
//!   be redacted here. The header `callscope.audio_dropped` says so; the
//!   original stays at `callscope.source` for as long as the input topic
//!   retains it. A recording by `audio.uri` is a location and is kept.
//! - **A payload that is not a JSON object** cannot be read, so it cannot be
//!   redacted: it is dropped (`callscope.payload_dropped`), like a payload too
//!   large for the topic.
//! - **The reason** (`callscope.error`, and the log line) is redacted as free
//!   text: a parse error may quote the value it choked on.
//!
//! `callscope.redacted` lists what was replaced, as `kind=count` pairs
//! (`card=1,id_code=1`), never the values. With redaction off
//! (`redaction.enabled = false`) the payload and reason go out unchanged.

use std::collections::BTreeMap;

use callscope_model::Word;
use callscope_redact::{EntityKind, Redactor};
use serde_json::Value;

/// A dead-letter record's redacted content.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    /// The payload to produce (possibly empty: dropped).
    pub payload: Vec<u8>,
    /// The failure's reason, redacted.
    pub reason: String,
    /// Extra headers saying what was changed: `callscope.redacted`,
    /// `callscope.audio_dropped`, `callscope.payload_dropped`.
    pub notes: Vec<(&'static str, String)>,
}

/// The dead-letter copy of `payload` failed for `reason`, with personal data
/// redacted by `redactor` (see the module docs). `None`: unchanged.
pub fn prepare(payload: &[u8], reason: &str, redactor: Option<&Redactor>) -> DeadLetter {
    let Some(redactor) = redactor.filter(|r| r.config().enabled) else {
        return DeadLetter { payload: payload.to_vec(), reason: reason.to_owned(), notes: Vec::new() };
    };
    let mut counts: BTreeMap<EntityKind, usize> = BTreeMap::new();
    let mut notes = Vec::new();
    let payload = match serde_json::from_slice::<Value>(payload) {
        Ok(Value::Object(mut event)) => {
            if let Some(words) =
                event.get_mut("transcript").and_then(|t| t.get_mut("words")).and_then(Value::as_array_mut)
            {
                redact_words(redactor, words, &mut counts);
            }
            for field in ["customer", "outcome", "team"] {
                if let Some(Value::String(s)) = event.get_mut(field) {
                    *s = redact_str(redactor, s, &mut counts);
                }
            }
            if let Some(Value::Object(ids)) = event.get_mut("crm_ids") {
                for value in ids.values_mut() {
                    if let Value::String(s) = value {
                        *s = redact_str(redactor, s, &mut counts);
                    }
                }
            }
            if let Some(Value::Object(audio)) = event.get_mut("audio")
                && audio.remove("inline_base64").is_some()
            {
                notes.push((
                    "callscope.audio_dropped",
                    "inline audio is not kept in the dead-letter topic (it cannot be redacted)".to_owned(),
                ));
            }
            if counts.is_empty() && notes.is_empty() {
                payload.to_vec() // nothing to change: the original bytes
            } else {
                serde_json::to_vec(&Value::Object(event)).unwrap_or_default()
            }
        }
        Ok(_) | Err(_) if payload.is_empty() => Vec::new(),
        Ok(_) | Err(_) => {
            notes.push(("callscope.payload_dropped", "not a JSON object (it cannot be redacted)".to_owned()));
            Vec::new()
        }
    };
    let reason = redact_str(redactor, reason, &mut counts);
    if !counts.is_empty() {
        let list: Vec<String> = counts.iter().map(|(k, n)| format!("{}={n}", k.as_str())).collect();
        notes.push(("callscope.redacted", list.join(",")));
    }
    DeadLetter { payload, reason, notes }
}

fn redact_str(redactor: &Redactor, text: &str, counts: &mut BTreeMap<EntityKind, usize>) -> String {
    let (out, report) = redactor.redact_text(text);
    for (kind, n) in report.counts() {
        *counts.entry(kind).or_insert(0) += n;
    }
    out
}

/// Redacts the words of a transcript as JSON, in place, reading each word
/// leniently.
fn redact_words(redactor: &Redactor, words: &mut Vec<Value>, counts: &mut BTreeMap<EntityKind, usize>) {
    let lenient: Vec<Word> = words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let num = |key: &str| w.get(key).and_then(Value::as_f64).filter(|x| x.is_finite());
            let start = num("start").unwrap_or(i as f64);
            Word {
                text: match w.get("text") {
                    Some(Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                    None => String::new(),
                },
                start,
                end: num("end").unwrap_or(start),
                speaker: w.get("speaker").and_then(Value::as_str).unwrap_or_default().to_owned(),
                confidence: None,
            }
        })
        .collect();
    let found = redactor.find(&lenient);
    if found.is_empty() {
        return;
    }
    let mut drop = vec![false; words.len()];
    for f in found {
        *counts.entry(f.kind).or_insert(0) += 1;
        let Some(&first) = f.words.iter().min() else { continue };
        let last = f.words.iter().copied().max_by(|&a, &b| lenient[a].end.total_cmp(&lenient[b].end));
        let tail: String = last
            .map(|l| lenient[l].text.trim_end())
            .and_then(|t| t.chars().last())
            .filter(|c| matches!(c, '.' | ',' | '?' | '!'))
            .map(String::from)
            .unwrap_or_default();
        let end = last.and_then(|l| words[l].get("end").cloned());
        for &i in &f.words {
            drop[i] = i != first;
        }
        if let Value::Object(w) = &mut words[first] {
            w.insert("text".into(), Value::String(format!("{}{tail}", f.kind.placeholder())));
            if let Some(end) = end {
                w.insert("end".into(), end);
            }
            w.remove("confidence");
        } else {
            words[first] = Value::String(f.kind.placeholder().to_owned());
        }
    }
    let mut i = 0;
    words.retain(|_| {
        i += 1;
        !drop[i - 1]
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    const RAW: [&str; 6] = ["4111", "1111", "131052", "308T", "40 123", "SGVsbG8"];

    fn event() -> Value {
        let words: Vec<Value> = ["my", "card", "is", "4111", "1111", "1111", "1111.", "hetu", "131052-308T", "ok"]
            .iter()
            .enumerate()
            .map(|(i, w)| serde_json::json!({"text": w, "start": i as f64, "end": i as f64 + 0.5, "speaker": "b", "confidence": 0.9}))
            .collect();
        serde_json::json!({
            "schema_version": 1, "call_id": "c-pii", "seller_id": "s-1", "started_at": "2026-11-02T10:00:00Z",
            "customer": "call me on +358 40 123 4567", "crm_ids": {"account": "4111 1111 1111 1111", "deal": "D-17"},
            "transcript": {"speakers": {"a": "seller", "b": "customer"}, "words": words},
        })
    }

    fn text(d: &DeadLetter) -> String {
        let notes: Vec<String> = d.notes.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        format!("{}\n{}\n{}", String::from_utf8_lossy(&d.payload), d.reason, notes.join("\n"))
    }

    #[test]
    fn transcript_words_metadata_and_reason_are_redacted_ids_kept() {
        let d = prepare(
            event().to_string().as_bytes(),
            "invalid transcript: words[8].start: \"131052-308T\" is not a number",
            Some(&Redactor::default()),
        );
        let all = text(&d);
        for raw in RAW {
            assert!(!all.contains(raw), "{raw} left in the dead letter: {all}");
        }
        let out: Value = serde_json::from_slice(&d.payload).expect("still JSON");
        assert_eq!(out["call_id"], "c-pii");
        assert_eq!(out["seller_id"], "s-1");
        assert_eq!(out["crm_ids"]["deal"], "D-17", "an id that is no personal data stays");
        assert_eq!(out["crm_ids"]["account"], "[card]");
        assert_eq!(out["customer"], "call me on [phone]");
        let words: Vec<&str> = out["transcript"]["words"]
            .as_array()
            .expect("words")
            .iter()
            .map(|w| w["text"].as_str().expect("text"))
            .collect();
        assert_eq!(words, ["my", "card", "is", "[card].", "hetu", "[id_code]", "ok"]);
        let card = &out["transcript"]["words"][3];
        assert_eq!(
            (card["start"].as_f64(), card["end"].as_f64()),
            (Some(3.0), Some(6.5)),
            "the entity's span"
        );
        assert!(card.get("confidence").is_none());
        assert_eq!(d.reason, "invalid transcript: words[8].start: [id_code] is not a number");
        let redacted = d.notes.iter().find(|(k, _)| *k == "callscope.redacted").expect("a note").1.clone();
        assert_eq!(redacted, "card=2,phone=1,id_code=2");
    }

    #[test]
    fn an_event_without_personal_data_travels_byte_for_byte() {
        let raw =
            br#"{"schema_version":1,"seller_id":"s","call_id":"c","transcript":{"words":[{"text":"hi"}]}}"#;
        let d = prepare(raw, "invalid", Some(&Redactor::default()));
        assert_eq!((d.payload.as_slice(), d.notes.len()), (raw.as_slice(), 0));
    }

    #[test]
    fn words_with_bad_times_are_still_read() {
        let mut e = event();
        e["transcript"]["words"][4]["start"] = Value::String("soon".into());
        e["transcript"]["words"][5].as_object_mut().expect("word").remove("end");
        let d = prepare(e.to_string().as_bytes(), "invalid", Some(&Redactor::default()));
        assert!(!text(&d).contains("1111"), "{}", text(&d));
    }

    #[test]
    fn inline_audio_and_unreadable_payloads_are_dropped_with_a_note() {
        let e = serde_json::json!({"schema_version": 1, "call_id": "c", "seller_id": "s",
            "audio": {"inline_base64": "SGVsbG8=", "format": "wav"}});
        let d = prepare(e.to_string().as_bytes(), "corrupt audio", Some(&Redactor::default()));
        let out: Value = serde_json::from_slice(&d.payload).expect("JSON");
        assert_eq!(out["audio"], serde_json::json!({"format": "wav"}));
        assert!(d.notes.iter().any(|(k, _)| *k == "callscope.audio_dropped"));
        let d = prepare(
            b"{\"call_id\": \"c\", \"text\": \"4111 1111 1111 1111",
            "malformed",
            Some(&Redactor::default()),
        );
        assert!(d.payload.is_empty());
        assert!(d.notes.iter().any(|(k, _)| *k == "callscope.payload_dropped"));
    }

    #[test]
    fn without_redaction_the_event_goes_out_unchanged() {
        let raw = event().to_string();
        let d = prepare(raw.as_bytes(), "x 4111 1111 1111 1111", None);
        assert_eq!(
            (d.payload, d.reason.as_str(), d.notes.len()),
            (raw.into_bytes(), "x 4111 1111 1111 1111", 0)
        );
    }
}
