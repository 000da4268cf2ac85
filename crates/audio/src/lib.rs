//! Audio in: decode a recording, resample it to 16 kHz, split its channels and
//! find where people speak.
//!
//! Whisper wants 16 kHz mono `f32`, and it invents words in silence, so every
//! recording goes through the same three steps before transcription:
//! 1. **decode** ([`decode_bytes`], [`decode_file`]) with symphonia: WAV (PCM 8/16/
//!    24/32-bit, float, G.711 μ-law and A-law), FLAC, MP3, Ogg Vorbis; Ogg Opus
//!    through libopus (symphonia demuxes Ogg but has no Opus decoder);
//! 2. **resample** ([`resample`]) each channel to 16 kHz with rubato's FFT
//!    resampler (band-limited, no aliasing from 44.1/48 kHz sources);
//! 3. **voice activity** per channel, so that only speech is sent to whisper
//!    and an idle channel of a stereo call costs nothing: an energy detector
//!    ([`speech_segments`]) or, when its model file is present, Silero VAD
//!    ([`silero`], through ONNX Runtime: [`onnx`]), which holds in line
//!    noise; on a stereo call, less what is only the other party's voice
//!    leaking into the channel ([`leak`]).
//!
//! Out: [`mask`] writes a redacted copy of a recording (16 kHz WAV) with the
//! spans where personal data was said silenced or beeped.
//!
//! Sample rates from 8 kHz to 384 kHz are accepted; anything else is an error.
//! A truncated file decodes up to the damage and says so ([`Audio::truncated`]);
//! a file with no decodable audio is an error, never a panic.
//!
//! Memory: files are streamed from disk and every decoded packet is resampled to
//! 16 kHz as it arrives. [`AudioStream`] hands the 16 kHz output over a block
//! at a time, so a caller that works in windows (the pipeline's stereo path)
//! holds one window, whatever the call's length; [`decode_file`] and
//! [`decode_bytes`] read a stream to its end and hold the whole output, 64 kB
//! per second per channel (a 2-hour stereo call is about 920 MB). The output
//! grows with what has actually been decoded (doubling, capped at the length the
//! header declares), never from the header alone: a header claiming ten hours
//! in a file of ten bytes allocates nothing. [`DecodeLimits`] stops a decode
//! that runs past a maximum duration ([`AudioError::TooLong`]).

pub mod leak;
pub mod mask;
pub mod onnx;
pub mod silero;
mod vad;

use std::path::Path;

use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{CODEC_TYPE_NULL, CODEC_TYPE_OPUS, DecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

pub use vad::{
    Segment, SpeechFrames, VOICE_BAND_LOW_HZ, VOICES_IN_EVERY_PAUSE, VadSettings, levels_db, snr_db,
    speech_segments, voice_band,
};

/// The sample rate whisper (and everything after decoding) works at.
pub const TARGET_RATE: u32 = 16_000;
/// Lowest accepted source rate (narrowband telephony).
pub const MIN_RATE: u32 = 8_000;
/// Highest accepted source rate.
pub const MAX_RATE: u32 = 384_000;

/// Why a recording could not be used.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    /// The file could not be read.
    #[error("cannot read the recording: {0}")]
    Io(#[from] std::io::Error),
    /// A copy of the recording could not be written ([`mask`]).
    #[error("cannot write the audio file: {0}")]
    Write(std::io::Error),
    /// Zero bytes, or a container with no audio in it.
    #[error("the recording is empty")]
    Empty,
    /// A format or codec this build cannot decode.
    #[error("unsupported audio: {0}")]
    Unsupported(String),
    /// The data is damaged beyond decoding.
    #[error("corrupt audio: {0}")]
    Corrupt(String),
    /// A sample rate outside 8 kHz – 384 kHz (or none at all).
    #[error("unsupported sample rate {0} Hz (accepted: 8000 to 384000)")]
    SampleRate(u32),
    /// Longer than [`DecodeLimits::max_duration_s`] (declared by the header,
    /// or found while decoding).
    #[error("the recording is longer than the limit of {limit_s} s")]
    TooLong {
        /// The limit, seconds.
        limit_s: f64,
    },
}

/// Limits on what one decode may produce.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DecodeLimits {
    /// Longest recording accepted, seconds; `None`: no limit.
    pub max_duration_s: Option<f64>,
}

impl DecodeLimits {
    /// Whether `frames` at `rate` is past the limit.
    fn exceeded(&self, frames: u64, rate: u32) -> bool {
        self.max_duration_s.is_some_and(|max| frames as f64 / f64::from(rate.max(1)) > max)
    }

    fn error(&self) -> AudioError {
        AudioError::TooLong { limit_s: self.max_duration_s.unwrap_or_default() }
    }
}

/// A decoded recording, resampled to [`TARGET_RATE`].
#[derive(Debug, Clone, PartialEq)]
pub struct Audio {
    /// One buffer per channel, 16 kHz, samples in [-1, 1].
    pub channels: Vec<Vec<f32>>,
    /// The source's sample rate.
    pub source_rate: u32,
    /// The codec, for logs and errors (`pcm_s16le`, `flac`, `mp3`, `opus`, ...).
    pub codec: String,
    /// Whether decoding stopped early at damaged or missing data.
    pub truncated: bool,
}

impl Audio {
    /// Length in seconds.
    pub fn duration_s(&self) -> f64 {
        self.channels.first().map_or(0.0, |c| c.len() as f64 / f64::from(TARGET_RATE))
    }

    /// The channels mixed to mono (for mono processing of a stereo file).
    pub fn mono(&self) -> Vec<f32> {
        let n = self.channels.len().max(1) as f32;
        let len = self.channels.iter().map(Vec::len).max().unwrap_or(0);
        (0..len)
            .map(|i| self.channels.iter().map(|c| c.get(i).copied().unwrap_or(0.0)).sum::<f32>() / n)
            .collect()
    }
}

/// Decodes a recording file, streaming it from disk (the file is never held in
/// memory whole); the extension helps pick the format.
pub fn decode_file(path: &Path) -> Result<Audio, AudioError> {
    decode_file_with(path, DecodeLimits::default())
}

/// [`decode_file`] within `limits`.
pub fn decode_file_with(path: &Path, limits: DecodeLimits) -> Result<Audio, AudioError> {
    AudioStream::open_file(path, limits)?.read_all()
}

fn codec_name(codec: symphonia::core::codecs::CodecType) -> String {
    if codec == CODEC_TYPE_OPUS {
        return "opus".into(); // decoded by libopus, not registered with symphonia
    }
    symphonia::default::get_codecs()
        .get_codec(codec)
        .map_or_else(|| format!("{codec}"), |d| d.short_name.to_owned())
}

/// Decodes a recording held in memory. `extension` is a hint (`wav`, `flac`, ...).
pub fn decode_bytes(bytes: Vec<u8>, extension: Option<&str>) -> Result<Audio, AudioError> {
    decode_bytes_with(bytes, extension, DecodeLimits::default())
}

/// [`decode_bytes`] within `limits`.
pub fn decode_bytes_with(
    bytes: Vec<u8>,
    extension: Option<&str>,
    limits: DecodeLimits,
) -> Result<Audio, AudioError> {
    AudioStream::open_bytes(bytes, extension, limits)?.read_all()
}

/// The decoder of the track being read.
enum TrackDecoder {
    /// Everything symphonia decodes, with its sample buffer.
    Symphonia(Box<dyn symphonia::core::codecs::Decoder>, Option<SampleBuffer<f32>>),
    /// Ogg Opus through libopus at 48 kHz: one frame's buffer, and the
    /// pre-skip samples still to drop.
    Opus(opus::Decoder, Vec<f32>, usize),
}

/// A recording being decoded: 16 kHz samples per channel, a block at a time
/// ([`AudioStream::read`]), so that a long call never has to be in memory
/// whole. [`decode_file`] and [`decode_bytes`] read one to the end.
pub struct AudioStream {
    format: Box<dyn symphonia::core::formats::FormatReader>,
    track_id: u32,
    decoder: TrackDecoder,
    sink: Resampling,
    declared_frames: Option<u64>,
    n_channels: usize,
    source_rate: u32,
    codec: String,
    truncated: bool,
    ended: bool,
}

impl std::fmt::Debug for AudioStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AudioStream")
            .field("channels", &self.n_channels)
            .field("source_rate", &self.source_rate)
            .field("codec", &self.codec)
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

impl AudioStream {
    /// Opens a recording file (read as it is decoded; the extension helps
    /// pick the format). Reads the header only.
    pub fn open_file(path: &Path, limits: DecodeLimits) -> Result<Self, AudioError> {
        let file = std::fs::File::open(path)?;
        if file.metadata()?.len() == 0 {
            return Err(AudioError::Empty);
        }
        let mss = MediaSourceStream::new(Box::new(file), Default::default());
        Self::open(mss, path.extension().and_then(|e| e.to_str()), limits)
    }

    /// Opens a recording held in memory; `extension` is a hint (`wav`, `flac`, ...).
    pub fn open_bytes(
        bytes: Vec<u8>,
        extension: Option<&str>,
        limits: DecodeLimits,
    ) -> Result<Self, AudioError> {
        if bytes.is_empty() {
            return Err(AudioError::Empty);
        }
        let mss = MediaSourceStream::new(Box::new(std::io::Cursor::new(bytes)), Default::default());
        Self::open(mss, extension, limits)
    }

    #[allow(clippy::wildcard_enum_match_arm)] // symphonia's error enum is foreign
    fn open(
        mss: MediaSourceStream,
        extension: Option<&str>,
        limits: DecodeLimits,
    ) -> Result<Self, AudioError> {
        let mut hint = Hint::new();
        if let Some(ext) = extension {
            hint.with_extension(ext);
        }
        let probed = symphonia::default::get_probe()
            .format(&hint, mss, &FormatOptions::default(), &MetadataOptions::default())
            .map_err(|e| match e {
                SymError::Unsupported(what) => {
                    AudioError::Unsupported(format!("not a known audio format ({what})"))
                }
                SymError::IoError(_) => AudioError::Corrupt("the file ends before its header does".into()),
                other => AudioError::Corrupt(other.to_string()),
            })?;
        let format = probed.format;
        let track = format
            .tracks()
            .iter()
            .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
            .cloned()
            .ok_or(AudioError::Empty)?;
        let params = &track.codec_params;
        let rate = params.sample_rate.ok_or(AudioError::SampleRate(0))?;
        if !(MIN_RATE..=MAX_RATE).contains(&rate) {
            return Err(AudioError::SampleRate(rate));
        }
        let n_channels = params.channels.map_or(1, |c| c.count()).max(1);
        let codec = codec_name(params.codec);
        let opus = params.codec == CODEC_TYPE_OPUS;
        // A declared length past the limit fails before anything is decoded; the
        // sink checks again as it goes (headers lie, or declare nothing).
        if let Some(frames) = params.n_frames
            && limits.exceeded(frames, rate)
        {
            return Err(limits.error());
        }
        let decoder = if opus {
            let channels = match n_channels {
                1 => opus::Channels::Mono,
                2 => opus::Channels::Stereo,
                n => return Err(AudioError::Unsupported(format!("Opus with {n} channels"))),
            };
            // OpusHead: bytes 10..12 hold the pre-skip (samples at 48 kHz to drop).
            let pre_skip = params
                .extra_data
                .as_deref()
                .filter(|h| h.len() >= 12 && h.starts_with(b"OpusHead"))
                .map_or(0, |h| usize::from(u16::from_le_bytes([h[10], h[11]])));
            let decoder = opus::Decoder::new(48_000, channels)
                .map_err(|e| AudioError::Unsupported(format!("libopus: {e}")))?;
            TrackDecoder::Opus(decoder, vec![0f32; 5760 * n_channels], pre_skip)
        } else {
            let decoder = symphonia::default::get_codecs()
                .make(params, &DecoderOptions::default())
                .map_err(|_| AudioError::Unsupported(format!("codec {codec}")))?;
            TrackDecoder::Symphonia(decoder, None)
        };
        let mut sink = Resampling::new(n_channels, if opus { 48_000 } else { rate }, limits);
        if let Some(frames) = params.n_frames {
            // Growth stops at the declared size instead of doubling past it; the
            // memory itself is taken as samples actually arrive.
            sink.expect((frames as f64 * f64::from(TARGET_RATE) / f64::from(rate)) as usize + 4096);
        }
        Ok(AudioStream {
            format,
            track_id: track.id,
            decoder,
            sink,
            declared_frames: params.n_frames.filter(|_| !opus),
            n_channels,
            source_rate: rate,
            codec,
            truncated: false,
            ended: false,
        })
    }

    /// The number of channels.
    pub fn channels(&self) -> usize {
        self.n_channels
    }

    /// The source's sample rate.
    pub fn source_rate(&self) -> u32 {
        self.source_rate
    }

    /// The codec, for logs and errors.
    pub fn codec(&self) -> &str {
        &self.codec
    }

    /// Whether decoding stopped early at damaged or missing data (known for
    /// certain once the stream has ended).
    pub fn truncated(&self) -> bool {
        self.truncated
    }

    /// Decodes on until at least `min_samples` 16 kHz samples per channel are
    /// ready, or to the end, and takes what is ready: one buffer per channel,
    /// all of the same length, following on from the last read. `None` once
    /// everything has been read. A recording with no decodable audio at all
    /// is an error on the first read.
    pub fn read(&mut self, min_samples: usize) -> Result<Option<Vec<Vec<f32>>>, AudioError> {
        if self.ended && self.sink.is_empty() {
            return Ok(None);
        }
        while !self.ended && self.sink.ready() < min_samples.max(1) {
            if !self.step()? {
                self.end()?;
            }
        }
        let block = self.sink.take();
        Ok(Some(block).filter(|b| b.first().is_some_and(|c| !c.is_empty()) || !self.ended))
    }

    /// Reads the whole recording.
    pub fn read_all(mut self) -> Result<Audio, AudioError> {
        let channels = self.read(usize::MAX)?.unwrap_or_else(|| vec![Vec::new(); self.n_channels]);
        Ok(Audio { channels, source_rate: self.source_rate, codec: self.codec, truncated: self.truncated })
    }

    /// The end of the input: flushes the resamplers; checks that anything decoded.
    fn end(&mut self) -> Result<(), AudioError> {
        self.ended = true;
        // A declared length longer than what decoded: the file was cut short.
        if let Some(frames) = self.declared_frames
            && self.sink.frames_in + 1 < frames
        {
            self.truncated = true;
        }
        if self.sink.frames_in == 0 {
            return Err(if self.truncated {
                AudioError::Corrupt("no audio could be decoded".into())
            } else {
                AudioError::Empty
            });
        }
        self.sink.finish();
        Ok(())
    }

    /// Decodes one packet into the sink; `false` at the end of the input (or
    /// at damage that ends it).
    #[allow(clippy::wildcard_enum_match_arm)] // symphonia's error enum is foreign
    fn step(&mut self) -> Result<bool, AudioError> {
        let packet = match self.format.next_packet() {
            Ok(p) => p,
            Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(false),
            Err(SymError::ResetRequired) if matches!(self.decoder, TrackDecoder::Symphonia(..)) => {
                return Ok(false);
            }
            Err(_) => {
                self.truncated = true;
                return Ok(false);
            }
        };
        if packet.track_id() != self.track_id {
            return Ok(true);
        }
        match &mut self.decoder {
            TrackDecoder::Symphonia(decoder, buf) => match decoder.decode(&packet) {
                Ok(decoded) => {
                    let spec = *decoded.spec();
                    let b = buf.get_or_insert_with(|| SampleBuffer::new(decoded.capacity() as u64, spec));
                    if b.capacity() < decoded.capacity() * spec.channels.count() {
                        *b = SampleBuffer::new(decoded.capacity() as u64, spec);
                    }
                    b.copy_interleaved_ref(decoded);
                    self.sink.push_interleaved(b.samples())?;
                }
                // A damaged packet: skip it, remember that the audio is not whole.
                Err(SymError::DecodeError(_)) => self.truncated = true,
                Err(SymError::IoError(_)) => {
                    self.truncated = true;
                    return Ok(false);
                }
                Err(e) => return Err(AudioError::Corrupt(e.to_string())),
            },
            TrackDecoder::Opus(decoder, frame, to_skip) => {
                match decoder.decode_float(&packet.data, frame, false) {
                    Ok(n) => {
                        let skip = (*to_skip).min(n);
                        *to_skip -= skip;
                        self.sink.push_interleaved(&frame[skip * self.n_channels..n * self.n_channels])?;
                    }
                    Err(_) => self.truncated = true,
                }
            }
        }
        Ok(true)
    }
}

/// One channel resampled as its samples arrive; the output is taken as it
/// is ready ([`StreamResampler::take`]) or at the end.
struct StreamResampler {
    inner: Option<rubato::FftFixedIn<f32>>,
    pending: Vec<f32>,
    /// Output not taken yet (the resampler's delay already dropped).
    out: Vec<f32>,
    /// Output samples still to drop: the resampler's delay.
    to_skip: usize,
    /// Output samples taken so far.
    taken: usize,
    /// The output length the header declares, if any: growth stops there.
    declared: Option<usize>,
    total_in: usize,
    from: u32,
    to: u32,
}

/// Makes room in `out` for `incoming` more samples: doubling what is already
/// there (what was actually decoded), capped at `declared`, never from the
/// declaration alone.
fn grow(out: &mut Vec<f32>, incoming: usize, declared: Option<usize>) {
    let need = out.len() + incoming;
    if need <= out.capacity() {
        return;
    }
    let mut target = (out.len() * 2).max(need).max(TARGET_RATE as usize);
    if let Some(d) = declared {
        target = target.min(d.max(need));
    }
    out.reserve_exact(target - out.len());
}

impl StreamResampler {
    const CHUNK: usize = 1024;

    fn new(from: u32, to: u32) -> Self {
        let inner = (from != to)
            .then(|| rubato::FftFixedIn::<f32>::new(from as usize, to as usize, Self::CHUNK, 2, 1).ok())
            .flatten();
        let to_skip = inner.as_ref().map_or(0, |r| {
            use rubato::Resampler;
            r.output_delay()
        });
        StreamResampler {
            inner,
            pending: Vec::new(),
            out: Vec::new(),
            to_skip,
            taken: 0,
            declared: None,
            total_in: 0,
            from,
            to,
        }
    }

    /// Appends resampled output, less what is left of the delay.
    fn emit(&mut self, samples: &[f32]) {
        let skip = self.to_skip.min(samples.len());
        self.to_skip -= skip;
        grow(&mut self.out, samples.len() - skip, self.declared);
        self.out.extend_from_slice(&samples[skip..]);
    }

    fn push(&mut self, samples: &[f32]) {
        use rubato::Resampler;
        self.total_in += samples.len();
        if self.inner.is_none() {
            self.emit(samples);
            return;
        }
        self.pending.extend_from_slice(samples);
        let mut used = 0;
        while let Some(r) = self.inner.as_mut()
            && self.pending.len() - used >= r.input_frames_next()
        {
            let n = r.input_frames_next();
            let out = r.process(&[&self.pending[used..used + n]], None);
            used += n;
            if let Ok(o) = out {
                self.emit(&o[0]);
            }
        }
        self.pending.drain(..used);
    }

    /// Takes the first `n` samples of the output not taken yet.
    fn take(&mut self, n: usize) -> Vec<f32> {
        self.taken += n;
        if n >= self.out.len() { std::mem::take(&mut self.out) } else { self.out.drain(..n).collect() }
    }

    /// The end of the input: flushes the resampler, so that the whole
    /// output has `round(len × to / from)` samples, aligned with the input.
    fn finish(&mut self) {
        use rubato::Resampler;
        let Some(mut r) = self.inner.take() else { return };
        let expected = (self.total_in as f64 * f64::from(self.to) / f64::from(self.from)).round() as usize;
        if !self.pending.is_empty()
            && let Ok(o) = r.process_partial(Some(&[&self.pending]), None)
        {
            self.emit(&o[0]);
        }
        self.pending = Vec::new();
        while self.taken + self.out.len() < expected {
            match r.process_partial::<&[f32]>(None, None) {
                Ok(o) if !o[0].is_empty() => self.emit(&o[0]),
                _ => break,
            }
        }
        self.out.resize(expected.saturating_sub(self.taken), 0.0);
    }
}

/// Resamples one channel with rubato's FFT resampler; the output has
/// `round(len × to / from)` samples, aligned with the input (delay removed).
pub fn resample(samples: &[f32], from: u32, to: u32) -> Vec<f32> {
    let mut r = StreamResampler::new(from, to);
    r.push(samples);
    r.finish();
    r.take(usize::MAX)
}

/// Interleaved samples in, 16 kHz samples per channel out.
struct Resampling {
    channels: Vec<StreamResampler>,
    scratch: Vec<f32>,
    /// Frames (samples per channel) received so far.
    frames_in: u64,
    /// The rate they arrive at.
    from: u32,
    limits: DecodeLimits,
}

impl Resampling {
    fn new(n_channels: usize, from: u32, limits: DecodeLimits) -> Self {
        Resampling {
            channels: (0..n_channels).map(|_| StreamResampler::new(from, TARGET_RATE)).collect(),
            scratch: Vec::new(),
            frames_in: 0,
            from,
            limits,
        }
    }

    /// The header's declared output length per channel: growth stops there.
    fn expect(&mut self, samples_per_channel: usize) {
        for c in &mut self.channels {
            c.declared = Some(samples_per_channel);
        }
    }

    /// Takes decoded samples; [`AudioError::TooLong`] once past the limit.
    fn push_interleaved(&mut self, data: &[f32]) -> Result<(), AudioError> {
        let n = self.channels.len();
        self.frames_in += (data.len() / n) as u64;
        if self.limits.exceeded(self.frames_in, self.from) {
            return Err(self.limits.error());
        }
        for (c, channel) in self.channels.iter_mut().enumerate() {
            self.scratch.clear();
            self.scratch.extend(data.iter().skip(c).step_by(n));
            channel.push(&self.scratch);
        }
        Ok(())
    }

    /// Output samples ready in every channel.
    fn ready(&self) -> usize {
        self.channels.iter().map(|c| c.out.len()).min().unwrap_or(0)
    }

    fn is_empty(&self) -> bool {
        self.channels.iter().all(|c| c.out.is_empty())
    }

    /// Takes what is ready, the same length from every channel.
    fn take(&mut self) -> Vec<Vec<f32>> {
        let n = self.ready();
        self.channels.iter_mut().map(|c| c.take(n)).collect()
    }

    fn finish(&mut self) {
        self.channels.iter_mut().for_each(StreamResampler::finish);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(rate: u32, secs: f64, hz: f64) -> Vec<f32> {
        (0..(f64::from(rate) * secs) as usize)
            .map(|i| (0.5 * (2.0 * std::f64::consts::PI * hz * i as f64 / f64::from(rate)).sin()) as f32)
            .collect()
    }

    #[test]
    fn resampling_keeps_length_and_tone() {
        for from in [8_000, 22_050, 44_100, 48_000] {
            let input = sine(from, 1.0, 440.0);
            let out = resample(&input, from, TARGET_RATE);
            assert_eq!(out.len(), 16_000, "{from} Hz");
            // The tone survives, in phase: correlation with an ideal 440 Hz sine
            // (away from the edges), and the same energy.
            let ideal = sine(TARGET_RATE, 1.0, 440.0);
            let (a, b) = (&out[2000..14000], &ideal[2000..14000]);
            let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
            let (na, nb): (f32, f32) = (a.iter().map(|x| x * x).sum(), b.iter().map(|x| x * x).sum());
            let corr = dot / (na.sqrt() * nb.sqrt());
            assert!(corr > 0.995, "{from} Hz: correlation {corr}");
            assert!((na / nb - 1.0).abs() < 0.02, "{from} Hz: energy ratio {}", na / nb);
        }
    }

    #[test]
    fn growth_follows_what_was_decoded_not_the_header() {
        let mut out = Vec::new();
        // A header declaring ten hours: the first packet takes what it needs.
        grow(&mut out, 160, Some(10 * 3600 * TARGET_RATE as usize));
        assert!(out.capacity() < 2 * TARGET_RATE as usize, "{}", out.capacity());
        out.resize(out.capacity(), 0.0);
        grow(&mut out, 1, Some(10 * 3600 * TARGET_RATE as usize));
        assert!(out.capacity() <= 2 * out.len() + 1, "doubling: {} for {}", out.capacity(), out.len());
        // And never past an honest declaration.
        let mut out = vec![0.0; 30_000];
        grow(&mut out, 10, Some(30_100));
        assert_eq!(out.capacity(), 30_100);
    }

    #[test]
    fn a_header_declaring_hours_in_a_few_bytes_allocates_nothing_big() {
        // A 16-bit mono WAV header whose data chunk claims 4 GiB, followed by
        // one second of samples: it decodes the second (truncated), without
        // reserving hours of output.
        let mut wav = Vec::new();
        wav.extend_from_slice(b"RIFF");
        wav.extend_from_slice(&u32::MAX.to_le_bytes());
        wav.extend_from_slice(b"WAVEfmt ");
        wav.extend_from_slice(&16u32.to_le_bytes());
        wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
        wav.extend_from_slice(&1u16.to_le_bytes()); // mono
        wav.extend_from_slice(&16_000u32.to_le_bytes());
        wav.extend_from_slice(&32_000u32.to_le_bytes());
        wav.extend_from_slice(&2u16.to_le_bytes());
        wav.extend_from_slice(&16u16.to_le_bytes());
        wav.extend_from_slice(b"data");
        wav.extend_from_slice(&(u32::MAX - 64).to_le_bytes());
        for s in sine(16_000, 1.0, 440.0) {
            wav.extend_from_slice(&((s * 16_000.0) as i16).to_le_bytes());
        }
        let audio = decode_bytes(wav.clone(), Some("wav")).expect("decodes what is there");
        assert_eq!(audio.channels[0].len(), 16_000);
        assert!(audio.channels[0].capacity() < 4 * 16_000, "capacity {}", audio.channels[0].capacity());
        // And the declared 37 hours are past a one-hour limit before any decoding.
        let limits = DecodeLimits { max_duration_s: Some(3600.0) };
        assert!(matches!(decode_bytes_with(wav, Some("wav"), limits), Err(AudioError::TooLong { .. })));
    }

    #[test]
    fn a_decode_past_the_duration_limit_stops() {
        let mut wav = Vec::new();
        let samples = sine(16_000, 2.0, 440.0);
        let data_len = (samples.len() * 2) as u32;
        wav.extend_from_slice(b"RIFF");
        wav.extend_from_slice(&(36 + data_len).to_le_bytes());
        wav.extend_from_slice(b"WAVEfmt ");
        wav.extend_from_slice(&16u32.to_le_bytes());
        wav.extend_from_slice(&1u16.to_le_bytes());
        wav.extend_from_slice(&1u16.to_le_bytes());
        wav.extend_from_slice(&16_000u32.to_le_bytes());
        wav.extend_from_slice(&32_000u32.to_le_bytes());
        wav.extend_from_slice(&2u16.to_le_bytes());
        wav.extend_from_slice(&16u16.to_le_bytes());
        wav.extend_from_slice(b"data");
        wav.extend_from_slice(&data_len.to_le_bytes());
        for s in samples {
            wav.extend_from_slice(&((s * 16_000.0) as i16).to_le_bytes());
        }
        let within = DecodeLimits { max_duration_s: Some(2.5) };
        assert!(decode_bytes_with(wav.clone(), Some("wav"), within).is_ok());
        let under = DecodeLimits { max_duration_s: Some(1.0) };
        let err = decode_bytes_with(wav, Some("wav"), under).expect_err("too long");
        assert!(err.to_string().contains("longer than the limit of 1 s"), "{err}");
    }

    #[test]
    fn empty_and_garbage_are_errors() {
        assert!(matches!(decode_bytes(Vec::new(), Some("wav")), Err(AudioError::Empty)));
        let err =
            decode_bytes(b"definitely not audio at all, just text".to_vec(), None).expect_err("garbage");
        assert!(matches!(err, AudioError::Unsupported(_) | AudioError::Corrupt(_)), "{err}");
    }
}
