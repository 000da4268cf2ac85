//! Writes each channel of a recording as raw 16 kHz signed 16-bit PCM
//! (`OUT_PREFIX.chN.s16`), for tools outside Rust (the GPU benchmark driver).
//! `cargo run --release -p callscope-audio --example dump_pcm -- AUDIO OUT_PREFIX`
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (input, prefix) = (args.get(1).ok_or("AUDIO")?, args.get(2).ok_or("OUT_PREFIX")?);
    let audio = callscope_audio::decode_file(std::path::Path::new(input))?;
    for (i, ch) in audio.channels.iter().enumerate() {
        let bytes: Vec<u8> =
            ch.iter().flat_map(|s| ((s.clamp(-1.0, 1.0) * 32767.0) as i16).to_le_bytes()).collect();
        std::fs::write(format!("{prefix}.ch{i}.s16"), bytes)?;
    }
    println!("{} channel(s), {:.2} s", audio.channels.len(), audio.duration_s());
    Ok(())
}
