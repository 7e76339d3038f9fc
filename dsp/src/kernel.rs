//! Strip kernels: one type per backend, all over the same [`StripBank`].

use crate::bank::{BANDS, ENVELOPE_CEILING, GROUP, LEVEL_FLOOR, StripBank};
use crate::biquad::tdf2_step;
use crate::error::Error;
use crate::mixer::MixerConfig;
use std::ops::Range;
use vivace_backend::{
    Backend, BackendKind, CalibrateError, Calibrator, Candidate, Preference, SelectError,
    Selection, SimdLevel, Unavailable, select,
};

/// Processes frames of every strip and adds them to a stereo bus.
///
/// Implemented by [`ScalarStrips`], [`SimdStrips`] and (feature `gpu`)
/// `GpuStrips`; a [`Mixer`](crate::Mixer) drives one of
/// them.
pub trait StripKernel: Backend + Send {
    /// Processes `frames` of the planar `input` (`[strip][side][frame]`,
    /// rows of `block` frames, `frames.end ≤ block`) through every strip in
    /// `bank`, adding each strip's output to `left`/`right`.
    fn process(
        &mut self,
        bank: &mut StripBank,
        input: &[f32],
        block: usize,
        frames: Range<usize>,
        left: &mut [f32],
        right: &mut [f32],
    ) -> Result<(), Error>;
}

/// The scalar reference: one strip at a time, one sample at a time, with
/// libm's `log10` and `powf` in the compressor.
#[derive(Debug, Clone, Copy, Default)]
pub struct ScalarStrips;

impl Backend for ScalarStrips {
    fn kind(&self) -> BackendKind {
        BackendKind::Scalar
    }
}

impl StripKernel for ScalarStrips {
    fn process(
        &mut self,
        bank: &mut StripBank,
        input: &[f32],
        block: usize,
        frames: Range<usize>,
        left: &mut [f32],
        right: &mut [f32],
    ) -> Result<(), Error> {
        check_kernel_buffers(bank, input, block, &frames, left, right)?;
        let p = bank.padded;
        let groups = bank.groups();
        for strip in 0..bank.strips {
            let group = strip / GROUP;
            let (row_l, row_r) = (strip * 2 * block, (strip * 2 + 1) * block);
            let mut coef = [[0.0f32; 5]; BANDS];
            let mut delta = [[0.0f32; 5]; BANDS];
            let mut state = [[[0.0f32; 2]; 2]; BANDS];
            let mut run = [false; BANDS];
            let mut ramp = [false; BANDS];
            for band in 0..BANDS {
                run[band] = bank.band_active[band * groups + group]
                    || bank.band_ramping[band * groups + group];
                ramp[band] = bank.band_ramping[band * groups + group];
                for k in 0..5 {
                    coef[band][k] = bank.coef[bank.coef_at(band, k) + strip];
                    delta[band][k] = bank.delta[bank.coef_at(band, k) + strip];
                }
                for side in 0..2 {
                    for w in 0..2 {
                        state[band][side][w] = bank.state[bank.state_at(band, side, w) + strip];
                    }
                }
            }
            let comp_on = bank.comp_active[group];
            let [thr, slope, half_knee, knee_scale, attack, release, makeup] =
                std::array::from_fn(|k| bank.comp[k][strip]);
            let mut envelope = bank.envelope[strip];
            let gain_ramp = bank.gain_ramping[group];
            let mut gain = [bank.gain[strip], bank.gain[p + strip]];
            let gain_delta = [bank.gain_delta[strip], bank.gain_delta[p + strip]];
            let mono = bank.mono[strip];
            let mut peak = [bank.peak[strip], bank.peak[p + strip]];
            let mut sum_squares = [bank.sum_squares[strip], bank.sum_squares[p + strip]];
            for n in frames.clone() {
                let mut l = input[row_l + n];
                let mut r = input[row_r + n];
                for band in 0..BANDS {
                    if !run[band] {
                        continue;
                    }
                    if ramp[band] {
                        for k in 0..5 {
                            coef[band][k] += delta[band][k];
                        }
                    }
                    l = tdf2_step(&coef[band], &mut state[band][0], l);
                    r = tdf2_step(&coef[band], &mut state[band][1], r);
                }
                if comp_on {
                    let level = l.abs().max(r.abs()).max(LEVEL_FLOOR);
                    let over = 20.0 * level.log10() - thr;
                    let reduction = if over >= half_knee {
                        slope * over
                    } else if over <= -half_knee {
                        0.0
                    } else {
                        knee_scale * (over + half_knee) * (over + half_knee)
                    }
                    .min(ENVELOPE_CEILING);
                    let alpha = if reduction < envelope {
                        attack
                    } else {
                        release
                    };
                    envelope = reduction + alpha * (envelope - reduction);
                    let g = 10f32.powf((envelope + makeup) / 20.0);
                    l *= g;
                    r *= g;
                }
                if gain_ramp {
                    gain[0] += gain_delta[0];
                    gain[1] += gain_delta[1];
                }
                l *= gain[0];
                r *= gain[1];
                let m = (l + r) * 0.5;
                l += mono * (m - l);
                r += mono * (m - r);
                peak[0] = peak[0].max(l.abs());
                peak[1] = peak[1].max(r.abs());
                sum_squares[0] += l * l;
                sum_squares[1] += r * r;
                left[n] += l;
                right[n] += r;
            }
            for band in 0..BANDS {
                for k in 0..5 {
                    let at = bank.coef_at(band, k) + strip;
                    bank.coef[at] = coef[band][k];
                }
                for side in 0..2 {
                    for w in 0..2 {
                        let at = bank.state_at(band, side, w) + strip;
                        bank.state[at] = state[band][side][w];
                    }
                }
            }
            bank.envelope[strip] = envelope;
            for side in 0..2 {
                bank.gain[side * p + strip] = gain[side];
                bank.peak[side * p + strip] = peak[side];
                bank.sum_squares[side * p + strip] = sum_squares[side];
            }
        }
        Ok(())
    }
}

/// SIMD across strips: each register holds the same stage of 8 strips
/// (AVX2+FMA) or 4 (SSE4.1), so one instruction advances 8 filters. Only
/// constructible where the CPU has the level.
#[derive(Debug, Clone, Copy)]
pub struct SimdStrips {
    level: SimdLevel,
}

impl SimdStrips {
    /// The kernel for `level`, if this CPU has it and vivace has a kernel
    /// for it (AVX2+FMA and SSE4.1).
    pub fn new(level: SimdLevel) -> Result<Self, Unavailable> {
        crate::simd::check_level(level)?;
        Ok(SimdStrips { level })
    }

    /// The best level this CPU has.
    pub fn best() -> Result<Self, Unavailable> {
        crate::simd::best_level().map(|level| SimdStrips { level })
    }

    /// The SIMD level in use.
    pub fn level(&self) -> SimdLevel {
        self.level
    }
}

impl Backend for SimdStrips {
    fn kind(&self) -> BackendKind {
        BackendKind::Simd(self.level)
    }

    fn name(&self) -> String {
        format!(
            "simd ({}, {} strips per register)",
            self.level,
            self.level.f32_lanes()
        )
    }
}

impl StripKernel for SimdStrips {
    fn process(
        &mut self,
        bank: &mut StripBank,
        input: &[f32],
        block: usize,
        frames: Range<usize>,
        left: &mut [f32],
        right: &mut [f32],
    ) -> Result<(), Error> {
        check_kernel_buffers(bank, input, block, &frames, left, right)?;
        crate::simd::process_strips(self.level, bank, input, block, frames, left, right);
        Ok(())
    }
}

/// The buffer contract of [`StripKernel::process`], as a typed error.
pub(crate) fn check_kernel_buffers(
    bank: &StripBank,
    input: &[f32],
    block: usize,
    frames: &Range<usize>,
    left: &[f32],
    right: &[f32],
) -> Result<(), Error> {
    if frames.start > frames.end || frames.end > block {
        return Err(Error::invalid(
            "frame range",
            format!("{frames:?} does not lie within a block of {block} frames"),
        ));
    }
    let needed = bank
        .strips
        .checked_mul(2 * block)
        .ok_or_else(|| Error::invalid("block length", "strips × 2 × block overflows"))?;
    if input.len() < needed {
        return Err(Error::LengthMismatch {
            what: "planar input (strips × 2 × block)",
            expected: needed,
            actual: input.len(),
        });
    }
    for (what, bus) in [("left bus", left), ("right bus", right)] {
        if bus.len() < frames.end {
            return Err(Error::LengthMismatch {
                what,
                expected: frames.end,
                actual: bus.len(),
            });
        }
    }
    Ok(())
}

/// The strip-kernel chain for a mixer: GPU, the best SIMD level, then
/// scalar. `Auto` passes over the GPU (a real-time block never pays for a
/// GPU round trip; [`calibrate_strip_kernel`] measures whether a bulk
/// render does); forcing `gpu` gives `GpuStrips`
/// (feature `gpu`).
pub fn select_strip_kernel(
    preference: Preference,
    _config: &MixerConfig,
) -> Result<Selection<Box<dyn StripKernel>>, SelectError> {
    let mut chain: Vec<Candidate<'_, Box<dyn StripKernel>>> = Vec::new();
    chain.push(Candidate::new(BackendKind::Gpu, move || {
        if !preference.is_forced() {
            return Err(Unavailable::new(
                BackendKind::Gpu,
                "auto uses the GPU only where calibrate_strip_kernel measured it faster \
                 (offline rendering of many strips)",
            ));
        }
        gpu_candidate()
    }));
    cpu_chain(&mut chain);
    select(preference, chain)
}

fn cpu_chain(chain: &mut Vec<Candidate<'_, Box<dyn StripKernel>>>) {
    for level in crate::simd::LEVELS {
        chain.push(Candidate::new(BackendKind::Simd(level), move || {
            SimdStrips::new(level).map(|k| Box::new(k) as Box<dyn StripKernel>)
        }));
    }
    chain.push(Candidate::new(BackendKind::Scalar, || {
        Ok(Box::new(ScalarStrips) as Box<dyn StripKernel>)
    }));
}

#[cfg(feature = "gpu")]
fn gpu_candidate() -> Result<Box<dyn StripKernel>, Unavailable> {
    crate::gpu::GpuStrips::shared().map(|k| Box::new(k) as Box<dyn StripKernel>)
}

#[cfg(not(feature = "gpu"))]
fn gpu_candidate() -> Result<Box<dyn StripKernel>, Unavailable> {
    Err(Unavailable::new(
        BackendKind::Gpu,
        "vivace-dsp was built without its `gpu` feature",
    ))
}

/// Times every backend `preference` admits (the GPU included) on one block
/// of `config.max_block` frames through `config.strips` full strips (3 EQ
/// bands and a compressor each) and keeps the fastest: the crossover for
/// *this* machine and problem size. Slower backends are listed in
/// [`Selection::skipped`] with their timings.
///
/// For offline rendering, configure the mixer with the block length the
/// render will use (e.g. 4,096 or more frames) before calibrating.
pub fn calibrate_strip_kernel(
    preference: Preference,
    config: &MixerConfig,
) -> Result<Selection<Box<dyn StripKernel>>, Error> {
    use crate::strip::{Bell, CompressorSettings, Shelf, StripSettings};
    config.validate()?;
    let mut settings = StripSettings::default();
    settings.eq.low_shelf = Some(Shelf::new(100.0, 3.0));
    settings.eq.mid = Some(Bell {
        frequency: 1_000.0,
        gain_db: -2.0,
        q: 1.0,
    });
    settings.eq.high_shelf = Some(Shelf::new((8_000.0f64).min(config.sample_rate * 0.4), 2.0));
    settings.compressor = Some(CompressorSettings::default());
    let mut bank = StripBank::new(config.strips, config.sample_rate);
    for strip in 0..config.strips {
        bank.apply(strip, &settings)?;
    }
    bank.begin_block(config.max_block);
    bank.end_block();
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let input: Vec<f32> = (0..config.strips * 2 * config.max_block)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        })
        .collect();
    let (mut left, mut right) = (vec![0.0; config.max_block], vec![0.0; config.max_block]);
    let mut chain: Vec<Candidate<'_, Box<dyn StripKernel>>> =
        vec![Candidate::new(BackendKind::Gpu, gpu_candidate)];
    cpu_chain(&mut chain);
    let mut failure = None;
    let calibration = Calibrator::new(1, 3)
        .and_then(|c| {
            c.pick_fastest(preference, chain, |kernel: &mut Box<dyn StripKernel>| {
                let run = kernel.process(
                    &mut bank,
                    &input,
                    config.max_block,
                    0..config.max_block,
                    &mut left,
                    &mut right,
                );
                if let Err(e) = run {
                    failure = Some(e);
                }
            })
        })
        .map_err(|e| match e {
            CalibrateError::Select(e) => Error::Backend(e),
            other => Error::invalid("calibration", other.to_string()),
        })?;
    if let Some(e) = failure {
        return Err(e);
    }
    let kind = calibration.fastest.kind();
    let mut skipped = calibration.skipped;
    skipped.extend(
        calibration
            .timings
            .iter()
            .filter(|t| t.kind != kind)
            .map(|t| Unavailable::new(t.kind, format!("measured slower: {t}"))),
    );
    Ok(Selection {
        backend: calibration.fastest,
        kind,
        preference,
        skipped,
    })
}
