//! vivace-vectorize against VTracer (1.0.0-alpha.4 and 0.6.5) and potrace
//! 1.16: time, bytes, segments, PSNR, SSIM and binary mismatch on the
//! shared test images and on synthetic flat art rasterised from SVG, and
//! seam pixels of the cutout modes. Prints a markdown table.
//!
//! `cargo bench -p vivace-benches --bench vectorize_quality`
//!
//! Times are medians of 5 runs, every tracer on one thread (VTracer is
//! single-threaded; vivace runs in a one-thread rayon pool). Binary rows
//! all use the same threshold, luma < 128 (VTracer's), and potrace is given
//! vivace's bitmap, so the comparison is of the tracing alone; potrace's
//! time is its whole process (start-up and PBM parsing included).

use std::time::{Duration, Instant};

use vivace_backend::Preference;
use vivace_benches::vectorize::{
    Rgba, potrace, shared_images, synthetic_image, vivace_tracers, vtracer_1, vtracer_06,
};
use vivace_vectorize::RgbaRaster;
use vivace_vectorize::binary::BinaryOptions;
use vivace_vectorize::fit::FitOptions;
use vivace_vectorize::pixels::select_pixel_kernel;
use vivace_vectorize::quality::{measure_svg, seam_pixels};
use vivace_vectorize::threshold::{Threshold, binarize};
use vivace_vectorize::tracer::{Mode, Tracer, TracerConfig};
use vivace_vectorize::vector::SvgOptions;

fn median_time(mut f: impl FnMut() -> String) -> (String, Duration) {
    let mut times = Vec::new();
    let mut out = String::new();
    for _ in 0..5 {
        let t = Instant::now();
        out = f();
        times.push(t.elapsed());
    }
    times.sort();
    (out, times[2])
}

fn row(image: &str, img: &Rgba, tool: &str, svg: &str, time: Duration, seams: bool) {
    let raster = RgbaRaster::new(img.0, img.1, &img.2).expect("valid image");
    let q = measure_svg(&raster, svg).expect("SVG renders");
    let seam = if seams {
        seam_pixels(svg, img.0, img.1)
            .expect("SVG renders")
            .to_string()
    } else {
        "–".into()
    };
    println!(
        "| {image} | {tool} | {:.1} | {} | {} | {:.2} | {:.4} | {:.3} | {seam} |",
        time.as_secs_f64() * 1e3,
        q.bytes,
        q.segments,
        q.psnr_db,
        q.ssim,
        q.mismatch_percent
    );
}

fn main() {
    let one_thread = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("a thread pool");
    let mut inputs = shared_images();
    inputs.push(("synthetic-bw".into(), synthetic_image(false)));
    inputs.push(("synthetic-color".into(), synthetic_image(true)));
    let [binary, stacked, cutout] = vivace_tracers();
    // Binary with every vertex a corner (potrace's `alphamax 0`): straight
    // runs follow a noisy threshold's staircase more closely than curves,
    // in fewer bytes (two numbers a segment instead of six), here written
    // in half pixels as integers (two SVG units a pixel, no decimals).
    let polygon = Tracer::new(
        TracerConfig {
            mode: Mode::Binary(BinaryOptions {
                threshold: Threshold::Fixed(128),
                fit: FitOptions {
                    alpha_max: 0.0,
                    ..FitOptions::default()
                },
                ..BinaryOptions::default()
            }),
            svg: SvgOptions {
                precision: 0,
                units_per_pixel: 2,
            },
            ..TracerConfig::default()
        },
        Preference::Auto,
    )
    .expect("valid options");
    let kernel = select_pixel_kernel(Preference::Auto).expect("scalar is always there");
    println!("backend: {}\n", binary.backend_name());
    println!("| image | tracer | ms | bytes | segments | PSNR dB | SSIM | mismatch % | seam px |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for (name, img) in &inputs {
        let svg_of = |t: &Tracer| {
            one_thread.install(|| t.trace_to_svg(img.0, img.1, &img.2).expect("traces").1)
        };
        // Binary.
        let (svg, t) = median_time(|| svg_of(&binary));
        row(name, img, "vivace binary", &svg, t, false);
        let (svg, t) = median_time(|| svg_of(&polygon));
        row(name, img, "vivace binary polygon", &svg, t, false);
        let raster = RgbaRaster::new(img.0, img.1, &img.2).expect("valid image");
        let bitmap =
            binarize(&raster, Threshold::Fixed(128), kernel.backend.as_ref()).expect("binarises");
        if let Some((svg, t)) = potrace(&bitmap) {
            row(name, img, "potrace 1.16", &svg, t, false);
        }
        let (svg, t) = median_time(|| vtracer_1(img, true));
        row(name, img, "VTracer 1.0 binary", &svg, t, false);
        let (svg, t) = median_time(|| vtracer_06(img, true));
        row(name, img, "VTracer 0.6.5 binary", &svg, t, false);
        // Colour.
        let (svg, t) = median_time(|| svg_of(&stacked));
        row(name, img, "vivace color stacked", &svg, t, false);
        let (svg, t) = median_time(|| svg_of(&cutout));
        row(name, img, "vivace color cutout", &svg, t, true);
        let (svg, t) = median_time(|| vtracer_1(img, false));
        row(name, img, "VTracer 1.0 defaults", &svg, t, false);
        let (svg, t) = median_time(|| vtracer_06(img, false));
        row(name, img, "VTracer 0.6.5 defaults", &svg, t, false);
    }
}
