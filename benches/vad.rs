//! Voice activity on a stereo call (issue 16): the energy detector (the
//! peer, what ran before), Silero VAD, and the leak estimate between the two
//! channels, on dev-06 (61 s, 16 kHz), per channel. Silero runs when
//! `models/silero-vad-16k.onnx` and `models/libonnxruntime.so.1.32.0` are
//! present (`tools/models/fetch_diarize.sh`); otherwise it is skipped with a
//! message. Run: `cargo bench -p callscope-benches --bench vad`.
#![allow(missing_docs)] // criterion_group! generates undocumented items

use std::path::Path;

use callscope_audio::silero::SileroVad;
use callscope_audio::{SpeechFrames, TARGET_RATE, VadSettings, leak};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn vad(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let audio = callscope_audio::decode_file(&root.join("crates/audio/tests/data/dev-06-stereo16k.flac"))
        .expect("dev-06");
    let (a, b) = (&audio.channels[0], &audio.channels[1]);
    let seconds = a.len() as u64 / u64::from(TARGET_RATE);
    let mut group = c.benchmark_group("vad");
    group.throughput(Throughput::Elements(seconds));
    group.sample_size(20);
    let settings = VadSettings::default();
    group.bench_function("energy_one_channel_61s", |bench| {
        bench.iter(|| SpeechFrames::measure(std::hint::black_box(a), TARGET_RATE, &settings));
    });
    let frames =
        [SpeechFrames::measure(a, TARGET_RATE, &settings), SpeechFrames::measure(b, TARGET_RATE, &settings)];
    group.bench_function("leak_estimate_and_removal_both_channels_61s", |bench| {
        bench.iter(|| leak::own_speech([a, b], TARGET_RATE, [&frames[0], &frames[1]]));
    });
    let (model, runtime) =
        (root.join("models/silero-vad-16k.onnx"), root.join("models/libonnxruntime.so.1.32.0"));
    if model.is_file() && runtime.is_file() {
        let silero = SileroVad::load(&model, &runtime).expect("silero");
        group.bench_function("silero_one_channel_61s", |bench| {
            bench.iter(|| silero.frames(std::hint::black_box(a)).expect("frames"));
        });
    } else {
        eprintln!("SKIPPED silero: run tools/models/fetch_diarize.sh");
    }
    group.finish();
}

criterion_group!(benches, vad);
criterion_main!(benches);
