//! Property tests of the v1 definitions.
//!
//! Times are drawn on a 1/64 s grid so that shifting, summing and subtracting
//! them is exact in `f64`; the properties can then demand exact equality instead
//! of hiding rounding behind a tolerance.

use callscope_kpi::compute;
use callscope_model::{Role, Transcript, Word};
use proptest::prelude::*;

const TICK: f64 = 1.0 / 64.0;

/// (speaker index, start tick, length in ticks, is a question)
type RawWord = (usize, u32, u32, bool);

fn transcript(words: &[RawWord], roles: [Role; 3]) -> Transcript {
    let mut t = Transcript::default();
    for (i, role) in roles.iter().enumerate() {
        t.speakers.insert(format!("spk_{i}"), *role);
    }
    t.words = words
        .iter()
        .map(|&(spk, start, len, q)| Word {
            text: if q { "why?".into() } else { "word".into() },
            start: f64::from(start) * TICK,
            end: f64::from(start + len) * TICK,
            speaker: format!("spk_{spk}"),
            confidence: None,
        })
        .collect();
    t
}

const ROLES: [Role; 3] = [Role::Seller, Role::Customer, Role::Other];

fn words() -> impl Strategy<Value = Vec<RawWord>> {
    prop::collection::vec((0usize..3, 0u32..20_000, 0u32..160, prop::bool::weighted(0.1)), 0..120)
}

/// Words laid end to end without overlap: each starts after the previous ends.
fn sequential_words() -> impl Strategy<Value = Vec<RawWord>> {
    prop::collection::vec((0usize..3, 0u32..200, 1u32..80, prop::bool::weighted(0.1)), 0..120).prop_map(
        |ws| {
            let mut clock = 0;
            ws.into_iter()
                .map(|(spk, gap, len, q)| {
                    let start = clock + gap;
                    clock = start + len;
                    (spk, start, len, q)
                })
                .collect()
        },
    )
}

proptest! {
    #[test]
    fn ratios_are_fractions_and_rates_are_sane(ws in words()) {
        let k = compute(&transcript(&ws, ROLES));
        if let Some(r) = k.talk_ratio {
            prop_assert!((0.0..=1.0).contains(&r), "talk_ratio {r}");
        }
        prop_assert!(k.seller_talk_s >= 0.0 && k.customer_talk_s >= 0.0);
        for v in [k.seller_wpm, k.customer_wpm, k.switches_per_hour, k.avg_pause_s].into_iter().flatten() {
            prop_assert!(v.is_finite() && v >= 0.0, "{v}");
        }
        prop_assert!(k.interruptions <= k.switches);
        prop_assert!(k.seller_questions <= k.seller_turns);
    }

    #[test]
    fn shifting_all_times_changes_nothing(ws in words(), shift in 0u32..1_000_000) {
        let mut t = transcript(&ws, ROLES);
        let before = compute(&t);
        let d = f64::from(shift) * TICK;
        for w in &mut t.words {
            w.start += d;
            w.end += d;
        }
        prop_assert_eq!(before, compute(&t));
    }

    #[test]
    fn input_order_does_not_matter(ws in words(), seed in any::<u64>()) {
        // Exact duplicates (same start and end) keep input order by definition,
        // so only permute words whose times are unique.
        let mut unique = ws.clone();
        unique.sort_by_key(|w| (w.1, w.2));
        unique.dedup_by_key(|w| (w.1, w.2));
        let mut shuffled = unique.clone();
        let mut state = seed | 1;
        for i in (1..shuffled.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            shuffled.swap(i, (state % (i as u64 + 1)) as usize);
        }
        prop_assert_eq!(compute(&transcript(&unique, ROLES)), compute(&transcript(&shuffled, ROLES)));
    }

    #[test]
    fn swapping_roles_swaps_seller_and_customer_kpis(ws in words()) {
        let a = compute(&transcript(&ws, ROLES));
        let b = compute(&transcript(&ws, [Role::Customer, Role::Seller, Role::Other]));
        prop_assert_eq!(a.seller_talk_s, b.customer_talk_s);
        prop_assert_eq!(a.customer_talk_s, b.seller_talk_s);
        prop_assert_eq!(a.seller_wpm, b.customer_wpm);
        prop_assert_eq!(a.customer_wpm, b.seller_wpm);
        prop_assert_eq!(a.longest_seller_monologue_s, b.longest_customer_monologue_s);
        prop_assert_eq!(a.longest_customer_monologue_s, b.longest_seller_monologue_s);
        prop_assert_eq!(a.seller_turns, b.customer_turns);
        prop_assert_eq!(a.customer_turns, b.seller_turns);
        prop_assert_eq!(a.switches, b.switches);
        prop_assert_eq!(a.interruptions, b.interruptions);
        prop_assert_eq!(a.backchannels, b.backchannels);
        match (a.talk_ratio, b.talk_ratio) {
            (Some(x), Some(y)) => prop_assert!((x + y - 1.0).abs() < 1e-12, "{x} + {y} != 1"),
            (x, y) => prop_assert_eq!(x, y),
        }
    }

    #[test]
    fn talk_time_fits_in_the_call_without_overlap(ws in sequential_words()) {
        let t = transcript(&ws, ROLES);
        let k = compute(&t);
        let span = t.words.last().map_or(0.0, |w| w.end) - t.words.first().map_or(0.0, |w| w.start);
        prop_assert!(k.seller_talk_s + k.customer_talk_s <= span, "{} + {} > {span}", k.seller_talk_s, k.customer_talk_s);
        prop_assert_eq!(k.interruptions, 0);
        prop_assert!(k.longest_seller_monologue_s <= span && k.longest_customer_monologue_s <= span);
    }
}
