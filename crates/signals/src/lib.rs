//! Conversation signals: tracked keywords and competitors, the keywords
//! customers use, customer sentiment, questions and action items.
//!
//! Managers coach on these, so every signal is explainable: a mention carries
//! the exact words and a context snippet, a sentiment point its turn and score,
//! an action item its sentence. All of it is computed from the transcript alone,
//! synchronously and without I/O (the neural sentiment model is loaded once,
//! beforehand), so the same code runs on a laptop, in a Kafka
//! worker and in tests.
//!
//! # Layout
//! - [`trackers`]: the TOML trackers file and the Aho-Corasick matcher.
//! - [`sentiment`]: the [`SentimentModel`] trait and the lexicon model.
//! - [`neural`]: the neural sentiment model (MiniLM embeddings + a head, via ONNX Runtime).
//! - [`keywords`]: per-call customer keywords and TF-IDF ranking across calls.
//! - `questions`, `actions`: rule-based question and commitment detection.
//!
//! # Units of text
//! Signals work on the KPI engine's turns ([`callscope_kpi::segment_turns`]),
//! so the sentiment timeline has exactly the turns the KPIs count, and
//! backchannels ("mhm", "right") are neither questions nor action items. A turn
//! is split into sentences at `.`, `?` and `!`; action items further split a
//! sentence into clauses at `,` `;` `:` so that "X will send the report, and
//! I'll send the offer" gives two items. Mentions are found on every word,
//! backchannels included, because a customer who says "Salesforce?" while the
//! seller talks did mention it.

mod actions;
mod finnish;
pub mod keywords;
mod lang;
pub mod neural;
mod questions;
pub mod sentiment;
mod text;
pub mod trackers;

use callscope_kpi::{Segmentation, TimedWord};
use callscope_model::{
    ActionItem, CallSentiment, CallSignals, Language, Question, Role, SentimentScore, SentimentShares,
    Transcript,
};
use lang::Lang;

pub use keywords::{RankedKeyword, rank_distinctive, tf_idf};
pub use neural::NeuralSentiment;
pub use sentiment::{CustomerTurn, InContext, LexiconSentiment, SentimentModel};
pub use trackers::{SaidBy, Term, TrackerError, TrackerMatcher, TrackerWarning, Trackers};

/// Settings of signal extraction.
#[derive(Debug, Clone, PartialEq)]
pub struct SignalSettings {
    /// How many customer keywords to keep per call.
    pub max_customer_keywords: usize,
    /// Words of context on each side of a mention.
    pub context_words: usize,
}

impl Default for SignalSettings {
    fn default() -> Self {
        SignalSettings { max_customer_keywords: 20, context_words: 6 }
    }
}

/// Computes every signal of a call. Build once (it compiles the trackers), then
/// call [`SignalExtractor::extract`] per call, from any number of threads.
#[derive(Debug)]
pub struct SignalExtractor<S = LexiconSentiment> {
    matcher: TrackerMatcher,
    sentiment: S,
    settings: SignalSettings,
}

impl SignalExtractor<LexiconSentiment> {
    /// An extractor with the default sentiment model.
    pub fn new(matcher: TrackerMatcher, settings: SignalSettings) -> Self {
        Self::with_model(matcher, LexiconSentiment::new(), settings)
    }
}

/// One sentence of a turn: positions in the sorted word list.
struct Sentence {
    role: Role,
    turn: usize,
    words: Vec<usize>,
}

/// The call's words by sorted position, with the helpers every signal needs.
struct CallText<'a> {
    lang: Lang,
    transcript: &'a Transcript,
    words: &'a [TimedWord],
    /// Each word's lowercase token ([`text::token`]), computed once per call.
    tokens: Vec<String>,
}

impl CallText<'_> {
    fn token(&self, pos: usize) -> &str {
        &self.tokens[pos]
    }

    /// The non-empty tokens of some words.
    fn tokens(&self, positions: &[usize]) -> Vec<&str> {
        positions.iter().map(|&p| self.token(p)).filter(|t| !t.is_empty()).collect()
    }

    fn text(&self, pos: usize) -> &str {
        &self.transcript.words[self.words[pos].index].text
    }

    fn speaker(&self, pos: usize) -> String {
        self.transcript.words[self.words[pos].index].speaker.clone()
    }

    fn written(&self, positions: &[usize]) -> Vec<&str> {
        positions.iter().map(|&p| self.text(p)).collect()
    }

    fn joined(&self, positions: &[usize]) -> String {
        positions.iter().map(|&p| self.text(p).trim()).collect::<Vec<_>>().join(" ")
    }

    /// First start and latest end of some words.
    fn span(&self, positions: &[usize]) -> (f64, f64) {
        let start = positions.first().map_or(0.0, |&p| self.words[p].start);
        let end = positions.iter().map(|&p| self.words[p].end).fold(start, f64::max);
        (start, end)
    }

    /// The clause as an action item, if it is one. `after_commitment`: the
    /// previous clause of the sentence was an action item.
    fn action_item(
        &self,
        clause: &[usize],
        owner: Role,
        in_question: bool,
        conditional: bool,
        after_commitment: bool,
    ) -> Option<ActionItem> {
        let first = *clause.first()?;
        let tokens = self.tokens(clause);
        let continued = after_commitment && !in_question && self.lang.continues_commitment(&tokens);
        if !continued && !self.lang.is_action_item(&tokens, in_question, conditional) {
            return None;
        }
        let (start, end) = self.span(clause);
        let text = self.joined(clause);
        Some(ActionItem {
            owner,
            speaker: self.speaker(first),
            text: text.trim_end_matches([',', ';', ':']).to_owned(),
            start,
            end,
        })
    }
}

/// Mean of sentence scores, acknowledgements left out unless there is nothing else.
/// A sentence's score and whether it is a bare acknowledgement.
fn sentence_score(model: &(impl SentimentModel + ?Sized), written: &[&str]) -> (f64, bool) {
    (model.score(&written.join(" ")).score, sentiment::is_acknowledgement(written))
}

fn utterance_score(sentences: &[(f64, bool)]) -> f64 {
    let content: Vec<f64> = sentences.iter().filter(|(_, ack)| !ack).map(|(s, _)| *s).collect();
    let used: Vec<f64> =
        if content.is_empty() { sentences.iter().map(|(s, _)| *s).collect() } else { content };
    if used.is_empty() { 0.0 } else { used.iter().sum::<f64>() / used.len() as f64 }
}

impl<S: SentimentModel> SignalExtractor<S> {
    /// An extractor with a given sentiment model.
    pub fn with_model(matcher: TrackerMatcher, sentiment: S, settings: SignalSettings) -> Self {
        SignalExtractor { matcher, sentiment, settings }
    }

    /// The sentiment model's name, to store with results.
    pub fn sentiment_model(&self) -> &'static str {
        self.sentiment.name()
    }

    /// The name stored with a call in `language`: the model's, or `none`
    /// when the model does not read that language (the call has no
    /// sentiment).
    pub fn sentiment_model_for(&self, language: Option<Language>) -> &'static str {
        if language.is_none_or(|l| self.sentiment.supports(l)) { self.sentiment.name() } else { "none" }
    }

    /// The sentiment model.
    pub fn model(&self) -> &S {
        &self.sentiment
    }

    /// The same extractor with another sentiment model.
    pub fn with_sentiment<T: SentimentModel>(self, sentiment: T) -> SignalExtractor<T> {
        SignalExtractor { matcher: self.matcher, sentiment, settings: self.settings }
    }

    /// The sentiment of an utterance (a turn, or any text): the model's score
    /// of the whole text when it reads whole turns, else the mean of its
    /// sentences' scores, bare acknowledgements left out (see the crate docs).
    pub fn utterance_sentiment(&self, text: &str) -> SentimentScore {
        if self.sentiment.whole_turns() {
            return self.sentiment.score(text);
        }
        let mut scores = Vec::new();
        let mut sentence: Vec<&str> = Vec::new();
        for word in text.split_whitespace() {
            sentence.push(word);
            if text::ends_sentence(word) {
                scores.push(sentence_score(&self.sentiment, &sentence));
                sentence.clear();
            }
        }
        if !sentence.is_empty() {
            scores.push(sentence_score(&self.sentiment, &sentence));
        }
        let score = utterance_score(&scores);
        SentimentScore { label: sentiment::label_for(score), score }
    }

    /// Computes the signals of a validated transcript.
    pub fn extract(&self, transcript: &Transcript) -> CallSignals {
        let words = callscope_kpi::sorted_words(transcript);
        let seg = callscope_kpi::segment_turns(&words);
        self.extract_segmented(transcript, &words, &seg)
    }

    /// Computes the signals when the caller already sorted and segmented the
    /// words (the pipeline does, for the KPIs).
    pub fn extract_segmented(
        &self,
        transcript: &Transcript,
        words: &[TimedWord],
        seg: &Segmentation,
    ) -> CallSignals {
        let tokens = words.iter().map(|w| text::token(&transcript.words[w.index].text)).collect();
        let lang = Lang::of(transcript);
        let call = CallText { lang, transcript, words, tokens };

        // Each turn's words, in time order, cut into sentences.
        let mut turn_words: Vec<Vec<usize>> = vec![Vec::new(); seg.turns.len()];
        for (pos, turn) in seg.turn_of.iter().enumerate() {
            if let Some(t) = turn {
                turn_words[*t as usize].push(pos);
            }
        }
        let mut sentences: Vec<Sentence> = Vec::new();
        for (t, (turn, positions)) in seg.turns.iter().zip(&turn_words).enumerate() {
            let mut current = Vec::new();
            for &pos in positions {
                current.push(pos);
                if text::ends_sentence(call.text(pos)) {
                    sentences.push(Sentence {
                        role: turn.role,
                        turn: t,
                        words: std::mem::take(&mut current),
                    });
                }
            }
            if !current.is_empty() {
                sentences.push(Sentence { role: turn.role, turn: t, words: current });
            }
        }

        // Questions and action items, sentence by sentence, clause by clause.
        let mut questions = Vec::new();
        let mut action_items = Vec::new();
        // Whether each turn's last sentence is a question.
        let mut turn_asks = vec![false; seg.turns.len()];
        for s in &sentences {
            let last = s.words.last().map(|&p| call.text(p));
            let sentence_tokens = call.tokens(&s.words);
            let question = lang.is_question(last, &sentence_tokens);
            let conditional = lang.is_conditional(&sentence_tokens);
            turn_asks[s.turn] = question;
            if question {
                let (start, end) = call.span(&s.words);
                questions.push(Question {
                    role: s.role,
                    speaker: call.speaker(s.words[0]),
                    text: call.joined(&s.words),
                    start,
                    end,
                });
            }
            let mut clause: Vec<usize> = Vec::new();
            let mut after_commitment = false;
            for (i, &pos) in s.words.iter().enumerate() {
                let next = s.words.get(i + 1).map(|&p| call.token(p));
                let cut_before = !clause.is_empty() && lang.starts_new_clause(call.token(pos), next);
                if cut_before {
                    let item = call.action_item(&clause, s.role, question, conditional, after_commitment);
                    after_commitment = item.is_some();
                    action_items.extend(item);
                    clause.clear();
                }
                clause.push(pos);
                if next.is_none() || text::ends_clause(call.text(pos)) {
                    let item = call.action_item(&clause, s.role, question, conditional, after_commitment);
                    after_commitment = item.is_some();
                    action_items.extend(item);
                    clause.clear();
                }
            }
        }

        // Sentiment of each turn: a model that reads whole turns scores the
        // turn's text (all turns of the call in one batch); otherwise a turn's
        // score is the mean of its sentences' scores, leaving out bare
        // acknowledgements ("Great." "Thanks."), which are politeness, not
        // opinion, unless the turn has nothing else. The customer's overall
        // sentiment is the model's aggregation of their turns
        // ([`SentimentModel::call_sentiment`]).
        let mut acknowledgements = vec![true; seg.turns.len()];
        for s in &sentences {
            acknowledgements[s.turn] &= sentiment::is_acknowledgement(&call.written(&s.words));
        }
        // A language the model does not read gets no sentiment (no scores,
        // no timeline, no call label), never numbers made from unknown words.
        let scored = transcript.language.is_none_or(|l| self.sentiment.supports(l));
        // Turn scores from sentences (the lexicon's way), for the turns
        // `wanted` picks.
        let by_sentences = |model: &dyn SentimentModel, wanted: &dyn Fn(usize) -> bool| {
            let mut sentence_scores: Vec<Vec<(f64, bool)>> = vec![Vec::new(); seg.turns.len()];
            for s in sentences.iter().filter(|s| wanted(s.turn)) {
                sentence_scores[s.turn].push(sentence_score(model, &call.written(&s.words)));
            }
            sentence_scores
                .iter()
                .map(|scores| {
                    let score = utterance_score(scores);
                    SentimentScore { label: sentiment::label_for(score), score }
                })
                .collect::<Vec<_>>()
        };
        // Each turn's text, as the model reads it and as its words are counted.
        let turn_texts: Vec<String> = turn_words.iter().map(|w| call.joined(w)).collect();
        let turn_scores: Vec<SentimentScore> = if !scored {
            Vec::new()
        } else if self.sentiment.whole_turns() {
            // A model that reads whole turns reads the customer's, in one
            // batch, each with the seller's turns just before and after it:
            // the call label, the shares and every aggregate use only those.
            // The seller's turns (faded in the call's timeline) get the
            // lexicon's score: the model reads only their edges, as context
            // (benches/README.md, "Customer sentiment").
            let roles: Vec<Role> = seg.turns.iter().map(|t| t.role).collect();
            let texts: Vec<&str> = turn_texts.iter().map(String::as_str).collect();
            let (customer, turns): (Vec<usize>, Vec<InContext<'_>>) =
                InContext::customer_turns(&roles, &texts).into_iter().unzip();
            let mut scores = by_sentences(&LexiconSentiment, &|t| roles[t] != Role::Customer);
            for (&t, score) in customer.iter().zip(self.sentiment.score_in_context(&turns)) {
                scores[t] = score;
            }
            scores
        } else {
            by_sentences(&self.sentiment, &|_| true)
        };
        let mut timeline = Vec::with_capacity(seg.turns.len());
        let mut customer_turns = Vec::new();
        let mut counts = [0u32; 3];
        for (t, (turn, score)) in seg.turns.iter().zip(turn_scores).enumerate() {
            if turn.role == Role::Customer {
                counts[score.label as usize] += 1;
                customer_turns.push(CustomerTurn {
                    score,
                    // Counted in the text, not in the transcript's words:
                    // whisper glues some across punctuation ("Thanks,Sofia.").
                    words: text::spoken_words(&turn_texts[t]),
                    acknowledgement: acknowledgements[t],
                    question: turn_asks[t],
                });
            }
            timeline.push(callscope_model::SentimentPoint {
                turn: t as u32,
                role: turn.role,
                start: turn.start,
                end: turn.end,
                label: score.label,
                score: score.score,
            });
        }
        let n_customer: u32 = counts.iter().sum();
        let share = |n: u32| if n_customer == 0 { 0.0 } else { f64::from(n) / f64::from(n_customer) };
        let customer = if scored { self.sentiment.call_sentiment(&customer_turns) } else { None };

        let customer_keywords = keywords::customer_keywords(
            sentences
                .iter()
                .filter(|s| s.role == Role::Customer)
                .map(|s| s.words.iter().map(|&p| (call.text(p), call.token(p))).collect()),
            self.settings.max_customer_keywords,
            |t| lang.is_stop_word(t),
        );

        CallSignals {
            mentions: self.matcher.find(transcript, words, self.settings.context_words),
            customer_keywords,
            sentiment: CallSentiment {
                customer,
                customer_shares: SentimentShares {
                    positive: share(counts[0]),
                    neutral: share(counts[1]),
                    negative: share(counts[2]),
                },
                timeline,
            },
            questions,
            action_items,
        }
    }
}
