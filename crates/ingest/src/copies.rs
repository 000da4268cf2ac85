//! Redacted audio copies (`[ingest.audio_copies]`): when the operator keeps
//! audio, the worker writes, after the analysis and before the store write, a
//! copy of the decoded recording (16 kHz WAV, channels as decoded) in which
//! every redacted span is silenced or beeped, and the stored call's
//! `audio_uri` points to the copy (`file://`), so playback serves the copy,
//! never the original.
//!
//! The spans are the placeholders' (`[card]`, `[id_code]`, …) start and end
//! times, widened by a margin, on every channel. The copy's name is the call
//! id (bytes other than `A-Z a-z 0-9 _ -` written as `~XX`), so processing a
//! call again replaces its copy, and it is written atomically (a temporary
//! file renamed into place). Erasure and retention delete it like any local
//! recording under `app.audio_root`, which is why the folder should be (or
//! be under) that root.

use std::path::{Path, PathBuf};

use callscope_audio::AudioStream;
use callscope_audio::mask::{MaskMode, MaskedCopy, write_masked_wav};
use callscope_model::Transcript;
use callscope_redact::EntityKind;

/// Where and how redacted copies are kept.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioCopies {
    /// The folder of the copies (created if missing; absolute once resolved
    /// by [`AudioCopies::new`], so the stored `file://` URI is absolute).
    pub dir: PathBuf,
    /// Silence or beep.
    pub mode: MaskMode,
    /// Seconds added before and after each redacted span: word times are
    /// whisper's estimates, a little early or late.
    pub margin_s: f64,
}

impl AudioCopies {
    /// Creates the folder if needed and resolves it to an absolute path.
    pub fn new(dir: &Path, mode: MaskMode, margin_s: f64) -> std::io::Result<AudioCopies> {
        std::fs::create_dir_all(dir)?;
        let dir = std::fs::canonicalize(dir)?;
        Ok(AudioCopies { dir, mode, margin_s: margin_s.max(0.0) })
    }

    /// The copy's path for a call: the same for every run of the call.
    pub fn path_for(&self, call_id: &str) -> PathBuf {
        self.dir.join(format!("{}.wav", file_stem(call_id)))
    }

    /// Writes the copy of `stream` for `call_id` with the redacted spans of
    /// `transcript` masked; returns its `file://` URI and what was written.
    pub fn write(
        &self,
        call_id: &str,
        stream: AudioStream,
        transcript: &Transcript,
    ) -> Result<(String, MaskedCopy), callscope_audio::AudioError> {
        let path = self.path_for(call_id);
        let spans = redacted_spans(transcript, self.margin_s);
        let copy = write_masked_wav(stream, &spans, self.mode, &path)?;
        Ok((format!("file://{}", path.display()), copy))
    }
}

/// The time spans (seconds) of the transcript's placeholders, widened by
/// `margin_s` on each side.
pub fn redacted_spans(transcript: &Transcript, margin_s: f64) -> Vec<(f64, f64)> {
    transcript
        .words
        .iter()
        .filter(|w| EntityKind::from_placeholder(&w.text).is_some())
        .map(|w| ((w.start - margin_s).max(0.0), w.end + margin_s))
        .collect()
}

/// A call id as a file name: `A-Z a-z 0-9 _ -` kept, every other byte `~XX`
/// (so two ids never share a name, and none can climb out of the folder).
fn file_stem(call_id: &str) -> String {
    let mut out = String::with_capacity(call_id.len());
    for b in call_id.bytes() {
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("~{b:02X}"));
        }
    }
    if out.is_empty() { "~".to_owned() } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;
    use callscope_model::Word;

    #[test]
    fn names_are_stable_distinct_and_stay_in_the_folder() {
        let c = AudioCopies { dir: "/copies".into(), mode: MaskMode::Silence, margin_s: 0.1 };
        assert_eq!(c.path_for("c-42"), Path::new("/copies/c-42.wav"));
        assert_eq!(c.path_for("../etc/passwd"), Path::new("/copies/~2E~2E~2Fetc~2Fpasswd.wav"));
        assert_ne!(c.path_for("a.b"), c.path_for("a~2Eb"));
        assert_eq!(c.path_for("c-42"), c.path_for("c-42"));
    }

    #[test]
    fn spans_are_the_placeholders_widened() {
        let mut t = Transcript::default();
        for (text, s, e) in
            [("my", 0.0, 0.2), ("card", 0.3, 0.6), ("[card].", 1.0, 4.0), ("[phone]", 5.0, 6.0)]
        {
            t.words.push(Word::unattributed(text, s, e, None));
        }
        assert_eq!(redacted_spans(&t, 0.1), [(0.9, 4.1), (4.9, 6.1)]);
    }
}
