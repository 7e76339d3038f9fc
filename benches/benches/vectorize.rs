//! vivace-vectorize timings, every pixel backend and the peer tracers in
//! one run:
//!
//! - pixel stages on a 512×512 photo (pixels/s), on one core: luma, fixed
//!   threshold, sRGB → OKLab, k-means assignment to 16 colours — scalar,
//!   SSE4.1, AVX2;
//! - whole tracings on one thread (VTracer is single-threaded; vivace runs
//!   in a one-thread rayon pool): binary (threshold 128) against VTracer
//!   1.0.0-alpha.4 and 0.6.5 binary modes, colour against their defaults,
//!   on the shared photo `astronaut.png` (when present) and synthetic art;
//! - vivace colour on every core, for scaling;
//! - the GPU pixel kernels (luma histogram, 16-colour assignment, transfers
//!   included) against the best CPU kernel on every core, on the photo
//!   tiled to 2048×2048 (4 MP) — where a GPU adapter exists (lavapipe here,
//!   which is a CPU: correctness, not speed).
//!
//! `cargo bench -p vivace-benches --bench vectorize`

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, Throughput};
use vivace_benches::vectorize::{
    Rgba, shared_images, synthetic_image, vivace_tracers, vtracer_1, vtracer_06,
};
use vivace_vectorize::RgbaRaster;
use vivace_vectorize::gpu::GpuPixels;
use vivace_vectorize::oklab::LabPlanes;
use vivace_vectorize::pixels::{PixelKernel, available_pixel_kernels, best_cpu_kernel};
use vivace_vectorize::tracer::Tracer;

fn short_group<'c>(c: &'c mut Criterion, name: &str) -> BenchmarkGroup<'c, WallTime> {
    let mut group = c.benchmark_group(name);
    group
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2))
        .sample_size(10);
    group
}

fn photo() -> (String, Rgba) {
    shared_images()
        .into_iter()
        .find(|(n, _)| n == "astronaut.png")
        .unwrap_or_else(|| ("synthetic-color".into(), synthetic_image(true)))
}

fn pixel_stages(c: &mut Criterion) {
    let (_, img) = photo();
    let raster = RgbaRaster::new(img.0, img.1, &img.2).expect("valid image");
    let mut group = short_group(c, "vectorize/pixels");
    group.throughput(Throughput::Elements(raster.len() as u64));
    let centroids: Vec<[f32; 3]> = (0..16)
        .map(|k| {
            let t = k as f32 / 15.0;
            [t, 0.2 * t - 0.1, 0.1 - 0.2 * t]
        })
        .collect();
    // Per core: the colour stages split images across the rayon pool.
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("a pool");
    for kernel in available_pixel_kernels() {
        let name = kernel.name();
        let mut out = Vec::new();
        group.bench_function(BenchmarkId::new("luma", &name), |b| {
            b.iter(|| kernel.luma(black_box(&raster), &mut out))
        });
        group.bench_function(BenchmarkId::new("threshold", &name), |b| {
            b.iter(|| kernel.threshold(black_box(&raster), 128, &mut out))
        });
        let mut lab = LabPlanes::default();
        group.bench_function(BenchmarkId::new("oklab", &name), |b| {
            b.iter(|| one.install(|| kernel.oklab(black_box(&raster), &mut lab)))
        });
        let mut labels = vec![0u8; raster.len()];
        group.bench_function(BenchmarkId::new("assign16", &name), |b| {
            b.iter(|| one.install(|| kernel.assign(black_box(&lab), None, &centroids, &mut labels)))
        });
    }
    group.finish();
}

fn gpu_pixel_stages(c: &mut Criterion) {
    let gpu = match GpuPixels::shared() {
        Ok(gpu) => gpu.with_min_pixels(0),
        Err(e) => {
            eprintln!("vectorize/pixels_gpu skipped: {e}");
            return;
        }
    };
    let (_, img) = photo();
    let side = 2048;
    let rgba: Vec<u8> = (0..side * side)
        .flat_map(|i| {
            let (x, y) = (i % side % img.0, i / side % img.1);
            let p = (y * img.0 + x) * 4;
            [img.2[p], img.2[p + 1], img.2[p + 2], img.2[p + 3]]
        })
        .collect();
    let raster = RgbaRaster::new(side, side, &rgba).expect("valid image");
    let centroids: Vec<[f32; 3]> = (0..16)
        .map(|k| {
            let t = k as f32 / 15.0;
            [t, 0.2 * t - 0.1, 0.1 - 0.2 * t]
        })
        .collect();
    let cpu = best_cpu_kernel();
    let mut lab = LabPlanes::default();
    cpu.oklab(&raster, &mut lab).expect("oklab");
    let mut group = short_group(c, "vectorize/pixels_gpu");
    group.throughput(Throughput::Elements(raster.len() as u64));
    let kernels: [(&str, &dyn PixelKernel); 2] = [("cpu-all-cores", cpu.as_ref()), ("gpu", &gpu)];
    for (name, kernel) in kernels {
        eprintln!("vectorize/pixels_gpu {name}: {}", kernel.name());
        group.bench_function(BenchmarkId::new("luma_histogram", name), |b| {
            b.iter(|| {
                kernel
                    .luma_histogram(black_box(&raster))
                    .expect("histogram")
            })
        });
        let mut labels = vec![0u8; raster.len()];
        group.bench_function(BenchmarkId::new("assign16", name), |b| {
            b.iter(|| {
                kernel
                    .assign(black_box(&lab), Some(&rgba), &centroids, &mut labels)
                    .expect("assign")
            })
        });
        group.bench_function(BenchmarkId::new("assign16_from_rgba", name), |b| {
            b.iter(|| {
                kernel
                    .assign_raster(black_box(&raster), &centroids, &mut labels)
                    .expect("assign_raster")
            })
        });
    }
    group.finish();
}

fn tracings(c: &mut Criterion) {
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("a pool");
    let [binary, stacked, cutout] = vivace_tracers();
    let (photo_name, photo) = photo();
    let inputs = [
        (photo_name, photo),
        ("synthetic-color".to_string(), synthetic_image(true)),
    ];
    let mut group = short_group(c, "vectorize/trace_one_thread");
    for (name, img) in &inputs {
        group.throughput(Throughput::Elements((img.0 * img.1) as u64));
        let run =
            |t: &Tracer| one.install(|| t.trace_to_svg(img.0, img.1, &img.2).expect("traces").1);
        group.bench_function(BenchmarkId::new("vivace binary", name), |b| {
            b.iter(|| run(&binary))
        });
        group.bench_function(BenchmarkId::new("vtracer 1.0 binary", name), |b| {
            b.iter(|| vtracer_1(img, true))
        });
        group.bench_function(BenchmarkId::new("vtracer 0.6.5 binary", name), |b| {
            b.iter(|| vtracer_06(img, true))
        });
        group.bench_function(BenchmarkId::new("vivace color stacked", name), |b| {
            b.iter(|| run(&stacked))
        });
        group.bench_function(BenchmarkId::new("vivace color cutout", name), |b| {
            b.iter(|| run(&cutout))
        });
        group.bench_function(BenchmarkId::new("vtracer 1.0 defaults", name), |b| {
            b.iter(|| vtracer_1(img, false))
        });
        group.bench_function(BenchmarkId::new("vtracer 0.6.5 defaults", name), |b| {
            b.iter(|| vtracer_06(img, false))
        });
    }
    group.finish();
    let mut group = short_group(c, "vectorize/trace_all_cores");
    for (name, img) in &inputs {
        group.throughput(Throughput::Elements((img.0 * img.1) as u64));
        group.bench_function(BenchmarkId::new("vivace color stacked", name), |b| {
            b.iter(|| stacked.trace_to_svg(img.0, img.1, &img.2).expect("traces"))
        });
    }
    group.finish();
}

criterion::criterion_group!(benches, pixel_stages, gpu_pixel_stages, tracings);
criterion::criterion_main!(benches);
