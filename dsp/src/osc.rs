//! Wavetable oscillators and a pre-allocated voice pool.
//!
//! Tables hold [`TABLE_SIZE`] points (plus one wrap-around point) and are
//! read with linear interpolation: the sine table is within 2·10⁻⁶ of
//! `sin` everywhere (tested). Saw and square are band-limited: one table
//! per octave of fundamental, each summing only the harmonics below
//! Nyquist for the highest fundamental it serves, so nothing aliases.
//!
//! ```
//! use std::sync::Arc;
//! use vivace_dsp::osc::{Oscillator, Waveform, Wavetable};
//! let table = Arc::new(Wavetable::new(Waveform::Saw, 48_000.0)?);
//! let mut osc = Oscillator::new(table, 220.0)?;
//! let mut block = [0.0f32; 128];
//! osc.render(&mut block);
//! # Ok::<(), vivace_dsp::Error>(())
//! ```

use crate::error::{Error, check_positive};
use std::f64::consts::PI;
use std::sync::Arc;

/// Points per table period.
pub const TABLE_SIZE: usize = 2048;
/// Lowest fundamental the band-limited tables are built for, Hz.
const LOWEST: f64 = 20.0;

/// Oscillator shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Waveform {
    /// Sine.
    Sine,
    /// Band-limited sawtooth (rising).
    Saw,
    /// Band-limited square.
    Square,
}

/// A set of band-limited tables for one waveform at one sample rate.
#[derive(Debug, Clone)]
pub struct Wavetable {
    waveform: Waveform,
    sample_rate: f64,
    /// One table per octave: table k serves fundamentals up to
    /// `LOWEST · 2^(k+1)`; each has `TABLE_SIZE + 1` points.
    tables: Vec<Vec<f32>>,
}

impl Wavetable {
    /// Builds the tables (additive synthesis in f64).
    pub fn new(waveform: Waveform, sample_rate: f64) -> Result<Wavetable, Error> {
        check_positive("sample rate", sample_rate)?;
        let nyquist = sample_rate / 2.0;
        let tables = match waveform {
            Waveform::Sine => vec![build(|h| if h == 1 { 1.0 } else { 0.0 }, 1)],
            Waveform::Saw | Waveform::Square => {
                let mut tables = Vec::new();
                let mut top = LOWEST * 2.0;
                loop {
                    let harmonics = ((nyquist / top).floor() as usize).max(1);
                    let amplitude = move |h: usize| match waveform {
                        // Rising saw: −(2/π) Σ (−1)^h sin(hθ)/h.
                        Waveform::Saw => {
                            2.0 / PI * if h.is_multiple_of(2) { -1.0 } else { 1.0 } / h as f64
                        }
                        // Square: (4/π) Σ_{odd h} sin(hθ)/h.
                        _ => {
                            if !h.is_multiple_of(2) {
                                4.0 / (PI * h as f64)
                            } else {
                                0.0
                            }
                        }
                    };
                    tables.push(build(amplitude, harmonics));
                    if harmonics == 1 || top >= nyquist {
                        break;
                    }
                    top *= 2.0;
                }
                tables
            }
        };
        Ok(Wavetable {
            waveform,
            sample_rate,
            tables,
        })
    }

    /// The waveform.
    pub fn waveform(&self) -> Waveform {
        self.waveform
    }

    /// The sample rate the tables were built for.
    pub fn sample_rate(&self) -> f64 {
        self.sample_rate
    }

    /// The table to use for a fundamental of `frequency` Hz.
    fn table_for(&self, frequency: f64) -> &[f32] {
        let octave = (frequency / LOWEST).log2().floor().max(0.0) as usize;
        &self.tables[octave.min(self.tables.len() - 1)]
    }

    /// The table value at `phase` in [0, 1) for a fundamental of
    /// `frequency`, linearly interpolated.
    #[inline]
    pub fn lookup(&self, frequency: f64, phase: f64) -> f32 {
        read(self.table_for(frequency), phase)
    }
}

/// One period from harmonic amplitudes `amplitude(h)`, h = 1..=harmonics,
/// by rotating phasors (no trig call per harmonic).
fn build(amplitude: impl Fn(usize) -> f64, harmonics: usize) -> Vec<f32> {
    let weights: Vec<f64> = (1..=harmonics).map(&amplitude).collect();
    let mut table = Vec::with_capacity(TABLE_SIZE + 1);
    for n in 0..TABLE_SIZE {
        let theta = 2.0 * PI * n as f64 / TABLE_SIZE as f64;
        let (s1, c1) = theta.sin_cos();
        let (mut s, mut c) = (0.0f64, 1.0f64);
        let mut sum = 0.0;
        for w in &weights {
            // (c + i s) · (c1 + i s1): advance to the next harmonic.
            (s, c) = (s * c1 + c * s1, c * c1 - s * s1);
            sum += w * s;
        }
        table.push(sum as f32);
    }
    table.push(table[0]);
    table
}

#[inline]
fn read(table: &[f32], phase: f64) -> f32 {
    let x = phase * TABLE_SIZE as f64;
    let i = (x as usize).min(TABLE_SIZE - 1);
    let frac = (x - i as f64) as f32;
    let (a, b) = (table[i], table[i + 1]);
    a + (b - a) * frac
}

/// A wavetable oscillator: phase accumulator in f64, table read by
/// linear interpolation.
#[derive(Debug, Clone)]
pub struct Oscillator {
    table: Arc<Wavetable>,
    frequency: f64,
    phase: f64,
    increment: f64,
}

impl Oscillator {
    /// An oscillator at `frequency` Hz (0 < frequency < Nyquist).
    pub fn new(table: Arc<Wavetable>, frequency: f64) -> Result<Oscillator, Error> {
        let mut osc = Oscillator {
            table,
            frequency: 0.0,
            phase: 0.0,
            increment: 0.0,
        };
        osc.set_frequency(frequency)?;
        Ok(osc)
    }

    /// Changes the frequency (phase is kept, so there is no click).
    pub fn set_frequency(&mut self, frequency: f64) -> Result<(), Error> {
        let nyquist = self.table.sample_rate / 2.0;
        if !(frequency.is_finite() && frequency > 0.0 && frequency < nyquist) {
            return Err(Error::invalid(
                "frequency",
                format!("must be in (0, {nyquist}) Hz, got {frequency}"),
            ));
        }
        self.frequency = frequency;
        self.increment = frequency / self.table.sample_rate;
        Ok(())
    }

    /// The next sample.
    #[inline]
    pub fn next_sample(&mut self) -> f32 {
        let v = self.table.lookup(self.frequency, self.phase);
        self.phase += self.increment;
        if self.phase >= 1.0 {
            self.phase -= 1.0;
        }
        v
    }

    /// Writes the next `out.len()` samples.
    pub fn render(&mut self, out: &mut [f32]) {
        let table = self.table.table_for(self.frequency);
        for x in out {
            *x = read(table, self.phase);
            self.phase += self.increment;
            if self.phase >= 1.0 {
                self.phase -= 1.0;
            }
        }
    }
}

/// A handle to a started voice (valid until the voice is stolen).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VoiceId {
    slot: usize,
    serial: u64,
}

#[derive(Debug, Clone)]
struct Voice {
    osc: Oscillator,
    amplitude: f32,
    /// Release: per-sample gain decrement once released, else 0.
    fade: f32,
    gain: f32,
    serial: u64,
    active: bool,
}

/// A fixed number of voices allocated up front; starting a note when all
/// are busy steals the oldest one. [`VoicePool::render`] allocates nothing.
#[derive(Debug, Clone)]
pub struct VoicePool {
    voices: Vec<Voice>,
    next_serial: u64,
    release_samples: f32,
}

impl VoicePool {
    /// `voices` silent voices on `table`; released notes fade out linearly
    /// over `release_ms`.
    pub fn new(table: Arc<Wavetable>, voices: usize, release_ms: f64) -> Result<VoicePool, Error> {
        if voices == 0 {
            return Err(Error::invalid("voice count", "must be at least 1"));
        }
        check_positive("release", release_ms)?;
        let release_samples = (release_ms / 1000.0 * table.sample_rate).max(1.0) as f32;
        let osc = Oscillator::new(table, LOWEST)?;
        Ok(VoicePool {
            voices: vec![
                Voice {
                    osc,
                    amplitude: 0.0,
                    fade: 0.0,
                    gain: 0.0,
                    serial: 0,
                    active: false,
                };
                voices
            ],
            next_serial: 1,
            release_samples,
        })
    }

    /// Starts a note; steals the oldest voice (lowest start serial) when
    /// every voice is busy.
    pub fn note_on(&mut self, frequency: f64, amplitude: f32) -> Result<VoiceId, Error> {
        let slot = match self.voices.iter().position(|v| !v.active) {
            Some(free) => free,
            None => self
                .voices
                .iter()
                .enumerate()
                .min_by_key(|(_, v)| v.serial)
                .map(|(i, _)| i)
                .unwrap_or(0),
        };
        let voice = &mut self.voices[slot];
        voice.osc.set_frequency(frequency)?;
        voice.osc.phase = 0.0;
        voice.amplitude = amplitude;
        voice.gain = 1.0;
        voice.fade = 0.0;
        voice.active = true;
        voice.serial = self.next_serial;
        self.next_serial += 1;
        Ok(VoiceId {
            slot,
            serial: voice.serial,
        })
    }

    /// Releases a note (fades out); a stolen or finished voice is ignored.
    pub fn note_off(&mut self, id: VoiceId) {
        if let Some(v) = self.voices.get_mut(id.slot)
            && v.active
            && v.serial == id.serial
        {
            v.fade = 1.0 / self.release_samples;
        }
    }

    /// Whether the voice is still sounding.
    pub fn is_active(&self, id: VoiceId) -> bool {
        self.voices
            .get(id.slot)
            .is_some_and(|v| v.active && v.serial == id.serial)
    }

    /// Number of voices sounding.
    pub fn active_voices(&self) -> usize {
        self.voices.iter().filter(|v| v.active).count()
    }

    /// Adds every sounding voice into `out`.
    pub fn render(&mut self, out: &mut [f32]) {
        for v in self.voices.iter_mut().filter(|v| v.active) {
            for x in out.iter_mut() {
                *x += v.osc.next_sample() * v.amplitude * v.gain;
                v.gain -= v.fade;
                if v.gain <= 0.0 {
                    v.active = false;
                    break;
                }
            }
        }
    }
}
