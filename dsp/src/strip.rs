//! Channel-strip settings: 3-band EQ, compressor, gain, pan, mono.
//!
//! Settings are plain values, validated once when applied to a
//! [`Mixer`](crate::Mixer) strip; processing never sees an invalid one.

use crate::biquad::{Coefficients, FilterShape};
use crate::error::{Error, check_finite, check_positive};

/// A shelving band (low or high shelf of the EQ).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shelf {
    /// Corner frequency, Hz.
    pub frequency: f64,
    /// Shelf gain, dB.
    pub gain_db: f64,
    /// Shelf slope S (1 = steepest monotonic shelf).
    pub slope: f64,
}

impl Shelf {
    /// A shelf at `frequency` Hz with `gain_db` and slope 1.
    pub fn new(frequency: f64, gain_db: f64) -> Self {
        Shelf {
            frequency,
            gain_db,
            slope: 1.0,
        }
    }
}

/// A peaking (bell) band.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bell {
    /// Centre frequency, Hz.
    pub frequency: f64,
    /// Gain at the centre, dB.
    pub gain_db: f64,
    /// Quality (bandwidth).
    pub q: f64,
}

/// A 3-band EQ: low shelf, peaking mid, high shelf. `None` bypasses a band.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct EqSettings {
    /// Low shelf, or bypassed.
    pub low_shelf: Option<Shelf>,
    /// Peaking mid band, or bypassed.
    pub mid: Option<Bell>,
    /// High shelf, or bypassed.
    pub high_shelf: Option<Shelf>,
}

impl EqSettings {
    /// Coefficients of the three bands in processing order (low, mid,
    /// high); bypassed bands are `None`.
    pub fn coefficients(&self, sample_rate: f64) -> Result<[Option<Coefficients>; 3], Error> {
        let low = self
            .low_shelf
            .map(|s| {
                Coefficients::design(
                    FilterShape::LowShelf {
                        gain_db: s.gain_db,
                        slope: s.slope,
                    },
                    sample_rate,
                    s.frequency,
                    1.0,
                )
            })
            .transpose()?;
        let mid = self
            .mid
            .map(|b| {
                Coefficients::design(
                    FilterShape::Peaking { gain_db: b.gain_db },
                    sample_rate,
                    b.frequency,
                    b.q,
                )
            })
            .transpose()?;
        let high = self
            .high_shelf
            .map(|s| {
                Coefficients::design(
                    FilterShape::HighShelf {
                        gain_db: s.gain_db,
                        slope: s.slope,
                    },
                    sample_rate,
                    s.frequency,
                    1.0,
                )
            })
            .transpose()?;
        Ok([low, mid, high])
    }

    /// The EQ's magnitude response in dB at `frequency` (sum of the active
    /// bands' responses; 0 dB when all are bypassed).
    pub fn magnitude_db(&self, frequency: f64, sample_rate: f64) -> Result<f64, Error> {
        Ok(self
            .coefficients(sample_rate)?
            .iter()
            .flatten()
            .map(|c| c.magnitude_db(frequency, sample_rate))
            .sum())
    }
}

/// A feed-forward, stereo-linked compressor (Giannoulis, Massberg & Reiss,
/// JAES 2012): the detector is max(|L|, |R|), the gain computer works in dB
/// with a quadratic soft knee, and the gain reduction is smoothed in the dB
/// domain by a branching one-pole (attack while the reduction grows,
/// release while it shrinks).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CompressorSettings {
    /// Threshold T, dBFS.
    pub threshold_db: f64,
    /// Ratio R ≥ 1 (`f64::INFINITY` makes a limiter).
    pub ratio: f64,
    /// Soft-knee width W, dB (0 = hard knee).
    pub knee_db: f64,
    /// Attack time constant, ms: a step in reduction reaches 1 − 1/e of its
    /// final value in this time.
    pub attack_ms: f64,
    /// Release time constant, ms.
    pub release_ms: f64,
    /// Makeup gain, dB.
    pub makeup_db: f64,
}

impl Default for CompressorSettings {
    /// −18 dB threshold, 4:1, 6 dB knee, 10 ms attack, 100 ms release, no
    /// makeup.
    fn default() -> Self {
        CompressorSettings {
            threshold_db: -18.0,
            ratio: 4.0,
            knee_db: 6.0,
            attack_ms: 10.0,
            release_ms: 100.0,
            makeup_db: 0.0,
        }
    }
}

impl CompressorSettings {
    /// Checks every field.
    pub fn validate(&self) -> Result<(), Error> {
        check_finite("threshold", self.threshold_db)?;
        if self.ratio.is_nan() || self.ratio < 1.0 {
            return Err(Error::invalid(
                "ratio",
                format!("must be ≥ 1, got {}", self.ratio),
            ));
        }
        if !(self.knee_db.is_finite() && self.knee_db >= 0.0) {
            return Err(Error::invalid(
                "knee",
                format!("must be finite and ≥ 0 dB, got {}", self.knee_db),
            ));
        }
        check_positive("attack", self.attack_ms)?;
        check_positive("release", self.release_ms)?;
        check_finite("makeup gain", self.makeup_db)
    }

    /// The static curve: output level in dB for a steady input level `x_db`
    /// (exact, in f64):
    /// x below the knee, T + (x − T)/R above it, and the quadratic
    /// x + (1/R − 1)(x − T + W/2)² / (2W) inside it.
    pub fn static_curve_db(&self, x_db: f64) -> f64 {
        x_db + self.gain_reduction_db(x_db)
    }

    /// Static gain reduction (≤ 0 dB, before makeup) at input level `x_db`.
    pub fn gain_reduction_db(&self, x_db: f64) -> f64 {
        let slope = 1.0 / self.ratio - 1.0;
        let over = x_db - self.threshold_db;
        let w = self.knee_db;
        if 2.0 * over <= -w {
            0.0
        } else if 2.0 * over >= w {
            slope * over
        } else {
            slope * (over + w / 2.0).powi(2) / (2.0 * w)
        }
    }

    /// One-pole coefficient α = exp(−1/(τ·fs)) for a time constant in ms.
    pub fn smoothing_coefficient(time_ms: f64, sample_rate: f64) -> f64 {
        (-1.0 / (time_ms / 1000.0 * sample_rate)).exp()
    }
}

/// Everything one mixer strip does to its stereo input, in order: EQ →
/// compressor → gain → constant-power pan → optional mono. The default
/// bypasses everything (unity gain, centre pan at the −3 dB pan law).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StripSettings {
    /// The 3-band EQ.
    pub eq: EqSettings,
    /// The compressor, or bypassed.
    pub compressor: Option<CompressorSettings>,
    /// Output gain, dB.
    pub gain_db: f64,
    /// Pan position in [−1, 1] (−1 hard left, 0 centre, 1 hard right);
    /// constant power: left × cos θ, right × sin θ with θ = (P + 1)·π/4.
    pub pan: f64,
    /// Sum to mono ((L + R)/2 on both sides) after panning.
    pub mono: bool,
}

impl Default for StripSettings {
    fn default() -> Self {
        StripSettings {
            eq: EqSettings::default(),
            compressor: None,
            gain_db: 0.0,
            pan: 0.0,
            mono: false,
        }
    }
}

impl StripSettings {
    /// Checks every field that does not need the sample rate.
    pub fn validate(&self) -> Result<(), Error> {
        check_finite("gain", self.gain_db)?;
        if !(-1.0..=1.0).contains(&self.pan) {
            return Err(Error::invalid(
                "pan",
                format!("must be in [-1, 1], got {}", self.pan),
            ));
        }
        if let Some(c) = &self.compressor {
            c.validate()?;
        }
        Ok(())
    }

    /// Left and right linear gains of the gain and pan stages together.
    pub fn channel_gains(&self) -> [f64; 2] {
        let g = 10f64.powf(self.gain_db / 20.0);
        let theta = (self.pan + 1.0) * std::f64::consts::FRAC_PI_4;
        [g * theta.cos(), g * theta.sin()]
    }
}
