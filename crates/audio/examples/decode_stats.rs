//! Decodes a recording and prints what came out (for memory measurements:
//! `/usr/bin/time -v cargo run --release -p callscope-audio --example decode_stats -- FILE`).
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("FILE")?;
    let audio = callscope_audio::decode_file(std::path::Path::new(&path))?;
    println!(
        "{} channel(s), {:.1} s at 16 kHz from {} Hz {}, truncated: {}",
        audio.channels.len(),
        audio.duration_s(),
        audio.source_rate,
        audio.codec,
        audio.truncated
    );
    Ok(())
}
