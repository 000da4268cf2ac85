//! The language of a call: a code whisper knows, checked where it enters.
//!
//! A call's language comes from its event (`language`), its transcript file
//! (`language`), the command line, or detection from the first speech. All of
//! them meet here: [`Language::parse`] accepts the two- or three-letter code
//! whisper uses (`en`, `fi`, `haw`) in any case, and a BCP 47 tag whose
//! primary subtag is one (`fi-FI`, `en_US`), and turns anything else into a
//! [`LanguageError`] that says what to write instead. Inside, a language is
//! its lowercase code.

use std::fmt;

/// The languages whisper transcribes, by the codes its tokenizer uses.
pub const WHISPER_LANGUAGES: &[&str] = &[
    "en", "zh", "de", "es", "ru", "ko", "fr", "ja", "pt", "tr", "pl", "ca", "nl", "ar", "sv", "it", "id",
    "hi", "fi", "vi", "he", "uk", "el", "ms", "cs", "ro", "da", "hu", "ta", "no", "th", "ur", "hr", "bg",
    "lt", "la", "mi", "ml", "cy", "sk", "te", "fa", "lv", "bn", "sr", "az", "sl", "kn", "et", "mk", "br",
    "eu", "is", "hy", "ne", "mn", "bs", "kk", "sq", "sw", "gl", "mr", "pa", "si", "km", "sn", "yo", "so",
    "af", "oc", "ka", "be", "tg", "sd", "gu", "am", "yi", "lo", "uz", "fo", "ht", "ps", "tk", "nn", "mt",
    "sa", "lb", "my", "bo", "tl", "mg", "as", "tt", "haw", "ln", "ha", "ba", "jw", "su", "yue",
];

/// A language code whisper knows, lowercase (`en`, `fi`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Language(&'static str);

/// A language code that is not one whisper knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown language code {0:?}: use an ISO 639-1 code whisper knows, such as en, fi, sv or de")]
pub struct LanguageError(pub String);

impl Language {
    /// English.
    pub const ENGLISH: Language = Language("en");
    /// Finnish.
    pub const FINNISH: Language = Language("fi");

    /// Reads a code (`fi`, `FI`) or a BCP 47 tag (`fi-FI`, `en_US`).
    pub fn parse(code: &str) -> Result<Language, LanguageError> {
        let primary = code.trim().split(['-', '_']).next().unwrap_or_default().to_ascii_lowercase();
        WHISPER_LANGUAGES
            .iter()
            .find(|known| **known == primary)
            .map(|known| Language(known))
            .ok_or_else(|| LanguageError(code.to_owned()))
    }

    /// The lowercase code.
    pub fn code(self) -> &'static str {
        self.0
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::str::FromStr for Language {
    type Err = LanguageError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Language::parse(s)
    }
}

impl serde::Serialize for Language {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Language {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Language::parse(&code).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_tags_are_read() {
        assert_eq!(Language::parse("fi"), Ok(Language::FINNISH));
        assert_eq!(Language::parse(" FI "), Ok(Language::FINNISH));
        assert_eq!(Language::parse("fi-FI"), Ok(Language::FINNISH));
        assert_eq!(Language::parse("en_US"), Ok(Language::ENGLISH));
        assert_eq!(Language::parse("haw").map(Language::code), Ok("haw"));
    }

    #[test]
    fn unknown_codes_are_named() {
        let err = Language::parse("xx").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown language code \"xx\": use an ISO 639-1 code whisper knows, such as en, fi, sv or de"
        );
        assert!(Language::parse("").is_err());
        assert!(Language::parse("finnish").is_err());
    }

    #[test]
    fn json_round_trip_and_errors() {
        let l: Language = serde_json::from_str("\"sv-SE\"").expect("known");
        assert_eq!(serde_json::to_string(&l).expect("serializes"), "\"sv\"");
        let err = serde_json::from_str::<Language>("\"klingon\"").unwrap_err();
        assert!(err.to_string().contains("unknown language code \"klingon\""), "{err}");
    }

    #[test]
    fn the_list_has_no_duplicates() {
        let mut codes = WHISPER_LANGUAGES.to_vec();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), WHISPER_LANGUAGES.len());
    }
}
