//! vivace-dsp against itself and its peers, all in one run:
//!
//! - biquad throughput (biquad-samples/s) for 8 / 32 / 256 / 1,024
//!   channels × 128 frames: `BiquadBank` scalar and SIMD, the `biquad` crate
//!   (0.6, `DirectForm2Transposed<f32>`, one filter per channel, per sample)
//!   and fundsp's `BiquadBank<f32x8>` (0.23, one bank per 8 channels, per
//!   frame), same coefficients (a 1 kHz RBJ peaking filter, +6 dB, Q 1),
//!   same interleaved noise;
//! - the mixer: 1,000 full strips (3 EQ bands, compressor, gain, pan,
//!   meters) per 128-frame block, throughput in stereo channel-samples/s
//!   (÷ 48,000 = channels in real time per core);
//! - denormals: the same mixer on noise, and on silence after a loud burst;
//! - offline rendering: 1,024 full strips in 4,096-frame blocks on every
//!   backend including the GPU (feature `gpu`, where an adapter exists —
//!   lavapipe here, a CPU: correctness, not speed);
//! - the GPU crossover (hardware adapters only): the best single-core SIMD
//!   kernel against the GPU on 64 … 16,384 strips × 4,096 frames.
//!
//! `cargo bench -p vivace-benches --bench dsp`

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main,
};
use vivace_backend::SimdLevel;
use vivace_benches::random_f32;
use vivace_dsp::{
    Bell, BiquadBank, Coefficients, CompressorSettings, FilterShape, Mixer, MixerConfig,
    ScalarStrips, Shelf, SimdStrips, StripKernel, StripSettings,
};

const FRAMES: usize = 128;

fn short_group<'c>(c: &'c mut Criterion, name: &str) -> BenchmarkGroup<'c, WallTime> {
    let mut group = c.benchmark_group(name);
    group
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20);
    group
}

fn biquads(c: &mut Criterion) {
    use biquad::Biquad as _;
    use fundsp::audionode::AudioNode as _;
    let design = Coefficients::design(
        FilterShape::Peaking { gain_db: 6.0 },
        48_000.0,
        1_000.0,
        1.0,
    )
    .unwrap();
    let [b0, b1, b2, a1, a2] = design.to_f32();
    let mut group = short_group(c, "biquad");
    for channels in [8usize, 32, 256, 1024] {
        let input = random_f32(channels * FRAMES, 7);
        let mut buf = copies_of(&input);
        group.throughput(Throughput::Elements((channels * FRAMES) as u64));
        let mut ours = vec![(
            "scalar".to_string(),
            BiquadBank::new(channels, vivace_backend::Preference::Scalar).unwrap(),
        )];
        for level in [SimdLevel::Avx2Fma, SimdLevel::Sse41] {
            if let Ok(bank) = BiquadBank::with_level(channels, level) {
                ours.push((format!("simd-{level}"), bank));
            }
        }
        for (name, bank) in &mut ours {
            bank.set_all(design);
            group.bench_function(BenchmarkId::new(name.as_str(), channels), |b| {
                filtering(b, &input, &mut buf, |buf| {
                    bank.process_interleaved(buf).unwrap()
                })
            });
        }
        // The `biquad` crate: one DF2T filter per channel, sample by sample.
        let coeffs = biquad::Coefficients { a1, a2, b0, b1, b2 };
        let mut filters: Vec<biquad::DirectForm2Transposed<f32>> = (0..channels)
            .map(|_| biquad::DirectForm2Transposed::<f32>::new(coeffs))
            .collect();
        group.bench_function(BenchmarkId::new("biquad-0.6", channels), |b| {
            filtering(b, &input, &mut buf, |buf| {
                for frame in buf.chunks_exact_mut(channels) {
                    for (x, f) in frame.iter_mut().zip(filters.iter_mut()) {
                        *x = f.run(*x);
                    }
                }
            })
        });
        // fundsp's BiquadBank<f32x8>: eight channels per bank, frame by frame.
        use fundsp::wide::f32x8;
        let fc = fundsp::biquad::BiquadCoefs::<f32x8>::arbitrary(
            f32x8::splat(a1),
            f32x8::splat(a2),
            f32x8::splat(b0),
            f32x8::splat(b1),
            f32x8::splat(b2),
        );
        let mut banks: Vec<fundsp::biquad_bank::BiquadBank<f32x8>> = (0..channels / 8)
            .map(|_| fundsp::biquad_bank::BiquadBank::with_coefs(fc))
            .collect();
        group.bench_function(BenchmarkId::new("fundsp-0.23-BiquadBank", channels), |b| {
            filtering(b, &input, &mut buf, |buf| {
                for frame in buf.chunks_exact_mut(channels) {
                    for (lanes, bank) in frame.chunks_exact_mut(8).zip(banks.iter_mut()) {
                        let y = bank.tick(fundsp::Frame::from_slice(lanes));
                        lanes.copy_from_slice(y.as_slice());
                    }
                }
            })
        });
    }
    group.finish();
}

/// Times `filter` on fresh copies of `input`, the copying untimed: the
/// +6 dB filter would grow a buffer filtered again and again without bound,
/// and the copy itself can cost more than the filtering (glibc's `rep
/// movsb` is slow on this AMD CPU when source and destination sit a few
/// bytes apart modulo 4 KiB, as two small heap buffers do), which in
/// earlier runs swamped every column at 32 and 256 channels.
///
/// `bufs` holds several copies (as many as fit [`COPY_BUDGET`]), filtered
/// one after another inside one timing, and the time is reported per
/// block: reading the clock costs ≈ 30 ns here, an eighth of an 8-channel
/// block, and timing one block at a time charged it to every column.
fn filtering(
    b: &mut criterion::Bencher<'_>,
    input: &[f32],
    bufs: &mut [f32],
    mut filter: impl FnMut(&mut [f32]),
) {
    let copies = (bufs.len() / input.len()) as u64;
    b.iter_custom(|iters| {
        let rounds = iters.div_ceil(copies);
        let mut spent = Duration::ZERO;
        for _ in 0..rounds {
            for buf in bufs.chunks_exact_mut(input.len()) {
                buf.copy_from_slice(input);
            }
            let start = Instant::now();
            for buf in bufs.chunks_exact_mut(input.len()) {
                filter(std::hint::black_box(buf));
            }
            spent += start.elapsed();
        }
        spent.mul_f64(iters as f64 / (rounds * copies) as f64)
    })
}

/// Bytes of buffer copies [`filtering`] times at once: four at 8 channels,
/// one from 32 on (more would push the copies and the input out of L1).
const COPY_BUDGET: usize = 16 << 10;

/// Room for as many copies of `input` as fit [`COPY_BUDGET`] (at least one).
fn copies_of(input: &[f32]) -> Vec<f32> {
    let copies = (COPY_BUDGET / size_of_val(input)).max(1);
    input.repeat(copies)
}

fn full_strip() -> StripSettings {
    let mut s = StripSettings {
        compressor: Some(CompressorSettings::default()),
        gain_db: -3.0,
        pan: 0.2,
        ..StripSettings::default()
    };
    s.eq.low_shelf = Some(Shelf::new(120.0, 3.0));
    s.eq.mid = Some(Bell {
        frequency: 1_500.0,
        gain_db: -4.0,
        q: 1.2,
    });
    s.eq.high_shelf = Some(Shelf::new(9_000.0, 2.0));
    s
}

fn kernels() -> Vec<(String, Box<dyn StripKernel>)> {
    let mut all: Vec<(String, Box<dyn StripKernel>)> =
        vec![("scalar".into(), Box::new(ScalarStrips))];
    for level in [SimdLevel::Avx2Fma, SimdLevel::Sse41] {
        if let Ok(k) = SimdStrips::new(level) {
            all.push((format!("simd-{level}"), Box::new(k)));
        }
    }
    all
}

/// `strips` full strips on `kernel`, for blocks of up to `max_block` frames.
fn mixer_with(kernel: Box<dyn StripKernel>, strips: usize, max_block: usize) -> Mixer {
    let config = MixerConfig::new(48_000.0, strips).with_max_block(max_block);
    let mut mixer = Mixer::with_kernel(config, kernel).unwrap();
    let settings = full_strip();
    for s in 0..strips {
        mixer.set_strip(s, &settings).unwrap();
    }
    mixer
}

fn mixer(c: &mut Criterion) {
    let strips = 1000;
    let input = random_f32(strips * 2 * FRAMES, 11);
    let (mut l, mut r) = (vec![0.0f32; FRAMES], vec![0.0f32; FRAMES]);
    let mut group = short_group(c, "mixer_1000_strips");
    group.throughput(Throughput::Elements((strips * FRAMES) as u64));
    for (name, kernel) in kernels() {
        let mut mixer = mixer_with(kernel, strips, FRAMES);
        group.bench_function(BenchmarkId::new(name.as_str(), FRAMES), |b| {
            b.iter(|| mixer.process(&input, &mut l, &mut r).unwrap())
        });
    }
    group.finish();
}

fn denormals(c: &mut Criterion) {
    let strips = 256;
    let noise = random_f32(strips * 2 * FRAMES, 13);
    let silence = vec![0.0f32; noise.len()];
    let (mut l, mut r) = (vec![0.0f32; FRAMES], vec![0.0f32; FRAMES]);
    let mut group = short_group(c, "denormals_256_strips");
    group.throughput(Throughput::Elements((strips * FRAMES) as u64));
    for (name, kernel) in kernels() {
        let mut mixer = mixer_with(kernel, strips, FRAMES);
        group.bench_function(BenchmarkId::new(format!("{name}/noise"), FRAMES), |b| {
            b.iter(|| mixer.process(&noise, &mut l, &mut r).unwrap())
        });
        // A loud burst, then ten seconds of silence so every filter and
        // envelope has decayed as far as it ever will, then measure silence.
        let loud: Vec<f32> = noise.iter().map(|x| x * 4.0).collect();
        for _ in 0..40 {
            mixer.process(&loud, &mut l, &mut r).unwrap();
        }
        for _ in 0..3750 {
            mixer.process(&silence, &mut l, &mut r).unwrap();
        }
        group.bench_function(
            BenchmarkId::new(format!("{name}/silence-after-burst"), FRAMES),
            |b| b.iter(|| mixer.process(&silence, &mut l, &mut r).unwrap()),
        );
    }
    group.finish();
}

fn render(c: &mut Criterion) {
    let (strips, block) = (1024, 4096);
    let input = random_f32(strips * 2 * block, 17);
    let (mut l, mut r) = (vec![0.0f32; block], vec![0.0f32; block]);
    let mut all = kernels();
    match vivace_dsp::GpuStrips::shared() {
        Ok(gpu) => all.push(("gpu".into(), Box::new(gpu))),
        Err(e) => eprintln!("render: no GPU kernel: {e}"),
    }
    let mut group = short_group(c, "render_1024_strips");
    group.sample_size(10);
    group.throughput(Throughput::Elements((strips * block) as u64));
    for (name, kernel) in all {
        eprintln!("render {name}: {}", kernel.name());
        let mut mixer = mixer_with(kernel, strips, block);
        group.bench_function(BenchmarkId::new(name.as_str(), block), |b| {
            b.iter(|| mixer.process(&input, &mut l, &mut r).unwrap())
        });
    }
    group.finish();
}

/// Where offline rendering on the GPU starts to pay: its parallelism is
/// the number of strips (each recurs in time), so the sweep is over strips.
/// Skipped on software adapters, whose timings say nothing about GPUs.
fn render_crossover(c: &mut Criterion) {
    match vivace_gpu_compute::GpuContext::shared() {
        Ok(ctx) if !ctx.adapter().is_software() => {}
        Ok(ctx) => {
            eprintln!(
                "render_crossover skipped: software adapter ({})",
                ctx.adapter().name
            );
            return;
        }
        Err(e) => {
            eprintln!("render_crossover skipped: {e}");
            return;
        }
    }
    let block = 4096;
    let mut group = short_group(c, "render_crossover");
    group.sample_size(10);
    for strips in [64usize, 256, 1024, 4096, 16384] {
        let input = random_f32(strips * 2 * block, 23);
        let (mut l, mut r) = (vec![0.0f32; block], vec![0.0f32; block]);
        let mut all: Vec<(String, Box<dyn StripKernel>)> = Vec::new();
        if let Some((name, best)) = kernels().into_iter().nth(1) {
            all.push((name, best));
        }
        if let Ok(gpu) = vivace_dsp::GpuStrips::shared() {
            all.push(("gpu".into(), Box::new(gpu)));
        }
        group.throughput(Throughput::Elements((strips * block) as u64));
        for (name, kernel) in all {
            let mut mixer = mixer_with(kernel, strips, block);
            group.bench_function(BenchmarkId::new(name.as_str(), strips), |b| {
                b.iter(|| mixer.process(&input, &mut l, &mut r).unwrap())
            });
        }
    }
    group.finish();
}

criterion_group!(benches, biquads, mixer, denormals, render, render_crossover);
criterion_main!(benches);
