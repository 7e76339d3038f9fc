//! The strips' parameters and state as structure-of-arrays, shared by every
//! backend so a mixer can switch backend without losing state.
//!
//! Strips are padded to a multiple of [`GROUP`]; per-strip arrays are
//! indexed by strip, so a group's eight values are one vector load. Inputs
//! are held lane-interleaved: `[group][side][frame][lane]`.

use crate::biquad::Coefficients;
use crate::error::Error;
use crate::strip::{CompressorSettings, StripSettings};

/// Strips per group: the widest SIMD level's f32 lanes (AVX2).
pub const GROUP: usize = 8;
/// EQ bands per strip.
pub(crate) const BANDS: usize = 3;
/// Start value of a meter's sum of squares: keeps the accumulator normal in
/// silence (a −300 dB floor, far below anything audible).
pub(crate) const METER_FLOOR: f32 = 1e-30;
/// Upper bound on a compressor's smoothed gain reduction: keeps the
/// envelope normal when it decays towards 0 dB.
pub(crate) const ENVELOPE_CEILING: f32 = -1e-20;
/// The detector's level floor before the log (−600 dBFS).
pub(crate) const LEVEL_FLOOR: f32 = 1e-30;
/// A threshold no signal reaches: a bypassed compressor lane in a group
/// that runs the compressor.
pub(crate) const BYPASS_THRESHOLD: f32 = 1e30;

/// Parameters and state of every strip (see the module docs for layout).
#[derive(Debug, Clone)]
pub struct StripBank {
    pub(crate) strips: usize,
    pub(crate) padded: usize,
    pub(crate) sample_rate: f64,
    /// `[band][k][strip]`, k over the processing coefficients b0,
    /// b1 − a1·b0, b2 − a2·b0, a1, a2 (see [`crate::biquad`]).
    pub(crate) coef: Vec<f32>,
    pub(crate) target: Vec<f32>,
    pub(crate) delta: Vec<f32>,
    /// `[band][side][which][strip]`, which over s1 s2.
    pub(crate) state: Vec<f32>,
    /// `[band][group]`: any lane of the group has the band enabled.
    pub(crate) band_active: Vec<bool>,
    /// `[band][group]`: the group's coefficients are ramping this block.
    pub(crate) band_ramping: Vec<bool>,
    /// Compressor, per strip: threshold dB, slope 1/R − 1, W/2, slope/(2W)
    /// (0 for a hard knee), attack α, release α, makeup dB.
    pub(crate) comp: [Vec<f32>; 7],
    /// Smoothed gain reduction, dB (≤ 0), per strip.
    pub(crate) envelope: Vec<f32>,
    /// `[group]`: any lane of the group has the compressor on.
    pub(crate) comp_active: Vec<bool>,
    /// Left/right linear gains (gain × pan), current, target and per-sample
    /// step; `[side][strip]`.
    pub(crate) gain: Vec<f32>,
    pub(crate) gain_target: Vec<f32>,
    pub(crate) gain_delta: Vec<f32>,
    /// `[group]`: gains ramping this block.
    pub(crate) gain_ramping: Vec<bool>,
    /// 1.0 where the strip sums to mono, else 0.0.
    pub(crate) mono: Vec<f32>,
    /// `[group]`: any lane of the group sums to mono.
    pub(crate) mono_any: Vec<bool>,
    /// Meter accumulators: `[side][strip]` peak and sum of squares.
    pub(crate) peak: Vec<f32>,
    pub(crate) sum_squares: Vec<f32>,
    /// Whether the strip has processed audio (the first settings apply
    /// without a ramp).
    pub(crate) started: bool,
}

/// Index helpers.
impl StripBank {
    #[inline(always)]
    pub(crate) fn coef_at(&self, band: usize, k: usize) -> usize {
        (band * 5 + k) * self.padded
    }
    #[inline(always)]
    pub(crate) fn state_at(&self, band: usize, side: usize, which: usize) -> usize {
        ((band * 2 + side) * 2 + which) * self.padded
    }
    /// Number of groups.
    pub(crate) fn groups(&self) -> usize {
        self.padded / GROUP
    }
}

impl StripBank {
    /// `strips` bypassed strips at `sample_rate`.
    pub(crate) fn new(strips: usize, sample_rate: f64) -> Self {
        let padded = strips.div_ceil(GROUP).max(1) * GROUP;
        let groups = padded / GROUP;
        let mut coef = vec![0.0; BANDS * 5 * padded];
        for band in 0..BANDS {
            coef[band * 5 * padded..(band * 5 + 1) * padded].fill(1.0);
        }
        let comp = [
            vec![BYPASS_THRESHOLD; padded],
            vec![0.0; padded],
            vec![0.0; padded],
            vec![0.0; padded],
            vec![0.0; padded],
            vec![0.0; padded],
            vec![0.0; padded],
        ];
        let mut bank = StripBank {
            strips,
            padded,
            sample_rate,
            target: coef.clone(),
            delta: vec![0.0; coef.len()],
            coef,
            state: vec![0.0; BANDS * 4 * padded],
            band_active: vec![false; BANDS * groups],
            band_ramping: vec![false; BANDS * groups],
            comp,
            envelope: vec![ENVELOPE_CEILING; padded],
            comp_active: vec![false; groups],
            gain: vec![std::f32::consts::FRAC_1_SQRT_2; 2 * padded],
            gain_target: vec![std::f32::consts::FRAC_1_SQRT_2; 2 * padded],
            gain_delta: vec![0.0; 2 * padded],
            gain_ramping: vec![false; groups],
            mono: vec![0.0; padded],
            mono_any: vec![false; groups],
            peak: vec![0.0; 2 * padded],
            sum_squares: vec![METER_FLOOR; 2 * padded],
            started: false,
        };
        // Padding lanes are silent: zero gain.
        for side in 0..2 {
            for s in strips..padded {
                bank.gain[side * padded + s] = 0.0;
                bank.gain_target[side * padded + s] = 0.0;
            }
        }
        bank
    }

    /// Applies `settings` to strip `index`: coefficients and gains ramp
    /// across the next block once audio has started.
    pub(crate) fn apply(&mut self, index: usize, settings: &StripSettings) -> Result<(), Error> {
        settings.validate()?;
        let bands = settings.eq.coefficients(self.sample_rate)?;
        let p = self.padded;
        let group = index / GROUP;
        let groups = self.groups();
        for (band, c) in bands.iter().enumerate() {
            let c = c.unwrap_or(Coefficients::IDENTITY).processing_f32();
            for (k, value) in c.iter().enumerate() {
                let at = self.coef_at(band, k) + index;
                self.target[at] = *value;
            }
        }
        for band in 0..BANDS {
            let active = (group * GROUP..(group + 1) * GROUP).any(|s| {
                (0..5)
                    .any(|k| self.target[self.coef_at(band, k) + s] != [1.0, 0.0, 0.0, 0.0, 0.0][k])
            });
            let was = self.band_active[band * groups + group];
            self.band_active[band * groups + group] = active;
            if !self.started || !was {
                // Not running yet, or the band was skipped: start clean.
                for k in 0..5 {
                    let at = self.coef_at(band, k);
                    self.coef[at + group * GROUP..at + (group + 1) * GROUP].copy_from_slice(
                        &self.target[at + group * GROUP..at + (group + 1) * GROUP],
                    );
                }
                for w in 0..4 {
                    let at = (band * 4 + w) * p + group * GROUP;
                    self.state[at..at + GROUP].fill(0.0);
                }
            } else {
                self.band_ramping[band * groups + group] = true;
            }
        }
        let comp = settings
            .compressor
            .map(|c| compressor_lane(&c, self.sample_rate))
            .unwrap_or([BYPASS_THRESHOLD, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
        for (k, value) in comp.iter().enumerate() {
            self.comp[k][index] = *value;
        }
        let comp_on = (group * GROUP..(group + 1) * GROUP)
            .any(|s| s < self.strips && self.comp[0][s] != BYPASS_THRESHOLD);
        if !comp_on {
            self.envelope[group * GROUP..(group + 1) * GROUP].fill(ENVELOPE_CEILING);
        }
        self.comp_active[group] = comp_on;
        let gains = settings.channel_gains();
        for side in 0..2 {
            self.gain_target[side * p + index] = gains[side] as f32;
            if !self.started {
                self.gain[side * p + index] = gains[side] as f32;
            }
        }
        if self.started {
            self.gain_ramping[group] = true;
        }
        self.mono[index] = if settings.mono { 1.0 } else { 0.0 };
        self.mono_any[group] = self.mono[group * GROUP..(group + 1) * GROUP]
            .iter()
            .any(|&m| m != 0.0);
        Ok(())
    }

    /// Computes per-sample ramp steps for a block of `frames`.
    pub(crate) fn begin_block(&mut self, frames: usize) {
        let steps = frames.max(1) as f32;
        let groups = self.groups();
        for band in 0..BANDS {
            for group in 0..groups {
                if !self.band_ramping[band * groups + group] {
                    continue;
                }
                for k in 0..5 {
                    let at = self.coef_at(band, k) + group * GROUP;
                    for s in at..at + GROUP {
                        self.delta[s] = (self.target[s] - self.coef[s]) / steps;
                    }
                }
            }
        }
        for group in 0..groups {
            if self.gain_ramping[group] {
                for side in 0..2 {
                    let at = side * self.padded + group * GROUP;
                    for s in at..at + GROUP {
                        self.gain_delta[s] = (self.gain_target[s] - self.gain[s]) / steps;
                    }
                }
            }
        }
        self.started = true;
    }

    /// Ends a block: ramps land exactly on their targets.
    pub(crate) fn end_block(&mut self) {
        let groups = self.groups();
        for band in 0..BANDS {
            for group in 0..groups {
                let flag = &mut self.band_ramping[band * groups + group];
                if *flag {
                    *flag = false;
                    for k in 0..5 {
                        let at = (band * 5 + k) * self.padded + group * GROUP;
                        self.coef[at..at + GROUP].copy_from_slice(&self.target[at..at + GROUP]);
                    }
                }
            }
        }
        for group in 0..groups {
            if std::mem::take(&mut self.gain_ramping[group]) {
                for side in 0..2 {
                    let at = side * self.padded + group * GROUP;
                    self.gain[at..at + GROUP].copy_from_slice(&self.gain_target[at..at + GROUP]);
                }
            }
        }
    }
}

/// A compressor's per-lane constants (see [`StripBank::comp`]).
fn compressor_lane(c: &CompressorSettings, sample_rate: f64) -> [f32; 7] {
    let slope = 1.0 / c.ratio - 1.0;
    let half_knee = c.knee_db / 2.0;
    let knee_scale = if c.knee_db > 0.0 {
        slope / (2.0 * c.knee_db)
    } else {
        0.0
    };
    [
        c.threshold_db as f32,
        slope as f32,
        half_knee as f32,
        knee_scale as f32,
        CompressorSettings::smoothing_coefficient(c.attack_ms, sample_rate) as f32,
        CompressorSettings::smoothing_coefficient(c.release_ms, sample_rate) as f32,
        c.makeup_db as f32,
    ]
}
