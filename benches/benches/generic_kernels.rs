//! vivace-gpu-compute's generic kernels: scalar vs SIMD vs GPU, 2^10 … 2^26
//! values, throughput in bytes moved per second.
//!
//! `cargo bench -p vivace-benches --bench generic_kernels`
//!
//! CPU backends run on host slices. The GPU runs on device-resident buffers
//! and is timed by GPU timestamp queries where the adapter has them (kernel
//! time only; IDs say `gpu-timestamps`), else by wall clock around
//! submit-and-wait (`gpu-wall`). `gpu_roundtrip` measures one small dispatch
//! plus readback, wall clock. Sizes past the device's storage binding limit
//! are skipped with a printed reason. Set `VIVACE_BENCH_MAX_LOG2` (default
//! 26) to stop the sweep earlier.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::sync::Arc;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main,
};
use vivace_benches::random_f32;
use vivace_gpu_compute::kernels::{
    GenericKernels, GpuKernels, ReduceOp, ScalarKernels, SimdKernels,
};
use vivace_gpu_compute::{GpuBuffer, GpuContext, Recording, Result as GpuResult};

fn sizes() -> Vec<usize> {
    let max = std::env::var("VIVACE_BENCH_MAX_LOG2")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
        .unwrap_or(26)
        .clamp(10, 28);
    (10..=max)
        .step_by(4)
        .chain([max])
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .map(|l| 1usize << l)
        .collect()
}

fn cpu_backends() -> Vec<(String, Box<dyn GenericKernels>)> {
    let mut backends: Vec<(String, Box<dyn GenericKernels>)> =
        vec![("scalar".into(), Box::new(ScalarKernels))];
    for level in [
        vivace_backend::SimdLevel::Avx2Fma,
        vivace_backend::SimdLevel::Sse41,
    ] {
        if let Ok(k) = SimdKernels::new(level) {
            backends.push((format!("simd-{level}"), Box::new(k)));
        }
    }
    backends
}

struct Gpu {
    ctx: Arc<GpuContext>,
    kernels: GpuKernels,
    label: &'static str,
}

fn gpu() -> Option<Gpu> {
    match GpuContext::shared() {
        Ok(ctx) => {
            eprintln!("gpu: {}", ctx.report_line());
            let label = if ctx.has_timestamps() {
                "gpu-timestamps"
            } else {
                "gpu-wall"
            };
            Some(Gpu {
                kernels: GpuKernels::new(Arc::clone(&ctx)),
                ctx,
                label,
            })
        }
        Err(e) => {
            eprintln!("gpu benchmarks skipped: {e}");
            None
        }
    }
}

impl Gpu {
    fn fits(&self, bytes: u64) -> bool {
        let limit = self
            .ctx
            .limits()
            .max_storage_buffer_binding_size
            .min(self.ctx.limits().max_buffer_size);
        if bytes > limit {
            eprintln!(
                "gpu: {bytes}-byte input exceeds this device's {limit}-byte binding limit, skipped"
            );
        }
        bytes <= limit
    }

    /// Times `iters` runs of `record`, each its own timed submission.
    fn time(
        &self,
        iters: u64,
        mut record: impl FnMut(&mut Recording<'_>) -> GpuResult<()>,
    ) -> Duration {
        (0..iters)
            .map(|_| {
                let mut rec = self.ctx.record_timed();
                record(&mut rec).expect("record");
                rec.submit_and_wait().expect("submit").duration
            })
            .sum()
    }
}

/// A group with short runs: the sweep is wide, and each point is a median
/// of 10 samples.
fn short_group<'c>(c: &'c mut Criterion, name: &str) -> BenchmarkGroup<'c, WallTime> {
    let mut group = c.benchmark_group(name);
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(10);
    group
}

fn axpy(c: &mut Criterion, gpu: &Option<Gpu>) {
    let mut group = short_group(c, "axpy");
    for n in sizes() {
        group.throughput(Throughput::Bytes(12 * n as u64));
        let x = random_f32(n, 1);
        let mut y = random_f32(n, 2);
        for (name, mut k) in cpu_backends() {
            group.bench_with_input(BenchmarkId::new(name, n), &n, |b, _| {
                b.iter(|| k.axpy(1e-6, &x, &mut y).unwrap())
            });
        }
        if let Some(g) = gpu.as_ref().filter(|g| g.fits(4 * n as u64)) {
            let (gx, gy) = (g.ctx.upload(&x).unwrap(), g.ctx.upload(&y).unwrap());
            group.bench_with_input(BenchmarkId::new(g.label, n), &n, |b, _| {
                b.iter_custom(|iters| {
                    g.time(iters, |rec| g.kernels.record_axpy(rec, 1e-6, &gx, &gy))
                })
            });
        }
    }
    group.finish();
}

fn reduce(c: &mut Criterion, gpu: &Option<Gpu>) {
    let mut group = short_group(c, "reduce_sum");
    for n in sizes() {
        group.throughput(Throughput::Bytes(4 * n as u64));
        let x = random_f32(n, 3);
        for (name, mut k) in cpu_backends() {
            group.bench_with_input(BenchmarkId::new(name, n), &n, |b, _| {
                b.iter(|| k.reduce(ReduceOp::Sum, &x).unwrap())
            });
        }
        if let Some(g) = gpu.as_ref().filter(|g| g.fits(4 * n as u64)) {
            let gx = g.ctx.upload(&x).unwrap();
            group.bench_with_input(BenchmarkId::new(g.label, n), &n, |b, _| {
                b.iter_custom(|iters| {
                    g.time(iters, |rec| {
                        g.kernels
                            .record_reduce(rec, ReduceOp::Sum, &gx)
                            .map(|r| rec.hold(r))
                    })
                })
            });
        }
    }
    group.finish();
}

fn scan(c: &mut Criterion, gpu: &Option<Gpu>) {
    let mut group = short_group(c, "inclusive_scan_u32");
    for n in sizes() {
        group.throughput(Throughput::Bytes(8 * n as u64));
        let input: Vec<u32> = random_f32(n, 4)
            .iter()
            .map(|v| (v.to_bits() >> 8) & 0xffff)
            .collect();
        let mut output = vec![0u32; n];
        for (name, mut k) in cpu_backends() {
            group.bench_with_input(BenchmarkId::new(name, n), &n, |b, _| {
                b.iter(|| k.inclusive_scan(&input, &mut output).unwrap())
            });
        }
        if let Some(g) = gpu.as_ref().filter(|g| g.fits(4 * n as u64)) {
            let gin = g.ctx.upload(&input).unwrap();
            let gout: GpuBuffer<u32> = g.ctx.alloc(n).unwrap();
            group.bench_with_input(BenchmarkId::new(g.label, n), &n, |b, _| {
                b.iter_custom(|iters| g.time(iters, |rec| g.kernels.record_scan(rec, &gin, &gout)))
            });
        }
    }
    group.finish();
}

fn histogram(c: &mut Criterion, gpu: &Option<Gpu>) {
    let mut group = short_group(c, "histogram_u8");
    for n in sizes() {
        group.throughput(Throughput::Bytes(n as u64));
        // Image-like bytes: smooth with noise, so some bins are hot.
        let bytes: Vec<u8> = random_f32(n, 5)
            .iter()
            .enumerate()
            .map(|(i, v)| {
                ((i / 64) as f32 * 0.01)
                    .sin()
                    .mul_add(90.0, 128.0 + v * 30.0) as u8
            })
            .collect();
        for (name, mut k) in cpu_backends() {
            group.bench_with_input(BenchmarkId::new(name, n), &n, |b, _| {
                b.iter(|| k.histogram(&bytes).unwrap())
            });
        }
        if let Some(g) = gpu.as_ref().filter(|g| g.fits(n as u64)) {
            let gbytes = g.ctx.upload(&bytes).unwrap();
            let bins: GpuBuffer<u32> = g.ctx.alloc(256).unwrap();
            group.bench_with_input(BenchmarkId::new(g.label, n), &n, |b, _| {
                b.iter_custom(|iters| {
                    g.time(iters, |rec| g.kernels.record_histogram(rec, &gbytes, &bins))
                })
            });
        }
    }
    group.finish();
}

/// One small dispatch (axpy on 256 values) plus a blocking readback.
fn roundtrip(c: &mut Criterion, gpu: &Option<Gpu>) {
    let Some(g) = gpu else { return };
    let mut group = c.benchmark_group("gpu_roundtrip");
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    let x = g.ctx.upload(&[1.0f32; 256]).unwrap();
    let y = g.ctx.upload(&[0.0f32; 256]).unwrap();
    let mut out = [0.0f32; 256];
    group.bench_function("axpy256+readback", |b| {
        b.iter(|| {
            let mut rec = g.ctx.record();
            g.kernels.record_axpy(&mut rec, 1.0, &x, &y).unwrap();
            rec.submit_and_read(&y, &mut out).unwrap();
        })
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    let gpu = gpu();
    axpy(c, &gpu);
    reduce(c, &gpu);
    scan(c, &gpu);
    histogram(c, &gpu);
    roundtrip(c, &gpu);
}

criterion_group!(generic_kernels, benches);
criterion_main!(generic_kernels);
