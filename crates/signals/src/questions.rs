//! Questions: sentences that end with `?`, or that have an interrogative form
//! even when the transcriber left out the question mark ("can you send it over",
//! "what does your renewal look like").

use crate::text::token;

/// Words that may open a question without changing its meaning.
const LEAD_INS: &[&str] = &["so", "and", "but", "okay", "ok", "well", "now", "then", "also", "oh", "right"];
/// Interrogative pronouns and adverbs.
const WH: &[&str] = &["what", "why", "how", "when", "where", "who", "which", "whose", "whom"];
/// Auxiliaries that open a yes/no question when followed by a subject.
const AUX: &[&str] = &[
    "do", "does", "did", "is", "are", "was", "were", "can", "could", "would", "will", "should", "shall",
    "have", "has", "may", "might", "am", "isn't", "aren't", "don't", "doesn't", "didn't", "won't",
    "wouldn't", "can't",
];
/// Subjects that follow an auxiliary in a question.
const SUBJECTS: &[&str] = &[
    "you", "we", "i", "it", "they", "he", "she", "there", "this", "that", "your", "our", "the", "anyone",
    "everyone",
];

/// Whether a sentence (its written words) is a question.
pub(crate) fn is_question(words: &[&str]) -> bool {
    let Some(last) = words.last() else { return false };
    if last.trim_end().trim_end_matches(['"', '\'', ')']).ends_with('?') {
        return true;
    }
    // A sentence closed with `.` or `!` by the transcriber is taken at its word
    // unless its form is unmistakable (aux + subject, or wh + aux).
    let tokens: Vec<String> = words.iter().map(|w| token(w)).filter(|t| !t.is_empty()).collect();
    let mut i = 0;
    while i < tokens.len() && LEAD_INS.contains(&tokens[i].as_str()) {
        i += 1;
    }
    let (Some(first), Some(second)) = (tokens.get(i), tokens.get(i + 1)) else { return false };
    let (first, second) = (first.as_str(), second.as_str());
    if AUX.contains(&first) && SUBJECTS.contains(&second) {
        return true;
    }
    if WH.contains(&first) {
        // "what's", "how's", "what do", "how about": wh + aux / contraction.
        return AUX.contains(&second) || second == "about" || first.contains('\'');
    }
    first.starts_with("what'")
        || first.starts_with("how'")
        || first.starts_with("where'")
        || first.starts_with("who'")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> bool {
        is_question(&s.split_whitespace().collect::<Vec<_>>())
    }

    #[test]
    fn question_marks_and_forms() {
        assert!(q("How many seats?"));
        assert!(q("Can you send it over"));
        assert!(q("So what does your renewal look like."));
        assert!(q("What's the budget"));
        assert!(q("And how about Thursday"));
        assert!(q("Is there anything else"));
        assert!(!q("What we need is a better price."));
        assert!(!q("I can send it today."));
        assert!(!q("There is a discount."));
        assert!(!q(""));
    }
}
