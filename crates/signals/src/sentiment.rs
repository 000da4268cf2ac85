//! Sentiment of utterances: a [`SentimentModel`] trait and a lexicon model.
//!
//! [`LexiconSentiment`] is a port of VADER (Hutto & Gilbert, 2014; its lexicon
//! ships in `data/`, MIT) with rules adapted to sales speech. It is the
//! fallback: when its files are present, the neural model
//! ([`crate::neural::NeuralSentiment`]) scores sentiment instead, through the
//! same trait.
//!
//! # VADER, as implemented here
//! Each token's valence comes from the lexicon; up to three preceding tokens
//! can boost or dampen it ("very", "slightly") or negate it ("not", "never",
//! "n't", scaled by −0.74); after "but", valences count 1.5× and before it 0.5×;
//! `!` adds emphasis. The sum `x` is normalized to `x / √(x² + 15)` ∈ (−1, 1).
//!
//! # Sales adaptations
//! - **Domain phrases** ([`DOMAIN_PHRASES`]): multi-word expressions whose meaning
//!   in a sales call differs from the sum of their words ("too expensive", "not
//!   interested", "sounds great", "that works for us", "no promises"). A phrase
//!   replaces the valences of its words; a negation just before it flips it.
//! - **Domain words** ([`DOMAIN_WORDS`]): words that carry sentiment in sales talk
//!   but not in VADER's social-media lexicon ("expensive", "cancel", "churn"), and
//!   discourse markers VADER scores but speakers use neutrally ("honestly",
//!   "yes", "okay", "please", "like").
//! - Negation also applies across "not too/that/very" ("not that great").
//!
//! Labels use VADER's standard thresholds: compound ≥ 0.05 positive, ≤ −0.05
//! negative, neutral between.

use std::collections::HashMap;
use std::sync::OnceLock;

use callscope_model::{Language, Role, SentimentLabel, SentimentScore};

use crate::text::token;

/// Scores one utterance. Implementations must be cheap to call per turn and
/// safe to share across worker threads.
pub trait SentimentModel: Send + Sync + std::fmt::Debug {
    /// Short name stored with results, so a model change is visible in the data.
    fn name(&self) -> &'static str;
    /// The sentiment of `text`, a turn or sentence as spoken.
    fn score(&self, text: &str) -> SentimentScore;
    /// The sentiments of several texts; a model that runs in batches
    /// overrides it.
    fn score_many(&self, texts: &[&str]) -> Vec<SentimentScore> {
        texts.iter().map(|t| self.score(t)).collect()
    }
    /// The sentiments of customer turns read with the seller's turns around
    /// them ([`InContext`]); a model that reads context overrides it, the
    /// default scores each turn alone ([`SentimentModel::score_many`]).
    fn score_in_context(&self, turns: &[InContext<'_>]) -> Vec<SentimentScore> {
        let texts: Vec<&str> = turns.iter().map(|t| t.text).collect();
        self.score_many(&texts)
    }
    /// Whether the model reads `language`. A call in a language the model
    /// does not read gets no sentiment at all (no call label, no timeline),
    /// never a score made from words it does not know. The default: English.
    fn supports(&self, language: Language) -> bool {
        language == Language::ENGLISH
    }
    /// Whether the model reads a whole turn at once (a neural model, which
    /// sees context) rather than each sentence, the turn being the mean of its
    /// sentences leaving out acknowledgements (the lexicon).
    fn whole_turns(&self) -> bool {
        false
    }
    /// The customer's call sentiment from their turns, in call order;
    /// `None` when the customer did not speak. The default is the
    /// word-weighted mean of the turn scores, labelled with [`label_for`].
    fn call_sentiment(&self, turns: &[CustomerTurn]) -> Option<SentimentScore> {
        let weight: f64 = turns.iter().map(|t| f64::from(t.words)).sum();
        (weight > 0.0).then(|| {
            let score = turns.iter().map(|t| t.score.score * f64::from(t.words)).sum::<f64>() / weight;
            SentimentScore { label: label_for(score), score }
        })
    }
}

/// A customer turn with the seller's turns just before and after it: how
/// the seller asked ("Is the new price okay?") and answered ("I'm sorry to
/// hear that") is part of what the customer's words mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InContext<'a> {
    /// The customer's turn.
    pub text: &'a str,
    /// The seller's turn just before it, if the turn before is the seller's.
    pub before: Option<&'a str>,
    /// The seller's turn just after it, if the turn after is the seller's.
    pub after: Option<&'a str>,
}

impl<'a> InContext<'a> {
    /// A turn read alone.
    pub fn alone(text: &'a str) -> Self {
        InContext { text, before: None, after: None }
    }

    /// Each customer turn of a call (`roles[i]` and `texts[i]` are turn
    /// `i`'s), by index, with the seller's turns just before and after it.
    pub fn customer_turns(roles: &[Role], texts: &[&'a str]) -> Vec<(usize, InContext<'a>)> {
        let seller = |t: Option<usize>| t.filter(|&t| roles.get(t) == Some(&Role::Seller)).map(|t| texts[t]);
        (0..roles.len().min(texts.len()))
            .filter(|&t| roles[t] == Role::Customer)
            .map(|t| {
                (
                    t,
                    InContext {
                        text: texts[t],
                        before: seller(t.checked_sub(1)),
                        after: seller(Some(t + 1)),
                    },
                )
            })
            .collect()
    }
}

/// A customer turn as the call-level aggregation sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerTurn {
    /// The turn's sentiment.
    pub score: SentimentScore,
    /// Its words.
    pub words: u32,
    /// Every sentence of it is a bare acknowledgement ("Okay." "Thanks.").
    pub acknowledgement: bool,
    /// It ends in a question.
    pub question: bool,
}

impl<T: SentimentModel + ?Sized> SentimentModel for std::sync::Arc<T> {
    fn name(&self) -> &'static str {
        (**self).name()
    }
    fn score(&self, text: &str) -> SentimentScore {
        (**self).score(text)
    }
    fn score_many(&self, texts: &[&str]) -> Vec<SentimentScore> {
        (**self).score_many(texts)
    }
    fn score_in_context(&self, turns: &[InContext<'_>]) -> Vec<SentimentScore> {
        (**self).score_in_context(turns)
    }
    fn whole_turns(&self) -> bool {
        (**self).whole_turns()
    }
    fn supports(&self, language: Language) -> bool {
        (**self).supports(language)
    }
    fn call_sentiment(&self, turns: &[CustomerTurn]) -> Option<SentimentScore> {
        (**self).call_sentiment(turns)
    }
}

/// Compound at or above which a text is positive.
pub const POSITIVE_THRESHOLD: f64 = 0.05;
/// Compound at or below which a text is negative.
pub const NEGATIVE_THRESHOLD: f64 = -0.05;

/// Maps a compound score to a label with the standard thresholds.
pub fn label_for(score: f64) -> SentimentLabel {
    if score >= POSITIVE_THRESHOLD {
        SentimentLabel::Positive
    } else if score <= NEGATIVE_THRESHOLD {
        SentimentLabel::Negative
    } else {
        SentimentLabel::Neutral
    }
}

const B_INCR: f64 = 0.293;
const B_DECR: f64 = -0.293;
const N_SCALAR: f64 = -0.74;
/// VADER's normalization constant.
const ALPHA: f64 = 15.0;

/// Multi-word expressions of sales speech and their valence (VADER scale, −4..4).
pub const DOMAIN_PHRASES: &[(&str, f64)] = &[
    // objections, refusals, churn risk
    ("too expensive", -2.5),
    ("too pricey", -2.3),
    ("too much money", -2.0),
    ("out of our budget", -2.0),
    ("no budget", -1.8),
    ("not interested", -2.5),
    ("not a priority", -1.8),
    ("not the right time", -1.5),
    ("not a good fit", -2.0),
    ("not for us", -2.0),
    ("not sure", -1.0),
    ("no promises", -1.2),
    ("no thanks", -1.8),
    ("no thank you", -1.8),
    ("waste of time", -2.5),
    ("deal breaker", -2.2),
    ("red flag", -1.8),
    ("price increase", -1.5),
    ("price hike", -1.8),
    ("hold off", -1.2),
    ("take us off", -1.8),
    ("stop calling", -2.5),
    ("don't call", -2.0),
    ("going with another", -1.8),
    ("went with another", -1.8),
    ("not going to renew", -2.5),
    ("won't renew", -2.5),
    ("not renewing", -2.5),
    ("to be blunt", -0.8),
    ("to be honest", 0.0),
    // interest, agreement, buying signals
    ("sounds great", 2.5),
    ("sounds good", 2.0),
    ("sounds perfect", 2.8),
    ("that works", 1.5),
    ("works for us", 1.8),
    ("works for me", 1.6),
    ("looking forward", 1.8),
    ("exactly what we need", 2.5),
    ("good fit", 1.8),
    ("great fit", 2.3),
    ("let's do it", 2.0),
    ("count us in", 2.0),
    ("move forward", 1.5),
    ("moving forward", 1.2),
    ("sign off", 1.0),
    ("ready to sign", 2.2),
    ("send it over", 1.0),
    ("that helps", 1.2),
    ("very helpful", 2.0),
    ("big improvement", 2.0),
    ("paid off", 1.8),
];

/// Single words re-valued for sales speech (VADER scale); 0 neutralizes.
pub const DOMAIN_WORDS: &[(&str, f64)] = &[
    ("expensive", -1.5),
    ("overpriced", -2.5),
    ("pricey", -1.3),
    ("costly", -1.5),
    ("cancel", -1.5),
    ("cancelling", -1.5),
    ("canceling", -1.5),
    ("cancellation", -1.5),
    ("churn", -1.5),
    ("outage", -1.8),
    ("downtime", -1.5),
    ("slow", -1.0),
    ("unreliable", -2.0),
    ("missed", -1.2),
    ("blunt", -0.5),
    ("concerned", -1.2),
    ("worried", -1.5),
    ("frustrating", -2.0),
    ("headache", -1.5),
    ("hassle", -1.5),
    ("impressed", 2.2),
    ("seamless", 1.8),
    ("smooth", 1.5),
    ("saved", 1.3),
    ("saves", 1.3),
    // business senses: VADER scores these words for another sense (an "alert"
    // person, "support" as kindness); in a sales call they name things
    ("support", 0.0),
    ("alert", 0.0),
    ("alerts", 0.0),
    ("security", 0.0),
    ("secure", 0.0),
    ("share", 0.0),
    ("commit", 0.0),
    ("commitment", 0.0),
    ("credit", 0.0),
    ("credits", 0.0),
    ("agreement", 0.0),
    ("approval", 0.0),
    ("approve", 0.0),
    ("approves", 0.0),
    ("free", 0.0),
    ("legal", 0.0),
    ("hand", 0.0),
    ("lower", 0.0),
    ("cut", 0.0),
    ("interest", 0.0),
    ("straight", 0.0),
    ("honest", 0.0),
    // discourse markers and politeness, neutral in a call
    ("honestly", 0.0),
    ("frankly", 0.0),
    ("yes", 0.0),
    ("yeah", 0.0),
    ("okay", 0.0),
    ("ok", 0.0),
    ("please", 0.0),
    ("like", 0.0),
    ("well", 0.0),
    ("sure", 0.0),
    ("pretty", 0.0),
    ("sorry", 0.0),
    ("hi", 0.0),
    ("hello", 0.0),
];

const NEGATIONS: &[&str] = &[
    "aint",
    "ain't",
    "arent",
    "aren't",
    "cannot",
    "cant",
    "can't",
    "couldnt",
    "couldn't",
    "didnt",
    "didn't",
    "doesnt",
    "doesn't",
    "dont",
    "don't",
    "hadnt",
    "hadn't",
    "hasnt",
    "hasn't",
    "havent",
    "haven't",
    "isnt",
    "isn't",
    "neither",
    "never",
    "none",
    "nope",
    "nor",
    "not",
    "nothing",
    "nowhere",
    "shouldnt",
    "shouldn't",
    "wasnt",
    "wasn't",
    "werent",
    "weren't",
    "without",
    "wont",
    "won't",
    "wouldnt",
    "wouldn't",
    "rarely",
    "seldom",
    "despite",
];

const BOOSTERS: &[(&str, f64)] = &[
    ("absolutely", B_INCR),
    ("amazingly", B_INCR),
    ("awfully", B_INCR),
    ("completely", B_INCR),
    ("considerably", B_INCR),
    ("decidedly", B_INCR),
    ("deeply", B_INCR),
    ("enormously", B_INCR),
    ("entirely", B_INCR),
    ("especially", B_INCR),
    ("exceptionally", B_INCR),
    ("extremely", B_INCR),
    ("fully", B_INCR),
    ("greatly", B_INCR),
    ("highly", B_INCR),
    ("hugely", B_INCR),
    ("incredibly", B_INCR),
    ("intensely", B_INCR),
    ("majorly", B_INCR),
    ("more", B_INCR),
    ("most", B_INCR),
    ("particularly", B_INCR),
    ("purely", B_INCR),
    ("quite", B_INCR),
    ("really", B_INCR),
    ("remarkably", B_INCR),
    ("so", B_INCR),
    ("substantially", B_INCR),
    ("thoroughly", B_INCR),
    ("totally", B_INCR),
    ("tremendously", B_INCR),
    ("truly", B_INCR),
    ("unbelievably", B_INCR),
    ("unusually", B_INCR),
    ("utterly", B_INCR),
    ("very", B_INCR),
    ("almost", B_DECR),
    ("barely", B_DECR),
    ("hardly", B_DECR),
    ("less", B_DECR),
    ("little", B_DECR),
    ("marginally", B_DECR),
    ("occasionally", B_DECR),
    ("partly", B_DECR),
    ("scarcely", B_DECR),
    ("slightly", B_DECR),
    ("somewhat", B_DECR),
    ("sort", B_DECR),
];

struct Lexicon {
    words: HashMap<&'static str, f64>,
    boosters: HashMap<&'static str, f64>,
    negations: std::collections::HashSet<&'static str>,
    /// First word of a phrase → (phrase words, valence), longest first.
    phrases: HashMap<&'static str, Vec<(Vec<&'static str>, f64)>>,
}

fn lexicon() -> &'static Lexicon {
    static LEXICON: OnceLock<Lexicon> = OnceLock::new();
    LEXICON.get_or_init(|| {
        let mut words: HashMap<&'static str, f64> = include_str!("../data/vader_lexicon.tsv")
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| {
                let (word, valence) = l.split_once('\t')?;
                Some((word, valence.trim().parse().ok()?))
            })
            .collect();
        for (word, valence) in DOMAIN_WORDS {
            words.insert(word, *valence);
        }
        let mut phrases: HashMap<&'static str, Vec<(Vec<&'static str>, f64)>> = HashMap::new();
        for (phrase, valence) in DOMAIN_PHRASES {
            let parts: Vec<&'static str> = phrase.split(' ').collect();
            phrases.entry(parts[0]).or_default().push((parts, *valence));
        }
        for list in phrases.values_mut() {
            list.sort_by_key(|(parts, _)| std::cmp::Reverse(parts.len()));
        }
        Lexicon {
            words,
            phrases,
            boosters: BOOSTERS.iter().copied().collect(),
            negations: NEGATIONS.iter().copied().collect(),
        }
    })
}

fn is_negation(token: &str) -> bool {
    lexicon().negations.contains(token) || token.ends_with("n't")
}

fn booster(token: &str) -> Option<f64> {
    lexicon().boosters.get(token).copied()
}

/// VADER with the sales adaptations described in the module docs.
#[derive(Debug, Clone, Copy, Default)]
pub struct LexiconSentiment;

impl LexiconSentiment {
    /// The model; the lexicon is loaded once per process, on first use.
    pub fn new() -> Self {
        lexicon();
        LexiconSentiment
    }

    /// The unnormalized VADER sum of a text (useful to combine utterances).
    pub fn raw_score(&self, text: &str) -> f64 {
        let lex = lexicon();
        let tokens: Vec<String> = text.split_whitespace().map(token).filter(|t| !t.is_empty()).collect();
        let mut valences = vec![0.0; tokens.len()];
        let mut covered = vec![false; tokens.len()];

        // Domain phrases first: they replace the valences of their words.
        let mut i = 0;
        while i < tokens.len() {
            let hit = lex.phrases.get(tokens[i].as_str()).and_then(|list| {
                list.iter().find(|(parts, _)| {
                    tokens.len() >= i + parts.len() && parts.iter().zip(&tokens[i..]).all(|(p, t)| p == t)
                })
            });
            match hit {
                Some((parts, valence)) => {
                    // A phrase that is itself a negation ("not interested") is not
                    // flipped again by a negation before it ("no, not interested").
                    let self_negating = is_negation(parts[0]) || parts[0] == "no";
                    let negated =
                        !self_negating && (1..=2).any(|back| i >= back && is_negation(&tokens[i - back]));
                    valences[i] = if negated { valence * N_SCALAR } else { *valence };
                    for c in &mut covered[i..i + parts.len()] {
                        *c = true;
                    }
                    i += parts.len();
                }
                None => i += 1,
            }
        }

        for (i, tok) in tokens.iter().enumerate() {
            if covered[i] || booster(tok).is_some() {
                continue;
            }
            if tok == "kind" && tokens.get(i + 1).is_some_and(|t| t == "of") {
                continue;
            }
            let Some(&base) = lex.words.get(tok.as_str()) else { continue };
            if base == 0.0 {
                continue;
            }
            let mut valence = base;
            for back in 0..3 {
                if i <= back {
                    break;
                }
                let prev = tokens[i - back - 1].as_str();
                if covered[i - back - 1] || lex.words.contains_key(prev) && !is_negation(prev) {
                    continue;
                }
                if let Some(b) = booster(prev) {
                    let scaled = if valence < 0.0 { -b } else { b };
                    valence += scaled * [1.0, 0.95, 0.9][back];
                }
                if is_negation(prev) {
                    valence *= N_SCALAR;
                }
            }
            if i > 0 && tokens[i - 1] == "least" && !(i > 1 && tokens[i - 2] == "at") {
                valence *= N_SCALAR;
            }
            valences[i] = valence;
        }

        if let Some(but) = tokens.iter().position(|t| t == "but") {
            for (i, v) in valences.iter_mut().enumerate() {
                if i < but {
                    *v *= 0.5;
                } else if i > but {
                    *v *= 1.5;
                }
            }
        }

        let mut sum: f64 = valences.iter().sum();
        let exclamations = text.matches('!').count().min(4) as f64 * 0.292;
        if sum > 0.0 {
            sum += exclamations;
        } else if sum < 0.0 {
            sum -= exclamations;
        }
        sum
    }
}

/// Words that, alone or in pairs, acknowledge rather than evaluate.
const ACKNOWLEDGEMENTS: &[&str] = &[
    "great",
    "perfect",
    "good",
    "nice",
    "thanks",
    "thank",
    "you",
    "okay",
    "ok",
    "sure",
    "fine",
    "right",
    "cool",
    "excellent",
    "wonderful",
    "awesome",
    "fair",
    "enough",
    "understood",
    "absolutely",
    "yes",
    "yeah",
    "alright",
    "lovely",
    "got",
    "it",
    "of",
    "course",
    "sounds",
];

/// Whether a sentence is a bare acknowledgement ("Great." "Thanks." "Fair
/// enough." "Of course."): at most three words, all of them acknowledgement
/// words. In a call these are politeness and turn-taking, not opinion.
pub fn is_acknowledgement(words: &[&str]) -> bool {
    let tokens: Vec<String> = words.iter().map(|w| token(w)).filter(|t| !t.is_empty()).collect();
    !tokens.is_empty() && tokens.len() <= 3 && tokens.iter().all(|t| ACKNOWLEDGEMENTS.contains(&t.as_str()))
}

/// VADER's normalization of a raw sum into (−1, 1).
pub fn normalize(sum: f64) -> f64 {
    if sum == 0.0 {
        return 0.0;
    }
    (sum / (sum * sum + ALPHA).sqrt()).clamp(-1.0, 1.0)
}

impl SentimentModel for LexiconSentiment {
    fn name(&self) -> &'static str {
        "vader-sales-v1"
    }

    fn score(&self, text: &str) -> SentimentScore {
        let score = normalize(self.raw_score(text));
        SentimentScore { label: label_for(score), score }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(text: &str) -> SentimentLabel {
        LexiconSentiment::new().score(text).label
    }

    #[test]
    fn plain_vader_words() {
        assert_eq!(label("This is great, thank you."), SentimentLabel::Positive);
        assert_eq!(label("That was a terrible experience."), SentimentLabel::Negative);
        assert_eq!(label("We have forty seats in the Denver office."), SentimentLabel::Neutral);
    }

    #[test]
    fn negation() {
        assert_eq!(label("I am not happy with the support."), SentimentLabel::Negative);
        assert_eq!(label("It isn't bad at all."), SentimentLabel::Positive);
        assert_eq!(label("That's not too expensive for us."), SentimentLabel::Positive);
    }

    #[test]
    fn but_clause_weighs_the_second_half() {
        assert_eq!(label("The demo was nice, but the price is a deal breaker."), SentimentLabel::Negative);
        assert_eq!(label("It was a rough start, but the team has been great."), SentimentLabel::Positive);
    }

    #[test]
    fn sales_phrases() {
        assert_eq!(label("Honestly it's too expensive."), SentimentLabel::Negative);
        assert_eq!(label("We're not interested."), SentimentLabel::Negative);
        assert_eq!(label("We want to cancel."), SentimentLabel::Negative);
        assert_eq!(label("Sounds great."), SentimentLabel::Positive);
        assert_eq!(label("Thursday at ten, that works for us."), SentimentLabel::Positive);
        assert_eq!(label("Yes, I know."), SentimentLabel::Neutral);
    }

    #[test]
    fn scores_are_bounded() {
        let s = LexiconSentiment::new().score("great great great great great great great great!!!!");
        assert!(s.score > 0.9 && s.score < 1.0, "{}", s.score);
        assert!((normalize(0.0)).abs() < f64::EPSILON);
    }
}
