//! Tracked keywords and competitors: the TOML configuration and the matcher.
//!
//! ```toml
//! [[competitor]]
//! name = "Salesforce"
//! aliases = ["SFDC", "Sales force"]
//! categories = ["crm"]          # optional
//! said_by = "customer"          # optional: anyone (default), seller, customer
//!
//! [[keyword]]
//! name = "discount"
//! ```
//!
//! # How matching works
//! Every name and alias is turned into a *key*: its words, each lowercased,
//! stripped of punctuation and lightly stemmed ([`crate::text::stem`]), then
//! concatenated without spaces. Each speaker's words become one string of their
//! keys, in time order, with the offsets where each word starts and ends.
//! One Aho-Corasick automaton finds every alias key in that string at once; a
//! hit counts only if it starts where a word starts and ends where a word ends.
//! So "Hub Spot", "HubSpot" and "hubspot" meet, "discounts" meets "discount",
//! multi-word aliases match across words, and "ADP" never matches inside
//! "adapt" nor "Zoho" inside "zohoish". Overlapping hits are resolved leftmost,
//! then longest. A phrase never spans two speakers.
//!
//! # Collisions
//! When two terms share an alias key (after normalization), the term defined
//! first in the file keeps it and a warning names both; the later alias is
//! ignored. An empty list, or a name whose key is empty, is a warning too.

use std::collections::HashMap;
use std::fmt;

use aho_corasick::{AhoCorasick, MatchKind};
use callscope_kpi::TimedWord;
use callscope_model::{Mention, Role, TrackerKind, Transcript};
use serde::Deserialize;

use crate::finnish::Vocabulary;
use crate::lang::Lang;
use crate::text::{stem, word_key};

/// Who must have said a term for it to count (Gong's "said by").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SaidBy {
    /// Either party (the default).
    #[default]
    Anyone,
    /// Only the seller.
    Seller,
    /// Only the customer.
    Customer,
}

impl SaidBy {
    /// Whether a mention by `role` passes this filter.
    pub fn admits(self, role: Role) -> bool {
        match self {
            SaidBy::Anyone => true,
            SaidBy::Seller => role == Role::Seller,
            SaidBy::Customer => role == Role::Customer,
        }
    }
}

/// One tracked term.
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    /// The canonical name, reported in every mention.
    pub name: String,
    /// Competitor or keyword.
    pub kind: TrackerKind,
    /// Other spellings that count as this term.
    pub aliases: Vec<String>,
    /// Free-form categories, reported with each mention.
    pub categories: Vec<String>,
    /// Whose mentions count.
    pub said_by: SaidBy,
    /// 1-based line of the term's `name` in its file (0 when built in code).
    pub line: usize,
}

impl Term {
    /// A term built in code (for example from a Kafka event's per-call trackers).
    pub fn new(kind: TrackerKind, name: impl Into<String>, aliases: &[&str]) -> Self {
        Term {
            name: name.into(),
            kind,
            aliases: aliases.iter().map(|a| (*a).to_owned()).collect(),
            categories: Vec::new(),
            said_by: SaidBy::Anyone,
            line: 0,
        }
    }
}

/// A problem in a trackers file that does not stop it from being used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackerWarning {
    /// 1-based line, 0 when unknown.
    pub line: usize,
    /// What is wrong and what was done about it.
    pub message: String,
}

impl fmt::Display for TrackerWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "line {}: {}", self.line, self.message)
        } else {
            f.write_str(&self.message)
        }
    }
}

/// A trackers file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TrackerError {
    /// Not TOML, or TOML of the wrong shape (the message names line, column and field).
    #[error("{0}")]
    Syntax(String),
    /// A term without a usable name.
    #[error("line {line}: {kind}.name: must not be empty")]
    EmptyName {
        /// 1-based line of the term.
        line: usize,
        /// `competitor` or `keyword`.
        kind: &'static str,
    },
}

/// A parsed trackers file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Trackers {
    /// Every term, competitors first, each group in file order.
    pub terms: Vec<Term>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    competitor: Vec<RawTerm>,
    #[serde(default)]
    keyword: Vec<RawTerm>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTerm {
    name: toml::Spanned<String>,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    categories: Vec<String>,
    #[serde(default)]
    said_by: SaidBy,
}

impl Trackers {
    /// Parses a trackers file. Returns the trackers and any warnings.
    pub fn from_toml_str(source: &str) -> Result<(Self, Vec<TrackerWarning>), TrackerError> {
        let raw: RawFile = toml::from_str(source).map_err(|e| TrackerError::Syntax(e.to_string()))?;
        let line_of = |offset: usize| source[..offset.min(source.len())].matches('\n').count() + 1;
        let mut trackers = Trackers::default();
        for (kind, label, group) in [
            (TrackerKind::Competitor, "competitor", raw.competitor),
            (TrackerKind::Keyword, "keyword", raw.keyword),
        ] {
            for raw_term in group {
                let line = line_of(raw_term.name.span().start);
                let name = raw_term.name.into_inner().trim().to_owned();
                if name.is_empty() {
                    return Err(TrackerError::EmptyName { line, kind: label });
                }
                trackers.terms.push(Term {
                    name,
                    kind,
                    aliases: raw_term.aliases,
                    categories: raw_term.categories,
                    said_by: raw_term.said_by,
                    line,
                });
            }
        }
        let mut warnings = Vec::new();
        if trackers.terms.is_empty() {
            warnings.push(TrackerWarning {
                line: 0,
                message: "no [[competitor]] or [[keyword]] entries: no mentions will be found".into(),
            });
        }
        Ok((trackers, warnings))
    }

    /// Adds terms (for example per-call trackers); later terms lose collisions.
    pub fn extend(&mut self, terms: impl IntoIterator<Item = Term>) {
        self.terms.extend(terms);
    }
}

/// The key of a name or alias: each word keyed and stemmed, concatenated.
fn phrase_words(phrase: &str) -> impl Iterator<Item = String> + '_ {
    phrase
        .split(|c: char| c.is_whitespace() || c == '-' || c == '_' || c == '/')
        .map(word_key)
        .filter(|k| !k.is_empty())
}

fn phrase_key(phrase: &str) -> String {
    phrase_words(phrase).map(|k| stem(&k).into_owned()).collect()
}

/// A phrase's key without English stemming (the key of a language other
/// than English).
fn plain_key(phrase: &str) -> String {
    phrase_words(phrase).collect()
}

/// One Aho-Corasick automaton over alias keys, and the term of each pattern.
#[derive(Debug, Clone, Default)]
struct Patterns {
    automaton: Option<AhoCorasick>,
    term: Vec<usize>,
}

impl Patterns {
    fn new(patterns: &[String], term: Vec<usize>) -> Self {
        // Standard semantics: overlapping search needs it; we pick among hits ourselves.
        let automaton = (!patterns.is_empty()).then(|| {
            AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .build(patterns)
                .expect("patterns are non-empty strings; automaton size is bounded by the tracker list")
        });
        Patterns { automaton, term }
    }
}

/// Finds tracker mentions in transcripts. Build once, use for many calls.
#[derive(Debug, Clone)]
pub struct TrackerMatcher {
    /// English: keys lightly stemmed ([`stem`]).
    english: Patterns,
    /// Other languages: keys as written (a Finnish word is first brought
    /// back to the tracker word it inflects, [`Vocabulary`]).
    plain: Patterns,
    /// Every word of every alias, for Finnish base forms.
    finnish: Vocabulary,
    terms: Vec<Term>,
}

/// A matched word range of one speaker's stream, before it becomes a [`Mention`].
#[derive(Debug, Clone, Copy)]
struct Hit {
    first: usize,
    last: usize,
    term: usize,
}

impl TrackerMatcher {
    /// Compiles the trackers. Returns the matcher and warnings about aliases that
    /// collide or normalize to nothing.
    pub fn new(trackers: &Trackers) -> (Self, Vec<TrackerWarning>) {
        let mut warnings = Vec::new();
        let mut owner: HashMap<String, usize> = HashMap::new();
        let mut patterns: Vec<String> = Vec::new();
        let mut pattern_term = Vec::new();
        for (t, term) in trackers.terms.iter().enumerate() {
            for alias in std::iter::once(&term.name).chain(&term.aliases) {
                let key = phrase_key(alias);
                if key.is_empty() {
                    warnings.push(TrackerWarning {
                        line: term.line,
                        message: format!("{:?} of {:?} has no letters or digits; ignored", alias, term.name),
                    });
                    continue;
                }
                match owner.get(&key) {
                    Some(&other) if other == t => {} // the same term spelled twice
                    Some(&other) => warnings.push(TrackerWarning {
                        line: term.line,
                        message: format!(
                            "alias {:?} of {:?} is the same as {:?} of {:?} (line {}) after normalization; \
                             it stays with {:?}, the term defined first",
                            alias,
                            term.name,
                            key,
                            trackers.terms[other].name,
                            trackers.terms[other].line,
                            trackers.terms[other].name
                        ),
                    }),
                    None => {
                        owner.insert(key.clone(), t);
                        patterns.push(key);
                        pattern_term.push(t);
                    }
                }
            }
        }
        // The same aliases unstemmed, for other languages; a collision
        // there is one of the English keys' (already warned of) or harmless.
        let mut plain_owner: HashMap<String, usize> = HashMap::new();
        let (mut plain, mut plain_term) = (Vec::new(), Vec::new());
        for (t, term) in trackers.terms.iter().enumerate() {
            for alias in std::iter::once(&term.name).chain(&term.aliases) {
                let key = plain_key(alias);
                if !key.is_empty() && !plain_owner.contains_key(&key) {
                    plain_owner.insert(key.clone(), t);
                    plain.push(key);
                    plain_term.push(t);
                }
            }
        }
        let words: Vec<String> = trackers
            .terms
            .iter()
            .flat_map(|term| std::iter::once(&term.name).chain(&term.aliases))
            .flat_map(|alias| phrase_words(alias).collect::<Vec<_>>())
            .collect();
        let matcher = TrackerMatcher {
            english: Patterns::new(&patterns, pattern_term),
            plain: Patterns::new(&plain, plain_term),
            finnish: Vocabulary::new(words.iter().map(String::as_str)),
            terms: trackers.terms.clone(),
        };
        (matcher, warnings)
    }

    /// Number of tracked terms.
    pub fn len(&self) -> usize {
        self.terms.len()
    }

    /// Whether no term is tracked.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Finds every mention in a call, in time order. `words` is the call's
    /// sorted, role-resolved word list ([`callscope_kpi::sorted_words`]).
    pub fn find(&self, transcript: &Transcript, words: &[TimedWord], context_words: usize) -> Vec<Mention> {
        let lang = Lang::of(transcript);
        let patterns = if lang == Lang::English { &self.english } else { &self.plain };
        let Some(automaton) = &patterns.automaton else {
            return Vec::new();
        };
        let normalize = |key: &str| -> String {
            match lang {
                Lang::English => stem(key).into_owned(),
                Lang::Finnish => self.finnish.lemma(key).into_owned(),
                Lang::Other => key.to_owned(),
            }
        };
        let mut mentions = Vec::new();
        // Each word's speaker, as an index into the declared labels, looked up
        // once rather than once per speaker.
        let labels: Vec<&String> = transcript.speakers.keys().collect();
        let speaker_of: Vec<u32> = words
            .iter()
            .map(|w| {
                let said_by = &transcript.words[w.index].speaker;
                labels.iter().position(|l| *l == said_by).map_or(u32::MAX, |k| k as u32)
            })
            .collect();
        for (k, &speaker) in labels.iter().enumerate() {
            // This speaker's words, in time order, with their keys concatenated.
            let stream: Vec<&TimedWord> =
                words.iter().zip(&speaker_of).filter(|&(_, &s)| s as usize == k).map(|(w, _)| w).collect();
            let mut haystack = String::new();
            let mut starts = Vec::with_capacity(stream.len());
            let mut ends = Vec::with_capacity(stream.len());
            let mut keyed = Vec::with_capacity(stream.len()); // stream positions with a non-empty key
            for (pos, w) in stream.iter().enumerate() {
                let key = word_key(&transcript.words[w.index].text);
                if key.is_empty() {
                    continue;
                }
                starts.push(haystack.len());
                haystack.push_str(&normalize(&key));
                ends.push(haystack.len());
                keyed.push(pos);
            }
            let mut hits: Vec<Hit> = automaton
                .find_overlapping_iter(&haystack)
                .filter_map(|m| {
                    let first = starts.binary_search(&m.start()).ok()?;
                    let last = ends.binary_search(&m.end()).ok()?;
                    Some(Hit { first, last, term: patterns.term[m.pattern().as_usize()] })
                })
                .collect();
            // Leftmost first, then longest, then the term defined first.
            hits.sort_by_key(|h| (h.first, std::cmp::Reverse(h.last), h.term));
            let mut next_free = 0;
            for hit in hits {
                if hit.first < next_free {
                    continue;
                }
                let first = &stream[keyed[hit.first]];
                let term = &self.terms[hit.term];
                if !term.said_by.admits(first.role) {
                    continue;
                }
                next_free = hit.last + 1;
                let (lo, hi) = (keyed[hit.first], keyed[hit.last]);
                let text = |range: std::ops::RangeInclusive<usize>| {
                    range.map(|p| transcript.words[stream[p].index].text.trim()).collect::<Vec<_>>().join(" ")
                };
                let matched = text(lo..=hi);
                mentions.push(Mention {
                    term: term.name.clone(),
                    kind: term.kind,
                    categories: term.categories.clone(),
                    matched: matched.trim_matches(|c: char| !c.is_alphanumeric()).to_owned(),
                    role: first.role,
                    speaker: speaker.clone(),
                    start: first.start,
                    end: stream[lo..=hi].iter().map(|w| w.end).fold(first.end, f64::max),
                    context: text(
                        lo.saturating_sub(context_words)..=(hi + context_words).min(stream.len() - 1),
                    ),
                });
            }
        }
        mentions.sort_by(|a, b| a.start.total_cmp(&b.start).then_with(|| a.term.cmp(&b.term)));
        mentions
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use callscope_model::Word;

    fn call(lines: &[(&str, &str)]) -> Transcript {
        let mut t = Transcript::default();
        t.speakers.insert("S".into(), Role::Seller);
        t.speakers.insert("C".into(), Role::Customer);
        let mut clock = 0.0;
        for (speaker, text) in lines {
            for word in text.split_whitespace() {
                t.words.push(Word {
                    text: word.into(),
                    start: clock,
                    end: clock + 0.25,
                    speaker: (*speaker).into(),
                    confidence: None,
                });
                clock += 0.5;
            }
        }
        t
    }

    fn matcher(toml: &str) -> TrackerMatcher {
        let (trackers, _) = Trackers::from_toml_str(toml).expect("valid trackers");
        TrackerMatcher::new(&trackers).0
    }

    fn find(m: &TrackerMatcher, t: &Transcript) -> Vec<(String, String, Role)> {
        let words = callscope_kpi::sorted_words(t);
        m.find(t, &words, 3).into_iter().map(|x| (x.term, x.matched, x.role)).collect()
    }

    const TRACKERS: &str = r#"
[[competitor]]
name = "HubSpot"
[[competitor]]
name = "Salesforce"
aliases = ["SFDC", "Sales force"]
[[competitor]]
name = "Zoho"
[[competitor]]
name = "ADP"
[[keyword]]
name = "discount"
[[keyword]]
name = "annual contract"
aliases = ["yearly contract"]
[[keyword]]
name = "contract"
"#;

    #[test]
    fn finnish_calls_meet_inflected_forms() {
        let m = matcher(
            r#"
[[competitor]]
name = "Salesforce"
[[competitor]]
name = "HubSpot"
[[competitor]]
name = "Microsoft Dynamics"
[[keyword]]
name = "alennus"
[[keyword]]
name = "hinnoittelu"
"#,
        );
        let mut t = call(&[
            ("C", "Käytämme nyt Salesforcea, mutta siirrymme ehkä HubSpotiin."),
            ("S", "Mitä mieltä olette Microsoft Dynamicsista? Voimme puhua alennuksesta."),
            ("C", "Hinnoittelusta haluaisin kuulla lisää, ja alennuksen pitäisi olla iso."),
        ]);
        t.language = Some(callscope_model::Language::FINNISH);
        let got = find(&m, &t);
        let terms: Vec<(&str, &str)> = got.iter().map(|(t, m, _)| (t.as_str(), m.as_str())).collect();
        assert_eq!(
            terms,
            [
                ("Salesforce", "Salesforcea"),
                ("HubSpot", "HubSpotiin"),
                ("Microsoft Dynamics", "Microsoft Dynamicsista"),
                ("alennus", "alennuksesta"),
                ("hinnoittelu", "Hinnoittelusta"),
                ("alennus", "alennuksen"),
            ]
        );
        // Read as English, the Finnish endings hide every term but none is invented.
        t.language = None;
        assert!(find(&m, &t).is_empty(), "{:?}", find(&m, &t));
    }

    #[test]
    fn spacing_case_and_punctuation_are_ignored() {
        let m = matcher(TRACKERS);
        let t = call(&[("C", "We use Hub Spot, hubspot and HubSpot's CRM.")]);
        let got = find(&m, &t);
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(got.iter().all(|(term, _, _)| term == "HubSpot"));
        assert_eq!(got[0].1, "Hub Spot");
    }

    #[test]
    fn inflections_and_aliases() {
        let m = matcher(TRACKERS);
        let t = call(&[("C", "Any discounts on SFDC or the Sales force seats?")]);
        let got: Vec<_> = find(&m, &t).into_iter().map(|x| x.0).collect();
        assert_eq!(got, ["discount", "Salesforce", "Salesforce"]);
    }

    #[test]
    fn word_boundaries_are_respected() {
        let m = matcher(TRACKERS);
        let t = call(&[("C", "We adapt quickly, zohoish tools, ADP. payroll")]);
        let got: Vec<_> = find(&m, &t).into_iter().map(|x| x.0).collect();
        assert_eq!(got, ["ADP"]);
    }

    #[test]
    fn longest_phrase_wins_over_its_parts() {
        let m = matcher(TRACKERS);
        let t = call(&[("S", "An annual contract, or a yearly contract, or just a contract.")]);
        let got: Vec<_> = find(&m, &t).into_iter().map(|x| x.0).collect();
        assert_eq!(got, ["annual contract", "annual contract", "contract"]);
    }

    #[test]
    fn phrases_do_not_span_speakers() {
        let m = matcher(TRACKERS);
        let t = call(&[("S", "Sales"), ("C", "force")]);
        assert!(find(&m, &t).is_empty());
    }

    #[test]
    fn said_by_filters_roles() {
        let m = matcher("[[competitor]]\nname = \"Zoho\"\nsaid_by = \"customer\"\n");
        let t = call(&[("S", "unlike Zoho we"), ("C", "we tried Zoho once")]);
        let got = find(&m, &t);
        assert_eq!(got, [("Zoho".to_owned(), "Zoho".to_owned(), Role::Customer)]);
    }

    #[test]
    fn collisions_warn_and_first_term_wins() {
        let (trackers, _) = Trackers::from_toml_str(
            "[[competitor]]\nname = \"Pipedrive\"\n\n[[keyword]]\nname = \"pipeline\"\naliases = [\"Pipe drive\"]\n",
        )
        .expect("valid");
        let (m, warnings) = TrackerMatcher::new(&trackers);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(warnings[0].line, 5);
        assert!(warnings[0].message.contains("stays with \"Pipedrive\""), "{}", warnings[0]);
        let got: Vec<_> = find(&m, &call(&[("C", "we use pipe drive")])).into_iter().map(|x| x.0).collect();
        assert_eq!(got, ["Pipedrive"]);
    }

    #[test]
    fn bad_files_name_line_and_field() {
        let err =
            Trackers::from_toml_str("[[competitor]]\nname = \"A\"\nalias = [\"b\"]\n").expect_err("typo");
        let msg = err.to_string();
        assert!(msg.contains("line 3") && msg.contains("alias"), "{msg}");

        let err = Trackers::from_toml_str("[[keyword]]\naliases = [\"b\"]\n").expect_err("no name");
        assert!(err.to_string().contains("missing field `name`"), "{err}");

        let err = Trackers::from_toml_str("[[keyword]]\nname = \" \"\n").expect_err("empty");
        assert_eq!(err.to_string(), "line 2: keyword.name: must not be empty");

        let err =
            Trackers::from_toml_str("[[keyword]]\nname = \"x\"\nsaid_by = \"boss\"\n").expect_err("said_by");
        assert!(err.to_string().contains("line 3") && err.to_string().contains("boss"), "{err}");
    }

    #[test]
    fn empty_file_warns() {
        let (trackers, warnings) = Trackers::from_toml_str("").expect("valid");
        assert!(trackers.terms.is_empty());
        assert_eq!(warnings.len(), 1);
    }
}
