//! Shared fixtures for the callscope benchmarks: synthetic calls of a given
//! length, generated deterministically so every run measures the same input.

use callscope_model::{Role, Transcript, Word};

/// A deterministic two-party call of `minutes` minutes at about 150 words per
/// minute: alternating turns of 5–40 words, short gaps, a backchannel every few
/// turns and an occasional question, like a real sales call.
pub fn synthetic_call(minutes: f64) -> Transcript {
    let mut t = Transcript {
        call_id: Some(format!("bench-{minutes}min")),
        duration_s: Some(minutes * 60.0),
        ..Transcript::default()
    };
    t.speakers.insert("spk_0".into(), Role::Seller);
    t.speakers.insert("spk_1".into(), Role::Customer);
    // A small linear congruential generator: deterministic, no dependency.
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move |n: u64| {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % n
    };
    let end_of_call = minutes * 60.0;
    let mut clock = 0.3;
    let mut turn = 0u64;
    while clock < end_of_call {
        let speaker = if turn % 2 == 0 { "spk_0" } else { "spk_1" };
        let words = 5 + next(40);
        for i in 0..words {
            let len = 0.15 + next(30) as f64 / 100.0;
            let text = if i + 1 == words && next(4) == 0 { "right?" } else { "word" };
            t.words.push(Word { text: text.into(), start: clock, end: clock + len, speaker: speaker.into() });
            clock += len + 0.04 + next(10) as f64 / 100.0;
            if i == words / 2 && next(5) == 0 {
                let other = if speaker == "spk_0" { "spk_1" } else { "spk_0" };
                t.words.push(Word {
                    text: "mhm".into(),
                    start: clock - 0.1,
                    end: clock + 0.2,
                    speaker: other.into(),
                });
            }
        }
        clock += 0.2 + next(120) as f64 / 100.0;
        turn += 1;
    }
    t
}
