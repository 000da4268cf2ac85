//! The rules of each language the signals know: which stop words, which
//! question forms, which commitments. English and Finnish have their own
//! rules; any other language gets what holds everywhere (a `?` ends a
//! question) and nothing that would be a guess (no action items, no
//! sentiment: see [`crate::SentimentModel::supports`]).

use std::collections::HashSet;
use std::sync::LazyLock;

use callscope_model::{Language, Transcript};

use crate::{actions, finnish, questions, text};

/// The rule set a transcript's words are read with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    /// English (also a transcript that names no language).
    English,
    /// Finnish.
    Finnish,
    /// Any other language.
    Other,
}

static FINNISH_STOP_WORDS: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| finnish::STOP_WORDS.iter().copied().collect());

impl Lang {
    /// The rules for a transcript's language.
    pub(crate) fn of(transcript: &Transcript) -> Lang {
        match transcript.language {
            None => Lang::English,
            Some(l) if l == Language::ENGLISH => Lang::English,
            Some(l) if l == Language::FINNISH => Lang::Finnish,
            Some(_) => Lang::Other,
        }
    }

    /// Whether a lowercase token is a stop word.
    pub(crate) fn is_stop_word(self, token: &str) -> bool {
        match self {
            Lang::English => text::is_stop_word(token),
            // English fillers ("okay", "yeah") turn up in Finnish calls too.
            Lang::Finnish => FINNISH_STOP_WORDS.contains(token) || text::is_stop_word(token),
            Lang::Other => false,
        }
    }

    /// Whether a sentence (its last written word and lowercase tokens) is a question.
    pub(crate) fn is_question(self, last_written: Option<&str>, tokens: &[&str]) -> bool {
        match self {
            Lang::English => questions::is_question(last_written, tokens),
            Lang::Finnish => finnish::is_question(last_written, tokens),
            Lang::Other => last_written.is_some_and(text::asks),
        }
    }

    /// Whether a clause is a commitment; `conditional`: its sentence began
    /// with "if" in a language that cuts the clause there.
    pub(crate) fn is_action_item(self, tokens: &[&str], in_question: bool, conditional: bool) -> bool {
        match self {
            Lang::English => actions::is_action_item(tokens, in_question),
            Lang::Finnish => finnish::is_action_item(tokens, in_question || conditional),
            Lang::Other => false,
        }
    }

    /// Whether a sentence starts with a conditional ("jos"), which makes
    /// none of its clauses a commitment.
    pub(crate) fn is_conditional(self, tokens: &[&str]) -> bool {
        self == Lang::Finnish && tokens.first().is_some_and(|t| finnish::CONDITIONALS.contains(t))
    }

    /// Whether a clause should be cut before this token ("and" + a new step).
    pub(crate) fn starts_new_clause(self, token: &str, next: Option<&str>) -> bool {
        self == Lang::English && actions::starts_new_clause(token, next)
    }

    /// Whether a clause continues the commitment of the clause before it.
    pub(crate) fn continues_commitment(self, tokens: &[&str]) -> bool {
        self == Lang::English && actions::continues_commitment(tokens)
    }
}

#[cfg(test)]
mod tests {
    use callscope_model::{Role, Word};

    use super::*;
    use crate::{SignalExtractor, SignalSettings, TrackerMatcher, Trackers};

    fn call(language: Option<Language>, lines: &[(&str, &str)]) -> Transcript {
        let mut t = Transcript { language, ..Transcript::default() };
        t.speakers.insert("S".into(), Role::Seller);
        t.speakers.insert("C".into(), Role::Customer);
        let mut clock = 0.0;
        for (speaker, text) in lines {
            for word in text.split_whitespace() {
                t.words.push(Word::unattributed(word, clock, clock + 0.3, None).said_by(speaker));
                clock += 0.4;
            }
            clock += 1.0;
        }
        t
    }

    fn extractor() -> SignalExtractor {
        SignalExtractor::new(TrackerMatcher::new(&Trackers::default()).0, SignalSettings::default())
    }

    #[test]
    fn a_finnish_call_has_finnish_questions_and_action_items_and_no_sentiment() {
        let t = call(
            Some(Language::FINNISH),
            &[
                ("S", "Onko teillä jo budjetti tälle vuodelle"),
                ("C", "On, mutta hinta on meille liian korkea. Toimitusaika on myös ongelma."),
                ("S", "Selvä. Lähetän teille uuden tarjouksen huomenna. Jos sopii, sovitaan demo."),
                ("C", "Hyvä, toimitusaika kiinnostaa eniten."),
            ],
        );
        let s = extractor().extract(&t);
        let questions: Vec<&str> = s.questions.iter().map(|q| q.text.as_str()).collect();
        assert_eq!(questions, ["Onko teillä jo budjetti tälle vuodelle"]);
        let items: Vec<&str> = s.action_items.iter().map(|a| a.text.as_str()).collect();
        assert_eq!(items, ["Lähetän teille uuden tarjouksen huomenna."], "a conditional is no commitment");
        assert_eq!(s.sentiment.customer, None, "the lexicon does not read Finnish");
        assert!(s.sentiment.timeline.is_empty());
        let keywords: Vec<&str> = s.customer_keywords.iter().map(|k| k.phrase.as_str()).collect();
        assert!(keywords.contains(&"toimitusaika"), "{keywords:?}");
        assert!(!keywords.iter().any(|k| ["mutta", "meille", "myös", "liian"].contains(k)), "{keywords:?}");
        assert_eq!(extractor().sentiment_model_for(Some(Language::FINNISH)), "none");
        assert_eq!(extractor().sentiment_model_for(None), "vader-sales-v1");
    }

    #[test]
    fn another_language_gets_question_marks_only() {
        let t = call(
            Some(Language::parse("sv").expect("known")),
            &[("S", "Har ni en budget? Jag skickar offerten.")],
        );
        let s = extractor().extract(&t);
        assert_eq!(s.questions.len(), 1);
        assert!(s.action_items.is_empty());
        assert_eq!(s.sentiment.customer, None);
    }

    #[test]
    fn english_is_the_default() {
        let t = call(None, &[("S", "Can you send it over"), ("C", "Great, I'll send the contract today.")]);
        let s = extractor().extract(&t);
        assert_eq!(s.questions.len(), 1);
        assert_eq!(s.action_items.len(), 1);
        assert!(s.sentiment.customer.is_some());
    }
}
