//! Word error rate: Levenshtein alignment of normalized words.

use callscope_model::{Role, Transcript};

/// Lowercase letters, digits and apostrophes of a word ("Hi," → "hi").
pub fn norm(w: &str) -> String {
    w.chars().filter(|c| c.is_alphanumeric() || *c == '\'').flat_map(char::to_lowercase).collect()
}

/// Edit distance alignment of reference and hypothesis tokens: the number of
/// errors and the matched pairs (ref index, hyp index).
pub fn align(reference: &[String], hypothesis: &[String]) -> (usize, Vec<(usize, usize)>) {
    let (n, m) = (reference.len(), hypothesis.len());
    let mut d = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=n {
        for j in 1..=m {
            let sub = d[i - 1][j - 1] + usize::from(reference[i - 1] != hypothesis[j - 1]);
            d[i][j] = sub.min(d[i - 1][j] + 1).min(d[i][j - 1] + 1);
        }
    }
    let mut matches = Vec::new();
    let (mut i, mut j) = (n, m);
    while i > 0 && j > 0 {
        let same = reference[i - 1] == hypothesis[j - 1];
        if d[i][j] == d[i - 1][j - 1] + usize::from(!same) {
            if same {
                matches.push((i - 1, j - 1));
            }
            i -= 1;
            j -= 1;
        } else if d[i][j] == d[i - 1][j] + 1 {
            i -= 1;
        } else {
            j -= 1;
        }
    }
    matches.reverse();
    (d[n][m], matches)
}

/// The value at quantile `p` of sorted values (nearest rank); `None` for none.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    (!sorted.is_empty()).then(|| sorted[((sorted.len() - 1) as f64 * p).round() as usize])
}

/// A speaker's words, normalized and split at hyphens, in time order.
pub fn speaker_tokens(t: &Transcript, speaker: &str) -> Vec<String> {
    let mut w: Vec<&callscope_model::Word> = t.words.iter().filter(|w| w.speaker == speaker).collect();
    w.sort_by(|a, b| a.start.total_cmp(&b.start));
    w.iter().flat_map(|w| w.text.split('-').map(norm).collect::<Vec<_>>()).filter(|x| !x.is_empty()).collect()
}

/// A role's words (all words for `None`), normalized, with their start times,
/// in time order.
pub fn words_in_time_order(t: &Transcript, role: Option<Role>) -> Vec<(String, f64)> {
    let mut w: Vec<(String, f64)> = t
        .words
        .iter()
        .filter(|w| role.is_none() || t.role_of(&w.speaker) == role)
        // Hyphenated words count as their parts ("one-page" = "one page"), so
        // that tokenizers that split or keep hyphens score the same.
        .flat_map(|w| w.text.split('-').map(|part| (norm(part), w.start)).collect::<Vec<_>>())
        .filter(|(w, _)| !w.is_empty())
        .collect();
    w.sort_by(|a, b| a.1.total_cmp(&b.1));
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<String> {
        s.split_whitespace().map(norm).collect()
    }

    #[test]
    fn wer_alignment() {
        let (errors, matches) =
            align(&toks("Hi, this is Daniel from Pulsedesk."), &toks("hi this is danielle from pulse desk"));
        assert_eq!(errors, 3); // substitution, substitution, insertion
        assert_eq!(matches, [(0, 0), (1, 1), (2, 2), (4, 4)]);
        assert_eq!(align(&toks(""), &toks("a b")).0, 2);
    }
}
