//! Per-frame work allocates nothing: statistics, governors, the knob map
//! when nothing changes, and the monitor. A counting global allocator
//! watches.
//!
//! Only the test thread's allocations count: the test harness's own thread
//! may allocate at any moment (it did, four times, mid-test in a CI run).

use vivace_perf_adapt::{
    BudgetConfig, BudgetGovernor, FrameStats, Governor, PerformanceMonitor, QualityMap,
    StepGovernor,
};
use vivace_test_support::{CountingAllocator, thread_allocations};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator::per_thread();

#[test]
fn per_frame_work_does_not_allocate() {
    let mut stats = FrameStats::new(120).unwrap();
    let mut budget = BudgetGovernor::new(BudgetConfig::new(60.0)).unwrap();
    let mut step = StepGovernor::new(60.0).unwrap();
    let mut monitor = PerformanceMonitor::new(60.0, 120).unwrap();
    let mut map = QualityMap::origin();
    map.apply(0.5);

    let before = thread_allocations();
    let mut q = budget.quality();
    for frame in 0..10_000 {
        let ms = 3.0 + 20.0 * q + if frame % 97 == 0 { 30.0 } else { 0.0 };
        stats.push(ms);
        std::hint::black_box(stats.p99());
        q = budget.on_frame(ms);
        step.on_frame(ms);
        monitor.record_task(1.5);
        monitor.record_gpu(4.0);
        monitor.record_frame(ms);
        monitor.set_quality(q);
        std::hint::black_box(monitor.report().fps);
        map.apply(0.5);
    }
    let after = thread_allocations();
    assert_eq!(after - before, 0, "allocations during 10,000 frames");
}
