//! A headless frame loop doing real vivace-particles work (a particle-field
//! update on all cores), with a quality governor adapting the particle
//! count to a target frame time. Halfway through, the scene switches to a
//! costlier animation mode: a load step the governor must absorb.
//!
//! ```text
//! cargo run --release --example adaptive_particles -- [--frames N] [--target-fps F]
//!     [--max-particles N] [--governor default|step] [--trace OUT.csv] [--plot OUT.png]
//! ```
//!
//! Prints a trace line every 30 frames and a summary; `--trace` writes
//! `frame,quality,particles,frame_ms`, `--plot` draws frame time and quality.
//! Bad input: one line, exit code 2.

use std::time::Instant;

use vivace_examples::{exit_usage, or_exit, plot_frames};
use vivace_particles::field::{FieldMode, FieldParams, ParticleField};
use vivace_perf_adapt::{
    BudgetConfig, BudgetGovernor, FrameStats, Governor, Knob, QualityBounds, QualityMap,
    StepGovernor,
};

const USAGE: &str = "usage: adaptive_particles [--frames N] [--target-fps F] [--max-particles N] [--governor default|step] [--trace OUT.csv] [--plot OUT.png]";

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut frames, mut fps, mut max_particles) = (600usize, 60.0f64, 2_000_000usize);
    let (mut governor_name, mut trace_path, mut plot_path) = ("default".to_string(), None, None);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .unwrap_or_else(|| exit_usage(format_args!("{flag} needs a value; {USAGE}")));
        let bad = |v: &str| -> ! { exit_usage(format_args!("{flag} `{v}` is not valid; {USAGE}")) };
        match flag.as_str() {
            "--frames" => frames = value.parse().unwrap_or_else(|_| bad(&value)),
            "--target-fps" => {
                fps = value
                    .parse()
                    .ok()
                    .filter(|f: &f64| *f > 0.0 && f.is_finite())
                    .unwrap_or_else(|| bad(&value))
            }
            "--max-particles" => {
                max_particles = value
                    .parse()
                    .ok()
                    .filter(|&n| n >= 10_000)
                    .unwrap_or_else(|| bad(&value))
            }
            "--governor" if value == "default" || value == "step" => governor_name = value,
            "--trace" => trace_path = Some(value),
            "--plot" => plot_path = Some(value),
            _ => exit_usage(format_args!("unknown or invalid `{flag} {value}`; {USAGE}")),
        }
    }

    let mut governor: Box<dyn Governor + Send> = if governor_name == "step" {
        Box::new(or_exit(StepGovernor::new(fps), "governor"))
    } else {
        Box::new(or_exit(
            BudgetGovernor::new(BudgetConfig::new(fps)),
            "governor",
        ))
    };
    // The origin's knob: particle count proportional to quality.
    let knob = or_exit(
        Knob::new(
            "particle_count",
            max_particles as f64 * 0.1,
            max_particles as f64,
        )
        .and_then(|k| k.with_step(1000.0)),
        "knob",
    );
    let mut knobs = QualityMap::new(QualityBounds::default()).with_knob(knob);
    let mut field = or_exit(ParticleField::random(max_particles, 1), "field");
    let mut stats = or_exit(FrameStats::new(120), "stats");
    let budget_ms = 1000.0 / fps;
    println!(
        "target {fps} FPS ({budget_ms:.2} ms), up to {max_particles} particles, governor {}, on {} threads",
        governor.name(),
        rayon::current_num_threads()
    );

    let mut rows = Vec::with_capacity(frames);
    let pool = or_exit(rayon::ThreadPoolBuilder::new().build(), "thread pool");
    pool.install(|| {
        for frame in 0..frames {
            let quality = governor.quality();
            knobs.apply(quality);
            let count = knobs.value("particle_count").unwrap_or(max_particles as f64) as usize;
            let mode = if frame < frames / 2 { FieldMode::Wave } else { FieldMode::Orbit };
            let params = FieldParams { mode, complexity: 2.0, ..FieldParams::default() };
            let start = Instant::now();
            or_exit(field.update_first(count, &params, frame as f32 / 60.0, 1.0 / 60.0), "field");
            let ms = start.elapsed().as_secs_f64() * 1000.0;
            stats.push(ms);
            governor.on_frame(ms);
            rows.push((frame, quality, count, ms));
            if frame % 30 == 0 {
                println!("frame {frame:4}  {mode:?}  quality {quality:.3}  particles {count:8}  {ms:6.2} ms");
            }
        }
    });

    let over = rows.iter().filter(|r| r.3 > budget_ms).count();
    let summary = stats.summary();
    println!(
        "\n{} frames: {:.1}% over budget, last 120 frames p50 {:.2} ms, p99 {:.2} ms, mean quality {:.3}",
        frames,
        100.0 * over as f64 / frames.max(1) as f64,
        summary.p50_ms,
        summary.p99_ms,
        rows.iter().map(|r| r.1).sum::<f64>() / frames.max(1) as f64
    );
    if let Some(path) = trace_path {
        let mut csv = String::from("frame,quality,particles,frame_ms\n");
        for (f, q, n, ms) in &rows {
            csv.push_str(&format!("{f},{q:.6},{n},{ms:.6}\n"));
        }
        or_exit(std::fs::write(&path, csv), &path);
        println!("wrote {path}");
    }
    if let Some(path) = plot_path {
        let frame_ms: Vec<f64> = rows.iter().map(|r| r.3).collect();
        let quality: Vec<f64> = rows.iter().map(|r| r.1).collect();
        let plotted = plot_frames(
            std::path::Path::new(&path),
            &frame_ms,
            &quality,
            None,
            budget_ms,
        );
        or_exit(plotted, &path);
        println!("plotted {path} (top: frame time, red = budget; bottom: quality)");
    }
}
