#!/usr/bin/env python3
"""Kaldi-compatible log-mel filter bank in numpy: the features CAM++ is fed.

3D-Speaker (speakerlab/process/processor.py, `FBank`) computes
`torchaudio.compliance.kaldi.fbank(wav, num_mel_bins=80, sample_frequency=16000,
dither=0)` on a float waveform in [-1, 1] and subtracts the mean over time. With
torchaudio's defaults that is:

- frames of 25 ms (400 samples) every 10 ms (160), `snip_edges`: frame t covers
  samples [160 t, 160 t + 400), 1 + (n - 400) // 160 frames, none under 400;
- per frame: DC offset removed (frame mean), pre-emphasis 0.97
  (x[i] -= 0.97 x[i-1], x[0] -= 0.97 x[0]), Povey window (periodic=False Hann
  to the power 0.85), zero-padded to 512;
- power spectrum |FFT|^2 of bins 0..255 (the Nyquist bin gets no mel weight);
- 80 triangular filters equally spaced on the Kaldi mel scale
  1127 ln(1 + f / 700) from 20 Hz to 8 kHz (Nyquist), unnormalised;
- natural log with a floor of float32 epsilon (1.1920929e-07); no energy term;
  no dither;
- then (CAM++ only) the mean over the frames is subtracted per bin.

`fbank(samples)` gives the raw log-mels [frames, 80]; `campplus_features(samples)`
the mean-normalised ones. Computed in float64, returned as float32.
Needs numpy only.
"""
import numpy as np

SAMPLE_RATE = 16_000
FRAME_LEN = 400
FRAME_SHIFT = 160
N_FFT = 512
N_MELS = 80
LOW_HZ = 20.0
PREEMPH = 0.97
EPS = float(np.finfo(np.float32).eps)


def mel(f):
    return 1127.0 * np.log(1.0 + np.asarray(f, dtype=np.float64) / 700.0)


def mel_banks(n_mels=N_MELS, n_fft=N_FFT, rate=SAMPLE_RATE, low=LOW_HZ, high=0.0):
    """Kaldi's triangular mel filters, [n_mels, n_fft // 2] (the Nyquist bin has none)."""
    if high <= 0.0:
        high += rate / 2
    lo, hi = mel(low), mel(high)
    delta = (hi - lo) / (n_mels + 1)
    left = lo + delta * np.arange(n_mels)[:, None]
    centre, right = left + delta, left + 2 * delta
    m = mel(rate / n_fft * np.arange(n_fft // 2))[None, :]
    up = (m - left) / (centre - left)
    down = (right - m) / (right - centre)
    return np.maximum(0.0, np.minimum(up, down))


def povey_window(n=FRAME_LEN):
    return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / (n - 1))) ** 0.85


_BANKS = mel_banks()
_WINDOW = povey_window()


def frames_of(n_samples):
    """Number of frames for `n_samples` samples (snip_edges)."""
    return 0 if n_samples < FRAME_LEN else 1 + (n_samples - FRAME_LEN) // FRAME_SHIFT


def fbank(samples):
    """Log-mel filter bank energies [frames, 80] of a 16 kHz float waveform."""
    x = np.asarray(samples, dtype=np.float64)
    n = frames_of(len(x))
    if n == 0:
        return np.zeros((0, N_MELS), np.float32)
    idx = FRAME_SHIFT * np.arange(n)[:, None] + np.arange(FRAME_LEN)[None, :]
    f = x[idx]
    f = f - f.mean(1, keepdims=True)
    f = f - PREEMPH * np.concatenate([f[:, :1], f[:, :-1]], 1)
    f = f * _WINDOW
    spec = np.fft.rfft(f, n=N_FFT, axis=1)[:, : N_FFT // 2]
    power = spec.real**2 + spec.imag**2
    energies = power @ _BANKS.T
    return np.log(np.maximum(energies, EPS)).astype(np.float32)


def campplus_features(samples):
    """What 3D-Speaker feeds CAM++: `fbank` minus its mean over time, [frames, 80]."""
    f = fbank(samples)
    return f - f.mean(0, keepdims=True) if len(f) else f


if __name__ == "__main__":
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    sig = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * np.sin(2 * np.pi * 3000 * t)
    f = fbank(sig)
    print(f.shape, f[10, :8])
