//! The vivace tour: what this machine offers, what each backend preference
//! resolves to and why, and a short real workload from every crate that
//! has landed.
//!
//! ```text
//! cargo run --release --example tour
//! VIVACE_BACKEND=scalar cargo run --release --example tour
//! ```
//!
//! A forced backend (`VIVACE_BACKEND=gpu|simd|scalar`) that is unavailable
//! ends the tour with a one-line reason and exit code 2.

use std::sync::Arc;
use std::time::{Duration, Instant};

use vivace_backend::{
    Backend, BackendKind, Candidate, CapabilityReport, Preference, SimdLevel, Unavailable, select,
};
use vivace_examples::{exit_usage, format_rate, or_exit};
use vivace_gpu_compute::GpuContext;
use vivace_gpu_compute::kernels::{GpuKernels, ReduceOp, select_kernels};

/// The standard chain every vivace crate walks: GPU, SIMD best first, scalar.
fn standard_chain<'a>() -> Vec<Candidate<'a, BackendKind>> {
    let mut chain = vec![Candidate::new(BackendKind::Gpu, || {
        GpuContext::shared()
            .map(|_| BackendKind::Gpu)
            .map_err(|e| e.unavailable())
    })];
    for level in SimdLevel::ALL {
        let kind = BackendKind::Simd(level);
        chain.push(Candidate::new(kind, move || {
            match level.unavailable_reason() {
                None => Ok(kind),
                Some(reason) => Err(Unavailable::new(kind, reason)),
            }
        }));
    }
    chain.push(Candidate::new(BackendKind::Scalar, || {
        Ok(BackendKind::Scalar)
    }));
    chain
}

/// Median wall time of `runs` calls of `f` after one warm-up call.
fn median_time(runs: usize, mut f: impl FnMut()) -> Duration {
    f();
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}

fn gb_per_s(bytes: usize, time: Duration) -> String {
    format_rate(bytes as f64 / time.as_secs_f64(), "B/s")
}

fn main() {
    let preference = or_exit(Preference::from_env(), Preference::ENV_VAR);

    println!("vivace tour\n");
    let mut report = CapabilityReport::detect();
    GpuContext::add_to_report(&mut report);
    println!("capability report:\n{report}\n");

    println!(
        "what each preference can run on here (standard chain: gpu, simd best first, scalar;\neach crate then picks within it for its own workload, as shown below):"
    );
    for candidate_preference in [
        Preference::Auto,
        Preference::Scalar,
        Preference::Simd,
        Preference::Gpu,
    ] {
        match select(candidate_preference, standard_chain()) {
            Ok(selection) => {
                println!(
                    "  {:<6} -> {}",
                    candidate_preference.as_str(),
                    selection.kind
                );
                // Candidates a forced preference excludes are noise here;
                // show only the ones that were tried and failed.
                for why in selection
                    .skipped
                    .iter()
                    .filter(|u| candidate_preference.admits(u.kind))
                {
                    println!("             skipped {why}");
                }
            }
            Err(e) => println!("  {:<6} -> error: {e}", candidate_preference.as_str()),
        }
    }

    if let Err(e) = select(preference, standard_chain()) {
        exit_usage(format_args!("{}={preference}: {e}", Preference::ENV_VAR));
    }
    println!("\nthis run: VIVACE_BACKEND={preference}");

    generic_kernels(preference);
    dsp(preference);
    particles(preference);
    market(preference);
    vectorize(preference);
    governors();
}

/// vivace-vectorize: a built-in synthetic image traced in binary and
/// cutout colour mode, with time and quality.
fn vectorize(preference: Preference) {
    use vivace_vectorize::color::{ColorOptions, Layering};
    use vivace_vectorize::quality::{measure, render_svg, seam_pixels};
    use vivace_vectorize::tracer::{Mode, Tracer, TracerConfig};
    use vivace_vectorize::{RgbaRaster, binary::BinaryOptions};

    const SIZE: usize = 512;
    println!("\n== vivace-vectorize: a {SIZE}×{SIZE} synthetic drawing (rendered from SVG) ==");
    let art = r##"<svg xmlns="http://www.w3.org/2000/svg" width="512" height="512">
<rect width="512" height="512" fill="#f4f1de"/>
<circle cx="150" cy="150" r="100" fill="#e07a5f"/><circle cx="150" cy="150" r="45" fill="#f4f1de"/>
<rect x="290" y="70" width="150" height="150" fill="#3d405b" transform="rotate(20 365 145)"/>
<path d="M256 270 L286 350 L370 352 L304 402 L328 484 L256 436 L184 484 L208 402 L142 352 L226 350 Z" fill="#81b29a"/>
<path d="M360 300 C420 250 500 320 470 380 C450 430 380 470 350 420 C320 380 320 330 360 300 Z" fill="#f2cc8f"/>
</svg>"##;
    let pixels = or_exit(render_svg(art, SIZE, SIZE), "synthetic image");
    let raster = or_exit(RgbaRaster::new(SIZE, SIZE, &pixels), "synthetic image");
    for (label, mode) in [
        ("binary (Otsu)", Mode::Binary(BinaryOptions::default())),
        (
            "colour, cutout",
            Mode::Color(ColorOptions {
                layering: Layering::Cutout,
                ..ColorOptions::default()
            }),
        ),
    ] {
        let config = TracerConfig {
            mode,
            ..TracerConfig::default()
        };
        let tracer = match Tracer::new(config, preference) {
            Ok(t) => t,
            Err(e) => {
                println!("  {label}: {e}");
                continue;
            }
        };
        let mut svg = String::new();
        let mut vector = None;
        let time = median_time(5, || {
            let v = or_exit(tracer.trace_raster(&raster), "trace");
            svg = or_exit(v.to_svg(&config.svg), "svg");
            vector = Some(v);
        });
        let vector = vector.expect("traced at least once");
        let q = or_exit(measure(&raster, &vector, &svg), "quality");
        let seams = match mode {
            Mode::Color(_) => format!(
                ", background showing through: {} px",
                or_exit(seam_pixels(&svg, SIZE, SIZE), "quality")
            ),
            _ => String::new(),
        };
        println!(
            "  {label} on {}: {:.1} ms, {} paths, {} segments, {} bytes; PSNR {:.2} dB, SSIM {:.4}, mismatch {:.3} %{seams}",
            tracer.backend_name(),
            time.as_secs_f64() * 1e3,
            q.paths,
            q.segments,
            q.bytes,
            q.psnr_db,
            q.ssim,
            q.mismatch_percent
        );
    }
}

/// vivace-market-shm: writer update rate, reader latency, indicators.
fn market(preference: Preference) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use vivace_market_shm::indicators::{
        IndicatorParams, IndicatorSeries, KlineHistory, select_indicator_kernel,
    };
    use vivace_market_shm::{
        Kline, LayoutConfig, Reader, Region, Ticker, TickerField, WaitMode, Writer, monotonic_nanos,
    };

    println!(
        "\n== vivace-market-shm: the origin's layout (100 symbols, 6 intervals × 1,440 klines) =="
    );
    let region = Region::in_memory(LayoutConfig::default()).unwrap_or_else(|e| exit_usage(e));
    println!("  region: {} bytes", region.layout().total_size());
    let mut writer = Writer::attach(Arc::clone(&region)).unwrap_or_else(|e| exit_usage(e));
    const WRITES: u64 = 2_000_000;
    let mut t = Ticker::default();
    let start = Instant::now();
    for i in 0..WRITES {
        t.set(TickerField::Last, i as f64);
        writer
            .write_ticker((i % 100) as usize, &t)
            .unwrap_or_else(|e| exit_usage(e));
    }
    let each = start.elapsed().as_secs_f64() / WRITES as f64;
    println!(
        "  writer, no reader: {:.1} ns per ticker write incl. notification = {}",
        each * 1e9,
        format_rate(1.0 / each, "updates/s")
    );

    // Write-to-observe latency: a reader thread spins on the update counter
    // and reads the stamped ticker; the writer waits for it before the next.
    let reader = Reader::attach(Arc::clone(&region));
    let done = Arc::new(AtomicBool::new(false));
    let seen_flag = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let watcher = {
        let (done, seen_flag) = (Arc::clone(&done), Arc::clone(&seen_flag));
        std::thread::spawn(move || {
            let mut latencies = Vec::new();
            let mut count = reader.update_count();
            while !done.load(Ordering::Relaxed) {
                match reader.wait_for_update(count, Duration::from_millis(50), WaitMode::Spin) {
                    Ok(now) => count = now,
                    Err(_) => continue,
                }
                if let Ok(t) = reader.ticker(0) {
                    latencies.push(
                        monotonic_nanos().saturating_sub(t.get(TickerField::Timestamp) as u64),
                    );
                }
                seen_flag.store(count, Ordering::Release);
            }
            latencies
        })
    };
    for _ in 0..20_000 {
        let mut t = Ticker::default();
        t.set(TickerField::Timestamp, monotonic_nanos() as f64);
        writer.write_ticker(0, &t).unwrap_or_else(|e| exit_usage(e));
        let target = writer.update_count();
        let deadline = Instant::now() + Duration::from_millis(100);
        while seen_flag.load(Ordering::Acquire) < target && Instant::now() < deadline {
            std::hint::spin_loop();
        }
    }
    done.store(true, Ordering::Relaxed);
    let mut latencies = watcher.join().unwrap_or_default();
    latencies.sort_unstable();
    if !latencies.is_empty() {
        println!(
            "  reader thread spinning: write-to-observe p50 {} ns, p99 {} ns ({} samples)",
            latencies[latencies.len() / 2],
            latencies[latencies.len() * 99 / 100],
            latencies.len()
        );
    }

    // Indicators over every symbol × interval, recomputed in bulk.
    let (series, len) = (600, 1_440);
    let mut history = KlineHistory::zeroed(series, len);
    let mut price = vec![100.0f64; series];
    for t in 0..len {
        for (s, p) in price.iter_mut().enumerate() {
            *p *= 1.0 + 0.001 * (((t * 31 + s * 17) % 13) as f64 - 6.0) / 6.0;
            let k = Kline {
                open_time: t as f64,
                open: *p,
                high: *p * 1.001,
                low: *p * 0.999,
                close: *p,
                volume: 1.0 + (s % 7) as f64,
            };
            history.set(t, s, &k);
        }
    }
    let selection = select_indicator_kernel(preference, series * len)
        .unwrap_or_else(|e| exit_usage(format_args!("indicators: {e}")));
    println!("  indicators chosen: {}", selection.backend.name());
    for why in selection
        .skipped
        .iter()
        .filter(|u| preference.admits(u.kind))
    {
        println!("    skipped {why}");
    }
    let mut kernel = selection.backend;
    let mut out = IndicatorSeries::default();
    let time = median_time(5, || {
        kernel
            .compute(&IndicatorParams::default(), &history, &mut out)
            .unwrap_or_else(|e| exit_usage(e));
    });
    println!(
        "  SMA, EMA, RSI, Bollinger, VWAP for {series} series × {len} klines: {:.2} ms ({})",
        time.as_secs_f64() * 1e3,
        format_rate((series * len) as f64 / time.as_secs_f64(), "klines/s")
    );
}

fn dsp(preference: Preference) {
    use vivace_dsp::{Bell, CompressorSettings, Mixer, MixerConfig, Shelf, StripSettings};

    const STRIPS: usize = 1000;
    const BLOCK: usize = 128;
    let budget_ms = BLOCK as f64 / 48_000.0 * 1000.0;
    println!(
        "\n== vivace-dsp: {STRIPS}-strip mixer, 48 kHz, {BLOCK}-frame blocks ({budget_ms:.2} ms each) =="
    );
    let mut mixer = Mixer::new(MixerConfig::new(48_000.0, STRIPS), preference)
        .unwrap_or_else(|e| exit_usage(format_args!("mixer: {e}")));
    println!("chosen: {}", mixer.backend_name());
    for why in mixer.skipped().iter().filter(|u| preference.admits(u.kind)) {
        println!("  skipped {why}");
    }
    let mut strip = StripSettings {
        compressor: Some(CompressorSettings::default()),
        pan: 0.2,
        ..StripSettings::default()
    };
    strip.eq.low_shelf = Some(Shelf::new(120.0, 3.0));
    strip.eq.mid = Some(Bell {
        frequency: 1_500.0,
        gain_db: -4.0,
        q: 1.2,
    });
    strip.eq.high_shelf = Some(Shelf::new(9_000.0, 2.0));
    for s in 0..STRIPS {
        mixer.set_strip(s, &strip).unwrap_or_else(|e| exit_usage(e));
    }
    let mut pink = vivace_dsp::signals::PinkNoise::new(3);
    let mut input = vec![0.0f32; STRIPS * 2 * BLOCK];
    pink.fill(&mut input);
    let (mut left, mut right) = (vec![0.0f32; BLOCK], vec![0.0f32; BLOCK]);
    let time = median_time(50, || {
        mixer
            .process(&input, &mut left, &mut right)
            .unwrap_or_else(|e| exit_usage(e));
    });
    let ms = time.as_secs_f64() * 1000.0;
    println!(
        "  every strip: 3 EQ bands, compressor, gain, pan, meters: {ms:.3} ms per block = {:.1}% of the block period, {:.0} strips in real time on this core",
        ms / budget_ms * 100.0,
        STRIPS as f64 * budget_ms / ms
    );
    let meters = mixer.meters(0).unwrap_or_else(|e| exit_usage(e));
    println!(
        "  strip 0 meters: peak {:.1} / {:.1} dBFS, RMS {:.1} / {:.1} dBFS, gain reduction {:.1} dB",
        meters.peak_db[0],
        meters.peak_db[1],
        meters.rms_db[0],
        meters.rms_db[1],
        meters.gain_reduction_db
    );
}

/// vivace-particles: N-body steps on the chosen backend and a field update.
fn particles(preference: Preference) {
    use vivace_particles::field::{FieldMode, FieldParams, ParticleField};
    use vivace_particles::{Gravity, Simulation, ic, select_direct};

    const BODIES: usize = 4096;
    println!("\n== vivace-particles: {BODIES}-body Plummer sphere, direct sum, leapfrog ==");
    let selection = select_direct(preference, BODIES)
        .unwrap_or_else(|e| exit_usage(format_args!("n-body: {e}")));
    println!("chosen: {}", selection.backend.name());
    for why in selection
        .skipped
        .iter()
        .filter(|u| preference.admits(u.kind))
    {
        println!("  skipped {why}");
    }
    let bodies = ic::plummer(BODIES, 1).unwrap_or_else(|e| exit_usage(e));
    let gravity = Gravity::new(1.0, 0.05).unwrap_or_else(|e| exit_usage(e));
    let mut sim =
        Simulation::new(bodies, selection.backend, gravity).unwrap_or_else(|e| exit_usage(e));
    let steps = 20;
    let time = median_time(3, || {
        sim.run(steps, 1.0 / 512.0)
            .unwrap_or_else(|e| exit_usage(e));
    });
    let per_step = time.as_secs_f64() / steps as f64;
    println!(
        "  {:.1} steps/s, {}",
        1.0 / per_step,
        format_rate((BODIES * BODIES) as f64 / per_step, "interactions/s")
    );

    const PARTICLES: usize = 1_000_000;
    let mut field = ParticleField::random(PARTICLES, 1).unwrap_or_else(|e| exit_usage(e));
    println!(
        "particle field, {PARTICLES} particles on {} threads:",
        rayon_threads()
    );
    for mode in [
        FieldMode::Wave,
        FieldMode::Swirl,
        FieldMode::Orbit,
        FieldMode::Physics,
    ] {
        let params = FieldParams {
            mode,
            ..FieldParams::default()
        };
        let mut t = 0.0;
        let time = median_time(5, || {
            t += 1.0 / 60.0;
            field
                .update(&params, t, 1.0 / 60.0)
                .unwrap_or_else(|e| exit_usage(e));
        });
        println!(
            "  {:<8} {:>16}  ({:?} per frame)",
            format!("{mode:?}"),
            format_rate(PARTICLES as f64 / time.as_secs_f64(), "particles/s"),
            time
        );
    }
}

fn rayon_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// vivace-perf-adapt: the default governor against the origin's step rule
/// on the standard simulated scenarios.
fn governors() {
    use vivace_perf_adapt::sim::{Scenario, simulate};
    use vivace_perf_adapt::{BudgetConfig, BudgetGovernor, QualityBounds, StepGovernor};

    println!(
        "\n== vivace-perf-adapt: quality governors on simulated loads (60 FPS, 600 frames) =="
    );
    println!(
        "{:<10} {:<8} {:>8} {:>8} {:>8} {:>9} {:>10} {:>9}",
        "scenario", "governor", "over %", "oracle%", "p99 ms", "quality", "reversals", "settle"
    );
    for scenario in Scenario::standard() {
        let config = BudgetConfig::new(scenario.target_fps);
        let mut default = BudgetGovernor::new(config).unwrap_or_else(|e| exit_usage(e));
        let mut step = StepGovernor::new(scenario.target_fps).unwrap_or_else(|e| exit_usage(e));
        for (name, scores) in [
            (
                "default",
                simulate(
                    &scenario,
                    &mut default,
                    config.headroom,
                    QualityBounds::default(),
                )
                .scores,
            ),
            (
                "step",
                simulate(
                    &scenario,
                    &mut step,
                    config.headroom,
                    QualityBounds::default(),
                )
                .scores,
            ),
        ] {
            println!(
                "{:<10} {:<8} {:>8.1} {:>8.1} {:>8.2} {:>9.3} {:>10} {:>9}",
                scenario.name,
                name,
                scores.over_budget_pct,
                scores.oracle_over_budget_pct,
                scores.p99_ms,
                scores.mean_quality,
                scores.reversals,
                format!("{:?}", scores.settle_frames),
            );
        }
    }
    println!("(quality is the mean; the oracle knows the load and keeps the same 10% headroom)");
}

/// vivace-gpu-compute: axpy and sum on the chosen CPU/GPU backend, and on
/// the GPU with device-resident buffers.
fn generic_kernels(preference: Preference) {
    const LEN: usize = 1 << 22;
    println!("\n== vivace-gpu-compute: generic kernels, {LEN} f32 values ==");
    let selection = select_kernels(preference)
        .unwrap_or_else(|e| exit_usage(format_args!("generic kernels: {e}")));
    println!("chosen: {}", selection.backend.name());
    for why in selection
        .skipped
        .iter()
        .filter(|u| preference.admits(u.kind))
    {
        println!("  skipped {why}");
    }
    let mut kernels = selection.backend;
    let x: Vec<f32> = (0..LEN).map(|i| (i % 101) as f32 * 0.01).collect();
    let mut y = vec![0.5f32; LEN];
    let axpy = median_time(5, || {
        kernels
            .axpy(1e-3, &x, &mut y)
            .unwrap_or_else(|e| exit_usage(e))
    });
    let mut sum = 0.0;
    let reduce = median_time(5, || {
        sum = kernels.sum(&x).unwrap_or_else(|e| exit_usage(e));
    });
    let where_ = if kernels.kind() == BackendKind::Gpu {
        " (host slices: includes upload and readback)"
    } else {
        ""
    };
    println!(
        "  axpy  {:>12}  ({:?}){where_}",
        gb_per_s(12 * LEN, axpy),
        axpy
    );
    println!(
        "  sum   {:>12}  ({:?}) = {sum}",
        gb_per_s(4 * LEN, reduce),
        reduce
    );

    let Ok(ctx) = GpuContext::shared() else {
        println!("  gpu: not available, skipped");
        return;
    };
    let gpu = GpuKernels::new(Arc::clone(&ctx));
    let (Ok(gx), Ok(gy)) = (ctx.upload(&x), ctx.upload(&y)) else {
        println!("  gpu: could not upload {LEN} values, skipped");
        return;
    };
    let mut timings = Vec::new();
    for _ in 0..5 {
        let mut rec = ctx.record_timed();
        let axpy = gpu
            .record_axpy(&mut rec, 1e-3, &gx, &gy)
            .and_then(|()| rec.submit_and_wait());
        let mut rec = ctx.record_timed();
        let reduce = gpu
            .record_reduce(&mut rec, ReduceOp::Sum, &gx)
            .and_then(|_result| rec.submit_and_wait());
        match (axpy, reduce) {
            (Ok(a), Ok(r)) => timings.push((a, r)),
            (Err(e), _) | (_, Err(e)) => {
                println!("  gpu: {e}");
                return;
            }
        }
    }
    timings.sort_by_key(|(a, _)| a.duration);
    let (axpy, _) = timings[timings.len() / 2];
    timings.sort_by_key(|(_, r)| r.duration);
    let (_, reduce) = timings[timings.len() / 2];
    println!("on the GPU, device-resident ({}):", ctx.adapter().name);
    println!(
        "  axpy  {:>12}  ({axpy})",
        gb_per_s(12 * LEN, axpy.duration)
    );
    println!(
        "  sum   {:>12}  ({reduce})",
        gb_per_s(4 * LEN, reduce.duration)
    );
    if ctx.adapter().is_software() {
        println!(
            "  (a software adapter: these numbers are CPU numbers, shown for correctness only)"
        );
    }
}
