//! Prints what the default redactor would replace in transcript files (kind
//! and the words), to look for false positives on real calls. Prints raw
//! values: run it on your own machine only.
//!
//! ```sh
//! cargo run -p callscope-redact --example scan -- samples/transcripts/*.json
//! ```
use callscope_model::Transcript;
use callscope_redact::Redactor;
fn main() {
    for path in std::env::args().skip(1) {
        let bytes = std::fs::read(&path).expect("readable");
        let Ok(t) = Transcript::from_json_slice(&bytes) else { continue };
        let mut r = t.clone();
        let report = Redactor::default().redact(&mut r);
        for e in report.entities {
            let said: Vec<&str> = t
                .words
                .iter()
                .filter(|w| w.speaker == e.speaker && w.start >= e.start && w.end <= e.end)
                .map(|w| w.text.as_str())
                .collect();
            println!("{path}: {} {:?}", e.kind.as_str(), said.join(" "));
        }
    }
}
