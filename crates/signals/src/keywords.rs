//! The keywords customers use: characteristic words and phrases of the
//! customer's speech, tracked or not.
//!
//! Per call: the customer's sentences are cut at stop words and punctuation into
//! candidate phrases ("freight rates", "named engineer"); each candidate yields
//! its words and its two-word phrases. A two-word phrase said at least twice
//! absorbs the counts of its words, so "freight rates" ×3 is not also reported as
//! "freight" ×3 and "rates" ×3. Most frequent first; ties go to the longer phrase.
//!
//! Across a seller's calls: [`rank_distinctive`] scores each phrase by TF-IDF
//! against all calls (the phrases that set this seller's customers apart, not
//! the ones every customer says).

use std::collections::HashMap;

use callscope_model::KeywordCount;

/// The shortest word that can be a keyword on its own.
const MIN_WORD_LEN: usize = 3;

/// Counts candidate phrases in sentences (each a list of (written word, its
/// lowercase token)) and returns the top `limit`.
pub(crate) fn customer_keywords<'a>(
    sentences: impl Iterator<Item = Vec<(&'a str, &'a str)>>,
    limit: usize,
    is_stop_word: impl Fn(&str) -> bool,
) -> Vec<KeywordCount> {
    let mut unigrams: HashMap<String, u32> = HashMap::new();
    let mut bigrams: HashMap<(String, String), u32> = HashMap::new();
    let mut first_seen: HashMap<String, usize> = HashMap::new();
    let mut order = 0usize;
    for sentence in sentences {
        let mut run: Vec<String> = Vec::new();
        let flush = |run: &mut Vec<String>,
                     unigrams: &mut HashMap<String, u32>,
                     bigrams: &mut HashMap<(String, String), u32>| {
            for w in run.iter() {
                *unigrams.entry(w.clone()).or_default() += 1;
            }
            for pair in run.windows(2) {
                *bigrams.entry((pair[0].clone(), pair[1].clone())).or_default() += 1;
            }
            run.clear();
        };
        for (word, tok) in sentence {
            // A bracketed word is a redaction placeholder (`[card]`) or a
            // whisper tag (`[MUSIC]`): not something the customer said.
            let keep = tok.chars().count() >= MIN_WORD_LEN
                && !word.trim_start().starts_with('[')
                && !is_stop_word(tok)
                && !tok.chars().all(|c| c.is_ascii_digit() || c == '\'');
            if keep {
                if !first_seen.contains_key(tok) {
                    order += 1;
                    first_seen.insert(tok.to_owned(), order);
                }
                run.push(tok.to_owned());
            } else {
                flush(&mut run, &mut unigrams, &mut bigrams);
            }
            // Punctuation inside a sentence ends a phrase too.
            if word.trim_end().ends_with([',', ';', ':']) {
                flush(&mut run, &mut unigrams, &mut bigrams);
            }
        }
        flush(&mut run, &mut unigrams, &mut bigrams);
    }

    let mut out: Vec<(KeywordCount, usize)> = Vec::new();
    for ((a, b), count) in &bigrams {
        if *count >= 2 {
            for w in [a, b] {
                if let Some(c) = unigrams.get_mut(w) {
                    *c = c.saturating_sub(*count);
                }
            }
            let seen = first_seen.get(a).copied().unwrap_or(usize::MAX);
            out.push((KeywordCount { phrase: format!("{a} {b}"), count: *count }, seen));
        }
    }
    for (w, count) in unigrams {
        if count > 0 {
            let seen = first_seen.get(&w).copied().unwrap_or(usize::MAX);
            out.push((KeywordCount { phrase: w, count }, seen));
        }
    }
    out.sort_by(|(a, sa), (b, sb)| {
        b.count.cmp(&a.count).then_with(|| b.phrase.len().cmp(&a.phrase.len())).then(sa.cmp(sb))
    });
    out.into_iter().take(limit).map(|(k, _)| k).collect()
}

/// A phrase ranked across calls.
#[derive(Debug, Clone, PartialEq)]
pub struct RankedKeyword {
    /// The phrase.
    pub phrase: String,
    /// Occurrences in the selected calls.
    pub count: u32,
    /// Selected calls that contain it.
    pub calls: u32,
    /// TF-IDF score: `count × ln((1 + N) / (1 + df)) + count` (smoothed), where N
    /// is the number of calls in the background and df those containing it.
    pub score: f64,
}

/// The TF-IDF score used to rank phrases: `count × (ln((1 + n) / (1 + df)) + 1)`,
/// where `count` is the phrase's occurrences in the selected calls, `n` the number
/// of calls in the background and `df` the background calls that contain it.
pub fn tf_idf(count: u32, df: u32, n: u32) -> f64 {
    f64::from(count) * (((1.0 + f64::from(n)) / (1.0 + f64::from(df))).ln() + 1.0)
}

/// Ranks the phrases of `selected` calls (for example one seller's) by how
/// distinctive they are against `background` (for example all calls of the
/// team). Each call is its per-call keyword list.
pub fn rank_distinctive(selected: &[&[KeywordCount]], background: &[&[KeywordCount]]) -> Vec<RankedKeyword> {
    let n = u32::try_from(background.len()).unwrap_or(u32::MAX);
    let mut df: HashMap<&str, u32> = HashMap::new();
    for call in background {
        for k in *call {
            *df.entry(k.phrase.as_str()).or_default() += 1;
        }
    }
    let mut tf: HashMap<&str, (u32, u32)> = HashMap::new();
    for call in selected {
        for k in *call {
            let e = tf.entry(k.phrase.as_str()).or_default();
            e.0 += k.count;
            e.1 += 1;
        }
    }
    let mut ranked: Vec<RankedKeyword> = tf
        .into_iter()
        .map(|(phrase, (count, calls))| {
            let d = df.get(phrase).copied().unwrap_or(calls);
            RankedKeyword { phrase: phrase.to_owned(), count, calls, score: tf_idf(count, d, n) }
        })
        .collect();
    ranked.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.phrase.cmp(&b.phrase)));
    ranked
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kw(text: &[&str]) -> Vec<KeywordCount> {
        let tokenized: Vec<Vec<(&str, String)>> =
            text.iter().map(|s| s.split_whitespace().map(|w| (w, crate::text::token(w))).collect()).collect();
        customer_keywords(
            tokenized.iter().map(|s| s.iter().map(|(w, t)| (*w, t.as_str())).collect()),
            10,
            crate::text::is_stop_word,
        )
    }

    #[test]
    fn stop_words_removed_and_phrases_absorb_their_words() {
        let got = kw(&[
            "Our freight rates went up.",
            "The freight rates are too high, and the port fees too.",
            "Um, so freight is our biggest cost.",
        ]);
        assert_eq!(got[0], KeywordCount { phrase: "freight rates".into(), count: 2 });
        assert!(got.contains(&KeywordCount { phrase: "freight".into(), count: 1 }), "{got:?}");
        assert!(!got.iter().any(|k| k.phrase == "rates"), "{got:?}");
        assert!(!got.iter().any(|k| ["the", "our", "too", "um"].contains(&k.phrase.as_str())));
    }

    #[test]
    fn placeholders_are_not_keywords_and_end_phrases() {
        let got = kw(&["my email is [email] and card [card].", "billing [email] address"]);
        assert!(!got.iter().any(|k| k.phrase.contains("card") && k.phrase != "card"), "{got:?}");
        assert!(got.contains(&KeywordCount { phrase: "email".into(), count: 1 }), "{got:?}");
        assert!(got.contains(&KeywordCount { phrase: "card".into(), count: 1 }), "{got:?}");
        assert!(got.contains(&KeywordCount { phrase: "billing".into(), count: 1 }), "{got:?}");
        assert!(!got.iter().any(|k| k.phrase.contains("billing email")), "{got:?}");
    }

    #[test]
    fn tf_idf_prefers_distinctive_phrases() {
        let common = KeywordCount { phrase: "pricing".into(), count: 3 };
        let rare = KeywordCount { phrase: "ocean freight".into(), count: 2 };
        let a = vec![common.clone(), rare.clone()];
        let b = vec![common.clone()];
        let c = vec![common];
        let ranked = rank_distinctive(&[&a], &[&a, &b, &c]);
        assert_eq!(ranked[0].phrase, "ocean freight", "{ranked:?}");
        assert_eq!(ranked[0].calls, 1);
    }
}
