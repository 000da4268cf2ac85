//! Real-recording conditions, end to end with the real models (issue 16): a
//! stereo call as a telephone line delivers it (pink noise 20 dB under each
//! party's speech, the other party's voice leaking in at −24 dB after 60 ms,
//! 8 kHz G.711 μ-law) must keep its KPIs within tolerance; its noisy mono mix
//! must still be two speakers; and inputs with nobody to hear (silence, line
//! noise, a dead channel, a channel carrying only leak) must give no words.
//!
//! The audio is made here from the clean dev-06 call in the repository
//! (`crates/audio/tests/data/dev-06-stereo16k.flac`), deterministically, the
//! way `tools/eval/degrade.py` makes its `realistic` condition, and written as
//! the WAV files a telephony system records (μ-law at 8 kHz for the stereo
//! call). Needs the whisper model (`CALLSCOPE_TEST_MODEL`) and the files of
//! `tools/models/fetch_diarize.sh`; skipped without them, except under CI.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The model files, or `None` (skipped) outside CI when one is missing.
fn models() -> Option<Vec<(&'static str, PathBuf)>> {
    let model = std::env::var_os("CALLSCOPE_TEST_MODEL").map(PathBuf::from);
    let files = [
        ("CALLSCOPE__DIARIZE__ONNXRUNTIME", root().join("models/libonnxruntime.so.1.32.0")),
        ("CALLSCOPE__DIARIZE__MODEL", root().join("models/campplus-sv-zh-en.onnx")),
        ("CALLSCOPE__DIARIZE__OVERLAP_MODEL", root().join("models/pyannote-segmentation-3.0.onnx")),
        ("CALLSCOPE__ASR__VAD_MODEL", root().join("models/silero-vad-16k.onnx")),
    ];
    match model {
        Some(m) if files.iter().all(|(_, f)| f.is_file()) => {
            let mut env = vec![("CALLSCOPE__ASR__MODEL", m)];
            env.extend(files);
            Some(env)
        }
        _ => {
            assert!(std::env::var_os("CI").is_none(), "under CI the model files must be present");
            eprintln!("SKIPPED: set CALLSCOPE_TEST_MODEL and run tools/models/fetch_diarize.sh");
            None
        }
    }
}

/// `callscope analyze --format json FILE` with `models`; the JSON report.
/// One at a time: two whisper runs on a 2-core machine spin against each other.
fn analyze(models: &[(&str, PathBuf)], file: &Path) -> Value {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_callscope"));
    cmd.args(["analyze", "--format", "json"]).arg(file);
    for (k, v) in models {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run callscope");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

/// The clean dev-06 call: [seller, customer] at 16 kHz.
fn dev06() -> [Vec<f32>; 2] {
    let audio = callscope_audio::decode_file(&root().join("crates/audio/tests/data/dev-06-stereo16k.flac"))
        .expect("decode dev-06");
    let mut channels = audio.channels.into_iter();
    [channels.next().expect("left"), channels.next().expect("right")]
}

/// Deterministic pink noise of unit power (Paul Kellet's filter over xorshift white noise).
fn pink(seed: u64, n: usize) -> Vec<f32> {
    let mut state = seed | 1;
    let mut b = [0.0f64; 7];
    let mut out: Vec<f64> = (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let white = (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0;
            b[0] = 0.99886 * b[0] + white * 0.055_517_9;
            b[1] = 0.99332 * b[1] + white * 0.075_075_9;
            b[2] = 0.969 * b[2] + white * 0.153_852;
            b[3] = 0.8665 * b[3] + white * 0.310_485_6;
            b[4] = 0.55 * b[4] + white * 0.532_952_2;
            b[5] = -0.7616 * b[5] - white * 0.016_898;
            let p = b.iter().sum::<f64>() + white * 0.5362;
            b[6] = white * 0.115_926;
            p
        })
        .collect();
    let power = out.iter().map(|x| x * x).sum::<f64>() / n.max(1) as f64;
    out.iter_mut().for_each(|x| *x /= power.sqrt().max(1e-12));
    out.into_iter().map(|x| x as f32).collect()
}

/// Mean power of the 20 ms frames above −50 dBFS (degrade.py's active speech level).
fn active_level(x: &[f32]) -> f64 {
    let powers: Vec<f64> = x
        .chunks_exact(320)
        .map(|c| c.iter().map(|s| f64::from(*s).powi(2)).sum::<f64>() / 320.0)
        .filter(|p| *p > 1e-5)
        .collect();
    powers.iter().sum::<f64>() / powers.len().max(1) as f64
}

/// `x` plus unit-power `noise` scaled to `snr_db` under `x`'s active speech level.
fn add_noise(x: &mut [f32], noise: &[f32], snr_db: f64) {
    let gain = (active_level(x) / 10f64.powf(snr_db / 10.0)).sqrt() as f32;
    x.iter_mut().zip(noise).for_each(|(s, n)| *s += gain * n);
}

/// `other`'s voice at `db` after `delay_s`, to add to a channel.
fn leak(other: &[f32], db: f64, delay_s: f64) -> Vec<f32> {
    let (gain, delay) = (10f64.powf(db / 20.0) as f32, (delay_s * 16_000.0) as usize);
    (0..other.len()).map(|t| t.checked_sub(delay).map_or(0.0, |u| gain * other[u])).collect()
}

/// G.711 μ-law encoding of one sample.
fn mulaw(x: f32) -> u8 {
    let pcm = (x.clamp(-1.0, 1.0) * 32_767.0) as i32;
    let sign = if pcm < 0 { 0x80 } else { 0 };
    let magnitude = (pcm.abs().min(32_635) + 0x84) as u32;
    let exponent = (31 - magnitude.leading_zeros()).saturating_sub(7).min(7);
    let mantissa = (magnitude >> (exponent + 3)) & 0x0f;
    !(sign | (exponent << 4) as u8 | mantissa as u8)
}

/// A WAV file: 16-bit PCM, or G.711 μ-law (format 7) when `ulaw`.
fn write_wav(path: &Path, channels: &[Vec<f32>], rate: u32, ulaw: bool) {
    let n = channels.iter().map(Vec::len).min().unwrap_or(0);
    let (format, bytes_per_sample): (u16, u16) = if ulaw { (7, 1) } else { (1, 2) };
    let block = bytes_per_sample * channels.len() as u16;
    let mut data = Vec::with_capacity(n * usize::from(block));
    for t in 0..n {
        for c in channels {
            if ulaw {
                data.push(mulaw(c[t]));
            } else {
                data.extend_from_slice(&((c[t].clamp(-1.0, 1.0) * 32_767.0) as i16).to_le_bytes());
            }
        }
    }
    let mut out = Vec::new();
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(4 + 26 + 12 + 8 + data.len() as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&18u32.to_le_bytes());
    out.extend_from_slice(&format.to_le_bytes());
    out.extend_from_slice(&(channels.len() as u16).to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * u32::from(block)).to_le_bytes());
    out.extend_from_slice(&block.to_le_bytes());
    out.extend_from_slice(&(bytes_per_sample * 8).to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(b"fact");
    out.extend_from_slice(&4u32.to_le_bytes());
    out.extend_from_slice(&(n as u32).to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&data);
    std::fs::write(path, out).expect("write wav");
}

/// dev-06 as a telephone line delivers it (degrade.py's `realistic`): each
/// party's voice leaks into the other channel at −24 dB after 60 ms, pink
/// noise 20 dB under each channel's speech.
fn realistic() -> [Vec<f32>; 2] {
    let clean = dev06();
    let mut out = [0, 1].map(|i| {
        let echo = leak(&clean[1 - i], -24.0, 0.06);
        clean[i].iter().zip(&echo).map(|(a, b)| a + b).collect::<Vec<f32>>()
    });
    for (i, channel) in out.iter_mut().enumerate() {
        let noise = pink(0x5eed + i as u64, channel.len());
        // The SNR is against the channel's own speech, as degrade.py measures it.
        let gain = (active_level(&clean[i]) / 100.0).sqrt() as f32;
        channel.iter_mut().zip(&noise).for_each(|(s, n)| *s += gain * n);
    }
    out
}

fn kpi(v: &Value, key: &str) -> f64 {
    v["kpis"][key].as_f64().unwrap_or_else(|| panic!("{key}: {}", v["kpis"]))
}

fn words_of(v: &Value, role: &str) -> usize {
    let speakers = &v["transcript"]["speakers"];
    let words = v["transcript"]["words"].as_array().expect("words");
    words.iter().filter(|w| speakers[w["speaker"].as_str().expect("speaker")] == role).count()
}

/// Two speakers found, each with at least a fifth of the words.
fn assert_two_speakers(v: &Value) {
    let speakers = v["transcript"]["speakers"].as_object().expect("speakers");
    assert_eq!(speakers.len(), 2, "{}", v["transcript"]["speakers"]);
    let total = v["transcript"]["words"].as_array().expect("words").len();
    for role in ["seller", "customer"] {
        let n = words_of(v, role);
        assert!(n * 5 >= total, "{role}: {n} of {total} words");
    }
}

#[test]
fn a_noisy_telephone_stereo_call_stays_within_tolerances() {
    let Some(models) = models() else { return };
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("dev-06-realistic.wav");
    let [seller, customer] = realistic();
    let narrow = [seller, customer].map(|c| callscope_audio::resample(&c, 16_000, 8_000));
    write_wav(&path, &narrow, 8_000, true);
    let v = analyze(&models, &path);
    // The truth of dev-06: talk ratio 0.574, 11 switches, longest customer monologue 5.65 s.
    let ratio = kpi(&v, "talk_ratio");
    assert!((ratio - 0.574).abs() <= 0.03, "talk ratio {ratio}");
    let switches = kpi(&v, "switches");
    assert!((switches - 11.0).abs() <= 1.0, "switches {switches}");
    let monologue = kpi(&v, "longest_customer_monologue_s");
    assert!((monologue - 5.65).abs() <= 1.0, "longest customer monologue {monologue}");
    // Within its tolerances, so not flagged; and the call says what its
    // confidence was judged from: little speech without words, no voices in
    // the background.
    let attribution = &v["attribution"];
    assert_eq!(attribution["low_confidence"], false, "{attribution}");
    let share =
        |key: &str| attribution["line"][key].as_f64().unwrap_or_else(|| panic!("{key}: {attribution}"));
    assert!(share("unworded_share") < 0.05, "{attribution}");
    assert!(share("background_share") < 0.6, "{attribution}");
}

#[test]
fn a_noisy_mono_call_is_still_two_speakers() {
    let Some(models) = models() else { return };
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("dev-06-mono-noisy.wav");
    let clean = dev06();
    let mut mix: Vec<f32> = clean[0].iter().zip(&clean[1]).map(|(a, b)| 0.5 * (a + b)).collect();
    add_noise(&mut mix, &pink(0xb0b, clean[0].len()), 15.0);
    write_wav(&path, &[mix], 16_000, false);
    let v = analyze(&models, &path);
    assert_two_speakers(&v);
    // The mix is judged as one line, as a stereo line is: all of its speech
    // got words.
    let unworded = v["attribution"]["line"]["unworded_share"].as_f64();
    assert!(unworded.is_some_and(|u| u < 0.05), "{}", v["attribution"]);
}

/// Two men on a telephone line, mono: dev-06 spoken by flite's `rms` (seller)
/// and `awb` (customer), made by `tools/eval/make_voice_pairs.py` from
/// eval-dev (`tests/data/dev-06-two-men-mono16k.flac`), with pink noise 20 dB
/// under the speech and G.711 μ-law at 8 kHz. Through the telephone band the
/// two voices are more alike than the merge threshold of wideband audio:
/// with one threshold for every merge (`diarize.one_voice_threshold = 0.6`)
/// this call was one speaker.
#[test]
fn two_men_on_a_telephone_line_are_two_speakers() {
    let Some(models) = models() else { return };
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("dev-06-two-men-phone.wav");
    let mut mix =
        callscope_audio::decode_file(&root().join("crates/cli/tests/data/dev-06-two-men-mono16k.flac"))
            .expect("decode")
            .mono();
    let noise = pink(0x7e1, mix.len());
    add_noise(&mut mix, &noise, 20.0);
    write_wav(&path, &[callscope_audio::resample(&mix, 16_000, 8_000)], 8_000, true);
    let v = analyze(&models, &path);
    assert_two_speakers(&v);
    // The truth: talk ratio 0.676.
    let ratio = kpi(&v, "talk_ratio");
    assert!((ratio - 0.676).abs() <= 0.05, "talk ratio {ratio}");
}

#[test]
fn nobody_to_hear_gives_no_words() {
    let Some(models) = models() else { return };
    let dir = tempfile::tempdir().expect("tmp");
    let n = 16_000 * 20;
    let silence = vec![0.0f32; n];
    // Line noise at about -35 dBFS on both channels.
    let noise = |seed| pink(seed, n).into_iter().map(|x| 0.018 * x).collect::<Vec<f32>>();
    let cases: [(&str, Vec<Vec<f32>>); 4] = [
        ("silence-stereo", vec![silence.clone(), silence.clone()]),
        ("noise-stereo", vec![noise(1), noise(2)]),
        ("silence-mono", vec![silence]),
        ("noise-mono", vec![noise(3)]),
    ];
    for (name, channels) in cases {
        let path = dir.path().join(format!("{name}.wav"));
        write_wav(&path, &channels, 16_000, false);
        let v = analyze(&models, &path);
        let words = v["transcript"]["words"].as_array().expect("words");
        assert!(words.is_empty(), "{name}: {words:?}");
        for key in ["talk_ratio", "seller_wpm", "customer_wpm"] {
            assert!(v["kpis"][key].is_null(), "{name}: {key} = {}", v["kpis"][key]);
        }
    }
}

#[test]
fn a_dead_channel_or_one_of_only_leak_gives_that_side_no_words() {
    let Some(models) = models() else { return };
    let dir = tempfile::tempdir().expect("tmp");
    let [seller, _] = dev06();
    let line = |seed| pink(seed, seller.len()).into_iter().map(|x| 0.003 * x).collect::<Vec<f32>>();
    let only_leak: Vec<f32> = leak(&seller, -24.0, 0.08).iter().zip(line(7)).map(|(a, b)| a + b).collect();
    for (name, customer) in [("dead", vec![0.0f32; seller.len()]), ("only-leak", only_leak)] {
        let path = dir.path().join(format!("{name}.wav"));
        write_wav(&path, &[seller.clone(), customer], 16_000, false);
        let v = analyze(&models, &path);
        assert_eq!(words_of(&v, "customer"), 0, "{name}: {}", v["transcript"]);
        assert!(words_of(&v, "seller") > 100, "{name}: the seller's words are kept");
        // No speech of the customer's own was missed: nothing to doubt.
        assert_eq!(v["attribution"]["low_confidence"], false, "{name}: {}", v["attribution"]);
    }
}

/// A line that carries a voice whisper cannot read (here the customer's side
/// of dev-06 played backwards: speech-like, no words) is flagged: its KPIs
/// would count the seller's side alone.
#[test]
fn a_line_of_speech_without_words_is_flagged() {
    let Some(models) = models() else { return };
    let dir = tempfile::tempdir().expect("tmp");
    let [seller, customer] = dev06();
    let backwards: Vec<f32> = customer.iter().rev().copied().collect();
    let path = dir.path().join("backwards.wav");
    write_wav(&path, &[seller, backwards], 16_000, false);
    let v = analyze(&models, &path);
    let attribution = &v["attribution"];
    assert_eq!(attribution["low_confidence"], true, "{attribution}");
    // The flag comes from the speech left without words: over
    // `callscope_diarize::UNWORDED_HIGH` (0.15), where that evidence alone
    // takes the confidence to 0. How much of the backwards voice whisper
    // leaves unwritten depends on the CPU's kernels: 0.30 on an AVX-512
    // Xeon without AMX, over 0.5 with AMX.
    let unworded = attribution["line"]["unworded_share"].as_f64().expect("unworded_share");
    assert!(unworded > 0.15, "{attribution}");
    assert_eq!(attribution["confidence"], 0.0, "{attribution}");
}

/// A long stereo call is transcribed in windows (`asr.window_s`) that a
/// reader of the report cannot tell from one pass: dev-06 twice over
/// (122 s, the copies joined without a pause added), in 60-second windows
/// against one window, gives the same call: every copy's words, no word
/// twice at a seam, the same KPIs.
#[test]
fn a_long_call_in_windows_is_the_same_call() {
    let Some(models) = models() else { return };
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("dev-06-twice.wav");
    let [seller, customer] = dev06();
    let copies = |c: &[f32]| c.repeat(2);
    write_wav(&path, &[copies(&seller), copies(&customer)], 16_000, false);
    let whole = analyze(&models, &path);
    // (An environment value, carried in the models' list.)
    let mut windowed_env = models.clone();
    windowed_env.push(("CALLSCOPE__ASR__WINDOW_S", PathBuf::from("60")));
    let windowed = analyze(&windowed_env, &path);
    assert_eq!(whole["audio"]["windows"], 1, "under 1.5 windows of 600 s: one pass");
    // Cut in the last 30 s of the first 60; the rest is one window when under 90 s.
    let windows = windowed["audio"]["windows"].as_u64().expect("windows");
    assert!((2..=3).contains(&windows), "122 s in windows of about 60 s: {windows}");
    for v in [&whole, &windowed] {
        let d = v["audio"]["duration_s"].as_f64().expect("duration");
        assert!((d - 2.0 * 61.01).abs() < 0.01, "duration {d}");
    }
    // Every copy's words, in both runs.
    let starts = |v: &Value| -> Vec<(f64, String, String)> {
        let words = v["transcript"]["words"].as_array().expect("words");
        words
            .iter()
            .map(|w| {
                let text = w["text"].as_str().expect("text").to_lowercase();
                (
                    w["start"].as_f64().expect("start"),
                    text,
                    w["speaker"].as_str().expect("speaker").to_owned(),
                )
            })
            .collect()
    };
    let (a, b) = (starts(&whole), starts(&windowed));
    for copy in 0..2 {
        let span = |t: f64| t >= 61.01 * f64::from(copy) && t < 61.01 * f64::from(copy + 1);
        let (na, nb) = (a.iter().filter(|w| span(w.0)).count(), b.iter().filter(|w| span(w.0)).count());
        assert!(na > 100, "copy {copy}: {na} words in one pass");
        assert!(nb.abs_diff(na) * 20 <= na, "copy {copy}: {nb} words in windows against {na} in one pass");
    }
    // Time order, and no word read twice where two windows meet.
    assert!(b.windows(2).all(|p| p[0].0 <= p[1].0), "words in time order");
    let twice =
        b.windows(2).filter(|p| p[0].1 == p[1].1 && p[0].2 == p[1].2 && p[1].0 - p[0].0 < 0.1).count();
    assert_eq!(twice, 0, "no word twice at a seam");
    for key in ["talk_ratio", "switches", "seller_wpm", "longest_customer_monologue_s"] {
        let (x, y) = (kpi(&whole, key), kpi(&windowed, key));
        let tolerance = match key {
            "talk_ratio" => 0.02,
            "switches" => 2.0,
            "seller_wpm" => 0.05 * x,
            _ => 1.0,
        };
        assert!((x - y).abs() <= tolerance, "{key}: {y} in windows against {x} in one pass");
    }
}
