//! `callscope_asr::Cancel`: a session watching a cancelled [`Cancel`] stops decoding with
//! [`AsrError::Cancelled`] (whisper.cpp's own abort, through the patched
//! `whisper_cancel_*`), and one that does not watch it, or watches a token
//! nobody cancelled, reads the same audio to the end.
//!
//! Needs a whisper model (`CALLSCOPE_TEST_MODEL`); skipped without it,
//! except under CI, where that is a failure.

mod model;
use model::model;

use std::sync::Arc;

use callscope_asr::{AsrError, AsrSettings, Cancel, Transcriber};

/// Ten seconds of a voice-like signal (a 150 Hz buzz with formant-like
/// overtones, syllables of 0.2 s): enough for whisper to run its encoder
/// and decoder; what it writes does not matter here.
fn audio() -> Vec<f32> {
    let rate = callscope_audio::TARGET_RATE as usize;
    (0..rate * 10)
        .map(|i| {
            let t = i as f32 / rate as f32;
            let on = ((t / 0.2) as usize) % 3 != 2;
            let tone: f32 = [150.0f32, 700.0, 1200.0, 2500.0]
                .iter()
                .map(|f| (2.0 * std::f32::consts::PI * f * t).sin())
                .sum();
            if on { 0.1 * tone } else { 0.0 }
        })
        .collect()
}

#[test]
fn a_cancelled_session_stops_and_the_others_read_on() {
    let Some(model) = model() else { return };
    let transcriber = Transcriber::load(AsrSettings { model, threads: 2, ..AsrSettings::default() })
        .expect("load the model");
    let samples = audio();
    let mut session = transcriber.session().expect("session");

    let cancelled = Arc::new(Cancel::new());
    cancelled.cancel();
    assert!(cancelled.is_cancelled());
    session.watch(Some(cancelled.clone()));
    let err = session.transcribe_raw(&samples).expect_err("a cancelled session stops");
    assert!(matches!(err, AsrError::Cancelled), "{err}");

    // Another session, watching a token nobody cancelled, reads to the end.
    let mut other = transcriber.session().expect("session");
    other.watch(Some(Arc::new(Cancel::new())));
    other.transcribe_raw(&samples).expect("a token not cancelled does not stop the decode");

    // The first one, no longer watching, reads on too.
    session.watch(None);
    session.transcribe_raw(&samples).expect("no longer watching");

    // A token cancelled and dropped is forgotten: a new one is not cancelled.
    drop(cancelled);
    let fresh = Arc::new(Cancel::new());
    session.watch(Some(fresh));
    session.transcribe_raw(&samples).expect("a fresh token");
}
