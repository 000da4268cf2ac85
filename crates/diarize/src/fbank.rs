//! Kaldi-compatible log-mel filter banks: the input of the CAM++ speaker
//! embedder (`campplus-sv-zh-en.onnx`, made by `tools/models/convert_campplus.py`).
//!
//! The same recipe as `torchaudio.compliance.kaldi.fbank(num_mel_bins=80,
//! dither=0)` with its other defaults, which 3D-Speaker feeds CAM++, and as
//! `tools/models/kaldi_fbank.py`: frames of 400 samples (25 ms) every 160
//! (10 ms) with `snip_edges` (frame `t` covers samples `[160 t, 160 t + 400)`);
//! per frame the DC offset removed, pre-emphasis 0.97, the Povey window (Hann,
//! not periodic, to the power 0.85), zero-padded to 512; the power spectrum of
//! bins 0..256; 80 triangular filters on the Kaldi mel scale
//! `1127 ln(1 + f / 700)` from 20 Hz to 8 kHz; natural log floored at f32
//! epsilon; no energy term. [`mean_normalize`] then subtracts the mean over
//! the frames, as 3D-Speaker does per segment. Samples are floats in [-1, 1).

use std::sync::Arc;

use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};

/// Filter-bank bins.
pub const N_BINS: usize = 80;
/// Frame length (samples): 25 ms at 16 kHz.
pub const FRAME_LEN: usize = 400;
/// Frame shift (samples): 10 ms at 16 kHz.
pub const FRAME_SHIFT: usize = 160;
/// FFT size (the frame padded to a power of two).
pub const N_FFT: usize = 512;
const RATE: f64 = 16_000.0;
const LOW_HZ: f64 = 20.0;
const PREEMPH: f64 = 0.97;

/// Computes Kaldi log-mel filter banks at 16 kHz.
pub struct KaldiFbank {
    fft: Arc<dyn Fft<f64>>,
    window: Vec<f64>,
    /// Per bin: first FFT bin and the weights from there.
    banks: Vec<(usize, Vec<f64>)>,
}

impl std::fmt::Debug for KaldiFbank {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KaldiFbank").finish_non_exhaustive()
    }
}

fn mel(f: f64) -> f64 {
    1127.0 * (1.0 + f / 700.0).ln()
}

/// Number of frames of `n_samples` samples (none under one frame's length).
pub fn num_frames(n_samples: usize) -> usize {
    if n_samples < FRAME_LEN { 0 } else { 1 + (n_samples - FRAME_LEN) / FRAME_SHIFT }
}

impl KaldiFbank {
    /// The 80-bin filter bank.
    pub fn new() -> Self {
        let window = (0..FRAME_LEN)
            .map(|i| {
                let hann = 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / (FRAME_LEN - 1) as f64).cos();
                hann.powf(0.85)
            })
            .collect();
        let (lo, hi) = (mel(LOW_HZ), mel(RATE / 2.0));
        let delta = (hi - lo) / (N_BINS + 1) as f64;
        let fft_mel: Vec<f64> = (0..N_FFT / 2).map(|k| mel(RATE / N_FFT as f64 * k as f64)).collect();
        let banks = (0..N_BINS)
            .map(|b| {
                let left = lo + delta * b as f64;
                let (centre, right) = (left + delta, left + 2.0 * delta);
                let w: Vec<f64> = fft_mel
                    .iter()
                    .map(|&m| ((m - left) / (centre - left)).min((right - m) / (right - centre)).max(0.0))
                    .collect();
                let first = w.iter().position(|&x| x > 0.0).unwrap_or(0);
                let last = w.iter().rposition(|&x| x > 0.0).map_or(first, |l| l + 1);
                (first, w[first..last].to_vec())
            })
            .collect();
        KaldiFbank { fft: FftPlanner::new().plan_fft_forward(N_FFT), window, banks }
    }

    /// Log-mel frames of `samples` (16 kHz mono), not mean-normalised.
    pub fn frames(&self, samples: &[f32]) -> Vec<[f32; N_BINS]> {
        let n = num_frames(samples.len());
        let floor = f64::from(f32::EPSILON);
        let mut buf = vec![Complex::new(0.0f64, 0.0); N_FFT];
        let mut scratch = vec![Complex::new(0.0f64, 0.0); self.fft.get_inplace_scratch_len()];
        let mut frame = [0.0f64; FRAME_LEN];
        let mut power = vec![0.0f64; N_FFT / 2];
        let mut out = Vec::with_capacity(n);
        for t in 0..n {
            let src = &samples[t * FRAME_SHIFT..t * FRAME_SHIFT + FRAME_LEN];
            for (d, &s) in frame.iter_mut().zip(src) {
                *d = f64::from(s);
            }
            let mean = frame.iter().sum::<f64>() / FRAME_LEN as f64;
            frame.iter_mut().for_each(|x| *x -= mean);
            // x[i] -= 0.97 x[i - 1] on the original samples; x[0] -= 0.97 x[0].
            let mut prev = frame[0];
            for x in frame.iter_mut() {
                let cur = *x;
                *x -= PREEMPH * prev;
                prev = cur;
            }
            for (i, b) in buf.iter_mut().enumerate() {
                *b = Complex::new(if i < FRAME_LEN { frame[i] * self.window[i] } else { 0.0 }, 0.0);
            }
            self.fft.process_with_scratch(&mut buf, &mut scratch);
            for (p, c) in power.iter_mut().zip(&buf) {
                *p = c.norm_sqr();
            }
            let mut row = [0.0f32; N_BINS];
            for (r, (first, w)) in row.iter_mut().zip(&self.banks) {
                let e: f64 = w.iter().zip(&power[*first..]).map(|(a, b)| a * b).sum();
                *r = e.max(floor).ln() as f32;
            }
            out.push(row);
        }
        out
    }
}

impl Default for KaldiFbank {
    fn default() -> Self {
        Self::new()
    }
}

/// Subtracts each bin's mean over `frames` (CAM++'s input normalisation).
pub fn mean_normalize(frames: &mut [[f32; N_BINS]]) {
    if frames.is_empty() {
        return;
    }
    let mut mean = [0.0f64; N_BINS];
    for f in frames.iter() {
        for (m, &x) in mean.iter_mut().zip(f) {
            *m += f64::from(x);
        }
    }
    let n = frames.len() as f64;
    for f in frames.iter_mut() {
        for (x, m) in f.iter_mut().zip(&mean) {
            *x = (f64::from(*x) - m / n) as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test signal of the expected values below: a chirp, a 3 kHz tone and
    /// LCG noise, 0.5 s, with samples 4800..5600 silent.
    fn signal() -> Vec<f32> {
        let mut s: u64 = 1;
        (0..8000)
            .map(|i| {
                s = (s * 1_103_515_245 + 12_345) % (1 << 31);
                let noise = s as f64 / (1u64 << 31) as f64 - 0.5;
                let t = i as f64 / 16_000.0;
                let pi2 = 2.0 * std::f64::consts::PI;
                let x = 0.3 * (pi2 * (200.0 * t + 300.0 * t * t)).sin()
                    + 0.05 * (pi2 * 3000.0 * t).sin()
                    + 0.02 * noise;
                if (4800..5600).contains(&i) { 0.0 } else { x as f32 }
            })
            .collect()
    }

    #[test]
    fn matches_the_numpy_kaldi_fbank() {
        // (frame, bin, raw log-mel, mean-normalised) from tools/models/kaldi_fbank.py
        // (`fbank`, `campplus_features`) on the same signal, computed in float64.
        const EXPECTED: [(usize, usize, f32, f32); 9] = [
            (0, 0, -9.19359, 0.287115),
            (0, 10, -6.23958, -3.40473),
            (5, 40, -4.98974, 0.889752),
            (12, 79, -1.90839, 0.825851),
            (20, 25, -6.42822, 0.973092),
            (31, 7, -15.9424, -10.4215),
            (47, 60, -3.78284, 0.153665),
            (47, 3, -10.5759, -1.24808),
            (33, 50, -3.50248, 1.16994),
        ];
        let x = signal();
        assert!((x[1] - 0.063_248_73).abs() < 1e-6 && (x[7999] + 0.099_582_72).abs() < 1e-6, "test signal");
        let fb = KaldiFbank::new();
        let raw = fb.frames(&x);
        assert_eq!(raw.len(), 48);
        assert_eq!(num_frames(24_000), 148);
        let mut norm = raw.clone();
        mean_normalize(&mut norm);
        for (t, b, r, n) in EXPECTED {
            assert!((raw[t][b] - r).abs() < 2e-4, "raw [{t}][{b}] = {} want {r}", raw[t][b]);
            assert!((norm[t][b] - n).abs() < 2e-4, "normalised [{t}][{b}] = {} want {n}", norm[t][b]);
        }
        // A silent frame sits on the floor in every bin.
        assert!(raw[31].iter().all(|&v| (v - f32::EPSILON.ln()).abs() < 1e-5));
        assert!(fb.frames(&x[..399]).is_empty());
    }
}
