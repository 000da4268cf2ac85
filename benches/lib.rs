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
        let speaker = if turn.is_multiple_of(2) { "spk_0" } else { "spk_1" };
        let words = 5 + next(40);
        for i in 0..words {
            let len = 0.15 + next(30) as f64 / 100.0;
            let text = if i + 1 == words && next(4) == 0 { "right?" } else { "word" };
            t.words.push(Word {
                text: text.into(),
                start: clock,
                end: clock + len,
                speaker: speaker.into(),
                confidence: None,
            });
            clock += len + 0.04 + next(10) as f64 / 100.0;
            if i == words / 2 && next(5) == 0 {
                let other = if speaker == "spk_0" { "spk_1" } else { "spk_0" };
                t.words.push(Word {
                    text: "mhm".into(),
                    start: clock - 0.1,
                    end: clock + 0.2,
                    speaker: other.into(),
                    confidence: None,
                });
            }
        }
        clock += 0.2 + next(120) as f64 / 100.0;
        turn += 1;
    }
    t
}

/// A realistic call of about `minutes` minutes: the six eval-dev sample calls
/// (real scripted sales dialogue, `crates/signals/tests/dev/`) laid end to end,
/// again and again, with speakers mapped to one seller and one customer.
pub fn realistic_call(minutes: f64) -> Transcript {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/signals/tests/dev");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .expect("crates/signals/tests/dev")
        .filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".transcript.json").map(str::to_owned))
        .collect();
    names.sort();
    let calls: Vec<Transcript> = names
        .iter()
        .map(|n| {
            let bytes = std::fs::read(dir.join(format!("{n}.transcript.json"))).expect("transcript");
            Transcript::from_json_slice(&bytes).expect("valid")
        })
        .collect();
    let mut t = Transcript {
        call_id: Some(format!("realistic-{minutes}min")),
        duration_s: Some(minutes * 60.0),
        ..Transcript::default()
    };
    t.speakers.insert("seller".into(), Role::Seller);
    t.speakers.insert("customer".into(), Role::Customer);
    let mut offset = 0.0;
    'outer: loop {
        for call in &calls {
            for w in &call.words {
                let role = call.role_of(&w.speaker).unwrap_or(Role::Other);
                t.words.push(Word {
                    text: w.text.clone(),
                    start: w.start + offset,
                    end: w.end + offset,
                    speaker: if role == Role::Seller { "seller".into() } else { "customer".into() },
                    confidence: None,
                });
            }
            offset += call.duration_s.unwrap_or(0.0);
            if offset >= minutes * 60.0 {
                break 'outer;
            }
        }
    }
    t
}

/// A trackers file with `n` terms: the eval-dev trackers plus generated
/// competitor and keyword names (one to three aliases each, some multi-word).
pub fn trackers_toml(n: usize) -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/signals/tests/dev");
    let mut toml = std::fs::read_to_string(dir.join("trackers.toml")).expect("trackers.toml");
    let existing = toml.matches("name =").count();
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move |n: u64| {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % n
    };
    let mut word = |len: u64| -> String {
        (0..len).map(|_| char::from(b'a' + u8::try_from(next(26)).unwrap_or(0))).collect()
    };
    for i in existing..n {
        let kind = if i % 3 == 0 { "competitor" } else { "keyword" };
        let name = format!("{} {}", word(6), word(5));
        let aliases: Vec<String> = (0..1 + i % 3).map(|_| format!("{:?}", word(8))).collect();
        toml.push_str(&format!("\n[[{kind}]]\nname = {name:?}\naliases = [{}]\n", aliases.join(", ")));
    }
    toml
}
