//! Renders frames of a particle field or an N-body run to PNG density
//! splats, so you can look at what the simulations do.
//!
//! ```text
//! cargo run --release --example particles_render -- OUT_DIR [--scene wave|swirl|orbit|physics|nbody]
//!     [--frames N] [--particles N] [--size PIXELS]
//! ```
//!
//! Writes `OUT_DIR/frame_0000.png`, … (top view: x right, z down for the
//! field; x right, y down for N-body). Bad input: one line, exit code 2.

use std::path::{Path, PathBuf};

use plotters::prelude::*;
use vivace_backend::Preference;
use vivace_examples::{exit_usage, or_exit};
use vivace_particles::field::{FieldMode, FieldParams, ParticleField};
use vivace_particles::{Gravity, Simulation, ic, select_direct};

const USAGE: &str = "usage: particles_render OUT_DIR [--scene wave|swirl|orbit|physics|nbody] [--frames N] [--particles N] [--size PIXELS]";

/// Splats points (already mapped to [0, 1)²) into a `size`² density image
/// and writes it as a grey-scale PNG (log-scaled counts).
fn splat(
    path: &Path,
    size: u32,
    points: impl Iterator<Item = (f32, f32)>,
) -> Result<(), Box<dyn std::error::Error>> {
    let s = size as usize;
    let mut counts = vec![0u32; s * s];
    for (u, v) in points {
        if (0.0..1.0).contains(&u) && (0.0..1.0).contains(&v) {
            counts[(v * s as f32) as usize * s + (u * s as f32) as usize] += 1;
        }
    }
    let peak = (*counts.iter().max().unwrap_or(&1)).max(1) as f32;
    let root = BitMapBackend::new(path, (size, size)).into_drawing_area();
    root.fill(&BLACK)?;
    for (i, &c) in counts.iter().enumerate() {
        if c > 0 {
            let level = (255.0 * (1.0 + c as f32).ln() / (1.0 + peak).ln()) as u8;
            root.draw_pixel(
                ((i % s) as i32, (i / s) as i32),
                &RGBColor(level, level, level.saturating_add(40)),
            )?;
        }
    }
    root.present()?;
    Ok(())
}

fn main() {
    let mut args = std::env::args().skip(1);
    let out: PathBuf = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| exit_usage(USAGE));
    let (mut scene, mut frames, mut particles, mut size) =
        ("swirl".to_string(), 60usize, 200_000usize, 512u32);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .unwrap_or_else(|| exit_usage(format_args!("{flag} needs a value; {USAGE}")));
        let number = |v: &str| -> usize {
            v.parse()
                .unwrap_or_else(|_| exit_usage(format_args!("{flag} `{v}` is not a number")))
        };
        match flag.as_str() {
            "--scene" => scene = value,
            "--frames" => frames = number(&value),
            "--particles" => particles = number(&value),
            "--size" => size = number(&value).clamp(16, 4096) as u32,
            other => exit_usage(format_args!("unknown option `{other}`; {USAGE}")),
        }
    }
    if particles == 0 || frames == 0 {
        exit_usage("--particles and --frames must be at least 1");
    }
    or_exit(std::fs::create_dir_all(&out), &out.display().to_string());
    let frame_path = |f: usize| out.join(format!("frame_{f:04}.png"));

    if scene == "nbody" {
        let bodies = or_exit(ic::rotating_disc(particles.min(20_000), 1), "bodies");
        let n = bodies.len();
        let kernel = or_exit(select_direct(Preference::Auto, n), "backend").backend;
        let mut sim = or_exit(
            Simulation::new(bodies, kernel, Gravity::new(1.0, 0.02).expect("valid")),
            "bodies",
        );
        for f in 0..frames {
            let b = sim.bodies();
            let points =
                b.x.iter()
                    .zip(&b.y)
                    .map(|(x, y)| ((x + 1.5) / 3.0, (y + 1.5) / 3.0));
            or_exit(splat(&frame_path(f), size, points), "png");
            or_exit(sim.run(5, 2e-3), "simulation");
        }
    } else {
        let mode = match scene.as_str() {
            "wave" => FieldMode::Wave,
            "swirl" => FieldMode::Swirl,
            "orbit" => FieldMode::Orbit,
            "physics" => FieldMode::Physics,
            other => exit_usage(format_args!(
                "--scene must be wave, swirl, orbit, physics or nbody, got `{other}`"
            )),
        };
        let mut field = or_exit(ParticleField::random(particles, 1), "field");
        let params = FieldParams {
            mode,
            complexity: 2.0,
            ..FieldParams::default()
        };
        for f in 0..frames {
            or_exit(field.update(&params, f as f32 / 30.0, 1.0 / 30.0), "field");
            let points = field
                .x()
                .iter()
                .zip(field.z())
                .map(|(x, z)| ((x + 2.0) / 4.0, (z + 2.0) / 4.0));
            or_exit(splat(&frame_path(f), size, points), "png");
        }
    }
    println!("wrote {frames} frames of `{scene}` to {}", out.display());
}
