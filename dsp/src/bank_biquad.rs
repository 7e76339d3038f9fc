//! A bank of independent biquads over interleaved multichannel audio.

use crate::biquad::{Coefficients, tdf2_step};
use crate::error::{Error, check_len};
use vivace_backend::{Backend, BackendKind, Preference, SelectError, SimdLevel, Unavailable};

/// From this many channels on, the scalar engine runs frame by frame across
/// the channels; below, a few channels at a time through every frame
/// (measured crossover: between 24 and 32 channels, 128-frame blocks).
const SCALAR_ACROSS: usize = 32;

/// One biquad per channel, processing interleaved frames in place
/// (`[frame][channel]`, the usual multichannel layout), on scalar or SIMD
/// across channels.
///
/// The SIMD engine loads eight (AVX2) or four neighbouring channels of a
/// frame as one register and keeps up to four registers in flight, so the
/// filter recursion's latency is hidden once there are 32 channels or more;
/// from 128 channels on it runs in tiles of 8 frames so the buffer is
/// walked in order. Channels left over after whole registers run on the
/// scalar step. Every engine gives bit-identical output.
///
/// ```
/// use vivace_dsp::{BiquadBank, Coefficients, FilterShape};
/// use vivace_backend::Preference;
/// let lp = Coefficients::design(FilterShape::LowPass, 48_000.0, 2_000.0, 0.707)?;
/// let mut bank = BiquadBank::new(16, Preference::Auto)?;
/// bank.set_all(lp);
/// let mut frames = vec![0.5f32; 128 * 16];
/// bank.process_interleaved(&mut frames)?;
/// # Ok::<(), vivace_dsp::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct BiquadBank {
    channels: usize,
    level: Option<SimdLevel>,
    /// `[k][channel]`, k over b0 b1 b2 a1 a2.
    coef: Vec<f32>,
    /// `[w][channel]`, w over s1 s2.
    state: Vec<f32>,
}

impl BiquadBank {
    /// `channels` identity filters on the backend `preference` resolves to
    /// (best SIMD → scalar; this bank has no GPU engine).
    pub fn new(channels: usize, preference: Preference) -> Result<BiquadBank, Error> {
        if channels == 0 {
            return Err(Error::invalid("channel count", "must be at least 1"));
        }
        let level = match preference {
            Preference::Scalar => None,
            Preference::Gpu => {
                return Err(Error::Backend(SelectError::ForcedUnavailable {
                    preference,
                    tried: vec![Unavailable::new(
                        BackendKind::Gpu,
                        "BiquadBank has no GPU engine",
                    )],
                }));
            }
            Preference::Simd => Some(crate::simd::best_level().map_err(|why| {
                Error::Backend(SelectError::ForcedUnavailable {
                    preference,
                    tried: vec![why],
                })
            })?),
            _ => crate::simd::best_level().ok(),
        };
        let mut coef = vec![0.0; 5 * channels];
        coef[..channels].fill(1.0);
        Ok(BiquadBank {
            channels,
            level,
            coef,
            state: vec![0.0; 2 * channels],
        })
    }

    /// A bank on a specific SIMD level.
    pub fn with_level(channels: usize, level: SimdLevel) -> Result<BiquadBank, Error> {
        crate::simd::check_level(level).map_err(|why| {
            Error::Backend(SelectError::ForcedUnavailable {
                preference: Preference::Simd,
                tried: vec![why],
            })
        })?;
        let mut bank = BiquadBank::new(channels, Preference::Scalar)?;
        bank.level = Some(level);
        Ok(bank)
    }

    /// Number of channels.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Sets channel `channel`'s coefficients (takes effect at once).
    pub fn set(&mut self, channel: usize, coefficients: Coefficients) -> Result<(), Error> {
        if channel >= self.channels {
            return Err(Error::IndexOutOfRange {
                what: "channel",
                index: channel,
                count: self.channels,
            });
        }
        for (k, c) in coefficients.processing_f32().iter().enumerate() {
            self.coef[k * self.channels + channel] = *c;
        }
        Ok(())
    }

    /// Sets every channel's coefficients.
    pub fn set_all(&mut self, coefficients: Coefficients) {
        for (k, c) in coefficients.processing_f32().iter().enumerate() {
            self.coef[k * self.channels..(k + 1) * self.channels].fill(*c);
        }
    }

    /// Clears every channel's state.
    pub fn reset(&mut self) {
        self.state.fill(0.0);
    }

    /// Filters interleaved frames in place: `frames.len()` must be a
    /// multiple of the channel count.
    pub fn process_interleaved(&mut self, frames: &mut [f32]) -> Result<(), Error> {
        let ch = self.channels;
        check_len(
            "interleaved buffer (a multiple of the channel count)",
            frames.len().div_ceil(ch) * ch,
            frames.len(),
        )?;
        let done = match self.level {
            Some(level) => {
                crate::simd::biquad_interleaved(level, &mut self.coef, &mut self.state, frames, ch)
            }
            None => 0,
        };
        if done == ch {
            return Ok(());
        }
        if ch - done >= SCALAR_ACROSS {
            // Frame by frame across the channels: the compiler vectorises
            // the inner loop, which from 32 channels on beats the grouped
            // runs below.
            let (s1, s2) = self.state.split_at_mut(ch);
            for frame in frames.chunks_exact_mut(ch) {
                for c in done..ch {
                    let coef: [f32; 5] = std::array::from_fn(|k| self.coef[k * ch + c]);
                    let mut s = [s1[c], s2[c]];
                    frame[c] = tdf2_step(&coef, &mut s, frame[c]);
                    [s1[c], s2[c]] = s;
                }
            }
            return Ok(());
        }
        // Fewer channels: four at a time through every frame, their states
        // in locals, so four recursions overlap and none waits on a store
        // to its own state (frame by frame, a recursion through memory:
        // 0.25 G/s at 8 channels against 0.9 this way).
        let mut first = done;
        while first < ch {
            match ch - first {
                1 => self.scalar_run::<1>(frames, first),
                2 => self.scalar_run::<2>(frames, first),
                3 => self.scalar_run::<3>(frames, first),
                _ => self.scalar_run::<4>(frames, first),
            }
            first += (ch - first).min(4);
        }
        Ok(())
    }

    /// Channels `first .. first + W` through every frame on the scalar step.
    fn scalar_run<const W: usize>(&mut self, frames: &mut [f32], first: usize) {
        let ch = self.channels;
        let coef: [[f32; 5]; W] =
            std::array::from_fn(|u| std::array::from_fn(|k| self.coef[k * ch + first + u]));
        let mut state: [[f32; 2]; W] =
            std::array::from_fn(|u| std::array::from_fn(|w| self.state[w * ch + first + u]));
        for frame in frames.chunks_exact_mut(ch) {
            let lanes: &mut [f32; W] = (&mut frame[first..first + W]).try_into().unwrap();
            for u in 0..W {
                lanes[u] = tdf2_step(&coef[u], &mut state[u], lanes[u]);
            }
        }
        for (u, s) in state.iter().enumerate() {
            for (w, v) in s.iter().enumerate() {
                self.state[w * ch + first + u] = *v;
            }
        }
    }
}

impl Backend for BiquadBank {
    fn kind(&self) -> BackendKind {
        match self.level {
            Some(level) => BackendKind::Simd(level),
            None => BackendKind::Scalar,
        }
    }
}
