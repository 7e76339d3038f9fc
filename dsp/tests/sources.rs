//! Oscillators, voice pool and test signals against independent references.

use std::sync::Arc;
use vivace_dsp::osc::{Oscillator, TABLE_SIZE, VoicePool, Waveform, Wavetable};
use vivace_dsp::signals::{PinkNoise, impulse, log_sweep, sine, white_noise};
use vivace_dsp::{Biquad, Coefficients, FilterShape};

const FS: f64 = 48_000.0;

#[test]
fn sine_table_is_within_2e6_of_sin() {
    let table = Wavetable::new(Waveform::Sine, FS).unwrap();
    let mut worst = 0.0f64;
    for k in 0..TABLE_SIZE * 7 {
        let phase = k as f64 / (TABLE_SIZE * 7) as f64;
        let got = table.lookup(440.0, phase) as f64;
        worst = worst.max((got - (2.0 * std::f64::consts::PI * phase).sin()).abs());
    }
    assert!(worst <= 2e-6, "worst error {worst}");
}

/// Harmonic amplitude of `signal` at `k` × `f0` by direct correlation.
fn harmonic(signal: &[f32], f0: f64, k: usize) -> f64 {
    let w = 2.0 * std::f64::consts::PI * f0 * k as f64 / FS;
    let (mut s, mut c) = (0.0, 0.0);
    for (n, x) in signal.iter().enumerate() {
        s += *x as f64 * (w * n as f64).sin();
        c += *x as f64 * (w * n as f64).cos();
    }
    2.0 * (s * s + c * c).sqrt() / signal.len() as f64
}

#[test]
fn saw_and_square_are_band_limited() {
    // 1.5 kHz: harmonics above 24 kHz would alias; a naive saw has them.
    let f0 = 1_500.0;
    let frames = 48_000; // 1 s: every harmonic an integer number of cycles
    for waveform in [Waveform::Saw, Waveform::Square] {
        let table = Arc::new(Wavetable::new(waveform, FS).unwrap());
        let mut osc = Oscillator::new(table, f0).unwrap();
        let mut out = vec![0.0f32; frames];
        osc.render(&mut out);
        // Fundamental near its Fourier amplitude (2/π saw, 4/π square).
        let expected = if waveform == Waveform::Saw {
            2.0 / std::f64::consts::PI
        } else {
            4.0 / std::f64::consts::PI
        };
        assert!(
            (harmonic(&out, f0, 1) - expected).abs() < 0.01,
            "{waveform:?}"
        );
        // Where an alias of harmonic 17 (25.5 kHz → 22.5 kHz) would land: nothing.
        assert!(harmonic(&out, 22_500.0, 1) < 1e-4, "{waveform:?} aliases");
    }
}

#[test]
fn voice_pool_steals_the_oldest_voice() {
    let table = Arc::new(Wavetable::new(Waveform::Sine, FS).unwrap());
    let mut pool = VoicePool::new(table, 3, 5.0).unwrap();
    let a = pool.note_on(220.0, 0.3).unwrap();
    let b = pool.note_on(330.0, 0.3).unwrap();
    let c = pool.note_on(440.0, 0.3).unwrap();
    let d = pool.note_on(550.0, 0.3).unwrap();
    assert!(!pool.is_active(a), "the oldest voice is stolen");
    assert!(pool.is_active(b) && pool.is_active(c) && pool.is_active(d));
    pool.note_off(b);
    let mut out = vec![0.0f32; 480]; // 10 ms > 5 ms release
    pool.render(&mut out);
    assert!(!pool.is_active(b));
    assert_eq!(pool.active_voices(), 2);
    assert!(out.iter().all(|x| x.abs() <= 0.9 + 1e-6));
    assert!(
        VoicePool::new(
            Arc::new(Wavetable::new(Waveform::Sine, FS).unwrap()),
            0,
            5.0
        )
        .is_err()
    );
}

/// Mean power in an octave band around `centre` (RBJ band-pass, Q = √2).
fn band_power_db(signal: &[f32], centre: f64) -> f64 {
    let mut filter = Biquad::new(
        Coefficients::design(FilterShape::BandPass, FS, centre, std::f64::consts::SQRT_2).unwrap(),
    );
    let mut y = signal.to_vec();
    filter.process(&mut y);
    let settled = &y[48_000..];
    10.0 * (settled.iter().map(|v| (*v as f64).powi(2)).sum::<f64>() / settled.len() as f64).log10()
}

/// What an ideal 1/f spectrum gives in the same band: ∫ |H(f)|² / f df,
/// from the filter's analytic response, on a fine log grid.
fn ideal_pink_band_db(centre: f64) -> f64 {
    let c =
        Coefficients::design(FilterShape::BandPass, FS, centre, std::f64::consts::SQRT_2).unwrap();
    let steps = 20_000;
    let (lo, hi) = (1.0f64.ln(), (FS / 2.0 - 1.0).ln());
    let dl = (hi - lo) / steps as f64;
    let integral: f64 = (0..steps)
        .map(|k| 10f64.powf(c.magnitude_db((lo + (k as f64 + 0.5) * dl).exp(), FS) / 10.0) * dl)
        .sum();
    10.0 * integral.log10()
}

/// Each octave band's measured power minus the ideal pink power in it,
/// after removing the mean offset (the overall level).
fn octave_slopes(signal: &[f32]) -> Vec<f64> {
    let centres: Vec<f64> = (0..8)
        .map(|k| 50.0 * 2f64.powi(k))
        .chain([10_000.0])
        .collect();
    let diffs: Vec<f64> = centres
        .iter()
        .map(|c| band_power_db(signal, *c) - ideal_pink_band_db(*c))
        .collect();
    let mean = diffs.iter().sum::<f64>() / diffs.len() as f64;
    diffs.iter().map(|p| p - mean).collect()
}

#[test]
fn pink_noise_falls_3_db_per_octave_within_half_a_db() {
    let mut pink = PinkNoise::new(7);
    let mut signal = vec![0.0f32; 1 << 22];
    pink.fill(&mut signal);
    let deviations = octave_slopes(&signal);
    for d in &deviations {
        assert!(d.abs() <= 0.5, "pink band powers deviate: {deviations:?}");
    }
    // The measurement can fail: white noise does not pass.
    let white = white_noise(7, 0.5, 1 << 20);
    assert!(octave_slopes(&white).iter().any(|d| d.abs() > 0.5));
}

#[test]
fn test_signals() {
    let s = sine(FS, 1_000.0, 0.5, 480).unwrap();
    assert!((s[12] - 0.5).abs() < 1e-6); // quarter period of 1 kHz at 48 kHz
    assert!(sine(FS, 30_000.0, 0.5, 10).is_err());
    let i = impulse(64, 3).unwrap();
    assert_eq!(i.iter().sum::<f32>(), 1.0);
    assert_eq!(i[3], 1.0);
    assert!(impulse(4, 4).is_err());
    let sweep = log_sweep(FS, 20.0, 20_000.0, 2.0, 0.5).unwrap();
    assert_eq!(sweep.len(), 96_000);
    // Zero crossings: the instantaneous frequency near the end is ≈ 20 kHz
    // (from 20 Hz at the start): count crossings in the last 10 ms.
    let tail = &sweep[96_000 - 480..];
    let crossings = tail
        .windows(2)
        .filter(|w| (w[0] < 0.0) != (w[1] < 0.0))
        .count();
    assert!((360..=420).contains(&crossings), "{crossings}");
    assert!(log_sweep(FS, 1_000.0, 100.0, 1.0, 0.5).is_err());
    let w = white_noise(3, 0.25, 10_000);
    assert!(w.iter().all(|x| x.abs() <= 0.25));
}
