//! The mixer: any number of channel strips summed to a stereo bus,
//! real-time safe, on a run-time chosen backend.

use crate::bank::StripBank;
use crate::error::{Error, check_len, check_positive};
use crate::kernel::{ScalarStrips, StripKernel, calibrate_strip_kernel, select_strip_kernel};
use crate::strip::StripSettings;
use vivace_backend::{BackendKind, Preference, Unavailable};

/// A mixer's fixed shape, chosen once (everything is allocated up front).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MixerConfig {
    /// Sample rate, Hz.
    pub sample_rate: f64,
    /// Number of stereo strips (≥ 1).
    pub strips: usize,
    /// The longest block `process` accepts, frames (≥ 1; 128 is typical).
    pub max_block: usize,
    /// Meter window, frames: peak and RMS readings cover the last complete
    /// window (≥ 1; the default is 100 ms).
    pub meter_window: usize,
}

impl MixerConfig {
    /// `strips` strips at `sample_rate`, blocks up to 128 frames, 100 ms
    /// meter window.
    pub fn new(sample_rate: f64, strips: usize) -> Self {
        MixerConfig {
            sample_rate,
            strips,
            max_block: 128,
            meter_window: (sample_rate / 10.0).round().max(1.0) as usize,
        }
    }

    /// Same, with a different maximum block length.
    pub fn with_max_block(mut self, max_block: usize) -> Self {
        self.max_block = max_block;
        self
    }

    /// Same, with a different meter window (frames).
    pub fn with_meter_window(mut self, frames: usize) -> Self {
        self.meter_window = frames;
        self
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        check_positive("sample rate", self.sample_rate)?;
        for (name, value) in [
            ("strip count", self.strips),
            ("maximum block", self.max_block),
            ("meter window", self.meter_window),
        ] {
            if value == 0 {
                return Err(Error::invalid(name, "must be at least 1"));
            }
        }
        Ok(())
    }
}

/// One strip's meters over the last complete window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StripMeters {
    /// Peak level, dBFS, left and right (−∞ for silence).
    pub peak_db: [f32; 2],
    /// RMS level, dBFS, left and right.
    pub rms_db: [f32; 2],
    /// The compressor's gain reduction at the end of the window, dB (≤ 0;
    /// 0 when bypassed).
    pub gain_reduction_db: f32,
}

impl StripMeters {
    const SILENT: StripMeters = StripMeters {
        peak_db: [f32::NEG_INFINITY; 2],
        rms_db: [f32::NEG_INFINITY; 2],
        gain_reduction_db: 0.0,
    };
}

/// Any number of channel strips summed to a stereo bus.
///
/// [`Mixer::process`] is real-time safe: it allocates nothing, takes no lock
/// and makes no system call (tested with a counting allocator). Settings
/// changed between blocks ramp across the next block.
///
/// ```
/// use vivace_dsp::{Mixer, MixerConfig, StripSettings, Shelf};
/// use vivace_backend::Preference;
///
/// let mut mixer = Mixer::new(MixerConfig::new(48_000.0, 4), Preference::Auto)?;
/// let mut bright = StripSettings::default();
/// bright.eq.high_shelf = Some(Shelf::new(8_000.0, 4.0));
/// mixer.set_strip(2, &bright)?;
///
/// // Planar input: strip 0 left, strip 0 right, strip 1 left, …
/// let frames = 128;
/// let input = vec![0.25f32; 4 * 2 * frames];
/// let (mut left, mut right) = (vec![0.0; frames], vec![0.0; frames]);
/// mixer.process(&input, &mut left, &mut right)?;
/// println!("{} on {}", left[frames - 1], mixer.backend());
/// # Ok::<(), vivace_dsp::Error>(())
/// ```
pub struct Mixer {
    config: MixerConfig,
    bank: StripBank,
    kernel: Box<dyn StripKernel>,
    skipped: Vec<Unavailable>,
    window_filled: usize,
    meters: Vec<StripMeters>,
}

impl std::fmt::Debug for Mixer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mixer")
            .field("config", &self.config)
            .field("backend", &self.kernel.name())
            .finish_non_exhaustive()
    }
}

impl Mixer {
    /// A mixer of bypassed strips on the backend `preference` resolves to
    /// (best SIMD → scalar under `Auto`; forcing `gpu` takes the GPU kernel
    /// where the `gpu` feature and an adapter exist).
    pub fn new(config: MixerConfig, preference: Preference) -> Result<Mixer, Error> {
        config.validate()?;
        let selection = select_strip_kernel(preference, &config)?;
        let skipped = selection.skipped;
        let mut mixer = Mixer::with_kernel(config, selection.backend)?;
        mixer.skipped = skipped;
        Ok(mixer)
    }

    /// A mixer on the backend that measured fastest for this configuration
    /// on this machine ([`calibrate_strip_kernel`]): the way to let the GPU
    /// take an offline render of many strips where it pays.
    pub fn calibrated(config: MixerConfig, preference: Preference) -> Result<Mixer, Error> {
        let selection = calibrate_strip_kernel(preference, &config)?;
        let skipped = selection.skipped;
        let mut mixer = Mixer::with_kernel(config, selection.backend)?;
        mixer.skipped = skipped;
        Ok(mixer)
    }

    /// A mixer on the given kernel.
    pub fn with_kernel(config: MixerConfig, kernel: Box<dyn StripKernel>) -> Result<Mixer, Error> {
        config.validate()?;
        let bank = StripBank::new(config.strips, config.sample_rate);
        Ok(Mixer {
            config,
            bank,
            kernel,
            skipped: Vec::new(),
            window_filled: 0,
            meters: vec![StripMeters::SILENT; config.strips],
        })
    }

    /// A scalar mixer (the reference).
    pub fn scalar(config: MixerConfig) -> Result<Mixer, Error> {
        Mixer::with_kernel(config, Box::new(ScalarStrips))
    }

    /// The configuration.
    pub fn config(&self) -> &MixerConfig {
        &self.config
    }

    /// The backend processing the strips.
    pub fn backend(&self) -> BackendKind {
        self.kernel.kind()
    }

    /// The backend's descriptive name, e.g. `"simd (AVX2+FMA, 8 strips per register)"`.
    pub fn backend_name(&self) -> String {
        self.kernel.name()
    }

    /// Backends skipped during selection, each with its reason.
    pub fn skipped(&self) -> &[Unavailable] {
        &self.skipped
    }

    /// Replaces the backend; the strips keep their settings and state.
    pub fn set_kernel(&mut self, kernel: Box<dyn StripKernel>) {
        self.kernel = kernel;
    }

    /// Applies `settings` to strip `index`. Once audio has run, EQ
    /// coefficients and gains ramp to the new values across the next block.
    /// On error the strip keeps its previous settings.
    pub fn set_strip(&mut self, index: usize, settings: &StripSettings) -> Result<(), Error> {
        if index >= self.config.strips {
            return Err(Error::IndexOutOfRange {
                what: "strip",
                index,
                count: self.config.strips,
            });
        }
        // `apply` validates everything before it touches the bank.
        self.bank.apply(index, settings)
    }

    /// Meters of strip `index` over the last complete window.
    pub fn meters(&self, index: usize) -> Result<StripMeters, Error> {
        self.meters
            .get(index)
            .copied()
            .ok_or(Error::IndexOutOfRange {
                what: "strip",
                index,
                count: self.config.strips,
            })
    }

    /// Processes one block. `input` is planar, `strips × 2 × frames` long:
    /// strip 0 left, strip 0 right, strip 1 left, …, where `frames` is
    /// `left.len()` (= `right.len()`, ≤ the configured maximum). The bus is
    /// written (not added) to `left` and `right`.
    pub fn process(
        &mut self,
        input: &[f32],
        left: &mut [f32],
        right: &mut [f32],
    ) -> Result<(), Error> {
        let frames = left.len();
        check_len("right bus", frames, right.len())?;
        if frames > self.config.max_block {
            return Err(Error::BlockTooLong {
                frames,
                max: self.config.max_block,
            });
        }
        check_len(
            "planar input (strips × 2 × frames)",
            self.config.strips * 2 * frames,
            input.len(),
        )?;
        left.fill(0.0);
        right.fill(0.0);
        self.bank.begin_block(frames);
        let mut start = 0;
        let result = loop {
            if start == frames {
                break Ok(());
            }
            let end = frames.min(start + self.config.meter_window - self.window_filled);
            if let Err(e) =
                self.kernel
                    .process(&mut self.bank, input, frames, start..end, left, right)
            {
                break Err(e);
            }
            self.window_filled += end - start;
            if self.window_filled == self.config.meter_window {
                self.publish_meters();
            }
            start = end;
        };
        self.bank.end_block();
        result
    }

    /// Processes a whole recording in blocks of the configured maximum:
    /// `input` is planar `strips × 2 × frames` with `frames = left.len()`.
    pub fn render(
        &mut self,
        input: &[f32],
        left: &mut [f32],
        right: &mut [f32],
    ) -> Result<(), Error> {
        let frames = left.len();
        check_len("right bus", frames, right.len())?;
        check_len(
            "planar input (strips × 2 × frames)",
            self.config.strips * 2 * frames,
            input.len(),
        )?;
        let mut block = vec![0.0f32; self.config.strips * 2 * self.config.max_block.min(frames)];
        let mut start = 0;
        while start < frames {
            let n = self.config.max_block.min(frames - start);
            for row in 0..self.config.strips * 2 {
                block[row * n..(row + 1) * n]
                    .copy_from_slice(&input[row * frames + start..row * frames + start + n]);
            }
            self.process(
                &block[..self.config.strips * 2 * n],
                &mut left[start..start + n],
                &mut right[start..start + n],
            )?;
            start += n;
        }
        Ok(())
    }

    fn publish_meters(&mut self) {
        let p = self.bank.padded;
        let window = self.config.meter_window as f32;
        for (strip, meter) in self.meters.iter_mut().enumerate() {
            for side in 0..2 {
                let at = side * p + strip;
                meter.peak_db[side] = 20.0 * self.bank.peak[at].log10();
                meter.rms_db[side] = 10.0 * (self.bank.sum_squares[at] / window).log10();
                self.bank.peak[at] = 0.0;
                self.bank.sum_squares[at] = crate::bank::METER_FLOOR;
            }
            meter.gain_reduction_db = if self.bank.comp[0][strip] == crate::bank::BYPASS_THRESHOLD {
                0.0
            } else {
                self.bank.envelope[strip].min(0.0)
            };
        }
        self.window_filled = 0;
    }
}
