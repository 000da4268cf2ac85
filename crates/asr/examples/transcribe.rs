//! Transcribes each channel of a recording and prints the words with times.
//! `cargo run --release -p callscope-asr --example transcribe -- MODEL AUDIO`
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (model, audio) = (args.get(1).ok_or("MODEL")?, args.get(2).ok_or("AUDIO")?);
    let t = callscope_asr::Transcriber::load(callscope_asr::AsrSettings {
        model: model.into(),
        ..Default::default()
    })?;
    let audio = callscope_audio::decode_file(std::path::Path::new(audio))?;
    let mut session = t.session()?;
    for (c, channel) in audio.channels.iter().enumerate() {
        let start = std::time::Instant::now();
        let words = session.transcribe(channel)?;
        eprintln!("channel {c}: {} words in {:.1}s", words.len(), start.elapsed().as_secs_f64());
        for w in words.iter().take(40) {
            println!("{c} {:7.2} {:7.2} {:.2} {}", w.start, w.end, w.confidence.unwrap_or(0.0), w.text);
        }
    }
    Ok(())
}
