//! Search across transcripts, the part both backends share: what a query
//! means, and where it matched.
//!
//! # What a query matches
//! A query is a **phrase**: its words, in order, each matched whole and
//! case-insensitively, anything but letters and digits between them ignored.
//! `"Budget" next QUARTER?` finds "…the budget next quarter…" and "budget,
//! next quarter", not "budgets next quarter". A word is a run of letters and
//! digits ([`char::is_alphanumeric`]), as SQLite's `unicode61` tokenizer splits
//! text, so quotes, `AND`, `*` or `NEAR` in a query are words or nothing,
//! never query syntax: each backend gets only the words.
//!
//! The backends find candidates with their index (SQLite: an FTS5 phrase
//! query; ClickHouse: `lowerUTF8(text) LIKE '%w1%w2%'`, which its n-gram
//! index can skip with) and every candidate is checked here, by [`locate`],
//! which also says where to highlight. A candidate that does not hold the
//! phrase (a ClickHouse `LIKE` inside a longer word) is dropped, so both
//! backends return the same hits.

use chrono::{Datelike, Days, Months};

use crate::types::{DateRange, SearchHit};
use crate::{Result, StoreError};

/// The fewest characters a phrase's words must have together: shorter
/// queries match too much to be useful, and ClickHouse's n-gram index needs
/// at least three characters to skip anything.
pub const MIN_PHRASE_CHARS: usize = 3;

/// The most words a phrase may have.
pub const MAX_PHRASE_WORDS: usize = 16;

/// Characters of context a snippet keeps before and after the first match.
const SNIPPET_CONTEXT: usize = 60;

/// The words of a query, lower-cased, in order; an error (naming `q`) when
/// it has too few characters or too many words to search for.
pub fn phrase_words(query: &str) -> Result<Vec<String>> {
    let words: Vec<String> = words(query).map(|(_, _, w)| w).collect();
    let chars: usize = words.iter().map(|w| w.chars().count()).sum();
    let invalid = |reason: String| StoreError::InvalidInput { call_id: String::new(), field: "q", reason };
    if chars < MIN_PHRASE_CHARS {
        return Err(invalid(format!(
            "search for at least {MIN_PHRASE_CHARS} letters or digits (punctuation is ignored)"
        )));
    }
    if words.len() > MAX_PHRASE_WORDS {
        return Err(invalid(format!("search for at most {MAX_PHRASE_WORDS} words")));
    }
    Ok(words)
}

/// The words of `text` with their byte ranges: runs of letters and digits,
/// lower-cased.
fn words(text: &str) -> impl Iterator<Item = (usize, usize, String)> + '_ {
    let mut chars = text.char_indices().peekable();
    std::iter::from_fn(move || {
        let (start, _) = chars.by_ref().find(|(_, c)| c.is_alphanumeric())?;
        let mut end = text.len();
        while let Some(&(i, c)) = chars.peek() {
            if !c.is_alphanumeric() {
                end = i;
                break;
            }
            chars.next();
        }
        Some((start, end, text[start..end].to_lowercase()))
    })
}

/// Where `phrase` (from [`phrase_words`]) occurs in `text`: byte ranges, from
/// the first word's start to the last word's end, in order, not overlapping.
pub fn locate(text: &str, phrase: &[String]) -> Vec<(usize, usize)> {
    if phrase.is_empty() {
        return Vec::new();
    }
    let words: Vec<(usize, usize, String)> = words(text).collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i + phrase.len() <= words.len() {
        if words[i..i + phrase.len()].iter().zip(phrase).all(|(w, p)| w.2 == *p) {
            found.push((words[i].0, words[i + phrase.len() - 1].1));
            i += phrase.len();
        } else {
            i += 1;
        }
    }
    found
}

/// Whether ClickHouse's word index (`010_search_words`) holds `word` as one
/// token: every character a Unicode letter or number (`\p{L}`, `\p{N}`, as
/// the index's `replaceRegexpAll` splits). [`words`] also keeps some marks
/// inside words (Devanagari vowel signs, for example) that the index splits
/// at; such a word gets no `hasToken`, and `LIKE` alone finds it.
pub(crate) fn indexed_word(word: &str) -> bool {
    static LETTERS_AND_NUMBERS: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r"^[\p{L}\p{N}]+$").expect("a valid pattern"));
    LETTERS_AND_NUMBERS.is_match(word)
}

/// The `LIKE` pattern ClickHouse prefilters with: the words in order with
/// anything between (`%w1%w2%`), `\`, `%` and `_` escaped (words hold none,
/// but the pattern must never depend on that).
pub(crate) fn like_pattern(phrase: &[String]) -> String {
    let mut pattern = String::from("%");
    for word in phrase {
        for c in word.chars() {
            if matches!(c, '\\' | '%' | '_') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push('%');
    }
    pattern
}

/// The FTS5 query for a phrase: the words as one quoted phrase. Words hold
/// only letters and digits, so nothing in them is FTS5 syntax.
pub(crate) fn fts_phrase(phrase: &[String]) -> String {
    format!("\"{}\"", phrase.join(" ").replace('"', "\"\""))
}

/// Days in the newest window a search reads.
const FIRST_WINDOW_DAYS: u64 = 7;

/// A search's range read in windows, newest first. Hits are listed newest
/// first, so a search reads window by window and stops once it has enough.
/// The first window is the last 7 days; each next one is sized by what the
/// windows so far found: twice the last at least, or as many days as the hits
/// still wanted should take at the rate found so far (with half again to
/// spare), or, when under a quarter of the hits wanted were found, the rest
/// of the range. So a phrase said in many calls costs about a week of lines,
/// and a rare one two or three queries instead of one.
#[derive(Debug)]
pub(crate) struct Windows {
    range: DateRange,
    /// The last day of the next window; `None` once the range is read.
    next_to: Option<chrono::NaiveDate>,
    /// Days of the last window.
    last_days: u64,
}

impl Windows {
    pub(crate) fn new(range: DateRange) -> Windows {
        Windows { range, next_to: (range.from <= range.to).then_some(range.to), last_days: 0 }
    }

    /// The next window, given the hits found so far and the hits wanted.
    pub(crate) fn next(&mut self, found: usize, wanted: usize) -> Option<DateRange> {
        let to = self.next_to?;
        let rest = (to - self.range.from).num_days().max(0) as u64 + 1;
        let days = if self.last_days == 0 {
            FIRST_WINDOW_DAYS
        } else if found.saturating_mul(4) < wanted {
            rest
        } else {
            let covered = (self.range.to - to).num_days().max(0) as u64;
            let projected = covered.saturating_mul(wanted.saturating_sub(found) as u64).saturating_mul(3)
                / (2 * found.max(1) as u64);
            self.last_days.saturating_mul(2).max(projected)
        }
        .min(rest);
        let from = to.checked_sub_days(Days::new(days - 1)).unwrap_or(self.range.from).max(self.range.from);
        self.next_to = from.checked_sub_days(Days::new(1)).filter(|d| *d >= self.range.from);
        self.last_days = days;
        Some(DateRange::new(from, to))
    }
}

/// The months (`YYYYMM`, UTC) that `range` touches.
pub(crate) fn months(range: &DateRange) -> Vec<String> {
    let mut months = Vec::new();
    let mut month = range.from.with_day(1).filter(|_| range.from <= range.to);
    while let Some(m) = month.filter(|m| *m <= range.to) {
        months.push(m.format("%Y%m").to_string());
        month = m.checked_add_months(Months::new(1));
    }
    months
}

/// A value as the SQLite index's scope tokens spell it: `HEX()` of its UTF-8
/// bytes (upper case; the tokenizer folds case anyway).
pub(crate) fn hex(value: &str) -> String {
    value.bytes().map(|b| format!("{b:02X}")).collect()
}

/// An utterance a backend found, before it is checked.
#[derive(Debug)]
pub(crate) struct Candidate {
    pub call_id: String,
    pub seller_id: String,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub turn: u32,
    pub role: String,
    pub start_s: f64,
    pub end_s: f64,
    pub text: String,
}

impl Candidate {
    /// The hit, with a snippet around the first match and every match in
    /// it highlighted; `None` if the text does not hold the phrase.
    pub(crate) fn hit(self, phrase: &[String]) -> Option<SearchHit> {
        let found = locate(&self.text, phrase);
        let &(first, _) = found.first()?;
        let (snippet, highlights) = snippet(&self.text, &found, first);
        Some(SearchHit {
            call_id: self.call_id,
            seller_id: self.seller_id,
            started_at: self.started_at,
            turn: self.turn,
            role: crate::types::parse_role(&self.role),
            start_s: self.start_s,
            end_s: self.end_s,
            snippet,
            highlights,
        })
    }
}

/// A window of `text` around the match starting at byte `first`, with `…`
/// where it was cut, and the matches inside it as character ranges
/// `[start, end)` of the snippet (what JavaScript's `Array.from` indexes).
fn snippet(text: &str, found: &[(usize, usize)], first: usize) -> (String, Vec<[usize; 2]>) {
    let before = text[..first].char_indices().rev().nth(SNIPPET_CONTEXT - 1).map_or(0, |(i, _)| i);
    // Start at a word boundary: after the first space of the cut.
    let start = if before == 0 {
        0
    } else {
        text[before..first].find(char::is_whitespace).map_or(before, |s| before + s + 1)
    };
    let first_end = found.first().map_or(first, |f| f.1);
    let after =
        text[first_end..].char_indices().nth(SNIPPET_CONTEXT).map_or(text.len(), |(i, _)| first_end + i);
    let end = if after == text.len() {
        after
    } else {
        text[first_end..after].rfind(char::is_whitespace).map_or(after, |s| first_end + s)
    };
    let mut out = String::new();
    let mut offset = 0usize; // characters before `start` in `out`
    if start > 0 {
        out.push('…');
        offset = 1;
    }
    out.push_str(text[start..end].trim_end());
    let kept = start + text[start..end].trim_end().len();
    if end < text.len() {
        out.push('…');
    }
    let chars = |from: usize, to: usize| text[from..to].chars().count();
    let highlights = found
        .iter()
        .filter(|&&(s, e)| s >= start && e <= kept)
        .map(|&(s, e)| [offset + chars(start, s), offset + chars(start, e)])
        .collect();
    (out, highlights)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(q: &str) -> Vec<String> {
        phrase_words(q).expect("valid phrase")
    }

    fn day(s: &str) -> chrono::NaiveDate {
        s.parse().expect("a date")
    }

    /// The windows `found` says to read, given the hits found after each.
    fn windows(range: DateRange, found: &[usize], wanted: usize) -> Vec<(String, String)> {
        let mut windows = Windows::new(range);
        let mut spans = Vec::new();
        let mut total = 0;
        for f in found.iter().copied().chain(std::iter::repeat(0)) {
            let Some(w) = windows.next(total, wanted) else { break };
            spans.push((w.from.to_string(), w.to.to_string()));
            total += f;
        }
        spans
    }

    fn spans(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
    }

    #[test]
    fn windows_cover_the_range_newest_first_without_overlap() {
        let year = DateRange::new(day("2026-01-01"), day("2026-12-31"));
        // Nothing found in the last week: the rest of the range at once.
        assert_eq!(
            windows(year, &[], 51),
            spans(&[("2026-12-25", "2026-12-31"), ("2026-01-01", "2026-12-24")])
        );
        // Some found: at least twice the last window, or what the rate found
        // says (16 days for the 31 hits still wanted at 20 a week, with half again).
        assert_eq!(
            windows(year, &[20, 10, 0], 51),
            spans(&[
                ("2026-12-25", "2026-12-31"),
                ("2026-12-09", "2026-12-24"),
                ("2026-11-07", "2026-12-08"),
                ("2026-09-04", "2026-11-06"),
                ("2026-04-29", "2026-09-03"),
                ("2026-01-01", "2026-04-28"),
            ])
        );
        // Nearly all found at once, none after: doubling.
        assert_eq!(
            windows(year, &[50, 0], 51),
            spans(&[
                ("2026-12-25", "2026-12-31"),
                ("2026-12-11", "2026-12-24"),
                ("2026-11-13", "2026-12-10"),
                ("2026-09-18", "2026-11-12"),
                ("2026-05-29", "2026-09-17"),
                ("2026-01-01", "2026-05-28"),
            ])
        );
        // Windows are adjacent: no gap, no overlap, and they end at the first day.
        let mut w = Windows::new(year);
        let mut last: Option<DateRange> = None;
        while let Some(next) = w.next(13, 51) {
            if let Some(last) = last {
                assert_eq!(next.to.succ_opt(), Some(last.from));
            }
            last = Some(next);
        }
        assert_eq!(last.map(|l| l.from), Some(year.from));
        // A range shorter than the first window is one window; an empty range none.
        let short = DateRange::new(day("2026-03-01"), day("2026-03-02"));
        assert_eq!(Windows::new(short).next(0, 51), Some(short));
        assert_eq!(Windows::new(DateRange::new(day("2026-03-02"), day("2026-03-01"))).next(0, 51), None);
        // The earliest representable day ends the walk instead of overflowing.
        let first = DateRange::new(chrono::NaiveDate::MIN, chrono::NaiveDate::MIN);
        let mut w = Windows::new(first);
        assert_eq!((w.next(0, 51), w.next(0, 51)), (Some(first), None));
    }

    #[test]
    fn words_the_clickhouse_index_holds() {
        for word in ["budget", "hyvää", "straße", "km²", "2026", "naïve", "日本語"] {
            assert!(indexed_word(word), "{word}");
        }
        // A Devanagari word with vowel signs (marks, not letters): LIKE only.
        assert!(!indexed_word("हिन्दी"));
        assert!(!indexed_word(""));
    }

    #[test]
    fn months_and_hex_spell_the_index_tokens() {
        assert_eq!(
            months(&DateRange::new(day("2025-11-30"), day("2026-02-01"))),
            ["202511", "202512", "202601", "202602"]
        );
        assert_eq!(months(&DateRange::new(day("2026-02-10"), day("2026-02-10"))), ["202602"]);
        assert!(months(&DateRange::new(day("2026-02-10"), day("2026-02-09"))).is_empty());
        assert_eq!(hex("s-1"), "732D31");
        assert_eq!(hex("ä"), "C3A4");
    }

    #[test]
    fn a_query_is_its_words_never_syntax() {
        assert_eq!(w("\"Budget\" next QUARTER?"), ["budget", "next", "quarter"]);
        assert_eq!(w("price AND \"discount*\" OR NEAR(x)"), ["price", "and", "discount", "or", "near", "x"]);
        assert_eq!(w("Hyvää päivää"), ["hyvää", "päivää"]);
        for short in ["", "  ", "a", "ok", "***", "\"a\" b"] {
            let err = phrase_words(short).expect_err(short);
            assert!(matches!(err, StoreError::InvalidInput { field: "q", .. }), "{short}: {err}");
        }
        assert!(phrase_words(&"word ".repeat(MAX_PHRASE_WORDS + 1)).is_err());
    }

    #[test]
    fn a_phrase_is_whole_words_in_order() {
        let text = "The budget, next quarter. Budgets next quarter? THE BUDGET NEXT QUARTER!";
        let at: Vec<&str> =
            locate(text, &w("budget next quarter")).iter().map(|&(s, e)| &text[s..e]).collect();
        assert_eq!(at, ["budget, next quarter", "BUDGET NEXT QUARTER"]);
        assert!(locate(text, &w("quarter budget next")).is_empty());
        assert!(locate("budgetary", &w("budget")).is_empty());
        assert_eq!(locate("Ääni ja ääni", &w("ÄÄNI")), [(0, 6), (10, 16)]);
    }

    #[test]
    fn the_backends_get_escaped_words() {
        assert_eq!(like_pattern(&w("next quarter")), "%next%quarter%");
        assert_eq!(like_pattern(&["a_b%c\\".to_owned()]), "%a\\_b\\%c\\\\%");
        assert_eq!(fts_phrase(&w("price AND discount*")), "\"price and discount\"");
    }

    #[test]
    fn snippets_cut_around_the_match_and_mark_it_by_character() {
        let text = format!("{} the ÄÄNI budget here {}", "word ".repeat(40), "tail ".repeat(40));
        let found = locate(&text, &w("äänI budget"));
        let (snippet, marks) = snippet(&text, &found, found[0].0);
        assert!(snippet.starts_with('…') && snippet.ends_with('…'), "{snippet}");
        let chars: Vec<char> = snippet.chars().collect();
        let marked: String = chars[marks[0][0]..marks[0][1]].iter().collect();
        assert_eq!(marked, "ÄÄNI budget");
        assert!(snippet.chars().count() < 2 * SNIPPET_CONTEXT + 20, "{snippet}");

        let short = "Budget? Yes, the budget.";
        let found = locate(short, &w("budget"));
        let (snippet, marks) = super::snippet(short, &found, found[0].0);
        assert_eq!(snippet, short);
        assert_eq!(marks, [[0, 6], [17, 23]]);
    }
}
