//! The mixer: compressor against its static curve and time constants,
//! SIMD against scalar, meters, pan law and bad input.

use proptest::prelude::*;
use vivace_backend::{Preference, SimdLevel};
use vivace_dsp::{
    Bell, CompressorSettings, Error, Mixer, MixerConfig, ScalarStrips, Shelf, SimdStrips,
    StripKernel, StripSettings,
};

const FS: f64 = 48_000.0;

/// Every kernel this machine can run: scalar, each SIMD level and (feature
/// `gpu`) the GPU — which must exist under `VIVACE_REQUIRE_GPU=1`.
fn kernels() -> Vec<(String, Box<dyn StripKernel>)> {
    let mut all: Vec<(String, Box<dyn StripKernel>)> =
        vec![("scalar".into(), Box::new(ScalarStrips))];
    for level in SimdLevel::ALL {
        if let Ok(k) = SimdStrips::new(level) {
            all.push((level.to_string(), Box::new(k)));
        }
    }
    // Where the architecture has a SIMD kernel, it must be among them (a
    // silently missing level would leave it untested).
    let expected = if cfg!(any(target_arch = "x86", target_arch = "x86_64")) {
        Some(SimdLevel::Sse41)
    } else if cfg!(target_arch = "aarch64") {
        Some(SimdLevel::Neon)
    } else {
        None
    };
    if let Some(level) = expected {
        assert!(
            SimdStrips::new(level).is_ok(),
            "no {level} kernel on this machine"
        );
    }
    #[cfg(feature = "gpu")]
    if let Some(ctx) = vivace_gpu_compute::GpuContext::shared_or_skip("dsp mixer tests: GPU kernel")
    {
        all.push(("gpu".into(), Box::new(vivace_dsp::GpuStrips::new(ctx))));
    }
    all
}

/// Runs one strip on a constant (DC) stereo input of `level` for `frames`
/// and returns the left output per frame.
fn run_dc(kernel: Box<dyn StripKernel>, settings: &StripSettings, levels: &[f32]) -> Vec<f32> {
    let mut mixer =
        Mixer::with_kernel(MixerConfig::new(FS, 1).with_max_block(256), kernel).unwrap();
    mixer.set_strip(0, settings).unwrap();
    let mut out = Vec::with_capacity(levels.len());
    for chunk in levels.chunks(256) {
        let mut input = chunk.to_vec();
        input.extend_from_slice(chunk);
        let (mut l, mut r) = (vec![0.0; chunk.len()], vec![0.0; chunk.len()]);
        mixer.process(&input, &mut l, &mut r).unwrap();
        out.extend_from_slice(&l);
    }
    out
}

/// Centre pan is −3 dB per side; undo it so levels read directly.
fn unpanned() -> StripSettings {
    StripSettings {
        gain_db: 20.0 * 2f64.sqrt().log10(),
        ..StripSettings::default()
    }
}

#[test]
fn compressor_static_curve_within_0_01_db() {
    for (name, kernel_factory) in kernels().into_iter().map(|(n, _)| n).zip(0..) {
        for comp in [
            CompressorSettings {
                threshold_db: -20.0,
                ratio: 4.0,
                knee_db: 0.0,
                ..Default::default()
            },
            CompressorSettings {
                threshold_db: -12.0,
                ratio: 2.5,
                knee_db: 10.0,
                ..Default::default()
            },
            CompressorSettings {
                threshold_db: -30.0,
                ratio: f64::INFINITY,
                knee_db: 6.0,
                makeup_db: 6.0,
                ..Default::default()
            },
        ] {
            let settings = StripSettings {
                compressor: Some(comp),
                ..unpanned()
            };
            for x_db in [
                -50.0, -35.0, -25.0, -21.0, -18.0, -15.0, -12.0, -9.0, -6.0, -3.0, 0.0,
            ] {
                let level = 10f64.powf(x_db / 20.0) as f32;
                let kernel = kernels().remove(kernel_factory).1;
                let out = run_dc(kernel, &settings, &vec![level; 48_000]);
                let got = 20.0 * (*out.last().unwrap() as f64).log10();
                let expected = comp.static_curve_db(x_db) + comp.makeup_db;
                assert!(
                    (got - expected).abs() < 0.01,
                    "{name} {comp:?} at {x_db} dB: {got:.4} vs {expected:.4}"
                );
            }
        }
    }
}

#[test]
fn attack_and_release_time_constants_within_5_percent() {
    let comp = CompressorSettings {
        threshold_db: -20.0,
        ratio: 4.0,
        knee_db: 0.0,
        attack_ms: 5.0,
        release_ms: 50.0,
        makeup_db: 0.0,
    };
    let settings = StripSettings {
        compressor: Some(comp),
        ..unpanned()
    };
    // −40 dB (no reduction), a step to 0 dB (−15 dB final reduction), back.
    let quiet = 0.01f32;
    let loud = 1.0f32;
    let step_at = 4_800;
    let release_at = step_at + 24_000;
    let levels: Vec<f32> = (0..release_at + 48_000)
        .map(|n| {
            if (step_at..release_at).contains(&n) {
                loud
            } else {
                quiet
            }
        })
        .collect();
    for (name, kernel) in kernels() {
        let out = run_dc(kernel, &settings, &levels);
        let reduction = |n: usize| 20.0 * (out[n] as f64 / levels[n] as f64).log10();
        let target = 0.0 + (1.0 - (-1.0f64).exp()) * -15.0;
        let attack_frames = (step_at..release_at)
            .find(|&n| reduction(n) <= target)
            .unwrap()
            - step_at
            + 1;
        let attack_ms = attack_frames as f64 / FS * 1000.0;
        assert!(
            (attack_ms / 5.0 - 1.0).abs() < 0.05,
            "{name}: attack τ {attack_ms} ms"
        );
        let target = -15.0 * (-1.0f64).exp();
        let release_frames = (release_at..levels.len())
            .find(|&n| reduction(n) >= target)
            .unwrap()
            - release_at
            + 1;
        let release_ms = release_frames as f64 / FS * 1000.0;
        assert!(
            (release_ms / 50.0 - 1.0).abs() < 0.05,
            "{name}: release τ {release_ms} ms"
        );
    }
}

#[test]
fn constant_power_pan_and_mono() {
    let sine: Vec<f32> = (0..4_800).map(|n| (n as f32 * 0.05).sin() * 0.5).collect();
    for pan in [-1.0, -0.5, 0.0, 0.3, 1.0] {
        let mut mixer = Mixer::new(
            MixerConfig::new(FS, 1).with_max_block(4_800),
            Preference::Auto,
        )
        .unwrap();
        mixer
            .set_strip(
                0,
                &StripSettings {
                    pan,
                    ..Default::default()
                },
            )
            .unwrap();
        let mut input = sine.clone();
        input.extend_from_slice(&sine);
        let (mut l, mut r) = (vec![0.0; 4_800], vec![0.0; 4_800]);
        mixer.process(&input, &mut l, &mut r).unwrap();
        let power = |v: &[f32]| v.iter().map(|x| (*x as f64).powi(2)).sum::<f64>();
        let total = (power(&l) + power(&r)) / power(&sine);
        assert!((total - 1.0).abs() < 1e-5, "pan {pan}: total power {total}");
    }
    // Mono: a left-only signal ends up on both sides at half amplitude.
    let mut mixer = Mixer::scalar(MixerConfig::new(FS, 1)).unwrap();
    mixer
        .set_strip(
            0,
            &StripSettings {
                mono: true,
                ..unpanned()
            },
        )
        .unwrap();
    let mut input = vec![0.8f32; 128];
    input.extend(vec![0.0f32; 128]);
    let (mut l, mut r) = (vec![0.0; 128], vec![0.0; 128]);
    mixer.process(&input, &mut l, &mut r).unwrap();
    assert!(
        (l[100] - 0.4).abs() < 1e-6 && (r[100] - 0.4).abs() < 1e-6,
        "{} {}",
        l[100],
        r[100]
    );
}

#[test]
fn meters_read_peak_and_rms() {
    let frames = 4_800; // one 100 ms window
    let sine: Vec<f32> = (0..frames)
        .map(|n| (2.0 * std::f64::consts::PI * 1_000.0 * n as f64 / FS).sin() as f32 * 0.5)
        .collect();
    for (name, kernel) in kernels() {
        let mut mixer = Mixer::with_kernel(MixerConfig::new(FS, 3), kernel).unwrap();
        mixer.set_strip(1, &unpanned()).unwrap();
        let mut done = 0;
        while done < frames {
            let n = 128.min(frames - done);
            let mut input = vec![0.0f32; 3 * 2 * n];
            for i in 0..n {
                let v = sine[done + i];
                input[2 * n + i] = v;
                input[3 * n + i] = v * 0.5;
            }
            let (mut l, mut r) = (vec![0.0; n], vec![0.0; n]);
            mixer.process(&input, &mut l, &mut r).unwrap();
            done += n;
        }
        let m = mixer.meters(1).unwrap();
        let peak = 20.0 * 0.5f32.log10();
        let rms = 20.0 * (0.5f32 / 2f32.sqrt()).log10();
        assert!((m.peak_db[0] - peak).abs() < 0.01, "{name}: {m:?}");
        assert!((m.rms_db[0] - rms).abs() < 0.01, "{name}: {m:?}");
        assert!((m.rms_db[1] - (rms - 6.0206)).abs() < 0.01, "{name}: {m:?}");
        assert!(mixer.meters(0).unwrap().peak_db[0] < -200.0);
        assert_eq!(m.gain_reduction_db, 0.0);
    }
}

#[test]
fn bad_input_is_a_typed_error_and_keeps_settings() {
    let mut mixer = Mixer::new(MixerConfig::new(FS, 2), Preference::Auto).unwrap();
    assert!(matches!(
        mixer.set_strip(2, &StripSettings::default()),
        Err(Error::IndexOutOfRange { .. })
    ));
    let bad_pan = StripSettings {
        pan: 1.5,
        ..Default::default()
    };
    assert!(matches!(
        mixer.set_strip(0, &bad_pan),
        Err(Error::InvalidParameter { name: "pan", .. })
    ));
    let bad_eq = StripSettings {
        eq: vivace_dsp::EqSettings {
            mid: Some(Bell {
                frequency: 30_000.0,
                gain_db: 3.0,
                q: 1.0,
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    assert!(matches!(
        mixer.set_strip(0, &bad_eq),
        Err(Error::InvalidParameter {
            name: "frequency",
            ..
        })
    ));
    let bad_ratio = StripSettings {
        compressor: Some(CompressorSettings {
            ratio: 0.5,
            ..Default::default()
        }),
        ..Default::default()
    };
    assert!(mixer.set_strip(0, &bad_ratio).is_err());
    let (mut l, mut r) = (vec![0.0; 129], vec![0.0; 129]);
    assert!(matches!(
        mixer.process(&vec![0.0; 4 * 129], &mut l, &mut r),
        Err(Error::BlockTooLong { .. })
    ));
    let (mut l, mut r) = (vec![0.0; 64], vec![0.0; 63]);
    assert!(matches!(
        mixer.process(&vec![0.0; 4 * 64], &mut l, &mut r),
        Err(Error::LengthMismatch { .. })
    ));
    let mut r = vec![0.0; 64];
    assert!(matches!(
        mixer.process(&vec![0.0; 3 * 64], &mut l, &mut r),
        Err(Error::LengthMismatch { .. })
    ));
    assert!(Mixer::new(MixerConfig::new(FS, 0), Preference::Auto).is_err());
    assert!(Mixer::new(MixerConfig::new(-1.0, 2), Preference::Auto).is_err());
    // The strip still passes audio with its earlier (default) settings.
    let input = vec![0.5f32; 4 * 64];
    mixer.process(&input, &mut l, &mut r).unwrap();
    assert!(
        (l[10] - 0.5 * std::f32::consts::FRAC_1_SQRT_2 * 2.0).abs() < 1e-6,
        "{}",
        l[10]
    );
}

fn random_settings(seed: u64) -> StripSettings {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut s = StripSettings::default();
    if next() < 0.7 {
        s.eq.low_shelf = Some(Shelf::new(40.0 + 400.0 * next(), -15.0 + 30.0 * next()));
    }
    if next() < 0.7 {
        s.eq.mid = Some(Bell {
            frequency: 200.0 + 6_000.0 * next(),
            gain_db: -15.0 + 30.0 * next(),
            q: 0.3 + 4.0 * next(),
        });
    }
    if next() < 0.7 {
        s.eq.high_shelf = Some(Shelf::new(
            2_000.0 + 15_000.0 * next(),
            -15.0 + 30.0 * next(),
        ));
    }
    if next() < 0.7 {
        s.compressor = Some(CompressorSettings {
            threshold_db: -40.0 * next(),
            ratio: 1.0 + 10.0 * next(),
            knee_db: 12.0 * next(),
            attack_ms: 0.1 + 30.0 * next(),
            release_ms: 5.0 + 300.0 * next(),
            makeup_db: 12.0 * next(),
        });
    }
    s.gain_db = -24.0 + 30.0 * next();
    s.pan = -1.0 + 2.0 * next();
    s.mono = next() < 0.3;
    s
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Tolerance: 1e-5 relative, or 1e-5 absolute (−100 dBFS), against the
    /// sum of the strips' output magnitudes at the bus (the filters are
    /// bit-identical across backends; the compressor's log/exp and the
    /// summation order differ).
    /// Blocks reach past 128 frames, so the SIMD kernels' passes over
    /// chunks of 128 frames run more than once per block.
    #[test]
    fn backends_match_scalar(strips in 1usize..40, seed in any::<u64>(), blocks in prop::collection::vec(1usize..=300, 1..12)) {
        let config = MixerConfig::new(FS, strips).with_meter_window(300).with_max_block(300);
        let settings: Vec<StripSettings> = (0..strips as u64).map(|s| random_settings(seed ^ s)).collect();
        let retuned: Vec<StripSettings> = (0..strips as u64).map(|s| random_settings(!seed ^ s)).collect();
        let mut rng = seed | 1;
        let mut noise = move || { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; ((rng >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0 };
        let inputs: Vec<Vec<f32>> = blocks.iter().map(|&n| (0..strips * 2 * n).map(|_| noise()).collect()).collect();
        let mut results = Vec::new();
        for (name, kernel) in kernels() {
            let mut mixer = Mixer::with_kernel(config, kernel).unwrap();
            for (i, s) in settings.iter().enumerate() { mixer.set_strip(i, s).unwrap(); }
            let mut out = Vec::new();
            for (b, input) in inputs.iter().enumerate() {
                if b == blocks.len() / 2 {
                    for (i, s) in retuned.iter().enumerate() { mixer.set_strip(i, s).unwrap(); }
                }
                let n = blocks[b];
                let (mut l, mut r) = (vec![0.0; n], vec![0.0; n]);
                mixer.process(input, &mut l, &mut r).unwrap();
                out.extend(l.into_iter().zip(r));
            }
            let meters: Vec<_> = (0..strips).map(|i| mixer.meters(i).unwrap()).collect();
            results.push((name, out, meters));
        }
        let (_, reference, ref_meters) = &results[0];
        // Scale: strips × the loudest reference sample (gains reach +30 dB).
        let scale = reference.iter().fold(1.0f32, |m, (l, r)| m.max(l.abs()).max(r.abs())) * strips as f32;
        for (name, out, meters) in &results[1..] {
            for (i, (a, b)) in out.iter().zip(reference).enumerate() {
                prop_assert!((a.0 - b.0).abs() <= 1e-5 * scale && (a.1 - b.1).abs() <= 1e-5 * scale,
                    "{name} frame {i}: {a:?} vs {b:?} (scale {scale})");
            }
            for (m, r) in meters.iter().zip(ref_meters) {
                for side in 0..2 {
                    prop_assert!((m.peak_db[side] - r.peak_db[side]).abs() < 1e-3 || r.peak_db[side] < -100.0, "{name} {m:?} vs {r:?}");
                    prop_assert!((m.rms_db[side] - r.rms_db[side]).abs() < 1e-3 || r.rms_db[side] < -100.0, "{name} {m:?} vs {r:?}");
                }
                prop_assert!((m.gain_reduction_db - r.gain_reduction_db).abs() < 1e-3, "{name} {m:?} vs {r:?}");
            }
        }
    }
}

/// The GPU kernel's slicing and chunked bus: 150 strips (three chunks of
/// the partial bus sum, the last one short) through calls cut into slices
/// of 7 frames, each slice's frames packed and uploaded on their own (a
/// meter window also splits a block), against scalar at the proptest's
/// tolerance. (Whole blocks in one slice, uploaded as they are, are what
/// `backends_match_scalar` runs.)
#[cfg(feature = "gpu")]
#[test]
fn gpu_slices_and_chunked_bus_match_scalar() {
    let Some(ctx) = vivace_gpu_compute::GpuContext::shared_or_skip("dsp GPU slicing test") else {
        return;
    };
    let strips = 150;
    let config = MixerConfig::new(FS, strips)
        .with_max_block(96)
        .with_meter_window(160);
    let gpu = vivace_dsp::GpuStrips::new(ctx).with_slice_floats(strips * 2 * 7);
    let kernels: [Box<dyn StripKernel>; 2] = [Box::new(ScalarStrips), Box::new(gpu)];
    let mut outputs = Vec::new();
    for kernel in kernels {
        let mut mixer = Mixer::with_kernel(config, kernel).unwrap();
        for s in 0..strips {
            mixer
                .set_strip(s, &random_settings(s as u64 * 7919 + 1))
                .unwrap();
        }
        let mut out = Vec::new();
        for (b, n) in [96usize, 96, 50, 96].into_iter().enumerate() {
            let input = vivace_dsp::signals::white_noise(b as u64 + 3, 0.5, strips * 2 * n);
            let (mut l, mut r) = (vec![0.0; n], vec![0.0; n]);
            mixer.process(&input, &mut l, &mut r).unwrap();
            out.extend(l.into_iter().zip(r));
        }
        outputs.push(out);
    }
    let scale = outputs[0]
        .iter()
        .fold(1.0f32, |m, (l, r)| m.max(l.abs()).max(r.abs()))
        * strips as f32;
    for (i, (g, s)) in outputs[1].iter().zip(&outputs[0]).enumerate() {
        assert!(
            (g.0 - s.0).abs() <= 1e-5 * scale && (g.1 - s.1).abs() <= 1e-5 * scale,
            "frame {i}: gpu {g:?} vs scalar {s:?} (scale {scale})"
        );
    }
}

#[test]
fn selection_and_calibration_include_the_gpu_only_where_they_should() {
    use vivace_backend::BackendKind;
    use vivace_dsp::select_strip_kernel;
    let config = MixerConfig::new(FS, 24).with_max_block(512);
    // Auto never takes the GPU without measuring, and says why.
    let auto = select_strip_kernel(Preference::Auto, &config).unwrap();
    assert_ne!(auto.kind, BackendKind::Gpu);
    assert!(
        auto.skipped[0]
            .to_string()
            .contains("calibrate_strip_kernel")
    );
    match select_strip_kernel(Preference::Gpu, &config) {
        Ok(s) => assert_eq!(s.kind, BackendKind::Gpu),
        Err(e) => assert!(
            !cfg!(feature = "gpu") || !vivace_gpu_compute::gpu_required(),
            "VIVACE_REQUIRE_GPU=1 but: {e}"
        ),
    }
    // Calibration times every backend and keeps one; the others are
    // listed with their timings.
    let mixer = Mixer::calibrated(config, Preference::Auto).unwrap();
    let timed = mixer
        .skipped()
        .iter()
        .filter(|u| u.to_string().contains("measured slower"))
        .count();
    assert!(timed >= 1, "{:?}", mixer.skipped());
    if cfg!(feature = "gpu") && vivace_gpu_compute::gpu_required() {
        let gpu_timed = mixer.backend() == BackendKind::Gpu
            || mixer
                .skipped()
                .iter()
                .any(|u| u.kind == BackendKind::Gpu && u.to_string().contains("measured"));
        assert!(gpu_timed, "{:?}", mixer.skipped());
    }
    println!(
        "calibrated: {} ({:?})",
        mixer.backend_name(),
        mixer.skipped()
    );
}
