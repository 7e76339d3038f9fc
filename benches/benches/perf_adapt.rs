//! Per-frame cost of vivace-perf-adapt: statistics, governors, the knob
//! map and the monitor. They run every frame, so they must be negligible
//! (target: ≤ 1 µs per frame).
//!
//! `cargo bench -p vivace-benches --bench perf_adapt`

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use vivace_perf_adapt::{
    BudgetConfig, BudgetGovernor, FrameStats, Governor, PerformanceMonitor, QualityMap,
    StepGovernor,
};

/// A frame-time pattern with noise-like wobble and a hitch every 97 frames.
fn frame_ms(i: u64, q: f64) -> f64 {
    let wobble = ((i.wrapping_mul(2_654_435_761) >> 16) % 1000) as f64 / 1000.0 - 0.5;
    3.0 + 20.0 * q * (1.0 + 0.05 * wobble) + if i.is_multiple_of(97) { 30.0 } else { 0.0 }
}

fn benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("per_frame");
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));

    let mut stats = FrameStats::new(120).unwrap();
    let mut i = 0u64;
    group.bench_function("frame_stats_push", |b| {
        b.iter(|| {
            i += 1;
            stats.push(black_box(frame_ms(i, 0.7)))
        })
    });
    group.bench_function("frame_stats_push+p99", |b| {
        b.iter(|| {
            i += 1;
            stats.push(black_box(frame_ms(i, 0.7)));
            stats.p99()
        })
    });
    group.bench_function("frame_stats_push+summary", |b| {
        b.iter(|| {
            i += 1;
            stats.push(black_box(frame_ms(i, 0.7)));
            stats.summary()
        })
    });

    let mut budget = BudgetGovernor::new(BudgetConfig::new(60.0)).unwrap();
    group.bench_function("budget_governor_on_frame", |b| {
        b.iter(|| {
            i += 1;
            let q = budget.quality();
            budget.on_frame(black_box(frame_ms(i, q)))
        })
    });
    let mut step = StepGovernor::new(60.0).unwrap();
    group.bench_function("step_governor_on_frame", |b| {
        b.iter(|| {
            i += 1;
            let q = step.quality();
            step.on_frame(black_box(frame_ms(i, q)))
        })
    });

    let mut map = QualityMap::origin();
    group.bench_function("quality_map_apply", |b| {
        b.iter(|| {
            i += 1;
            map.apply(black_box(0.5 + 0.4 * ((i % 100) as f64 / 100.0)))
        })
    });

    let mut monitor = PerformanceMonitor::new(60.0, 120).unwrap();
    group.bench_function("monitor_record_frame", |b| {
        b.iter(|| {
            i += 1;
            monitor.record_task(1.0);
            monitor.record_gpu(3.0);
            monitor.record_frame(black_box(frame_ms(i, 0.7)));
        })
    });
    group.finish();
}

criterion_group!(perf_adapt, benches);
criterion_main!(perf_adapt);
