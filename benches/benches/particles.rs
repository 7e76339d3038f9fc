//! vivace-particles against itself and its peers, all in one run:
//!
//! - direct-sum gravity per backend at N = 1k, 4k, 16k, 64k, throughput in
//!   interactions/s (× 20 for GFLOP/s, the GPU Gems convention);
//! - Barnes–Hut at N = 100k against the `barnes_hut` crate (1.0.8), same
//!   θ = 0.5 and softening; force errors (p50/p99 against the direct sum on
//!   1,000 sampled bodies) are printed before the timings;
//! - the particle-field update at 10^5 … 10^7 against a plain copy of the
//!   same bytes (the bandwidth ceiling) and a port of the origin's design
//!   (chunks of ≥ 1,000 particles through crossbeam channels to worker
//!   threads, results copied back).
//!
//! `cargo bench -p vivace-benches --bench particles`

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]
// The peer crate spells its opening-angle field `θ`.
#![allow(mixed_script_confusables)]

use std::sync::Arc;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main,
};
use crossbeam::channel::{Receiver, Sender, unbounded};
use vivace_backend::SimdLevel;
use vivace_particles::field::{FieldMode, FieldParams, ParticleField};
use vivace_particles::{
    Accelerations, BarnesHut, Bodies, GpuDirect, Gravity, GravityKernel, ScalarDirect, SimdDirect,
    ic,
};

fn short_group<'c>(c: &'c mut Criterion, name: &str) -> BenchmarkGroup<'c, WallTime> {
    let mut group = c.benchmark_group(name);
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(10);
    group
}

fn direct(c: &mut Criterion) {
    let gravity = Gravity::new(1.0, 0.05).unwrap();
    let gpu = vivace_gpu_compute::GpuContext::shared().ok();
    let mut group = short_group(c, "direct_sum");
    for n in [1024usize, 4096, 16384, 65536] {
        let bodies = ic::plummer(n, 1).unwrap();
        let mut acc = Accelerations::zeros(n);
        group.throughput(Throughput::Elements((n * n) as u64));
        let mut kernels: Vec<(String, Box<dyn GravityKernel>)> = Vec::new();
        // Single-threaded kernels only up to 16k (64k is seconds per call).
        if n <= 16384 {
            kernels.push(("scalar".into(), Box::new(ScalarDirect)));
            for level in [SimdLevel::Avx2Fma, SimdLevel::Sse41] {
                if let Ok(k) = SimdDirect::new(level) {
                    kernels.push((format!("simd-{level}"), Box::new(k)));
                }
            }
        }
        if let Ok(k) = SimdDirect::best(true) {
            kernels.push((
                format!(
                    "simd-{}-x{}threads",
                    k.level(),
                    rayon::current_num_threads()
                ),
                Box::new(k),
            ));
        }
        match &gpu {
            Some(ctx) if ctx.adapter().is_software() && n > 16384 => {
                eprintln!(
                    "gpu direct sum at N={n} skipped: software adapter ({}) would take minutes",
                    ctx.adapter().name
                )
            }
            Some(ctx) => kernels.push(("gpu".into(), Box::new(GpuDirect::new(Arc::clone(ctx))))),
            None => eprintln!("gpu direct sum skipped: no adapter"),
        }
        for (name, mut kernel) in kernels {
            group.bench_with_input(BenchmarkId::new(name, n), &n, |b, _| {
                b.iter(|| kernel.accelerations(&bodies, &gravity, &mut acc).unwrap())
            });
        }
    }
    group.finish();
}

struct Peer {
    p: lin_alg::f64::Vec3,
    m: f64,
}

impl barnes_hut::BodyModel for Peer {
    fn posit(&self) -> lin_alg::f64::Vec3 {
        self.p
    }
    fn mass(&self) -> f64 {
        self.m
    }
}

fn peer_bodies(bodies: &Bodies) -> Vec<Peer> {
    (0..bodies.len())
        .map(|i| Peer {
            p: lin_alg::f64::Vec3::new(
                f64::from(bodies.x[i]),
                f64::from(bodies.y[i]),
                f64::from(bodies.z[i]),
            ),
            m: f64::from(bodies.m[i]),
        })
        .collect()
}

/// The peer's accelerations for the bodies `targets`, θ = 0.5, Plummer
/// softening as ours.
fn peer_accelerations(peers: &[Peer], targets: &[usize], eps: f64) -> Vec<[f64; 3]> {
    use rayon::prelude::*;
    let config = barnes_hut::BhConfig {
        θ: 0.5,
        ..Default::default()
    };
    let cube = barnes_hut::Cube::from_bodies(peers, 0.0, false).expect("bodies");
    let tree = barnes_hut::Tree::new(peers, &cube, &config);
    let force =
        |dir: lin_alg::f64::Vec3, m: f64, d: f64| dir * (m * d / (d * d + eps * eps).powf(1.5));
    targets
        .par_iter()
        .map(|&i| {
            let a = barnes_hut::run_bh(peers[i].p, i, &tree, &config, &force);
            [a.x, a.y, a.z]
        })
        .collect()
}

fn relative_errors(got: &[[f64; 3]], exact: &[[f64; 3]]) -> (f64, f64) {
    let mut e: Vec<f64> = got
        .iter()
        .zip(exact)
        .map(|(g, x)| {
            let d = [g[0] - x[0], g[1] - x[1], g[2] - x[2]];
            (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt()
                / (x[0] * x[0] + x[1] * x[1] + x[2] * x[2]).sqrt()
        })
        .collect();
    e.sort_by(f64::total_cmp);
    let at = |p: f64| e[((p * e.len() as f64).ceil() as usize).clamp(1, e.len()) - 1];
    (at(0.5), at(0.99))
}

fn barnes_hut_vs_peer(c: &mut Criterion) {
    const N: usize = 100_000;
    let eps = 0.01f32;
    let gravity = Gravity::new(1.0, eps).unwrap();
    let bodies = ic::plummer(N, 2).unwrap();
    let peers = peer_bodies(&bodies);
    let all: Vec<usize> = (0..N).collect();

    // Accuracy on 1,000 sampled bodies against the direct sum.
    let sample: Vec<usize> = (0..1000).map(|k| k * (N / 1000)).collect();
    let mut exact = Accelerations::default();
    SimdDirect::best(true)
        .unwrap()
        .accelerations(&bodies, &gravity, &mut exact)
        .unwrap();
    let pick = |a: &Accelerations| -> Vec<[f64; 3]> {
        sample
            .iter()
            .map(|&i| [a.ax[i], a.ay[i], a.az[i]].map(f64::from))
            .collect()
    };
    let mut ours = Accelerations::default();
    BarnesHut::new(0.5)
        .unwrap()
        .accelerations(&bodies, &gravity, &mut ours)
        .unwrap();
    let (p50, p99) = relative_errors(&pick(&ours), &pick(&exact));
    eprintln!("barnes-hut N={N} θ=0.5: vivace force error p50 {p50:.2e}, p99 {p99:.2e}");
    let theirs = peer_accelerations(&peers, &sample, f64::from(eps));
    let (p50, p99) = relative_errors(&theirs, &pick(&exact));
    eprintln!("barnes-hut N={N} θ=0.5: barnes_hut 1.0.8 force error p50 {p50:.2e}, p99 {p99:.2e}");

    let mut group = short_group(c, "barnes_hut_100k");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    let mut bh = BarnesHut::new(0.5).unwrap();
    group.bench_function("vivace", |b| {
        b.iter(|| bh.accelerations(&bodies, &gravity, &mut ours).unwrap())
    });
    group.bench_function("barnes_hut-1.0.8", |b| {
        b.iter(|| peer_accelerations(&peers, &all, f64::from(eps)))
    });
    group.finish();
}

/// The origin's design: the main thread cuts positions into chunks of ≥
/// 1,000 particles, sends copies through channels to worker threads that
/// compute the same wave update, and copies the results back.
struct OriginPort {
    jobs: Sender<(usize, Vec<f32>, f32)>,
    results: Receiver<(usize, Vec<f32>)>,
    pool: Vec<Vec<f32>>,
}

const ORIGIN_CHUNK: usize = 1000;

impl OriginPort {
    fn new(workers: usize) -> Self {
        // Unbounded, like the origin's postMessage: the main thread sends
        // every chunk before it collects any result.
        let (jobs, job_rx) = unbounded::<(usize, Vec<f32>, f32)>();
        let (result_tx, results) = unbounded();
        for _ in 0..workers {
            let (job_rx, result_tx) = (job_rx.clone(), result_tx.clone());
            std::thread::spawn(move || {
                while let Ok((start, mut buf, t)) = job_rx.recv() {
                    // buf holds rest x, y, z of the chunk, interleaved; the
                    // worker writes the new y in place of rest y.
                    for p in buf.chunks_exact_mut(3) {
                        let (x, z) = (p[0], p[2]);
                        p[1] += 0.2
                            * (std::f32::consts::PI * 2.0 * x + 2.0 * t).sin()
                            * (std::f32::consts::PI * 2.0 * z + 1.3 * t).cos();
                    }
                    if result_tx.send((start, buf)).is_err() {
                        return;
                    }
                }
            });
        }
        OriginPort {
            jobs,
            results,
            pool: Vec::new(),
        }
    }

    fn update(&mut self, rest: [&[f32]; 3], pos: [&mut [f32]; 3], t: f32) {
        let n = rest[0].len();
        let mut sent = 0;
        for start in (0..n).step_by(ORIGIN_CHUNK) {
            let end = (start + ORIGIN_CHUNK).min(n);
            let mut buf = self.pool.pop().unwrap_or_default();
            buf.clear();
            let chunk = rest[0][start..end]
                .iter()
                .zip(&rest[1][start..end])
                .zip(&rest[2][start..end]);
            for ((&x, &y), &z) in chunk {
                buf.extend_from_slice(&[x, y, z]);
            }
            self.jobs.send((start, buf, t)).expect("workers alive");
            sent += 1;
        }
        let [px, py, pz] = pos;
        for _ in 0..sent {
            let (start, buf) = self.results.recv().expect("workers alive");
            for (k, p) in buf.chunks_exact(3).enumerate() {
                px[start + k] = p[0];
                py[start + k] = p[1];
                pz[start + k] = p[2];
            }
            self.pool.push(buf);
        }
    }
}

fn field(c: &mut Criterion) {
    let mut group = short_group(c, "field_update");
    let threads = rayon::current_num_threads();
    let mut origin = OriginPort::new(threads);
    for n in [100_000usize, 1_000_000, 10_000_000] {
        // Each particle reads 3 rest floats and writes 3 positions.
        group.throughput(Throughput::Elements(n as u64));
        let mut f = ParticleField::random(n, 1).unwrap();
        let wave = FieldParams {
            mode: FieldMode::Wave,
            complexity: 1.0,
            ..FieldParams::default()
        };
        let mut t = 0.0f32;
        group.bench_with_input(BenchmarkId::new("vivace-wave", n), &n, |b, _| {
            b.iter(|| {
                t += 1.0 / 60.0;
                f.update(&wave, t, 1.0 / 60.0).unwrap()
            })
        });
        let rest: [Vec<f32>; 3] = [f.x().to_vec(), f.y().to_vec(), f.z().to_vec()];
        let mut pos: [Vec<f32>; 3] = rest.clone();
        group.bench_with_input(BenchmarkId::new("plain-copy", n), &n, |b, _| {
            b.iter(|| {
                for (p, r) in pos.iter_mut().zip(&rest) {
                    p.copy_from_slice(r);
                }
            })
        });
        group.bench_with_input(BenchmarkId::new("origin-port", n), &n, |b, _| {
            b.iter(|| {
                t += 1.0 / 60.0;
                let [px, py, pz] = &mut pos;
                origin.update([&rest[0], &rest[1], &rest[2]], [px, py, pz], t)
            })
        });
    }
    group.finish();
}

criterion_group!(particles, direct, barnes_hut_vs_peer, field);
criterion_main!(particles);
