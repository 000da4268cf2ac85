//! Action items: commitments and next steps ("I'll send you the proposal
//! today", "let's book a demo on Thursday", "our team will review it").
//!
//! Rule-based and deliberately precise: a clause is an action item when a
//! commitment marker (`I'll`, `we will`, `I'm going to`, `let me`, `let's`,
//! `I can`, ...) is followed, within three words, by an action verb (send,
//! schedule, book, review, follow up, ...). Questions, negated commitments
//! ("we won't send") and conditionals ("if you sign, we'll ...") are not
//! action items. The owner is the speaker who committed.

/// Verbs that make a commitment concrete.
const ACTION_VERBS: &[&str] = &[
    "arrange",
    "assign",
    "attach",
    "book",
    "bring",
    "call",
    "check",
    "circle",
    "confirm",
    "connect",
    "demo",
    "draft",
    "email",
    "finalize",
    "follow",
    "forward",
    "get",
    "hold",
    "include",
    "introduce",
    "invite",
    "look",
    "loop",
    "meet",
    "organize",
    "ping",
    "prepare",
    "put",
    "reach",
    "review",
    "run",
    "schedule",
    "send",
    "set",
    "share",
    "ship",
    "sign",
    "start",
    "talk",
    "text",
    "update",
    "walk",
    "write",
    "discuss",
    "deliver",
    "add",
    "provide",
    "block",
    "reserve",
    "pencil",
    "come",
];

/// Words that anchor an offer ("I can ...") in time, which makes it a commitment.
const TIME_WORDS: &[&str] = &[
    "today",
    "tonight",
    "tomorrow",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "week",
    "weekend",
    "month",
    "morning",
    "afternoon",
    "evening",
    "eod",
    "asap",
    "later",
    "soon",
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// Subjects that can commit.
const COMMITTERS: &[&str] =
    &["i", "we", "team", "colleague", "engineer", "manager", "they", "he", "she", "someone"];

fn is_action_verb(token: &str) -> bool {
    ACTION_VERBS.contains(&token)
}

/// Whether a clause (its non-empty lowercase tokens) is a commitment.
pub(crate) fn is_action_item(t: &[&str], is_question: bool) -> bool {
    if is_question || t.is_empty() || t[0] == "if" || t[0] == "unless" {
        return false;
    }
    for i in 0..t.len() {
        // Position just after the commitment marker, if one starts at `i`.
        let after = match t[i] {
            "i'll" | "we'll" | "they'll" | "he'll" | "she'll" => Some(i + 1),
            "let's" => Some(i + 1),
            "let" if matches!(t.get(i + 1), Some(&"me") | Some(&"us")) => Some(i + 2),
            "will" if i > 0 && COMMITTERS.contains(&t[i - 1]) => Some(i + 1),
            "will" if i > 1 && COMMITTERS.contains(&t[i - 2]) => Some(i + 1), // "our team will"
            "can" if i > 0 && matches!(t[i - 1], "i" | "we") => Some(i + 1),
            "going" if i > 0 && matches!(t[i - 1], "i'm" | "we're" | "am" | "are") => {
                (t.get(i + 1) == Some(&"to")).then_some(i + 2)
            }
            _ => None,
        };
        let Some(after) = after else { continue };
        if t.get(after).is_some_and(|w| matches!(*w, "not" | "never")) {
            return false;
        }
        // "I can assign you an engineer" is an offer; "I can send it on Friday" a commitment.
        if t[i] == "can" && !t.iter().any(|w| TIME_WORDS.contains(w)) {
            continue;
        }
        if t.iter().skip(after).take(3).any(|w| is_action_verb(w)) {
            return true;
        }
    }
    false
}

/// Whether a clause should be cut before this token: "and" followed by an
/// action verb or a new commitment ("I'll email it and check back in January").
pub(crate) fn starts_new_clause(token: &str, next: Option<&str>) -> bool {
    token == "and"
        && next.is_some_and(|n| {
            is_action_verb(n) || matches!(n, "i'll" | "we'll" | "i" | "we" | "let's" | "then")
        })
}

/// Whether a clause continues a commitment made in the clause before it:
/// "I'll email the comparison | and check back in January" — the second part
/// starts with "and" and an action verb, and shares the first part's subject.
pub(crate) fn continues_commitment(tokens: &[&str]) -> bool {
    tokens.first() == Some(&"and") && tokens.get(1).is_some_and(|t| is_action_verb(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn act(s: &str) -> bool {
        let tokens: Vec<String> =
            s.split_whitespace().map(crate::text::token).filter(|t| !t.is_empty()).collect();
        let tokens: Vec<&str> = tokens.iter().map(String::as_str).collect();
        is_action_item(&tokens, s.ends_with('?'))
    }

    #[test]
    fn commitments() {
        assert!(act("I'll send you the proposal today."));
        assert!(act("Let's book a demo on Thursday."));
        assert!(act("Our security team will send you the incident report by Wednesday"));
        assert!(act("I'm going to set up a call with our engineer."));
        assert!(act("Let me check with finance and get back to you."));
        assert!(act("I can send the server list on Friday."));
        assert!(act("Yes, I'll attach our standard contract as well."));
    }

    #[test]
    fn not_commitments() {
        assert!(!act("Can I send you the proposal?"));
        assert!(!act("We won't send anything yet."));
        assert!(!act("I will not sign this."));
        assert!(!act("If you sign this quarter, we'll send a discount."));
        assert!(!act("We sent the report last week."));
        assert!(!act("I'll be honest with you."));
        assert!(!act("I can also hold your price at last year's level."));
    }
}
