//! A model that reads whole turns (the neural one) is given the customer's
//! turns only; the seller's turns in the timeline get the lexicon's score.
//! A stand-in model records what it was asked.

use std::sync::Mutex;

use callscope_model::{Role, SentimentLabel, SentimentScore, Transcript};
use callscope_signals::{
    LexiconSentiment, SentimentModel, SignalExtractor, SignalSettings, TrackerMatcher, Trackers,
};
use serde_json::json;

#[derive(Debug, Default)]
struct Recorder {
    asked: Mutex<Vec<String>>,
}

impl SentimentModel for Recorder {
    fn name(&self) -> &'static str {
        "recorder"
    }
    fn score(&self, text: &str) -> SentimentScore {
        self.asked.lock().expect("lock").push(text.to_owned());
        SentimentScore { label: SentimentLabel::Positive, score: 0.9 }
    }
    fn whole_turns(&self) -> bool {
        true
    }
}

#[test]
fn the_model_reads_the_customers_turns_and_the_lexicon_the_sellers() {
    let lines = [
        ("A", "Hi, this is Anna. I'm awful sorry, the last update was a terrible mess."),
        ("B", "We noticed. What happens now?"),
        ("A", "We'll send a fix on Friday."),
        ("B", "Fine, send it over and we'll test it."),
    ];
    let mut words = Vec::new();
    let mut t = 0.5;
    for (speaker, text) in lines {
        for w in text.split_whitespace() {
            words.push(json!({"text": w, "start": t, "end": t + 0.25, "speaker": speaker}));
            t += 0.3;
        }
        t += 0.6;
    }
    let doc = json!({
        "call_id": "c", "seller_id": "s", "started_at": "2026-12-01T10:00:00Z", "duration_s": t + 1.0,
        "speakers": {"A": "seller", "B": "customer"}, "words": words,
    });
    let transcript =
        Transcript::from_json_slice(&serde_json::to_vec(&doc).expect("json")).expect("transcript");
    let extractor = SignalExtractor::with_model(
        TrackerMatcher::new(&Trackers::default()).0,
        Recorder::default(),
        SignalSettings::default(),
    );
    let signals = extractor.extract(&transcript);
    let asked = extractor.model().asked.lock().expect("lock").clone();
    assert_eq!(asked, ["We noticed. What happens now?", "Fine, send it over and we'll test it."]);
    let timeline = &signals.sentiment.timeline;
    assert_eq!(timeline.len(), 4);
    for point in timeline {
        if point.role == Role::Customer {
            assert_eq!(point.score, 0.9);
        } else {
            let text = lines[point.turn as usize].1;
            let lexicon = SignalExtractor::with_model(
                TrackerMatcher::new(&Trackers::default()).0,
                LexiconSentiment::new(),
                SignalSettings::default(),
            )
            .utterance_sentiment(text);
            assert!(
                (point.score - lexicon.score).abs() < 1e-9,
                "{text}: {} vs {}",
                point.score,
                lexicon.score
            );
        }
    }
    assert!(timeline[0].score < 0.0, "the seller's apology reads negative to the lexicon");
}
