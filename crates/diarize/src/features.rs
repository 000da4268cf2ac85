//! Log-mel features for the d-vector embedder, reproducing the recipe it was
//! trained with (librosa `melspectrogram`: n_fft 512, a 400-sample periodic
//! Hamming window centred in the frame, hop 160, no centre padding, power
//! spectrum, 40 Slaney-normalised mel bands on the Slaney mel scale from 0 to
//! 8 kHz; then `log10(S + 1e-10)`).

use std::sync::Arc;

use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};

/// FFT size.
pub const N_FFT: usize = 512;
/// Window length (samples).
pub const WIN: usize = 400;
/// Hop between frames (samples): 10 ms at 16 kHz.
pub const HOP: usize = 160;
/// Mel bands.
pub const N_MELS: usize = 40;

/// Computes log-mel frames.
pub struct LogMel {
    fft: Arc<dyn Fft<f32>>,
    window: Vec<f32>,
    filters: Vec<Vec<(usize, f32)>>,
}

impl std::fmt::Debug for LogMel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogMel").finish_non_exhaustive()
    }
}

fn hz_to_mel(f: f64) -> f64 {
    // Slaney: linear below 1 kHz, logarithmic above.
    let (f_sp, min_log_hz) = (200.0 / 3.0, 1000.0);
    let min_log_mel = min_log_hz / f_sp;
    let logstep = (6.4f64).ln() / 27.0;
    if f >= min_log_hz { min_log_mel + (f / min_log_hz).ln() / logstep } else { f / f_sp }
}

fn mel_to_hz(m: f64) -> f64 {
    let (f_sp, min_log_hz) = (200.0 / 3.0, 1000.0);
    let min_log_mel = min_log_hz / f_sp;
    let logstep = (6.4f64).ln() / 27.0;
    if m >= min_log_mel { min_log_hz * (logstep * (m - min_log_mel)).exp() } else { f_sp * m }
}

impl LogMel {
    /// Features at 16 kHz.
    pub fn new() -> Self {
        let rate = 16_000.0;
        // Periodic Hamming of WIN samples, zero-padded to N_FFT, centred.
        let mut window = vec![0.0f32; N_FFT];
        let pad = (N_FFT - WIN) / 2;
        for i in 0..WIN {
            let w = 0.54 - 0.46 * (2.0 * std::f64::consts::PI * i as f64 / WIN as f64).cos();
            window[pad + i] = w as f32;
        }
        let n_freq = N_FFT / 2 + 1;
        let fft_freqs: Vec<f64> = (0..n_freq).map(|i| i as f64 * rate / N_FFT as f64).collect();
        let (lo, hi) = (hz_to_mel(0.0), hz_to_mel(rate / 2.0));
        let mel_f: Vec<f64> =
            (0..N_MELS + 2).map(|i| mel_to_hz(lo + (hi - lo) * i as f64 / (N_MELS + 1) as f64)).collect();
        let filters = (0..N_MELS)
            .map(|m| {
                let (f0, f1, f2) = (mel_f[m], mel_f[m + 1], mel_f[m + 2]);
                let enorm = 2.0 / (f2 - f0);
                fft_freqs
                    .iter()
                    .enumerate()
                    .filter_map(|(k, &f)| {
                        let w = ((f - f0) / (f1 - f0)).min((f2 - f) / (f2 - f1)).max(0.0) * enorm;
                        (w > 0.0).then_some((k, w as f32))
                    })
                    .collect()
            })
            .collect();
        LogMel { fft: FftPlanner::new().plan_fft_forward(N_FFT), window, filters }
    }

    /// Log-mel frames of `samples` (16 kHz mono): frame `t` covers samples
    /// `[t·HOP, t·HOP + N_FFT)`.
    pub fn frames(&self, samples: &[f32]) -> Vec<[f32; N_MELS]> {
        if samples.len() < N_FFT {
            return Vec::new();
        }
        let n = 1 + (samples.len() - N_FFT) / HOP;
        let mut buf = vec![Complex::new(0.0f32, 0.0); N_FFT];
        let mut scratch = vec![Complex::new(0.0f32, 0.0); self.fft.get_inplace_scratch_len()];
        let mut power = vec![0.0f32; N_FFT / 2 + 1];
        let mut out = Vec::with_capacity(n);
        for t in 0..n {
            let frame = &samples[t * HOP..t * HOP + N_FFT];
            for (b, (&x, &w)) in buf.iter_mut().zip(frame.iter().zip(&self.window)) {
                *b = Complex::new(x * w, 0.0);
            }
            self.fft.process_with_scratch(&mut buf, &mut scratch);
            for (p, c) in power.iter_mut().zip(&buf) {
                *p = c.norm_sqr();
            }
            let mut mel = [0.0f32; N_MELS];
            for (m, filt) in mel.iter_mut().zip(&self.filters) {
                let s: f32 = filt.iter().map(|&(k, w)| w * power[k]).sum();
                *m = (s + 1e-10).log10();
            }
            out.push(mel);
        }
        out
    }
}

impl Default for LogMel {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slaney_scale_round_trips_and_a_tone_lands_in_its_band() {
        for f in [0.0, 300.0, 1000.0, 4000.0, 8000.0] {
            assert!((mel_to_hz(hz_to_mel(f)) - f).abs() < 1e-6);
        }
        let lm = LogMel::new();
        let tone: Vec<f32> =
            (0..16_000).map(|i| (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / 16_000.0).sin()).collect();
        let frames = lm.frames(&tone);
        assert_eq!(frames.len(), 1 + (16_000 - N_FFT) / HOP);
        let f = frames[10];
        let peak = (0..N_MELS).max_by(|&a, &b| f[a].total_cmp(&f[b])).expect("bands");
        let centre = |m: usize| {
            let (lo, hi) = (hz_to_mel(0.0), hz_to_mel(8000.0));
            mel_to_hz(lo + (hi - lo) * (m + 1) as f64 / (N_MELS + 1) as f64)
        };
        assert!((centre(peak) - 1000.0).abs() < 150.0, "peak band centre {}", centre(peak));
    }
}
