//! Traces an image to SVG with vivace-vectorize.
//!
//! ```text
//! cargo run --release --example trace -- IN.(png|jpg) OUT.svg
//!     [--mode binary|color|centerline] [--colors N] [--threshold auto|0-255]
//!     [--tolerance PX] [--layers stacked|cutout] [--backend auto|scalar|simd|gpu]
//!     [--preview PREVIEW.png]
//! cargo run --release --example trace -- --batch IN_DIR OUT_DIR [same options but --preview]
//! ```
//!
//! Prints the time, paths, segments and bytes (and, with `--preview`, the
//! SVG rendered back to PNG and its quality scores: PSNR, SSIM, binary
//! mismatch). The batch form traces every PNG/JPEG in IN_DIR into
//! OUT_DIR/NAME.svg on all cores, with a progress bar and a summary table.
//! Bad input (unreadable or corrupt image, bad option) → one line on
//! stderr and exit code 2; OUT is written only when tracing succeeded.

use std::path::{Path, PathBuf};
use std::time::Instant;

use vivace_backend::Preference;
use vivace_examples::{exit_usage, or_exit};
use vivace_vectorize::RgbaRaster;
use vivace_vectorize::batch::{BatchJob, BatchProcessor, CancelToken, load_rgba, write_atomically};
use vivace_vectorize::binary::BinaryOptions;
use vivace_vectorize::centerline::CenterlineOptions;
use vivace_vectorize::color::{ColorOptions, Layering};
use vivace_vectorize::quality::{measure, render_svg};
use vivace_vectorize::threshold::Threshold;
use vivace_vectorize::tracer::{Mode, Tracer, TracerConfig};

const USAGE: &str = "usage: trace IN.(png|jpg) OUT.svg [--mode binary|color|centerline] [--colors N] [--threshold auto|0-255] [--tolerance PX] [--layers stacked|cutout] [--backend auto|scalar|simd|gpu] [--preview PREVIEW.png] | trace --batch IN_DIR OUT_DIR [options]";

struct Args {
    positional: Vec<PathBuf>,
    batch: bool,
    config: TracerConfig,
    preference: Preference,
    preview: Option<PathBuf>,
}

fn parse() -> Args {
    let mut positional = Vec::new();
    let mut batch = false;
    let mut mode = "binary".to_string();
    let mut colors = None;
    let mut threshold = None;
    let mut tolerance = None;
    let mut layers = None;
    let mut preference = Preference::Auto;
    let mut preview = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .unwrap_or_else(|| exit_usage(format_args!("{name} needs a value; {USAGE}")))
        };
        match arg.as_str() {
            "--batch" => batch = true,
            "--mode" => mode = value(&arg),
            "--colors" => {
                let v = value(&arg);
                let n = v.parse::<usize>().ok().filter(|n| (1..=254).contains(n));
                colors = Some(n.unwrap_or_else(|| {
                    exit_usage(format_args!("--colors expects 1–254, got {v:?}"))
                }));
            }
            "--threshold" => {
                let v = value(&arg);
                threshold = Some(match v.as_str() {
                    "auto" => Threshold::Otsu,
                    _ => Threshold::Fixed(v.parse::<u8>().unwrap_or_else(|_| {
                        exit_usage(format_args!("--threshold expects auto or 0–255, got {v:?}"))
                    })),
                });
            }
            "--tolerance" => {
                let v = value(&arg);
                let t = v.parse::<f64>().ok().filter(|t| t.is_finite() && *t >= 0.0);
                tolerance = Some(t.unwrap_or_else(|| {
                    exit_usage(format_args!("--tolerance expects pixels ≥ 0, got {v:?}"))
                }));
            }
            "--layers" => {
                let v = value(&arg);
                layers = Some(match v.as_str() {
                    "stacked" => Layering::Stacked,
                    "cutout" => Layering::Cutout,
                    _ => exit_usage(format_args!(
                        "--layers expects stacked or cutout, got {v:?}"
                    )),
                });
            }
            "--backend" => preference = or_exit(value(&arg).parse::<Preference>(), "--backend"),
            "--preview" => preview = Some(PathBuf::from(value(&arg))),
            s if s.starts_with("--") => exit_usage(format_args!("unknown option {s}; {USAGE}")),
            _ => positional.push(PathBuf::from(arg)),
        }
    }
    if positional.len() != 2 {
        exit_usage(USAGE);
    }
    if batch && preview.is_some() {
        exit_usage("--preview applies to single images, not --batch");
    }
    let only = |what: &str, set: bool, modes: &str| {
        if set {
            exit_usage(format_args!("{what} applies to --mode {modes}, not {mode}"));
        }
    };
    let mode = match mode.as_str() {
        "binary" => {
            only("--colors", colors.is_some(), "color");
            only("--layers", layers.is_some(), "color");
            let mut o = BinaryOptions::default();
            o.threshold = threshold.unwrap_or(o.threshold);
            o.fit.tolerance = tolerance.unwrap_or(o.fit.tolerance);
            Mode::Binary(o)
        }
        "color" => {
            only("--threshold", threshold.is_some(), "binary or centerline");
            let mut o = ColorOptions {
                colors,
                ..ColorOptions::default()
            };
            o.layering = layers.unwrap_or(o.layering);
            o.fit.tolerance = tolerance.unwrap_or(o.fit.tolerance);
            Mode::Color(o)
        }
        "centerline" => {
            only("--colors", colors.is_some(), "color");
            only("--layers", layers.is_some(), "color");
            only("--tolerance", tolerance.is_some(), "binary or color");
            let mut o = CenterlineOptions::default();
            o.threshold = threshold.unwrap_or(o.threshold);
            Mode::Centerline(o)
        }
        other => exit_usage(format_args!(
            "--mode expects binary, color or centerline, got {other:?}"
        )),
    };
    Args {
        positional,
        batch,
        config: TracerConfig {
            mode,
            ..TracerConfig::default()
        },
        preference,
        preview,
    }
}

fn single(args: &Args, tracer: &Tracer) {
    let (input, output) = (&args.positional[0], &args.positional[1]);
    let (mut rgba, mut scratch) = (Vec::new(), Vec::new());
    let start = Instant::now();
    let (w, h) = or_exit(
        load_rgba(input, tracer.config().pixel_limit, &mut rgba, &mut scratch),
        "input",
    );
    let decoded = start.elapsed();
    let raster = or_exit(RgbaRaster::with_limit(w, h, &rgba, u64::MAX), "input");
    let start = Instant::now();
    let vector = or_exit(tracer.trace_raster(&raster), "trace");
    let svg = or_exit(vector.to_svg(&tracer.config().svg), "svg");
    let traced = start.elapsed();
    or_exit(write_atomically(output, svg.as_bytes()), "output");
    println!("input     {} ({w}×{h})", input.display());
    println!("backend   {}", tracer.backend_name());
    println!(
        "time      {:.1} ms trace ({:.1} ms decode)",
        traced.as_secs_f64() * 1e3,
        decoded.as_secs_f64() * 1e3
    );
    println!("paths     {}", vector.shapes.len());
    println!("segments  {}", vector.segment_count());
    println!("bytes     {}", svg.len());
    if let Some(preview) = &args.preview {
        let q = or_exit(measure(&raster, &vector, &svg), "preview");
        let pixels = or_exit(render_svg(&svg, w, h), "preview");
        let image = image::RgbaImage::from_raw(w as u32, h as u32, pixels)
            .unwrap_or_else(|| exit_usage("preview: rendered buffer has the wrong size"));
        or_exit(image.save(preview), "preview");
        println!("preview   {}", preview.display());
        println!("PSNR      {:.2} dB", q.psnr_db);
        println!("SSIM      {:.4}", q.ssim);
        println!("mismatch  {:.3} %", q.mismatch_percent);
    }
}

fn is_image(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "png" | "jpg" | "jpeg"))
}

fn batch(args: &Args, tracer: Tracer) {
    let (in_dir, out_dir) = (&args.positional[0], &args.positional[1]);
    let entries = or_exit(std::fs::read_dir(in_dir), &in_dir.display().to_string());
    let mut inputs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| is_image(p))
        .collect();
    inputs.sort();
    if inputs.is_empty() {
        exit_usage(format_args!("no PNG or JPEG files in {}", in_dir.display()));
    }
    or_exit(
        std::fs::create_dir_all(out_dir),
        &out_dir.display().to_string(),
    );
    let jobs: Vec<BatchJob> = inputs
        .iter()
        .map(|p| BatchJob {
            input: p.clone(),
            output: out_dir
                .join(p.file_stem().unwrap_or_default())
                .with_extension("svg"),
        })
        .collect();
    let processor = or_exit(BatchProcessor::new(tracer, 0), "batch");
    let bar = indicatif::ProgressBar::new(jobs.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {elapsed_precise} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let start = Instant::now();
    let results = processor.run(
        &jobs,
        |p| {
            bar.set_message(
                p.result
                    .job
                    .input
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            );
            bar.inc(1);
        },
        &CancelToken::new(),
    );
    bar.finish_and_clear();
    let wall = start.elapsed();
    println!("backend {}", processor.tracer().backend_name());
    println!(
        "{:<28} {:>11} {:>9} {:>7} {:>9} {:>10}",
        "image", "size", "ms", "paths", "segments", "bytes"
    );
    let mut failed = 0;
    for r in &results {
        let name = r
            .job
            .input
            .file_name()
            .unwrap_or_default()
            .to_string_lossy();
        match &r.outcome {
            Ok(s) => println!(
                "{:<28} {:>11} {:>9.1} {:>7} {:>9} {:>10}",
                name,
                format!("{}×{}", s.width, s.height),
                s.elapsed.as_secs_f64() * 1e3,
                s.paths,
                s.segments,
                s.bytes
            ),
            Err(e) => {
                failed += 1;
                println!("{name:<28} error: {e}");
            }
        }
    }
    println!(
        "{} images, {} failed, {:.2} s wall",
        results.len(),
        failed,
        wall.as_secs_f64()
    );
    if failed > 0 {
        std::process::exit(vivace_examples::EXIT_USAGE);
    }
}

fn main() {
    let args = parse();
    let tracer = or_exit(Tracer::new(args.config, args.preference), "--backend");
    if args.batch {
        batch(&args, tracer);
    } else {
        single(&args, &tracer);
    }
}
