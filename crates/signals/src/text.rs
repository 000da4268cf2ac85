//! Text normalization shared by the matchers: word keys, light stemming,
//! sentence splitting and the stop-word list.

use std::borrow::Cow;

/// The comparable form of a written word: lowercase, letters and digits only,
/// a possessive `'s` dropped. `"Flexport's,"` → `"flexport"`, `"Sentinel-1"` →
/// `"sentinel1"`, `"—"` → `""`.
pub(crate) fn word_key(text: &str) -> String {
    let trimmed = text.trim_end_matches(|c: char| !c.is_alphanumeric());
    let base = ["'s", "'S", "\u{2019}s", "\u{2019}S"]
        .iter()
        .find_map(|s| trimmed.strip_suffix(s))
        .unwrap_or(trimmed);
    let mut key = String::with_capacity(base.len());
    for c in base.chars().filter(|c| c.is_alphanumeric()) {
        if c.is_ascii() {
            key.push(c.to_ascii_lowercase());
        } else {
            key.extend(c.to_lowercase());
        }
    }
    key
}

/// Strips simple English inflections so that plural and singular meet:
/// `discounts` → `discount`, `companies` → `company`, `boxes` → `box`.
/// Deliberately light (no `-ed`/`-ing`): a tracker that needs those lists them as
/// aliases. Applied identically to tracker aliases and transcript words, so an
/// imperfect stem (`sales` → `sale`) still matches itself.
pub(crate) fn stem(key: &str) -> Cow<'_, str> {
    let n = key.len();
    if n < 4 || !key.is_ascii() || key.bytes().any(|b| b.is_ascii_digit()) {
        return Cow::Borrowed(key);
    }
    if n > 4 && key.ends_with("ies") {
        return Cow::Owned(format!("{}y", &key[..n - 3]));
    }
    for suffix in ["sses", "ches", "shes", "xes", "zes"] {
        if key.ends_with(suffix) {
            return Cow::Borrowed(&key[..n - 2]);
        }
    }
    if key.ends_with('s') && !key.ends_with("ss") && !key.ends_with("us") && !key.ends_with("is") {
        return Cow::Borrowed(&key[..n - 1]);
    }
    Cow::Borrowed(key)
}

/// Whether a written word ends a sentence (`.`, `?`, `!`, possibly followed by
/// closing quotes or brackets).
pub(crate) fn ends_sentence(text: &str) -> bool {
    let t = text.trim_end().trim_end_matches(['"', '\'', ')', ']', '\u{201d}', '\u{2019}']);
    t.ends_with(['.', '?', '!'])
}

/// A text cut after each word that ends a sentence ([`ends_sentence`]); the
/// pieces keep their words as written.
pub(crate) fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = None;
    let mut end = 0;
    for (i, word) in text.split_whitespace().map(|w| (w.as_ptr() as usize - text.as_ptr() as usize, w)) {
        start.get_or_insert(i);
        end = i + word.len();
        if ends_sentence(word) {
            out.extend(start.take().map(|s| &text[s..end]));
        }
    }
    out.extend(start.map(|s| &text[s..end]));
    out
}

/// The tokens after any that `lead_ins` lists ("so", "and"; "no", "entä").
pub(crate) fn after_lead_ins<'a, 'b>(tokens: &'a [&'b str], lead_ins: &[&str]) -> &'a [&'b str] {
    let skip = tokens.iter().take_while(|t| lead_ins.contains(t)).count();
    &tokens[skip..]
}

/// Whether a written word ends with a question mark (`?`, or the full-width
/// `？` of Chinese and Japanese), possibly followed by closing quotes or a
/// bracket.
pub(crate) fn asks(written: &str) -> bool {
    written.trim_end().trim_end_matches(['"', '\'', ')', '\u{201d}']).ends_with(['?', '\u{ff1f}'])
}

/// Whether a written word ends a clause: a sentence end, or `,` `;` `:`.
pub(crate) fn ends_clause(text: &str) -> bool {
    ends_sentence(text) || text.trim_end().ends_with([',', ';', ':'])
}

/// The words a text says, counted as a listener would: runs of letters or
/// digits, joined across an inner apostrophe or hyphen ("don't",
/// "follow-up") and across `.` or `,` between digits ("2.5", "1,200").
/// Whisper sometimes glues words across punctuation ("Thanks,Sofia."), so
/// counting whitespace-separated pieces would make that one word.
pub(crate) fn spoken_words(text: &str) -> u32 {
    let chars: Vec<char> = text.chars().collect();
    let joins = |i: usize| {
        let (Some(&before), Some(&after)) = (i.checked_sub(1).and_then(|b| chars.get(b)), chars.get(i + 1))
        else {
            return false;
        };
        match chars[i] {
            '\'' | '\u{2019}' | '-' => before.is_alphanumeric() && after.is_alphanumeric(),
            '.' | ',' => before.is_ascii_digit() && after.is_ascii_digit(),
            _ => false,
        }
    };
    let mut count = 0;
    let mut in_word = false;
    for (i, &c) in chars.iter().enumerate() {
        if c.is_alphanumeric() {
            count += u32::from(!in_word);
            in_word = true;
        } else if !(in_word && joins(i)) {
            in_word = false;
        }
    }
    count
}

/// Lowercase token for rule matching: apostrophes unified, surrounding
/// punctuation removed, inner apostrophes kept (`"I'll,"` → `"i'll"`).
pub(crate) fn token(text: &str) -> String {
    let is_apostrophe = |c: char| c == '\'' || c == '\u{2019}';
    let core =
        text.trim_matches(|c: char| !c.is_alphanumeric() && !is_apostrophe(c)).trim_matches(is_apostrophe);
    let mut out = String::with_capacity(core.len());
    for c in core.chars() {
        if c == '\u{2019}' {
            out.push('\'');
        } else if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// English function words, conversational fillers and number words: never a
/// "keyword customers use" on their own.
pub(crate) const STOP_WORDS: &[&str] = &[
    "a",
    "able",
    "about",
    "above",
    "actually",
    "after",
    "again",
    "against",
    "ah",
    "all",
    "already",
    "also",
    "am",
    "an",
    "and",
    "any",
    "anyone",
    "anything",
    "anyway",
    "are",
    "aren't",
    "around",
    "as",
    "ask",
    "asked",
    "at",
    "back",
    "basically",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "bit",
    "both",
    "but",
    "by",
    "bye",
    "can",
    "can't",
    "cannot",
    "come",
    "could",
    "couldn't",
    "day",
    "days",
    "did",
    "didn't",
    "do",
    "does",
    "doesn't",
    "doing",
    "don't",
    "done",
    "down",
    "each",
    "eight",
    "eighteen",
    "eighty",
    "eleven",
    "else",
    "even",
    "ever",
    "every",
    "everyone",
    "few",
    "fifteen",
    "fifty",
    "fine",
    "first",
    "five",
    "for",
    "forty",
    "four",
    "fourteen",
    "from",
    "further",
    "get",
    "gets",
    "getting",
    "go",
    "goes",
    "going",
    "gonna",
    "good",
    "got",
    "great",
    "guess",
    "had",
    "hadn't",
    "has",
    "hasn't",
    "have",
    "haven't",
    "having",
    "he",
    "he'd",
    "he'll",
    "he's",
    "hello",
    "her",
    "here",
    "here's",
    "hers",
    "herself",
    "hey",
    "hi",
    "him",
    "himself",
    "his",
    "hm",
    "hmm",
    "how",
    "how's",
    "hundred",
    "i",
    "i'd",
    "i'll",
    "i'm",
    "i've",
    "if",
    "in",
    "into",
    "is",
    "isn't",
    "it",
    "it'd",
    "it'll",
    "it's",
    "its",
    "itself",
    "just",
    "keep",
    "kind",
    "know",
    "last",
    "let",
    "let's",
    "like",
    "look",
    "looking",
    "lot",
    "lots",
    "make",
    "many",
    "maybe",
    "me",
    "mean",
    "mhm",
    "might",
    "million",
    "mine",
    "more",
    "most",
    "much",
    "must",
    "mustn't",
    "my",
    "myself",
    "need",
    "needs",
    "never",
    "new",
    "next",
    "nine",
    "nineteen",
    "ninety",
    "no",
    "nope",
    "nor",
    "not",
    "now",
    "of",
    "off",
    "oh",
    "ok",
    "okay",
    "on",
    "once",
    "one",
    "only",
    "or",
    "other",
    "ought",
    "our",
    "ours",
    "ourselves",
    "out",
    "over",
    "own",
    "per",
    "percent",
    "please",
    "pretty",
    "probably",
    "put",
    "quite",
    "really",
    "right",
    "said",
    "same",
    "say",
    "says",
    "see",
    "send",
    "seven",
    "seventeen",
    "seventy",
    "shall",
    "shan't",
    "she",
    "she'd",
    "she'll",
    "she's",
    "should",
    "shouldn't",
    "six",
    "sixteen",
    "sixty",
    "so",
    "some",
    "someone",
    "something",
    "sorry",
    "sort",
    "sound",
    "sounds",
    "still",
    "stuff",
    "sure",
    "take",
    "talk",
    "tell",
    "ten",
    "than",
    "thank",
    "thanks",
    "that",
    "that's",
    "the",
    "their",
    "theirs",
    "them",
    "themselves",
    "then",
    "there",
    "there's",
    "these",
    "they",
    "they'd",
    "they'll",
    "they're",
    "they've",
    "thing",
    "things",
    "think",
    "thirteen",
    "thirty",
    "this",
    "those",
    "thousand",
    "three",
    "through",
    "time",
    "to",
    "today",
    "told",
    "too",
    "twelve",
    "twenty",
    "two",
    "uh",
    "uh-huh",
    "um",
    "under",
    "until",
    "up",
    "us",
    "usually",
    "very",
    "via",
    "wait",
    "want",
    "was",
    "wasn't",
    "way",
    "we",
    "we'd",
    "we'll",
    "we're",
    "we've",
    "week",
    "well",
    "were",
    "weren't",
    "what",
    "what's",
    "whatever",
    "when",
    "when's",
    "where",
    "where's",
    "which",
    "while",
    "who",
    "who's",
    "whom",
    "why",
    "why's",
    "will",
    "with",
    "won't",
    "work",
    "working",
    "works",
    "would",
    "wouldn't",
    "yeah",
    "year",
    "yep",
    "yes",
    "yet",
    "you",
    "you'd",
    "you'll",
    "you're",
    "you've",
    "your",
    "yours",
    "yourself",
    "yourselves",
    "zero",
];

/// Whether a lowercase token is a stop word.
pub(crate) fn is_stop_word(token: &str) -> bool {
    STOP_WORDS.binary_search(&token).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spoken_words_counts_words_glued_by_punctuation() {
        assert_eq!(spoken_words("Sounds good. Thanks, Sofia."), 4);
        assert_eq!(spoken_words("Sounds good. Thanks,ophia."), 4);
        assert_eq!(spoken_words("I don't need a follow-up."), 5);
        assert_eq!(spoken_words("It's 18% higher, 1,200 or 2.5 times."), 7);
        assert_eq!(spoken_words("Okay... -- right?"), 2);
        assert_eq!(spoken_words(""), 0);
    }

    #[test]
    fn stop_words_are_sorted_for_binary_search() {
        assert!(STOP_WORDS.windows(2).all(|w| w[0] < w[1]), "STOP_WORDS must be sorted and unique");
    }

    #[test]
    fn word_keys() {
        assert_eq!(word_key("Flexport's,"), "flexport");
        assert_eq!(word_key("HubSpot."), "hubspot");
        assert_eq!(word_key("Sentinel-1"), "sentinel1");
        assert_eq!(word_key("CrowdStrike\u{2019}s"), "crowdstrike");
        assert_eq!(word_key("—"), "");
    }

    #[test]
    fn stems() {
        assert_eq!(stem("discounts"), "discount");
        assert_eq!(stem("companies"), "company");
        assert_eq!(stem("boxes"), "box");
        assert_eq!(stem("business"), "business");
        assert_eq!(stem("analysis"), "analysis");
        assert_eq!(stem("status"), "status");
        assert_eq!(stem("yes"), "yes");
        assert_eq!(stem("sentinel1"), "sentinel1");
    }

    #[test]
    fn tokens_and_sentence_ends() {
        assert_eq!(token("I\u{2019}ll,"), "i'll");
        assert_eq!(token("\"Really?\""), "really");
        assert!(ends_sentence("today?"));
        assert!(ends_sentence("done.\""));
        assert!(!ends_sentence("well,"));
        assert!(ends_clause("well,"));
    }
}
