//! Redacted copies of recordings: the spans where personal data was said,
//! silenced or replaced by a beep, everything else as decoded.
//!
//! The copy is written from an [`AudioStream`], a block at a time, so a long
//! call is never held whole: 16 kHz, the channels as decoded, 16-bit PCM WAV.
//! Spans are in seconds from the start of the recording and apply to **every**
//! channel (the other party's channel can carry the same digits as leak).
//!
//! The file is written next to its final name and renamed into place, so a
//! reader (the API serving it, a crash half-way) sees the old copy or the new
//! one, never a partial file; writing the same call again replaces it.

use std::path::Path;

use crate::{AudioError, AudioStream, TARGET_RATE};

/// What a redacted span becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaskMode {
    /// Digital silence (zeros).
    Silence,
    /// A [`BEEP_HZ`] tone at [`BEEP_LEVEL`].
    Beep,
}

impl std::str::FromStr for MaskMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "silence" => Ok(MaskMode::Silence),
            "beep" => Ok(MaskMode::Beep),
            other => Err(format!("unknown mask mode {other:?}: use \"silence\" or \"beep\"")),
        }
    }
}

/// The beep's frequency, Hz.
pub const BEEP_HZ: f64 = 1000.0;
/// The beep's peak level (full scale 1.0): about −14 dBFS, clearly audible
/// without drowning the speech around it.
pub const BEEP_LEVEL: f32 = 0.2;

/// The sample of the beep at absolute sample index `n` (phase-continuous
/// across blocks, so a span split between two blocks is one clean tone).
fn beep_at(n: u64) -> f32 {
    let t = n as f64 / f64::from(TARGET_RATE);
    (f64::from(BEEP_LEVEL) * (2.0 * std::f64::consts::PI * BEEP_HZ * t).sin()) as f32
}

/// The sample range `[from, to)` of a span in seconds (clamped at 0).
fn sample_range(start_s: f64, end_s: f64) -> (u64, u64) {
    let rate = f64::from(TARGET_RATE);
    let from = (start_s.max(0.0) * rate).floor() as u64;
    let to = (end_s.max(0.0) * rate).ceil() as u64;
    (from, to.max(from))
}

/// Masks, in place, the samples of `block` (one buffer per channel, all of
/// the same length, starting at absolute sample `first`) that fall inside any
/// of `spans` (seconds). Returns how many samples per channel were masked.
pub fn mask_block(block: &mut [Vec<f32>], first: u64, spans: &[(f64, f64)], mode: MaskMode) -> usize {
    let len = block.first().map_or(0, Vec::len) as u64;
    let end = first + len;
    let mut masked = vec![false; len as usize];
    for &(s, e) in spans {
        let (from, to) = sample_range(s, e);
        let (from, to) = (from.max(first), to.min(end));
        for n in from..to {
            masked[(n - first) as usize] = true;
        }
    }
    for (i, m) in masked.iter().enumerate() {
        if !m {
            continue;
        }
        let value = match mode {
            MaskMode::Silence => 0.0,
            MaskMode::Beep => beep_at(first + i as u64),
        };
        for channel in block.iter_mut() {
            channel[i] = value;
        }
    }
    masked.iter().filter(|m| **m).count()
}

/// What [`write_masked_wav`] wrote.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MaskedCopy {
    /// Channels written.
    pub channels: usize,
    /// Samples per channel written.
    pub samples: u64,
    /// Samples per channel masked.
    pub masked: u64,
}

/// Writes `stream` to `path` as a 16 kHz 16-bit PCM WAV with `spans`
/// (seconds) masked, atomically: to a temporary file in the same folder,
/// flushed to disk, then renamed over `path`. The temporary file is removed
/// if anything fails.
pub fn write_masked_wav(
    mut stream: AudioStream,
    spans: &[(f64, f64)],
    mode: MaskMode,
    path: &Path,
) -> Result<MaskedCopy, AudioError> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| AudioError::Write(std::io::Error::other("the copy's path has no file name")))?;
    let tmp =
        path.with_file_name(format!(".{name}.{}.{:?}.tmp", std::process::id(), std::thread::current().id()));
    let result = (|| {
        let channels = stream.channels();
        let spec = hound::WavSpec {
            channels: u16::try_from(channels)
                .map_err(|_| AudioError::Unsupported(format!("{channels} channels")))?,
            sample_rate: TARGET_RATE,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let file = std::fs::File::create(&tmp).map_err(AudioError::Write)?;
        let mut writer = hound::WavWriter::new(std::io::BufWriter::new(file), spec).map_err(wav_error)?;
        let mut copy = MaskedCopy { channels, samples: 0, masked: 0 };
        while let Some(mut block) = stream.read(TARGET_RATE as usize * 10)? {
            let len = block.first().map_or(0, Vec::len);
            copy.masked += mask_block(&mut block, copy.samples, spans, mode) as u64;
            for i in 0..len {
                for channel in &block {
                    let s = (channel[i].clamp(-1.0, 1.0) * 32767.0).round() as i16;
                    writer.write_sample(s).map_err(wav_error)?;
                }
            }
            copy.samples += len as u64;
        }
        writer.finalize().map_err(wav_error)?;
        std::fs::File::open(&tmp).and_then(|f| f.sync_all()).map_err(AudioError::Write)?;
        std::fs::rename(&tmp, path).map_err(AudioError::Write)?;
        Ok(copy)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[allow(clippy::wildcard_enum_match_arm)] // hound's error enum is foreign
fn wav_error(e: hound::Error) -> AudioError {
    match e {
        hound::Error::IoError(io) => AudioError::Write(io),
        other => AudioError::Write(std::io::Error::other(other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh folder under the system's temporary folder, removed on drop.
    struct TempDir(std::path::PathBuf);
    impl TempDir {
        fn new(tag: &str) -> TempDir {
            let p = std::env::temp_dir().join(format!(
                "callscope-audio-{tag}-{}-{:?}",
                std::process::id(),
                std::thread::current().id()
            ));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir_all(&p).expect("temp dir");
            TempDir(p)
        }
        fn path(&self) -> &Path {
            &self.0
        }
    }
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn tone(len: usize, hz: f64, level: f32) -> Vec<f32> {
        (0..len)
            .map(|n| {
                level * (2.0 * std::f64::consts::PI * hz * n as f64 / f64::from(TARGET_RATE)).sin() as f32
            })
            .collect()
    }

    fn rms(x: &[f32]) -> f32 {
        (x.iter().map(|v| v * v).sum::<f32>() / x.len().max(1) as f32).sqrt()
    }

    /// The correlation of `x` with a 1 kHz sine and cosine: 1 for a pure
    /// 1 kHz tone of any phase.
    fn tone_share(x: &[f32], first: u64) -> f32 {
        let (mut s, mut c) = (0.0f64, 0.0f64);
        for (i, v) in x.iter().enumerate() {
            let t = (first + i as u64) as f64 / f64::from(TARGET_RATE);
            let w = 2.0 * std::f64::consts::PI * BEEP_HZ * t;
            s += f64::from(*v) * w.sin();
            c += f64::from(*v) * w.cos();
        }
        let energy: f64 = x.iter().map(|v| f64::from(*v).powi(2)).sum();
        ((s * s + c * c) * 2.0 / x.len() as f64 / energy.max(1e-12)) as f32
    }

    #[test]
    fn silence_zeroes_the_span_in_every_channel_and_nothing_else() {
        let rate = TARGET_RATE as usize;
        let original = vec![tone(3 * rate, 220.0, 0.5), tone(3 * rate, 330.0, 0.4)];
        let mut block = original.clone();
        let masked = mask_block(&mut block, 0, &[(1.0, 2.0)], MaskMode::Silence);
        assert_eq!(masked, rate);
        for (ch, orig) in block.iter().zip(&original) {
            assert_eq!(rms(&ch[rate..2 * rate]), 0.0);
            assert_eq!(&ch[..rate], &orig[..rate], "before the span: unchanged");
            assert_eq!(&ch[2 * rate..], &orig[2 * rate..], "after the span: unchanged");
        }
    }

    #[test]
    fn beep_is_a_pure_tone_across_blocks_and_the_rest_is_unchanged() {
        let rate = TARGET_RATE as usize;
        let original = tone(4 * rate, 220.0, 0.5);
        // Two blocks; the span straddles their boundary.
        let (mut a, mut b) = (vec![original[..2 * rate].to_vec()], vec![original[2 * rate..].to_vec()]);
        let spans = [(1.5, 2.5)];
        mask_block(&mut a, 0, &spans, MaskMode::Beep);
        mask_block(&mut b, 2 * rate as u64, &spans, MaskMode::Beep);
        let joined: Vec<f32> = a[0].iter().chain(&b[0]).copied().collect();
        let span = &joined[rate * 3 / 2..rate * 5 / 2];
        assert!(tone_share(span, (rate * 3 / 2) as u64) > 0.99, "{}", tone_share(span, 0));
        let level = rms(span);
        let expected = BEEP_LEVEL / 2f32.sqrt();
        assert!((level - expected).abs() < 0.01 * expected, "rms {level}, expected {expected}");
        assert_eq!(&joined[..rate * 3 / 2], &original[..rate * 3 / 2]);
        assert_eq!(&joined[rate * 5 / 2..], &original[rate * 5 / 2..]);
        // The speech stand-in (220 Hz) is not a 1 kHz tone.
        assert!(tone_share(&original[..rate], 0) < 0.01);
    }

    #[test]
    fn a_masked_wav_is_written_atomically_and_reads_back() {
        let dir = TempDir::new("mask");
        let rate = TARGET_RATE as usize;
        let src = dir.path().join("in.wav");
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: TARGET_RATE,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let left = tone(2 * rate, 220.0, 0.5);
        let mut w = hound::WavWriter::create(&src, spec).expect("create");
        for s in &left {
            let v = (s * 32767.0).round() as i16;
            w.write_sample(v).expect("l");
            w.write_sample(v).expect("r");
        }
        w.finalize().expect("finalize");

        let out = dir.path().join("c-1.wav");
        std::fs::write(&out, b"an older copy").expect("old copy");
        let stream = AudioStream::open_file(&src, crate::DecodeLimits::default()).expect("open");
        let copy = write_masked_wav(stream, &[(0.5, 1.0)], MaskMode::Silence, &out).expect("write");
        assert_eq!((copy.channels, copy.samples, copy.masked), (2, 2 * rate as u64, rate as u64 / 2));
        let back = crate::decode_file(&out).expect("reads back");
        assert_eq!(back.channels.len(), 2);
        assert_eq!(rms(&back.channels[0][rate / 2..rate]), 0.0);
        assert!((rms(&back.channels[1][..rate / 2]) - rms(&left[..rate / 2])).abs() < 1e-3);
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "no temporary file left");
    }
}
