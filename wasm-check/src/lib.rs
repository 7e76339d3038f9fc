//! Runs vivace's SIMD kernels against scalar where they will run in the
//! browser: built for `wasm32-unknown-unknown` with `+simd128`, loaded by a
//! WebAssembly engine (CI uses node: `wasm-check/run.mjs`), it compares the
//! best SIMD level the module has (wasm simd128) with the scalar kernels on
//! random inputs and settings, with the tolerances of the native tests:
//! vivace-dsp's mixer and biquad bank, vivace-vectorize's pixel stages.
//! Natively the same checks run on the host's SIMD levels (`cargo test`).
//!
//! Exports: `vivace_check() -> u32` (failed checks) and the report as
//! `vivace_report_ptr()` / `vivace_report_len()` (UTF-8); benchmark bodies
//! for `run.mjs --bench`: `vivace_mixer_blocks`, `vivace_pixel_stage` and
//! `vivace_trace`.
#![deny(missing_docs)]

use std::fmt::Write;
use std::sync::Mutex;

use vivace_backend::{Preference, SimdLevel};
use vivace_dsp::{
    Bell, BiquadBank, Coefficients, CompressorSettings, FilterShape, Mixer, MixerConfig, Shelf,
    SimdStrips, StripSettings,
};

use vivace_vectorize::binary::BinaryOptions;
use vivace_vectorize::color::ColorOptions;
use vivace_vectorize::oklab::LabPlanes;
use vivace_vectorize::pixels::{PixelKernel, ScalarPixels, SimdPixels};
use vivace_vectorize::tracer::{Mode, Tracer, TracerConfig};
use vivace_vectorize::{RgbaRaster, Threshold};

static REPORT: Mutex<String> = Mutex::new(String::new());

/// xorshift64: deterministic inputs.
struct Rng(u64);

impl Rng {
    fn unit(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    fn signal(&mut self) -> f32 {
        (self.unit() * 2.0 - 1.0) as f32
    }
}

fn random_strip(rng: &mut Rng) -> StripSettings {
    let mut s = StripSettings::default();
    if rng.unit() < 0.7 {
        s.eq.low_shelf = Some(Shelf::new(
            40.0 + 400.0 * rng.unit(),
            -15.0 + 30.0 * rng.unit(),
        ));
    }
    if rng.unit() < 0.7 {
        s.eq.mid = Some(Bell {
            frequency: 200.0 + 6_000.0 * rng.unit(),
            gain_db: -15.0 + 30.0 * rng.unit(),
            q: 0.3 + 4.0 * rng.unit(),
        });
    }
    if rng.unit() < 0.7 {
        s.eq.high_shelf = Some(Shelf::new(
            2_000.0 + 15_000.0 * rng.unit(),
            -15.0 + 30.0 * rng.unit(),
        ));
    }
    if rng.unit() < 0.7 {
        s.compressor = Some(CompressorSettings {
            threshold_db: -40.0 * rng.unit(),
            ratio: 1.0 + 10.0 * rng.unit(),
            knee_db: 12.0 * rng.unit(),
            attack_ms: 0.1 + 30.0 * rng.unit(),
            release_ms: 5.0 + 300.0 * rng.unit(),
            makeup_db: 12.0 * rng.unit(),
        });
    }
    s.gain_db = -24.0 + 30.0 * rng.unit();
    s.pan = -1.0 + 2.0 * rng.unit();
    s.mono = rng.unit() < 0.3;
    s
}

/// The mixer on `level` against scalar: random strips, blocks of random
/// length, a retune half-way; bus within 1e-5 of strips × the loudest
/// sample (the native tests' tolerance).
fn mixer_matches_scalar(level: SimdLevel, seed: u64) -> Result<(), String> {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let strips = 1 + (rng.unit() * 37.0) as usize;
    let config = MixerConfig::new(48_000.0, strips).with_meter_window(300);
    let first: Vec<StripSettings> = (0..strips).map(|_| random_strip(&mut rng)).collect();
    let second: Vec<StripSettings> = (0..strips).map(|_| random_strip(&mut rng)).collect();
    let blocks: Vec<usize> = (0..8).map(|_| 1 + (rng.unit() * 127.0) as usize).collect();
    let inputs: Vec<Vec<f32>> = blocks
        .iter()
        .map(|&n| (0..strips * 2 * n).map(|_| rng.signal()).collect())
        .collect();
    let simd = SimdStrips::new(level).map_err(|e| e.to_string())?;
    let mut mixers = [
        Mixer::scalar(config).map_err(|e| e.to_string())?,
        Mixer::with_kernel(config, Box::new(simd)).map_err(|e| e.to_string())?,
    ];
    let mut outs = [Vec::new(), Vec::new()];
    for (mixer, out) in mixers.iter_mut().zip(&mut outs) {
        for (b, input) in inputs.iter().enumerate() {
            let settings = if b < blocks.len() / 2 {
                &first
            } else {
                &second
            };
            if b == 0 || b == blocks.len() / 2 {
                for (i, s) in settings.iter().enumerate() {
                    mixer.set_strip(i, s).map_err(|e| e.to_string())?;
                }
            }
            let (mut l, mut r) = (vec![0.0; blocks[b]], vec![0.0; blocks[b]]);
            mixer
                .process(input, &mut l, &mut r)
                .map_err(|e| e.to_string())?;
            out.extend(l.into_iter().chain(r));
        }
    }
    let scale = outs[0].iter().fold(1.0f32, |m, x| m.max(x.abs())) * strips as f32;
    for (i, (a, b)) in outs[1].iter().zip(&outs[0]).enumerate() {
        if (a - b).abs() > 1e-5 * scale || a.is_nan() != b.is_nan() {
            return Err(format!("sample {i}: {a} vs scalar {b} (scale {scale})"));
        }
    }
    Ok(())
}

/// A biquad bank on `level` against the scalar bank: bit-identical.
fn biquads_match_scalar(level: SimdLevel, seed: u64) -> Result<(), String> {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let channels = 1 + (rng.unit() * 69.0) as usize;
    let frames = 1 + (rng.unit() * 300.0) as usize;
    let mut banks = [
        BiquadBank::new(channels, Preference::Scalar).map_err(|e| e.to_string())?,
        BiquadBank::with_level(channels, level).map_err(|e| e.to_string())?,
    ];
    for ch in 0..channels {
        let shape = match (rng.unit() * 4.0) as u32 {
            0 => FilterShape::LowPass,
            1 => FilterShape::HighPass,
            2 => FilterShape::Peaking {
                gain_db: -12.0 + 24.0 * rng.unit(),
            },
            _ => FilterShape::Notch,
        };
        let c = Coefficients::design(
            shape,
            48_000.0,
            40.0 + 15_000.0 * rng.unit(),
            0.5 + 3.0 * rng.unit(),
        )
        .map_err(|e| e.to_string())?;
        for bank in &mut banks {
            bank.set(ch, c).map_err(|e| e.to_string())?;
        }
    }
    let input: Vec<f32> = (0..channels * frames).map(|_| rng.signal()).collect();
    let mut outs = [input.clone(), input];
    for (bank, out) in banks.iter_mut().zip(&mut outs) {
        bank.process_interleaved(out).map_err(|e| e.to_string())?;
    }
    match outs[0]
        .iter()
        .zip(&outs[1])
        .position(|(a, b)| a.to_bits() != b.to_bits())
    {
        None => Ok(()),
        Some(i) => Err(format!(
            "sample {i}: {} vs scalar {}",
            outs[1][i], outs[0][i]
        )),
    }
}

/// vivace-vectorize's pixel stages on `level` against scalar on a random
/// image (random alpha too): luma, ink, OKLab planes and k-means labels, all
/// bit-identical.
fn pixels_match_scalar(level: SimdLevel, seed: u64) -> Result<(), String> {
    let mut rng = Rng(seed.wrapping_mul(0x2545_f491_4f6c_dd1d) | 1);
    let (w, h) = (
        1 + (rng.unit() * 40.0) as usize,
        1 + (rng.unit() * 12.0) as usize,
    );
    let px: Vec<u8> = (0..w * h * 4).map(|_| (rng.unit() * 256.0) as u8).collect();
    let centroids: Vec<[f32; 3]> = (0..1 + (rng.unit() * 39.0) as usize)
        .map(|_| {
            let c = [rng.unit(), rng.unit() * 0.6 - 0.3, rng.unit() * 0.6 - 0.3];
            c.map(|v| v as f32)
        })
        .collect();
    let threshold = (rng.unit() * 256.0) as u8;
    let raster = RgbaRaster::new(w, h, &px).map_err(|e| e.to_string())?;
    let simd = SimdPixels::new(level).map_err(|e| e.to_string())?;
    let kernels: [&dyn PixelKernel; 2] = [&ScalarPixels, &simd];
    let mut outs = Vec::new();
    for k in kernels {
        let (mut luma, mut ink, mut lab) = (Vec::new(), Vec::new(), LabPlanes::default());
        k.luma(&raster, &mut luma).map_err(|e| e.to_string())?;
        k.threshold(&raster, threshold, &mut ink)
            .map_err(|e| e.to_string())?;
        k.oklab(&raster, &mut lab).map_err(|e| e.to_string())?;
        let mut labels = vec![0u8; w * h];
        k.assign(&lab, Some(&px), &centroids, &mut labels)
            .map_err(|e| e.to_string())?;
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<u32>>();
        outs.push((
            luma,
            ink,
            [bits(&lab.l), bits(&lab.a), bits(&lab.b)],
            labels,
        ));
    }
    let (want, got) = (&outs[0], &outs[1]);
    let stages = [
        ("luma", want.0 == got.0),
        ("ink", want.1 == got.1),
        ("OKLab", want.2 == got.2),
        ("labels", want.3 == got.3),
    ];
    match stages.iter().find(|(_, same)| !same) {
        None => Ok(()),
        Some((stage, _)) => Err(format!("{w}×{h} image: {stage} differ from scalar")),
    }
}

/// Runs every check on every SIMD level this build has; returns the number
/// that failed and writes the report.
pub fn run_checks() -> u32 {
    let mut report = String::new();
    let mut failures = 0;
    let levels = SimdLevel::available();
    let _ = writeln!(
        report,
        "vivace wasm-check on {} ({}): SIMD levels {levels:?}",
        std::env::consts::ARCH,
        if cfg!(target_feature = "simd128") {
            "simd128"
        } else {
            "no simd128"
        },
    );
    if cfg!(target_arch = "wasm32") && !levels.contains(&SimdLevel::Simd128) {
        failures += 1;
        let _ = writeln!(report, "FAILED: built without simd128: nothing to check");
    }
    for &level in levels {
        type Check = fn(SimdLevel, u64) -> Result<(), String>;
        let checks: [(&str, Check, u64); 3] = [
            ("mixer within 1e-5 of scalar", mixer_matches_scalar, 24),
            (
                "biquad bank bit-identical to scalar",
                biquads_match_scalar,
                48,
            ),
            (
                "pixel stages (luma, ink, OKLab, k-means labels) bit-identical to scalar",
                pixels_match_scalar,
                48,
            ),
        ];
        for (name, check, cases) in checks {
            let failed: Vec<String> = (0..cases)
                .filter_map(|seed| {
                    check(level, 0x9e37_79b9 ^ seed)
                        .err()
                        .map(|e| format!("seed {seed}: {e}"))
                })
                .collect();
            if failed.is_empty() {
                let _ = writeln!(report, "ok: {level}: {name} ({cases} cases)");
            } else {
                failures += 1;
                let _ = writeln!(report, "FAILED: {level}: {name}: {}", failed.join("; "));
            }
        }
    }
    *REPORT.lock().unwrap_or_else(|e| e.into_inner()) = report;
    failures
}

/// Runs the checks (see [`run_checks`]).
#[unsafe(no_mangle)]
pub extern "C" fn vivace_check() -> u32 {
    run_checks()
}

/// Address of the last report.
#[unsafe(no_mangle)]
pub extern "C" fn vivace_report_ptr() -> *const u8 {
    REPORT.lock().unwrap_or_else(|e| e.into_inner()).as_ptr()
}

/// Length in bytes of the last report.
#[unsafe(no_mangle)]
pub extern "C" fn vivace_report_len() -> usize {
    REPORT.lock().unwrap_or_else(|e| e.into_inner()).len()
}

/// Benchmark body for `run.mjs --bench`: a mixer of `strips` full strips
/// (3 EQ bands, compressor, pan) on simd128 (`simd` ≠ 0) or scalar, fed
/// `blocks` blocks of 128 frames of noise; returns a checksum of the bus so
/// the work cannot be skipped. The engine's clock times it from outside
/// (wasm32-unknown-unknown has none).
#[unsafe(no_mangle)]
pub extern "C" fn vivace_mixer_blocks(simd: u32, strips: u32, blocks: u32) -> f32 {
    let strips = strips.max(1) as usize;
    let kernel: Box<dyn vivace_dsp::StripKernel> = match SimdLevel::detect() {
        Some(level) if simd != 0 => match SimdStrips::new(level) {
            Ok(k) => Box::new(k),
            Err(_) => return f32::NAN,
        },
        _ => Box::new(vivace_dsp::ScalarStrips),
    };
    let Ok(mut mixer) = Mixer::with_kernel(MixerConfig::new(48_000.0, strips), kernel) else {
        return f32::NAN;
    };
    let mut settings = StripSettings {
        compressor: Some(CompressorSettings::default()),
        pan: 0.2,
        ..StripSettings::default()
    };
    settings.eq.low_shelf = Some(Shelf::new(120.0, 3.0));
    settings.eq.mid = Some(Bell {
        frequency: 1_500.0,
        gain_db: -4.0,
        q: 1.2,
    });
    settings.eq.high_shelf = Some(Shelf::new(9_000.0, 2.0));
    for s in 0..strips {
        if mixer.set_strip(s, &settings).is_err() {
            return f32::NAN;
        }
    }
    let mut rng = Rng(7);
    let input: Vec<f32> = (0..strips * 2 * 128).map(|_| rng.signal()).collect();
    let (mut l, mut r) = (vec![0.0f32; 128], vec![0.0f32; 128]);
    let mut checksum = 0.0;
    for _ in 0..blocks {
        if mixer.process(&input, &mut l, &mut r).is_err() {
            return f32::NAN;
        }
        checksum += l[127] + r[127];
    }
    checksum
}

/// Side of the benchmark picture.
const PICTURE: usize = 512;

/// The benchmark picture, drawn in the module (no files in a bare engine):
/// smooth colour gradients under rings and a wavy band of dark ink, so
/// binary and colour tracing meet real edges and curves.
fn test_picture() -> Vec<u8> {
    let mut px = Vec::with_capacity(PICTURE * PICTURE * 4);
    for y in 0..PICTURE {
        for x in 0..PICTURE {
            let (fx, fy) = (x as f64 / PICTURE as f64, y as f64 / PICTURE as f64);
            let r = ((fx - 0.5).powi(2) + (fy - 0.45).powi(2)).sqrt();
            let ring = (r * 40.0).sin() > 0.6 && r < 0.4;
            let band = (fy - 0.8 - 0.05 * (fx * 12.0).sin()).abs() < 0.04;
            let ink = ring || band;
            let rgb = if ink {
                [20.0, 30.0 + 60.0 * fx, 60.0]
            } else {
                [
                    230.0 * fx + 20.0,
                    200.0 * fy + 40.0,
                    250.0 - 150.0 * fx * fy,
                ]
            };
            px.extend(rgb.map(|v: f64| v as u8));
            px.push(255);
        }
    }
    px
}

/// Benchmark body for `run.mjs --bench`: `reps` runs of one pixel stage
/// over the 512 × 512 test picture on simd128 (`simd` ≠ 0) or scalar —
/// `stage` 0 luma, 1 threshold, 2 OKLab planes, 3 k-means assignment to 16
/// colours; returns a checksum (NaN on error).
#[unsafe(no_mangle)]
pub extern "C" fn vivace_pixel_stage(stage: u32, simd: u32, reps: u32) -> f32 {
    let px = test_picture();
    let Ok(raster) = RgbaRaster::new(PICTURE, PICTURE, &px) else {
        return f32::NAN;
    };
    let simd_kernel = SimdLevel::detect().and_then(|level| SimdPixels::new(level).ok());
    let kernel: &dyn PixelKernel = match &simd_kernel {
        Some(k) if simd != 0 => k,
        _ => &ScalarPixels,
    };
    let centroids: Vec<[f32; 3]> = (0..16)
        .map(|k| {
            let t = k as f32 / 15.0;
            [t, 0.2 * t - 0.1, 0.1 - 0.2 * t]
        })
        .collect();
    let (mut bytes, mut lab) = (Vec::new(), LabPlanes::default());
    let mut labels = vec![0u8; PICTURE * PICTURE];
    if kernel.oklab(&raster, &mut lab).is_err() {
        return f32::NAN;
    }
    let mut checksum = 0.0;
    for _ in 0..reps {
        let done = match stage {
            0 => kernel.luma(&raster, &mut bytes),
            1 => kernel.threshold(&raster, 128, &mut bytes),
            2 => kernel.oklab(&raster, &mut lab),
            _ => kernel.assign(&lab, None, &centroids, &mut labels),
        };
        if done.is_err() {
            return f32::NAN;
        }
        checksum += f32::from(bytes.last().copied().unwrap_or(labels[PICTURE]))
            + lab.l.last().copied().unwrap_or(0.0);
    }
    checksum
}

/// Benchmark body for `run.mjs --bench`: `reps` whole traces of the test
/// picture to SVG — `mode` 0 binary at luma 128, 1 colour with the
/// defaults (stacked) — with the pixel stages on simd128 (`simd` ≠ 0) or
/// scalar; returns the last SVG's length in bytes (NaN on error).
#[unsafe(no_mangle)]
pub extern "C" fn vivace_trace(mode: u32, simd: u32, reps: u32) -> f32 {
    let px = test_picture();
    let mode = if mode == 0 {
        Mode::Binary(BinaryOptions {
            threshold: Threshold::Fixed(128),
            ..BinaryOptions::default()
        })
    } else {
        Mode::Color(ColorOptions::default())
    };
    let preference = if simd != 0 {
        Preference::Simd
    } else {
        Preference::Scalar
    };
    let config = TracerConfig {
        mode,
        ..TracerConfig::default()
    };
    let Ok(tracer) = Tracer::new(config, preference) else {
        return f32::NAN;
    };
    let mut bytes = 0.0;
    for _ in 0..reps {
        match tracer.trace_to_svg(PICTURE, PICTURE, &px) {
            Ok((_, svg)) => bytes = svg.len() as f32,
            Err(_) => return f32::NAN,
        }
    }
    bytes
}

#[cfg(test)]
mod tests {
    #[test]
    fn benchmark_bodies_run() {
        for simd in [0, 1] {
            for stage in 0..4 {
                assert!(super::vivace_pixel_stage(stage, simd, 1).is_finite());
            }
            for mode in [0, 1] {
                assert!(super::vivace_trace(mode, simd, 1) > 1000.0);
            }
        }
    }

    #[test]
    fn every_host_simd_level_passes() {
        let failures = super::run_checks();
        let report = super::REPORT.lock().unwrap().clone();
        println!("{report}");
        assert_eq!(failures, 0, "{report}");
    }
}
