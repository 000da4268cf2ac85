//! Per-call conversation KPIs (definitions v1): talk-to-listen ratio, talking
//! speed, switches, pause before responding, longest monologues, interruptions
//! and seller questions.
//!
//! Managers coach people on these numbers and analysts query them from BI tools,
//! so they are defined exactly, versioned ([`KPI_VERSION`], stored with every
//! result) and computed by pure functions over a [`Transcript`]: no I/O, no
//! configuration, no hidden state. The same transcript always gives the same
//! values, bit for bit, which is what golden files need. Changing any definition
//! below bumps [`KPI_VERSION`]. The prose version is `docs/kpis.md`.
//!
//! # Definitions v1
//! Words are sorted by `(start, end)` (a stable sort, so exact ties keep their
//! input order). Every word has the role of its speaker.
//!
//! 1. **Raw runs**: maximal runs of consecutive words with the same role.
//! 2. **Backchannel**: a raw run, not the first or the last, with at most
//!    [`BACKCHANNEL_MAX_WORDS`] words and a duration (its last word's end minus
//!    its first word's start) of at most [`BACKCHANNEL_MAX_S`], whose previous
//!    and next raw runs have the same role, different from its own ("mhm",
//!    "right, okay" while the other party talks).
//! 3. **Turns**: the backchannel runs are dropped; the remaining words are
//!    grouped in order. A word joins the current turn when it has the turn's role
//!    and `word.start − turn.end ≤` [`TURN_GAP_S`]; otherwise it starts a new
//!    turn. A turn's end is the latest end of its words.
//! 4. **Talk time** of a role: the sum of `end − start` over all its words,
//!    backchannels included. `talk_ratio = seller / (seller + customer)`.
//! 5. **Talking speed**: words of the role / (talk time / 60).
//! 6. **Switches**: adjacent turn pairs with different roles;
//!    `switches_per_hour = switches / (duration / 3600)`, where the duration is
//!    the transcript's `duration_s` when given, otherwise the latest word end
//!    minus the earliest word start.
//! 7. **Average pause before responding**: the mean of `next.start − prev.end`
//!    over adjacent turn pairs customer → seller whose gap is `≥ 0`.
//! 8. **Longest monologue** of a role: its longest turn, `end − start`; 0 if none.
//! 9. **Interruptions**: adjacent turn pairs with different roles where
//!    `next.start < prev.end`.
//! 10. **Seller questions**: seller turns containing a word ending in `?`.
//!
//! A value whose denominator is zero is `None` (JSON `null`), never 0 or NaN.
//!
//! # Why these shapes
//! Turn segmentation ([`segment_turns`]) is public because the signals and the
//! call page show the same turns the KPIs count; one definition, one function.
//! The KPI pass works on a compact, role-resolved copy of the words so that a
//! 60-minute call (about 9,000 words) costs well under a millisecond.

use callscope_model::{CallKpis, KpiReport, Role, Transcript};

/// Version of the KPI definitions implemented here; stored with every result.
pub const KPI_VERSION: u32 = 1;
/// Largest gap, seconds, between a turn's end and the next word of the same role
/// for that word to continue the turn.
pub const TURN_GAP_S: f64 = 2.0;
/// A backchannel has at most this many words.
pub const BACKCHANNEL_MAX_WORDS: usize = 3;
/// A backchannel lasts at most this long, seconds.
pub const BACKCHANNEL_MAX_S: f64 = 1.0;

/// A sorted, role-resolved index entry over [`Transcript::words`]: not a
/// second word type (the word is `transcript.words[index]`), but the compact
/// view the KPI pass and the signals iterate, so that a 60-minute call costs
/// well under a millisecond (`benches/kpi.rs`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimedWord {
    /// Start, seconds.
    pub start: f64,
    /// End, seconds.
    pub end: f64,
    /// The speaker's role.
    pub role: Role,
    /// Whether the written word ends with `?`.
    pub question: bool,
    /// Index of the word in [`Transcript::words`], so callers can map back.
    pub index: usize,
}

/// A turn: consecutive words of one role, backchannels removed (definition 3).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Turn {
    /// The role of every word in the turn.
    pub role: Role,
    /// Start of the first word.
    pub start: f64,
    /// Latest end of its words.
    pub end: f64,
    /// Number of words.
    pub words: u32,
    /// Whether a word of the turn ends with `?`.
    pub question: bool,
    /// Position of the first word in the sorted word list of [`sorted_words`].
    pub first: usize,
}

impl Turn {
    /// `end − start`, seconds.
    pub fn duration(&self) -> f64 {
        self.end - self.start
    }
}

/// The result of turn segmentation.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Segmentation {
    /// The turns, in time order.
    pub turns: Vec<Turn>,
    /// Number of raw runs classified as backchannels.
    pub backchannels: u32,
    /// For each sorted word, the index of its turn in `turns`; `None` for the
    /// words of backchannels. Lets callers rebuild each turn's words.
    pub turn_of: Vec<Option<u32>>,
}

/// The transcript's words, role-resolved and sorted by `(start, end)` (stable).
///
/// # Panics
/// Never on a transcript that passed [`Transcript::validate`]. A word whose
/// speaker is undeclared is treated as [`Role::Other`] rather than panicking.
pub fn sorted_words(transcript: &Transcript) -> Vec<TimedWord> {
    // Few speakers per call: a linear scan beats a map lookup per word.
    let speakers: Vec<(&str, Role)> =
        transcript.speakers.iter().map(|(label, role)| (label.as_str(), *role)).collect();
    let mut words: Vec<TimedWord> = transcript
        .words
        .iter()
        .enumerate()
        .map(|(index, w)| TimedWord {
            start: w.start,
            end: w.end,
            role: speakers
                .iter()
                .find(|(label, _)| *label == w.speaker)
                .map_or(Role::Other, |(_, role)| *role),
            question: w.text.trim_end().ends_with('?'),
            index,
        })
        .collect();
    // Stable by `(start, end)`: an unstable sort with the input index as the
    // last key gives exactly that order, without the stable sort's scratch
    // buffer the size of the call (a 60-minute call's words are ~280 kB).
    words.sort_unstable_by(|a, b| {
        a.start.total_cmp(&b.start).then(a.end.total_cmp(&b.end)).then(a.index.cmp(&b.index))
    });
    words
}

/// Splits sorted words into turns (definitions 1–3).
pub fn segment_turns(words: &[TimedWord]) -> Segmentation {
    // Definition 1: raw runs as half-open index ranges into `words`.
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut run_start = 0;
    for i in 1..=words.len() {
        if i == words.len() || words[i].role != words[run_start].role {
            if i > run_start {
                runs.push((run_start, i));
            }
            run_start = i;
        }
    }

    // Definition 2: backchannels.
    let is_backchannel = |r: usize| -> bool {
        if r == 0 || r + 1 >= runs.len() {
            return false;
        }
        let (lo, hi) = runs[r];
        let role = words[lo].role;
        let before = words[runs[r - 1].0].role;
        let after = words[runs[r + 1].0].role;
        hi - lo <= BACKCHANNEL_MAX_WORDS
            && words[hi - 1].end - words[lo].start <= BACKCHANNEL_MAX_S
            && before == after
            && before != role
    };

    // Definition 3: turns from the words of the remaining runs.
    let mut seg = Segmentation { turn_of: vec![None; words.len()], ..Segmentation::default() };
    let mut current: Option<Turn> = None;
    for (r, &(lo, hi)) in runs.iter().enumerate() {
        if is_backchannel(r) {
            seg.backchannels += 1;
            continue;
        }
        for (pos, w) in words.iter().enumerate().take(hi).skip(lo) {
            match current.as_mut() {
                Some(turn) if turn.role == w.role && w.start - turn.end <= TURN_GAP_S => {
                    turn.end = turn.end.max(w.end);
                    turn.words += 1;
                    turn.question |= w.question;
                    seg.turn_of[pos] = Some(turn_index(&seg.turns));
                }
                _ => {
                    seg.turns.extend(current.take());
                    seg.turn_of[pos] = Some(turn_index(&seg.turns));
                    current = Some(Turn {
                        role: w.role,
                        start: w.start,
                        end: w.end,
                        words: 1,
                        question: w.question,
                        first: pos,
                    });
                }
            }
        }
    }
    seg.turns.extend(current);
    seg
}

/// The turns of a segmentation as the call's analysis carries them
/// ([`callscope_model::Turn`]): role, times, and their words' text joined by
/// single spaces. What the call page, the sentiment timeline and the store's
/// `utterances` rows show.
pub fn turns_with_text(
    transcript: &Transcript,
    words: &[TimedWord],
    seg: &Segmentation,
) -> Vec<callscope_model::Turn> {
    let mut texts = vec![String::new(); seg.turns.len()];
    for (pos, turn) in seg.turn_of.iter().enumerate() {
        if let Some(t) = turn {
            let text = &mut texts[*t as usize];
            if !text.is_empty() {
                text.push(' ');
            }
            text.push_str(transcript.words[words[pos].index].text.trim());
        }
    }
    seg.turns
        .iter()
        .zip(texts)
        .map(|(turn, text)| callscope_model::Turn { role: turn.role, start: turn.start, end: turn.end, text })
        .collect()
}

/// The index the turn being built will have once pushed.
fn turn_index(done: &[Turn]) -> u32 {
    u32::try_from(done.len()).unwrap_or(u32::MAX)
}

/// Computes the v1 KPIs of a validated transcript.
pub fn compute(transcript: &Transcript) -> CallKpis {
    let words = sorted_words(transcript);
    let seg = segment_turns(&words);
    let duration = transcript.duration_s.unwrap_or_else(|| speech_span(&words));
    compute_sorted(&words, &seg, duration)
}

/// Computes the KPIs and wraps them with the call id and [`KPI_VERSION`].
pub fn report(transcript: &Transcript) -> KpiReport {
    KpiReport { call_id: transcript.call_id.clone(), kpi_version: KPI_VERSION, kpis: compute(transcript) }
}

/// [`report`] for a caller that already sorted and segmented the words (the
/// pipeline does, for the signals): the same values, without sorting twice.
pub fn report_segmented(transcript: &Transcript, words: &[TimedWord], seg: &Segmentation) -> KpiReport {
    let duration = transcript.duration_s.unwrap_or_else(|| speech_span(words));
    KpiReport {
        call_id: transcript.call_id.clone(),
        kpi_version: KPI_VERSION,
        kpis: compute_sorted(words, seg, duration),
    }
}

/// Latest word end minus earliest word start; 0 for no words.
fn speech_span(words: &[TimedWord]) -> f64 {
    let Some(first) = words.first() else {
        return 0.0;
    };
    let last_end = words.iter().map(|w| w.end).fold(f64::NEG_INFINITY, f64::max);
    last_end - first.start
}

/// `numerator / denominator`, or `None` when the denominator is zero (or so
/// close to it that the quotient is not a finite number).
fn ratio(numerator: f64, denominator: f64) -> Option<f64> {
    let q = numerator / denominator;
    (denominator != 0.0 && q.is_finite()).then_some(q)
}

fn compute_sorted(words: &[TimedWord], seg: &Segmentation, duration: f64) -> CallKpis {
    let mut seller_talk = 0.0;
    let mut customer_talk = 0.0;
    let mut seller_words = 0u32;
    let mut customer_words = 0u32;
    for w in words {
        match w.role {
            Role::Seller => {
                seller_talk += w.end - w.start;
                seller_words += 1;
            }
            Role::Customer => {
                customer_talk += w.end - w.start;
                customer_words += 1;
            }
            Role::Other => {}
        }
    }

    let mut k = CallKpis {
        seller_talk_s: seller_talk,
        customer_talk_s: customer_talk,
        talk_ratio: ratio(seller_talk, seller_talk + customer_talk),
        seller_wpm: ratio(f64::from(seller_words), seller_talk / 60.0),
        customer_wpm: ratio(f64::from(customer_words), customer_talk / 60.0),
        backchannels: seg.backchannels,
        ..CallKpis::default()
    };

    let mut pause_sum = 0.0;
    let mut pauses = 0u32;
    for pair in seg.turns.windows(2) {
        let (prev, next) = (&pair[0], &pair[1]);
        if prev.role == next.role {
            continue;
        }
        k.switches += 1;
        if next.start < prev.end {
            k.interruptions += 1;
        }
        let gap = next.start - prev.end;
        if prev.role == Role::Customer && next.role == Role::Seller && gap >= 0.0 {
            pause_sum += gap;
            pauses += 1;
        }
    }
    k.avg_pause_s = ratio(pause_sum, f64::from(pauses));
    k.switches_per_hour = ratio(f64::from(k.switches), duration / 3600.0);

    for turn in &seg.turns {
        match turn.role {
            Role::Seller => {
                k.seller_turns += 1;
                k.longest_seller_monologue_s = k.longest_seller_monologue_s.max(turn.duration());
                k.seller_questions += u32::from(turn.question);
            }
            Role::Customer => {
                k.customer_turns += 1;
                k.longest_customer_monologue_s = k.longest_customer_monologue_s.max(turn.duration());
            }
            Role::Other => {}
        }
    }
    k
}

#[cfg(test)]
mod tests {
    use super::*;
    use callscope_model::Word;

    fn call(words: &[(&str, f64, f64)]) -> Transcript {
        let mut t = Transcript::default();
        t.speakers.insert("S".into(), Role::Seller);
        t.speakers.insert("C".into(), Role::Customer);
        t.words = words
            .iter()
            .map(|&(spk, start, end)| Word {
                text: "w".into(),
                start,
                end,
                speaker: spk.into(),
                confidence: None,
            })
            .collect();
        t
    }

    #[test]
    fn turn_of_maps_words_to_turns_and_skips_backchannels() {
        let t = call(&[
            ("S", 0.0, 0.5),
            ("S", 0.5, 1.0),
            ("C", 1.1, 1.3), // backchannel
            ("S", 1.4, 2.0),
            ("S", 2.0, 2.5),
            ("S", 2.5, 3.0),
            ("S", 3.0, 3.5),
            ("C", 4.0, 4.5),
            ("C", 4.5, 5.0),
        ]);
        let words = sorted_words(&t);
        let seg = segment_turns(&words);
        assert_eq!(seg.turns.len(), 2);
        assert_eq!(seg.backchannels, 1);
        assert_eq!(
            seg.turn_of,
            vec![Some(0), Some(0), None, Some(0), Some(0), Some(0), Some(0), Some(1), Some(1)]
        );
        assert_eq!(seg.turns[1].first, 7);
    }
}
