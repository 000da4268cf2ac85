//! A model that reads whole turns (the neural one) is given the customer's
//! turns only, each with the seller's turns just before and after it as
//! context; the seller's turns in the timeline get the lexicon's score.
//! A stand-in model records what it was asked.

use std::sync::Mutex;

use callscope_model::{Role, SentimentLabel, SentimentScore, Transcript};
use callscope_signals::{
    InContext, LexiconSentiment, SentimentModel, SignalExtractor, SignalSettings, TrackerMatcher, Trackers,
};
use serde_json::json;

/// (turn, seller's turn before, seller's turn after).
type Asked = (String, Option<String>, Option<String>);

#[derive(Debug, Default)]
struct Recorder {
    asked: Mutex<Vec<Asked>>,
}

impl SentimentModel for Recorder {
    fn name(&self) -> &'static str {
        "recorder"
    }
    fn score(&self, text: &str) -> SentimentScore {
        self.score_in_context(&[InContext::alone(text)]).remove(0)
    }
    fn score_in_context(&self, turns: &[InContext<'_>]) -> Vec<SentimentScore> {
        let owned = |s: Option<&str>| s.map(str::to_owned);
        self.asked
            .lock()
            .expect("lock")
            .extend(turns.iter().map(|t| (t.text.to_owned(), owned(t.before), owned(t.after))));
        vec![SentimentScore { label: SentimentLabel::Positive, score: 0.9 }; turns.len()]
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
    let some = |i: usize| Some(lines[i].1.to_owned());
    assert_eq!(
        asked,
        [
            (lines[1].1.to_owned(), some(0), some(2)),
            // The call ends with the customer: nothing after.
            (lines[3].1.to_owned(), some(2), None),
        ]
    );
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
