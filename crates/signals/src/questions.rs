//! Questions: sentences that end with `?`, or that have an interrogative form
//! even when the transcriber left out the question mark ("can you send it over",
//! "what does your renewal look like").

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

/// Whether a sentence is a question: its last written word, and its
/// non-empty lowercase tokens ([`crate::text::token`]).
pub(crate) fn is_question(last_written: Option<&str>, tokens: &[&str]) -> bool {
    let Some(last) = last_written else { return false };
    if crate::text::asks(last) {
        return true;
    }
    // Without a question mark, only an unmistakable form counts (aux +
    // subject, or wh + aux), whatever other punctuation the transcriber used.
    let tokens = crate::text::after_lead_ins(tokens, LEAD_INS);
    let (Some(&first), Some(&second)) = (tokens.first(), tokens.get(1)) else { return false };
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
        let tokens: Vec<String> =
            s.split_whitespace().map(crate::text::token).filter(|t| !t.is_empty()).collect();
        let tokens: Vec<&str> = tokens.iter().map(String::as_str).collect();
        is_question(s.split_whitespace().last(), &tokens)
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
