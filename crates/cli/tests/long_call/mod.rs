//! A call that takes far longer to analyse than a test's patience: dev-06
//! six times over (about 6 min of stereo audio), for the tests that stop a
//! worker in the middle of one.

use std::path::Path;

/// Writes the long call to `path` as a 16 kHz 16-bit stereo WAV.
pub(crate) fn write_long_call(path: &Path) {
    let dev06 = Path::new(env!("CARGO_MANIFEST_DIR")).join("../audio/tests/data/dev-06-stereo16k.flac");
    let dev06 = callscope_audio::decode_file(&dev06).expect("dev-06");
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: callscope_audio::TARGET_RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut wav = hound::WavWriter::create(path, spec).expect("create the long call");
    for _ in 0..6 {
        for i in 0..dev06.channels[0].len() {
            for channel in &dev06.channels {
                wav.write_sample((channel[i].clamp(-1.0, 1.0) * 32767.0) as i16).expect("write");
            }
        }
    }
    wav.finalize().expect("finish the long call");
}

/// Whether a worker's log shows whisper itself stopping a decode (what a
/// cancelled token makes it do).
pub(crate) fn whisper_stopped(log: &str) -> bool {
    log.contains("whisper_full_with_state: failed to encode")
        || log.contains("whisper_full_with_state: failed to decode")
}
